//! The simulated pool: hashrate and workers consistent with the simulated miners, a slowly
//! growing unpaid balance, payouts per block (as on a TIDES pool).

use crate::config::model::{Config, ControllerKind};
use crate::core::performance::*;
use crate::devices::{Call, DeviceError};
use crate::sim::{SimWorld, noise};
use crate::trackers::Tracker;

/// (worker name, simulated controller id, TH/s when mining)
type SimWorker = (String, String, f64);

pub struct SimulatedTracker<'a> {
    workers: Vec<SimWorker>,
    world: &'a SimWorld,
}

impl<'a> SimulatedTracker<'a> {
    pub fn new(config: &Config, world: &'a SimWorld) -> SimulatedTracker<'a> {
        let mut workers = Vec::new();
        for miner in &config.miners {
            for controller in config.controllers.iter().filter(|c| miner.controllers.contains(&c.id)) {
                if let ControllerKind::Simulated(sim) = &controller.kind {
                    let name = miner.worker.clone().unwrap_or_else(|| miner.id.clone());
                    workers.push((name, controller.id.clone(), sim.hashrate.or(miner.hashrate_max).unwrap_or(100.0)));
                    break;
                }
            }
        }
        SimulatedTracker { workers, world }
    }
}

impl Tracker for SimulatedTracker<'_> {
    fn snapshot(&self, call: &Call) -> Result<MiningPerformanceSnapshot, DeviceError> {
        let now = call.now;
        let stamp = crate::core::time::rfc3339_in(
            jiff::Timestamp::from_second(now).unwrap_or_default(),
            &jiff::tz::TimeZone::UTC,
        );
        let workers: Vec<PoolWorkerStats> = self
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
            .collect();
        let total: f64 = workers.iter().filter_map(|w| w.hashrate.map(|h| h.value)).sum();
        let nominal: f64 = self.workers.iter().map(|(_, _, n)| n).sum();
        let day_fraction = (now.rem_euclid(86_400)) as f64 / 86_400.0;
        Ok(MiningPerformanceSnapshot {
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
            payout_schedule: Some(PayoutSchedule {
                frequency: PayoutFrequency::PerBlock,
                threshold: None,
                next_payout_at: None,
            }),
            timestamp: stamp,
        })
    }
}
