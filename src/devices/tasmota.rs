//! `tasmota`: Tasmota plugs and relays. `Power<n>` switches and reads the relay; `Status 8`
//! reads the meter, whose `Power` is an array on multi-channel devices.

use serde::Deserialize;
use serde_json::Value;

use crate::config::secret::Secret;
use crate::config::spec::{Address, ComponentSettings, TypeInfo, Typed};
use crate::core::feature::FeatureType;
use crate::core::reading::MinerReading;
use crate::core::status::MinerStatus;
use crate::devices::{Build, Controller, ControllerSettings, Monitor, PowerControl};
use crate::transport::http::{Request, fetch_json};
use crate::transport::{Call, InputError};

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TasmotaConfig {
    pub url: String,
    /// Relay number, from 1.
    #[serde(default = "one")]
    pub channel: u32,
    pub username: Option<String>,
    pub password: Option<Secret>,
}

fn one() -> u32 {
    1
}

pub const TYPE: Typed<TasmotaConfig> = Typed::new(
    TypeInfo::new(
        "tasmota",
        "Tasmota plugs and relays (HTTP commands).",
        "{id: relay, type: tasmota, url: \"http://192.168.1.32\", channel: 1}",
    )
    .address(Address::Url),
);

impl ComponentSettings for TasmotaConfig {
    fn features(&self) -> Vec<FeatureType> {
        use FeatureType::*;
        vec![PowerControl, PowerMonitoring, StatusMonitoring]
    }
}

impl ControllerSettings for TasmotaConfig {
    fn build<'a>(&'a self, _: &Build<'a>) -> Option<Box<dyn Controller + 'a>> {
        Some(Box::new(Tasmota::new(self)))
    }
}

pub struct Tasmota {
    config: TasmotaConfig,
    base: String,
}

impl Tasmota {
    pub fn new(config: &TasmotaConfig) -> Tasmota {
        Tasmota { config: config.clone(), base: config.url.trim_end_matches('/').to_string() }
    }

    /// `/cm?cmnd=<command>`, with `user`/`password` when set (Tasmota's own way).
    fn command(&self, command: &str, call: &Call) -> Result<Value, InputError> {
        let budget = call.budget().ok_or_else(InputError::deadline)?;
        let mut url = format!("{}/cm?cmnd={}", self.base, command.replace(' ', "%20"));
        if let Some(password) = &self.config.password {
            let user = self.config.username.clone().unwrap_or_else(|| "admin".into());
            url.push_str(&format!("&user={user}&password={}", password.expose()));
        }
        fetch_json(&Request::get(&url), budget).map_err(|e| e.context("Tasmota"))
    }

    fn relay_key(&self) -> String {
        format!("POWER{}", self.config.channel)
    }
}

/// The relay state: `POWER<n>`, or `POWER` on single-relay devices.
fn relay_state(reply: &Value, key: &str) -> Option<bool> {
    let value = reply.get(key).or_else(|| reply.get("POWER"))?.as_str()?;
    match value.to_ascii_uppercase().as_str() {
        "ON" => Some(true),
        "OFF" => Some(false),
        _ => None,
    }
}

/// `StatusSNS.ENERGY.Power`: a number, or an array indexed by channel.
fn meter_power(status: &Value, channel: u32) -> Option<f64> {
    let power = status.pointer("/StatusSNS/ENERGY/Power")?;
    match power {
        Value::Array(values) => values.get(channel.saturating_sub(1) as usize)?.as_f64(),
        other => other.as_f64(),
    }
    .filter(|w| w.is_finite() && *w >= 0.0)
}

impl Monitor for Tasmota {
    fn read(&self, _wanted: &[FeatureType], call: &Call) -> Result<MinerReading, InputError> {
        let key = self.relay_key();
        let relay = self.command(&format!("Power{}", self.config.channel), call)?;
        let on = relay_state(&relay, &key).ok_or_else(|| InputError::invalid(format!("Tasmota reply has no {key}")))?;
        let power = self.command("Status 8", call).ok().and_then(|s| meter_power(&s, self.config.channel));
        Ok(MinerReading {
            relay_on: Some(on),
            status: Some(if on { MinerStatus::On } else { MinerStatus::Off }),
            power,
            ..MinerReading::default()
        })
    }
}

impl PowerControl for Tasmota {
    fn power_on(&self, call: &Call) -> Result<(), InputError> {
        self.command(&format!("Power{} On", self.config.channel), call).map(|_| ())
    }

    fn power_off(&self, call: &Call) -> Result<(), InputError> {
        self.command(&format!("Power{} Off", self.config.channel), call).map(|_| ())
    }
}

impl Controller for Tasmota {
    fn monitor(&self) -> Option<&dyn Monitor> {
        Some(self)
    }
    fn power_control(&self) -> Option<&dyn PowerControl> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn relays_and_meters() {
        assert_eq!(relay_state(&json!({"POWER2": "ON"}), "POWER2"), Some(true));
        assert_eq!(relay_state(&json!({"POWER": "OFF"}), "POWER1"), Some(false));
        assert_eq!(meter_power(&json!({"StatusSNS": {"ENERGY": {"Power": [12, 1450]}}}), 2), Some(1450.0));
        assert_eq!(meter_power(&json!({"StatusSNS": {"ENERGY": {"Power": 98.5}}}), 1), Some(98.5));
    }
}
