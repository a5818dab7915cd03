//! `home_assistant` energy monitor: production, house load, grid and battery from Home
//! Assistant sensors, in W/kW and Wh/kWh, with the sign conventions of SPEC §5.
//! An `unavailable` or `unknown` sensor is a missing value (never 0) and a failed input.

use serde::Deserialize;

use crate::config::spec::{ComponentSettings, SettingsCheck, TypeInfo, Typed};
use crate::core::reading::EnergyReading;
use crate::energy::{Build, EnergyMonitor, MonitorSettings};
use crate::transport::home_assistant::{Client, Quantity};
use crate::transport::{Call, ErrorKind, InputError};

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HomeAssistantMonitorConfig {
    pub service: String,
    pub production: Option<String>,
    /// The household load without the miners.
    pub consumption: Option<String>,
    pub grid: Option<String>,
    pub battery_soc: Option<String>,
    pub battery_power: Option<String>,
    pub battery_remaining_capacity: Option<String>,
    /// The grid sensor is positive when exporting (default: positive when importing).
    #[serde(default)]
    pub grid_positive_export: bool,
    /// The battery sensor is positive when charging (the default).
    #[serde(default = "yes")]
    pub battery_positive_charge: bool,
}

fn yes() -> bool {
    true
}

pub const TYPE: Typed<HomeAssistantMonitorConfig> = Typed::new(TypeInfo::new(
    "home_assistant",
    "Production, house load, grid and battery from Home Assistant sensors.",
    "{type: home_assistant, service: ha, production: sensor.pv_power, consumption: sensor.house_load, grid: sensor.grid_power, battery_soc: sensor.battery_soc}",
));

impl ComponentSettings for HomeAssistantMonitorConfig {
    fn check(&self, check: &mut SettingsCheck<'_>) {
        check.service("service", &self.service);
    }

    fn energy_quantities(&self) -> Option<Vec<&'static str>> {
        let sensors = [
            &self.production,
            &self.consumption,
            &self.grid,
            &self.battery_soc,
            &self.battery_power,
            &self.battery_remaining_capacity,
        ];
        Some(crate::energy::given(sensors).into_iter().map(|(name, _)| name).collect())
    }
}

impl MonitorSettings for HomeAssistantMonitorConfig {
    fn build<'a>(&'a self, build: &Build<'a>) -> Option<Box<dyn EnergyMonitor + 'a>> {
        let client = crate::services::home_assistant(build.config, &self.service)?;
        Some(Box::new(HomeAssistantMonitor::new(client, self)))
    }
}

pub struct HomeAssistantMonitor {
    client: Client,
    config: HomeAssistantMonitorConfig,
}

impl HomeAssistantMonitor {
    pub fn new(client: Client, config: &HomeAssistantMonitorConfig) -> HomeAssistantMonitor {
        HomeAssistantMonitor { client, config: config.clone() }
    }
}

/// Reads the configured sensors: (values, the oldest `last_updated`, problems).
struct Sensors<'a> {
    client: &'a Client,
    call: &'a Call<'a>,
    oldest: Option<i64>,
    problems: Vec<InputError>,
    read: usize,
}

impl Sensors<'_> {
    fn read(&mut self, entity: &Option<String>, quantity: Quantity) -> Option<f64> {
        let entity = entity.as_ref()?;
        match self.client.number(entity, quantity, self.call) {
            Ok(Some((value, updated))) => {
                self.read += 1;
                if let Some(updated) = updated {
                    self.oldest = Some(self.oldest.map_or(updated, |o| o.min(updated)));
                }
                Some(value)
            }
            Ok(None) => {
                self.problems
                    .push(InputError::new(ErrorKind::Unavailable, format!("sensor `{entity}` is unavailable")));
                None
            }
            Err(error) => {
                self.problems.push(error);
                None
            }
        }
    }
}

impl EnergyMonitor for HomeAssistantMonitor {
    fn read(&self, call: &Call) -> Result<EnergyReading, InputError> {
        let config = &self.config;
        let mut sensors = Sensors { client: &self.client, call, oldest: None, problems: Vec::new(), read: 0 };
        let production = sensors.read(&config.production, Quantity::Power).map(|w| w.max(0.0));
        let consumption = sensors.read(&config.consumption, Quantity::Power).map(|w| w.max(0.0));
        let grid =
            sensors.read(&config.grid, Quantity::Power).map(|w| if config.grid_positive_export { -w } else { w });
        let battery_soc = sensors.read(&config.battery_soc, Quantity::Plain).map(|p| p.clamp(0.0, 100.0));
        let battery_power = sensors
            .read(&config.battery_power, Quantity::Power)
            .map(|w| if config.battery_positive_charge { w } else { -w });
        let battery_remaining = sensors.read(&config.battery_remaining_capacity, Quantity::Energy);
        if sensors.read == 0 {
            let first = sensors.problems.into_iter().next();
            return Err(first.unwrap_or_else(|| InputError::not_configured("no sensor is configured")));
        }
        Ok(EnergyReading {
            production,
            consumption,
            grid,
            battery_soc,
            battery_power,
            battery_remaining,
            at: sensors.oldest.map_or(call.now, |o| o.min(call.now)),
            problems: sensors.problems,
        })
    }
}
