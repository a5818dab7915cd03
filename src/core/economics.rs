//! Economics (SPEC §19, §24): is a kilowatt-hour worth more mined than fed in?
//!
//! - Network hashprice, sat/TH/day = block rewards of the last blocks counted, scaled to 144
//!   blocks (a day), ÷ the network hashrate in TH/s.
//! - A miner's efficiency, J/TH = W ÷ TH/s; one TH/s for a day at that efficiency uses
//!   J/TH × 86 400 J = J/TH × 0.024 kWh.
//! - Revenue per kWh = hashprice ÷ (J/TH × 0.024), in sat and, at the BTC price, in the
//!   currency; the breakeven electricity price is that revenue; the margins subtract the
//!   feed-in and the import price.

use serde_json::{Value, json};

/// kWh used per day by one TH/s at one J/TH.
pub const KWH_PER_TH_DAY_PER_J_PER_TH: f64 = 86_400.0 / 3_600_000.0;

/// What the market said, and how fresh it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MarketFacts {
    /// Price of one bitcoin in the tariff's currency.
    pub btc_price: Option<f64>,
    /// sat/TH/day.
    pub network_hashprice: Option<f64>,
    /// True when any of it was served stale (the host could not be asked).
    pub stale: bool,
    /// Seconds since the oldest part was fetched.
    pub age: Option<i64>,
}

/// The electricity prices now, per kWh in the currency.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Prices {
    pub import: Option<f64>,
    pub feed_in: Option<f64>,
}

/// Everything the economics of one miner depend on.
#[derive(Debug, Clone, Default)]
pub struct EconomicsInputs {
    pub currency: String,
    pub market: MarketFacts,
    /// sat/TH/day from the pool's own estimate, while it is fresh.
    pub pool_hashprice: Option<f64>,
    pub prices: Prices,
}

/// Network hashprice, sat/TH/day, from `totalReward` (sat) over `blocks` blocks and the
/// network hashrate in H/s.
pub fn network_hashprice(total_reward_sat: f64, blocks: f64, hashrate_hs: f64) -> Option<f64> {
    let per_day = total_reward_sat * (144.0 / blocks);
    let terahashes = hashrate_hs / 1e12;
    (blocks > 0.0 && terahashes > 0.0 && per_day.is_finite()).then(|| per_day / terahashes)
}

/// J/TH from a measured power and hashrate, else from the nominal ones.
pub fn efficiency(power: Option<f64>, hashrate: Option<f64>, nominal: (Option<f64>, Option<f64>)) -> Option<f64> {
    let ratio = |watts: Option<f64>, ths: Option<f64>| match (watts, ths) {
        (Some(w), Some(t)) if w > 0.0 && t > 0.0 => Some(w / t),
        _ => None,
    };
    ratio(power, hashrate).or_else(|| ratio(nominal.0, nominal.1))
}

/// The `economics` section of one miner's context (absent values are left out).
pub fn section(inputs: &EconomicsInputs, efficiency: Option<f64>) -> Value {
    let hashprice = inputs.pool_hashprice.or(inputs.market.network_hashprice);
    let sat_per_kwh = match (hashprice, efficiency) {
        (Some(hashprice), Some(jth)) if jth > 0.0 => Some(hashprice / (jth * KWH_PER_TH_DAY_PER_J_PER_TH)),
        _ => None,
    };
    let per_kwh = sat_per_kwh.zip(inputs.market.btc_price).map(|(sat, price)| sat * price / 1e8);
    let margin = |price: Option<f64>| per_kwh.zip(price).map(|(revenue, price)| revenue - price);
    let mut section = serde_json::Map::new();
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(value) = value {
            section.insert(key.to_string(), value);
        }
    };
    put("currency", Some(json!(inputs.currency)));
    put("btc_price", inputs.market.btc_price.map(|p| json!(p)));
    let mut hashprices = serde_json::Map::new();
    if let Some(network) = inputs.market.network_hashprice {
        hashprices.insert("network".into(), json!(round(network, 6)));
    }
    if let Some(pool) = inputs.pool_hashprice {
        hashprices.insert("pool".into(), json!(round(pool, 6)));
    }
    put("hashprice", (!hashprices.is_empty()).then_some(Value::Object(hashprices)));
    put("import_price", inputs.prices.import.map(|p| json!(p)));
    put("feed_in_price", inputs.prices.feed_in.map(|p| json!(p)));
    put("revenue_per_kwh", per_kwh.map(|v| json!(round(v, 6))));
    put("revenue_per_kwh_sat", sat_per_kwh.map(|v| json!(round(v, 3))));
    put("margin_vs_feed_in", margin(inputs.prices.feed_in).map(|v| json!(round(v, 6))));
    put("margin_vs_import", margin(inputs.prices.import).map(|v| json!(round(v, 6))));
    put("breakeven_price", per_kwh.map(|v| json!(round(v, 6))));
    put("stale", Some(json!(inputs.market.stale)));
    put("age", inputs.market.age.map(|a| json!(a)));
    Value::Object(section)
}

fn round(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashprice_revenue_and_margins_by_hand() {
        // 144 blocks earned 456 BTC = 45_600_000_000 sat (3.125 BTC subsidy + 0.04167 BTC fees
        // each); the network hashes 800 EH/s = 8e20 H/s = 8e8 TH/s.
        let hashprice = network_hashprice(45_600_000_000.0, 144.0, 8e20).unwrap();
        assert!((hashprice - 57.0).abs() < 1e-9, "45.6e9 sat / 8e8 TH/s = 57 sat/TH/day: {hashprice}");
        // Counted over 72 blocks, the same rewards mean twice as much per day.
        assert!((network_hashprice(45_600_000_000.0, 72.0, 8e20).unwrap() - 114.0).abs() < 1e-9);
        // An S19 at 3250 W and 100 TH/s: 32.5 J/TH; a TH/s for a day uses 32.5 × 0.024 = 0.78 kWh.
        let inputs = EconomicsInputs {
            currency: "EUR".into(),
            market: MarketFacts {
                btc_price: Some(60_000.0),
                network_hashprice: Some(hashprice),
                stale: false,
                age: Some(10),
            },
            pool_hashprice: None,
            prices: Prices { import: Some(0.30), feed_in: Some(0.08) },
        };
        let economics = section(&inputs, efficiency(Some(3250.0), Some(100.0), (None, None)));
        // 57 / 0.78 = 73.0769… sat/kWh; × 60 000 EUR / 1e8 = 0.0438462 EUR/kWh.
        assert!((economics["revenue_per_kwh_sat"].as_f64().unwrap() - 73.077).abs() < 1e-9);
        assert!((economics["revenue_per_kwh"].as_f64().unwrap() - 0.043846).abs() < 1e-9);
        // Against 0.08 feed-in: −0.036154; against 0.30 import: −0.256154.
        assert!((economics["margin_vs_feed_in"].as_f64().unwrap() + 0.036154).abs() < 1e-6);
        assert!((economics["margin_vs_import"].as_f64().unwrap() + 0.256154).abs() < 1e-6);
        assert_eq!(economics["breakeven_price"], economics["revenue_per_kwh"]);
        assert_eq!(economics["stale"], false);
    }

    #[test]
    fn a_fresh_pool_estimate_wins_and_missing_data_is_missing() {
        let inputs = EconomicsInputs {
            currency: "USD".into(),
            market: MarketFacts { btc_price: None, network_hashprice: Some(0.5), stale: true, age: None },
            pool_hashprice: Some(0.6),
            prices: Prices::default(),
        };
        let economics = section(&inputs, Some(20.0));
        // 0.6 sat/TH/day / (20 × 0.024) = 1.25 sat/kWh; without a BTC price, no currency figures.
        assert_eq!(economics["revenue_per_kwh_sat"], 1.25);
        assert!(economics.get("revenue_per_kwh").is_none() && economics.get("margin_vs_feed_in").is_none());
        assert_eq!(economics["stale"], true);
        assert_eq!(efficiency(Some(0.0), Some(0.0), (Some(3250.0), Some(100.0))), Some(32.5), "not hashing: nominal");
        assert_eq!(efficiency(None, None, (None, Some(100.0))), None);
    }
}
