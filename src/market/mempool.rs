//! `mempool`: any mempool.space-compatible API (a self-hosted mempool works the same):
//! `/api/v1/prices` (BTC price per currency), `/api/v1/mining/hashrate/3d`
//! (`currentHashrate`, H/s) and `/api/v1/mining/reward-stats/144` (`totalReward`, sat, over
//! `startBlock`…`endBlock`). Numbers may arrive as strings.

use serde::Deserialize;
use serde_json::Value;

use crate::config::spec::{ComponentSettings, TypeInfo, Typed};
use crate::core::economics::{MarketFacts, network_hashprice};
use crate::duration::Span;
use crate::market::{Market, MarketRead, MarketSettings};
use crate::trackers::CacheTtls;
use crate::transport::extract::as_number;
use crate::transport::fetch::{Fetcher, Policy};
use crate::transport::http::Request;
use crate::transport::{Call, InputError};

pub const TYPE: Typed<MempoolConfig> = Typed::new(TypeInfo::new(
    "mempool",
    "A mempool.space-compatible API: BTC price, network hashrate and block rewards.",
    "{type: mempool, api_base_url: \"https://mempool.space\"}",
));

/// Keys of the `mempool` market.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MempoolConfig {
    /// Default `https://mempool.space`.
    pub api_base_url: Option<String>,
    /// Cache lifetimes: `current_hashrate` stands for the network hashrate and the rewards,
    /// `pool_stats` for the price (defaults 30 min and 5 min).
    pub cache: Option<CacheTtls>,
    /// Spacing between requests to the host.
    pub min_interval: Option<Span>,
    /// Oldest data still served when the host cannot be asked (default 24h).
    pub max_stale: Option<Span>,
}

impl ComponentSettings for MempoolConfig {}

impl MarketSettings for MempoolConfig {
    fn build<'a>(&'a self, fetcher: &'a Fetcher) -> Box<dyn Market + 'a> {
        Box::new(Mempool { config: self, fetcher })
    }
}

pub struct Mempool<'a> {
    config: &'a MempoolConfig,
    fetcher: &'a Fetcher,
}

const PRICE_TTL: i64 = 5 * 60;
const HASHRATE_TTL: i64 = 30 * 60;

impl Mempool<'_> {
    fn base(&self) -> String {
        self.config.api_base_url.as_deref().unwrap_or("https://mempool.space").trim_end_matches('/').to_string()
    }

    fn policy(&self, ttl: i64, configured: Option<Span>) -> Policy {
        Policy {
            ttl: configured.map_or(ttl, |s| s.as_secs_i64()),
            min_interval: self.config.min_interval.map_or(std::time::Duration::ZERO, |s| s.0),
            max_stale: self.config.max_stale.map_or(86_400, |s| s.as_secs_i64()),
        }
    }
}

impl Market for Mempool<'_> {
    fn read(&self, currency: &str, call: &Call) -> MarketRead {
        let cache = self.config.cache.as_ref();
        let price_policy = self.policy(PRICE_TTL, cache.and_then(|c| c.pool_stats));
        let slow_policy = self.policy(HASHRATE_TTL, cache.and_then(|c| c.current_hashrate));
        let mut read = MarketRead::default();
        let mut oldest: Option<i64> = None;
        let mut get = |path: &str, policy: &Policy| -> Option<Value> {
            let outcome = self.fetcher.get(&Request::get(&format!("{}{path}", self.base())), policy, call);
            if let (Some(problem), None) = (outcome.problem, read.problem.as_ref()) {
                read.problem = Some(InputError::from(problem).context(format_args!("market {path}")));
            }
            let fetched = outcome.fetched?;
            read.facts.stale |= fetched.stale;
            oldest = Some(oldest.map_or(fetched.fetched_at, |o| o.min(fetched.fetched_at)));
            Some(fetched.value)
        };
        let prices = get("/api/v1/prices", &price_policy);
        let hashrate = get("/api/v1/mining/hashrate/3d", &slow_policy);
        let rewards = get("/api/v1/mining/reward-stats/144", &slow_policy);
        read.facts.btc_price = prices.as_ref().and_then(|p| p.get(currency)).and_then(as_number).filter(|p| *p > 0.0);
        read.facts.network_hashprice = hashprice(hashrate.as_ref(), rewards.as_ref());
        read.facts.age = oldest.map(|at| (call.now - at).max(0));
        if read.problem.is_none() && prices.is_some() && read.facts.btc_price.is_none() {
            read.problem = Some(InputError::invalid(format!("market: /api/v1/prices has no `{currency}`")));
        }
        read
    }
}

/// sat/TH/day from the hashrate and reward-stats replies.
fn hashprice(hashrate: Option<&Value>, rewards: Option<&Value>) -> Option<f64> {
    let hashrate = hashrate?.get("currentHashrate").and_then(as_number)?;
    let rewards = rewards?;
    let total = rewards.get("totalReward").and_then(as_number)?;
    let blocks = match (rewards.get("startBlock").and_then(as_number), rewards.get("endBlock").and_then(as_number)) {
        (Some(start), Some(end)) if end >= start => end - start + 1.0,
        _ => 144.0,
    };
    network_hashprice(total, blocks, hashrate)
}

impl MarketFacts {
    /// Nothing known at all.
    pub fn is_empty(&self) -> bool {
        self.btc_price.is_none() && self.network_hashprice.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hashprice_from_the_replies_strings_included() {
        let hashrate = json!({"currentHashrate": "800000000000000000000", "currentDifficulty": 1.2e14});
        let rewards =
            json!({"startBlock": 900001, "endBlock": 900144, "totalReward": "45600000000", "totalFee": "600000000"});
        assert_eq!(hashprice(Some(&hashrate), Some(&rewards)), Some(57.0));
        let fewer = json!({"startBlock": 900001, "endBlock": 900072, "totalReward": 45600000000u64});
        assert_eq!(hashprice(Some(&hashrate), Some(&fewer)), Some(114.0), "72 blocks counted: scaled to a day");
        assert_eq!(hashprice(None, Some(&rewards)), None);
    }
}
