//! Realistic device replies, written for these tests from the documented formats (the real
//! captures in ../shared/fixtures are only read by the compatibility test).

use serde_json::json;

use crate::support::cgminer::reply;

/// A generic cgminer 4.x summary in MH/s.
pub fn cgminer_summary(mhs_5s: f64) -> String {
    reply(
        "SUMMARY",
        json!([{"Elapsed": 7200, "MHS av": mhs_5s * 0.98, "MHS 5s": mhs_5s, "MHS 1m": mhs_5s * 1.01,
        "Found Blocks": 1, "Accepted": 5120, "Rejected": 3, "Hardware Errors": 12}]),
    )
}

/// Three boards, each a third of the total, with temperatures.
pub fn cgminer_devs(mhs_total: f64, temps: [f64; 3]) -> String {
    let devs: Vec<_> = temps
        .iter()
        .enumerate()
        .map(|(i, t)| json!({"ASC": i, "Name": "BTM", "Enabled": "Y", "Status": "Alive", "Temperature": t, "MHS 5s": mhs_total / 3.0, "MHS av": mhs_total / 3.0}))
        .collect();
    reply("DEVS", json!(devs))
}

pub fn cgminer_version(model: &str) -> String {
    reply("VERSION", json!([{"CGMiner": "4.11.1", "API": "3.7", "Type": model}]))
}

/// Antminer stock (bmminer): GH/s, a model line and a chain data entry in `stats`.
pub fn antminer_summary(ghs_5s: f64) -> String {
    reply(
        "SUMMARY",
        json!([{"Elapsed": 86400, "GHS 5s": ghs_5s, "GHS av": ghs_5s * 1.01, "GHS 30m": ghs_5s, "Found Blocks": 0, "Accepted": 9000}]),
    )
}

pub fn antminer_stats() -> String {
    reply(
        "STATS",
        json!([
            {"BMMiner": "1.0.0", "Miner": "49.0.1.3", "CompileTime": "Mon Jan 1 2024", "Type": "Antminer S19j Pro"},
            {"STATS": 0, "ID": "BTM_SOC0", "Elapsed": 86400, "GHS 5s": 100500.0, "rate_unit": "GH", "miner_count": 3, "fan_num": 4,
             "fan1": 5400, "fan2": 5460, "fan3": 5280, "fan4": 5340,
             "chain_acn1": 126, "chain_acn2": 126, "chain_acn3": 126, "chain_acn4": 0,
             "chain_rate1": "33600.10", "chain_rate2": "33400.50", "chain_rate3": "33499.40", "chain_rate4": "",
             "temp_chip1": "74-61-72-73", "temp_chip2": "76-60-71-75", "temp_chip3": "70-58-69-71", "temp_chip4": "0-0-0-0",
             "temp_pcb1": "63-50-61-62", "temp_pcb2": "65-51-60-64", "temp_pcb3": "59-49-58-60", "temp_pcb4": "0-0-0-0",
             "freq1": 550, "freq2": 550, "freq3": 550, "freq4": 0, "total_rateideal": 104000.0}
        ]),
    )
}

pub fn antminer_conf(mode: &str) -> serde_json::Value {
    json!({"pools": [{"url": "stratum+tcp://pool.example:3333", "user": "worker1", "pass": "x"}],
           "bitmain-fan-ctrl": false, "bitmain-fan-pwm": "100", "miner-mode": mode.parse::<i64>().unwrap_or(0),
           "bitmain-work-mode": mode, "freq-level": "100"})
}

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

/// Avalon: the bracketed `MM ID0` string in `stats`.
pub fn avalon_stats(working: bool) -> String {
    let state = if working { "Work: In Work, Hash Board: 1" } else { "Work: In Idle, Hash Board: 1" };
    let soft_off = if working { 0 } else { 3 };
    let ghs = if working { 88000.0 } else { 0.0 };
    let mm = format!(
        "Ver[Q-25050101] SYSTEMSTATU[{state}] Elapsed[5000] ITemp[24] HBITemp[30] HBOTemp[52] TMax[71] TAvg[64] Fan1[2700] Fan2[2710] Fan3[2690] Fan4[2705] SoftOFF[{soft_off}] GHSspd[{ghs:.2}] Freq[310.5] WORKMODE[1]"
    );
    reply("STATS", json!([{"STATS": 0, "ID": "AVA100", "Elapsed": 5000, "MM ID0:Summary": mm}]))
}

pub fn avalon_summary(mhs_5s: f64) -> String {
    reply(
        "SUMMARY",
        json!([{"Elapsed": 5000, "MHS 5s": mhs_5s, "MHS 1m": mhs_5s, "MHS av": 85000000.0, "Found Blocks": 0}]),
    )
}

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

/// Bitaxe `/api/system/info`: hashRate in GH/s, coreVoltage in mV.
pub fn bitaxe_info(ghs: f64) -> serde_json::Value {
    json!({"power": 14.2, "voltage": 5050, "current": 2900.5, "temp": 61.5, "vrTemp": 54, "hashRate": ghs, "bestDiff": "1.2M",
           "coreVoltage": 1200, "coreVoltageActual": 1195, "frequency": 575, "hostname": "desk-bitaxe", "macAddr": "24:DC:C3:00:00:01",
           "fanspeed": 60, "fanrpm": 4100, "uptimeSeconds": 12345, "ASICModel": "BM1368", "asicCount": 1, "version": "v2.5.0"})
}

/// Braiins OS REST replies.
pub fn braiins_details(status: i64) -> serde_json::Value {
    json!({"hostname": "bos-s19", "mac_address": "02:00:00:00:00:01", "status": status, "bosminer_uptime_s": 4000,
           "miner_identity": {"brand": 1, "miner_model": "Antminer S19j Pro", "name": "Antminer S19j Pro"},
           "bos_version": {"current": "2025-07-01-0-abc-25.07-plus"}, "sticker_hashrate": {"gigahash_per_second": 104000.0}})
}

pub fn braiins_stats(ghs: f64, watts: f64) -> serde_json::Value {
    json!({"miner_stats": {"found_blocks": 0, "real_hashrate": {"last_5s": {"gigahash_per_second": ghs}, "last_1m": {"gigahash_per_second": ghs}},
           "nominal_hashrate": {"gigahash_per_second": 104000.0}},
           "power_stats": {"approximated_consumption": {"watt": watts}}})
}

pub fn braiins_hashboards() -> serde_json::Value {
    let board = |id: &str, chip: f64| {
        json!({"id": id, "enabled": true, "board_temp": {"degree_c": chip - 12.0},
        "highest_chip_temp": {"temperature": {"degree_c": chip}}, "current_voltage": {"volt": 13.1},
        "current_frequency": {"hertz": 525_000_000.0}, "stats": {"real_hashrate": {"last_5s": {"gigahash_per_second": 33000.0}},
        "nominal_hashrate": {"gigahash_per_second": 34600.0}}})
    };
    json!({"hashboards": [board("1", 68.0), board("2", 70.5), board("3", 67.0)]})
}

pub fn braiins_cooling() -> serde_json::Value {
    json!({"fans": [{"position": 0, "rpm": 4800}, {"position": 1, "rpm": 4830}, {"position": 2, "rpm": 4790}, {"position": 3, "rpm": 4810}]})
}
