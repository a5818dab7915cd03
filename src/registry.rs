//! Every component type this build knows, gathered from each kind's list for the loader,
//! `types`, `schema`, `init` and `scan`.
//!
//! Adding a type is one file in its kind's folder and one line in that kind's list
//! (`devices::TYPES`, `energy::MONITORS`, `energy::FORECASTS`, `trackers::TYPES`,
//! `notify::TYPES`, `services::TYPES`, `market::TYPES`, `publish::TYPES`); nothing here changes.

use std::sync::LazyLock;

use crate::config::spec::{ComponentType, Registry};

/// The registry, built once per process.
pub static REGISTRY: LazyLock<Registry> = LazyLock::new(|| Registry {
    services: crate::services::TYPES.to_vec(),
    controllers: crate::devices::TYPES.iter().map(|t| *t as &dyn ComponentType).collect(),
    monitors: crate::energy::MONITORS.iter().map(|t| *t as &dyn ComponentType).collect(),
    forecasts: crate::energy::FORECASTS.iter().map(|t| *t as &dyn ComponentType).collect(),
    trackers: crate::trackers::TYPES.iter().map(|t| *t as &dyn ComponentType).collect(),
    notifiers: crate::notify::TYPES.iter().map(|t| *t as &dyn ComponentType).collect(),
    markets: crate::market::TYPES.iter().map(|t| *t as &dyn ComponentType).collect(),
    publishers: crate::publish::TYPES.iter().map(|t| *t as &dyn ComponentType).collect(),
});
