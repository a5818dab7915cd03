//! `home_assistant`: a miner or a socket integrated in Home Assistant, entity by role.
//!
//! `switch` is the socket (power control, and status when nothing better says); a
//! `mining_switch` (for example hass-miner's "active" switch) pauses and resumes mining;
//! `power`, `hashrate`, temperatures and the external fan are read from sensors.

use serde::Deserialize;

use crate::config::spec::{ComponentSettings, SettingsCheck, TypeInfo, Typed};
use crate::core::feature::FeatureType;
use crate::core::reading::MinerReading;
use crate::core::status::MinerStatus;
use crate::devices::{Build, Controller, ControllerSettings, MiningControl, Monitor, PowerControl, features_of_roles};
use crate::transport::home_assistant::{Client, Quantity};
use crate::transport::{Call, InputError};

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HomeAssistantControllerConfig {
    /// The id of a `home_assistant` service.
    pub service: String,
    pub switch: Option<String>,
    pub mining_switch: Option<String>,
    pub power: Option<String>,
    pub hashrate: Option<String>,
    pub inlet_temperature: Option<String>,
    pub outlet_temperature: Option<String>,
    pub external_fan: Option<String>,
    /// A `number` entity holding the power target (hass-miner's "Power Limit").
    pub power_limit: Option<String>,
}

pub const TYPE: Typed<HomeAssistantControllerConfig> = Typed::new(TypeInfo::new(
    "home_assistant",
    "A miner or a socket integrated in Home Assistant, one entity per role.",
    "{id: socket, type: home_assistant, service: ha, switch: switch.miner_socket, power: sensor.miner_power}",
));

impl ComponentSettings for HomeAssistantControllerConfig {
    /// Those of the roles configured.
    fn features(&self) -> Vec<FeatureType> {
        use FeatureType::*;
        features_of_roles(&[
            (self.switch.is_some(), &[PowerControl, StatusMonitoring]),
            (self.mining_switch.is_some(), &[MiningControl, StatusMonitoring]),
            (self.power.is_some(), &[PowerMonitoring]),
            (self.hashrate.is_some(), &[HashrateMonitoring]),
            (self.inlet_temperature.is_some(), &[InletTemperatureMonitoring]),
            (self.outlet_temperature.is_some(), &[OutletTemperatureMonitoring]),
            (self.external_fan.is_some(), &[FanSpeedExternalMonitoring, ExternalFanControl]),
            (self.power_limit.is_some(), &[PowerTargetControl]),
        ])
    }

    fn check(&self, check: &mut SettingsCheck<'_>) {
        check.service("service", &self.service);
    }
}

impl ControllerSettings for HomeAssistantControllerConfig {
    fn build<'a>(&'a self, build: &Build<'a>) -> Option<Box<dyn Controller + 'a>> {
        let client = crate::services::home_assistant(build.config, &self.service)?;
        Some(Box::new(HomeAssistantController::new(client, self)))
    }
}

pub struct HomeAssistantController {
    client: Client,
    roles: HomeAssistantControllerConfig,
}

impl HomeAssistantController {
    pub fn new(client: Client, roles: &HomeAssistantControllerConfig) -> HomeAssistantController {
        HomeAssistantController { client, roles: roles.clone() }
    }

    fn number(&self, entity: &Option<String>, quantity: Quantity, call: &Call) -> Result<Option<f64>, InputError> {
        let Some(entity) = entity else { return Ok(None) };
        Ok(self.client.number(entity, quantity, call)?.map(|(v, _)| v))
    }
}

/// Hashrate entities come in TH/s, GH/s or H/s; the unit says which.
fn hashrate_ths(client: &Client, entity: &str, call: &Call) -> Result<Option<f64>, InputError> {
    let state = client.state(entity, call)?;
    let Some(text) = state.value else { return Ok(None) };
    let value: f64 = text.parse().map_err(|_| InputError::invalid(format!("`{entity}` is `{text}`, not a number")))?;
    let unit = state.unit.unwrap_or_else(|| "TH/s".into());
    Ok(crate::core::performance::to_terahashes(value, &unit))
}

impl Monitor for HomeAssistantController {
    fn read(&self, wanted: &[FeatureType], call: &Call) -> Result<MinerReading, InputError> {
        let wants = |f: FeatureType| wanted.is_empty() || wanted.contains(&f);
        let mut reading = MinerReading::default();
        if let Some(switch) = &self.roles.switch {
            reading.relay_on = self.client.switch_state(switch, call)?;
        }
        let mining = match (&self.roles.mining_switch, wants(FeatureType::StatusMonitoring)) {
            (Some(entity), true) => self.client.switch_state(entity, call)?,
            _ => None,
        };
        reading.status = match (reading.relay_on, mining) {
            (Some(false), _) => Some(MinerStatus::Off),
            (_, Some(active)) => Some(if active { MinerStatus::On } else { MinerStatus::Off }),
            (Some(true), None) => Some(MinerStatus::On),
            (None, None) => None,
        };
        if wants(FeatureType::PowerMonitoring) {
            reading.power = self.number(&self.roles.power, Quantity::Power, call)?;
        }
        if let Some(entity) = self.roles.hashrate.as_ref().filter(|_| wants(FeatureType::HashrateMonitoring)) {
            reading.hashrate = hashrate_ths(&self.client, entity, call)?;
        }
        if wants(FeatureType::InletTemperatureMonitoring) {
            reading.inlet_temperature = self.number(&self.roles.inlet_temperature, Quantity::Plain, call)?;
        }
        if wants(FeatureType::OutletTemperatureMonitoring) {
            reading.outlet_temperature = self.number(&self.roles.outlet_temperature, Quantity::Plain, call)?;
        }
        if wants(FeatureType::FanSpeedExternalMonitoring) {
            reading.external_fan = self.number(&self.roles.external_fan, Quantity::Plain, call)?;
        }
        Ok(reading)
    }
}

impl MiningControl for HomeAssistantController {
    fn start_mining(&self, call: &Call) -> Result<(), InputError> {
        let entity =
            self.roles.mining_switch.as_deref().ok_or_else(|| InputError::not_configured("no mining_switch entity"))?;
        self.client.turn(entity, true, call)
    }

    fn stop_mining(&self, call: &Call) -> Result<(), InputError> {
        let entity =
            self.roles.mining_switch.as_deref().ok_or_else(|| InputError::not_configured("no mining_switch entity"))?;
        self.client.turn(entity, false, call)
    }
}

impl PowerControl for HomeAssistantController {
    fn power_on(&self, call: &Call) -> Result<(), InputError> {
        let entity = self.roles.switch.as_deref().ok_or_else(|| InputError::not_configured("no switch entity"))?;
        self.client.turn(entity, true, call)
    }

    fn power_off(&self, call: &Call) -> Result<(), InputError> {
        let entity = self.roles.switch.as_deref().ok_or_else(|| InputError::not_configured("no switch entity"))?;
        self.client.turn(entity, false, call)
    }
}

impl crate::devices::PowerTargetControl for HomeAssistantController {
    fn target(&self, call: &Call) -> Result<crate::devices::PowerTarget, InputError> {
        let entity =
            self.roles.power_limit.as_deref().ok_or_else(|| InputError::not_configured("no power_limit entity"))?;
        let state = self.client.state(entity, call)?;
        let attribute = |key: &str| state.attributes.get(key).and_then(crate::transport::extract::as_number);
        Ok(crate::devices::PowerTarget {
            watts: state.value.as_deref().and_then(|v| v.parse().ok()),
            min: attribute("min"),
            max: attribute("max"),
            ..Default::default()
        })
    }

    /// The value on the entity's `step` from its `min`, rounded down (at or below the request).
    fn set_target(&self, watts: f64, call: &Call) -> Result<crate::devices::Applied, InputError> {
        let entity =
            self.roles.power_limit.as_deref().ok_or_else(|| InputError::not_configured("no power_limit entity"))?;
        let state = self.client.state(entity, call)?;
        let attribute = |key: &str| state.attributes.get(key).and_then(crate::transport::extract::as_number);
        let value = match (attribute("step").filter(|s| *s > 0.0), attribute("min")) {
            (Some(step), min) => {
                let base = min.unwrap_or(0.0);
                base + ((watts - base) / step).floor().max(0.0) * step
            }
            (None, _) => watts,
        };
        self.client.set_number(entity, value, call)?;
        Ok(crate::devices::Applied { watts: value, lever: None, restarts: false })
    }
}

impl Controller for HomeAssistantController {
    fn power_target(&self) -> Option<&dyn crate::devices::PowerTargetControl> {
        self.roles.power_limit.as_ref().map(|_| self as &dyn crate::devices::PowerTargetControl)
    }
    fn monitor(&self) -> Option<&dyn Monitor> {
        Some(self)
    }
    fn mining_control(&self) -> Option<&dyn MiningControl> {
        self.roles.mining_switch.is_some().then_some(self as &dyn MiningControl)
    }
    fn power_control(&self) -> Option<&dyn PowerControl> {
        self.roles.switch.is_some().then_some(self as &dyn PowerControl)
    }
}
