//! A fake mempool.space-compatible API: prices, the 3-day network hashrate and the reward
//! stats of the last 144 blocks; misbehaves on demand (the pool fake's modes) and counts
//! requests.

use std::sync::{Arc, Mutex};

use serde_json::json;

use crate::support::http::{Answer, FakeHttp};
use crate::support::pool::PoolMode;

pub struct FakeMempool {
    pub http: FakeHttp,
    mode: Arc<Mutex<PoolMode>>,
}

/// What the fake reports: 1 BTC = 100 000 USD = 92 000 EUR; 800 EH/s; 144 blocks earned
/// 456 BTC (numbers partly as strings, as mempool sends some).
impl FakeMempool {
    pub fn start() -> FakeMempool {
        let mode = Arc::new(Mutex::new(PoolMode::Ok));
        let m = mode.clone();
        let http = FakeHttp::start(move |request| {
            match &*m.lock().unwrap() {
                PoolMode::Ok => {}
                PoolMode::RateLimited(retry_after) => {
                    let headers = retry_after.iter().map(|r| ("Retry-After".to_string(), r.clone())).collect();
                    return Answer::Text(429, "Too Many Requests".into(), headers);
                }
                _ => return Answer::Text(503, "busy".into(), vec![]),
            }
            match request.url.as_str() {
                "/api/v1/prices" => {
                    Answer::Json(200, json!({"time": 1_782_036_000, "USD": 100_000, "EUR": 92_000, "GBP": 79_000}))
                }
                "/api/v1/mining/hashrate/3d" => {
                    Answer::Json(200, json!({"currentHashrate": 8.0e20, "currentDifficulty": 1.2e14, "hashrates": []}))
                }
                "/api/v1/mining/reward-stats/144" => Answer::Json(
                    200,
                    json!({"startBlock": 900_001, "endBlock": 900_144, "totalReward": "45600000000", "totalFee": "600000000", "totalTx": "500000"}),
                ),
                _ => Answer::Text(404, "not found".into(), vec![]),
            }
        });
        FakeMempool { http, mode }
    }

    pub fn url(&self) -> String {
        self.http.url()
    }

    pub fn set_mode(&self, mode: PoolMode) {
        *self.mode.lock().unwrap() = mode;
    }

    pub fn count(&self) -> usize {
        self.http.log().len()
    }
}
