//! Antminer stock (bmminer) replies: GH/s summary, `stats` chain data, the web CGI configuration.
//! Written from the documented formats, not copied from captures.

use crate::support::cgminer::reply;
use serde_json::json;

/// Antminer stock (bmminer): GH/s, a model line and a chain data entry in `stats`.
pub fn antminer_summary(ghs_5s: f64) -> String {
    reply(
        "SUMMARY",
        json!([{"Elapsed": 86400, "GHS 5s": ghs_5s, "GHS av": ghs_5s * 1.01, "GHS 30m": ghs_5s, "Found Blocks": 0, "Accepted": 9000}]),
    )
}

pub fn antminer_stats() -> String {
    reply(
        "STATS",
        json!([
            {"BMMiner": "1.0.0", "Miner": "49.0.1.3", "CompileTime": "Mon Jan 1 2024", "Type": "Antminer S19j Pro"},
            {"STATS": 0, "ID": "BTM_SOC0", "Elapsed": 86400, "GHS 5s": 100500.0, "rate_unit": "GH", "miner_count": 3, "fan_num": 4,
             "fan1": 5400, "fan2": 5460, "fan3": 5280, "fan4": 5340,
             "chain_acn1": 126, "chain_acn2": 126, "chain_acn3": 126, "chain_acn4": 0,
             "chain_rate1": "33600.10", "chain_rate2": "33400.50", "chain_rate3": "33499.40", "chain_rate4": "",
             "temp_chip1": "74-61-72-73", "temp_chip2": "76-60-71-75", "temp_chip3": "70-58-69-71", "temp_chip4": "0-0-0-0",
             "temp_pcb1": "63-50-61-62", "temp_pcb2": "65-51-60-64", "temp_pcb3": "59-49-58-60", "temp_pcb4": "0-0-0-0",
             "freq1": 550, "freq2": 550, "freq3": 550, "freq4": 0, "total_rateideal": 104000.0}
        ]),
    )
}

pub fn antminer_conf(mode: &str) -> serde_json::Value {
    json!({"pools": [{"url": "stratum+tcp://pool.example:3333", "user": "worker1", "pass": "x"}],
           "bitmain-fan-ctrl": false, "bitmain-fan-pwm": "100", "miner-mode": mode.parse::<i64>().unwrap_or(0),
           "bitmain-work-mode": mode, "freq-level": "100"})
}

/// The stock web CGI behind HTTP digest authentication: `get_miner_conf.cgi` answers the
/// configuration, `set_miner_conf.cgi` replaces it. Every request is recorded.
pub struct FakeAntminerWeb {
    pub http: crate::support::http::FakeHttp,
    conf: std::sync::Arc<std::sync::Mutex<serde_json::Value>>,
    ignoring: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl FakeAntminerWeb {
    pub fn start(mode: &str) -> FakeAntminerWeb {
        use crate::support::http::{Answer, FakeHttp, json as answer};
        let conf = std::sync::Arc::new(std::sync::Mutex::new(antminer_conf(mode)));
        let web_conf = conf.clone();
        let ignoring = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let ignores = ignoring.clone();
        let http = FakeHttp::start(move |request| {
            let Some(auth) = request.header("Authorization") else {
                let challenge = r#"Digest realm="antMiner Configuration", nonce="abc123", qop="auth""#;
                return Answer::Text(401, String::new(), vec![("WWW-Authenticate".into(), challenge.into())]);
            };
            assert!(auth.starts_with("Digest username=\"root\""), "{auth}");
            if request.url.ends_with("set_miner_conf.cgi") {
                if !ignores.load(std::sync::atomic::Ordering::SeqCst) {
                    *web_conf.lock().unwrap() = serde_json::from_str(&request.body).unwrap();
                }
                return answer(json!({"stats": "success", "code": "M000", "msg": "OK!"}));
            }
            answer(web_conf.lock().unwrap().clone())
        });
        FakeAntminerWeb { http, conf, ignoring }
    }

    pub fn url(&self) -> String {
        self.http.url()
    }

    /// The configuration now.
    pub fn conf(&self) -> serde_json::Value {
        self.conf.lock().unwrap().clone()
    }

    /// Answer "OK!" to `set_miner_conf.cgi` but keep the old configuration, as a miner whose
    /// write did not take.
    pub fn ignore_writes(&self, ignore: bool) {
        self.ignoring.store(ignore, std::sync::atomic::Ordering::SeqCst);
    }
}
