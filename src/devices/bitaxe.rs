//! `bitaxe`: Bitaxe, NerdAxe, NerdQAxe and other AxeOS (ESP-Miner) devices,
//! `GET /api/system/info`.
//!
//! AxeOS cannot pause mining; start and stop a Bitaxe with a plug (power_control).

use serde::Deserialize;
use serde_json::Value;

use crate::config::spec::{Address, ComponentSettings, TypeInfo, Typed};
use crate::core::feature::FeatureType;
use crate::core::reading::{DeviceInfo, Hashboard, MinerReading};
use crate::core::status::MinerStatus;
use crate::devices::{Build, Controller, ControllerSettings, Monitor};
use crate::transport::cgminer::reply::{field, field_text};
use crate::transport::http::{Request, fetch_json};
use crate::transport::{Call, InputError};

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BitaxeConfig {
    /// The AxeOS web address, e.g. `http://192.168.1.20`
    pub url: String,
}

pub const TYPE: Typed<BitaxeConfig> = Typed::new(
    TypeInfo::new(
        "bitaxe",
        "Bitaxe and other AxeOS (ESP-Miner) devices over HTTP.",
        "{id: bitaxe, type: bitaxe, url: \"http://192.168.1.20\"}",
    )
    .miner(Address::Url)
    .note("no software pause in AxeOS: pair it with a plug (power_control) to start and stop it"),
);

impl ComponentSettings for BitaxeConfig {
    fn features(&self) -> Vec<FeatureType> {
        use FeatureType::*;
        vec![
            HashrateMonitoring,
            PowerMonitoring,
            StatusMonitoring,
            HashboardMonitoring,
            FanSpeedInternalMonitoring,
            OperationalMonitoring,
            DeviceInfoDetection,
        ]
    }
}

impl ControllerSettings for BitaxeConfig {
    fn build<'a>(&'a self, _: &Build<'a>) -> Option<Box<dyn Controller + 'a>> {
        Some(Box::new(Bitaxe::new(self)))
    }
}

pub struct Bitaxe {
    url: String,
}

impl Bitaxe {
    pub fn new(config: &BitaxeConfig) -> Bitaxe {
        Bitaxe { url: config.url.trim_end_matches('/').to_string() }
    }
}

/// The reading of an `/api/system/info` reply (hashRate in GH/s, coreVoltage in mV).
pub fn reading_of(info: &Value) -> Result<MinerReading, InputError> {
    let hashrate = field(info, "hashRate").map(|gh| (gh / 1e3).max(0.0));
    if hashrate.is_none() && field(info, "power").is_none() {
        return Err(InputError::invalid("the reply has neither hashRate nor power: not an AxeOS system info"));
    }
    let power = field(info, "power").filter(|w| *w >= 0.0);
    let paused = info.get("miningPaused").and_then(Value::as_bool) == Some(true);
    let status = match hashrate {
        _ if paused => MinerStatus::Off,
        Some(h) if h > 0.0 => MinerStatus::On,
        Some(_) => MinerStatus::Error,
        None => MinerStatus::Unknown,
    };
    let fans: Vec<f64> = field(info, "fanrpm").into_iter().collect();
    Ok(MinerReading {
        status: Some(status),
        hashrate,
        power,
        hashboards: Some(vec![Hashboard {
            index: 0,
            chip_temperature: field(info, "temp").filter(|t| *t > 0.0),
            board_temperature: field(info, "vrTemp").filter(|t| *t > 0.0),
            voltage: field(info, "coreVoltageActual").or_else(|| field(info, "coreVoltage")).map(|mv| mv / 1000.0),
            frequency: field(info, "frequency"),
            hash_rate: hashrate,
            nominal_hash_rate: None,
        }]),
        internal_fans: (!fans.is_empty()).then_some(fans),
        uptime: field(info, "uptimeSeconds").map(|s| s.max(0.0) as u64),
        device_info: Some(DeviceInfo {
            // NerdAxe and NerdQAxe name themselves; a Bitaxe gives its ASIC.
            model: field_text(info, "deviceModel")
                .or_else(|| field_text(info, "ASICModel").map(|asic| format!("Bitaxe ({asic})"))),
            firmware_type: Some("AxeOS".into()),
            firmware_version: field_text(info, "version"),
            mac_address: field_text(info, "macAddr"),
            hostname: field_text(info, "hostname"),
            hashboard_count: Some(1),
            chip_count: field(info, "asicCount").map(|c| c as u32),
            fan_count: Some(1),
            ..DeviceInfo::default()
        }),
        ..MinerReading::default()
    })
}

impl Monitor for Bitaxe {
    fn read(&self, _wanted: &[FeatureType], call: &Call) -> Result<MinerReading, InputError> {
        let budget = call.budget().ok_or_else(InputError::deadline)?;
        let info = fetch_json(&Request::get(&format!("{}/api/system/info", self.url)), budget)?;
        reading_of(&info)
    }
}

impl Controller for Bitaxe {
    fn monitor(&self) -> Option<&dyn Monitor> {
        Some(self)
    }
}
