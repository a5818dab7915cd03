//! `whatsminer`: MicroBT Whatsminer. API v1 and v2 answer plain reads on port 4028; API v3
//! (firmware from 2024.11) speaks length-prefixed JSON on port 4433.
//!
//! Status: v1 says `btmineroff` in `status`, v2 says `mineroff`, v3 says `working` in
//! `get.device.info`; a stopped miner is `off` whatever its averages still show. The current
//! hashrate is `HS RT` (v2) or `hash-realtime` (v3), never the long `MHS av`.
//!
//! With `password`, power targets go through the write APIs (`transport::btminer`): v2's
//! encrypted `adjust_power_limit`, v3's signed `set.miner.power_limit`. Both restart the
//! miner, so a target counts as a start for the guards. Start and stop go through a plug.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::config::secret::Secret;
use crate::config::spec::{Address, ComponentSettings, TypeInfo, Typed};
use crate::core::feature::FeatureType;
use crate::core::reading::{DeviceInfo, Hashboard, MinerReading};
use crate::core::status::MinerStatus;
use crate::devices::cgminer::{default_port, features_with, hashing_status, read_standard};
use crate::devices::{Build, Controller, ControllerSettings, Monitor};
use crate::transport::cgminer::Client;
use crate::transport::cgminer::reply::{field, field_text, first};
use crate::transport::{Call, ErrorKind, InputError};

pub const TYPE: Typed<WhatsminerConfig> = Typed::new(
    TypeInfo::new(
        "whatsminer",
        "MicroBT Whatsminer: API v1/v2 reads on port 4028, API v3 on port 4433.",
        "{id: m30-api, type: whatsminer, host: 192.168.1.41}",
    )
    .miner(Address::Host)
    .note("no start and stop over its API here: pair it with a plug (power_control); with `password`, power targets (the miner restarts to apply one)"),
);

/// Which API a Whatsminer speaks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Api {
    /// v1/v2 on `port` when it answers, else v3 on `v3_port`.
    #[default]
    Auto,
    V1,
    V2,
    V3,
}

/// Keys of the `whatsminer` type.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WhatsminerConfig {
    /// The miner's address (name or IP).
    pub host: String,
    /// The API v1/v2 port.
    #[serde(default = "default_port")]
    pub port: u16,
    /// Which API it speaks (`auto`: v1/v2 on `port` when it answers, else v3).
    #[serde(default)]
    pub api: Api,
    /// The API v3 port.
    #[serde(default = "default_v3_port")]
    pub v3_port: u16,
    /// The admin password, for the write APIs.
    pub password: Option<Secret>,
}

fn default_v3_port() -> u16 {
    4433
}

impl ComponentSettings for WhatsminerConfig {
    fn features(&self) -> Vec<FeatureType> {
        use FeatureType::*;
        let mut features = features_with(&[PowerMonitoring, MaxPowerDetection]);
        if self.password.is_some() {
            features.push(PowerTargetControl);
        }
        features
    }
}

impl ControllerSettings for WhatsminerConfig {
    fn build<'a>(&'a self, build: &Build<'a>) -> Option<Box<dyn Controller + 'a>> {
        let ordinary_power = build.owner().and_then(|m| m.power_max);
        Some(Box::new(Whatsminer { ordinary_power, ..Whatsminer::new(self) }))
    }
}

pub struct Whatsminer {
    client: Client,
    host: String,
    port: u16,
    api: Api,
    v3_port: u16,
    password: Option<String>,
    /// The miner's `power_max`: a limit may not exceed the ordinary power (the firmware
    /// gives no bounds of its own).
    ordinary_power: Option<f64>,
}

impl Whatsminer {
    pub fn new(config: &WhatsminerConfig) -> Whatsminer {
        Whatsminer {
            client: Client::new(&config.host, config.port),
            host: config.host.clone(),
            port: config.port,
            api: config.api,
            v3_port: config.v3_port,
            password: config.password.as_ref().map(|p| p.expose().to_string()),
            ordinary_power: None,
        }
    }

    /// API v1/v2: the standard reads, the summary's own fields, and `status`.
    fn read_v2(&self, call: &Call) -> Result<MinerReading, InputError> {
        let (mut reading, replies) = read_standard(&self.client, &[], call)?;
        if let Some(summary) = replies.get("summary").and_then(|s| first(s, "SUMMARY")) {
            let chip = field(summary, "Chip Temp Max");
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
        let status = self.client.command("status", None, call).ok();
        if let Some(firmware) =
            status.as_ref().and_then(|s| s.get("Msg")).and_then(|m| field_text(m, "FirmwareVersion"))
        {
            reading.device_info.get_or_insert_with(Default::default).firmware_version = Some(firmware);
        }
        reading.status = Some(match status.as_ref().and_then(switched_off) {
            Some(true) => MinerStatus::Off,
            _ => hashing_status(&reading),
        });
        Ok(reading)
    }

    fn password(&self) -> Result<&str, InputError> {
        self.password
            .as_deref()
            .ok_or_else(|| InputError::not_configured("the write API needs `password` or `password_file`"))
    }

    /// One exchange with the API v2 port in its own `{"cmd": …}` dialect.
    fn v2_exchange(&self, request: &Value, call: &Call) -> Result<Value, InputError> {
        let budget = call.budget().ok_or_else(InputError::deadline)?;
        let bytes = crate::transport::cgminer::transport::exchange(&self.host, self.port, &request.to_string(), budget)
            .map_err(|e| InputError::from(e).context(format_args!("{}:{}", self.host, self.port)))?;
        crate::transport::cgminer::repair::parse(&bytes).map_err(InputError::invalid)
    }

    /// API v2: `get_token`, then `adjust_power_limit` encrypted with the session.
    fn set_limit_v2(&self, watts: i64, call: &Call) -> Result<(), InputError> {
        let password = self.password()?;
        let token = self.v2_exchange(&json!({"cmd": "get_token"}), call)?;
        let message = token.get("Msg").filter(|m| m.is_object()).ok_or_else(|| {
            InputError::refused(format!("get_token: {}", token.get("Msg").map(Value::to_string).unwrap_or_default()))
        })?;
        let part = |key: &str| {
            field_text(message, key).ok_or_else(|| InputError::invalid(format!("get_token gave no `{key}`")))
        };
        let session = crate::transport::btminer::session(password, &part("time")?, &part("salt")?, &part("newsalt")?)?;
        let mut params = serde_json::Map::new();
        params.insert("power_limit".into(), json!(watts.to_string()));
        let reply =
            self.v2_exchange(&crate::transport::btminer::envelope(&session, "adjust_power_limit", &params), call)?;
        let reply = match reply.get("enc").and_then(Value::as_str) {
            Some(sealed) => {
                let plain = crate::transport::btminer::decrypt(&session.key, sealed)?;
                serde_json::from_slice(&plain)
                    .map_err(|e| InputError::invalid(format!("adjust_power_limit reply: {e}")))?
            }
            None => reply,
        };
        crate::transport::cgminer::reply::check_status(&reply).map_err(|e| match e.to_ascii_lowercase() {
            m if m.contains("password") || m.contains("token") => InputError::auth(format!("adjust_power_limit: {e}")),
            _ => InputError::refused(format!("adjust_power_limit: {e}")),
        })
    }

    /// API v3: the salt from `get.device.info`, then `set.miner.power_limit` with its token.
    fn set_limit_v3(&self, watts: i64, call: &Call) -> Result<(), InputError> {
        let password = self.password()?;
        let ask = |request: &Value| -> Result<Value, InputError> {
            let budget = call.budget().ok_or_else(InputError::deadline)?;
            crate::transport::framed::exchange(&self.host, self.v3_port, request, budget)
        };
        let info = ask(&json!({"cmd": "get.device.info", "param": "salt"}))?;
        let salt = info
            .pointer("/msg/salt")
            .and_then(Value::as_str)
            .ok_or_else(|| InputError::invalid("get.device.info gave no salt"))?;
        // The token carries the system clock, as the miner checks it against its own.
        let ts = jiff::Timestamp::now().as_second();
        let cmd = "set.miner.power_limit";
        let token = crate::transport::btminer::v3_token(cmd, password, salt, ts);
        ask(&json!({"cmd": cmd, "param": watts, "ts": ts, "account": "super", "token": token})).map(|_| ())
    }

    /// API v3: `get.device.info`, `get.miner.status` summary and edevs.
    fn read_v3(&self, call: &Call) -> Result<MinerReading, InputError> {
        let ask = |cmd: &str, param: Option<&str>| -> Result<Value, InputError> {
            let budget = call.budget().ok_or_else(InputError::deadline)?;
            let mut request = json!({ "cmd": cmd });
            if let Some(param) = param {
                request["param"] = Value::String(param.into());
            }
            crate::transport::framed::exchange(&self.host, self.v3_port, &request, budget)
        };
        let info = ask("get.device.info", None)?;
        let summary = ask("get.miner.status", Some("summary"))?;
        let edevs = ask("get.miner.status", Some("edevs")).ok();
        Ok(reading_v3(&info, &summary, edevs.as_ref()))
    }
}

/// `status` → v2 `mineroff`, v1 `btmineroff`: true when mining is switched off.
fn switched_off(reply: &Value) -> Option<bool> {
    let message = reply.get("Msg")?;
    let off = field_text(message, "mineroff").or_else(|| field_text(message, "btmineroff"))?;
    Some(off.eq_ignore_ascii_case("true"))
}

/// The reading of API v3 replies (hashrates already in TH/s).
pub fn reading_v3(info: &Value, summary: &Value, edevs: Option<&Value>) -> MinerReading {
    let summary = summary.pointer("/msg/summary").cloned().unwrap_or(Value::Null);
    let miner = info.pointer("/msg/miner").cloned().unwrap_or(Value::Null);
    let number = |key: &str| field(&summary, key);
    let mut reading = MinerReading {
        hashrate: number("hash-realtime").or_else(|| number("hash-1min")).map(|t| t.max(0.0)),
        power: number("power-realtime").or_else(|| number("power-5min")).map(|w| w.max(0.0)),
        max_power: number("power-limit").filter(|w| *w > 0.0),
        max_hashrate: number("factory-hash").filter(|t| *t > 0.0),
        uptime: number("elapsed").map(|s| s.max(0.0) as u64),
        ..MinerReading::default()
    };
    let fans: Vec<f64> = ["fan-speed-in", "fan-speed-out"].iter().filter_map(|k| number(k)).collect();
    if !fans.is_empty() {
        reading.internal_fans = Some(fans);
    }
    let boards: Vec<Hashboard> = edevs
        .and_then(|e| e.pointer("/msg/edevs"))
        .and_then(Value::as_array)
        .map(|devs| {
            devs.iter()
                .enumerate()
                .map(|(position, dev)| Hashboard {
                    index: field(dev, "id").map_or(position as u32, |i| i as u32),
                    chip_temperature: field(dev, "chip-temp-max").or_else(|| field(dev, "chip-temp-avg")),
                    board_temperature: None,
                    voltage: None,
                    frequency: field(dev, "freq").filter(|f| *f > 0.0),
                    hash_rate: field(dev, "hash-realtime").or_else(|| field(dev, "hash-average")).map(|t| t.max(0.0)),
                    nominal_hash_rate: field(dev, "factory-hash"),
                })
                .collect()
        })
        .unwrap_or_default();
    let chip = number("chip-temp-max");
    reading.hashboards = Some(boards).filter(|b| !b.is_empty()).or_else(|| {
        chip.map(|chip| vec![Hashboard { index: 0, chip_temperature: Some(chip), ..Hashboard::default() }])
    });
    reading.device_info = Some(DeviceInfo {
        model: field_text(&miner, "type"),
        firmware_type: Some("btminer".into()),
        firmware_version: info.pointer("/msg/system/fwversion").and_then(Value::as_str).map(str::to_string),
        mac_address: info.pointer("/msg/network/mac").and_then(Value::as_str).map(str::to_string),
        hashboard_count: field(&miner, "board-num").map(|n| n as u32),
        ..DeviceInfo::default()
    });
    let working = field_text(&miner, "working").map(|w| w.eq_ignore_ascii_case("true"));
    reading.status = Some(match working {
        Some(false) => MinerStatus::Off,
        _ => hashing_status(&reading),
    });
    reading
}

impl Monitor for Whatsminer {
    fn read(&self, _wanted: &[FeatureType], call: &Call) -> Result<MinerReading, InputError> {
        match self.api {
            Api::V1 | Api::V2 => self.read_v2(call),
            Api::V3 => self.read_v3(call),
            Api::Auto => match self.read_v2(call) {
                Err(error) if error.kind == ErrorKind::Unreachable => self
                    .read_v3(call)
                    .map_err(|v3| InputError::new(v3.kind, format!("{}; API v3: {}", error.message, v3.message))),
                other => other,
            },
        }
    }
}

impl crate::devices::PowerTargetControl for Whatsminer {
    /// The power limit the miner holds (`Power Limit` on v2, `power-limit` on v3), at most
    /// the miner's `power_max`.
    fn target(&self, call: &Call) -> Result<crate::devices::PowerTarget, InputError> {
        let reading = self.read(&[], call)?;
        let max = self.ordinary_power;
        Ok(crate::devices::PowerTarget { watts: reading.max_power, min: None, max, ..Default::default() })
    }

    /// The limit in whole watts; the miner restarts to apply it.
    fn set_target(&self, watts: f64, call: &Call) -> Result<crate::devices::Applied, InputError> {
        let watts = watts.round() as i64;
        match self.api {
            Api::V3 => self.set_limit_v3(watts, call)?,
            Api::V1 | Api::V2 => self.set_limit_v2(watts, call)?,
            Api::Auto => match self.set_limit_v2(watts, call) {
                Err(error) if error.kind == ErrorKind::Unreachable => self.set_limit_v3(watts, call)?,
                other => other?,
            },
        }
        Ok(crate::devices::Applied { watts: watts as f64, lever: None, restarts: true })
    }

    fn restarts(&self) -> bool {
        true
    }
}

impl Controller for Whatsminer {
    fn monitor(&self) -> Option<&dyn Monitor> {
        Some(self)
    }
    fn power_target(&self) -> Option<&dyn crate::devices::PowerTargetControl> {
        self.password.as_ref().map(|_| self as &dyn crate::devices::PowerTargetControl)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_and_v1_say_switched_off_in_their_own_words() {
        assert_eq!(switched_off(&json!({"STATUS": "S", "Msg": {"mineroff": "true"}})), Some(true));
        assert_eq!(switched_off(&json!({"STATUS": "S", "Msg": {"mineroff": "false"}})), Some(false));
        assert_eq!(switched_off(&json!({"STATUS": "S", "Msg": {"btmineroff": "true"}})), Some(true));
        assert_eq!(switched_off(&json!({"STATUS": "S", "Msg": {}})), None);
    }

    #[test]
    fn a_stopped_v3_reads_off() {
        let info = json!({"code": 0, "msg": {"miner": {"working": "false", "type": "M60S"}}});
        let summary = json!({"code": 0, "msg": {"summary": {"hash-realtime": 0.0, "hash-average": 170.8}}});
        let reading = reading_v3(&info, &summary, None);
        assert_eq!(reading.status, Some(MinerStatus::Off));
        assert_eq!(reading.hashrate, Some(0.0));
    }
}
