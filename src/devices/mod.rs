//! Miner controllers: the feature traits they implement and the registry of controller
//! types. Each type is one file (its settings, the features they provide, how it is built,
//! its protocol) and one line in `TYPES`.

pub mod antminer;
pub mod auradine;
pub mod avalon;
pub mod bitaxe;
pub mod braiins_os;
pub mod cgminer;
pub mod epic;
pub mod home_assistant;
pub mod http;
pub mod luxos;
pub mod shelly;
pub mod simulated;
pub mod tasmota;
pub mod vnish;
pub mod whatsminer;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use crate::config::model::{Config, Miner};
use crate::config::spec::{ComponentSettings, ComponentType, Typed};
use crate::core::feature::FeatureType;
use crate::core::reading::MinerReading;
use crate::sim::SimWorld;
use crate::transport::{Call, InputError, Timed};

/// Every controller type, in the order `types` and the schema list them.
pub const TYPES: &[&dyn ControllerType] = &[
    &simulated::TYPE,
    &cgminer::TYPE,
    &whatsminer::TYPE,
    &avalon::TYPE,
    &luxos::TYPE,
    &antminer::TYPE,
    &braiins_os::TYPE,
    &bitaxe::TYPE,
    &vnish::TYPE,
    &epic::TYPE,
    &auradine::TYPE,
    &shelly::TYPE,
    &tasmota::TYPE,
    &home_assistant::TYPE,
    &http::TYPE,
];

/// Reads monitoring and info features in one poll.
pub trait Monitor {
    fn read(&self, wanted: &[FeatureType], call: &Call) -> Result<MinerReading, InputError>;

    /// The one CGMiner multi-command that gives `read` all it needs, if there is one: the
    /// cycle sends it to every such miner at once before `read` runs.
    fn opening(&self, _budget: std::time::Duration) -> Option<crate::transport::cgminer::Opening<'_>> {
        None
    }
}

/// Start and stop mining in software (pause/resume, sleep/wake).
pub trait MiningControl {
    fn start_mining(&self, call: &Call) -> Result<(), InputError>;
    fn stop_mining(&self, call: &Call) -> Result<(), InputError>;
}

/// Switch the miner's power (a smart plug or relay).
pub trait PowerControl {
    fn power_on(&self, call: &Call) -> Result<(), InputError>;
    fn power_off(&self, call: &Call) -> Result<(), InputError>;
}

/// What a firmware reports of its power target (SPEC §16).
pub use crate::core::reading::PowerTarget;

/// A target as the firmware took it: the watts the chosen lever stands for (a profile, a
/// preset, a mode), and whether the write restarts the miner.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    pub watts: f64,
    /// The lever, when it is not a watt target (`profile 3250W`, `preset 3495`).
    pub lever: Option<String>,
    pub restarts: bool,
}

/// Read and set a power target in watts (`power_target_control`).
pub trait PowerTargetControl {
    fn target(&self, call: &Call) -> Result<PowerTarget, InputError>;
    /// Sets `watts`, already within the bounds; a firmware without a watt target takes its
    /// nearest lever at or below it.
    fn set_target(&self, watts: f64, call: &Call) -> Result<Applied, InputError>;
    /// A write restarts the miner, so allocation treats it as fixed-power (SPEC §24).
    fn restarts(&self) -> bool {
        false
    }

    /// Whether a thermal management that target writes pause runs now (LuxOS ATM); `None`
    /// for a firmware whose writes pause nothing.
    fn thermal_management(&self, _call: &Call) -> Result<Option<bool>, InputError> {
        Ok(None)
    }

    /// Turns that thermal management back on, after a write that was cut off (SPEC §24).
    fn restore_thermal_management(&self, _call: &Call) -> Result<(), InputError> {
        Ok(())
    }
}

/// The highest of `levels` (name, watts) at or below `watts`, else the lowest.
pub fn lever_at_or_below(levels: &[(String, f64)], watts: f64) -> Option<&(String, f64)> {
    let below = levels.iter().filter(|(_, w)| *w <= watts).max_by(|a, b| a.1.total_cmp(&b.1));
    below.or_else(|| levels.iter().min_by(|a, b| a.1.total_cmp(&b.1)))
}

/// A configured controller: the traits of the features its type provides.
pub trait Controller: Send + Sync {
    fn monitor(&self) -> Option<&dyn Monitor>;
    fn mining_control(&self) -> Option<&dyn MiningControl> {
        None
    }
    fn power_control(&self) -> Option<&dyn PowerControl> {
        None
    }
    fn power_target(&self) -> Option<&dyn PowerTargetControl> {
        None
    }
}

/// What building a controller may use besides its settings.
pub struct Build<'a> {
    pub config: &'a Config,
    /// The controller's id.
    pub id: &'a str,
    pub world: &'a SimWorld,
    /// What devices drew at their lever settings, learned by earlier runs.
    pub learned: &'a crate::core::lever_model::LeverWatts,
}

impl<'a> Build<'a> {
    /// The first miner that uses this controller (the simulation's nominal values).
    pub fn owner(&self) -> Option<&'a Miner> {
        self.config
            .miners
            .iter()
            .find(|m| m.controllers.iter().any(|c| c == self.id) || m.features.iter().any(|f| f.controller == self.id))
    }
}

/// A controller type: what the loader needs, plus how to build a controller.
pub trait ControllerType: ComponentType {
    fn build<'a>(&self, settings: &'a dyn ComponentSettings, build: &Build<'a>) -> Option<Box<dyn Controller + 'a>>;
}

/// The settings struct of a controller type: how a controller is built from it.
pub trait ControllerSettings: ComponentSettings + DeserializeOwned + JsonSchema {
    /// None when what it needs is missing (a service checked elsewhere).
    fn build<'a>(&'a self, build: &Build<'a>) -> Option<Box<dyn Controller + 'a>>;
}

impl<S: ControllerSettings> ControllerType for Typed<S> {
    fn build<'a>(&self, settings: &'a dyn ComponentSettings, build: &Build<'a>) -> Option<Box<dyn Controller + 'a>> {
        settings.downcast::<S>()?.build(build)
    }
}

/// The built controllers of a config, by id, each with its own `timeout`.
pub type Controllers<'a> = BTreeMap<String, Timed<Box<dyn Controller + 'a>>>;

/// Builds every controller of the config, by id.
pub fn build<'a>(
    config: &'a Config,
    world: &'a SimWorld,
    learned: &'a crate::core::lever_model::LeverWatts,
) -> Controllers<'a> {
    let mut controllers = Controllers::new();
    for controller in &config.controllers {
        let Some(kind) = TYPES.iter().find(|t| t.info().name == controller.type_name) else { continue };
        let context = Build { config, id: &controller.id, world, learned };
        if let Some(built) = kind.build(controller.settings.as_ref(), &context) {
            controllers.insert(controller.id.clone(), Timed { inner: built, timeout: controller.timeout });
        }
    }
    controllers
}

/// Features from the roles a type's settings configure: (configured, features it gives).
pub fn features_of_roles(roles: &[(bool, &[FeatureType])]) -> Vec<FeatureType> {
    let mut out: Vec<FeatureType> = Vec::new();
    for feature in roles.iter().filter(|(on, _)| *on).flat_map(|(_, f)| f.iter().copied()) {
        if !out.contains(&feature) {
            out.push(feature);
        }
    }
    out
}
