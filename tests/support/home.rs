//! Fakes of what a home has: Home Assistant (states, services, 401, 404, unavailable, HTML,
//! hang), Shelly Gen1 and Gen2 plugs, a Tasmota relay, and forecast.solar. Each records
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
}

pub struct FakeHomeAssistant {
    pub http: FakeHttp,
    states: Arc<Mutex<BTreeMap<String, Entity>>>,
    mode: Arc<Mutex<HaMode>>,
}

impl FakeHomeAssistant {
    pub fn start() -> FakeHomeAssistant {
        let states: Arc<Mutex<BTreeMap<String, Entity>>> = Arc::default();
        let mode = Arc::new(Mutex::new(HaMode::Normal));
        let (s, m) = (states.clone(), mode.clone());
        let http = FakeHttp::start(move |request| home_assistant(request, &s, *m.lock().unwrap()));
        FakeHomeAssistant { http, states, mode }
    }

    pub fn url(&self) -> String {
        self.http.url()
    }

    pub fn set(&self, entity: &str, state: &str, unit: Option<&str>) {
        self.states
            .lock()
            .unwrap()
            .insert(entity.into(), Entity { state: state.into(), unit: unit.map(str::to_string) });
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
    if request.header("Authorization") != Some(&format!("Bearer {TOKEN}")) {
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
        let on = service.ends_with("/turn_on");
        if let Some(e) = states.lock().unwrap().get_mut(&entity) {
            e.state = if on { "on" } else { "off" }.into();
        }
        return Answer::Json(200, json!([{"entity_id": entity, "state": if on { "on" } else { "off" }}]));
    }
    Answer::Json(404, json!({"message": "not found"}))
}

/// A Shelly plug (Gen1 or Gen2 RPC) with one relay and a meter.
pub struct FakeShelly {
    pub http: FakeHttp,
    pub on: Arc<Mutex<bool>>,
}

impl FakeShelly {
    pub fn start(generation: u8, watts_when_on: f64) -> FakeShelly {
        let on = Arc::new(Mutex::new(false));
        let relay = on.clone();
        let http = FakeHttp::start(move |request| {
            let mut on = relay.lock().unwrap();
            let url = request.url.as_str();
            let power = if *on { watts_when_on } else { 0.0 };
            match generation {
                1 => {
                    if url.starts_with("/relay/0") {
                        if url.contains("turn=on") {
                            *on = true;
                        } else if url.contains("turn=off") {
                            *on = false;
                        }
                        return Answer::Json(200, json!({"ison": *on, "has_timer": false, "source": "http"}));
                    }
                    if url == "/status" {
                        return Answer::Json(
                            200,
                            json!({"relays": [{"ison": *on}], "meters": [{"power": power, "is_valid": true}]}),
                        );
                    }
                }
                _ => {
                    if url.starts_with("/rpc/Switch.Set") {
                        let was = *on;
                        *on = url.contains("on=true");
                        return Answer::Json(200, json!({"was_on": was}));
                    }
                    if url.starts_with("/rpc/Switch.GetStatus") {
                        return Answer::Json(
                            200,
                            json!({"id": 0, "source": "http", "output": *on, "apower": power, "voltage": 230.1,
                            "aenergy": {"total": 1234.5}, "temperature": {"tC": 41.2}}),
                        );
                    }
                }
            }
            Answer::Json(404, json!({"code": 404, "message": "No handler"}))
        });
        FakeShelly { http, on }
    }

    pub fn is_on(&self) -> bool {
        *self.on.lock().unwrap()
    }

    /// The switching requests it received.
    pub fn switches(&self) -> Vec<String> {
        self.http
            .log()
            .iter()
            .map(|r| r.url.clone())
            .filter(|u| u.contains("turn=") || u.starts_with("/rpc/Switch.Set"))
            .collect()
    }
}

/// A two-relay Tasmota whose meter reports a `Power` array.
pub struct FakeTasmota {
    pub http: FakeHttp,
    relays: Arc<Mutex<[bool; 2]>>,
}

impl FakeTasmota {
    pub fn start() -> FakeTasmota {
        let relays = Arc::new(Mutex::new([true, false]));
        let state = relays.clone();
        let http = FakeHttp::start(move |request| {
            let command = request
                .url
                .split("cmnd=")
                .nth(1)
                .unwrap_or_default()
                .split('&')
                .next()
                .unwrap_or_default()
                .replace("%20", " ");
            let mut relays = state.lock().unwrap();
            match command.as_str() {
                "Status 8" => Answer::Json(
                    200,
                    json!({"StatusSNS": {"Time": "2026-06-21T12:00:00",
                    "ENERGY": {"Total": 10.2, "Power": [15, if relays[1] { 1420 } else { 0 }], "Voltage": 231}}}),
                ),
                c if c.starts_with("Power") => {
                    let (index, action) = c
                        .trim_start_matches("Power")
                        .split_once(' ')
                        .map_or((c.trim_start_matches("Power"), None), |(i, a)| (i, Some(a)));
                    let index: usize = index.parse().unwrap_or(1);
                    match action {
                        Some("On") => relays[index - 1] = true,
                        Some("Off") => relays[index - 1] = false,
                        _ => {}
                    }
                    Answer::Json(200, json!({format!("POWER{index}"): if relays[index - 1] { "ON" } else { "OFF" }}))
                }
                _ => Answer::Json(200, json!({"Command": "Unknown"})),
            }
        });
        FakeTasmota { http, relays }
    }

    pub fn relay(&self, channel: usize) -> bool {
        self.relays.lock().unwrap()[channel - 1]
    }
}

/// forecast.solar: a bell-shaped day in the place's zone.
pub fn forecast_solar() -> FakeHttp {
    FakeHttp::start(|request| {
        if !request.url.contains("/estimate/") {
            return Answer::Json(404, json!({"message": {"code": 404}}));
        }
        let mut watts = serde_json::Map::new();
        for hour in 5..=21 {
            let w = (4000.0 * (std::f64::consts::PI * (f64::from(hour) - 5.0) / 16.0).sin()).round();
            watts.insert(format!("2026-06-21 {hour:02}:00:00"), json!(w));
        }
        Answer::Json(
            200,
            json!({"result": {"watts": watts}, "message": {"code": 0, "type": "success",
            "info": {"timezone": "Europe/Rome", "place": "Milan"}}}),
        )
    })
}
