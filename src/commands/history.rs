//! `history`: the persisted action log, oldest first.

use serde_json::json;

use crate::cli::{Cli, HistoryArgs, Output};
use crate::cycle::Clock;
use crate::duration::Span;
use crate::exit::{self, Failure};
use crate::state::Store;

pub fn history(cli: &Cli, args: &HistoryArgs) -> Result<i32, Failure> {
    let loaded = super::load_config(cli)?;
    let clock = super::clock(cli, &loaded)?;
    let since = Span::parse(&args.since).map_err(|m| Failure::new(exit::USAGE, m))?;
    let store = Store::for_reading(&loaded.config.state).map_err(|m| Failure::new(exit::FATAL, m))?;
    let from = clock.now - since.as_secs_i64();
    let fatal = |e: rusqlite::Error| Failure::new(exit::FATAL, e.to_string());
    let decisions = if args.decisions {
        crate::state::decision_history(&store.conn, from, args.miner.as_deref()).map_err(fatal)?
    } else {
        Vec::new()
    };
    let rows = if args.decisions {
        Vec::new()
    } else {
        crate::state::history(&store.conn, from, args.miner.as_deref()).map_err(fatal)?
    };
    // A miner no longer configured may still have history; one never heard of is a typo.
    if let Some(id) = &args.miner
        && rows.is_empty()
        && decisions.is_empty()
        && !loaded.config.miners.iter().any(|m| &m.id == id)
    {
        let known: Vec<&str> = loaded.config.miners.iter().map(|m| m.id.as_str()).collect();
        return Err(Failure::new(exit::USAGE, format!("unknown miner `{id}` (configured: {})", known.join(", "))));
    }
    if args.decisions {
        print_decisions(&decisions, &clock, args.output, &args.since);
        return Ok(exit::OK);
    }
    match args.output {
        Output::Json | Output::Yaml => {
            let documents: Vec<_> = rows
                .iter()
                .map(|row| {
                    json!({
                        "at": clock.format(row.at),
                        "unit": row.unit,
                        "miner": row.miner,
                        "decision": row.decision,
                        "reason": {"kind": row.reason_kind, "name": row.reason_name},
                        "action": row.action,
                        "controller": row.controller,
                        "feature": row.feature,
                        "manual": row.manual,
                        "watts": row.watts,
                        "ok": row.ok,
                        "error": row.error,
                    })
                })
                .collect();
            super::print_structured(args.output, &documents);
        }
        Output::Text => {
            if rows.is_empty() {
                println!("no actions in the last {since}");
            }
            for row in &rows {
                let result = match row.ok {
                    Some(true) => "ok".to_string(),
                    Some(false) => format!("FAILED: {}", row.error.as_deref().unwrap_or("")),
                    None => match &row.error {
                        Some(error) => format!("outcome unknown ({error})"),
                        None => "outcome unknown (interrupted)".to_string(),
                    },
                };
                let why = row.reason_name.as_deref().map_or(String::new(), |n| format!(" ({} `{n}`)", row.reason_kind));
                println!(
                    "{}  {:<10} {:<12} {:<12} via {:<14} {}{}{why}",
                    clock.format(row.at),
                    row.unit.as_deref().unwrap_or("-"),
                    row.miner,
                    match row.watts {
                        Some(watts) => format!("{} {watts} W", row.action),
                        None => row.action.clone(),
                    },
                    row.controller.as_deref().unwrap_or("-"),
                    result,
                    if row.manual { " [manual]" } else { "" },
                );
            }
        }
    }
    Ok(exit::OK)
}

/// `history --decisions`: each stretch of identical decisions, with its reason.
fn print_decisions(rows: &[crate::state::DecisionRow], clock: &Clock, output: Output, since: &str) {
    if output == Output::Text {
        if rows.is_empty() {
            println!("no decisions in the last {since}");
        }
        for row in rows {
            let why = match &row.reason_name {
                Some(name) if row.reason_kind != "none" => format!("{} `{name}`", row.reason_kind),
                Some(name) => name.clone(),
                None => "no rule matched".to_string(),
            };
            let span = if row.until > row.at { format!(" .. {}", clock.format(row.until)) } else { String::new() };
            println!(
                "{}{span}  {:<10} {:<12} {:<8} {} ({why})",
                clock.format(row.at),
                row.unit,
                row.miner,
                row.status,
                row.decision
            );
        }
        return;
    }
    let documents: Vec<serde_json::Value> = rows
        .iter()
        .map(|row| {
            json!({
                "from": clock.format(row.at),
                "until": clock.format(row.until),
                "unit": row.unit,
                "miner": row.miner,
                "status": row.status,
                "decision": row.decision,
                "reason": {"kind": row.reason_kind, "name": row.reason_name},
            })
        })
        .collect();
    super::print_structured(output, &documents);
}
