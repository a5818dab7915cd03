//! The mining-performance domain (SPEC §6.1): what a pool reports, in Edge Mining's names.
//! Hashrates in TH/s, amounts in satoshi.

use serde::Serialize;
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HashRate {
    pub value: f64,
    pub unit: &'static str,
}

impl HashRate {
    pub fn terahashes(value: f64) -> HashRate {
        HashRate { value: significant(value, HASHRATE_DIGITS), unit: "TH/s" }
    }
}

/// Hashrates keep this many significant digits, so a 0.5 TH/s Bitaxe and a 0.0004 TH/s
/// NerdMiner read as well as a 200 TH/s S21.
pub const HASHRATE_DIGITS: i32 = 6;

/// `value` rounded to `digits` significant digits.
pub fn significant(value: f64, digits: i32) -> f64 {
    if value == 0.0 || !value.is_finite() {
        return value;
    }
    let magnitude = value.abs().log10().floor() as i32;
    let scale = 10f64.powi(digits - 1 - magnitude);
    (value * scale).round() / scale
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PoolWorkerStats {
    pub worker_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hashrate: Option<HashRate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_share_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_shares: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stale_shares: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejected_shares: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PoolStats {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_hashrate: Option<HashRate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub average_hashrate_24h: Option<HashRate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub average_hashrate_7d: Option<HashRate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unpaid_balance: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimated_next_payout: Option<i64>,
    pub workers: Vec<PoolWorkerStats>,
    pub timestamp: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PayoutFrequency {
    Unknown,
    PerBlock,
    Hourly,
    Daily,
    Threshold,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PayoutSchedule {
    pub frequency: PayoutFrequency,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_payout_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MiningPerformanceSnapshot {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_hashrate: Option<HashRate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool_stats: Option<PoolStats>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payout_schedule: Option<PayoutSchedule>,
    pub timestamp: String,
}

/// One reward or payout, in satoshi.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MiningReward {
    pub amount: i64,
    pub timestamp: String,
}

/// BTC as a decimal string or number → satoshi, rounded (`"0.00012345"` → 12345).
pub fn btc_to_sats(value: &Value) -> Option<i64> {
    match value {
        Value::String(s) => decimal_to_sats(s.trim()),
        Value::Number(n) => decimal_to_sats(&n.to_string()),
        _ => None,
    }
}

/// Exact decimal arithmetic: the digits past the eighth round half up.
fn decimal_to_sats(text: &str) -> Option<i64> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let valid = |part: &str| part.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty() && fraction.is_empty() || !valid(whole) || !valid(fraction) {
        return None;
    }
    let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let padded = format!("{fraction:0<9}");
    let sats: i64 = padded[..8].parse().ok()?;
    let round_up = padded.as_bytes()[8] >= b'5';
    let total = whole.checked_mul(100_000_000)?.checked_add(sats + i64::from(round_up))?;
    Some(if negative { -total } else { total })
}

/// A hashrate in `unit` (H/s, Gh/s, TH/s…, any case) → TH/s.
pub fn to_terahashes(value: f64, unit: &str) -> Option<f64> {
    let factor = match unit.trim().to_ascii_lowercase().trim_end_matches("/s") {
        "h" => 1e-12,
        "kh" => 1e-9,
        "mh" => 1e-6,
        "gh" => 1e-3,
        "th" => 1.0,
        "ph" => 1e3,
        "eh" => 1e6,
        _ => return None,
    };
    Some(value * factor).filter(|v| v.is_finite() && *v >= 0.0)
}

/// A snapshot as a tracker delivered it, with when it was fetched (unix seconds).
#[derive(Debug, Clone, PartialEq)]
pub struct TrackedSnapshot {
    pub tracker: String,
    pub snapshot: MiningPerformanceSnapshot,
    pub fetched_at: i64,
    pub stale: bool,
    /// The pool's own hashprice, sat/TH/day, where it estimates a day's reward.
    pub hashprice: Option<f64>,
}

/// The `mining_performance` section for one miner: the snapshot, its freshness, and the
/// pool's view of the miner's own worker when the miner declares `worker:`.
pub fn to_context(tracked: &TrackedSnapshot, now: i64, worker: Option<&str>) -> Value {
    let mut value = serde_json::to_value(&tracked.snapshot).unwrap_or_else(|_| json!({}));
    if let Some(map) = value.as_object_mut() {
        map.insert("stale".into(), json!(tracked.stale));
        map.insert("age".into(), json!((now - tracked.fetched_at).max(0)));
        map.insert("tracker".into(), json!(tracked.tracker));
        let own = worker.and_then(|name| {
            tracked
                .snapshot
                .pool_stats
                .as_ref()?
                .workers
                .iter()
                .find(|w| w.worker_name == name || w.worker_name.ends_with(&format!(".{name}")))
        });
        if let Some(own) = own {
            map.insert("worker".into(), serde_json::to_value(own).unwrap_or(Value::Null));
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(btc_to_sats(&json!("0.00012345")), Some(12345));
        assert_eq!(btc_to_sats(&json!("0.000000015")), Some(2));
        assert_eq!(btc_to_sats(&json!("lots")), None);
        assert_eq!(to_terahashes(1.5e12, "H/s"), Some(1.5));
        assert_eq!(to_terahashes(95000.0, "Gh/s"), Some(95.0));
        assert_eq!(to_terahashes(1.0, "furlongs"), None);
    }
}
