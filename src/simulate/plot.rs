//! The SVG of a simulated span (`simulate --plot`), drawn with plotters: production, house
//! load, the miners' power stacked one band per miner, the grid (above zero: import), and the
//! battery's charge on its own axis; a marker at each start (▲), stop (✕) and target change
//! (●). Times are in the configured zone. One unit per picture: the first, or `--unit`.

use plotters::prelude::*;

use crate::simulate::UnitResult;

const WIDTH: u32 = 1200;
const HEIGHT: u32 = 640;
/// One colour per miner band, in `miners:` order (then again).
const BANDS: [RGBColor; 6] = [
    RGBColor(255, 179, 71),
    RGBColor(119, 158, 203),
    RGBColor(119, 221, 119),
    RGBColor(203, 153, 201),
    RGBColor(255, 105, 97),
    RGBColor(150, 111, 51),
];
pub const PRODUCTION: RGBColor = RGBColor(230, 159, 0);
pub const HOUSE: RGBColor = RGBColor(0, 114, 178);
pub const GRID: RGBColor = RGBColor(80, 80, 80);
pub const SOC: RGBColor = RGBColor(0, 158, 115);

/// Draws `unit` into an SVG document.
pub fn svg(unit: &UnitResult, zone: &jiff::tz::TimeZone) -> Result<String, String> {
    let mut out = String::new();
    draw(unit, zone, &mut out).map_err(|e| format!("cannot draw the plot: {e}"))?;
    Ok(out)
}

fn draw(unit: &UnitResult, zone: &jiff::tz::TimeZone, out: &mut String) -> Result<(), Box<dyn std::error::Error>> {
    let steps = &unit.steps;
    let (Some(first), Some(last)) = (steps.first(), steps.last()) else { return Err("nothing to draw".into()) };
    let (from, to) = (first.at, last.at + last.seconds as i64);
    let miners: Vec<&str> = unit.miners.keys().map(String::as_str).collect();
    let stacked = |step: &crate::core::simulation::Step, upto: usize| -> f64 {
        miners
            .iter()
            .take(upto)
            .map(|id| step.miners.iter().find(|(m, _, _)| m == id).map_or(0.0, |(_, w, _)| *w))
            .sum()
    };
    let high = steps
        .iter()
        .map(|s| s.production.max(s.house).max(s.grid).max(stacked(s, miners.len())))
        .fold(1000.0, f64::max)
        * 1.1;
    let low = steps.iter().map(|s| s.grid).fold(0.0, f64::min) * 1.1;
    let root = SVGBackend::with_string(out, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;
    let day = time_label(from, zone, "%Y-%m-%d");
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("{} — {day}", unit.id), ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(36)
        .y_label_area_size(64)
        .right_y_label_area_size(48)
        .build_cartesian_2d((from..to).with_key_points(hours(from, to, zone)), low..high)?
        .set_secondary_coord(from..to, 0.0..100.0);
    chart
        .configure_mesh()
        .x_label_formatter(&|at| time_label(*at, zone, "%H:%M"))
        .y_label_formatter(&|watts| format!("{watts:.0}"))
        .y_desc("W")
        .draw()?;
    chart.configure_secondary_axes().y_desc("battery %").draw()?;
    // The miners' bands, bottom up, each the area between its stack and the one below.
    for (index, miner) in miners.iter().enumerate() {
        let colour = BANDS[index % BANDS.len()];
        let mut outline: Vec<(i64, f64)> = steps.iter().map(|s| (s.at, stacked(s, index + 1))).collect();
        outline.extend(steps.iter().rev().map(|s| (s.at, stacked(s, index))));
        chart
            .draw_series(std::iter::once(Polygon::new(outline, colour.mix(0.6).filled())))?
            .label(format!("miner {miner}"))
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 16, y + 5)], colour.filled()));
    }
    let line = |colour: RGBColor, value: fn(&crate::core::simulation::Step) -> f64| {
        LineSeries::new(steps.iter().map(move |s| (s.at, value(s))), colour.stroke_width(2))
    };
    chart
        .draw_series(line(PRODUCTION, |s| s.production))?
        .label("production")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], PRODUCTION.stroke_width(2)));
    chart
        .draw_series(line(HOUSE, |s| s.house))?
        .label("house")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], HOUSE.stroke_width(2)));
    chart
        .draw_series(line(GRID, |s| s.grid))?
        .label("grid (import > 0)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], GRID.stroke_width(2)));
    if steps.iter().any(|s| s.soc.is_some()) {
        let soc = steps.iter().filter_map(|s| Some((s.at, s.soc?)));
        chart
            .draw_secondary_series(LineSeries::new(soc, SOC.stroke_width(2)))?
            .label("battery %")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], SOC.stroke_width(2)));
    }
    // A marker at each start, stop and target change, at the top of its miner's band.
    let top = |at: i64, miner: &str| -> f64 {
        let index = miners.iter().position(|m| *m == miner).unwrap_or(0);
        let step = steps.iter().rev().find(|s| s.at <= at).or(steps.first());
        step.map_or(0.0, |s| stacked(s, index + 1))
    };
    for event in &unit.events {
        let point = (event.at, top(event.at, &event.miner));
        match event.kind {
            "start" => chart.draw_series(std::iter::once(TriangleMarker::new(point, 7, GREEN.filled())))?,
            "stop" => chart.draw_series(std::iter::once(Cross::new(point, 6, RED.stroke_width(2))))?,
            _ => chart.draw_series(std::iter::once(Circle::new(point, 5, MAGENTA.filled())))?,
        };
    }
    chart.configure_series_labels().background_style(WHITE.mix(0.85)).border_style(BLACK).draw()?;
    root.present()?;
    Ok(())
}

/// The whole local hours of the span, every second hour on a long one (the x axis' ticks).
fn hours(from: i64, to: i64, zone: &jiff::tz::TimeZone) -> Vec<i64> {
    let every = if to - from > 12 * 3600 { 2 } else { 1 };
    let Ok(start) = jiff::Timestamp::from_second(from).map(|t| t.to_zoned(zone.clone())) else { return vec![from, to] };
    let mut hour = start.start_of_day().unwrap_or(start.clone());
    let mut ticks = Vec::new();
    while hour.timestamp().as_second() <= to {
        let at = hour.timestamp().as_second();
        if at >= from && hour.hour() % every == 0 {
            ticks.push(at);
        }
        match hour.checked_add(jiff::Span::new().hours(1)) {
            Ok(next) => hour = next,
            Err(_) => break,
        }
    }
    ticks
}

/// `at` in the configured zone, formatted.
fn time_label(at: i64, zone: &jiff::tz::TimeZone, format: &str) -> String {
    jiff::Timestamp::from_second(at).map(|t| t.to_zoned(zone.clone()).strftime(format).to_string()).unwrap_or_default()
}
