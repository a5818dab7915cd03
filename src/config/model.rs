//! The typed configuration: one struct per section.
//!
//! Tagged components (`controllers`, `trackers`, energy `monitor`…) are `Component`s: the
//! keys every type shares, and the settings the type's own struct parsed (`config::spec`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde::Deserialize;

use crate::config::spec::ComponentSettings;
use crate::core::binding::Binding;
use crate::core::feature::FeatureType;
use crate::duration::Span;

/// The whole configuration file, validated and with every reference resolved.
#[derive(Debug, Clone)]
pub struct Config {
    pub file: PathBuf,
    pub state: PathBuf,
    pub settings: Settings,
    pub services: Vec<Component>,
    pub energy_sources: Vec<EnergySource>,
    pub controllers: Vec<Component>,
    pub miners: Vec<Miner>,
    pub trackers: Vec<Component>,
    pub notifiers: Vec<Component>,
    pub units: Vec<Unit>,
    /// Each miner's feature bindings, resolved once when the config is checked.
    pub bindings: BTreeMap<String, Vec<Binding>>,
}

impl Config {
    /// A miner's bindings (empty for an unknown miner).
    pub fn bindings_of(&self, miner: &str) -> &[Binding] {
        self.bindings.get(miner).map_or(&[], Vec::as_slice)
    }
}

/// A configured component: the keys every type shares and the settings of its `type`.
#[derive(Debug, Clone)]
pub struct Component {
    /// Unique in its section; empty for a monitor or a forecast, which have none.
    pub id: String,
    /// The `type`, as the registry names it.
    pub type_name: &'static str,
    /// The type's own keys, parsed by its struct.
    pub settings: Arc<dyn ComponentSettings>,
    /// Bound on one request to it, instead of `settings.timeout`.
    pub timeout: Option<Span>,
    /// Where it is in the config file (`controllers[2]`), for messages.
    pub at: String,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub timezone: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    #[serde(default = "default_timeout")]
    pub timeout: Span,
    #[serde(default = "default_deadline")]
    pub deadline: Span,
    #[serde(default = "default_retention")]
    pub retention: Span,
    pub metrics_file: Option<PathBuf>,
}

fn default_concurrency() -> usize {
    256
}
fn default_timeout() -> Span {
    Span::secs(5)
}
fn default_deadline() -> Span {
    Span::secs(45)
}
fn default_retention() -> Span {
    Span::secs(90 * 86_400)
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            timezone: None,
            latitude: None,
            longitude: None,
            concurrency: default_concurrency(),
            timeout: default_timeout(),
            deadline: default_deadline(),
            retention: default_retention(),
            metrics_file: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EnergySourceType {
    Solar,
    Wind,
    Grid,
    Hydro,
    Other,
}

impl EnergySourceType {
    pub fn name(self) -> &'static str {
        match self {
            EnergySourceType::Solar => "solar",
            EnergySourceType::Wind => "wind",
            EnergySourceType::Grid => "grid",
            EnergySourceType::Hydro => "hydro",
            EnergySourceType::Other => "other",
        }
    }
}

#[derive(Debug, Clone)]
pub struct EnergySource {
    pub id: String,
    /// Where it is in the config file, for messages.
    pub at: String,
    pub name: Option<String>,
    pub source_type: EnergySourceType,
    pub nominal_power_max: Option<f64>,
    pub storage_capacity: Option<f64>,
    pub monitor: Component,
    pub forecast: Option<Component>,
}

/// The untagged part of an energy source; `monitor` and `forecast` are parsed by type.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnergySourceFields {
    pub id: String,
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub source_type: EnergySourceType,
    pub nominal_power_max: Option<f64>,
    pub storage_capacity: Option<f64>,
    pub monitor: serde_yaml::Value,
    pub forecast: Option<serde_yaml::Value>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Miner {
    pub id: String,
    /// Where it is in the config file (`miners[3]`), for messages.
    #[serde(skip)]
    pub at: String,
    pub name: Option<String>,
    pub model: Option<String>,
    pub power_max: Option<f64>,
    pub hashrate_max: Option<f64>,
    #[serde(default = "yes")]
    pub active: bool,
    pub worker: Option<String>,
    #[serde(default)]
    pub controllers: Vec<String>,
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

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Unit {
    pub id: String,
    /// Where it is in the config file (`units[0]`), for messages.
    #[serde(skip)]
    pub at: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    pub energy_source: String,
    pub tracker: Option<String>,
    #[serde(default)]
    pub miners: Vec<String>,
    #[serde(default)]
    pub notifiers: Vec<String>,
    pub policy: Option<PathBuf>,
    pub rules: Option<RuleFiles>,
    #[serde(default)]
    pub safety: Safety,
    #[serde(default)]
    pub guards: Guards,
    #[serde(default)]
    pub stop_mode: StopMode,
    pub power_off_after: Option<Span>,
}

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleFiles {
    #[serde(default)]
    pub start: Vec<String>,
    #[serde(default)]
    pub stop: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Safety {
    pub max_chip_temperature: Option<f64>,
    pub max_inlet_temperature: Option<f64>,
    pub min_battery_soc: Option<f64>,
    pub max_grid_import: Option<f64>,
    pub stale_energy_after: Option<Span>,
    pub stale_pool_after: Option<Span>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Guards {
    pub min_on: Option<Span>,
    pub min_off: Option<Span>,
    pub max_switches_per_day: Option<u32>,
    #[serde(default = "default_verify_after")]
    pub verify_after: Span,
}

fn default_verify_after() -> Span {
    Span::secs(180)
}

impl Default for Guards {
    fn default() -> Guards {
        Guards { min_on: None, min_off: None, max_switches_per_day: None, verify_after: default_verify_after() }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StopMode {
    #[default]
    Sleep,
    PowerOff,
    SleepThenPowerOff,
}

/// Extra HTTP headers a component sends.
pub type Headers = BTreeMap<String, String>;
