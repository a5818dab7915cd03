//! `state show` and `state clear`.

use crate::cli::{Cli, StateCommand};
use crate::cycle::open_locked;
use crate::exit::{self, Failure};
use crate::state::Store;

pub fn state(cli: &Cli, command: &StateCommand) -> Result<i32, Failure> {
    let loaded = super::load_config(cli)?;
    let fatal = |m: String| Failure::new(exit::FATAL, m);
    match command {
        StateCommand::Show => {
            let clock = super::clock(cli, &loaded)?;
            let store = Store::for_reading(&loaded.config.state).map_err(fatal)?;
            println!("database: {}", loaded.config.state.display());
            let counts = crate::state::table_counts(&store.conn).map_err(|e| fatal(e.to_string()))?;
            let width = counts.iter().map(|(table, _)| table.len()).max().unwrap_or(0);
            for (table, count) in counts {
                println!("  {table:<width$} {count} row(s)");
            }
            let runs = crate::state::recent_runs(&store.conn, 5).map_err(|e| fatal(e.to_string()))?;
            if !runs.is_empty() {
                println!("last runs:");
            }
            for (started, _, code, dry, commands, failures) in runs {
                let code = code.map_or("unfinished".to_string(), |c| format!("exit {c}"));
                let dry = if dry { " dry-run" } else { "" };
                println!("  {}  {code}{dry}, {commands} command(s), {failures} failed input(s)", clock.format(started));
            }
            Ok(exit::OK)
        }
        StateCommand::Clear { cache, backoff, timers } => {
            let all = !cache && !backoff && !timers;
            let mut tables: Vec<&'static str> = Vec::new();
            if *cache || all {
                tables.push("http_cache");
            }
            if *backoff || all {
                tables.push("backoff");
            }
            if *timers || all {
                tables.push("rule_timer");
            }
            let (_lock, mut store) = open_locked(&loaded)?;
            let removed = store.transaction(|c| crate::state::clear_tables(c, &tables)).map_err(fatal)?;
            println!("cleared {} ({removed} row(s))", tables.join(", "));
            Ok(exit::OK)
        }
    }
}
