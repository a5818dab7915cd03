//! A fake forecast.solar API.

use crate::support::http::{Answer, FakeHttp};
use serde_json::json;

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
