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
            PowerTargetControl,
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

    fn authorized_get(&self, token: &str, path: &str, call: &Call) -> Result<Value, InputError> {
        let request = Request::get(&format!("{}/{path}", self.api)).header("Authorization", format!("Bearer {token}"));
        fetch_json(&request, call.budget().ok_or_else(InputError::deadline)?)
    }

    /// Tuned presets with the watts each stands for; untuned ones are never chosen (VNish
    /// ignores them silently, or starts a tuning run).
    fn presets(&self, token: &str, call: &Call) -> Result<Vec<(String, f64)>, InputError> {
        let reply = self.authorized_get(token, "autotune/presets", call)?;
        let list = reply.as_array().or_else(|| reply.get("presets").and_then(Value::as_array));
        let list = list.ok_or_else(|| InputError::invalid("VNish autotune/presets: not a list"))?;
        Ok(list
            .iter()
            .filter(|p| p.get("status").and_then(Value::as_str).is_none_or(|s| s.eq_ignore_ascii_case("tuned")))
            .filter_map(|p| {
                let name = field_text(p, "name")?;
                let pretty = field_text(p, "pretty").unwrap_or_default();
                let watts = name.parse::<f64>().ok().or_else(|| pretty.split_whitespace().next()?.parse().ok())?;
                Some((name, watts))
            })
            .collect())
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

impl crate::devices::PowerTargetControl for Vnish {
    fn target(&self, call: &Call) -> Result<crate::devices::PowerTarget, InputError> {
        let token = self.unlock(call)?;
        let presets = self.presets(&token, call)?;
        let settings = self.authorized_get(&token, "settings", call)?;
        let current =
            settings.pointer("/miner/overclock/preset").and_then(|p| field_text(&serde_json::json!({"p": p}), "p"));
        let watts = presets.iter().find(|(name, _)| Some(name) == current.as_ref()).map(|(_, w)| *w);
        let min = presets.iter().map(|(_, w)| *w).reduce(f64::min);
        let max = presets.iter().map(|(_, w)| *w).reduce(f64::max);
        Ok(crate::devices::PowerTarget { watts, min, max, ..Default::default() })
    }

    /// The highest tuned preset at or below the request, written into the current overclock
    /// settings, then read back: VNish answers the same whether it applied it or not.
    fn set_target(&self, watts: f64, call: &Call) -> Result<crate::devices::Applied, InputError> {
        let token = self.unlock(call)?;
        let presets = self.presets(&token, call)?;
        let (name, applied) = crate::devices::lever_at_or_below(&presets, watts)
            .cloned()
            .ok_or_else(|| InputError::refused("VNish has no tuned preset"))?;
        let settings = self.authorized_get(&token, "settings", call)?;
        let mut overclock = settings.pointer("/miner/overclock").cloned().unwrap_or_else(|| serde_json::json!({}));
        overclock["preset"] = Value::String(name.clone());
        let body = serde_json::json!({"miner": {"overclock": overclock}});
        let request = Request::new("POST", &format!("{}/settings", self.api))
            .header("Authorization", format!("Bearer {token}"))
            .json_body(&body);
        fetch_json(&request, call.budget().ok_or_else(InputError::deadline)?)?;
        let check = self.authorized_get(&token, "settings", call)?;
        let now = check.pointer("/miner/overclock/preset").and_then(|p| field_text(&serde_json::json!({"p": p}), "p"));
        if now.as_deref() != Some(name.as_str()) {
            return Err(InputError::refused(format!(
                "VNish did not apply preset `{name}` (it reads `{}`)",
                now.unwrap_or_default()
            )));
        }
        Ok(crate::devices::Applied { watts: applied, lever: Some(format!("preset {name}")), restarts: false })
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
    fn power_target(&self) -> Option<&dyn crate::devices::PowerTargetControl> {
        Some(self)
    }
    fn mining_control(&self) -> Option<&dyn MiningControl> {
        Some(self)
    }
}
