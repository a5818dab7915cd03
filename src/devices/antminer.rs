//! `antminer`: Bitmain stock firmware. Reads on 4028; the work mode (normal or sleep) over
//! the web interface's CGI with digest authentication, which is also how it is switched.

use serde::Deserialize;
use serde_json::Value;

use crate::config::secret::Secret;
use crate::config::spec::{Address, ComponentSettings, TypeInfo, Typed};
use crate::core::feature::FeatureType;
use crate::core::reading::MinerReading;
use crate::core::status::MinerStatus;
use crate::devices::cgminer::{default_port, features_with, hashing_status, read_standard};
use crate::devices::{Build, Controller, ControllerSettings, MiningControl, Monitor};
use crate::transport::cgminer::Client;
use crate::transport::http::{Request, send_digest};
use crate::transport::{Call, InputError};

/// Keys of the `antminer` and `braiins_os` types: 4028 plus a web interface.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebMinerConfig {
    pub host: String,
    #[serde(default = "default_port")]
    pub port: u16,
    /// Default `http://<host>`.
    pub web_url: Option<String>,
    pub username: Option<String>,
    pub password: Option<Secret>,
}

impl WebMinerConfig {
    pub fn web_url(&self) -> String {
        self.web_url.clone().unwrap_or_else(|| format!("http://{}", self.host)).trim_end_matches('/').to_string()
    }
}

const SLEEP: &str = "1";
const NORMAL: &str = "0";

pub const TYPE: Typed<AntminerConfig> = Typed::new(
    TypeInfo::new(
        "antminer",
        "Bitmain Antminer on stock firmware: 4028 reads, sleep and wake through the web CGI.",
        "{id: s19-stock, type: antminer, host: 192.168.1.44, username: root, password: root}",
    )
    .miner(Address::Host),
);

/// Keys of the `antminer` type.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AntminerConfig {
    /// The miner's address (name or IP).
    pub host: String,
    /// The CGMiner API port.
    #[serde(default = "default_port")]
    pub port: u16,
    /// Default `http://<host>`.
    pub web_url: Option<String>,
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// What the miner draws in low-power mode, W: the two modes become two power targets
    /// (normal stands for the miner's `power_max`).
    pub low_power_watts: Option<f64>,
}

impl AntminerConfig {
    fn web(&self) -> WebMinerConfig {
        WebMinerConfig {
            host: self.host.clone(),
            port: self.port,
            web_url: self.web_url.clone(),
            username: self.username.clone(),
            password: self.password.clone(),
        }
    }
}

impl ComponentSettings for AntminerConfig {
    fn features(&self) -> Vec<FeatureType> {
        use FeatureType::*;
        let mut features = features_with(&[MiningControl, MaxHashrateDetection]);
        if self.low_power_watts.is_some() {
            features.push(PowerTargetControl);
        }
        features
    }
}

impl ControllerSettings for AntminerConfig {
    fn build<'a>(&'a self, build: &Build<'a>) -> Option<Box<dyn Controller + 'a>> {
        let mut antminer = Antminer::new(&self.web());
        antminer.modes = self.low_power_watts.map(|low| (low, build.owner().and_then(|m| m.power_max)));
        Some(Box::new(antminer))
    }
}

/// `miner-mode` 3: low power, as asic-rs and pyasic write it.
const LOW_POWER: &str = "3";

pub struct Antminer {
    client: Client,
    web_url: String,
    username: String,
    password: String,
    /// (low-power watts, normal watts) when the modes stand for power targets.
    modes: Option<(f64, Option<f64>)>,
}

impl Antminer {
    pub fn new(config: &WebMinerConfig) -> Antminer {
        Antminer {
            client: Client::new(&config.host, config.port),
            web_url: config.web_url(),
            username: config.username.clone().unwrap_or_else(|| "root".into()),
            password: config.password.as_ref().map_or_else(|| "root".into(), |p| p.expose().to_string()),
            modes: None,
        }
    }

    /// The two modes as levers: (mode, watts).
    fn levels(&self) -> Vec<(String, f64)> {
        let Some((low, normal)) = self.modes else { return Vec::new() };
        let mut levels = vec![(LOW_POWER.to_string(), low)];
        levels.extend(normal.map(|watts| (NORMAL.to_string(), watts)));
        levels
    }

    fn cgi(&self, name: &str, body: Option<&Value>, call: &Call) -> Result<Value, InputError> {
        let budget = call.budget().ok_or_else(InputError::deadline)?;
        let url = format!("{}/cgi-bin/{name}.cgi", self.web_url);
        let request = match body {
            Some(body) => Request::new("POST", &url).json_body(body),
            None => Request::get(&url),
        };
        let response = send_digest(&request, &self.username, &self.password, budget)
            .map_err(|e| InputError::from(e).context(name))?;
        match response.status {
            200..=299 => response.json().map_err(|e| InputError::invalid(format!("{name}: {e}"))),
            401 | 403 => Err(InputError::auth(format!("{name}: authentication failed (check username and password)"))),
            status => Err(InputError::refused(format!("{name}: HTTP {status}"))),
        }
    }

    /// Reads the miner configuration, sets the work mode, writes it back.
    fn set_mode(&self, mode: &str, call: &Call) -> Result<(), InputError> {
        let mut conf = self.cgi("get_miner_conf", None, call)?;
        let Some(map) = conf.as_object_mut() else {
            return Err(InputError::invalid("get_miner_conf: not a JSON object"));
        };
        map.insert("bitmain-work-mode".into(), Value::String(mode.into()));
        map.insert("miner-mode".into(), Value::from(mode.parse::<i64>().unwrap_or(0)));
        let reply = self.cgi("set_miner_conf", Some(&conf), call)?;
        let failed = reply.get("stats").and_then(Value::as_str).is_some_and(|s| s.eq_ignore_ascii_case("error"));
        if failed {
            return Err(InputError::refused(format!("set_miner_conf refused: {reply}")));
        }
        Ok(())
    }
}

/// The work mode from `get_miner_conf` (`"1"`, or `1`), if it says.
fn mode(conf: &Value) -> Option<String> {
    let mode = conf.get("miner-mode").or_else(|| conf.get("bitmain-work-mode"))?;
    match mode {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Whether the work mode is sleep.
fn sleeping(conf: &Value) -> Option<bool> {
    mode(conf).map(|m| m == SLEEP)
}

impl crate::devices::PowerTargetControl for Antminer {
    /// Normal or low power, as the watts each stands for.
    fn target(&self, call: &Call) -> Result<crate::devices::PowerTarget, InputError> {
        let levels = self.levels();
        let current = mode(&self.cgi("get_miner_conf", None, call)?);
        let watts = levels.iter().find(|(m, _)| Some(m) == current.as_ref()).map(|(_, w)| *w);
        let min = levels.iter().map(|(_, w)| *w).reduce(f64::min);
        let max = levels.iter().map(|(_, w)| *w).reduce(f64::max);
        Ok(crate::devices::PowerTarget { watts, min, max, ..Default::default() })
    }

    /// Low power below the normal watts, normal at or above them.
    fn set_target(&self, watts: f64, call: &Call) -> Result<crate::devices::Applied, InputError> {
        let levels = self.levels();
        let (mode, applied) = crate::devices::lever_at_or_below(&levels, watts)
            .cloned()
            .ok_or_else(|| InputError::not_configured("no low_power_watts: the modes stand for no power target"))?;
        self.set_mode(&mode, call)?;
        let name = if mode == LOW_POWER { "low-power mode" } else { "normal mode" };
        Ok(crate::devices::Applied { watts: applied, lever: Some(name.into()), restarts: false })
    }
}

impl Monitor for Antminer {
    fn read(&self, _wanted: &[FeatureType], call: &Call) -> Result<MinerReading, InputError> {
        let (mut reading, _) = read_standard(&self.client, &[], call)?;
        let asleep = self.cgi("get_miner_conf", None, call).ok().as_ref().and_then(sleeping);
        reading.status = Some(if asleep == Some(true) { MinerStatus::Off } else { hashing_status(&reading) });
        Ok(reading)
    }
}

impl MiningControl for Antminer {
    fn start_mining(&self, call: &Call) -> Result<(), InputError> {
        self.set_mode(NORMAL, call)
    }

    fn stop_mining(&self, call: &Call) -> Result<(), InputError> {
        self.set_mode(SLEEP, call)
    }
}

impl Controller for Antminer {
    fn monitor(&self) -> Option<&dyn Monitor> {
        Some(self)
    }
    fn power_target(&self) -> Option<&dyn crate::devices::PowerTargetControl> {
        self.modes.map(|_| self as &dyn crate::devices::PowerTargetControl)
    }
    fn mining_control(&self) -> Option<&dyn MiningControl> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn work_mode_in_both_shapes() {
        assert_eq!(sleeping(&json!({"bitmain-work-mode": "1"})), Some(true));
        assert_eq!(sleeping(&json!({"bitmain-work-mode": "0"})), Some(false));
        assert_eq!(sleeping(&json!({"miner-mode": 1})), Some(true));
        assert_eq!(sleeping(&json!({"pools": []})), None);
    }
}
