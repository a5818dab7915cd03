//! A fake two-relay Tasmota, recording every request.

use crate::support::http::{Answer, FakeHttp};
use serde_json::json;
use std::sync::{Arc, Mutex};

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
