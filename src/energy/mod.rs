//! Energy monitors and forecast providers (SPEC §5): their traits and the two registries.
//! Each type is one file (its settings, how it is built, its protocol) and one line in
//! `MONITORS` or `FORECASTS`.

pub mod forecast_home_assistant;
pub mod forecast_solar;
pub mod home_assistant;
pub mod http;
pub mod simulated;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use crate::config::model::{Config, EnergySource};
use crate::config::spec::{ComponentSettings, ComponentType, Typed};
use crate::core::reading::{EnergyReading, ForecastReading};
use crate::sim::SimWorld;
use crate::transport::fetch::Fetcher;
use crate::transport::{Call, InputError};

/// Every energy monitor type, in the order `types` and the schema list them.
pub const MONITORS: &[&dyn MonitorType] = &[&simulated::MONITOR, &home_assistant::TYPE, &http::TYPE];

/// Every forecast type, likewise.
pub const FORECASTS: &[&dyn ForecastType] =
    &[&simulated::FORECAST, &forecast_home_assistant::TYPE, &forecast_solar::TYPE];

/// The energy quantities a monitor may read, each a key of its config, in this order.
pub const QUANTITIES: [&str; 6] =
    ["production", "consumption", "grid", "battery_soc", "battery_power", "battery_remaining_capacity"];

/// The quantities given a value, with it, from a monitor's six keys in [`QUANTITIES`] order.
pub fn given<T>(values: [&Option<T>; 6]) -> Vec<(&'static str, &T)> {
    QUANTITIES.iter().zip(values).filter_map(|(name, value)| value.as_ref().map(|v| (*name, v))).collect()
}

pub trait EnergyMonitor: Send + Sync {
    fn read(&self, call: &Call) -> Result<EnergyReading, InputError>;
}

pub trait ForecastProvider: Send + Sync {
    fn read(&self, call: &Call) -> Result<ForecastReading, InputError>;
}

/// What building a monitor or a forecast may use besides its settings.
pub struct Build<'a> {
    pub config: &'a Config,
    pub source: &'a EnergySource,
    pub world: &'a SimWorld,
    pub fetcher: &'a Fetcher,
}

impl Build<'_> {
    /// Where the sun is computed from: the configured place, or 45°N 0°E.
    pub fn location(&self) -> (f64, f64) {
        let settings = &self.config.settings;
        (settings.latitude.unwrap_or(45.0), settings.longitude.unwrap_or(0.0))
    }
}

/// An energy monitor type: what the loader needs, plus how to build a monitor.
pub trait MonitorType: ComponentType {
    fn build<'a>(&self, settings: &'a dyn ComponentSettings, build: &Build<'a>) -> Option<Box<dyn EnergyMonitor + 'a>>;
}

/// A forecast type: what the loader needs, plus how to build a provider.
pub trait ForecastType: ComponentType {
    fn build<'a>(
        &self,
        settings: &'a dyn ComponentSettings,
        build: &Build<'a>,
    ) -> Option<Box<dyn ForecastProvider + 'a>>;
}

/// The settings struct of a monitor type.
pub trait MonitorSettings: ComponentSettings + DeserializeOwned + JsonSchema {
    fn build<'a>(&'a self, build: &Build<'a>) -> Option<Box<dyn EnergyMonitor + 'a>>;
}

/// The settings struct of a forecast type.
pub trait ForecastSettings: ComponentSettings + DeserializeOwned + JsonSchema {
    fn build<'a>(&'a self, build: &Build<'a>) -> Option<Box<dyn ForecastProvider + 'a>>;
}

impl<S: MonitorSettings> MonitorType for Typed<S> {
    fn build<'a>(&self, settings: &'a dyn ComponentSettings, build: &Build<'a>) -> Option<Box<dyn EnergyMonitor + 'a>> {
        settings.downcast::<S>()?.build(build)
    }
}

impl<S: ForecastSettings> ForecastType for Typed<S> {
    fn build<'a>(
        &self,
        settings: &'a dyn ComponentSettings,
        build: &Build<'a>,
    ) -> Option<Box<dyn ForecastProvider + 'a>> {
        settings.downcast::<S>()?.build(build)
    }
}

/// The source's monitor, built.
pub fn build_monitor<'a>(build: &Build<'a>) -> Option<Box<dyn EnergyMonitor + 'a>> {
    let monitor = &build.source.monitor;
    let kind = MONITORS.iter().find(|t| t.info().name == monitor.type_name)?;
    kind.build(monitor.settings.as_ref(), build)
}

/// The source's forecast, built, if it has one.
pub fn build_forecast<'a>(build: &Build<'a>) -> Option<Box<dyn ForecastProvider + 'a>> {
    let forecast = build.source.forecast.as_ref()?;
    let kind = FORECASTS.iter().find(|t| t.info().name == forecast.type_name)?;
    kind.build(forecast.settings.as_ref(), build)
}
