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
#[serde(transparent)]
pub struct AntminerConfig(pub WebMinerConfig);

impl ComponentSettings for AntminerConfig {
    fn features(&self) -> Vec<FeatureType> {
        features_with(&[FeatureType::MiningControl, FeatureType::MaxHashrateDetection])
    }
}

impl ControllerSettings for AntminerConfig {
    fn build<'a>(&'a self, _: &Build<'a>) -> Option<Box<dyn Controller + 'a>> {
        Some(Box::new(Antminer::new(&self.0)))
    }
}

pub struct Antminer {
    client: Client,
    web_url: String,
    username: String,
    password: String,
}

impl Antminer {
    pub fn new(config: &WebMinerConfig) -> Antminer {
        Antminer {
            client: Client::new(&config.host, config.port),
            web_url: config.web_url(),
            username: config.username.clone().unwrap_or_else(|| "root".into()),
            password: config.password.as_ref().map_or_else(|| "root".into(), |p| p.expose().to_string()),
        }
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

/// The work mode from `get_miner_conf` (`"1"` or `1` is sleep), if it says.
fn sleeping(conf: &Value) -> Option<bool> {
    let mode = conf.get("bitmain-work-mode").or_else(|| conf.get("miner-mode"))?;
    let text = match mode {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    Some(text == SLEEP)
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
