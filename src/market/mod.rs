//! Market data (SPEC §19): the BTC price, the network hashrate and the block rewards,
//! fetched through the cached, rate-limit-aware client like the pools. One file per type;
//! `TYPES` lists them.

pub mod mempool;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use crate::config::spec::{ComponentSettings, ComponentType, Typed};
use crate::core::economics::MarketFacts;
use crate::transport::fetch::Fetcher;
use crate::transport::{Call, InputError};

/// Every market type, in the order `types` and the schema list them.
pub const TYPES: &[&dyn MarketType] = &[&mempool::TYPE];

/// What a market read gave: the facts (maybe stale, maybe partial) and the first problem.
#[derive(Debug, Clone, Default)]
pub struct MarketRead {
    pub facts: MarketFacts,
    pub problem: Option<InputError>,
}

pub trait Market: Send + Sync {
    /// The market in `currency` now.
    fn read(&self, currency: &str, call: &Call) -> MarketRead;
}

/// A market type: what the loader needs, plus how to build one.
pub trait MarketType: ComponentType {
    fn build<'a>(&self, settings: &'a dyn ComponentSettings, fetcher: &'a Fetcher) -> Option<Box<dyn Market + 'a>>;
}

/// The settings struct of a market type.
pub trait MarketSettings: ComponentSettings + DeserializeOwned + JsonSchema {
    fn build<'a>(&'a self, fetcher: &'a Fetcher) -> Box<dyn Market + 'a>;
}

impl<S: MarketSettings> MarketType for Typed<S> {
    fn build<'a>(&self, settings: &'a dyn ComponentSettings, fetcher: &'a Fetcher) -> Option<Box<dyn Market + 'a>> {
        Some(settings.downcast::<S>()?.build(fetcher))
    }
}

/// The config's market, built, with its own timeout; None without one.
pub fn build<'a>(
    config: &'a crate::config::Config,
    fetcher: &'a Fetcher,
) -> Option<crate::transport::Timed<Box<dyn Market + 'a>>> {
    let market = config.market.as_ref()?;
    let kind = TYPES.iter().find(|t| t.info().name == market.type_name)?;
    Some(crate::transport::Timed { inner: kind.build(market.settings.as_ref(), fetcher)?, timeout: market.timeout })
}
