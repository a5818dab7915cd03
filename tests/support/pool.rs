//! A fake pool API (Ocean and Braiins Pool shapes) that misbehaves on demand and counts
//! requests.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use crate::support::http::{Answer, FakeHttp};

#[derive(Debug, Clone, PartialEq)]
pub enum PoolMode {
    Ok,
    RateLimited(Option<String>),
    ServerError,
    Unauthorized,
    Html,
    Garbage,
    Slow(Duration),
}

/// Pool-side numbers the fake reports (TH/s).
#[derive(Debug, Clone)]
pub struct PoolNumbers {
    pub current: f64,
    pub day: f64,
    pub week: f64,
}

pub struct FakePool {
    pub http: FakeHttp,
    mode: Arc<Mutex<PoolMode>>,
    numbers: Arc<Mutex<PoolNumbers>>,
}

impl FakePool {
    pub fn start() -> FakePool {
        let mode = Arc::new(Mutex::new(PoolMode::Ok));
        let numbers = Arc::new(Mutex::new(PoolNumbers { current: 95.0, day: 90.0, week: 88.0 }));
        let (m, n) = (mode.clone(), numbers.clone());
        let http = FakeHttp::start(move |request| answer(&m.lock().unwrap(), &n.lock().unwrap(), &request.url));
        FakePool { http, mode, numbers }
    }

    pub fn url(&self) -> String {
        self.http.url()
    }

    pub fn set_mode(&self, mode: PoolMode) {
        *self.mode.lock().unwrap() = mode;
    }

    pub fn set_numbers(&self, current: f64, day: f64, week: f64) {
        *self.numbers.lock().unwrap() = PoolNumbers { current, day, week };
    }

    pub fn count(&self) -> usize {
        self.http.log().len()
    }
}

fn answer(mode: &PoolMode, numbers: &PoolNumbers, url: &str) -> Answer {
    match mode {
        PoolMode::Ok => {}
        PoolMode::RateLimited(retry_after) => {
            let headers = retry_after.iter().map(|r| ("Retry-After".to_string(), r.clone())).collect();
            return Answer::Text(429, "Too Many Requests".into(), headers);
        }
        PoolMode::ServerError => return Answer::Text(503, "busy".into(), vec![]),
        PoolMode::Unauthorized => return Answer::Text(401, "{\"detail\":\"bad token\"}".into(), vec![]),
        PoolMode::Html => {
            return Answer::Text(200, "<!DOCTYPE html><html><body>maintenance</body></html>".into(), vec![]);
        }
        PoolMode::Garbage => return Answer::Text(200, "{\"result\": [1, 2".into(), vec![]),
        PoolMode::Slow(delay) => return Answer::Hang(*delay),
    }
    let hs = |ths: f64| format!("{:.0}", ths * 1e12);
    if url.starts_with("/v1/user_hashrate_full/") {
        return Answer::Json(
            200,
            json!({"result": {"workers": {"garage-s19": [{"hashrate_300s": hs(numbers.current), "lastest_share_ts": 1_782_000_000}]}}}),
        );
    }
    if url.starts_with("/v1/user_hashrate/") {
        return Answer::Json(
            200,
            json!({"result": {"hashrate_60s": hs(numbers.current), "hashrate_300s": hs(numbers.current),
            "hashrate_86400": hs(numbers.day), "hashrate_604800": hs(numbers.week)}}),
        );
    }
    if url.starts_with("/v1/statsnap/") {
        return Answer::Json(
            200,
            json!({"result": {"unpaid": "0.00123456", "estimated_payout_next_block": "0.00004321"}}),
        );
    }
    if url.starts_with("/v1/earnpay/") {
        return Answer::Json(
            200,
            json!({"result": {"payouts": [{"ts": 1_781_000_000, "total_satoshis_net_paid": 150000}]}}),
        );
    }
    if url.starts_with("/accounts/profile/json/btc") {
        return Answer::Json(
            200,
            json!({"username": "me", "btc": {"hash_rate_unit": "Gh/s", "hash_rate_5m": numbers.current * 1000.0,
            "hash_rate_60m": numbers.current * 1000.0, "hash_rate_24h": numbers.day * 1000.0, "current_balance": "0.00250000",
            "estimated_reward": "0.00012345", "ok_workers": 1}}),
        );
    }
    if url.starts_with("/accounts/workers/json/btc") {
        return Answer::Json(
            200,
            json!({"btc": {"workers": {"me.garage-s19": {"state": "ok", "last_share": 1_782_000_000,
            "hash_rate_unit": "Gh/s", "hash_rate_5m": numbers.current * 1000.0}}}}),
        );
    }
    if url.starts_with("/accounts/rewards/json/btc") {
        return Answer::Json(
            200,
            json!({"btc": {"daily_rewards": [{"date": 1_781_913_600, "total_reward": "0.00050000"}]}}),
        );
    }
    Answer::Text(404, "not found".into(), vec![])
}
