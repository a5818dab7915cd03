//! Pool trackers (SPEC §6): the trait, and building trackers from config.

pub mod simulated;

use crate::config::model::{Config, TrackerKind};
use crate::core::performance::MiningPerformanceSnapshot;
use crate::devices::{Call, DeviceError};
use crate::sim::SimWorld;

pub trait Tracker: Send + Sync {
    fn snapshot(&self, call: &Call) -> Result<MiningPerformanceSnapshot, DeviceError>;
}

pub fn unsupported(kind: &TrackerKind) -> Option<&'static str> {
    match kind {
        TrackerKind::Simulated(_) => None,
        TrackerKind::Ocean(_) => Some("ocean"),
        TrackerKind::BraiinsPool(_) => Some("braiins_pool"),
    }
}

pub fn build<'a>(config: &'a Config, id: &str, world: &'a SimWorld) -> Option<Box<dyn Tracker + 'a>> {
    let tracker = config.trackers.iter().find(|t| t.id == id)?;
    match &tracker.kind {
        TrackerKind::Simulated(_) => Some(Box::new(simulated::SimulatedTracker::new(config, world))),
        _ => None,
    }
}
