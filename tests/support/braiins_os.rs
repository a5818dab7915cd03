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

/// A Braiins OS REST API with a tuner: login gives a token (bare or `Bearer` accepted), the
/// constraints bound the target, `PUT performance/power-target` sets it (out of range: 400
/// with the firmware's reason), and the measured power follows the target.
pub struct FakeBraiinsOs {
    pub http: crate::support::http::FakeHttp,
    target: std::sync::Arc<std::sync::Mutex<f64>>,
}

impl FakeBraiinsOs {
    pub fn start(min: f64, max: f64, initial: f64) -> FakeBraiinsOs {
        use crate::support::http::{Answer, FakeHttp, json as answer, status};
        let target = std::sync::Arc::new(std::sync::Mutex::new(initial));
        let t = target.clone();
        let http = FakeHttp::start(move |request| {
            let authorized = matches!(request.header("Authorization"), Some("tok-123" | "Bearer tok-123"));
            match (request.method.as_str(), request.url.as_str()) {
                ("POST", "/api/v1/auth/login") => answer(json!({"token": "tok-123", "timeout_s": 3600})),
                (_, _) if !authorized => status(401),
                ("GET", "/api/v1/configuration/constraints") => answer(json!({"tuner_constraints": {"power_target": {
                    "min": {"watt": min}, "max": {"watt": max}, "default": {"watt": max}}}})),
                ("GET", "/api/v1/performance/tuner-state") => answer(json!({"overall_tuner_state": 2,
                    "mode_state": {"powertargetmodestate": {"current_target": {"watt": *t.lock().unwrap()}}}})),
                ("PUT", "/api/v1/performance/power-target") => {
                    let body: serde_json::Value = serde_json::from_str(&request.body).unwrap_or_default();
                    let watt = body["watt"].as_f64().unwrap_or(-1.0);
                    if !(min..=max).contains(&watt) || body["watt"].as_i64().is_none() {
                        return Answer::Json(400, json!({"message": format!("power target {watt} W is out of range")}));
                    }
                    *t.lock().unwrap() = watt;
                    answer(json!({"watt": watt}))
                }
                ("GET", "/api/v1/miner/details") => answer(braiins_details(2)),
                ("GET", "/api/v1/miner/stats") => answer(braiins_stats(100_200.0, *t.lock().unwrap())),
                ("GET", "/api/v1/miner/hw/hashboards") => answer(braiins_hashboards()),
                ("GET", "/api/v1/cooling/state") => answer(braiins_cooling()),
                _ => status(404),
            }
        });
        FakeBraiinsOs { http, target }
    }

    pub fn target(&self) -> f64 {
        *self.target.lock().unwrap()
    }
}
