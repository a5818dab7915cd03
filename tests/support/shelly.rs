//! A fake Shelly plug, Gen1 and Gen2 (RPC), recording every request.

use crate::support::http::{Answer, FakeHttp};
use serde_json::json;
use std::sync::{Arc, Mutex};

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
