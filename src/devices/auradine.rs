//! `auradine`: Auradine Teraflux (FluxOS, GCMiner) miners.
//!
//! Reads go to GCMiner on port 4028: the standard `summary`, `devs` and `version`, and
//! GCMiner's own `psu` (input power, as `"58.94W"` strings), `fan`, `temperature` (per board,
//! chip and board sensors) and `mode` (`Sleep: "on"` when it sleeps), each optional. Sleep and
//! wake go to its REST API (`web_url`, port 8080): `POST /token`, then `POST /mode` with the
//! `Token` header.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::config::secret::Secret;
use crate::config::spec::{Address, ComponentSettings, TypeInfo, Typed};
use crate::core::feature::FeatureType;
use crate::core::reading::{Hashboard, MinerReading};
use crate::core::status::MinerStatus;
use crate::devices::cgminer::{default_port, features_with, hashing_status, read_standard};
use crate::devices::{Build, Controller, ControllerSettings, MiningControl, Monitor};
use crate::transport::cgminer::Client;
use crate::transport::cgminer::readings::plausible_temperature;
use crate::transport::cgminer::reply::{field, field_text, first, section};
use crate::transport::http::{Request, fetch_json};
use crate::transport::{Call, InputError};

pub const TYPE: Typed<AuradineConfig> = Typed::new(
    TypeInfo::new(
        "auradine",
        "Auradine Teraflux (FluxOS): GCMiner on port 4028, sleep and wake through its REST API.",
        "{id: at1500, type: auradine, host: 192.168.1.48, password_file: auradine-password}",
    )
    .miner(Address::Host),
);

/// Keys of the `auradine` type.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuradineConfig {
    /// The miner's address (name or IP).
    pub host: String,
    /// The GCMiner API port.
    #[serde(default = "default_port")]
    pub port: u16,
    /// The REST API; default `http://<host>:8080`.
    pub web_url: Option<String>,
    /// The web user (default `admin`).
    pub username: Option<String>,
    /// The web password.
    pub password: Option<Secret>,
}

impl ComponentSettings for AuradineConfig {
    fn features(&self) -> Vec<FeatureType> {
        use FeatureType::*;
        features_with(&[PowerMonitoring, MiningControl])
    }
}

impl ControllerSettings for AuradineConfig {
    fn build<'a>(&'a self, _: &Build<'a>) -> Option<Box<dyn Controller + 'a>> {
        Some(Box::new(Auradine::new(self)))
    }
}

pub struct Auradine {
    client: Client,
    web: String,
    username: String,
    password: String,
}

impl Auradine {
    pub fn new(config: &AuradineConfig) -> Auradine {
        let web = config.web_url.clone().unwrap_or_else(|| format!("http://{}:8080", config.host));
        Auradine {
            client: Client::new(&config.host, config.port),
            web: web.trim_end_matches('/').to_string(),
            username: config.username.clone().unwrap_or_else(|| "admin".into()),
            password: config.password.as_ref().map(|p| p.expose().to_string()).unwrap_or_default(),
        }
    }

    fn sleep(&self, on: bool, call: &Call) -> Result<(), InputError> {
        let budget = || call.budget().ok_or_else(InputError::deadline);
        let login = json!({"command": "token", "user": self.username, "password": self.password});
        let reply = fetch_json(&Request::new("POST", &format!("{}/token", self.web)).json_body(&login), budget()?)?;
        crate::transport::cgminer::reply::check_status(&reply)
            .map_err(|e| InputError::auth(format!("Auradine token: {e}")))?;
        let token = reply
            .pointer("/Token/0/Token")
            .and_then(Value::as_str)
            .ok_or_else(|| InputError::invalid("Auradine `token` returned no /Token/0/Token"))?;
        let body = json!({"command": "mode", "sleep": if on { "on" } else { "off" }});
        let request = Request::new("POST", &format!("{}/mode", self.web)).header("Token", token).json_body(&body);
        let reply = fetch_json(&request, budget()?)?;
        crate::transport::cgminer::reply::check_status(&reply)
            .map_err(|e| InputError::refused(format!("Auradine mode: {e}")))
    }
}

/// GCMiner's own replies: input power, fans, per-board temperatures, and sleep.
pub fn apply_gcminer(
    reading: &mut MinerReading,
    psu: Option<&Value>,
    fan: Option<&Value>,
    temperature: Option<&Value>,
) {
    if let Some(power) = psu.and_then(|p| first(p, "PSU")).and_then(|p| field(p, "PowerIn")) {
        reading.power = Some(power.max(0.0));
    }
    let fans: Vec<f64> =
        fan.map(|f| section(f, "Fan").iter().filter_map(|f| field(f, "Speed")).collect()).unwrap_or_default();
    if !fans.is_empty() {
        reading.internal_fans = Some(fans);
    }
    let Some(temperature) = temperature else { return };
    let sensors = |entry: &Value, key: &str| -> Option<f64> {
        let list = entry.get(key)?.as_array()?;
        list.iter().filter_map(|s| field(s, "Temperature")).filter(plausible_temperature).reduce(f64::max)
    };
    let boards: Vec<(u32, Option<f64>, Option<f64>)> = section(temperature, "Temperature")
        .iter()
        .filter(|e| field_text(e, "Name").is_some_and(|n| n.to_ascii_lowercase().contains("hash")))
        .map(|e| (field(e, "ID").map_or(0, |i| i as u32), sensors(e, "ChipTemp"), sensors(e, "BoardTemp")))
        .collect();
    let known = reading.hashboards.get_or_insert_with(Vec::new);
    for (position, (id, chip, board)) in boards.into_iter().enumerate() {
        let index = id.saturating_sub(1);
        match known.iter_mut().find(|b| b.index == index) {
            Some(existing) => {
                existing.chip_temperature = existing.chip_temperature.or(chip);
                existing.board_temperature = existing.board_temperature.or(board);
            }
            None => known.push(Hashboard {
                index: if index == 0 { position as u32 } else { index },
                chip_temperature: chip,
                board_temperature: board,
                ..Hashboard::default()
            }),
        }
    }
}

/// `mode` → `Sleep: "on"`.
fn asleep(mode: &Value) -> bool {
    first(mode, "Mode").and_then(|m| field_text(m, "Sleep")).is_some_and(|s| s.eq_ignore_ascii_case("on"))
}

/// The commands `read` sends beside the standard ones.
const READ_EXTRA: [&str; 4] = ["psu", "fan", "temperature", "mode"];

impl Monitor for Auradine {
    fn read(&self, _wanted: &[FeatureType], call: &Call) -> Result<MinerReading, InputError> {
        let (mut reading, replies) = read_standard(&self.client, &READ_EXTRA, call)?;
        apply_gcminer(&mut reading, replies.get("psu"), replies.get("fan"), replies.get("temperature"));
        reading.status =
            Some(if replies.get("mode").is_some_and(asleep) { MinerStatus::Off } else { hashing_status(&reading) });
        Ok(reading)
    }

    fn opening(&self, budget: std::time::Duration) -> Option<crate::transport::cgminer::Opening<'_>> {
        Some(crate::devices::cgminer::standard_opening(&self.client, &READ_EXTRA, budget))
    }
}

impl MiningControl for Auradine {
    fn start_mining(&self, call: &Call) -> Result<(), InputError> {
        self.sleep(false, call)
    }

    fn stop_mining(&self, call: &Call) -> Result<(), InputError> {
        self.sleep(true, call)
    }
}

impl Controller for Auradine {
    fn monitor(&self) -> Option<&dyn Monitor> {
        Some(self)
    }
    fn mining_control(&self) -> Option<&dyn MiningControl> {
        Some(self)
    }
}
