//! Home Assistant's REST API: entity states (numbers arrive as strings, with a unit) and
//! service calls. Shared by the Home Assistant controller, energy monitor and forecast.

use std::time::Duration;

use serde_json::{Value, json};

use crate::duration::Span;
use crate::transport::http::{Request, send};
use crate::transport::{Call, InputError};

/// An entity's state object, as `/api/states` and `/api/history` give it.
fn entity_state(body: &Value) -> EntityState {
    let state = body.get("state").and_then(Value::as_str).map(str::trim).unwrap_or("unknown");
    let value = (!matches!(state.to_ascii_lowercase().as_str(), "unavailable" | "unknown" | "none" | ""))
        .then(|| state.to_string());
    let unit = body.pointer("/attributes/unit_of_measurement").and_then(Value::as_str).map(str::to_string);
    let updated_at = ["last_updated", "last_changed"]
        .iter()
        .find_map(|key| body.get(*key).and_then(Value::as_str))
        .and_then(|t| t.parse::<jiff::Timestamp>().ok())
        .map(|t| t.as_second());
    let attributes = body.get("attributes").cloned().unwrap_or(Value::Null);
    EntityState { value, unit, updated_at, attributes }
}

/// A client for one Home Assistant.
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    token: String,
    insecure: bool,
    /// The service's own `timeout`, applied to every request.
    timeout: Option<Span>,
}

/// An entity's state: `value` is None when Home Assistant says `unavailable` or `unknown`.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityState {
    pub value: Option<String>,
    pub unit: Option<String>,
    /// Unix seconds of `last_updated`.
    pub updated_at: Option<i64>,
    /// Every attribute (a `number` entity's `min`, `max`, `step`…).
    pub attributes: Value,
}

/// What a numeric state measures, for unit scaling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    /// W (kW, MW scaled).
    Power,
    /// Wh (kWh, MWh scaled).
    Energy,
    /// As it is (%, °C, TH/s…).
    Plain,
}

impl Client {
    /// A client of the Home Assistant at `url`, with a long-lived access token.
    pub fn new(url: &str, token: &str, insecure: bool, timeout: Option<Span>) -> Client {
        Client { base: url.trim_end_matches('/').to_string(), token: token.to_string(), insecure, timeout }
    }

    fn budget(&self, call: &Call) -> Result<Duration, InputError> {
        call.with_timeout(self.timeout).budget().ok_or_else(InputError::deadline)
    }

    fn request(&self, request: Request) -> Request {
        request.header("Authorization", format!("Bearer {}", self.token)).insecure(self.insecure)
    }

    /// `GET /api/states/<entity>`.
    pub fn state(&self, entity: &str, call: &Call) -> Result<EntityState, InputError> {
        let body = self.get(&format!("{}/api/states/{entity}", self.base), entity, call)?;
        Ok(entity_state(&body))
    }

    /// The recorded numeric states of `entity` in `[start, end)` (`GET /api/history/period`),
    /// in base units, oldest first; unavailable and non-numeric states are dropped.
    pub fn history(
        &self,
        entity: &str,
        (start, end): (jiff::Timestamp, jiff::Timestamp),
        quantity: Quantity,
        call: &Call,
    ) -> Result<Vec<(i64, f64)>, InputError> {
        let url = format!("{}/api/history/period/{start}?filter_entity_id={entity}&end_time={end}", self.base);
        let body = self.get(&url, entity, call)?;
        let states = body.get(0).and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
        let mut points: Vec<(i64, f64)> = states
            .iter()
            .map(entity_state)
            .filter_map(|state| {
                let value: f64 = state.value.as_deref()?.trim().parse().ok()?;
                let at = state.updated_at?;
                value.is_finite().then(|| (at, value * scale(quantity, state.unit.as_deref())))
            })
            .filter(|(at, _)| (start.as_second()..end.as_second()).contains(at))
            .collect();
        points.sort_by_key(|(at, _)| *at);
        Ok(points)
    }

    /// A GET of the REST API, its status in words naming `entity`.
    fn get(&self, url: &str, entity: &str, call: &Call) -> Result<Value, InputError> {
        let request = self.request(Request::get(url));
        let response = send(&request, self.budget(call)?).map_err(|e| InputError::from(e).context("Home Assistant"))?;
        match response.status {
            200 => {}
            401 | 403 => {
                return Err(InputError::auth(
                    "Home Assistant rejected the token (HTTP 401); check the long-lived access token",
                ));
            }
            404 => {
                return Err(InputError::not_configured(format!("Home Assistant has no entity `{entity}` (HTTP 404)")));
            }
            status => return Err(InputError::refused(format!("Home Assistant answered HTTP {status} for `{entity}`"))),
        }
        response.json().map_err(|e| InputError::invalid(format!("Home Assistant, `{entity}`: {e}")))
    }

    /// A numeric state in base units; `Ok(None)` when the sensor is unavailable.
    pub fn number(
        &self,
        entity: &str,
        quantity: Quantity,
        call: &Call,
    ) -> Result<Option<(f64, Option<i64>)>, InputError> {
        Ok(self.numeric_state(entity, quantity, call)?.map(|(value, state)| (value, state.updated_at)))
    }

    /// A numeric state in base units with the state it came from (its unit, its instant);
    /// `Ok(None)` when the sensor is unavailable.
    pub fn numeric_state(
        &self,
        entity: &str,
        quantity: Quantity,
        call: &Call,
    ) -> Result<Option<(f64, EntityState)>, InputError> {
        let state = self.state(entity, call)?;
        let Some(text) = state.value.as_deref() else { return Ok(None) };
        let value: f64 =
            text.trim().parse().map_err(|_| InputError::invalid(format!("`{entity}` is `{text}`, not a number")))?;
        if !value.is_finite() {
            return Err(InputError::invalid(format!("`{entity}` is not a finite number")));
        }
        Ok(Some((value * scale(quantity, state.unit.as_deref()), state)))
    }

    /// An on/off entity: `Ok(None)` when unavailable.
    pub fn switch_state(&self, entity: &str, call: &Call) -> Result<Option<bool>, InputError> {
        let state = self.state(entity, call)?;
        Ok(state.value.as_deref().and_then(parse_bool))
    }

    /// `POST /api/services/<domain>/turn_on|turn_off` with the entity's own domain.
    pub fn turn(&self, entity: &str, on: bool, call: &Call) -> Result<(), InputError> {
        let domain = entity.split('.').next().unwrap_or_default();
        if !["switch", "input_boolean", "light", "fan"].contains(&domain) {
            return Err(InputError::not_configured(format!(
                "`{entity}`: only switch, input_boolean, light and fan entities can be turned on and off"
            )));
        }
        let service = if on { "turn_on" } else { "turn_off" };
        self.call_service(domain, service, &json!({"entity_id": entity}), call)
    }

    /// `POST /api/services/number/set_value` (a `number` entity, e.g. hass-miner's Power Limit).
    pub fn set_number(&self, entity: &str, value: f64, call: &Call) -> Result<(), InputError> {
        self.call_service("number", "set_value", &json!({"entity_id": entity, "value": value}), call)
    }

    /// `POST /api/services/<domain>/<service>` with `body`.
    pub fn call_service(&self, domain: &str, service: &str, body: &Value, call: &Call) -> Result<(), InputError> {
        let entity = body.get("entity_id").and_then(Value::as_str).unwrap_or_default();
        let url = format!("{}/api/services/{domain}/{service}", self.base);
        let request = self.request(Request::new("POST", &url).json_body(body));
        let response = send(&request, self.budget(call)?).map_err(|e| InputError::from(e).context("Home Assistant"))?;
        match response.status {
            200..=299 => Ok(()),
            401 | 403 => Err(InputError::auth("Home Assistant rejected the token (HTTP 401)")),
            status => Err(InputError::refused(format!(
                "Home Assistant answered HTTP {status} to {domain}.{service} for `{entity}`"
            ))),
        }
    }
}

/// The factor from a unit to the base unit of a quantity.
pub fn scale(quantity: Quantity, unit: Option<&str>) -> f64 {
    let unit = unit.unwrap_or_default().trim();
    match (quantity, unit) {
        (Quantity::Power, "kW") | (Quantity::Energy, "kWh") => 1e3,
        (Quantity::Power, "MW") | (Quantity::Energy, "MWh") => 1e6,
        _ => 1.0,
    }
}

/// Home Assistant's boolean states.
pub fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "1" | "yes" | "active" | "open" => Some(true),
        "off" | "false" | "0" | "no" | "inactive" | "closed" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_scale_to_base_units() {
        assert_eq!(scale(Quantity::Power, Some("kW")), 1000.0);
        assert_eq!(scale(Quantity::Power, Some("W")), 1.0);
        assert_eq!(scale(Quantity::Energy, Some("kWh")), 1000.0);
        assert_eq!(scale(Quantity::Plain, Some("kW")), 1.0);
        assert_eq!(parse_bool("ON"), Some(true));
        assert_eq!(parse_bool("unavailable"), None);
    }
}
