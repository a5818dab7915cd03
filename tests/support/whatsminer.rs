//! Whatsminer: API v1 and v2 replies (for the CGMiner fake) and an API v3 server
//! (length-prefixed JSON on its own port).
//! Written from the documented formats, not copied from captures.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::cgminer::reply;

/// Whatsminer v1: power, limit, chip temperatures and fans in the summary; flat `status`.
pub fn whatsminer_summary() -> String {
    reply(
        "SUMMARY",
        json!([{"Elapsed": 10000, "MHS 5s": 88_300_000.0, "MHS av": 88_000_000.0, "Power": 3360, "Power Limit": 3600,
        "Chip Temp Max": 88.5, "Chip Temp Avg": 80.2, "Fan Speed In": 5100, "Fan Speed Out": 5130, "MAC": "C4:08:28:00:00:01",
        "Firmware Version": "'20230101.11.REL'", "Factory GHS": 90000, "Found Blocks": 0}]),
    )
}

pub fn whatsminer_status(off: bool) -> String {
    json!({"STATUS": "S", "When": 1760000000, "Code": 131, "Msg": {"btmineroff": if off { "true" } else { "false" }, "Firmware Version": "'20230101.11.REL'"}, "Description": "whatsminer v1.4.0"}).to_string()
}

/// Whatsminer API v2: `HS RT` is the current hashrate; `MHS av` still shows the long average
/// after a stop, as a real v2 does.
pub fn whatsminer_v2_summary(hs_rt_mhs: f64) -> String {
    reply(
        "SUMMARY",
        json!([{"Elapsed": 25000, "MHS av": 125_000_000.0, "HS RT": hs_rt_mhs, "Power": if hs_rt_mhs > 0.0 { 3200 } else { 12 },
        "Power Limit": 3300, "Power Mode": "Normal", "Chip Temp Max": 81.0, "Chip Temp Avg": 72.5, "Fan Speed In": 5400,
        "Fan Speed Out": 5280, "Factory GHS": 126000, "MAC": "D4:01:02:03:04:05"}]),
    )
}

/// API v2 `status`: `mineroff`, not v1's `btmineroff`.
pub fn whatsminer_v2_status(off: bool) -> String {
    json!({"STATUS": "S", "When": 1773953446, "Code": 131, "Msg": {"mineroff": if off { "true" } else { "false" },
    "mineroff_reason": "", "FirmwareVersion": "20240624.18.REL", "power_mode": "normal", "power_limit_set": "3300"}})
    .to_string()
}

/// `devdetails` of a Whatsminer: its driver is `bitmicro`.
pub fn whatsminer_devdetails() -> String {
    reply(
        "DEVDETAILS",
        json!([{"DEVDETAILS": 0, "Name": "SM", "ID": 0, "Driver": "bitmicro", "Kernel": "", "Model": "M50"}]),
    )
}

/// A Whatsminer API v3 on its own port: 4-byte little-endian length, then JSON.
pub struct FakeWhatsminerV3 {
    pub port: u16,
    working: Arc<AtomicBool>,
    log: Arc<Mutex<Vec<Value>>>,
}

impl FakeWhatsminerV3 {
    pub fn start() -> FakeWhatsminerV3 {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().unwrap().port();
        let working = Arc::new(AtomicBool::new(true));
        let log = Arc::new(Mutex::new(Vec::new()));
        let (w, l) = (working.clone(), log.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (w, l) = (w.clone(), l.clone());
                std::thread::spawn(move || serve_v3(stream, &w, &l));
            }
        });
        FakeWhatsminerV3 { port, working, log }
    }

    pub fn set_working(&self, working: bool) {
        self.working.store(working, Ordering::SeqCst);
    }

    /// Every request received, as JSON.
    pub fn log(&self) -> Vec<Value> {
        self.log.lock().unwrap().clone()
    }
}

fn serve_v3(mut stream: TcpStream, working: &AtomicBool, log: &Mutex<Vec<Value>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut header = [0u8; 4];
    if stream.read_exact(&mut header).is_err() {
        return;
    }
    let mut body = vec![0u8; u32::from_le_bytes(header) as usize];
    if stream.read_exact(&mut body).is_err() {
        return;
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else { return };
    log.lock().unwrap().push(request.clone());
    let on = working.load(Ordering::SeqCst);
    let reply = match (request["cmd"].as_str(), request["param"].as_str()) {
        (Some("get.device.info"), _) => json!({"code": 0, "desc": "get.device.info", "msg": {
            "miner": {"board-num": "3", "type": "M60S_VK40", "working": if on { "true" } else { "false" }},
            "network": {"mac": "CE:02:01:00:8C:36", "hostname": "WhatsMiner"},
            "system": {"api": "3.0.2", "fwversion": "20251209.16.Rel2"}}, "when": 1773869570}),
        (Some("get.miner.status"), Some("summary")) => {
            json!({"code": 0, "desc": "get.miner.status", "msg": {"summary": {
            "elapsed": 50000, "hash-realtime": if on { 171.2 } else { 0.0 }, "hash-average": 170.8, "factory-hash": 181.0,
            "power-realtime": if on { 3156.0 } else { 15.0 }, "power-limit": 3600, "chip-temp-max": 82.0,
            "chip-temp-avg": 75.5, "fan-speed-in": 5400, "fan-speed-out": 5280}}, "when": 1773869570})
        }
        (Some("get.miner.status"), Some("edevs")) => {
            let board = |id: u32, t: f64| json!({"id": id, "hash-realtime": if on { 57.1 } else { 0.0 }, "chip-temp-max": t, "freq": 625.0});
            json!({"code": 0, "msg": {"edevs": [board(0, 80.0), board(1, 82.0), board(2, 81.0)]}})
        }
        _ => json!({"code": -1, "msg": "invalid command"}),
    };
    let bytes = reply.to_string().into_bytes();
    let _ = stream.write_all(&(bytes.len() as u32).to_le_bytes());
    let _ = stream.write_all(&bytes);
}

/// API v2 `devs`: per board `HS RT`, chip and board temperatures, frequency.
pub fn whatsminer_v2_devs(running: bool) -> String {
    let dev = |id: u32, chip: f64| {
        json!({"ASC": id, "Name": "SM", "ID": id, "Enabled": "Y", "Status": "Alive",
        "Temperature": 66.0, "Chip Frequency": 600, "MHS av": 41_600_000.0, "HS RT": if running { 41_500_000.0 } else { 0.0 },
        "Chip Temp Max": chip, "Chip Temp Avg": chip - 8.0})
    };
    reply("DEVS", json!([dev(0, 80.0), dev(1, 81.0), dev(2, 79.5)]))
}
