//! Pool trackers (SPEC §6): what the pool sees, fetched through the cached, rate-limit-aware
//! client so a cron job never hammers a pool API. Each type is one file and one line in
//! `TYPES`.

pub mod braiins_pool;
pub mod ocean;
pub mod simulated;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::config::model::Config;
use crate::config::spec::{ComponentSettings, ComponentType, Typed};
use crate::core::performance::{
    MiningPerformanceSnapshot, MiningReward, PayoutSchedule, PoolStats, PoolWorkerStats, TrackedSnapshot,
};
use crate::duration::Span;
use crate::sim::SimWorld;
use crate::transport::fetch::{Fetched, Fetcher, Outcome, Policy};
use crate::transport::{Call, InputError, Timed};

/// Every tracker type, in the order `types` and the schema list them.
pub const TYPES: &[&dyn TrackerType] = &[&simulated::TYPE, &ocean::TYPE, &braiins_pool::TYPE];

/// What a tracker produced: a snapshot (maybe stale), and the problem if fresh data failed.
#[derive(Debug, Clone, Default)]
pub struct Tracked {
    pub snapshot: Option<TrackedSnapshot>,
    pub problem: Option<InputError>,
}

pub trait Tracker: Send + Sync {
    /// The data the context needs: current hashrate, pool stats with workers, payout schedule.
    fn snapshot(&self, call: &Call) -> Tracked;
    fn workers(&self, call: &Call) -> Result<Vec<PoolWorkerStats>, InputError>;
    fn rewards(&self, call: &Call, limit: usize) -> Result<Vec<MiningReward>, InputError>;
    fn payout(&self) -> PayoutSchedule;
}

/// Cache lifetimes per data kind, overridable per tracker (SPEC §6.2).
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CacheTtls {
    pub current_hashrate: Option<Span>,
    pub pool_stats: Option<Span>,
    pub workers: Option<Span>,
    pub rewards: Option<Span>,
    pub payout_schedule: Option<Span>,
}

/// The data kinds a tracker fetches.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    CurrentHashrate,
    PoolStats,
    Workers,
    Rewards,
}

/// The fetch policy of a data kind for a tracker's settings.
pub fn policy(
    kind: Kind,
    ttls: Option<&CacheTtls>,
    min_interval: Option<Span>,
    default_spacing: u64,
    max_stale: Option<Span>,
) -> Policy {
    let configured = ttls.and_then(|t| match kind {
        Kind::CurrentHashrate => t.current_hashrate,
        Kind::PoolStats => t.pool_stats,
        Kind::Workers => t.workers,
        Kind::Rewards => t.rewards,
    });
    let default = match kind {
        Kind::CurrentHashrate => 60,
        Kind::PoolStats | Kind::Workers => 300,
        Kind::Rewards => 600,
    };
    Policy {
        ttl: configured.map_or(default, |s| s.as_secs_i64()),
        min_interval: min_interval.map_or(std::time::Duration::from_secs(default_spacing), |s| s.0),
        max_stale: max_stale.map_or(86_400, |s| s.as_secs_i64()),
    }
}

/// A tracker's answer from its pool statistics: the snapshot the context reads.
pub fn tracked(
    id: &str,
    stats: PoolStats,
    payout: PayoutSchedule,
    fetched_at: i64,
    stale: bool,
    problem: Option<InputError>,
) -> Tracked {
    let timestamp = stats.timestamp.clone();
    let snapshot = MiningPerformanceSnapshot {
        current_hashrate: stats.current_hashrate,
        pool_stats: Some(stats),
        payout_schedule: Some(payout),
        timestamp,
    };
    Tracked {
        snapshot: Some(TrackedSnapshot { tracker: id.to_string(), snapshot, fetched_at, stale, hashprice: None }),
        problem,
    }
}

/// A pool number: a number or a numeric string, finite and not negative.
pub fn pool_number(value: Option<&serde_json::Value>) -> Option<f64> {
    value.and_then(crate::transport::extract::as_number).filter(|v| *v >= 0.0)
}

/// Unwraps an outcome into its value, keeping the first problem seen.
pub fn take(outcome: Outcome, problem: &mut Option<InputError>) -> Option<Fetched> {
    if let (Some(p), None) = (outcome.problem, problem.as_ref()) {
        *problem = Some(p.into());
    }
    outcome.fetched
}

/// What building a tracker may use besides its settings.
pub struct Build<'a> {
    pub config: &'a Config,
    /// The tracker's id.
    pub id: &'a str,
    pub world: &'a SimWorld,
    pub fetcher: &'a Fetcher,
}

/// A tracker type: what the loader needs, plus how to build a tracker.
pub trait TrackerType: ComponentType {
    fn build<'a>(&self, settings: &'a dyn ComponentSettings, build: &Build<'a>) -> Option<Box<dyn Tracker + 'a>>;
}

/// The settings struct of a tracker type.
pub trait TrackerSettings: ComponentSettings + DeserializeOwned + schemars::JsonSchema {
    fn build<'a>(&'a self, build: &Build<'a>) -> Box<dyn Tracker + 'a>;
}

impl<S: TrackerSettings> TrackerType for Typed<S> {
    fn build<'a>(&self, settings: &'a dyn ComponentSettings, build: &Build<'a>) -> Option<Box<dyn Tracker + 'a>> {
        Some(settings.downcast::<S>()?.build(build))
    }
}

/// The tracker of that id, built, with its own `timeout`.
pub fn build<'a>(
    config: &'a Config,
    id: &'a str,
    world: &'a SimWorld,
    fetcher: &'a Fetcher,
) -> Option<Timed<Box<dyn Tracker + 'a>>> {
    let tracker = config.trackers.iter().find(|t| t.id == id)?;
    let kind = TYPES.iter().find(|t| t.info().name == tracker.type_name)?;
    let built = kind.build(tracker.settings.as_ref(), &Build { config, id, world, fetcher })?;
    Some(Timed { inner: built, timeout: tracker.timeout })
}
