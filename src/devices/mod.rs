//! Miner controllers: the feature traits they implement, which features each config type
//! provides, and building the controllers of a config. One file per controller type.

pub mod antminer;
pub mod avalon;
pub mod bitaxe;
pub mod braiins_os;
pub mod cgminer;
pub mod home_assistant;
pub mod http;
pub mod luxos;
pub mod shelly;
pub mod simulated;
pub mod tasmota;
pub mod whatsminer;

use std::collections::BTreeMap;

use crate::config::model::{Config, ControllerKind};
use crate::core::feature::FeatureType;
use crate::core::reading::MinerReading;
use crate::sim::SimWorld;
use crate::transport::{Call, DeviceError};

/// Reads monitoring and info features in one poll.
pub trait Monitor {
    fn read(&self, wanted: &[FeatureType], call: &Call) -> Result<MinerReading, DeviceError>;
}

/// Start and stop mining in software (pause/resume, sleep/wake).
pub trait MiningControl {
    fn start_mining(&self, call: &Call) -> Result<(), DeviceError>;
    fn stop_mining(&self, call: &Call) -> Result<(), DeviceError>;
}

/// Switch the miner's power (a smart plug or relay).
pub trait PowerControl {
    fn power_on(&self, call: &Call) -> Result<(), DeviceError>;
    fn power_off(&self, call: &Call) -> Result<(), DeviceError>;
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
}

/// The features a controller of this config can provide (SPEC §4.4).
pub fn capabilities(kind: &ControllerKind) -> Vec<FeatureType> {
    use FeatureType::*;
    let cgminer = [
        HashrateMonitoring,
        StatusMonitoring,
        HashboardMonitoring,
        FanSpeedInternalMonitoring,
        OperationalMonitoring,
        DeviceInfoDetection,
    ];
    let with = |extra: &[FeatureType]| -> Vec<FeatureType> { cgminer.iter().chain(extra).copied().collect() };
    match kind {
        ControllerKind::Simulated(_) => FeatureType::ALL.to_vec(),
        ControllerKind::Cgminer(_) => with(&[PowerMonitoring]),
        ControllerKind::Antminer(_) => with(&[MiningControl, MaxHashrateDetection]),
        ControllerKind::BraiinsOs(_) => with(&[MiningControl, PowerMonitoring, MaxPowerDetection]),
        ControllerKind::Luxos(_) => with(&[MiningControl, PowerMonitoring]),
        ControllerKind::Avalon(_) => with(&[MiningControl]),
        ControllerKind::Whatsminer(_) => with(&[PowerMonitoring, MaxPowerDetection]),
        ControllerKind::Bitaxe(_) => vec![
            HashrateMonitoring,
            PowerMonitoring,
            StatusMonitoring,
            HashboardMonitoring,
            FanSpeedInternalMonitoring,
            OperationalMonitoring,
            DeviceInfoDetection,
        ],
        ControllerKind::Shelly(_) | ControllerKind::Tasmota(_) => vec![PowerControl, PowerMonitoring, StatusMonitoring],
        ControllerKind::HomeAssistant(ha) => {
            let roles: [(bool, &[FeatureType]); 7] = [
                (ha.switch.is_some(), &[PowerControl, StatusMonitoring]),
                (ha.mining_switch.is_some(), &[MiningControl, StatusMonitoring]),
                (ha.power.is_some(), &[PowerMonitoring]),
                (ha.hashrate.is_some(), &[HashrateMonitoring]),
                (ha.inlet_temperature.is_some(), &[InletTemperatureMonitoring]),
                (ha.outlet_temperature.is_some(), &[OutletTemperatureMonitoring]),
                (ha.external_fan.is_some(), &[FanSpeedExternalMonitoring, ExternalFanControl]),
            ];
            dedup(roles.iter().filter(|(on, _)| *on).flat_map(|(_, f)| f.iter().copied()))
        }
        ControllerKind::Http(http) => {
            let roles: [(bool, &[FeatureType]); 5] = [
                (http.status.is_some(), &[StatusMonitoring]),
                (http.power.is_some(), &[PowerMonitoring]),
                (http.hashrate.is_some(), &[HashrateMonitoring]),
                (http.inlet_temperature.is_some(), &[InletTemperatureMonitoring]),
                (http.start.is_some() && http.stop.is_some(), &[MiningControl]),
            ];
            let mut features = dedup(roles.iter().filter(|(on, _)| *on).flat_map(|(_, f)| f.iter().copied()));
            if http.power_on.is_some() && http.power_off.is_some() {
                features.push(PowerControl);
            }
            features
        }
    }
}

fn dedup(features: impl Iterator<Item = FeatureType>) -> Vec<FeatureType> {
    let mut out: Vec<FeatureType> = Vec::new();
    for feature in features {
        if !out.contains(&feature) {
            out.push(feature);
        }
    }
    out
}

/// What a person should know about a controller type's features, if anything.
pub fn note(kind: &ControllerKind) -> Option<&'static str> {
    match kind {
        ControllerKind::Whatsminer(_) => Some(whatsminer::NOTE),
        ControllerKind::Bitaxe(_) => Some(bitaxe::NOTE),
        _ => None,
    }
}

/// The type name of a controller this build cannot drive yet, if it is one.
pub fn unsupported(kind: &ControllerKind) -> Option<&'static str> {
    match kind {
        ControllerKind::Simulated(_)
        | ControllerKind::Cgminer(_)
        | ControllerKind::Whatsminer(_)
        | ControllerKind::Avalon(_)
        | ControllerKind::Luxos(_)
        | ControllerKind::Antminer(_)
        | ControllerKind::BraiinsOs(_)
        | ControllerKind::Bitaxe(_)
        | ControllerKind::Shelly(_)
        | ControllerKind::Tasmota(_)
        | ControllerKind::HomeAssistant(_)
        | ControllerKind::Http(_) => None,
    }
}

/// Builds every controller of the config, by id.
pub fn build<'a>(config: &'a Config, world: &'a SimWorld) -> BTreeMap<String, Box<dyn Controller + 'a>> {
    let mut controllers: BTreeMap<String, Box<dyn Controller + 'a>> = BTreeMap::new();
    for controller in &config.controllers {
        let built: Box<dyn Controller + 'a> = match &controller.kind {
            ControllerKind::Simulated(settings) => {
                Box::new(simulated::SimulatedMiner::new(&controller.id, settings, owner(config, &controller.id), world))
            }
            ControllerKind::Cgminer(settings) => Box::new(cgminer::Cgminer::new(settings)),
            ControllerKind::Whatsminer(settings) => Box::new(whatsminer::Whatsminer::new(settings)),
            ControllerKind::Avalon(settings) => Box::new(avalon::Avalon::new(settings)),
            ControllerKind::Luxos(settings) => Box::new(luxos::Luxos::new(settings)),
            ControllerKind::Antminer(settings) => Box::new(antminer::Antminer::new(settings)),
            ControllerKind::BraiinsOs(settings) => Box::new(braiins_os::BraiinsOs::new(settings)),
            ControllerKind::Bitaxe(settings) => Box::new(bitaxe::Bitaxe::new(settings)),
            ControllerKind::Shelly(settings) => Box::new(shelly::Shelly::new(settings)),
            ControllerKind::Tasmota(settings) => Box::new(tasmota::Tasmota::new(settings)),
            ControllerKind::Http(settings) => Box::new(http::HttpController::new(settings)),
            ControllerKind::HomeAssistant(roles) => match service(config, &roles.service) {
                Some(client) => Box::new(home_assistant::HomeAssistantController::new(client, roles)),
                None => continue,
            },
        };
        controllers.insert(controller.id.clone(), built);
    }
    controllers
}

/// The Home Assistant client of a service id.
pub fn service(config: &Config, id: &str) -> Option<crate::transport::home_assistant::Client> {
    config.services.iter().find(|s| s.id == id).map(|s| match &s.kind {
        crate::config::model::ServiceKind::HomeAssistant(settings) => {
            crate::transport::home_assistant::Client::new(settings)
        }
    })
}

/// The first miner that uses a controller (its nominal values are the simulation's defaults).
fn owner<'a>(config: &'a Config, controller: &str) -> Option<&'a crate::config::model::Miner> {
    config.miners.iter().find(|m| {
        m.controllers.iter().any(|c| c == controller) || m.features.iter().any(|f| f.controller == controller)
    })
}
