//! LuxOS replies: GH/s summary, `power`, `fans`, `config` with the curtail mode, sessions.
//! Written from the documented formats, not copied from captures.

use crate::support::cgminer::reply;
use serde_json::json;

/// LuxOS: GH/s summary, `power`, `fans`, `config` with the curtail mode.
pub fn luxos_summary(ghs_5s: f64) -> String {
    reply(
        "SUMMARY",
        json!([{"Elapsed": 3600, "GHS 5s": ghs_5s, "GHS 1m": ghs_5s, "GHS av": ghs_5s, "Found Blocks": 0}]),
    )
}

pub fn luxos_power(watts: f64) -> String {
    reply("POWER", json!([{"Watts": watts, "PSU": false}]))
}

pub fn luxos_fans() -> String {
    reply(
        "FANS",
        json!([{"ID": 0, "RPM": 3120, "Speed": 40}, {"ID": 1, "RPM": 3180, "Speed": 40}, {"ID": 2, "RPM": 3060, "Speed": 40}, {"ID": 3, "RPM": 3090, "Speed": 40}]),
    )
}

pub fn luxos_config(curtail: &str) -> String {
    reply(
        "CONFIG",
        json!([{"Model": "Antminer S19 XP", "OS": "LuxOS", "CurtailMode": curtail, "Hostname": "garage-xp",
        "MACAddr": "aa:bb:cc:00:11:22", "SerialNumber": "LUXTEST0001", "NameplateTHS": 141.0}]),
    )
}

pub fn luxos_session(id: &str) -> String {
    reply("SESSION", json!([{"SessionID": id}]))
}
