//! `ocean`: the OCEAN pool's public API, keyed by the payout address (no authentication).
//!
//! Replies are wrapped in `{"result": …}`; hashrates are H/s (numbers or numeric strings);
//! payouts are per block (TIDES), with no threshold.

use serde::Deserialize;
use serde_json::Value;

use crate::config::spec::{ComponentSettings, TypeInfo, Typed};
use crate::core::performance::*;
use crate::duration::Span;
use crate::trackers::{Build, CacheTtls, Kind, Tracked, Tracker, TrackerSettings, policy, pool_number, take, tracked};
use crate::transport::fetch::Fetcher;
use crate::transport::http::Request;
use crate::transport::{Call, InputError};

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OceanConfig {
    pub bitcoin_address: String,
    /// Default `https://api.ocean.xyz`.
    pub api_base_url: Option<String>,
    pub cache: Option<CacheTtls>,
    pub min_interval: Option<Span>,
    pub max_stale: Option<Span>,
}

pub const TYPE: Typed<OceanConfig> = Typed::new(TypeInfo::new(
    "ocean",
    "OCEAN (TIDES): the address's hashrate, earnings and payouts, through the cached client.",
    "{id: ocean, type: ocean, bitcoin_address: bc1qexampleaddress}",
));

impl ComponentSettings for OceanConfig {}

impl TrackerSettings for OceanConfig {
    fn build<'a>(&'a self, build: &Build<'a>) -> Box<dyn Tracker + 'a> {
        Box::new(Ocean::new(build.id, self, build.fetcher))
    }
}

pub struct Ocean<'a> {
    id: String,
    config: OceanConfig,
    base: String,
    fetcher: &'a Fetcher,
}

impl<'a> Ocean<'a> {
    pub fn new(id: &str, config: &OceanConfig, fetcher: &'a Fetcher) -> Ocean<'a> {
        let base = config.api_base_url.clone().unwrap_or_else(|| "https://api.ocean.xyz".into());
        Ocean { id: id.to_string(), config: config.clone(), base: base.trim_end_matches('/').to_string(), fetcher }
    }

    fn get(&self, path: &str, kind: Kind, call: &Call, problem: &mut Option<InputError>) -> Option<(Value, i64, bool)> {
        let url = format!("{}/v1/{path}/{}", self.base, self.config.bitcoin_address);
        let policy = policy(kind, self.config.cache.as_ref(), self.config.min_interval, 0, self.config.max_stale);
        let fetched = take(self.fetcher.get(&Request::get(&url), &policy, call), problem)?;
        match unwrap_result(&fetched.value) {
            Ok(result) => Some((result, fetched.fetched_at, fetched.stale)),
            Err(message) => {
                problem.get_or_insert(InputError::invalid(format!("{path}: {message}")));
                None
            }
        }
    }
}

/// `{"result": …}` → the result; `{"error": …}` → its message.
fn unwrap_result(value: &Value) -> Result<Value, String> {
    if let Some(error) = value.get("error").filter(|e| !e.is_null()) {
        return Err(format!("the pool answered an error: {error}"));
    }
    value.get("result").cloned().ok_or_else(|| "the reply has no `result`".into())
}

/// The first `hashrate_<window>` present, in TH/s.
fn hashrate(object: &Value, windows: &[&str]) -> Option<HashRate> {
    windows
        .iter()
        .find_map(|w| pool_number(object.get(format!("hashrate_{w}"))))
        .map(|hs| HashRate::terahashes(hs / 1e12))
}

const CURRENT: [&str; 4] = ["300s", "300", "60s", "60"];
const DAY: [&str; 4] = ["86400s", "86400", "24h", "1d"];
const WEEK: [&str; 4] = ["604800s", "604800", "7d", "168h"];

/// Unpaid amounts come as BTC decimals or satoshi integers.
fn satoshi(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Number(n) if n.is_i64() => n.as_i64(),
        Value::String(s) if !s.contains('.') => s.trim().parse().ok(),
        other => btc_to_sats(other),
    }
}

/// Workers as a list, or as an object keyed by name (values objects or one-element lists).
pub fn workers_of(result: &Value) -> Vec<PoolWorkerStats> {
    let list = result.get("workers").unwrap_or(result);
    let entries: Vec<(Option<String>, &Value)> = match list {
        Value::Array(items) => items.iter().map(|w| (None, w)).collect(),
        Value::Object(map) => map.iter().map(|(name, w)| (Some(name.clone()), w)).collect(),
        _ => Vec::new(),
    };
    entries
        .into_iter()
        .filter_map(|(name, entry)| {
            let entry = entry.as_array().and_then(|a| a.first()).unwrap_or(entry);
            let name = entry
                .get("name")
                .or_else(|| entry.get("workername"))
                .and_then(Value::as_str)
                .map(str::to_string)
                .or(name)?;
            Some(PoolWorkerStats {
                worker_name: name,
                hashrate: hashrate(entry, &CURRENT),
                last_share_at: pool_number(entry.get("lastest_share_ts").or_else(|| entry.get("last_share_ts")))
                    .and_then(|ts| jiff::Timestamp::from_second(ts as i64).ok())
                    .map(|t| t.to_string()),
                valid_shares: pool_number(entry.get("shares_300s")).map(|s| s as u64),
                stale_shares: None,
                rejected_shares: None,
            })
        })
        .collect()
}

impl Tracker for Ocean<'_> {
    fn snapshot(&self, call: &Call) -> Tracked {
        let mut problem = None;
        let current = self.get("user_hashrate", Kind::CurrentHashrate, call, &mut problem);
        let Some((hashrates, fetched_at, mut stale)) = current else {
            return Tracked { snapshot: None, problem: problem.or(Some(InputError::invalid("no data from the pool"))) };
        };
        let snap = self.get("statsnap", Kind::PoolStats, call, &mut problem);
        let full = self.get("user_hashrate_full", Kind::Workers, call, &mut problem);
        stale |= snap.as_ref().is_some_and(|s| s.2) || full.as_ref().is_some_and(|f| f.2);
        let stamp = match stamp(fetched_at) {
            Ok(stamp) => stamp,
            Err(error) => return Tracked { snapshot: None, problem: Some(error) },
        };
        let snap_value = snap.map(|s| s.0).unwrap_or(Value::Null);
        let pool_stats = PoolStats {
            current_hashrate: hashrate(&hashrates, &CURRENT),
            average_hashrate_24h: hashrate(&hashrates, &DAY),
            average_hashrate_7d: hashrate(&hashrates, &WEEK),
            unpaid_balance: satoshi(snap_value.get("unpaid")),
            estimated_next_payout: satoshi(
                snap_value.get("estimated_payout_next_block").or_else(|| snap_value.get("estimated_earn_next_block")),
            ),
            workers: full.map(|f| workers_of(&f.0)).unwrap_or_default(),
            timestamp: stamp,
        };
        tracked(&self.id, pool_stats, self.payout(), fetched_at, stale, problem)
    }

    fn workers(&self, call: &Call) -> Result<Vec<PoolWorkerStats>, InputError> {
        let mut problem = None;
        let full = self.get("user_hashrate_full", Kind::Workers, call, &mut problem);
        full.map(|f| workers_of(&f.0))
            .ok_or_else(|| problem.unwrap_or_else(|| InputError::invalid("no data from the pool")))
    }

    fn rewards(&self, call: &Call, limit: usize) -> Result<Vec<MiningReward>, InputError> {
        let mut problem = None;
        let path = format!("earnpay/{}/{}", self.config.bitcoin_address, call.now);
        let url = format!("{}/v1/{path}/{}", self.base, call.now - 30 * 86_400);
        let policy =
            policy(Kind::Rewards, self.config.cache.as_ref(), self.config.min_interval, 0, self.config.max_stale);
        let fetched = take(self.fetcher.get(&Request::get(&url), &policy, call), &mut problem)
            .ok_or_else(|| problem.clone().unwrap_or_else(|| InputError::invalid("no data from the pool")))?;
        let result = unwrap_result(&fetched.value).map_err(InputError::invalid)?;
        let payouts = result.get("payouts").and_then(Value::as_array).cloned().unwrap_or_default();
        let mut rewards = Vec::new();
        for payout in payouts.iter().take(limit) {
            let (Some(amount), Some(at)) =
                (satoshi(payout.get("total_satoshis_net_paid")), pool_number(payout.get("ts")))
            else {
                continue;
            };
            rewards.push(MiningReward { amount, timestamp: stamp(at as i64)? });
        }
        Ok(rewards)
    }

    fn payout(&self) -> PayoutSchedule {
        PayoutSchedule { frequency: PayoutFrequency::PerBlock, threshold: None, next_payout_at: None }
    }
}

fn stamp(at: i64) -> Result<String, InputError> {
    crate::core::time::instant(at).map(|t| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hashrates_from_strings_in_hs() {
        let result = json!({"hashrate_60s": "2000000000000", "hashrate_300s": 95000000000000.0, "hashrate_86400": "90000000000000"});
        assert_eq!(hashrate(&result, &CURRENT).unwrap().value, 95.0);
        assert_eq!(hashrate(&result, &DAY).unwrap().value, 90.0);
        assert!(hashrate(&result, &WEEK).is_none());
    }

    #[test]
    fn workers_as_map_or_list() {
        let map =
            json!({"workers": {"garage-s19": [{"hashrate_300s": "95000000000000", "lastest_share_ts": 1760000000}]}});
        let workers = workers_of(&map);
        assert_eq!(workers[0].worker_name, "garage-s19");
        assert_eq!(workers[0].hashrate.unwrap().value, 95.0);
        let list = json!({"workers": [{"name": "desk", "hashrate_300s": 1.1e12}]});
        assert_eq!(workers_of(&list)[0].worker_name, "desk");
        assert!(workers_of(&json!({"workers": 5})).is_empty());
    }

    #[test]
    fn errors_and_envelopes() {
        assert!(unwrap_result(&json!({"error": "bad address"})).is_err());
        assert_eq!(unwrap_result(&json!({"result": {"a": 1}})).unwrap(), json!({"a": 1}));
        assert_eq!(satoshi(Some(&json!("0.5"))), Some(50_000_000));
        assert_eq!(satoshi(Some(&json!(1234))), Some(1234));
    }
}
