//! `simulate` (SPEC §20): replays a day (or a span) through the config's units with simulated
//! miners and prints, per unit, the energy by origin, switches, time mining, hash, sats, grid
//! cost, feed-in forgone and the net; `--compare` runs a second config over the same trace
//! and prints both with the difference; `--plot` draws the day as an SVG.

use std::path::Path;

use serde_json::{Value, json};

use crate::cli::{Cli, Output, SimulateArgs};
use crate::config::Loaded;
use crate::core::simulation::{Prices, Totals};
use crate::energy::simulated::Weather;
use crate::exit::{self, Failure};
use crate::simulate::{Options, Sky, UnitResult};

pub fn simulate(cli: &Cli, args: &SimulateArgs) -> Result<i32, Failure> {
    let loaded = super::load_config(cli)?;
    let clock = super::clock(cli, &loaded)?;
    let options = options(&loaded, &clock, args)?;
    let mut runs = vec![(super::config_path(cli)?, run(&loaded, &options)?)];
    if let Some(other) = &args.compare {
        let compared = super::load_file(other)?;
        runs.push((other.clone(), run(&compared, &options)?));
    }
    if let Some(path) = &args.plot {
        let (_, units) = &runs[0];
        let unit = match &args.unit {
            Some(id) => units.iter().find(|u| &u.id == id).ok_or_else(|| {
                Failure::new(exit::USAGE, format!("unknown unit `{id}` (simulated: {})", names(units)))
            })?,
            None => units.first().ok_or_else(|| Failure::new(exit::DEGRADED, "no enabled unit to plot"))?,
        };
        let svg = crate::simulate::plot::svg(unit, &clock.zone).map_err(|m| Failure::new(exit::DEGRADED, m))?;
        std::fs::write(path, svg)
            .map_err(|e| Failure::new(exit::DEGRADED, format!("cannot write {}: {e}", path.display())))?;
    }
    match args.output {
        Output::Text => print!("{}", text(&runs, &options, &args.trace, &clock)),
        output => super::print_structured(output, &document(&runs, &options, &args.trace, &clock)),
    }
    Ok(exit::OK)
}

fn run(loaded: &Loaded, options: &Options) -> Result<Vec<UnitResult>, Failure> {
    crate::simulate::simulate(loaded, options).map_err(|m| Failure::new(exit::DEGRADED, m))
}

fn names(units: &[UnitResult]) -> String {
    units.iter().map(|u| u.id.as_str()).collect::<Vec<_>>().join(", ")
}

/// The span, step, trace and prices the arguments ask for.
fn options(loaded: &Loaded, clock: &crate::cycle::Clock, args: &SimulateArgs) -> Result<Options, Failure> {
    let usage = |m: String| Failure::new(exit::USAGE, m);
    let instant =
        |text: &str| crate::core::time::parse_instant_in(text, &clock.zone).map(|t| t.as_second()).map_err(usage);
    let (from, to) = match (&args.from, &args.to, &args.day) {
        (Some(from), Some(to), _) => (instant(from)?, instant(to)?),
        (_, _, Some(day)) => day_span(day, &clock.zone)?,
        _ => {
            let start = clock.day_start();
            (start, start + 86_400)
        }
    };
    let step = crate::duration::Span::parse(&args.step).map_err(|m| usage(format!("--step: {m}")))?.as_secs_i64();
    if step < 10 {
        return Err(usage("--step: at least 10s".into()));
    }
    let sky = match Weather::parse(&args.trace) {
        Some(weather) => Sky::Weather(weather),
        None if args.trace == "recorded" => Sky::Recorded(
            crate::simulate::trace::recorded(loaded, from, to).map_err(|m| Failure::new(exit::DEGRADED, m))?,
        ),
        None if args.trace.ends_with(".csv") => {
            let trace = crate::simulate::trace::read(Path::new(&args.trace), &clock.zone)
                .map_err(|m| Failure::new(exit::DEGRADED, m))?;
            Sky::Trace(std::sync::Arc::new(trace))
        }
        None => {
            return Err(usage(format!(
                "--trace: `{}` is not recorded, sunny, cloudy, variable or a .csv file",
                args.trace
            )));
        }
    };
    Ok(Options { from, to, step, sky, prices: Prices { hashprice: args.hashprice, btc_price: args.btc_price } })
}

/// A local date's start and end (24 h, or 23/25 on a daylight-saving day).
fn day_span(day: &str, zone: &jiff::tz::TimeZone) -> Result<(i64, i64), Failure> {
    let date: jiff::civil::Date = day
        .parse()
        .map_err(|e| Failure::new(exit::USAGE, format!("--day: `{day}` is not a date (YYYY-MM-DD): {e}")))?;
    let start = date.to_zoned(zone.clone()).map_err(|e| Failure::new(exit::USAGE, format!("--day: {e}")))?;
    let end = start.tomorrow().map_err(|e| Failure::new(exit::USAGE, format!("--day: {e}")))?;
    Ok((start.timestamp().as_second(), end.timestamp().as_second()))
}

/// One figure of the text table's totals.
type Figure = fn(&Totals) -> Option<f64>;

/// The figures of the text table: (label, value of the totals).
fn figures(currency: &str) -> Vec<(String, Figure)> {
    let money = |label: &str| format!("{label} {currency}");
    vec![
        ("production kWh".into(), |t| Some(t.production_kwh)),
        ("house kWh".into(), |t| Some(t.house_kwh)),
        ("miners kWh".into(), |t| Some(t.miners_kwh)),
        ("  from PV kWh".into(), |t| Some(t.miners_from_pv_kwh)),
        ("  from battery kWh".into(), |t| Some(t.miners_from_battery_kwh)),
        ("  from grid kWh".into(), |t| Some(t.miners_from_grid_kwh)),
        ("import kWh".into(), |t| Some(t.import_kwh)),
        ("export kWh".into(), |t| Some(t.export_kwh)),
        ("battery charge kWh".into(), |t| Some(t.battery_charge_kwh)),
        ("battery discharge kWh".into(), |t| Some(t.battery_discharge_kwh)),
        ("hash TH·h".into(), |t| Some(t.th_hours)),
        ("sats".into(), |t| t.sats),
        (money("grid cost"), |t| t.grid_cost),
        (money("feed-in forgone"), |t| t.feed_in_forgone),
        (money("net"), |t| t.net),
    ]
}

fn text(
    runs: &[(std::path::PathBuf, Vec<UnitResult>)],
    options: &Options,
    trace: &str,
    clock: &crate::cycle::Clock,
) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let step = crate::duration::Span::secs(options.step as u64);
    let _ =
        writeln!(out, "simulate {} → {} ({trace}, every {step})", clock.format(options.from), clock.format(options.to));
    let (first, others) = (&runs[0], &runs[1..]);
    for unit in &first.1 {
        let compared: Vec<Option<&UnitResult>> =
            others.iter().map(|(_, units)| units.iter().find(|u| u.id == unit.id)).collect();
        let _ = writeln!(out, "\nunit {}", unit.id);
        let mut header = format!("  {:<24}{:>14}", "", file_name(&first.0));
        for (path, _) in others {
            let _ = write!(header, "{:>14}{:>14}", file_name(path), "difference");
        }
        let _ = writeln!(out, "{header}");
        let currency = unit.currency.clone().unwrap_or_default();
        for (label, value) in figures(&currency) {
            let mut line = format!("  {label:<24}{:>14}", shown(value(&unit.totals)));
            for other in &compared {
                let theirs = other.and_then(|o| value(&o.totals));
                let difference = theirs.zip(value(&unit.totals)).map(|(b, a)| b - a);
                let _ = write!(line, "{:>14}{:>14}", shown(theirs), shown(difference));
            }
            let _ = writeln!(out, "{line}");
        }
        for (miner, totals) in &unit.miners {
            let mut line = format!(
                "  {:<24}{:>14}",
                format!("{miner}: switches, h"),
                format!("{}, {:.1}", totals.starts + totals.stops, totals.hours_mining)
            );
            for other in &compared {
                let theirs = other.and_then(|o| o.miners.get(miner));
                let cell = theirs.map_or("-".into(), |t| format!("{}, {:.1}", t.starts + t.stops, t.hours_mining));
                let difference = theirs.map_or("-".into(), |t| {
                    let switches = i64::from(t.starts + t.stops) - i64::from(totals.starts + totals.stops);
                    format!("{switches:+}, {:+.1}", t.hours_mining - totals.hours_mining)
                });
                let _ = write!(line, "{cell:>14}{difference:>14}");
            }
            let _ = writeln!(out, "{line}");
        }
    }
    out
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

fn shown(value: Option<f64>) -> String {
    value.map_or("-".into(), |v| format!("{v:.2}"))
}

/// The JSON document: the span, and per config its units with totals, miners, events and
/// steps; with `--compare`, each unit's differences (second − first).
fn document(
    runs: &[(std::path::PathBuf, Vec<UnitResult>)],
    options: &Options,
    trace: &str,
    clock: &crate::cycle::Clock,
) -> Value {
    let configs: Vec<Value> =
        runs.iter().map(|(path, units)| json!({"config": path.display().to_string(), "units": units})).collect();
    let mut document = json!({
        "version": 1,
        "from": clock.format(options.from),
        "to": clock.format(options.to),
        "step_seconds": options.step,
        "trace": trace,
        "runs": configs,
    });
    if let [(_, first), (_, second), ..] = runs {
        let differences: Vec<Value> = first
            .iter()
            .filter_map(|unit| {
                let other = second.iter().find(|b| b.id == unit.id)?;
                let (a, b) = (serde_json::to_value(&unit.totals).ok()?, serde_json::to_value(&other.totals).ok()?);
                let totals: serde_json::Map<String, Value> = a
                    .as_object()?
                    .iter()
                    .map(|(key, value)| (key.clone(), json!(value.as_f64().zip(b[key].as_f64()).map(|(x, y)| y - x))))
                    .collect();
                Some(json!({"unit": unit.id, "totals": totals}))
            })
            .collect();
        document["difference"] = json!(differences);
    }
    document
}
