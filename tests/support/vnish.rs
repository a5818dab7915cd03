//! A fake VNish REST API: `unlock` gives a bearer token; `summary` reports the miner,
//! which `mining/stop` and `mining/start` switch. Every request is recorded.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};

use crate::support::http::{Answer, FakeHttp, json as json_answer, status};

pub const PASSWORD: &str = "vnish-pw";
const TOKEN: &str = "vnish-token-1";

pub struct FakeVnish {
    pub http: FakeHttp,
    preset: Arc<std::sync::Mutex<String>>,
    power: Arc<std::sync::Mutex<f64>>,
}

impl FakeVnish {
    pub fn start() -> FakeVnish {
        FakeVnish::start_on("127.0.0.1")
    }

    pub fn start_on(ip: &str) -> FakeVnish {
        FakeVnish::start_at(ip, 0).expect("bind fake VNish")
    }

    /// On a given port (None when it is taken).
    pub fn start_at(ip: &str, port: u16) -> Option<FakeVnish> {
        let mining = Arc::new(AtomicBool::new(true));
        let state = mining.clone();
        let preset = Arc::new(std::sync::Mutex::new("3250".to_string()));
        let chosen = preset.clone();
        let power = Arc::new(std::sync::Mutex::new(3050.0));
        let drawn = power.clone();
        let http = FakeHttp::start_at(ip, port, move |request| {
            let bearer = request.header("Authorization") == Some(&format!("Bearer {TOKEN}"));
            match (request.method.as_str(), request.url.as_str()) {
                ("POST", "/api/v1/unlock") => {
                    let body: Value = serde_json::from_str(&request.body).unwrap_or_default();
                    if body["pw"] == PASSWORD { json_answer(json!({"token": TOKEN})) } else { status(403) }
                }
                ("GET", "/api/v1/summary") => {
                    json_answer(summary(state.load(Ordering::SeqCst), *drawn.lock().unwrap()))
                }
                (_, "/api/v1/autotune/presets" | "/api/v1/settings") if !bearer => status(401),
                ("GET", "/api/v1/autotune/presets") => json_answer(json!([
                    {"name": "2400", "pretty": "2400 watt ~ 82 TH", "status": "tuned"},
                    {"name": "2800", "pretty": "2800 watt ~ 93 TH", "status": "untuned"},
                    {"name": "3000", "pretty": "3000 watt ~ 98 TH", "status": "tuned"},
                    {"name": "3250", "pretty": "3250 watt ~ 104 TH", "status": "tuned"}])),
                ("GET", "/api/v1/settings") => {
                    json_answer(json!({"miner": {"overclock": {"preset": *chosen.lock().unwrap(),
                    "globals": {"volt": 1360, "freq": 585}, "preset_switcher": {"enabled": false}}}}))
                }
                ("POST", "/api/v1/settings") => {
                    let body: Value = serde_json::from_str(&request.body).unwrap_or_default();
                    if let Some(name) = body.pointer("/miner/overclock/preset").and_then(Value::as_str) {
                        *chosen.lock().unwrap() = name.to_string();
                    }
                    json_answer(json!({"restart_required": false, "reboot_required": false}))
                }
                ("POST", "/api/v1/mining/stop" | "/api/v1/mining/start") if !bearer => status(401),
                ("POST", "/api/v1/mining/stop") => {
                    state.store(false, Ordering::SeqCst);
                    Answer::Text(200, String::new(), vec![])
                }
                ("POST", "/api/v1/mining/start") => {
                    state.store(true, Ordering::SeqCst);
                    Answer::Text(200, String::new(), vec![])
                }
                _ => status(404),
            }
        })?;
        Some(FakeVnish { http, preset, power })
    }
}

impl FakeVnish {
    /// The preset the settings hold now.
    pub fn preset(&self) -> String {
        self.preset.lock().unwrap().clone()
    }

    /// What the miner draws while mining from now on, W (3050 at start).
    pub fn set_power(&self, watts: f64) {
        *self.power.lock().unwrap() = watts;
    }
}

/// `/summary` of a miner drawing `watts` while mining: GH/s per chain and in total, fans by RPM, its state.
pub fn summary(mining: bool, watts: f64) -> Value {
    let chain = |id: u32, gh: f64, chip: i64, pcb: i64| {
        json!({"id": id, "hashrate_rt": if mining { gh } else { 0.0 }, "chip_temp": {"min": chip - 9, "max": chip},
        "pcb_temp": {"min": pcb - 5, "max": pcb}, "frequency": 585, "voltage": 13800, "status": {"state": "mining"}})
    };
    json!({"miner": {"miner_type": "Antminer S19j Pro", "hr_realtime": if mining { 104_250.0 } else { 0.0 }, "hr_stock": 104_000.0,
    "power_consumption": if mining { watts } else { 90.0 },
    "miner_status": {"miner_state": if mining { "mining" } else { "stopped" }},
    "cooling": {"fans": [{"id": 1, "rpm": 4320}, {"id": 2, "rpm": 4350}, {"id": 3, "rpm": 4290}, {"id": 4, "rpm": 4380}]},
    "chains": [chain(1, 34_800.0, 71, 60), chain(2, 34_650.0, 73, 61), chain(3, 34_800.0, 72, 59)]}})
}
