//! `whatsminer`: MicroBT Whatsminer, API v1/v2 plain reads on 4028 (read-only).
//!
//! Its `summary` carries power, the power limit, chip temperatures and fan speeds. Its own
//! `status` command says whether btminer is switched off. Writes need the encrypted API v2
//! with the admin password, which this tool does not speak: pair the miner with a plug.

use serde::Deserialize;

use crate::config::spec::{Address, ComponentSettings, TypeInfo, Typed};
use crate::core::feature::FeatureType;
use crate::core::reading::MinerReading;
use crate::core::status::MinerStatus;
use crate::devices::cgminer::{CgminerConfig, features_with, hashing_status, read_standard};
use crate::devices::{Build, Controller, ControllerSettings, Monitor};
use crate::transport::cgminer::Client;
use crate::transport::cgminer::reply::field_text;
use crate::transport::{Call, InputError};

pub const TYPE: Typed<WhatsminerConfig> = Typed::new(
    TypeInfo::new(
        "whatsminer",
        "MicroBT Whatsminer, API v1/v2 plain reads on port 4028.",
        "{id: m30-api, type: whatsminer, host: 192.168.1.41}",
    )
    .miner(Address::Host)
    .note("read-only: the Whatsminer write API needs encryption and the admin password; start and stop it with a plug (power_control)"),
);

/// Keys of the `whatsminer` type.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct WhatsminerConfig(pub CgminerConfig);

impl ComponentSettings for WhatsminerConfig {
    fn features(&self) -> Vec<FeatureType> {
        features_with(&[FeatureType::PowerMonitoring, FeatureType::MaxPowerDetection])
    }
}

impl ControllerSettings for WhatsminerConfig {
    fn build<'a>(&'a self, _: &Build<'a>) -> Option<Box<dyn Controller + 'a>> {
        Some(Box::new(Whatsminer::new(&self.0)))
    }
}

pub struct Whatsminer {
    client: Client,
}

impl Whatsminer {
    pub fn new(config: &CgminerConfig) -> Whatsminer {
        Whatsminer { client: Client::new(&config.host, config.port) }
    }

    /// `status` → `Msg.btmineroff`: "true" when mining is switched off.
    fn switched_off(&self, call: &Call) -> Option<bool> {
        let reply = self.client.command("status", None, call).ok()?;
        let off = reply.get("Msg").and_then(|m| field_text(m, "btmineroff"))?;
        Some(off.eq_ignore_ascii_case("true"))
    }
}

impl Monitor for Whatsminer {
    fn read(&self, _wanted: &[FeatureType], call: &Call) -> Result<MinerReading, InputError> {
        let (mut reading, replies) = read_standard(&self.client, &[], call)?;
        if let Some(summary) =
            replies.get("summary").and_then(|s| crate::transport::cgminer::reply::first(s, "SUMMARY"))
        {
            let chip = crate::transport::cgminer::reply::field(summary, "Chip Temp Max");
            if let (Some(chip), Some(boards)) = (chip, reading.hashboards.as_mut()) {
                boards
                    .iter_mut()
                    .filter(|b| b.chip_temperature.is_none())
                    .for_each(|b| b.chip_temperature = Some(chip));
            }
            let info = reading.device_info.get_or_insert_with(Default::default);
            info.mac_address = field_text(summary, "MAC");
            info.firmware_type = Some("btminer".into());
            info.firmware_version = field_text(summary, "Firmware Version").or(info.firmware_version.take());
        }
        reading.status = Some(match self.switched_off(call) {
            Some(true) => MinerStatus::Off,
            _ => hashing_status(&reading),
        });
        Ok(reading)
    }
}

impl Controller for Whatsminer {
    fn monitor(&self) -> Option<&dyn Monitor> {
        Some(self)
    }
}
