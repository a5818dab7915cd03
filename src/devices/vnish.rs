//! `vnish`: Antminers on VNish (anthill.farm) firmware, through its REST API `/api/v1`.
//!
//! `POST /unlock {"pw"}` gives a bearer token. `GET /summary` carries the real-time hashrate
//! (`miner.hr_realtime`, GH/s), the power (`miner.power_consumption`, W), the chains (per
//! board hashrate, chip and PCB temperatures, frequency), the fans and the miner's state.
//! Control is `POST /mining/stop` and `/mining/start`.

use serde::Deserialize;
use serde_json::Value;

use crate::config::secret::Secret;
use crate::config::spec::{Address, ComponentSettings, TypeInfo, Typed};
use crate::core::feature::FeatureType;
use crate::core::reading::{DeviceInfo, Hashboard, MinerReading};
use crate::core::status::MinerStatus;
use crate::devices::{Build, Controller, ControllerSettings, MiningControl, Monitor};
use crate::transport::cgminer::reply::{field, field_text};
use crate::transport::http::{Request, fetch_json};
use crate::transport::{Call, InputError};

pub const TYPE: Typed<VnishConfig> = Typed::new(
    TypeInfo::new(
        "vnish",
        "Antminers on VNish firmware, through its REST API (unlock, then a bearer token).",
        "{id: s19-vnish, type: vnish, url: \"http://192.168.1.46\", password_file: vnish-password}",
    )
    .miner(Address::Url),
);

/// Keys of the `vnish` type.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VnishConfig {
    /// The miner's web address, e.g. `http://192.168.1.46`.
    pub url: String,
    /// The web password (VNish's default is `admin`).
    pub password: Option<Secret>,
}

impl ComponentSettings for VnishConfig {
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
        ]
    }
}

impl ControllerSettings for VnishConfig {
    fn build<'a>(&'a self, _: &Build<'a>) -> Option<Box<dyn Controller + 'a>> {
        Some(Box::new(Vnish::new(self)))
    }
}

pub struct Vnish {
    api: String,
    password: String,
}

impl Vnish {
    pub fn new(config: &VnishConfig) -> Vnish {
        Vnish {
            api: format!("{}/api/v1", config.url.trim_end_matches('/')),
            password: config.password.as_ref().map_or_else(|| "admin".into(), |p| p.expose().to_string()),
        }
    }

    fn unlock(&self, call: &Call) -> Result<String, InputError> {
        let body = serde_json::json!({ "pw": self.password });
        let request = Request::new("POST", &format!("{}/unlock", self.api)).json_body(&body);
        let reply = fetch_json(&request, call.budget().ok_or_else(InputError::deadline)?)?;
        let token = reply.get("token").and_then(Value::as_str).filter(|t| !t.is_empty());
        token.map(str::to_string).ok_or_else(|| InputError::invalid("VNish `unlock` returned no token"))
    }

    fn mining(&self, action: &str, call: &Call) -> Result<(), InputError> {
        let token = self.unlock(call)?;
        let request = Request::new("POST", &format!("{}/mining/{action}", self.api))
            .header("Authorization", format!("Bearer {token}"));
        let budget = call.budget().ok_or_else(InputError::deadline)?;
        let response =
            crate::transport::http::send(&request, budget).map_err(|e| InputError::from(e).context("VNish"))?;
        match response.status {
            200..=299 => Ok(()),
            401 | 403 => Err(InputError::auth("VNish refused the token (check the password)")),
            status => Err(InputError::refused(format!("VNish answered HTTP {status} to mining/{action}"))),
        }
    }
}

/// The reading of a `/summary` reply.
pub fn reading_of(summary: &Value) -> Result<MinerReading, InputError> {
    let miner = summary.get("miner").ok_or_else(|| InputError::invalid("VNish summary has no `miner`"))?;
    let hashrate = field(miner, "hr_realtime").map(|gh| (gh / 1e3).max(0.0));
    let chains = miner.get("chains").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let boards: Vec<Hashboard> = chains.iter().enumerate().map(|(position, chain)| board(position, chain)).collect();
    let fans: Vec<f64> = miner
        .pointer("/cooling/fans")
        .and_then(Value::as_array)
        .map(|fans| fans.iter().filter_map(|f| field(f, "rpm")).collect())
        .unwrap_or_default();
    let state = miner.pointer("/miner_status/miner_state").and_then(Value::as_str).unwrap_or_default();
    let status = match state.to_ascii_lowercase().as_str() {
        "mining" | "auto-tuning" => match hashrate {
            Some(h) if h > 0.0 => MinerStatus::On,
            _ => MinerStatus::Starting,
        },
        "stopped" | "shutting-down" => MinerStatus::Off,
        "initializing" | "starting" | "restarting" => MinerStatus::Starting,
        "failure" => MinerStatus::Error,
        _ => crate::devices::cgminer::hashing_status(&MinerReading { hashrate, ..MinerReading::default() }),
    };
    Ok(MinerReading {
        status: Some(status),
        hashrate,
        power: field(miner, "power_consumption").map(|w| w.max(0.0)),
        max_hashrate: field(miner, "hr_stock").map(|gh| gh / 1e3).filter(|t| *t > 0.0),
        internal_fans: Some(fans).filter(|f| !f.is_empty()),
        device_info: Some(DeviceInfo {
            model: field_text(miner, "miner_type").or_else(|| field_text(summary, "model")),
            firmware_type: Some("VNish".into()),
            hashboard_count: Some(boards.len() as u32).filter(|n| *n > 0),
            fan_count: miner.pointer("/cooling/fans").and_then(Value::as_array).map(|f| f.len() as u32),
            ..DeviceInfo::default()
        }),
        hashboards: Some(boards).filter(|b| !b.is_empty()),
        ..MinerReading::default()
    })
}

fn board(position: usize, chain: &Value) -> Hashboard {
    let rate = field(chain, "hashrate_rt").or_else(|| field(chain, "hr_realtime"));
    Hashboard {
        index: field(chain, "id").map_or(position as u32, |id| (id as u32).saturating_sub(1)),
        chip_temperature: chain.pointer("/chip_temp/max").and_then(temperature),
        board_temperature: chain.pointer("/pcb_temp/max").and_then(temperature),
        voltage: field(chain, "voltage").map(|mv| mv / 1000.0).filter(|v| *v > 0.0),
        frequency: field(chain, "frequency").or_else(|| field(chain, "freq")).filter(|f| *f > 0.0),
        hash_rate: rate.map(|gh| (gh / 1e3).max(0.0)),
        nominal_hash_rate: field(chain, "hashrate_ideal").or_else(|| field(chain, "hr_nominal")).map(|gh| gh / 1e3),
    }
}

fn temperature(value: &Value) -> Option<f64> {
    crate::transport::cgminer::reply::number(Some(value))
        .filter(crate::transport::cgminer::readings::plausible_temperature)
}

impl Monitor for Vnish {
    fn read(&self, _wanted: &[FeatureType], call: &Call) -> Result<MinerReading, InputError> {
        let budget = call.budget().ok_or_else(InputError::deadline)?;
        let summary = fetch_json(&Request::get(&format!("{}/summary", self.api)), budget)?;
        reading_of(&summary)
    }
}

impl MiningControl for Vnish {
    fn start_mining(&self, call: &Call) -> Result<(), InputError> {
        self.mining("start", call)
    }

    fn stop_mining(&self, call: &Call) -> Result<(), InputError> {
        self.mining("stop", call)
    }
}

impl Controller for Vnish {
    fn monitor(&self) -> Option<&dyn Monitor> {
        Some(self)
    }
    fn mining_control(&self) -> Option<&dyn MiningControl> {
        Some(self)
    }
}
