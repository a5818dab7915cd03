//! Energy monitors and forecast providers (SPEC §5): the traits and building them from config.

pub mod simulated;

use crate::config::model::{Config, ControllerKind, EnergySource, ForecastKind, MonitorKind};
use crate::core::reading::{EnergyReading, ForecastReading};
use crate::devices::{Call, DeviceError};
use crate::sim::SimWorld;

pub trait EnergyMonitor: Send + Sync {
    fn read(&self, call: &Call) -> Result<EnergyReading, DeviceError>;
}

pub trait ForecastProvider: Send + Sync {
    fn read(&self, call: &Call) -> Result<ForecastReading, DeviceError>;
}

pub fn unsupported_monitor(kind: &MonitorKind) -> Option<&'static str> {
    match kind {
        MonitorKind::Simulated(_) => None,
        MonitorKind::HomeAssistant(_) => Some("home_assistant"),
        MonitorKind::Http(_) => Some("http"),
    }
}

pub fn unsupported_forecast(kind: &ForecastKind) -> Option<&'static str> {
    match kind {
        ForecastKind::Simulated(_) => None,
        ForecastKind::HomeAssistant(_) => Some("home_assistant"),
        ForecastKind::ForecastSolar(_) => Some("forecast_solar"),
    }
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
        _ => None,
    }
}

pub fn build_forecast<'a>(
    config: &'a Config,
    source: &'a EnergySource,
    _fetcher: &'a crate::fetch::Fetcher,
) -> Option<Box<dyn ForecastProvider + 'a>> {
    match (&source.forecast, &source.monitor) {
        (Some(ForecastKind::Simulated(_)), MonitorKind::Simulated(settings)) => {
            Some(Box::new(simulated::SimulatedForecast::new(source, settings, location(config))))
        }
        (Some(ForecastKind::Simulated(_)), _) => {
            Some(Box::new(simulated::SimulatedForecast::new(source, &Default::default(), location(config))))
        }
        _ => None,
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
