//! Antminer stock (bmminer) replies: GH/s summary, `stats` chain data, the web CGI configuration.
//! Written from the documented formats, not copied from captures.

use crate::support::cgminer::reply;
use serde_json::json;

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
