//! Record: persist what the next invocation needs, in one transaction. A dry run records
//! its run row and the HTTP cache and backoff (they describe the world, not decisions):
//! no timers, no observations, no simulated-device changes.

use crate::config::Loaded;
use crate::cycle::Clock;
use crate::cycle::outcome::RunReport;
use crate::fetch::Fetcher;
use crate::sim::SimWorld;

/// The in-memory state a cycle changed and must write back.
pub struct Memory<'a> {
    pub world: &'a SimWorld,
    pub fetcher: &'a Fetcher,
}
use crate::state::{RunSummary, Store, finish_run, observe, prune, save_sim, save_timers};

pub fn record(
    store: &mut Store,
    loaded: &Loaded,
    clock: &Clock,
    run_id: i64,
    report: &RunReport,
    dry_run: bool,
    memory: &Memory,
) -> Result<(), String> {
    let world = memory.world;
    let retention = loaded.config.settings.retention.as_secs_i64();
    let summary = RunSummary {
        finished_at: clock.now,
        exit_code: report.exit_code,
        miners: report.units.iter().map(|u| u.miners.len()).sum(),
        commands: report.units.iter().flat_map(|u| &u.miners).filter(|m| m.action.is_some()).count(),
        failures: report.errors.len(),
    };
    store.transaction(|conn| {
        if !dry_run {
            for unit in &report.units {
                for miner in &unit.miners {
                    let timers = report_timers(report, &unit.id, &miner.id);
                    save_timers(conn, &unit.id, &miner.id, &timers)?;
                    observe(conn, &miner.id, &miner.status, clock.now)?;
                }
            }
            if world.changed() {
                save_sim(conn, world)?;
            }
            prune(conn, clock.now.saturating_sub(retention))?;
        }
        memory.fetcher.save(conn)?;
        finish_run(conn, run_id, &summary)
    })
}

/// The timers evaluation decided to keep for a miner of a unit.
fn report_timers(report: &RunReport, unit: &str, miner: &str) -> crate::rules::decide::Timers {
    report
        .timers
        .iter()
        .find(|(u, m, _)| u == unit && m == miner)
        .map(|(_, _, timers)| timers.clone())
        .unwrap_or_default()
}
