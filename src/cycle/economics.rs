//! The cycle's economics inputs: prices now (numbers and schedules resolved in the
//! configured zone, sensors as polled), the market facts, and per unit the revenue rate and
//! the value of the energy its miners use.

use jiff::tz::TimeZone;
use serde_json::{Value, json};

use crate::config::Config;
use crate::core::economics::{EconomicsInputs, Prices};
use crate::core::performance::TrackedSnapshot;
use crate::core::tariff::{Price, price_at};
use crate::cycle::outcome::MinerOutcome;
use crate::cycle::poll::Inputs;

/// What every miner's economics share this cycle; None when the config has no tariffs.
pub fn inputs(config: &Config, inputs: &Inputs, zone: &TimeZone, now: i64) -> Option<EconomicsInputs> {
    let tariffs = config.tariffs.as_ref()?;
    let zoned = jiff::Timestamp::from_second(now).ok()?.to_zoned(zone.clone());
    let resolve = |kind: &'static str, price: &Option<Price>| -> Option<f64> {
        match price.as_ref()? {
            Price::Fixed(price) => Some(*price),
            price @ (Price::Slots(_) | Price::Schedule { .. }) => price_at(price.slots()?, &zoned),
            Price::Sensor { .. } | Price::Http { .. } => inputs.prices.get(kind)?.as_ref().ok().copied(),
        }
    };
    Some(EconomicsInputs {
        currency: tariffs.currency.clone(),
        market: inputs.market.as_ref().map(|m| m.facts.clone()).unwrap_or_default(),
        pool_hashprice: None,
        prices: Prices { import: resolve("import", &tariffs.import), feed_in: resolve("feed_in", &tariffs.feed_in) },
    })
}

/// The same inputs with a unit's pool estimate, while it is fresh.
pub fn for_unit(shared: &EconomicsInputs, tracked: Option<&TrackedSnapshot>) -> EconomicsInputs {
    let pool_hashprice = tracked.filter(|t| !t.stale).and_then(|t| t.hashprice);
    EconomicsInputs { pool_hashprice, ..shared.clone() }
}

/// A unit's revenue rate and the value of the energy its miners use, per hour in the
/// currency (the energy at the feed-in price where there is one: what it would have earned).
pub fn unit_summary(miners: &[MinerOutcome], economics: &EconomicsInputs) -> Option<Value> {
    let hashprice = economics.pool_hashprice.or(economics.market.network_hashprice);
    let btc_price = economics.market.btc_price;
    let hashrate: f64 = miners.iter().filter_map(|m| m.hash_rate).sum();
    let kilowatts: f64 = miners.iter().filter_map(|m| m.power).sum::<f64>() / 1000.0;
    let revenue = hashprice.zip(btc_price).map(|(sat, price)| hashrate * sat / 24.0 * price / 1e8);
    let energy_price = economics.prices.feed_in.or(economics.prices.import);
    let energy = energy_price.map(|price| kilowatts * price);
    if revenue.is_none() && energy.is_none() {
        return None;
    }
    Some(json!({
        "currency": economics.currency,
        "revenue_per_hour": revenue.map(|r| (r * 1e6).round() / 1e6),
        "energy_value_per_hour": energy.map(|e| (e * 1e6).round() / 1e6),
    }))
}
