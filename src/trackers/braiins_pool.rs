//! `braiins_pool`: Braiins Pool's account API, authenticated by the `Pool-Auth-Token` header.
//!
//! Data is wrapped in `{"btc": …}`; hashrates carry `hash_rate_unit` (default Gh/s); amounts
//! are BTC decimal strings; payouts are daily (FPPS). Braiins asks for about one request per
//! five seconds, hence the default `min_interval` of 5 s.

use serde::Deserialize;
use serde_json::Value;

use crate::config::secret::Secret;
use crate::config::spec::{ComponentSettings, TypeInfo, Typed};
use crate::core::performance::*;
use crate::duration::Span;
use crate::trackers::{Build, CacheTtls, Kind, Tracked, Tracker, TrackerSettings, policy, pool_number, take, tracked};
use crate::transport::fetch::Fetcher;
use crate::transport::http::Request;
use crate::transport::{Call, InputError};

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BraiinsPoolConfig {
    pub api_token: Option<Secret>,
    /// Default `https://pool.braiins.com`.
    pub api_base_url: Option<String>,
    pub cache: Option<CacheTtls>,
    pub min_interval: Option<Span>,
    pub max_stale: Option<Span>,
}

const DEFAULT_SPACING: u64 = 5;

pub const TYPE: Typed<BraiinsPoolConfig> = Typed::new(TypeInfo::new(
    "braiins_pool",
    "Braiins Pool: the account's hashrate, workers and rewards (needs an API token).",
    "{id: braiins, type: braiins_pool, api_token_file: braiins-token}",
));

impl ComponentSettings for BraiinsPoolConfig {}

impl TrackerSettings for BraiinsPoolConfig {
    fn build<'a>(&'a self, build: &Build<'a>) -> Box<dyn Tracker + 'a> {
        Box::new(BraiinsPool::new(build.id, self, build.fetcher))
    }
}

pub struct BraiinsPool<'a> {
    id: String,
    config: BraiinsPoolConfig,
    base: String,
    fetcher: &'a Fetcher,
}

impl<'a> BraiinsPool<'a> {
    pub fn new(id: &str, config: &BraiinsPoolConfig, fetcher: &'a Fetcher) -> BraiinsPool<'a> {
        let base = config.api_base_url.clone().unwrap_or_else(|| "https://pool.braiins.com".into());
        BraiinsPool {
            id: id.to_string(),
            config: config.clone(),
            base: base.trim_end_matches('/').to_string(),
            fetcher,
        }
    }

    fn get(&self, path: &str, kind: Kind, call: &Call, problem: &mut Option<InputError>) -> Option<(Value, i64, bool)> {
        let token = self.config.api_token.as_ref().map(|t| t.expose().to_string()).unwrap_or_default();
        let request = Request::get(&format!("{}/{path}", self.base)).header("Pool-Auth-Token", token);
        let policy =
            policy(kind, self.config.cache.as_ref(), self.config.min_interval, DEFAULT_SPACING, self.config.max_stale);
        let fetched = take(self.fetcher.get(&request, &policy, call), problem)?;
        match fetched.value.get("btc") {
            Some(btc) => Some((btc.clone(), fetched.fetched_at, fetched.stale)),
            None => {
                problem.get_or_insert(InputError::invalid(format!("{path}: the reply has no `btc` section")));
                None
            }
        }
    }
}

/// `hash_rate_<window>` in the object's `hash_rate_unit` (default Gh/s), in TH/s.
fn hashrate(object: &Value, window: &str) -> Option<HashRate> {
    let unit = object.get("hash_rate_unit").and_then(Value::as_str).unwrap_or("Gh/s");
    let value = pool_number(object.get(format!("hash_rate_{window}")))?;
    to_terahashes(value, unit).map(HashRate::terahashes)
}

/// Workers as an object keyed by `user.worker`, or a list.
pub fn workers_of(btc: &Value) -> Vec<PoolWorkerStats> {
    let workers = btc.get("workers").unwrap_or(btc);
    let entries: Vec<(Option<String>, &Value)> = match workers {
        Value::Object(map) => map.iter().map(|(name, w)| (Some(name.clone()), w)).collect(),
        Value::Array(items) => items.iter().map(|w| (None, w)).collect(),
        _ => Vec::new(),
    };
    entries
        .into_iter()
        .filter_map(|(name, worker)| {
            let name = name.or_else(|| worker.get("name").and_then(Value::as_str).map(str::to_string))?;
            Some(PoolWorkerStats {
                worker_name: name,
                hashrate: hashrate(worker, "5m"),
                last_share_at: pool_number(worker.get("last_share"))
                    .and_then(|ts| jiff::Timestamp::from_second(ts as i64).ok())
                    .map(|t| t.to_string()),
                valid_shares: pool_number(worker.get("shares_5m")).map(|s| s as u64),
                stale_shares: None,
                rejected_shares: None,
            })
        })
        .collect()
}

impl Tracker for BraiinsPool<'_> {
    fn snapshot(&self, call: &Call) -> Tracked {
        let mut problem = None;
        let Some((profile, fetched_at, mut stale)) =
            self.get("accounts/profile/json/btc/", Kind::CurrentHashrate, call, &mut problem)
        else {
            return Tracked { snapshot: None, problem: problem.or(Some(InputError::invalid("no data from the pool"))) };
        };
        let workers = self.get("accounts/workers/json/btc/", Kind::Workers, call, &mut problem);
        stale |= workers.as_ref().is_some_and(|w| w.2);
        let stamp = match crate::core::time::instant(fetched_at) {
            Ok(instant) => instant.to_string(),
            Err(error) => return Tracked { snapshot: None, problem: Some(error) },
        };
        let pool_stats = PoolStats {
            current_hashrate: hashrate(&profile, "5m"),
            average_hashrate_24h: hashrate(&profile, "24h"),
            average_hashrate_7d: None,
            unpaid_balance: profile.get("current_balance").and_then(btc_to_sats),
            estimated_next_payout: profile.get("estimated_reward").and_then(btc_to_sats),
            workers: workers.map(|w| workers_of(&w.0)).unwrap_or_default(),
            timestamp: stamp,
        };
        // `estimated_reward` is a day's reward for the 24-hour hashrate: sat/TH/day.
        let hashprice = match (pool_stats.estimated_next_payout, pool_stats.average_hashrate_24h.map(|h| h.value)) {
            (Some(sat), Some(ths)) if ths > 0.0 => Some(sat as f64 / ths),
            _ => None,
        };
        let mut answer = tracked(&self.id, pool_stats, self.payout(), fetched_at, stale, problem);
        if let Some(snapshot) = answer.snapshot.as_mut() {
            snapshot.hashprice = hashprice;
        }
        answer
    }

    fn workers(&self, call: &Call) -> Result<Vec<PoolWorkerStats>, InputError> {
        let mut problem = None;
        let workers = self.get("accounts/workers/json/btc/", Kind::Workers, call, &mut problem);
        workers
            .map(|w| workers_of(&w.0))
            .ok_or_else(|| problem.unwrap_or_else(|| InputError::invalid("no data from the pool")))
    }

    fn rewards(&self, call: &Call, limit: usize) -> Result<Vec<MiningReward>, InputError> {
        let mut problem = None;
        let btc = self
            .get("accounts/rewards/json/btc/", Kind::Rewards, call, &mut problem)
            .ok_or_else(|| problem.unwrap_or_else(|| InputError::invalid("no data from the pool")))?;
        let rewards = btc.0.get("daily_rewards").and_then(Value::as_array).cloned().unwrap_or_default();
        let mut out = Vec::new();
        for reward in rewards.iter().take(limit) {
            let (Some(amount), Some(at)) =
                (reward.get("total_reward").and_then(btc_to_sats), pool_number(reward.get("date")))
            else {
                continue;
            };
            out.push(MiningReward { amount, timestamp: crate::core::time::instant(at as i64)?.to_string() });
        }
        Ok(out)
    }

    fn payout(&self) -> PayoutSchedule {
        PayoutSchedule { frequency: PayoutFrequency::Daily, threshold: None, next_payout_at: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn profile_units_and_workers() {
        let profile = json!({"hash_rate_unit": "Gh/s", "hash_rate_5m": 95000.0, "hash_rate_24h": "90000"});
        assert_eq!(hashrate(&profile, "5m").unwrap().value, 95.0);
        assert_eq!(hashrate(&profile, "24h").unwrap().value, 90.0);
        let workers = workers_of(
            &json!({"workers": {"me.s19": {"state": "ok", "hash_rate_unit": "Th/s", "hash_rate_5m": 94.0, "last_share": 1760000000}}}),
        );
        assert_eq!(workers[0].worker_name, "me.s19");
        assert_eq!(workers[0].hashrate.unwrap().value, 94.0);
        assert!(workers[0].last_share_at.as_deref().unwrap().starts_with("2025-10-09"));
    }
}
