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
pub use crate::core::guards::Guards;
pub use crate::core::miner::{FeatureOverride, Miner};
pub use crate::core::safety::{Safety, StopMode};
pub use crate::core::source::EnergySourceType;
use crate::core::source::SourceFacts;
use crate::duration::Span;
pub use crate::rules::RuleFiles;

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
    /// Where each cycle's states go, and modes come from (SPEC §21).
    pub publishers: Vec<Component>,
    /// Electricity prices (SPEC §19).
    pub tariffs: Option<crate::core::tariff::Tariffs>,
    /// Where BTC price, network hashrate and rewards come from.
    pub market: Option<Component>,
    /// House and appliance load profiles (SPEC §18.1).
    pub home_loads: Vec<crate::home::HomeLoadProfile>,
    /// Rooms and their thermometers (SPEC §18.2).
    pub climate_zones: Vec<crate::home::ClimateZone>,
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
    1024
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
    /// The monitor's house load includes the miners (SPEC §17.3).
    pub consumption_includes_miners: bool,
}

impl EnergySource {
    /// What the decisional context says of this source.
    pub fn facts(&self) -> SourceFacts<'_> {
        SourceFacts {
            id: &self.id,
            name: self.name.as_deref(),
            source_type: self.source_type,
            nominal_power_max: self.nominal_power_max,
            storage_capacity: self.storage_capacity,
        }
    }
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
pub struct Unit {
    /// Its name, unique among units.
    pub id: String,
    /// Where it is in the config file (`units[0]`), for messages.
    #[serde(skip)]
    pub at: String,
    /// A disabled unit is neither read nor commanded.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The energy source whose surplus its miners follow.
    pub energy_source: String,
    /// The pool tracker whose data its context carries (`mining_performance`).
    pub tracker: Option<String>,
    /// Its miners, in priority order.
    #[serde(default)]
    pub miners: Vec<String>,
    /// Who is told of its commands and failures.
    #[serde(default)]
    pub notifiers: Vec<String>,
    /// Where its states are published and its mode and targets are read from (SPEC §21).
    #[serde(default)]
    pub publishers: Vec<String>,
    /// An Edge Mining policy file (start and stop rules), relative to the config.
    pub policy: Option<PathBuf>,
    /// A unit's rule files (`rules:`), as opposed to one `policy` file.
    pub rules: Option<RuleFiles>,
    /// A unit's safety limits (`safety:`): stops whatever the rules say.
    #[serde(default)]
    pub safety: Safety,
    /// Hysteresis, verification and the stagger of starts.
    #[serde(default)]
    pub guards: Guards,
    /// How a miner is stopped: `sleep` (mining control), `power_off` (its plug) or
    /// `sleep_then_power_off`.
    #[serde(default)]
    pub stop_mode: StopMode,
    /// With `sleep_then_power_off`: how long a miner sleeps before its plug is switched off.
    pub power_off_after: Option<Span>,
    /// The home-load profile whose history and forecasts its context carries.
    pub home_loads: Option<String>,
    /// The climate zones its context carries, in order.
    #[serde(default)]
    pub climate_zones: Vec<String>,
    /// Share the energy source's budget between the unit's miners (SPEC §17.2).
    pub allocation: Option<crate::core::allocation::Allocation>,
}

/// Extra HTTP headers a component sends.
pub type Headers = BTreeMap<String, String>;

fn yes() -> bool {
    true
}
