//! A fake ePIC PowerPlay API (HTTP on the 4028 port): `/summary`, `/temps/chip`, and
//! `POST /miner` with the password in the body. Every request is recorded.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};

use crate::support::http::{FakeHttp, json as json_answer, status};

pub const PASSWORD: &str = "epic-pw";

pub struct FakeEpic {
    pub http: FakeHttp,
    power: Arc<std::sync::Mutex<f64>>,
}

impl FakeEpic {
    pub fn start() -> FakeEpic {
        let mining = Arc::new(AtomicBool::new(true));
        let state = mining.clone();
        let power = Arc::new(std::sync::Mutex::new(2870.5));
        let drawn = power.clone();
        let http = FakeHttp::start(move |request| match (request.method.as_str(), request.url.as_str()) {
            ("GET", "/summary") => json_answer(summary(state.load(Ordering::SeqCst), *drawn.lock().unwrap())),
            ("GET", "/temps/chip") => json_answer(json!([
                {"Index": 0, "Data": [64, 71, 69, 0], "Total": 4},
                {"Index": 1, "Data": [66, 70, 72, 68], "Total": 4},
                {"Index": 2, "Data": [65, 69, 70, 67], "Total": 4}])),
            ("GET", "/capabilities") => json_answer(json!({"Model": "Antminer S19 XP", "PerpetualTune": [
                {"algorithm": "VoltageOptimizer", "name": "Voltage", "min": 60, "max": 300},
                {"algorithm": "Power", "name": "Power Target", "min": 1500, "max": 3000, "description": "watts"}]})),
            ("POST", "/perpetualtune/algo") => {
                let body: Value = serde_json::from_str(&request.body).unwrap_or_default();
                if body["password"] != PASSWORD {
                    return json_answer(json!({"result": false, "error": "BadPassword"}));
                }
                json_answer(json!({"result": true, "error": null}))
            }
            ("POST", "/miner") => {
                let body: Value = serde_json::from_str(&request.body).unwrap_or_default();
                if body["password"] != PASSWORD {
                    return json_answer(json!({"result": false, "error": "BadPassword"}));
                }
                state.store(body["param"] == "Autostart", Ordering::SeqCst);
                json_answer(json!({"result": true, "error": null}))
            }
            _ => status(404),
        });
        FakeEpic { http, power }
    }

    /// What the PSU reports while mining from now on, W (2870.5 at start).
    pub fn set_power(&self, watts: f64) {
        *self.power.lock().unwrap() = watts;
    }
}

/// `/summary` of a miner whose PSU gives `watts` while mining: MH/s per hashboard, fans by name.
pub fn summary(mining: bool, watts: f64) -> Value {
    let hb = |index: u32, mhs: f64| json!({"Index": index, "Hashrate": [if mining { mhs } else { 0.0 }, 97.1, 35.9], "Core Clock Avg": 480.0, "Input Voltage": 13950});
    json!({"Status": {"Operating State": if mining { "Mining" } else { "Idling" }}, "Hostname": "s19xp-epic",
    "Software": "PowerPlay-BMS v1.17.2", "Power Supply Stats": {"Input Power": if mining { watts } else { 40.0 }},
    "Fans Rpm": {"Fan 1": 3210, "Fan 2": 3180, "Fan 3": 3240, "Fan 4": 3200}, "Session": {"Uptime": 7200},
    "HBs": [hb(0, 46_500_000.0), hb(1, 46_100_000.0), hb(2, 46_300_000.0)]})
}
