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

/// `profiles`: LuxOS's profiles with the watts each draws.
pub fn luxos_profiles() -> String {
    let profile = |name: &str, watts: f64| json!({"Profile Name": name, "Watts": watts, "Hashrate": watts / 23.0, "IsTuned": true});
    reply(
        "PROFILES",
        json!([
            profile("250MHz", 2250.0),
            profile("275MHz", 2650.0),
            profile("300MHz", 3010.0),
            profile("325MHz", 3350.0)
        ]),
    )
}

/// `config` with a profile and ATM on or off.
pub fn luxos_config_profile(profile: &str, atm: bool) -> String {
    reply(
        "CONFIG",
        json!([{"Model": "Antminer S19 XP", "CurtailMode": "None", "Profile": profile, "IsAtmEnabled": atm, "IsTuning": false}]),
    )
}

/// A LuxOS miner on the CGMiner fake: 3010 W on profile 300MHz, the profile list, a session
/// `sid-9`, ATM on or off, and the writes a profile change sends accepted.
pub fn fake_luxos(atm: bool) -> crate::support::cgminer::FakeCgminer {
    crate::support::cgminer::FakeCgminer::start(&[
        ("summary", crate::support::replies::luxos_summary(130_000.0)),
        ("power", crate::support::replies::luxos_power(3010.0)),
        ("config", luxos_config_profile("300MHz", atm)),
        ("profiles", luxos_profiles()),
        ("session", crate::support::replies::luxos_session("sid-9")),
        ("atmset", crate::support::cgminer::ok("ATM set")),
        ("profileset", crate::support::cgminer::ok("Profile Set")),
    ])
}
