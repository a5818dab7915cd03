//! One number from a sensor: a Home Assistant entity (through a configured service) or a
//! value in an HTTP JSON reply. Shared by appliances, climate zones and tariff prices.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::config::Config;
use crate::transport::home_assistant::Quantity;
use crate::transport::{Call, ErrorKind, InputError};

/// A value in an HTTP JSON reply.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpValue {
    pub url: String,
    /// Where the number is in the reply (`$.power`); the whole reply when absent.
    pub jsonpath: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

/// An entity's number and its unit; `power` scales kW and MW to W. Unavailable is an error
/// of kind `Unavailable`.
pub fn entity(
    config: &Config,
    service: &str,
    entity: &str,
    power: bool,
    call: &Call,
) -> Result<(f64, Option<String>), InputError> {
    let client = crate::services::home_assistant(config, service)
        .ok_or_else(|| InputError::not_configured(format!("unknown service `{service}`")))?;
    let quantity = if power { Quantity::Power } else { Quantity::Plain };
    match client.numeric_state(entity, quantity, call)? {
        Some((value, state)) => Ok((value, if power { Some("W".into()) } else { state.unit })),
        None => Err(InputError::new(ErrorKind::Unavailable, format!("sensor `{entity}` is unavailable"))),
    }
}

/// The number at `jsonpath` in the reply of `GET url`.
pub fn http(value: &HttpValue, call: &Call) -> Result<f64, InputError> {
    let mut request = crate::transport::http::Request::get(&value.url);
    for (name, header) in &value.headers {
        request = request.header(name, header.clone());
    }
    let reply = crate::transport::http::fetch_json(&request, call.budget().ok_or_else(InputError::deadline)?)?;
    let found = crate::transport::extract::extract(&reply, value.jsonpath.as_deref())?;
    crate::transport::extract::as_number(&found)
        .filter(|v| v.is_finite())
        .ok_or_else(|| InputError::invalid(format!("{}: no number at {:?}", value.url, value.jsonpath)))
}
