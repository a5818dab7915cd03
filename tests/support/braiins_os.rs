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
/// with the firmware's reason), `PUT actions/pause|resume` stop and start it, and the
/// measured power follows the target while it mines (0 W paused).
pub struct FakeBraiinsOs {
    pub http: crate::support::http::FakeHttp,
    target: std::sync::Arc<std::sync::Mutex<f64>>,
    paused: std::sync::Arc<std::sync::Mutex<bool>>,
    /// J/TH: when set, the hashrate follows the power (else a steady 100.2 TH/s).
    efficiency: std::sync::Arc<std::sync::Mutex<Option<f64>>>,
    /// While set, the tuner says "tuning" (state 3) and the power stays at this.
    tuning_at: std::sync::Arc<std::sync::Mutex<Option<f64>>>,
}

impl FakeBraiinsOs {
    pub fn start(min: f64, max: f64, initial: f64) -> FakeBraiinsOs {
        use crate::support::http::{Answer, FakeHttp, json as answer, status};
        let target = std::sync::Arc::new(std::sync::Mutex::new(initial));
        let paused = std::sync::Arc::new(std::sync::Mutex::new(false));
        let efficiency = std::sync::Arc::new(std::sync::Mutex::new(None::<f64>));
        let tuning_at = std::sync::Arc::new(std::sync::Mutex::new(None::<f64>));
        let (t, p, e, tuning) = (target.clone(), paused.clone(), efficiency.clone(), tuning_at.clone());
        let http = FakeHttp::start(move |request| {
            let authorized = matches!(request.header("Authorization"), Some("tok-123" | "Bearer tok-123"));
            let is_paused = *p.lock().unwrap();
            match (request.method.as_str(), request.url.as_str()) {
                ("POST", "/api/v1/auth/login") => answer(json!({"token": "tok-123", "timeout_s": 3600})),
                (_, _) if !authorized => status(401),
                ("GET", "/api/v1/configuration/constraints") => answer(json!({"tuner_constraints": {"power_target": {
                    "min": {"watt": min}, "max": {"watt": max}, "default": {"watt": max}}}})),
                ("GET", "/api/v1/performance/tuner-state") => answer(json!({
                    "overall_tuner_state": if tuning.lock().unwrap().is_some() { 3 } else { 2 },
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
                ("PUT", "/api/v1/actions/pause") => {
                    *p.lock().unwrap() = true;
                    answer(json!({}))
                }
                ("PUT", "/api/v1/actions/resume") => {
                    *p.lock().unwrap() = false;
                    answer(json!({}))
                }
                ("GET", "/api/v1/miner/details") => answer(braiins_details(if is_paused { 3 } else { 2 })),
                ("GET", "/api/v1/miner/stats") if is_paused => answer(braiins_stats(0.0, 0.0)),
                ("GET", "/api/v1/miner/stats") => {
                    let watts = tuning.lock().unwrap().unwrap_or(*t.lock().unwrap());
                    let ghs = e.lock().unwrap().map_or(100_200.0, |jth| watts / jth * 1000.0);
                    answer(braiins_stats(ghs, watts))
                }
                ("GET", "/api/v1/miner/hw/hashboards") => answer(braiins_hashboards()),
                ("GET", "/api/v1/cooling/state") => answer(braiins_cooling()),
                _ => status(404),
            }
        });
        FakeBraiinsOs { http, target, paused, efficiency, tuning_at }
    }

    /// The tuner reports "tuning" and the miner keeps drawing `watts` whatever its target.
    pub fn tuning_at(&self, watts: Option<f64>) {
        *self.tuning_at.lock().unwrap() = watts;
    }

    /// Hashes at `jth` J/TH whatever its target.
    pub fn with_efficiency(self, jth: f64) -> FakeBraiinsOs {
        *self.efficiency.lock().unwrap() = Some(jth);
        self
    }

    /// A miner that starts paused.
    pub fn paused(min: f64, max: f64, initial: f64) -> FakeBraiinsOs {
        let fake = FakeBraiinsOs::start(min, max, initial);
        *fake.paused.lock().unwrap() = true;
        fake
    }

    pub fn target(&self) -> f64 {
        *self.target.lock().unwrap()
    }

    pub fn is_paused(&self) -> bool {
        *self.paused.lock().unwrap()
    }

    /// What it draws now, W.
    pub fn power(&self) -> f64 {
        match (self.is_paused(), *self.tuning_at.lock().unwrap()) {
            (true, _) => 0.0,
            (false, Some(watts)) => watts,
            (false, None) => self.target(),
        }
    }

    /// Every write it received: `pause`, `resume` or `target <watts>`, in order.
    pub fn writes(&self) -> Vec<String> {
        self.http
            .log()
            .iter()
            .filter(|r| r.method == "PUT")
            .map(|r| match r.url.as_str() {
                "/api/v1/performance/power-target" => {
                    let body: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_default();
                    format!("target {}", body["watt"])
                }
                url => url.trim_start_matches("/api/v1/actions/").to_string(),
            })
            .collect()
    }
}

/// A Braiins OS build from before the REST API: `/api/v1/*` is 404 and `POST /graphql`
/// answers the login mutation (a `session_id` cookie for the right password, an `AuthError`
/// otherwise), the autotuning query (target, live limit, bounds from `metadata`) and
/// `updateAutotuning` (refused with a message outside the bounds, and without a session).
/// The queries are told apart by the fields they name, as a real server would by parsing them.
pub struct FakeBraiinsGraphql {
    pub http: crate::support::http::FakeHttp,
    target: std::sync::Arc<std::sync::Mutex<f64>>,
    ignoring: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

pub const GRAPHQL_PASSWORD: &str = "bos-legacy";

impl FakeBraiinsGraphql {
    pub fn start(min: f64, max: f64, initial: f64) -> FakeBraiinsGraphql {
        use crate::support::http::{Answer, FakeHttp, json as answer, status};
        use std::sync::atomic::Ordering;
        let target = std::sync::Arc::new(std::sync::Mutex::new(initial));
        let ignoring = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (t, ignores) = (target.clone(), ignoring.clone());
        let http = FakeHttp::start(move |request| {
            if (request.method.as_str(), request.url.as_str()) != ("POST", "/graphql") {
                return status(404);
            }
            let body: serde_json::Value = serde_json::from_str(&request.body).unwrap_or_default();
            let (query, variables) = (body["query"].as_str().unwrap_or_default(), &body["variables"]);
            let session = request.header("Cookie") == Some("session_id=sess-42");
            if query.contains("login(") {
                if variables["username"] == "root" && variables["password"] == GRAPHQL_PASSWORD {
                    let cookie = ("Set-Cookie".to_string(), "session_id=sess-42; Path=/; HttpOnly".to_string());
                    return Answer::Text(
                        200,
                        json!({"data": {"auth": {"login": {"void": null}}}}).to_string(),
                        vec![cookie],
                    );
                }
                return answer(json!({"data": {"auth": {"login": {"message": "Invalid username or password"}}}}));
            }
            if !session {
                return answer(json!({"data": null, "errors": [{"message": "Forbidden: log in first"}]}));
            }
            if query.contains("updateAutotuning") {
                let Some(limit) = variables["limit"].as_i64() else {
                    return answer(json!({"data": null, "errors": [{"message": "Variable \"$limit\" of type Int!"}]}));
                };
                if !(min..=max).contains(&(limit as f64)) {
                    let message = format!("power target {limit} out of range {min}-{max}");
                    return answer(
                        json!({"data": {"bosminer": {"config": {"updateAutotuning": {"message": message}}}}}),
                    );
                }
                if !ignores.load(Ordering::SeqCst) {
                    *t.lock().unwrap() = limit as f64;
                }
                return answer(json!({"data": {"bosminer": {"config": {"updateAutotuning": {
                    "autotuning": {"powerTarget": limit}}}}}}));
            }
            if query.contains("metadata") && query.contains("powerTarget") {
                let watts = *t.lock().unwrap();
                return answer(json!({"data": {"bosminer": {
                    "config": {"autotuning": {"mode": "POWER_TARGET", "powerTarget": watts}},
                    "info": {"summary": {"power": {"limitW": watts}}},
                    "metadata": {"autotuning": {"powerTarget": {"default": max, "min": min, "max": max}}}}}}));
            }
            answer(json!({"data": null, "errors": [{"message": "Cannot query this field"}]}))
        });
        FakeBraiinsGraphql { http, target, ignoring }
    }

    pub fn target(&self) -> f64 {
        *self.target.lock().unwrap()
    }

    /// Accept `updateAutotuning` but keep the old target.
    pub fn ignore_writes(&self, ignore: bool) {
        self.ignoring.store(ignore, std::sync::atomic::Ordering::SeqCst);
    }

    /// The `updateAutotuning` requests it received: the limits asked for.
    pub fn writes(&self) -> Vec<serde_json::Value> {
        self.http
            .log()
            .iter()
            .filter_map(|r| serde_json::from_str::<serde_json::Value>(&r.body).ok())
            .filter(|b| b["query"].as_str().is_some_and(|q| q.contains("updateAutotuning")))
            .map(|b| b["variables"]["limit"].clone())
            .collect()
    }
}
