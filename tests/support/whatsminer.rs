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
    whatsminer_v2_summary_drawing(hs_rt_mhs, 3200.0, 3300.0)
}

/// The v2 summary of a miner drawing `watts` while hashing under `limit`.
pub fn whatsminer_v2_summary_drawing(hs_rt_mhs: f64, watts: f64, limit: f64) -> String {
    reply(
        "SUMMARY",
        json!([{"Elapsed": 25000, "MHS av": 125_000_000.0, "HS RT": hs_rt_mhs, "Power": if hs_rt_mhs > 0.0 { watts } else { 12.0 },
        "Power Limit": limit, "Power Mode": "Normal", "Chip Temp Max": 81.0, "Chip Temp Avg": 72.5, "Fan Speed In": 5400,
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

/// The v3 fake's admin password and salt.
pub const V3_PASSWORD: &str = "super-secret";
const V3_SALT: &str = "uhCiDyVj";

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
        (Some("get.device.info"), Some("salt")) => json!({"code": 0, "msg": {"salt": V3_SALT}}),
        (Some("set.miner.power_limit"), _) => {
            // The documented token: base64(SHA-256(cmd + password + salt + ts)), first 8.
            use base64::Engine;
            use sha2::Digest;
            let ts = request["ts"].as_i64().unwrap_or_default();
            let digest = sha2::Sha256::digest(format!("set.miner.power_limit{V3_PASSWORD}{V3_SALT}{ts}").as_bytes());
            let expected: String = base64::engine::general_purpose::STANDARD.encode(digest).chars().take(8).collect();
            if request["token"] == expected && request["account"] == "super" && request["param"].is_i64() {
                json!({"code": 0, "msg": "ok"})
            } else {
                json!({"code": -2, "msg": "token error"})
            }
        }
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

/// The v2 fake's admin password and token material.
pub const V2_PASSWORD: &str = "admin-pw";
const V2_SALT: &str = "BQ5hoXV9";
const V2_NEWSALT: &str = "jbzkfQls";
const V2_TIME: &str = "1632";

/// A Whatsminer API v2 write port: `get_token`, then `{"enc": 1, "data": …}` decrypted with
/// the documented scheme (written here on its own, from the vendor's description), a wrong
/// password or token refused, and every decrypted command recorded.
pub struct FakeWhatsminerV2Writer {
    pub port: u16,
    commands: Arc<Mutex<Vec<Value>>>,
    power: Arc<Mutex<f64>>,
}

impl FakeWhatsminerV2Writer {
    pub fn start() -> FakeWhatsminerV2Writer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().unwrap().port();
        let commands = Arc::new(Mutex::new(Vec::new()));
        let log = commands.clone();
        let power = Arc::new(Mutex::new(3200.0));
        let drawn = power.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (log, drawn) = (log.clone(), drawn.clone());
                std::thread::spawn(move || serve_v2_write(stream, &log, &drawn));
            }
        });
        FakeWhatsminerV2Writer { port, commands, power }
    }

    /// What the summary reports the miner draws from now on, W (3200 at start).
    pub fn set_power(&self, watts: f64) {
        *self.power.lock().unwrap() = watts;
    }

    /// The commands it decrypted and accepted.
    pub fn commands(&self) -> Vec<Value> {
        self.commands.lock().unwrap().clone()
    }
}

/// md5-crypt's hash field, through glibc-compatible md5-crypt.
#[allow(deprecated)]
fn crypt_field(secret: &str, salt: &str) -> String {
    pwhash::md5_crypt::hash_with(format!("$1${salt}").as_str(), secret).unwrap().split('$').nth(3).unwrap().to_string()
}

fn serve_v2_write(mut stream: TcpStream, log: &Mutex<Vec<Value>>, power: &Mutex<f64>) {
    use aes::cipher::generic_array::GenericArray;
    use aes::cipher::{BlockDecrypt, BlockEncrypt, KeyInit};
    use base64::Engine;
    use sha2::Digest;
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    while let Ok(n) = stream.read(&mut chunk) {
        if n == 0 {
            break;
        }
        buffer.extend_from_slice(&chunk[..n]);
        if serde_json::from_slice::<Value>(buffer.trim_ascii()).is_ok() {
            break;
        }
    }
    let Ok(request) = serde_json::from_slice::<Value>(buffer.trim_ascii()) else { return };
    let pwd_md5 = crypt_field(V2_PASSWORD, V2_SALT);
    let sign = crypt_field(&format!("{pwd_md5}{V2_TIME}"), V2_NEWSALT);
    let key = sha2::Sha256::digest(pwd_md5.as_bytes());
    let cipher = aes::Aes256::new(GenericArray::from_slice(&key));
    if request["command"] == "summary" {
        // The limit is the last one accepted, as the miner reports it after its restart.
        let limit = log.lock().unwrap().iter().rev().find_map(|c| c["power_limit"].as_str()?.parse().ok());
        let summary = whatsminer_v2_summary_drawing(124_500_000.0, *power.lock().unwrap(), limit.unwrap_or(3300.0));
        let _ = stream.write_all(summary.as_bytes());
        return;
    }
    let reply = if request["cmd"] == "get_token" {
        json!({"STATUS": "S", "When": 1632, "Code": 134, "Msg": {"time": V2_TIME, "salt": V2_SALT, "newsalt": V2_NEWSALT}})
    } else if let Some(data) = request["data"].as_str().filter(|_| request["enc"] == 1) {
        let mut bytes = base64::engine::general_purpose::STANDARD.decode(data).unwrap_or_default();
        for block in bytes.chunks_mut(16).filter(|b| b.len() == 16) {
            cipher.decrypt_block(GenericArray::from_mut_slice(block));
        }
        let plain = String::from_utf8_lossy(&bytes).trim_end_matches('\0').to_string();
        match serde_json::from_str::<Value>(&plain) {
            Ok(command) if command["token"] == sign.as_str() => {
                log.lock().unwrap().push(command);
                let mut answer =
                    json!({"STATUS": "S", "When": 1632, "Code": 131, "Msg": "API command OK"}).to_string().into_bytes();
                answer.resize(answer.len().div_ceil(16) * 16, 0);
                for block in answer.chunks_mut(16) {
                    cipher.encrypt_block(GenericArray::from_mut_slice(block));
                }
                json!({"enc": base64::engine::general_purpose::STANDARD.encode(answer)})
            }
            _ => json!({"STATUS": "E", "When": 1632, "Code": 23, "Msg": "invalid token or password"}),
        }
    } else {
        json!({"STATUS": "E", "Code": 14, "Msg": "invalid cmd"})
    };
    let _ = stream.write_all(reply.to_string().as_bytes());
}
