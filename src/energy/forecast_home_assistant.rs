//! `home_assistant` forecast: a solar forecast integration's sensors (Forecast.Solar,
//! Solcast…) read from Home Assistant.
//!
//! `next_hour_power` is the next-hour sensor; `avg_next_4_hours_power` the mean of the
//! power-now and next-hour sensors (Home Assistant integrations expose no 4-hour window);
//! `next_hour_energy` the next-hour power over one hour.

use serde::Deserialize;

use crate::config::spec::{ComponentSettings, SettingsCheck, TypeInfo, Typed};
use crate::core::reading::ForecastReading;
use crate::energy::{Build, ForecastProvider, ForecastSettings};
use crate::transport::home_assistant::{Client, Quantity};
use crate::transport::{Call, ErrorKind, InputError};

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HomeAssistantForecastConfig {
    pub service: String,
    pub power_now: Option<String>,
    pub power_next_hour: Option<String>,
    pub power_next_12h: Option<String>,
    pub power_next_24h: Option<String>,
    pub energy_today_remaining: Option<String>,
    pub energy_tomorrow: Option<String>,
}

pub const TYPE: Typed<HomeAssistantForecastConfig> = Typed::new(TypeInfo::new(
    "home_assistant",
    "A PV forecast from Home Assistant sensors (Forecast.Solar or Solcast integrations).",
    "{type: home_assistant, service: ha, power_now: sensor.pv_forecast_now, power_next_hour: sensor.pv_forecast_next_hour}",
));

impl ComponentSettings for HomeAssistantForecastConfig {
    fn check(&self, check: &mut SettingsCheck<'_>) {
        check.service("service", &self.service);
    }
}

impl ForecastSettings for HomeAssistantForecastConfig {
    fn build<'a>(&'a self, build: &Build<'a>) -> Option<Box<dyn ForecastProvider + 'a>> {
        let client = crate::services::home_assistant(build.config, &self.service)?;
        Some(Box::new(HomeAssistantForecast::new(client, self)))
    }
}

pub struct HomeAssistantForecast {
    client: Client,
    config: HomeAssistantForecastConfig,
}

impl HomeAssistantForecast {
    pub fn new(client: Client, config: &HomeAssistantForecastConfig) -> HomeAssistantForecast {
        HomeAssistantForecast { client, config: config.clone() }
    }

    fn power(&self, entity: &Option<String>, call: &Call) -> Result<Option<f64>, InputError> {
        let Some(entity) = entity else { return Ok(None) };
        Ok(self.client.number(entity, Quantity::Power, call)?.map(|(w, _)| w))
    }
}

impl ForecastProvider for HomeAssistantForecast {
    fn read(&self, call: &Call) -> Result<ForecastReading, InputError> {
        let now = self.power(&self.config.power_now, call)?;
        let next = self.power(&self.config.power_next_hour, call)?;
        if now.is_none() && next.is_none() {
            return Err(InputError::new(ErrorKind::Unavailable, "the forecast sensors are unavailable"));
        }
        let known: Vec<f64> = [now, next].into_iter().flatten().collect();
        Ok(ForecastReading {
            next_hour_power: next,
            avg_next_4_hours_power: Some(known.iter().sum::<f64>() / known.len() as f64),
            next_hour_energy: next,
            at: call.now,
        })
    }
}
