//! `cgminer`: any miner that speaks the CGMiner API on port 4028 (read-only).
//!
//! Status: hashing is `on`; reachable but hashing nothing is `error` (a generic cgminer has
//! no notion of paused, so zero hashrate means something is wrong).

use serde::Deserialize;

use crate::config::spec::{Address, ComponentSettings, TypeInfo, Typed};
use crate::core::feature::FeatureType;
use crate::core::reading::MinerReading;
use crate::core::status::MinerStatus;
use crate::devices::{Build, Controller, ControllerSettings, Monitor};
use crate::transport::cgminer::readings::{apply_stats, apply_summary, apply_version, boards_from_devs};
use crate::transport::cgminer::{Client, Opening, Replies};
use crate::transport::{Call, InputError};

pub const TYPE: Typed<CgminerConfig> = Typed::new(
    TypeInfo::new(
        "cgminer",
        "Any miner that speaks the CGMiner API on port 4028 (read-only).",
        "{id: rig-api, type: cgminer, host: 192.168.1.40, port: 4028}",
    )
    .miner(Address::Host),
);

/// The features every CGMiner-API type reads.
pub const FEATURES: [FeatureType; 6] = [
    FeatureType::HashrateMonitoring,
    FeatureType::StatusMonitoring,
    FeatureType::HashboardMonitoring,
    FeatureType::FanSpeedInternalMonitoring,
    FeatureType::OperationalMonitoring,
    FeatureType::DeviceInfoDetection,
];

/// The CGMiner-API features plus a type's own.
pub fn features_with(extra: &[FeatureType]) -> Vec<FeatureType> {
    FEATURES.iter().chain(extra).copied().collect()
}

/// Keys of the `cgminer` type, and the address part of every CGMiner-API type.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CgminerConfig {
    /// The miner's address (name or IP).
    pub host: String,
    /// The CGMiner API port.
    #[serde(default = "default_port")]
    pub port: u16,
}

pub fn default_port() -> u16 {
    4028
}

impl ComponentSettings for CgminerConfig {
    fn features(&self) -> Vec<FeatureType> {
        features_with(&[FeatureType::PowerMonitoring])
    }
}

impl ControllerSettings for CgminerConfig {
    fn build<'a>(&'a self, _: &Build<'a>) -> Option<Box<dyn Controller + 'a>> {
        Some(Box::new(Cgminer::new(self)))
    }
}

pub struct Cgminer {
    client: Client,
}

impl Cgminer {
    pub fn new(config: &CgminerConfig) -> Cgminer {
        Cgminer { client: Client::new(&config.host, config.port) }
    }
}

/// The commands `read_standard` sends besides `summary`: the standard ones and a type's own.
fn standard_optional(extra: &[&'static str]) -> Vec<&'static str> {
    ["devs", "stats", "version"].iter().chain(extra).copied().collect()
}

/// The multi-command of `read_standard`, for a monitor whose reading needs nothing else.
pub fn standard_opening<'a>(client: &'a Client, extra: &[&'static str], budget: std::time::Duration) -> Opening<'a> {
    let commands = std::iter::once("summary").chain(standard_optional(extra)).collect();
    Opening { client, commands, budget }
}

/// Reads the standard commands into a reading: summary, devs, stats and version.
pub fn read_standard(
    client: &Client,
    extra: &[&'static str],
    call: &Call,
) -> Result<(MinerReading, Replies), InputError> {
    let replies = client.read(&["summary"], &standard_optional(extra), call)?;
    let mut reading = MinerReading::default();
    if let Some(summary) = replies.get("summary") {
        apply_summary(&mut reading, summary);
    }
    if let Some(devs) = replies.get("devs") {
        let boards = boards_from_devs(devs);
        if !boards.is_empty() {
            reading.hashboards = Some(boards);
        }
    }
    if let Some(stats) = replies.get("stats") {
        apply_stats(&mut reading, stats);
    }
    if let Some(version) = replies.get("version") {
        apply_version(&mut reading, version);
    }
    if reading.hashrate.is_none() {
        return Err(InputError::invalid("`summary` carries no hashrate"));
    }
    Ok((reading, replies))
}

/// Hashing is on; enabled but hashing nothing is an error.
pub fn hashing_status(reading: &MinerReading) -> MinerStatus {
    match reading.hashrate {
        Some(h) if h > 0.0 => MinerStatus::On,
        Some(_) => MinerStatus::Error,
        None => MinerStatus::Unknown,
    }
}

impl Monitor for Cgminer {
    fn read(&self, _wanted: &[FeatureType], call: &Call) -> Result<MinerReading, InputError> {
        let (mut reading, _) = read_standard(&self.client, &[], call)?;
        reading.status = Some(hashing_status(&reading));
        Ok(reading)
    }

    fn opening(&self, budget: std::time::Duration) -> Option<Opening<'_>> {
        Some(standard_opening(&self.client, &[], budget))
    }
}

impl Controller for Cgminer {
    fn monitor(&self) -> Option<&dyn Monitor> {
        Some(self)
    }
}
