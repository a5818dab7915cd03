//! Bitaxe (AxeOS) `/api/system/info` replies.
//! Written from the documented formats, not copied from captures.

use serde_json::json;

/// Bitaxe `/api/system/info`: hashRate in GH/s, coreVoltage in mV.
pub fn bitaxe_info(ghs: f64) -> serde_json::Value {
    json!({"power": 14.2, "voltage": 5050, "current": 2900.5, "temp": 61.5, "vrTemp": 54, "hashRate": ghs, "bestDiff": "1.2M",
           "coreVoltage": 1200, "coreVoltageActual": 1195, "frequency": 575, "hostname": "desk-bitaxe", "macAddr": "24:DC:C3:00:00:01",
           "fanspeed": 60, "fanrpm": 4100, "uptimeSeconds": 12345, "ASICModel": "BM1368", "asicCount": 1, "version": "v2.5.0"})
}

/// A NerdQAxe++ (AxeOS-compatible): it names itself in `deviceModel`; four BM1370 chips.
pub fn nerdqaxe_info(ghs: f64, paused: bool) -> serde_json::Value {
    json!({"power": 76.5, "voltage": 12050, "temp": 58.0, "vrTemp": 49, "hashRate": ghs, "hashRate_10m": ghs * 0.98,
           "coreVoltage": 1150, "frequency": 600, "hostname": "nerdqaxe", "macAddr": "24:DC:C3:00:00:02", "fanrpm": 3100,
           "uptimeSeconds": 5400, "deviceModel": "NerdQAxe++", "ASICModel": "BM1370", "asicCount": 4, "version": "v1.0.30",
           "miningPaused": paused})
}

/// A Bitaxe (BM1368) AxeOS API: `/api/system/info` and `/api/system/asic` with its option
/// lists, and `PATCH /api/system` that changes the frequency live. What it draws at each
/// frequency is not linear in it, as on a real chip (voltage and leakage). Every request is
/// recorded.
pub struct FakeBitaxe {
    pub http: crate::support::http::FakeHttp,
    frequency: std::sync::Arc<std::sync::Mutex<f64>>,
    ignoring: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// The watts the fake draws at each of its frequency options (MHz).
pub const BITAXE_WATTS: [(f64, f64); 4] = [(400.0, 10.6), (490.0, 13.6), (525.0, 15.0), (575.0, 17.4)];

impl FakeBitaxe {
    pub fn start() -> FakeBitaxe {
        use crate::support::http::{Answer, FakeHttp, json as answer, status};
        use std::sync::atomic::Ordering;
        let frequency = std::sync::Arc::new(std::sync::Mutex::new(525.0));
        let ignoring = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (now, ignores) = (frequency.clone(), ignoring.clone());
        let http = FakeHttp::start(move |request| match (request.method.as_str(), request.url.as_str()) {
            ("GET", "/api/system/info") => {
                let f = *now.lock().unwrap();
                answer(json!({"power": bitaxe_watts(f), "hashRate": 1100.0 * f / 525.0, "frequency": f,
                    "coreVoltage": 1150, "temp": 60.0, "ASICModel": "BM1368", "version": "v2.5.0"}))
            }
            ("GET", "/api/system/asic") => answer(json!({"ASICModel": "BM1368", "defaultFrequency": 525,
                "frequencyOptions": [400, 490, 525, 575], "defaultVoltage": 1150, "voltageOptions": [1100, 1150, 1200]})),
            ("PATCH", "/api/system") => {
                let body: serde_json::Value = serde_json::from_str(&request.body).unwrap_or_default();
                if let Some(f) = body["frequency"].as_f64().filter(|_| !ignores.load(Ordering::SeqCst)) {
                    *now.lock().unwrap() = f;
                }
                Answer::Text(200, String::new(), vec![])
            }
            _ => status(404),
        });
        FakeBitaxe { http, frequency, ignoring }
    }

    pub fn url(&self) -> String {
        self.http.url()
    }

    /// The frequency it runs at now, MHz.
    pub fn frequency(&self) -> f64 {
        *self.frequency.lock().unwrap()
    }

    /// Accept a PATCH but keep the old frequency, as a device whose write did not take.
    pub fn ignore_writes(&self, ignore: bool) {
        self.ignoring.store(ignore, std::sync::atomic::Ordering::SeqCst);
    }
}

/// What the fake draws at `frequency` MHz.
pub fn bitaxe_watts(frequency: f64) -> f64 {
    BITAXE_WATTS.iter().find(|(f, _)| *f == frequency).map_or(15.0 * frequency / 525.0, |(_, w)| *w)
}
