//! `bitaxe`: Bitaxe, NerdAxe, NerdQAxe and other AxeOS (ESP-Miner) devices,
//! `GET /api/system/info`.
//!
//! AxeOS cannot pause mining; start and stop a Bitaxe with a plug (power_control).

use serde::Deserialize;
use serde_json::Value;

use crate::config::spec::{Address, ComponentSettings, TypeInfo, Typed};
use crate::core::feature::FeatureType;
use crate::core::lever_model::estimate;
use crate::core::reading::{DeviceInfo, Hashboard, MinerReading};
use crate::core::status::MinerStatus;
use crate::devices::{Build, Controller, ControllerSettings, Monitor};
use crate::transport::cgminer::reply::{field, field_text};
use crate::transport::http::{Request, fetch_json};
use crate::transport::{Call, InputError};

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BitaxeConfig {
    /// Allow power targets above the ASIC's default frequency.
    #[serde(default)]
    pub allow_overclock: bool,
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
            PowerTargetControl,
        ]
    }
}

impl ControllerSettings for BitaxeConfig {
    fn build<'a>(&'a self, build: &Build<'a>) -> Option<Box<dyn Controller + 'a>> {
        let learned = build.learned.get(build.id).map(|points| points.iter().map(|(f, l)| (*f, l.watts)).collect());
        Some(Box::new(Bitaxe::new(self, learned.unwrap_or_default())))
    }
}

pub struct Bitaxe {
    url: String,
    allow_overclock: bool,
    /// (MHz, W) it was seen drawing by earlier runs.
    learned: Vec<(f64, f64)>,
}

impl Bitaxe {
    pub fn new(config: &BitaxeConfig, learned: Vec<(f64, f64)>) -> Bitaxe {
        Bitaxe { url: config.url.trim_end_matches('/').to_string(), allow_overclock: config.allow_overclock, learned }
    }

    fn get(&self, path: &str, call: &Call) -> Result<Value, InputError> {
        let budget = call.budget().ok_or_else(InputError::deadline)?;
        fetch_json(&Request::get(&format!("{}{path}", self.url)), budget)
    }

    /// The frequency steps it may take with the watts each stands for: what earlier runs saw
    /// it draw at that frequency, else scaled from the nearest frequency seen (this reading's
    /// among them; power scales with frequency at the present core voltage). Never above the
    /// default frequency unless `allow_overclock`.
    fn steps(&self, call: &Call) -> Result<Steps, InputError> {
        let info = self.get("/api/system/info", call)?;
        // Builds without the option lists have no power levers to offer.
        let asic = self.get("/api/system/asic", call).map_err(|e| match e.kind {
            crate::transport::ErrorKind::Refused => {
                InputError::not_configured(format!("AxeOS lists no frequency options: {}", e.message))
            }
            _ => e,
        })?;
        let (Some(power), Some(frequency)) = (field(&info, "power"), field(&info, "frequency")) else {
            return Err(InputError::invalid("AxeOS gave no power or frequency to scale from"));
        };
        if power <= 0.0 || frequency <= 0.0 {
            return Err(InputError::new(
                crate::transport::ErrorKind::Unavailable,
                "a Bitaxe that is not hashing gives nothing to scale from",
            ));
        }
        // This reading is the freshest point for its own frequency.
        let mut seen: Vec<(f64, f64)> = self.learned.iter().copied().filter(|(f, _)| *f != frequency).collect();
        seen.push((frequency, power));
        let default = field(&asic, "defaultFrequency").unwrap_or(frequency);
        let options: Vec<f64> = asic
            .get("frequencyOptions")
            .and_then(Value::as_array)
            .map(|list| list.iter().filter_map(|f| crate::transport::cgminer::reply::number(Some(f))).collect())
            .unwrap_or_default();
        let steps = options
            .into_iter()
            .filter(|f| self.allow_overclock || *f <= default)
            .filter_map(|f| Some((format!("{f}"), (estimate(&seen, f)? * 10.0).round() / 10.0)))
            .collect();
        Ok(Steps { levels: steps, power, frequency, info })
    }
}

/// The frequency steps (MHz as text, watts), the power and frequency now, and the info they
/// came from.
struct Steps {
    levels: Vec<(String, f64)>,
    power: f64,
    frequency: f64,
    info: Value,
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

impl crate::devices::PowerTargetControl for Bitaxe {
    /// No watt target in AxeOS: the power now, bounded by what the allowed frequencies draw.
    fn target(&self, call: &Call) -> Result<crate::devices::PowerTarget, InputError> {
        let Steps { levels: steps, power, frequency, .. } = match self.steps(call) {
            Err(error) if error.kind == crate::transport::ErrorKind::Unavailable => {
                return Ok(crate::devices::PowerTarget::default());
            }
            other => other?,
        };
        let min = steps.iter().map(|(_, w)| *w).reduce(f64::min);
        let max = steps.iter().map(|(_, w)| *w).reduce(f64::max);
        Ok(crate::devices::PowerTarget { watts: Some(power), min, max, lever: Some(frequency), ..Default::default() })
    }

    /// `PATCH /api/system` with the highest allowed frequency whose watts are at or below
    /// the request, at the present core voltage; applied live, no restart.
    fn set_target(&self, watts: f64, call: &Call) -> Result<crate::devices::Applied, InputError> {
        let Steps { levels: steps, info, .. } = self.steps(call)?;
        let (frequency, applied) = crate::devices::lever_at_or_below(&steps, watts)
            .cloned()
            .ok_or_else(|| InputError::refused("AxeOS lists no frequency option"))?;
        let frequency: f64 = frequency.parse().unwrap_or_default();
        let voltage = field(&info, "coreVoltage");
        let mut body = serde_json::json!({ "frequency": frequency });
        if let Some(voltage) = voltage {
            body["coreVoltage"] = serde_json::json!(voltage);
        }
        let budget = call.budget().ok_or_else(InputError::deadline)?;
        let request = Request::new("PATCH", &format!("{}/api/system", self.url)).json_body(&body);
        let response =
            crate::transport::http::send(&request, budget).map_err(|e| InputError::from(e).context("AxeOS"))?;
        if !response.is_success() {
            let reason = String::from_utf8_lossy(&response.body).trim().to_string();
            return Err(InputError::refused(format!(
                "AxeOS refused {frequency} MHz (HTTP {}): {reason}",
                response.status
            )));
        }
        Ok(crate::devices::Applied { watts: applied, lever: Some(format!("{frequency} MHz")), restarts: false })
    }
}

impl Controller for Bitaxe {
    fn monitor(&self) -> Option<&dyn Monitor> {
        Some(self)
    }
    fn power_target(&self) -> Option<&dyn crate::devices::PowerTargetControl> {
        Some(self)
    }
}
