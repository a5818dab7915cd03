//! Energy monitors and forecast providers (SPEC §5): the traits and building them from config.

pub mod forecast_home_assistant;
pub mod forecast_solar;
pub mod home_assistant;
pub mod http;
pub mod simulated;

use crate::config::model::{Config, ControllerKind, EnergySource, ForecastKind, MonitorKind};
use crate::core::reading::{EnergyReading, ForecastReading};
use crate::sim::SimWorld;
use crate::transport::{Call, DeviceError};

pub trait EnergyMonitor: Send + Sync {
    fn read(&self, call: &Call) -> Result<EnergyReading, DeviceError>;
}

pub trait ForecastProvider: Send + Sync {
    fn read(&self, call: &Call) -> Result<ForecastReading, DeviceError>;
}

/// Where the sun is computed from: the configured place, or 45°N 0°E.
pub fn location(config: &Config) -> (f64, f64) {
    (config.settings.latitude.unwrap_or(45.0), config.settings.longitude.unwrap_or(0.0))
}

pub fn build_monitor<'a>(
    config: &'a Config,
    source: &'a EnergySource,
    world: &'a SimWorld,
) -> Option<Box<dyn EnergyMonitor + 'a>> {
    match &source.monitor {
        MonitorKind::Simulated(settings) => Some(Box::new(simulated::SimulatedMonitor::new(
            source,
            settings,
            location(config),
            simulated_loads(config, &source.id),
            world,
        ))),
        MonitorKind::HomeAssistant(settings) => {
            let client = crate::devices::service(config, &settings.service)?;
            Some(Box::new(home_assistant::HomeAssistantMonitor::new(client, settings)))
        }
        MonitorKind::Http(settings) => Some(Box::new(http::HttpMonitor::new(settings))),
    }
}

pub fn build_forecast<'a>(
    config: &'a Config,
    source: &'a EnergySource,
    fetcher: &'a crate::transport::fetch::Fetcher,
) -> Option<Box<dyn ForecastProvider + 'a>> {
    match (source.forecast.as_ref()?, &source.monitor) {
        (ForecastKind::Simulated(_), MonitorKind::Simulated(settings)) => {
            Some(Box::new(simulated::SimulatedForecast::new(source, settings, location(config))))
        }
        (ForecastKind::Simulated(_), _) => {
            Some(Box::new(simulated::SimulatedForecast::new(source, &Default::default(), location(config))))
        }
        (ForecastKind::HomeAssistant(settings), _) => {
            let client = crate::devices::service(config, &settings.service)?;
            Some(Box::new(forecast_home_assistant::HomeAssistantForecast::new(client, settings)))
        }
        (ForecastKind::ForecastSolar(settings), _) => {
            let zone = crate::core::time::time_zone(config.settings.timezone.as_deref()).ok()?;
            Some(Box::new(forecast_solar::ForecastSolar::new(settings, location(config), zone, fetcher)))
        }
    }
}

/// The simulated miners fed by this source: (controller id, watts when mining).
fn simulated_loads(config: &Config, source: &str) -> Vec<(String, f64)> {
    let mut loads = Vec::new();
    for unit in config.units.iter().filter(|u| u.energy_source == source && u.enabled) {
        for miner in config.miners.iter().filter(|m| unit.miners.contains(&m.id)) {
            for controller in config.controllers.iter().filter(|c| miner.controllers.contains(&c.id)) {
                if let ControllerKind::Simulated(sim) = &controller.kind {
                    let watts = sim.power.or(miner.power_max).unwrap_or(3000.0);
                    if !loads.iter().any(|(id, _)| id == &controller.id) {
                        loads.push((controller.id.clone(), watts));
                    }
                }
            }
        }
    }
    loads
}
