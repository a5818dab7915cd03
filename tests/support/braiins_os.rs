//! Braiins OS REST replies.
//! Written from the documented formats, not copied from captures.

use serde_json::json;

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
