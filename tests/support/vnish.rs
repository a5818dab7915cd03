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
        let http = FakeHttp::start_at(ip, port, move |request| {
            let bearer = request.header("Authorization") == Some(&format!("Bearer {TOKEN}"));
            match (request.method.as_str(), request.url.as_str()) {
                ("POST", "/api/v1/unlock") => {
                    let body: Value = serde_json::from_str(&request.body).unwrap_or_default();
                    if body["pw"] == PASSWORD { json_answer(json!({"token": TOKEN})) } else { status(403) }
                }
                ("GET", "/api/v1/summary") => json_answer(summary(state.load(Ordering::SeqCst))),
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
        Some(FakeVnish { http })
    }
}

/// `/summary`: GH/s per chain and in total, W, fans by RPM, the miner's state.
pub fn summary(mining: bool) -> Value {
    let chain = |id: u32, gh: f64, chip: i64, pcb: i64| {
        json!({"id": id, "hashrate_rt": if mining { gh } else { 0.0 }, "chip_temp": {"min": chip - 9, "max": chip},
        "pcb_temp": {"min": pcb - 5, "max": pcb}, "frequency": 585, "voltage": 13800, "status": {"state": "mining"}})
    };
    json!({"miner": {"miner_type": "Antminer S19j Pro", "hr_realtime": if mining { 104_250.0 } else { 0.0 }, "hr_stock": 104_000.0,
    "power_consumption": if mining { 3050 } else { 90 },
    "miner_status": {"miner_state": if mining { "mining" } else { "stopped" }},
    "cooling": {"fans": [{"id": 1, "rpm": 4320}, {"id": 2, "rpm": 4350}, {"id": 3, "rpm": 4290}, {"id": 4, "rpm": 4380}]},
    "chains": [chain(1, 34_800.0, 71, 60), chain(2, 34_650.0, 73, 61), chain(3, 34_800.0, 72, 59)]}})
}
