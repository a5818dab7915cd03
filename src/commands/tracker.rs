//! `tracker stats|workers|rewards|payout|test`: a pool tracker by hand, through the same
//! cache and backoff as `run` (what is learned here is kept for the next run).

use crate::cli::{Cli, TrackerCommand};
use crate::exit::{self, Failure};
use crate::state::Store;
use crate::transport::fetch::Fetcher;

pub fn tracker(cli: &Cli, command: &TrackerCommand) -> Result<i32, Failure> {
    let loaded = super::load_config(cli)?;
    let clock = super::clock(cli, &loaded)?;
    let id = match command {
        TrackerCommand::Stats { id }
        | TrackerCommand::Workers { id }
        | TrackerCommand::Rewards { id, .. }
        | TrackerCommand::Payout { id }
        | TrackerCommand::Test { id } => id,
    };
    let fatal = |m: String| Failure::new(exit::FATAL, m);
    let mut store = Store::open(&loaded.config.state).map_err(fatal)?;
    let world = crate::state::load_sim(&store.conn).map_err(|e| fatal(e.to_string()))?;
    let mut fetcher = Fetcher::load(&store.conn).map_err(|e| fatal(e.to_string()))?;
    if matches!(command, TrackerCommand::Test { .. }) {
        fetcher = fetcher.always_fresh();
    }
    let built = crate::trackers::build(&loaded.config, id, &world, &fetcher)
        .ok_or_else(|| Failure::new(exit::USAGE, format!("unknown tracker `{id}`")))?;
    let (tracker, call) = (&built.inner, built.call(&clock.call(&loaded)));
    let code = match command {
        TrackerCommand::Stats { .. } | TrackerCommand::Test { .. } => {
            let tracked = tracker.snapshot(&call);
            let test = matches!(command, TrackerCommand::Test { .. });
            match (&tracked.snapshot, &tracked.problem) {
                (Some(snapshot), problem) => {
                    println!("{}", serde_json::to_string_pretty(&snapshot.snapshot).unwrap_or_default());
                    if let Some(problem) = problem {
                        println!(
                            "stale: {} (data {} s old)",
                            clock.render(problem),
                            (clock.now - snapshot.fetched_at).max(0)
                        );
                    } else if test {
                        println!("ok: the pool answered");
                    }
                    if problem.is_some() { exit::DEGRADED } else { exit::OK }
                }
                (None, problem) => {
                    println!("failed: {}", problem.as_ref().map_or_else(|| "no data".to_string(), |p| clock.render(p)));
                    exit::DEGRADED
                }
            }
        }
        TrackerCommand::Workers { .. } => print_list(tracker.workers(&call)),
        TrackerCommand::Rewards { limit, .. } => print_list(tracker.rewards(&call, *limit)),
        TrackerCommand::Payout { .. } => {
            println!("{}", serde_json::to_string_pretty(&tracker.payout()).unwrap_or_default());
            exit::OK
        }
    };
    store.transaction(|conn| fetcher.save(conn)).map_err(fatal)?;
    Ok(code)
}

fn print_list<T: serde::Serialize>(result: Result<Vec<T>, crate::transport::InputError>) -> i32 {
    match result {
        Ok(items) => {
            println!("{}", serde_json::to_string_pretty(&items).unwrap_or_default());
            exit::OK
        }
        Err(message) => {
            println!("failed: {message}");
            exit::DEGRADED
        }
    }
}
