//! Bitaxe (AxeOS) `/api/system/info` replies.
//! Written from the documented formats, not copied from captures.

use serde_json::json;

/// Bitaxe `/api/system/info`: hashRate in GH/s, coreVoltage in mV.
pub fn bitaxe_info(ghs: f64) -> serde_json::Value {
    json!({"power": 14.2, "voltage": 5050, "current": 2900.5, "temp": 61.5, "vrTemp": 54, "hashRate": ghs, "bestDiff": "1.2M",
           "coreVoltage": 1200, "coreVoltageActual": 1195, "frequency": 575, "hostname": "desk-bitaxe", "macAddr": "24:DC:C3:00:00:01",
           "fanspeed": 60, "fanrpm": 4100, "uptimeSeconds": 12345, "ASICModel": "BM1368", "asicCount": 1, "version": "v2.5.0"})
}

/// A NerdQAxe++ (AxeOS-compatible): it names itself in `deviceModel`; four BM1370 chips.
pub fn nerdqaxe_info(ghs: f64, paused: bool) -> serde_json::Value {
    json!({"power": 76.5, "voltage": 12050, "temp": 58.0, "vrTemp": 49, "hashRate": ghs, "hashRate_10m": ghs * 0.98,
           "coreVoltage": 1150, "frequency": 600, "hostname": "nerdqaxe", "macAddr": "24:DC:C3:00:00:02", "fanrpm": 3100,
           "uptimeSeconds": 5400, "deviceModel": "NerdQAxe++", "ASICModel": "BM1370", "asicCount": 4, "version": "v1.0.30",
           "miningPaused": paused})
}
