//! Bitaxe (AxeOS) `/api/system/info` replies.
//! Written from the documented formats, not copied from captures.

use serde_json::json;

/// Bitaxe `/api/system/info`: hashRate in GH/s, coreVoltage in mV.
pub fn bitaxe_info(ghs: f64) -> serde_json::Value {
    json!({"power": 14.2, "voltage": 5050, "current": 2900.5, "temp": 61.5, "vrTemp": 54, "hashRate": ghs, "bestDiff": "1.2M",
           "coreVoltage": 1200, "coreVoltageActual": 1195, "frequency": 575, "hostname": "desk-bitaxe", "macAddr": "24:DC:C3:00:00:01",
           "fanspeed": 60, "fanrpm": 4100, "uptimeSeconds": 12345, "ASICModel": "BM1368", "asicCount": 1, "version": "v2.5.0"})
}
