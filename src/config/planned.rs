//! Config structs of the types whose clients are not built yet.
//!
//! The loader accepts them (so a config written for a later release parses, and an
//! unknown key is still caught) and `validate` reports each use as "not supported yet".
//! When a type is implemented, its struct moves into the file of its client.

use serde::Deserialize;

use crate::config::model::Headers;
use crate::config::secret::Secret;
use crate::duration::Span;

/// A type that takes no keys besides `id` and `type`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HomeAssistantService {
    pub url: String,
    pub token: Option<Secret>,
    #[serde(default)]
    pub insecure: bool,
    pub timeout: Option<Span>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShellyController {
    pub url: String,
    #[serde(default = "shelly_generation")]
    pub generation: u8,
    #[serde(default)]
    pub channel: u32,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub timeout: Option<Span>,
}

fn shelly_generation() -> u8 {
    2
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TasmotaController {
    pub url: String,
    #[serde(default = "tasmota_channel")]
    pub channel: u32,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub timeout: Option<Span>,
}

fn tasmota_channel() -> u32 {
    1
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HomeAssistantController {
    pub service: String,
    pub switch: Option<String>,
    pub mining_switch: Option<String>,
    pub power: Option<String>,
    pub hashrate: Option<String>,
    pub inlet_temperature: Option<String>,
    pub outlet_temperature: Option<String>,
    pub external_fan: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpRequest {
    pub url: String,
    #[serde(default = "get")]
    pub method: String,
    pub body: Option<String>,
    pub jsonpath: Option<String>,
    #[serde(default = "one")]
    pub scale: f64,
    pub on_value: Option<serde_yaml::Value>,
}

fn get() -> String {
    "GET".to_string()
}
fn one() -> f64 {
    1.0
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpController {
    #[serde(default)]
    pub headers: Headers,
    pub status: Option<HttpRequest>,
    pub power: Option<HttpRequest>,
    pub hashrate: Option<HttpRequest>,
    pub inlet_temperature: Option<HttpRequest>,
    pub start: Option<HttpRequest>,
    pub stop: Option<HttpRequest>,
    pub power_on: Option<HttpRequest>,
    pub power_off: Option<HttpRequest>,
    pub timeout: Option<Span>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HomeAssistantMonitor {
    pub service: String,
    pub production: Option<String>,
    pub consumption: Option<String>,
    pub grid: Option<String>,
    pub battery_soc: Option<String>,
    pub battery_power: Option<String>,
    pub battery_remaining_capacity: Option<String>,
    #[serde(default)]
    pub grid_positive_export: bool,
    #[serde(default = "yes")]
    pub battery_positive_charge: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpQuantity {
    pub url: String,
    pub jsonpath: Option<String>,
    #[serde(default = "one")]
    pub scale: f64,
    #[serde(default)]
    pub headers: Headers,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpMonitor {
    pub production: Option<HttpQuantity>,
    pub consumption: Option<HttpQuantity>,
    pub grid: Option<HttpQuantity>,
    pub battery_soc: Option<HttpQuantity>,
    pub battery_power: Option<HttpQuantity>,
    pub battery_remaining_capacity: Option<HttpQuantity>,
    pub timeout: Option<Span>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HomeAssistantForecast {
    pub service: String,
    pub power_now: Option<String>,
    pub power_next_hour: Option<String>,
    pub power_next_12h: Option<String>,
    pub power_next_24h: Option<String>,
    pub energy_today_remaining: Option<String>,
    pub energy_tomorrow: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForecastSolar {
    pub declination: f64,
    pub azimuth: f64,
    pub kwp: f64,
    pub api_base_url: Option<String>,
    pub api_key: Option<Secret>,
    pub timeout: Option<Span>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramNotifier {
    pub bot_token: Option<Secret>,
    pub chat_id: serde_yaml::Value,
    pub api_base_url: Option<String>,
    pub repeat_after: Option<Span>,
    pub timeout: Option<Span>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookNotifier {
    pub url: String,
    #[serde(default)]
    pub headers: Headers,
    pub repeat_after: Option<Span>,
    pub timeout: Option<Span>,
}
