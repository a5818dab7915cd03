//! A miner as configured: its nominal values and which controllers provide its features.

use serde::Deserialize;

use crate::core::feature::FeatureType;

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Miner {
    /// Its name, unique among miners; units and commands refer to it.
    pub id: String,
    /// Where it is in the config file (`miners[3]`), for messages.
    #[serde(skip)]
    pub at: String,
    /// A display name (default: the id).
    pub name: Option<String>,
    /// Its model, for people (`Antminer S19j Pro`).
    pub model: Option<String>,
    /// The most it draws, W.
    pub power_max: Option<f64>,
    /// The least it can be set to, W (default: the detected bound, else half of `power_max`).
    pub power_min: Option<f64>,
    /// Its nominal hashrate, TH/s.
    pub hashrate_max: Option<f64>,
    /// An inactive miner is neither read nor commanded.
    #[serde(default = "yes")]
    pub active: bool,
    /// Its worker name at the pool, to pick its row of the tracker's data.
    pub worker: Option<String>,
    /// The controllers that read and command it, best first.
    #[serde(default)]
    pub controllers: Vec<String>,
    /// Which controller provides a feature, overriding the order of `controllers`.
    #[serde(default)]
    pub features: Vec<FeatureOverride>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FeatureOverride {
    #[serde(rename = "type")]
    pub feature: FeatureType,
    pub controller: String,
    pub priority: Option<i64>,
    pub enabled: Option<bool>,
}
