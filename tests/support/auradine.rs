//! Auradine (GCMiner on 4028) replies, and a fake of its REST API on 8080 (`/token`,
//! `/mode` with the `Token` header). Written from the documented formats.

use serde_json::{Value, json};

use crate::support::cgminer::reply;
use crate::support::http::{FakeHttp, json as json_answer, status};

pub fn auradine_summary() -> String {
    reply(
        "SUMMARY",
        json!([{"Elapsed": 56696, "MHS av": 7_970_630.0, "MHS 5s": 20_599_767.0, "MHS 1m": 10_256_844.0,
    "MHS 5m": 8_778_584.0, "MHS 15m": 8_245_002.0, "Accepted": 3310}]),
    )
}

pub fn auradine_version() -> String {
    let mut value: Value =
        serde_json::from_str(&reply("VERSION", json!([{"GCMiner": "2023-05.24", "API": "3.7"}]))).unwrap();
    value["STATUS"][0]["Description"] = json!("GCMiner-2023-05.24-0ce5e7cc");
    value.to_string()
}

pub fn auradine_psu() -> String {
    reply("PSU", json!([{"Vin": "245.00V", "PowerOut": "2930.10W", "PowerIn": "3105.94W", "PoutMax": "3452.00W"}]))
}

pub fn auradine_fan() -> String {
    reply(
        "Fan",
        json!([{"ID": 1, "Speed": 7080}, {"ID": 2, "Speed": 7020}, {"ID": 3, "Speed": 7100}, {"ID": 4, "Speed": 7020}]),
    )
}

pub fn auradine_temperature() -> String {
    let board = |id: u32, chip: f64| {
        json!({"ID": id, "Name": format!("Hash Board {id}"),
        "BoardTemp": [{"ID": 0, "Temperature": 41.5}, {"ID": 1, "Temperature": 43.0}],
        "ChipTemp": [{"ID": 0, "Temperature": chip - 2.0}, {"ID": 1, "Temperature": chip}]})
    };
    reply(
        "Temperature",
        json!([{"ID": 0, "Name": "Control Board", "BoardTemp": [{"ID": 0, "Temperature": 24.9}], "ChipTemp": null},
        board(1, 62.3), board(2, 64.8), board(3, 63.1)]),
    )
}

pub fn auradine_mode(sleeping: bool) -> String {
    reply("Mode", json!([{"Mode": "custom", "Sleep": if sleeping { "on" } else { "off" }, "Ths": 160, "Power": 3100}]))
}

pub const PASSWORD: &str = "aura-pw";

/// The REST API: a token for the right password, then `mode` with that token.
pub fn auradine_web() -> FakeHttp {
    FakeHttp::start(|request| {
        let ok = |section: &str, data: Value| json_answer(serde_json::from_str(&reply(section, data)).unwrap());
        match (request.method.as_str(), request.url.as_str()) {
            ("POST", "/token") => {
                let body: Value = serde_json::from_str(&request.body).unwrap_or_default();
                if body["password"] == PASSWORD { ok("Token", json!([{"Token": "aura-token"}])) } else { status(401) }
            }
            ("POST", "/mode") if request.header("Token") == Some("aura-token") => ok("Mode", json!([{"Sleep": "on"}])),
            ("POST", "/mode") => status(401),
            _ => status(404),
        }
    })
}
