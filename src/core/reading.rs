//! What one poll learned: a miner's readings, an energy monitor's readings, a forecast.
//! Quantities are in base units: TH/s, W, Wh, °C, %, seconds.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::core::status::MinerStatus;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Hashboard {
    pub index: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chip_temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub board_temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voltage: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frequency: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash_rate: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nominal_hash_rate: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DeviceInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub firmware_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub firmware_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mac_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hashboard_count: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chip_count: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fan_count: Option<u32>,
}

/// Everything a controller answered about a miner; `None` is "not read".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MinerReading {
    pub status: Option<MinerStatus>,
    /// The relay of a power-control provider: `Some(false)` means the miner has no power.
    pub relay_on: Option<bool>,
    pub hashrate: Option<f64>,
    pub power: Option<f64>,
    pub hashboards: Option<Vec<Hashboard>>,
    pub inlet_temperature: Option<f64>,
    pub outlet_temperature: Option<f64>,
    pub internal_fans: Option<Vec<f64>>,
    pub external_fan: Option<f64>,
    pub uptime: Option<u64>,
    pub blocks_found: Option<u64>,
    pub max_power: Option<f64>,
    pub max_hashrate: Option<f64>,
    pub device_info: Option<DeviceInfo>,
    /// The power target the firmware holds, W (SPEC §16).
    pub power_target: Option<PowerTarget>,
}

/// A firmware's power target: the watts it holds and the range it accepts.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PowerTarget {
    /// W; for a profile or preset, the watts that lever stands for.
    pub watts: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// The firmware says it is still tuning or ramping toward the target: a measured power
    /// off the target is not yet a failure (SPEC §24, for at most 15 minutes).
    pub settling: bool,
    /// The setting the firmware holds where it has no watt target (a Bitaxe's frequency in
    /// MHz), so what it draws there can be learned ([`crate::core::lever_model`]).
    pub lever: Option<f64>,
}

impl PowerTarget {
    /// `watts` within the bounds, and whether it had to be moved.
    pub fn clamp(&self, watts: f64) -> (f64, bool) {
        let low = self.min.unwrap_or(f64::MIN);
        let high = self.max.unwrap_or(f64::MAX).max(low);
        let clamped = watts.clamp(low, high);
        (clamped, clamped != watts)
    }
}

/// A miner's merged reading with, for each field, the controller that provided it.
#[derive(Debug, Clone, Default)]
pub struct MinerState {
    pub status: MinerStatus,
    pub reading: MinerReading,
    pub sources: BTreeMap<String, String>,
    /// Inputs that failed while polling this miner: (controller, reason).
    pub failures: Vec<(String, crate::core::error::InputError)>,
    /// Each readable feature the miner is bound to, and whether it produced a value.
    pub features: Vec<(crate::core::feature::FeatureType, FeatureState)>,
    /// Writing its power target restarts it (Whatsminer): allocation holds it at fixed power.
    pub target_restarts: bool,
}

impl MinerState {
    /// What it draws now, W: its measured power while on or starting, else 0.
    pub fn drawn(&self) -> f64 {
        match self.status {
            crate::core::status::MinerStatus::On | crate::core::status::MinerStatus::Starting => {
                self.reading.power.unwrap_or(0.0).max(0.0)
            }
            _ => 0.0,
        }
    }

    /// The bound features that a controller answered for but without a value this cycle.
    pub fn empty_features(&self) -> Vec<crate::core::feature::FeatureType> {
        self.features.iter().filter(|(_, s)| *s == FeatureState::Empty).map(|(f, _)| *f).collect()
    }
}

/// What one bound feature gave this cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureState {
    /// A value was read.
    Up,
    /// A provider answered, but its reply carried no value for it.
    Empty,
    /// Every provider failed (the failures say why), or none was asked.
    Failed,
}

/// An energy monitor's reading. Signs: grid + importing, battery + charging.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EnergyReading {
    pub production: Option<f64>,
    pub consumption: Option<f64>,
    pub grid: Option<f64>,
    pub battery_soc: Option<f64>,
    pub battery_power: Option<f64>,
    pub battery_remaining: Option<f64>,
    /// Unix seconds when the values were read (the oldest, when sensors report their own).
    pub at: i64,
    /// Sensors that gave no value this cycle (unavailable, unknown, errors): failed inputs.
    pub problems: Vec<crate::core::error::InputError>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ForecastReading {
    pub next_hour_power: Option<f64>,
    pub avg_next_4_hours_power: Option<f64>,
    pub next_hour_energy: Option<f64>,
    pub at: i64,
}
