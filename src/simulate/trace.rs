//! Energy traces for `simulate`: what the state database recorded ([`recorded`]), or a CSV
//! file ([`read`]) with a header naming `time`, `production` and
//! `consumption` (W, the house without the miners), and optionally `battery_soc` (%), `grid`
//! (W, for comparison only), `price` or `import_price` and `feed_in_price`. `time` is RFC 3339
//! or a local time in the configured zone; rows come in time order. A bad row is an error
//! naming the file and the line.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::config::Loaded;
use crate::core::simulation::{Trace, TracePoint};

/// Each energy source's recorded trace over `[from, to)`, read from the config's state
/// database without migrating or locking it. A house load that includes the miners has
/// their recorded power taken off, as the simulated roof wants the house alone.
pub fn recorded(loaded: &Loaded, from: i64, to: i64) -> Result<BTreeMap<String, Arc<Trace>>, String> {
    let config = &loaded.config;
    let state = config.state.display();
    let store = crate::state::Store::open_read_only(&config.state)?
        .ok_or_else(|| format!("{state} does not exist yet: every `run` records what it sees, so run it first"))?;
    let fail = |e: rusqlite::Error| format!("{state}: {e}");
    let mut traces = BTreeMap::new();
    for source in &config.energy_sources {
        let rows = crate::state::load_energy_trace(&store.conn, &source.id, from, to).map_err(fail)?;
        if rows.is_empty() {
            return Err(format!("{state} has no recorded trace of `{}` in that span", source.id));
        }
        let miners: Vec<String> = config
            .units
            .iter()
            .filter(|u| u.energy_source == source.id)
            .flat_map(|u| u.miners.iter().cloned())
            .collect();
        let drawn = if source.consumption_includes_miners {
            crate::state::load_miners_power(&store.conn, &miners, from, to).map_err(fail)?
        } else {
            BTreeMap::new()
        };
        let points = rows
            .iter()
            .map(|(at, row)| TracePoint {
                at: *at,
                production: row.production.unwrap_or(0.0).max(0.0),
                consumption: (row.consumption.unwrap_or(0.0) - drawn.get(at).copied().unwrap_or(0.0)).max(0.0),
                battery_soc: row.battery_soc,
                grid: row.grid,
                import_price: None,
                feed_in_price: None,
            })
            .collect();
        traces.insert(source.id.clone(), Arc::new(Trace { points }));
    }
    Ok(traces)
}

/// Reads and checks a trace file.
pub fn read(path: &Path, zone: &jiff::tz::TimeZone) -> Result<Trace, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse(&text, zone).map_err(|(line, message)| format!("{}:{line}: {message}", path.display()))
}

/// Parses a trace; an error carries its line number (1-based).
pub fn parse(text: &str, zone: &jiff::tz::TimeZone) -> Result<Trace, (usize, String)> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'));
    let (header_index, header) = lines.next().ok_or((1, "the file is empty: it needs a header line".to_string()))?;
    let columns: Vec<String> = header.split(',').map(|c| c.trim().to_ascii_lowercase()).collect();
    let column = |name: &str| columns.iter().position(|c| c == name);
    let required = |name: &str| {
        column(name)
            .ok_or((header_index + 1, format!("the header has no `{name}` column (it has: {})", columns.join(", "))))
    };
    let (time, production, consumption) = (required("time")?, required("production")?, required("consumption")?);
    let import = column("import_price").or_else(|| column("price"));
    let (soc, grid, feed_in) = (column("battery_soc"), column("grid"), column("feed_in_price"));
    if let Some(unknown) = columns.iter().find(|c| !KNOWN.contains(&c.as_str())) {
        return Err((header_index + 1, format!("unknown column `{unknown}`; known: {}", KNOWN.join(", "))));
    }
    let mut points: Vec<TracePoint> = Vec::new();
    for (index, line) in lines {
        let number = index + 1;
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        if cells.len() != columns.len() {
            return Err((number, format!("{} values where the header has {} columns", cells.len(), columns.len())));
        }
        let at = crate::core::time::parse_instant_in(cells[time], zone)
            .map_err(|e| (number, format!("`time`: {e}")))?
            .as_second();
        if let Some(previous) = points.last().filter(|p| p.at >= at) {
            return Err((number, format!("`{}` is not after the row before ({})", cells[time], previous.at)));
        }
        let watts = |name: &str, i: usize| -> Result<f64, (usize, String)> {
            let value: f64 =
                cells[i].parse().map_err(|_| (number, format!("`{name}`: `{}` is not a number", cells[i])))?;
            if !value.is_finite() || value < 0.0 {
                return Err((number, format!("`{name}`: {value} is not a power in W (0 or more)")));
            }
            Ok(value)
        };
        let optional = |name: &str, i: Option<usize>| -> Result<Option<f64>, (usize, String)> {
            let Some(i) = i.filter(|i| !cells[*i].is_empty()) else { return Ok(None) };
            cells[i].parse().map(Some).map_err(|_| (number, format!("`{name}`: `{}` is not a number", cells[i])))
        };
        points.push(TracePoint {
            at,
            production: watts("production", production)?,
            consumption: watts("consumption", consumption)?,
            battery_soc: optional("battery_soc", soc)?.filter(|s| (0.0..=100.0).contains(s)),
            grid: optional("grid", grid)?,
            import_price: optional("import_price", import)?,
            feed_in_price: optional("feed_in_price", feed_in)?,
        });
    }
    if points.is_empty() {
        return Err((header_index + 1, "no rows after the header".into()));
    }
    Ok(Trace { points })
}

const KNOWN: [&str; 8] =
    ["time", "production", "consumption", "battery_soc", "grid", "price", "import_price", "feed_in_price"];

#[cfg(test)]
mod tests {
    use super::*;

    fn utc() -> jiff::tz::TimeZone {
        jiff::tz::TimeZone::UTC
    }

    #[test]
    fn a_trace_reads_its_columns_in_any_order() {
        let text =
            "time,consumption,production,price\n2026-06-21T10:00:00Z,400,3000,0.3\n2026-06-21T10:05:00Z,420,3100,\n";
        let trace = parse(text, &utc()).unwrap();
        assert_eq!(trace.points.len(), 2);
        assert_eq!((trace.points[0].production, trace.points[0].consumption), (3000.0, 400.0));
        assert_eq!((trace.points[0].import_price, trace.points[1].import_price), (Some(0.3), None));
    }

    #[test]
    fn bad_rows_name_their_line() {
        let bad = |text: &str| parse(text, &utc()).unwrap_err();
        assert_eq!(bad("time,production,consumption\n2026-06-21T10:00:00Z,x,400\n").0, 2);
        assert_eq!(bad("time,production,consumption\n\n2026-06-21T10:00:00Z,1,400\n2026-06-21T09:00:00Z,1,1\n").0, 4);
        assert_eq!(bad("time,production\n").0, 1);
        assert_eq!(bad("time,production,consumption\n2026-06-21T10:00:00Z,-5,400\n").0, 2);
        assert_eq!(bad("time,production,consumption\nyesterday,1,400\n").0, 2);
    }
}
