//! `http` energy monitor: each quantity from any JSON endpoint, by JSONPath and scale;
//! one request per distinct URL per cycle.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::config::spec::{ComponentSettings, SettingsCheck, TypeInfo, Typed};
use crate::core::reading::EnergyReading;
use crate::energy::{Build, EnergyMonitor, MonitorSettings};
use crate::transport::extract::{as_number, extract};
use crate::transport::http::{Request, fetch_json};
use crate::transport::{Call, InputError};

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpQuantity {
    pub url: String,
    pub jsonpath: Option<String>,
    #[serde(default = "one")]
    pub scale: f64,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

fn one() -> f64 {
    1.0
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpMonitorConfig {
    pub production: Option<HttpQuantity>,
    pub consumption: Option<HttpQuantity>,
    pub grid: Option<HttpQuantity>,
    pub battery_soc: Option<HttpQuantity>,
    pub battery_power: Option<HttpQuantity>,
    pub battery_remaining_capacity: Option<HttpQuantity>,
}

impl HttpMonitorConfig {
    pub fn quantities(&self) -> Vec<(&'static str, &HttpQuantity)> {
        crate::energy::given([
            &self.production,
            &self.consumption,
            &self.grid,
            &self.battery_soc,
            &self.battery_power,
            &self.battery_remaining_capacity,
        ])
    }
}

pub const TYPE: Typed<HttpMonitorConfig> = Typed::new(TypeInfo::new(
    "http",
    "Energy quantities from any HTTP API, a request and a JSONPath each.",
    "{type: http, production: {url: \"http://192.168.1.60/inverter\", jsonpath: \"$.pv.w\"}}",
));

impl ComponentSettings for HttpMonitorConfig {
    fn energy_quantities(&self) -> Option<Vec<&'static str>> {
        Some(self.quantities().into_iter().map(|(name, _)| name).collect())
    }

    fn check(&self, check: &mut SettingsCheck<'_>) {
        for (name, quantity) in self.quantities() {
            if let Some(path) = &quantity.jsonpath {
                check.result(&format!("{name}.jsonpath"), crate::transport::extract::check(path));
            }
        }
    }
}

impl MonitorSettings for HttpMonitorConfig {
    fn build<'a>(&'a self, _: &Build<'a>) -> Option<Box<dyn EnergyMonitor + 'a>> {
        Some(Box::new(HttpMonitor::new(self)))
    }
}

pub struct HttpMonitor {
    config: HttpMonitorConfig,
}

impl HttpMonitor {
    pub fn new(config: &HttpMonitorConfig) -> HttpMonitor {
        HttpMonitor { config: config.clone() }
    }
}

impl EnergyMonitor for HttpMonitor {
    fn read(&self, call: &Call) -> Result<EnergyReading, InputError> {
        let mut replies: BTreeMap<String, Result<Value, InputError>> = BTreeMap::new();
        let mut values: BTreeMap<&str, f64> = BTreeMap::new();
        let mut problems = Vec::new();
        for (name, quantity) in self.config.quantities() {
            let reply = replies.entry(quantity.url.clone()).or_insert_with(|| {
                let mut request = Request::get(&quantity.url);
                for (header, value) in &quantity.headers {
                    request = request.header(header, value.clone());
                }
                let budget = call.budget().ok_or_else(InputError::deadline)?;
                fetch_json(&request, budget)
            });
            let value = reply
                .as_ref()
                .map_err(Clone::clone)
                .and_then(|reply| extract(reply, quantity.jsonpath.as_deref()))
                .and_then(|v| as_number(&v).ok_or_else(|| InputError::invalid(format!("`{v}` is not a number"))));
            match value {
                Ok(number) => drop(values.insert(name, number * quantity.scale)),
                Err(error) => problems.push(error.context(name)),
            }
        }
        if values.is_empty() {
            let first = problems.into_iter().next();
            return Err(first.unwrap_or_else(|| InputError::not_configured("no quantity is configured")));
        }
        Ok(EnergyReading {
            production: values.get("production").copied(),
            consumption: values.get("consumption").copied(),
            grid: values.get("grid").copied(),
            battery_soc: values.get("battery_soc").map(|p| p.clamp(0.0, 100.0)),
            battery_power: values.get("battery_power").copied(),
            battery_remaining: values.get("battery_remaining_capacity").copied(),
            at: call.now,
            problems,
        })
    }
}
