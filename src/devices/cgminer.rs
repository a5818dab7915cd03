//! `cgminer`: any miner that speaks the CGMiner API on port 4028 (read-only).
//!
//! Status: hashing is `on`; reachable but hashing nothing is `error` (a generic cgminer has
//! no notion of paused, so zero hashrate means something is wrong).

use serde::Deserialize;

use crate::core::feature::FeatureType;
use crate::core::reading::MinerReading;
use crate::core::status::MinerStatus;
use crate::devices::{Controller, Monitor};
use crate::duration::Span;
use crate::transport::cgminer::Client;
use crate::transport::cgminer::readings::{apply_stats, apply_summary, apply_version, boards_from_devs};
use crate::transport::{Call, DeviceError};

/// Keys of the `cgminer`, `whatsminer` and `avalon` types.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CgminerConfig {
    pub host: String,
    #[serde(default = "default_port")]
    pub port: u16,
    pub timeout: Option<Span>,
}

pub fn default_port() -> u16 {
    4028
}

pub struct Cgminer {
    client: Client,
    timeout: Option<Span>,
}

impl Cgminer {
    pub fn new(config: &CgminerConfig) -> Cgminer {
        Cgminer { client: Client::new(&config.host, config.port), timeout: config.timeout }
    }
}

/// Reads the standard commands into a reading: summary, devs, stats and version.
pub fn read_standard(
    client: &Client,
    extra: &[&str],
    call: &Call,
) -> Result<(MinerReading, std::collections::BTreeMap<String, serde_json::Value>), DeviceError> {
    let mut optional = vec!["devs", "stats", "version"];
    optional.extend_from_slice(extra);
    let replies = client.read(&["summary"], &optional, call)?;
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
        return Err(DeviceError("`summary` carries no hashrate".into()));
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
    fn read(&self, _wanted: &[FeatureType], call: &Call) -> Result<MinerReading, DeviceError> {
        let call = call.with_timeout(self.timeout);
        let (mut reading, _) = read_standard(&self.client, &[], &call)?;
        reading.status = Some(hashing_status(&reading));
        Ok(reading)
    }
}

impl Controller for Cgminer {
    fn monitor(&self) -> Option<&dyn Monitor> {
        Some(self)
    }
}
