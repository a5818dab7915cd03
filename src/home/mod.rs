//! The home around the miners (SPEC §18): home-load profiles with their appliances, and
//! climate zones. Their config, and reading each appliance's power and each zone's
//! temperature this cycle. The sections they feed are built by `core::home_load` and
//! `core::climate`.

pub mod sensor;

use serde::Deserialize;

use crate::config::Config;
use crate::core::climate::Slot;
use crate::core::home_load::{Category, Provider};
use crate::duration::Span;
use crate::transport::{Call, InputError};
use sensor::HttpValue;

/// A `home_loads:` profile: the house's total history, and its appliances.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HomeLoadProfile {
    pub id: String,
    /// How the forecasts are made from the history.
    #[serde(default)]
    pub forecast: Provider,
    /// How much history is kept for the forecasts (bounded by `settings.retention`).
    #[serde(default = "four_weeks")]
    pub history: Span,
    /// On first use, fill each Home Assistant appliance's history (up to a week) from
    /// Home Assistant's history API.
    #[serde(default)]
    pub backfill: bool,
    #[serde(default)]
    pub devices: Vec<LoadDevice>,
}

fn four_weeks() -> Span {
    Span::secs(28 * 86_400)
}

/// An appliance whose power is sampled every cycle: a Home Assistant sensor
/// (`service` + `power`), a value in an HTTP reply (`http`), or a fixed `simulated` power.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadDevice {
    /// Letters, digits and `_`: the name rules use (`home_load.devices.<name>`).
    pub name: String,
    pub category: Category,
    pub service: Option<String>,
    /// The Home Assistant entity of its power (W, kW scaled).
    pub power: Option<String>,
    pub http: Option<HttpValue>,
    /// A fixed power, W.
    pub simulated: Option<f64>,
}

/// A `climate_zones:` entry: a room, its thermometer and its target.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClimateZone {
    /// Letters, digits and `_`: the name rules use (`climate.zones.<name>`).
    pub name: String,
    pub monitor: ClimateMonitor,
    /// °C outside every schedule slot.
    pub target: Option<f64>,
    /// °C either side of the target before `heating_demand` changes.
    #[serde(default = "half_a_degree")]
    pub hysteresis: f64,
    #[serde(default)]
    pub schedule: Vec<Slot>,
}

fn half_a_degree() -> f64 {
    0.5
}

/// Where a zone's temperature comes from; `unit` (C, F, K) overrides the sensor's own.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClimateMonitor {
    HomeAssistant { service: String, temperature: String, humidity: Option<String>, unit: Option<String> },
    Http { temperature: HttpValue, humidity: Option<HttpValue>, unit: Option<String> },
    Simulated { temperature: f64, humidity: Option<f64> },
}

/// One zone's reading: °C and %.
pub type ZoneValues = (f64, Option<f64>);

/// What an appliance draws now, W.
pub fn read_device(config: &Config, device: &LoadDevice, call: &Call) -> Result<f64, InputError> {
    let watts = match (&device.service, &device.power, &device.http, device.simulated) {
        (Some(service), Some(entity), _, _) => sensor::entity(config, service, entity, true, call)?.0,
        (_, _, Some(http), _) => sensor::http(http, call)?,
        (_, _, _, Some(watts)) => watts,
        _ => return Err(InputError::not_configured(format!("device `{}` has no power sensor", device.name))),
    };
    Ok(watts.max(0.0))
}

/// How far back a backfill reaches: a week, or the profile's history if shorter.
pub fn backfill_span(profile: &HomeLoadProfile) -> i64 {
    profile.history.as_secs_i64().min(7 * 86_400)
}

/// An appliance's recorded power from Home Assistant's history, for a backfill; `None` for
/// an appliance whose sensor is not in Home Assistant.
pub fn read_history(
    config: &Config,
    device: &LoadDevice,
    window: (i64, i64),
    call: &Call,
) -> Option<Result<Vec<crate::core::home_load::Sample>, InputError>> {
    let (Some(service), Some(entity)) = (&device.service, &device.power) else { return None };
    let client = crate::services::home_assistant(config, service)?;
    let instant = |at: i64| jiff::Timestamp::from_second(at).map_err(|e| InputError::invalid(e.to_string()));
    let points = instant(window.0).and_then(|start| {
        let quantity = crate::transport::home_assistant::Quantity::Power;
        client.history(entity, (start, instant(window.1)?), quantity, call)
    });
    Some(points.map(|p| {
        p.into_iter().map(|(at, watts)| crate::core::home_load::Sample { at, watts: watts.max(0.0) }).collect()
    }))
}

/// A zone's temperature (°C) and humidity now.
pub fn read_zone(config: &Config, zone: &ClimateZone, call: &Call) -> Result<ZoneValues, InputError> {
    let in_celsius = |value: f64, unit: Option<&str>| {
        crate::core::climate::celsius(value, unit)
            .ok_or_else(|| InputError::invalid(format!("zone `{}`: unknown temperature unit {unit:?}", zone.name)))
    };
    match &zone.monitor {
        ClimateMonitor::HomeAssistant { service, temperature, humidity, unit } => {
            let (value, sensor_unit) = sensor::entity(config, service, temperature, false, call)?;
            let celsius = in_celsius(value, unit.as_deref().or(sensor_unit.as_deref()))?;
            let humidity = match humidity {
                Some(entity) => sensor::entity(config, service, entity, false, call).ok().map(|(h, _)| h),
                None => None,
            };
            Ok((celsius, humidity))
        }
        ClimateMonitor::Http { temperature, humidity, unit } => {
            let celsius = in_celsius(sensor::http(temperature, call)?, unit.as_deref())?;
            Ok((celsius, humidity.as_ref().and_then(|h| sensor::http(h, call).ok())))
        }
        ClimateMonitor::Simulated { temperature, humidity } => Ok((*temperature, *humidity)),
    }
}
