//! A fake Home Assistant: states, services, 401, 404, unavailable, HTML, hang. It records
//! every request through the fake HTTP server underneath.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use crate::support::http::{Answer, FakeHttp, Recorded};

pub const TOKEN: &str = "ha-long-lived-token-123";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HaMode {
    Normal,
    Unauthorized,
    Html,
    Hang,
}

#[derive(Clone)]
struct Entity {
    state: String,
    unit: Option<String>,
    /// More attributes (a `number` entity's `min`, `max`, `step`).
    extra: serde_json::Value,
}

pub struct FakeHomeAssistant {
    pub http: FakeHttp,
    states: Arc<Mutex<BTreeMap<String, Entity>>>,
    mode: Arc<Mutex<HaMode>>,
    history: History,
}

/// Recorded states per entity: (Unix second, state, unit).
type History = Arc<Mutex<BTreeMap<String, Vec<(i64, String, Option<String>)>>>>;

impl FakeHomeAssistant {
    pub fn start() -> FakeHomeAssistant {
        let states: Arc<Mutex<BTreeMap<String, Entity>>> = Arc::default();
        let mode = Arc::new(Mutex::new(HaMode::Normal));
        let history: History = Arc::default();
        let (s, m, h) = (states.clone(), mode.clone(), history.clone());
        let http = FakeHttp::start(move |request| match request.url.strip_prefix("/api/history/period/") {
            Some(query) if *m.lock().unwrap() == HaMode::Normal && authorized(request) => recorded(query, &h),
            _ => home_assistant(request, &s, *m.lock().unwrap()),
        });
        FakeHomeAssistant { http, states, mode, history }
    }

    /// What the recorder holds for `entity`: `(Unix second, state)` pairs in `unit`.
    pub fn set_history(&self, entity: &str, points: &[(i64, &str)], unit: &str) {
        let states = points.iter().map(|(at, state)| (*at, state.to_string(), Some(unit.to_string()))).collect();
        self.history.lock().unwrap().insert(entity.into(), states);
    }

    /// How many history requests it answered.
    pub fn history_requests(&self) -> usize {
        self.http.log().iter().filter(|r| r.url.starts_with("/api/history/period/")).count()
    }

    pub fn url(&self) -> String {
        self.http.url()
    }

    pub fn set(&self, entity: &str, state: &str, unit: Option<&str>) {
        self.states
            .lock()
            .unwrap()
            .insert(entity.into(), Entity { state: state.into(), unit: unit.map(str::to_string), extra: json!({}) });
    }

    /// A `number` entity with its bounds and step, as hass-miner's Power Limit has.
    pub fn set_number(&self, entity: &str, value: f64, min: f64, max: f64, step: f64) {
        let extra = json!({"min": min, "max": max, "step": step, "mode": "box"});
        let state = Entity { state: value.to_string(), unit: Some("W".into()), extra };
        self.states.lock().unwrap().insert(entity.into(), state);
    }

    pub fn state(&self, entity: &str) -> Option<String> {
        self.states.lock().unwrap().get(entity).map(|e| e.state.clone())
    }

    pub fn set_mode(&self, mode: HaMode) {
        *self.mode.lock().unwrap() = mode;
    }

    /// `domain.service entity` of every service call.
    pub fn service_calls(&self) -> Vec<String> {
        self.http
            .log()
            .iter()
            .filter(|r| r.method == "POST" && r.url.starts_with("/api/services/"))
            .map(|r| {
                let service = r.url.trim_start_matches("/api/services/").replace('/', ".");
                let entity = serde_json::from_str::<serde_json::Value>(&r.body)
                    .ok()
                    .and_then(|b| b["entity_id"].as_str().map(str::to_string));
                format!("{service} {}", entity.unwrap_or_default())
            })
            .collect()
    }
}

fn authorized(request: &Recorded) -> bool {
    request.header("Authorization") == Some(&format!("Bearer {TOKEN}"))
}

/// `GET /api/history/period/<start>?filter_entity_id=<entity>&end_time=<end>`: one list of
/// state objects per entity, as Home Assistant answers (the state at the start included).
fn recorded(query: &str, history: &History) -> Answer {
    let (start, params) = query.split_once('?').unwrap_or((query, ""));
    let param = |name: &str| params.split('&').find_map(|p| p.strip_prefix(&format!("{name}="))).unwrap_or("");
    let instant = |text: &str| text.parse::<jiff::Timestamp>().map(|t| t.as_second());
    let (Ok(start), Ok(end)) = (instant(start), instant(param("end_time"))) else {
        return Answer::Json(400, json!({"message": "Invalid datetime"}));
    };
    let entity = param("filter_entity_id");
    let states: Vec<serde_json::Value> = history
        .lock()
        .unwrap()
        .get(entity)
        .map(|points| {
            points
                .iter()
                .filter(|(at, _, _)| (start..=end).contains(at))
                .map(|(at, state, unit)| {
                    let time = jiff::Timestamp::from_second(*at).unwrap().to_string();
                    json!({"entity_id": entity, "state": state, "attributes": {"unit_of_measurement": unit},
                           "last_changed": time, "last_updated": time})
                })
                .collect()
        })
        .unwrap_or_default();
    Answer::Json(200, if states.is_empty() { json!([]) } else { json!([states]) })
}

fn home_assistant(request: &Recorded, states: &Mutex<BTreeMap<String, Entity>>, mode: HaMode) -> Answer {
    match mode {
        HaMode::Normal => {}
        HaMode::Unauthorized => return Answer::Text(401, "401: Unauthorized".into(), vec![]),
        HaMode::Html => {
            return Answer::Text(
                200,
                "<!DOCTYPE html><html><body>Home Assistant is starting</body></html>".into(),
                vec![],
            );
        }
        HaMode::Hang => return Answer::Hang(Duration::from_secs(20)),
    }
    if !authorized(request) {
        return Answer::Text(401, "401: Unauthorized".into(), vec![]);
    }
    if let Some(entity) = request.url.strip_prefix("/api/states/") {
        let states = states.lock().unwrap();
        return match states.get(entity) {
            Some(e) => {
                let mut attributes = json!({"friendly_name": entity});
                if let Some(unit) = &e.unit {
                    attributes["unit_of_measurement"] = json!(unit);
                }
                if let Some(extra) = e.extra.as_object() {
                    for (key, value) in extra {
                        attributes[key] = value.clone();
                    }
                }
                Answer::Json(
                    200,
                    json!({"entity_id": entity, "state": e.state, "attributes": attributes,
                    "last_changed": "2026-06-21T09:59:00+00:00", "last_updated": "2026-06-21T09:59:30+00:00"}),
                )
            }
            None => Answer::Json(404, json!({"message": "Entity not found."})),
        };
    }
    if let Some(service) = request.url.strip_prefix("/api/services/") {
        let body: serde_json::Value = serde_json::from_str(&request.body).unwrap_or_default();
        let entity = body["entity_id"].as_str().unwrap_or_default().to_string();
        if service == "number/set_value" {
            if let Some(e) = states.lock().unwrap().get_mut(&entity) {
                e.state = body["value"].to_string();
            }
            return Answer::Json(200, json!([{"entity_id": entity, "state": body["value"]}]));
        }
        let on = service.ends_with("/turn_on");
        if let Some(e) = states.lock().unwrap().get_mut(&entity) {
            e.state = if on { "on" } else { "off" }.into();
        }
        return Answer::Json(200, json!([{"entity_id": entity, "state": if on { "on" } else { "off" }}]));
    }
    Answer::Json(404, json!({"message": "not found"}))
}
