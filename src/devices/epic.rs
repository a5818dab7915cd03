//! `epic`: ePIC PowerPlay (UMC) firmware, whose REST API answers HTTP on port 4028.
//!
//! `GET /summary` carries the operating state, the PSU's input power, each hashboard's
//! hashrate (MH/s) and clock, and the fans; `GET /temps/chip` the chip temperatures per
//! board. Control is `POST /miner {"param": "Stop" | "Autostart", "password"}`.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::config::secret::Secret;
use crate::config::spec::{Address, ComponentSettings, TypeInfo, Typed};
use crate::core::feature::FeatureType;
use crate::core::reading::{DeviceInfo, Hashboard, MinerReading};
use crate::core::status::MinerStatus;
use crate::devices::cgminer::{default_port, hashing_status};
use crate::devices::{Build, Controller, ControllerSettings, MiningControl, Monitor};
use crate::transport::cgminer::readings::plausible_temperature;
use crate::transport::cgminer::reply::{field, field_text, number};
use crate::transport::http::{Request, fetch_json};
use crate::transport::{Call, InputError};

pub const TYPE: Typed<EpicConfig> = Typed::new(
    TypeInfo::new(
        "epic",
        "ePIC PowerPlay firmware: its REST API on port 4028 (HTTP, password in each write).",
        "{id: s19xp-epic, type: epic, host: 192.168.1.47, password_file: epic-password}",
    )
    .miner(Address::Host),
);

/// Keys of the `epic` type.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EpicConfig {
    /// The miner's address (name or IP).
    pub host: String,
    /// The PowerPlay API port (HTTP).
    #[serde(default = "default_port")]
    pub port: u16,
    /// The API password (ePIC's default is `letmein`).
    pub password: Option<Secret>,
}

impl ComponentSettings for EpicConfig {
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
            MiningControl,
            PowerTargetControl,
        ]
    }
}

impl ControllerSettings for EpicConfig {
    fn build<'a>(&'a self, _: &Build<'a>) -> Option<Box<dyn Controller + 'a>> {
        Some(Box::new(Epic::new(self)))
    }
}

pub struct Epic {
    base: String,
    password: String,
}

impl Epic {
    pub fn new(config: &EpicConfig) -> Epic {
        Epic {
            base: format!("http://{}:{}", config.host, config.port),
            password: config.password.as_ref().map_or_else(|| "letmein".into(), |p| p.expose().to_string()),
        }
    }

    fn miner(&self, param: &str, call: &Call) -> Result<(), InputError> {
        self.post("miner", json!(param), call)
    }

    /// A POST with the password in the body, answered `{"result": bool, "error": …}`.
    fn post(&self, path: &str, param: Value, call: &Call) -> Result<(), InputError> {
        let body = json!({ "param": param, "password": self.password });
        let request = Request::new("POST", &format!("{}/{path}", self.base)).json_body(&body);
        let reply = fetch_json(&request, call.budget().ok_or_else(InputError::deadline)?)?;
        match (reply.get("result").and_then(Value::as_bool), reply.get("error")) {
            (Some(true), _) => Ok(()),
            (_, Some(error)) if error.to_string().contains("BadPassword") => {
                Err(InputError::auth("ePIC refused the password (BadPassword)"))
            }
            (_, error) => Err(InputError::refused(format!(
                "ePIC refused `{path}`: {}",
                error.map_or_else(|| "no reason given".to_string(), |e| e.to_string())
            ))),
        }
    }
}

/// The reading of `/summary` and, when it answered, `/temps/chip`.
pub fn reading_of(summary: &Value, chip_temps: Option<&Value>) -> Result<MinerReading, InputError> {
    let boards_json = summary.get("HBs").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let chips = |index: f64| -> Option<f64> {
        let entry = chip_temps?.as_array()?.iter().find(|e| field(e, "Index") == Some(index))?;
        let data = entry.get("Data")?.as_array()?;
        data.iter().filter_map(|t| number(Some(t))).filter(plausible_temperature).reduce(f64::max)
    };
    let boards: Vec<Hashboard> = boards_json
        .iter()
        .enumerate()
        .map(|(position, hb)| {
            let index = field(hb, "Index").unwrap_or(position as f64);
            let mhs = hb.get("Hashrate").and_then(Value::as_array).and_then(|h| number(h.first()));
            Hashboard {
                index: index as u32,
                chip_temperature: chips(index).or_else(|| field(hb, "Temperature").filter(plausible_temperature)),
                board_temperature: None,
                voltage: field(hb, "Input Voltage").map(|mv| mv / 1000.0).filter(|v| *v > 0.0),
                frequency: field(hb, "Core Clock Avg").filter(|f| *f > 0.0),
                hash_rate: mhs.map(|m| (m / 1e6).max(0.0)),
                nominal_hash_rate: None,
            }
        })
        .collect();
    let hashrate = (!boards.is_empty()).then(|| boards.iter().filter_map(|b| b.hash_rate).sum::<f64>());
    let power = summary.pointer("/Power Supply Stats/Input Power").and_then(|p| number(Some(p)));
    if hashrate.is_none() && power.is_none() {
        return Err(InputError::invalid("ePIC summary has neither HBs nor Power Supply Stats"));
    }
    let fans: Vec<f64> = summary
        .get("Fans Rpm")
        .and_then(Value::as_object)
        .map(|fans| fans.values().filter_map(|v| number(Some(v))).filter(|rpm| *rpm > 0.0).collect())
        .unwrap_or_default();
    let state =
        summary.pointer("/Status/Operating State").and_then(Value::as_str).unwrap_or_default().to_ascii_lowercase();
    let mut reading = MinerReading {
        hashrate,
        power: power.map(|w| w.max(0.0)),
        internal_fans: Some(fans).filter(|f| !f.is_empty()),
        uptime: summary.pointer("/Session/Uptime").and_then(|u| number(Some(u))).map(|s| s.max(0.0) as u64),
        device_info: Some(DeviceInfo {
            firmware_type: Some("ePIC".into()),
            firmware_version: field_text(summary, "Software"),
            hostname: field_text(summary, "Hostname"),
            hashboard_count: Some(boards.len() as u32).filter(|n| *n > 0),
            ..DeviceInfo::default()
        }),
        hashboards: Some(boards).filter(|b| !b.is_empty()),
        ..MinerReading::default()
    };
    reading.status = Some(if state.contains("idl") || state.contains("stop") {
        MinerStatus::Off
    } else if state.contains("init") || state.contains("start") {
        MinerStatus::Starting
    } else {
        hashing_status(&reading)
    });
    Ok(reading)
}

impl Monitor for Epic {
    fn read(&self, _wanted: &[FeatureType], call: &Call) -> Result<MinerReading, InputError> {
        let budget = call.budget().ok_or_else(InputError::deadline)?;
        let summary = fetch_json(&Request::get(&format!("{}/summary", self.base)), budget)?;
        let chips = call.budget().and_then(|b| fetch_json(&Request::get(&format!("{}/temps/chip", self.base)), b).ok());
        reading_of(&summary, chips.as_ref())
    }
}

impl Epic {
    /// The perpetual-tune algorithm that targets watts, and its bounds, from `/capabilities`.
    fn power_algorithm(&self, call: &Call) -> Result<(String, Option<f64>, Option<f64>), InputError> {
        let capabilities = fetch_json(
            &Request::get(&format!("{}/capabilities", self.base)),
            call.budget().ok_or_else(InputError::deadline)?,
        )?;
        let algorithms = capabilities.get("PerpetualTune").and_then(Value::as_array).cloned().unwrap_or_default();
        let power = algorithms
            .iter()
            .find(|a| field_text(a, "algorithm").is_some_and(|name| name.to_ascii_lowercase().contains("power")));
        let power =
            power.ok_or_else(|| InputError::not_configured("this ePIC build has no power perpetual-tune algorithm"))?;
        let name = field_text(power, "algorithm").unwrap_or_else(|| "Power".into());
        Ok((name, field(power, "min"), field(power, "max")))
    }
}

impl crate::devices::PowerTargetControl for Epic {
    fn target(&self, call: &Call) -> Result<crate::devices::PowerTarget, InputError> {
        let (algorithm, min, max) = self.power_algorithm(call)?;
        let summary = fetch_json(
            &Request::get(&format!("{}/summary", self.base)),
            call.budget().ok_or_else(InputError::deadline)?,
        )?;
        let watts =
            summary.pointer(&format!("/PerpetualTune/Algorithm/{algorithm}/Target")).and_then(|t| number(Some(t)));
        Ok(crate::devices::PowerTarget { watts, min, max, ..Default::default() })
    }

    /// `POST /perpetualtune/algo` with the power algorithm and the target.
    fn set_target(&self, watts: f64, call: &Call) -> Result<crate::devices::Applied, InputError> {
        let (algorithm, _, _) = self.power_algorithm(call)?;
        let target = watts.round();
        self.post("perpetualtune/algo", json!({"algo": algorithm, "target": target}), call)?;
        Ok(crate::devices::Applied { watts: target, lever: None, restarts: false })
    }
}

impl MiningControl for Epic {
    fn start_mining(&self, call: &Call) -> Result<(), InputError> {
        self.miner("Autostart", call)
    }

    fn stop_mining(&self, call: &Call) -> Result<(), InputError> {
        self.miner("Stop", call)
    }
}

impl Controller for Epic {
    fn monitor(&self) -> Option<&dyn Monitor> {
        Some(self)
    }
    fn power_target(&self) -> Option<&dyn crate::devices::PowerTargetControl> {
        Some(self)
    }
    fn mining_control(&self) -> Option<&dyn MiningControl> {
        Some(self)
    }
}
