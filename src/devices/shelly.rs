//! `shelly`: Shelly smart plugs and relays. Gen1: `/relay/<n>` and `/status`, basic auth.
//! Gen2+ (Plus, Pro, Gen3): JSON-RPC `Switch.GetStatus` / `Switch.Set`, digest auth.

use serde::Deserialize;
use serde_json::Value;

use crate::config::secret::Secret;
use crate::config::spec::{Address, ComponentSettings, TypeInfo, Typed};
use crate::core::feature::FeatureType;
use crate::core::reading::MinerReading;
use crate::core::status::MinerStatus;
use crate::devices::{Build, Controller, ControllerSettings, Monitor, PowerControl};
use crate::transport::http::{Request, send, send_digest};
use crate::transport::{Call, InputError};

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShellyConfig {
    pub url: String,
    /// 1 for Gen1, 2 for Gen2 and later.
    #[serde(default = "two")]
    pub generation: u8,
    #[serde(default)]
    pub channel: u32,
    pub username: Option<String>,
    pub password: Option<Secret>,
}

fn two() -> u8 {
    2
}

pub const TYPE: Typed<ShellyConfig> = Typed::new(
    TypeInfo::new(
        "shelly",
        "Shelly smart plugs and relays, Gen1 and Gen2+ (RPC) APIs.",
        "{id: plug, type: shelly, url: \"http://192.168.1.31\", generation: 2}",
    )
    .address(Address::Url),
);

impl ComponentSettings for ShellyConfig {
    fn features(&self) -> Vec<FeatureType> {
        use FeatureType::*;
        vec![PowerControl, PowerMonitoring, StatusMonitoring]
    }
}

impl ControllerSettings for ShellyConfig {
    fn build<'a>(&'a self, _: &Build<'a>) -> Option<Box<dyn Controller + 'a>> {
        Some(Box::new(Shelly::new(self)))
    }
}

pub struct Shelly {
    config: ShellyConfig,
    base: String,
}

impl Shelly {
    pub fn new(config: &ShellyConfig) -> Shelly {
        Shelly { config: config.clone(), base: config.url.trim_end_matches('/').to_string() }
    }

    fn get(&self, path: &str, call: &Call) -> Result<Value, InputError> {
        let budget = call.budget().ok_or_else(InputError::deadline)?;
        let url = format!("{}{path}", self.base);
        let password = self.config.password.as_ref().map(|p| p.expose().to_string());
        let user = self
            .config
            .username
            .clone()
            .unwrap_or_else(|| if self.config.generation >= 2 { "admin".into() } else { String::new() });
        let response = match (&password, self.config.generation) {
            (Some(password), 1) => {
                let credentials = base64(&format!("{user}:{password}"));
                send(&Request::get(&url).header("Authorization", format!("Basic {credentials}")), budget)
            }
            (Some(password), _) => send_digest(&Request::get(&url), &user, password, budget),
            (None, _) => send(&Request::get(&url), budget),
        }
        .map_err(|e| InputError::from(e).context(format_args!("Shelly {}", crate::transport::http::redact(&url))))?;
        match response.status {
            200..=299 => response.json().map_err(|e| InputError::invalid(format!("Shelly: {e}"))),
            401 => Err(InputError::auth("Shelly: authentication failed (check username and password)")),
            status => Err(InputError::refused(format!("Shelly answered HTTP {status} for {path}"))),
        }
    }

    fn switch(&self, on: bool, call: &Call) -> Result<(), InputError> {
        let channel = self.config.channel;
        let path = if self.config.generation >= 2 {
            format!("/rpc/Switch.Set?id={channel}&on={on}")
        } else {
            format!("/relay/{channel}?turn={}", if on { "on" } else { "off" })
        };
        self.get(&path, call).map(|_| ())
    }
}

/// Base64 for basic auth (RFC 4648 alphabet, padded).
fn base64(text: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = text.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

impl Monitor for Shelly {
    fn read(&self, _wanted: &[FeatureType], call: &Call) -> Result<MinerReading, InputError> {
        let channel = self.config.channel as usize;
        let (on, power) = if self.config.generation >= 2 {
            let status = self.get(&format!("/rpc/Switch.GetStatus?id={channel}"), call)?;
            (status.get("output").and_then(Value::as_bool), status.get("apower").and_then(Value::as_f64))
        } else {
            let relay = self.get(&format!("/relay/{channel}"), call)?;
            let status = self.get("/status", call).ok();
            let power =
                status.as_ref().and_then(|s| s.pointer(&format!("/meters/{channel}/power"))).and_then(Value::as_f64);
            (relay.get("ison").and_then(Value::as_bool), power)
        };
        let on = on.ok_or_else(|| InputError::invalid("Shelly reply has no relay state"))?;
        Ok(MinerReading {
            relay_on: Some(on),
            status: Some(if on { MinerStatus::On } else { MinerStatus::Off }),
            power: power.filter(|w| w.is_finite()).map(f64::abs),
            ..MinerReading::default()
        })
    }
}

impl PowerControl for Shelly {
    fn power_on(&self, call: &Call) -> Result<(), InputError> {
        self.switch(true, call)
    }

    fn power_off(&self, call: &Call) -> Result<(), InputError> {
        self.switch(false, call)
    }
}

impl Controller for Shelly {
    fn monitor(&self) -> Option<&dyn Monitor> {
        Some(self)
    }
    fn power_control(&self) -> Option<&dyn PowerControl> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_matches_rfc_4648() {
        assert_eq!(super::base64("admin:secret"), "YWRtaW46c2VjcmV0");
        assert_eq!(super::base64("a"), "YQ==");
        assert_eq!(super::base64("ab"), "YWI=");
    }
}
