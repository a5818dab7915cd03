//! Whatsminer replies (API v1): power, limit, chip temperatures and fans in the summary.
//! Written from the documented formats, not copied from captures.

use crate::support::cgminer::reply;
use serde_json::json;

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
