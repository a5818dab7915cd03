//! `braiins_os`: Braiins OS. The REST API (≥ 25.07: log in for a token, then miner details,
//! stats, hashboards, cooling, pause/resume) is tried first; when it answers 404 or refuses
//! the connection, the firmware is older and 4028 is used (`pause`/`resume`), with the
//! legacy GraphQL API ([`graphql`]) for its power target.

mod graphql;

use std::time::Duration;

use serde_json::Value;

use crate::config::spec::{Address, ComponentSettings, TypeInfo, Typed};
use crate::core::feature::FeatureType;
use crate::core::reading::{DeviceInfo, Hashboard, MinerReading};
use crate::core::status::MinerStatus;
use crate::devices::antminer::WebMinerConfig;
use crate::devices::cgminer::{features_with, hashing_status, read_standard};
use crate::devices::{Build, Controller, ControllerSettings, MiningControl, Monitor};
use crate::transport::cgminer::Client;
use crate::transport::http::{HttpError, Request, send};
use crate::transport::{Call, InputError};

/// Braiins' `status` in miner details: 2 normal, 3 paused, 4 suspended.
const STATUS_NORMAL: i64 = 2;

pub const TYPE: Typed<BraiinsOsConfig> = Typed::new(
    TypeInfo::new(
        "braiins_os",
        "Braiins OS: its REST API (pause and resume, details, power target), with 4028 and the legacy GraphQL API as the fallback.",
        "{id: s19-bos, type: braiins_os, host: 192.168.1.45, password_file: bos-password}",
    )
    .miner(Address::Host),
);

/// Keys of the `braiins_os` type.
#[derive(Debug, Clone, serde::Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct BraiinsOsConfig(pub WebMinerConfig);

impl ComponentSettings for BraiinsOsConfig {
    fn features(&self) -> Vec<FeatureType> {
        use FeatureType::*;
        features_with(&[MiningControl, PowerMonitoring, MaxPowerDetection, PowerTargetControl])
    }
}

impl ControllerSettings for BraiinsOsConfig {
    fn build<'a>(&'a self, _: &Build<'a>) -> Option<Box<dyn Controller + 'a>> {
        Some(Box::new(BraiinsOs::new(&self.0)))
    }
}

pub struct BraiinsOs {
    client: Client,
    api: String,
    graphql: String,
    username: String,
    password: String,
}

/// Why the REST API could not be used.
enum Rest {
    /// Not there (older firmware): use 4028.
    Absent,
    Failed(InputError),
}

impl BraiinsOs {
    pub fn new(config: &WebMinerConfig) -> BraiinsOs {
        BraiinsOs {
            client: Client::new(&config.host, config.port),
            api: format!("{}/api/v1", config.web_url()),
            graphql: format!("{}/graphql", config.web_url()),
            username: config.username.clone().unwrap_or_else(|| "root".into()),
            password: config.password.as_ref().map(|p| p.expose().to_string()).unwrap_or_default(),
        }
    }

    fn budget(call: &Call) -> Result<Duration, Rest> {
        call.budget().ok_or_else(|| Rest::Failed(InputError::deadline()))
    }

    fn request(&self, request: Request, call: &Call) -> Result<Value, Rest> {
        let response = send(&request, Self::budget(call)?).map_err(|err| match err {
            HttpError::Connection(_) => Rest::Absent,
            other => Rest::Failed(InputError::from(other).context(&request.url)),
        })?;
        match response.status {
            200..=299 if response.body.is_empty() => Ok(Value::Null),
            200..=299 => {
                response.json().map_err(|e| Rest::Failed(InputError::invalid(format!("{}: {e}", request.url))))
            }
            404 => Err(Rest::Absent),
            401 | 403 => {
                Err(Rest::Failed(InputError::auth("REST API: authentication failed (check username and password)")))
            }
            status => Err(Rest::Failed(InputError::refused(format!("{}: HTTP {status}", request.url)))),
        }
    }

    fn login(&self, call: &Call) -> Result<String, Rest> {
        let body = serde_json::json!({"username": self.username, "password": self.password});
        let reply = self.request(Request::new("POST", &format!("{}/auth/login", self.api)).json_body(&body), call)?;
        reply
            .get("token")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| Rest::Failed(InputError::invalid("login returned no token")))
    }

    fn get(&self, token: &str, path: &str, call: &Call) -> Result<Value, Rest> {
        self.request(Request::get(&format!("{}/{path}", self.api)).header("Authorization", token.to_string()), call)
    }

    fn read_rest(&self, call: &Call) -> Result<MinerReading, Rest> {
        let token = self.login(call)?;
        let details = self.get(&token, "miner/details", call)?;
        let stats = self.get(&token, "miner/stats", call)?;
        let boards = self.get(&token, "miner/hw/hashboards", call).ok();
        let cooling = self.get(&token, "cooling/state", call).ok();
        let tuner = self.get(&token, "performance/tuner-state", call).ok();
        Ok(rest_reading(&details, &stats, boards.as_ref(), cooling.as_ref(), tuner.as_ref()))
    }

    /// The GraphQL API of builds without REST.
    fn legacy(&self) -> graphql::Graphql<'_> {
        graphql::Graphql { url: self.graphql.clone(), username: &self.username, password: &self.password }
    }

    fn act(&self, action: &str, fallback: &str, call: &Call) -> Result<(), InputError> {
        let rest = self.login(call).and_then(|token| {
            let request = Request::new("PUT", &format!("{}/actions/{action}", self.api))
                .header("Authorization", token.to_string());
            self.request(request, call)
        });
        match rest {
            Ok(_) => Ok(()),
            Err(Rest::Absent) => self.client.command(fallback, None, call).map(|_| ()),
            Err(Rest::Failed(error)) => Err(error),
        }
    }
}

/// Gigahash objects (`{"gigahash_per_second": x}`, or mega/tera) in TH/s.
fn terahash(value: Option<&Value>) -> Option<f64> {
    let value = value?;
    let units = [("terahash_per_second", 1.0), ("gigahash_per_second", 1e-3), ("megahash_per_second", 1e-6)];
    units
        .iter()
        .find_map(|(key, factor)| value.get(key).and_then(Value::as_f64).map(|v| v * factor))
        .filter(|v| v.is_finite())
}

fn at(value: &Value, path: &[&str]) -> Option<f64> {
    path.iter().try_fold(value, |v, key| v.get(key))?.as_f64().filter(|v| v.is_finite())
}

/// The reading assembled from the REST replies.
pub fn rest_reading(
    details: &Value,
    stats: &Value,
    boards: Option<&Value>,
    cooling: Option<&Value>,
    tuner: Option<&Value>,
) -> MinerReading {
    let real = stats.pointer("/miner_stats/real_hashrate");
    let hashrate = ["last_5s", "last_15s", "last_30s", "last_1m", "last_5m", "last_15m"]
        .iter()
        .find_map(|window| terahash(real.and_then(|r| r.get(*window))));
    let mut reading = MinerReading {
        hashrate: hashrate.map(|h| h.max(0.0)),
        power: at(stats, &["power_stats", "approximated_consumption", "watt"]),
        blocks_found: at(stats, &["miner_stats", "found_blocks"]).map(|b| b as u64),
        uptime: at(details, &["bosminer_uptime_s"]).map(|s| s as u64),
        max_hashrate: terahash(details.get("sticker_hashrate"))
            .or_else(|| terahash(stats.pointer("/miner_stats/nominal_hashrate"))),
        max_power: tuner.and_then(|t| at(t, &["mode_state", "powertargetmodestate", "current_target", "watt"])),
        ..MinerReading::default()
    };
    reading.status = Some(match details.get("status").and_then(Value::as_i64) {
        Some(STATUS_NORMAL) => hashing_status(&reading),
        Some(_) => MinerStatus::Off,
        None => hashing_status(&reading),
    });
    reading.hashboards = boards.and_then(|b| b.get("hashboards")).and_then(Value::as_array).map(|list| {
        list.iter()
            .enumerate()
            .map(|(i, board)| Hashboard {
                index: board
                    .get("id")
                    .and_then(Value::as_str)
                    .and_then(|id| id.parse::<u32>().ok())
                    .map_or(i as u32, |id| id.saturating_sub(1)),
                chip_temperature: at(board, &["highest_chip_temp", "temperature", "degree_c"]),
                board_temperature: at(board, &["board_temp", "degree_c"]),
                voltage: at(board, &["current_voltage", "volt"]),
                frequency: at(board, &["current_frequency", "hertz"]).map(|hz| hz / 1e6),
                hash_rate: terahash(board.pointer("/stats/real_hashrate/last_5s")),
                nominal_hash_rate: terahash(board.pointer("/stats/nominal_hashrate")),
            })
            .collect()
    });
    reading.internal_fans = cooling
        .and_then(|c| c.get("fans"))
        .and_then(Value::as_array)
        .map(|fans| fans.iter().filter_map(|f| f.get("rpm").and_then(Value::as_f64)).collect());
    reading.device_info = Some(DeviceInfo {
        model: details.pointer("/miner_identity/miner_model").and_then(Value::as_str).map(str::to_string),
        serial_number: details.get("serial_number").and_then(Value::as_str).map(str::to_string),
        firmware_type: Some("Braiins OS".into()),
        firmware_version: details.pointer("/bos_version/current").and_then(Value::as_str).map(str::to_string),
        mac_address: details.get("mac_address").and_then(Value::as_str).map(str::to_string),
        hostname: details.get("hostname").and_then(Value::as_str).map(str::to_string),
        hashboard_count: reading.hashboards.as_ref().map(|b| b.len() as u32),
        ..DeviceInfo::default()
    });
    reading
}

impl Monitor for BraiinsOs {
    fn read(&self, _wanted: &[FeatureType], call: &Call) -> Result<MinerReading, InputError> {
        match self.read_rest(call) {
            Ok(reading) => Ok(reading),
            Err(Rest::Failed(error)) => Err(error),
            Err(Rest::Absent) => {
                let (mut reading, replies) = read_standard(&self.client, &["fans"], call)?;
                if let Some(fans) = replies.get("fans") {
                    let rpm: Vec<f64> = crate::transport::cgminer::reply::section(fans, "FANS")
                        .iter()
                        .filter_map(|f| crate::transport::cgminer::reply::field(f, "RPM"))
                        .collect();
                    if !rpm.is_empty() {
                        reading.internal_fans = Some(rpm);
                    }
                }
                reading.status = Some(hashing_status(&reading));
                Ok(reading)
            }
        }
    }
}

impl MiningControl for BraiinsOs {
    fn start_mining(&self, call: &Call) -> Result<(), InputError> {
        self.act("resume", "resume", call)
    }

    fn stop_mining(&self, call: &Call) -> Result<(), InputError> {
        self.act("pause", "pause", call)
    }
}

impl crate::devices::PowerTargetControl for BraiinsOs {
    /// `configuration/constraints` for the bounds, `performance/tuner-state` for the target
    /// the tuner holds now (it may differ from the configured one while DPS scales).
    fn target(&self, call: &Call) -> Result<crate::devices::PowerTarget, InputError> {
        let token = match self.login(call) {
            Ok(token) => token,
            Err(Rest::Absent) => return self.legacy().target(call),
            Err(Rest::Failed(error)) => return Err(error),
        };
        // A build without constraints gives no bounds, not a failure.
        let constraints = self.get(&token, "configuration/constraints", call).ok();
        let bound = |which: &str| at(constraints.as_ref()?, &["tuner_constraints", "power_target", which, "watt"]);
        let tuner = self.get(&token, "performance/tuner-state", call).ok();
        let live =
            tuner.as_ref().and_then(|t| at(t, &["mode_state", "powertargetmodestate", "current_target", "watt"]));
        let configured = || {
            let miner = self.get(&token, "configuration/miner", call).ok()?;
            at(&miner, &["tuner", "power_target", "watt"])
        };
        // overall_tuner_state: 3 tuning, 6 preheat (2 stable, 5 continuous).
        let settling = tuner.as_ref().and_then(|t| t.get("overall_tuner_state")).and_then(Value::as_i64);
        Ok(crate::devices::PowerTarget {
            watts: live.or_else(configured),
            min: bound("min"),
            max: bound("max"),
            settling: matches!(settling, Some(3 | 6)),
            lever: None,
        })
    }

    /// `PUT /api/v1/performance/power-target {"watt": N}`: live, no restart.
    fn set_target(&self, watts: f64, call: &Call) -> Result<crate::devices::Applied, InputError> {
        let token = match self.login(call) {
            Ok(token) => token,
            Err(Rest::Absent) => return self.legacy().set_target(watts, call),
            Err(Rest::Failed(error)) => return Err(error),
        };
        let watt = watts.round() as i64;
        let request = Request::new("PUT", &format!("{}/performance/power-target", self.api))
            .header("Authorization", token)
            .json_body(&serde_json::json!({ "watt": watt }));
        let budget = call.budget().ok_or_else(InputError::deadline)?;
        let response = send(&request, budget).map_err(|e| InputError::from(e).context("Braiins OS power-target"))?;
        match response.status {
            200..=299 => {
                let echoed = response.json().ok().and_then(|v| v.get("watt").and_then(Value::as_f64));
                Ok(crate::devices::Applied { watts: echoed.unwrap_or(watt as f64), lever: None, restarts: false })
            }
            401 | 403 => Err(InputError::auth("Braiins OS refused the token (check username and password)")),
            status => {
                let reason = String::from_utf8_lossy(&response.body).trim().chars().take(300).collect::<String>();
                Err(InputError::refused(format!(
                    "Braiins OS refused the power target {watt} W (HTTP {status}): {reason}"
                )))
            }
        }
    }
}

impl Controller for BraiinsOs {
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
