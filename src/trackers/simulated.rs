//! The simulated pool: hashrate and workers consistent with the simulated miners, a slowly
//! growing unpaid balance, payouts per block (as on a TIDES pool).

use serde::Deserialize;

use crate::config::model::Config;
use crate::config::spec::{ComponentSettings, TypeInfo, Typed};
use crate::core::performance::*;
use crate::devices::simulated::SimulatedControllerConfig;
use crate::sim::{SimWorld, noise};
use crate::trackers::{Build, Tracked, Tracker, TrackerSettings};
use crate::transport::{Call, InputError};

pub const TYPE: Typed<SimulatedTrackerConfig> = Typed::new(TypeInfo::new(
    "simulated",
    "A simulated pool whose workers are the simulated miners.",
    "{id: pool-sim, type: simulated}",
));

/// The `simulated` tracker takes no keys.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SimulatedTrackerConfig {}

impl ComponentSettings for SimulatedTrackerConfig {}

impl TrackerSettings for SimulatedTrackerConfig {
    fn build<'a>(&'a self, build: &Build<'a>) -> Box<dyn Tracker + 'a> {
        Box::new(SimulatedTracker::new(build.id, build.config, build.world))
    }
}

/// (worker name, simulated controller id, TH/s when mining)
type SimWorker = (String, String, f64);

pub struct SimulatedTracker<'a> {
    id: String,
    workers: Vec<SimWorker>,
    world: &'a SimWorld,
}

impl<'a> SimulatedTracker<'a> {
    pub fn new(id: &str, config: &Config, world: &'a SimWorld) -> SimulatedTracker<'a> {
        let mut workers = Vec::new();
        for miner in &config.miners {
            for controller in config.controllers.iter().filter(|c| miner.controllers.contains(&c.id)) {
                if let Some(sim) = controller.settings.downcast::<SimulatedControllerConfig>() {
                    let name = miner.worker.clone().unwrap_or_else(|| miner.id.clone());
                    workers.push((name, controller.id.clone(), sim.hashrate.or(miner.hashrate_max).unwrap_or(100.0)));
                    break;
                }
            }
        }
        SimulatedTracker { id: id.to_string(), workers, world }
    }

    fn pool_workers(&self, now: i64) -> Result<Vec<PoolWorkerStats>, InputError> {
        let stamp = stamp(now)?;
        Ok(self
            .workers
            .iter()
            .map(|(name, controller, nominal)| {
                let hashing = self.world.device(controller).hashing(now);
                let rate = if hashing { nominal * (0.95 + 0.1 * noise((now / 300) as u64)) } else { 0.0 };
                PoolWorkerStats {
                    worker_name: name.clone(),
                    hashrate: Some(HashRate::terahashes(rate)),
                    last_share_at: hashing.then(|| stamp.clone()),
                    valid_shares: Some((rate * 36.0) as u64),
                    stale_shares: Some(0),
                    rejected_shares: Some(0),
                }
            })
            .collect())
    }
}

fn stamp(now: i64) -> Result<String, InputError> {
    crate::core::time::instant(now).map(|t| t.to_string())
}

impl Tracker for SimulatedTracker<'_> {
    fn snapshot(&self, call: &Call) -> Tracked {
        let now = call.now;
        let (stamp, workers) = match stamp(now).and_then(|stamp| Ok((stamp, self.pool_workers(now)?))) {
            Ok(read) => read,
            Err(error) => return Tracked { snapshot: None, problem: Some(error) },
        };
        let total: f64 = workers.iter().filter_map(|w| w.hashrate.map(|h| h.value)).sum();
        let nominal: f64 = self.workers.iter().map(|(_, _, n)| n).sum();
        let day_fraction = (now.rem_euclid(86_400)) as f64 / 86_400.0;
        let snapshot = MiningPerformanceSnapshot {
            current_hashrate: Some(HashRate::terahashes(total)),
            pool_stats: Some(PoolStats {
                current_hashrate: Some(HashRate::terahashes(total)),
                average_hashrate_24h: Some(HashRate::terahashes(nominal * 0.45)),
                average_hashrate_7d: Some(HashRate::terahashes(nominal * 0.42)),
                unpaid_balance: Some((nominal * 40.0 * day_fraction) as i64),
                estimated_next_payout: None,
                workers,
                timestamp: stamp.clone(),
            }),
            payout_schedule: Some(self.payout()),
            timestamp: stamp,
        };
        Tracked {
            snapshot: Some(TrackedSnapshot {
                tracker: self.id.clone(),
                snapshot,
                fetched_at: now,
                stale: false,
                hashprice: None,
            }),
            problem: None,
        }
    }

    fn workers(&self, call: &Call) -> Result<Vec<PoolWorkerStats>, InputError> {
        self.pool_workers(call.now)
    }

    fn rewards(&self, call: &Call, limit: usize) -> Result<Vec<MiningReward>, InputError> {
        let nominal: f64 = self.workers.iter().map(|(_, _, n)| n).sum();
        let day = call.now - call.now.rem_euclid(86_400);
        (1..=limit as i64)
            .map(|i| Ok(MiningReward { amount: (nominal * 40.0) as i64, timestamp: stamp(day - i * 86_400)? }))
            .collect()
    }

    fn payout(&self) -> PayoutSchedule {
        PayoutSchedule { frequency: PayoutFrequency::PerBlock, threshold: None, next_payout_at: None }
    }
}
