//! `http`: any device with an HTTP JSON API, described role by role: a request, a JSONPath
//! to the value, a scale, and for status the value that means "on".

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::config::spec::{ComponentSettings, SettingsCheck, TypeInfo, Typed};
use crate::core::feature::FeatureType;
use crate::core::reading::MinerReading;
use crate::core::status::MinerStatus;
use crate::devices::{Build, Controller, ControllerSettings, MiningControl, Monitor, PowerControl, features_of_roles};
use crate::transport::extract::{as_number, extract};
use crate::transport::http::{Request, fetch_json};
use crate::transport::{Call, InputError};

pub type Headers = BTreeMap<String, String>;

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpRole {
    pub url: String,
    #[serde(default = "get")]
    pub method: String,
    pub body: Option<String>,
    pub jsonpath: Option<String>,
    #[serde(default = "one")]
    pub scale: f64,
    /// For `status`: the value that means on (default: true, "on", 1).
    #[schemars(with = "serde_json::Value")]
    pub on_value: Option<serde_yaml::Value>,
}

fn get() -> String {
    "GET".into()
}

fn one() -> f64 {
    1.0
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpControllerConfig {
    #[serde(default)]
    pub headers: Headers,
    pub status: Option<HttpRole>,
    pub power: Option<HttpRole>,
    pub hashrate: Option<HttpRole>,
    pub inlet_temperature: Option<HttpRole>,
    pub start: Option<HttpRole>,
    pub stop: Option<HttpRole>,
    pub power_on: Option<HttpRole>,
    pub power_off: Option<HttpRole>,
    /// Reads the power target, W.
    pub power_limit: Option<HttpRole>,
    /// Sets it: `{watts}` in the url or the body stands for the target.
    pub set_power_limit: Option<HttpRole>,
    /// The lowest target the device takes, W.
    pub power_limit_min: Option<f64>,
    /// The highest, W.
    pub power_limit_max: Option<f64>,
}

impl HttpControllerConfig {
    /// Every role with its name, for validation.
    pub fn roles(&self) -> Vec<(&'static str, &HttpRole)> {
        let all = [
            ("status", &self.status),
            ("power", &self.power),
            ("hashrate", &self.hashrate),
            ("inlet_temperature", &self.inlet_temperature),
            ("start", &self.start),
            ("stop", &self.stop),
            ("power_on", &self.power_on),
            ("power_off", &self.power_off),
            ("power_limit", &self.power_limit),
            ("set_power_limit", &self.set_power_limit),
        ];
        all.into_iter().filter_map(|(name, role)| role.as_ref().map(|r| (name, r))).collect()
    }
}

pub const TYPE: Typed<HttpControllerConfig> = Typed::new(TypeInfo::new(
    "http",
    "Any device with an HTTP API: a request and a JSONPath per role.",
    "{id: custom, type: http, status: {url: \"http://192.168.1.50/api/status\", jsonpath: \"$.state\", on_value: mining}, power: {url: \"http://192.168.1.50/api/status\", jsonpath: \"$.watts\"}}",
));

impl ComponentSettings for HttpControllerConfig {
    /// Those of the roles configured.
    fn features(&self) -> Vec<FeatureType> {
        use FeatureType::*;
        features_of_roles(&[
            (self.status.is_some(), &[StatusMonitoring]),
            (self.power.is_some(), &[PowerMonitoring]),
            (self.hashrate.is_some(), &[HashrateMonitoring]),
            (self.inlet_temperature.is_some(), &[InletTemperatureMonitoring]),
            (self.start.is_some() && self.stop.is_some(), &[MiningControl]),
            (self.power_on.is_some() && self.power_off.is_some(), &[PowerControl]),
            (self.set_power_limit.is_some(), &[PowerTargetControl]),
        ])
    }

    fn check(&self, check: &mut SettingsCheck<'_>) {
        for (name, role) in self.roles() {
            if let Some(path) = &role.jsonpath {
                check.result(&format!("{name}.jsonpath"), crate::transport::extract::check(path));
            }
        }
    }
}

impl ControllerSettings for HttpControllerConfig {
    fn build<'a>(&'a self, _: &Build<'a>) -> Option<Box<dyn Controller + 'a>> {
        Some(Box::new(HttpController::new(self)))
    }
}

pub struct HttpController {
    config: HttpControllerConfig,
}

impl HttpController {
    pub fn new(config: &HttpControllerConfig) -> HttpController {
        HttpController { config: config.clone() }
    }

    fn request(&self, role: &HttpRole, call: &Call) -> Result<(Request, std::time::Duration), InputError> {
        let budget = call.budget().ok_or_else(InputError::deadline)?;
        let mut request = Request::new(&role.method, &role.url);
        for (name, value) in &self.config.headers {
            request = request.header(name, value.clone());
        }
        if let Some(body) = &role.body {
            request.body = Some(body.clone().into_bytes());
        }
        Ok((request, budget))
    }

    fn send(&self, role: &HttpRole, call: &Call) -> Result<Value, InputError> {
        let (request, budget) = self.request(role, call)?;
        fetch_json(&request, budget)
    }

    /// Reads a role, one request per distinct URL and method.
    fn value(
        &self,
        role: &HttpRole,
        replies: &mut BTreeMap<(String, String), Value>,
        call: &Call,
    ) -> Result<Value, InputError> {
        let key = (role.method.to_ascii_uppercase(), role.url.clone());
        if !replies.contains_key(&key) {
            let reply = self.send(role, call)?;
            replies.insert(key.clone(), reply);
        }
        extract(&replies[&key], role.jsonpath.as_deref())
    }

    fn number(
        &self,
        role: &Option<HttpRole>,
        replies: &mut BTreeMap<(String, String), Value>,
        call: &Call,
    ) -> Result<Option<f64>, InputError> {
        let Some(role) = role else { return Ok(None) };
        let value = self.value(role, replies, call)?;
        let number = as_number(&value)
            .ok_or_else(|| InputError::invalid(format!("{} gave `{value}`, not a number", role.url)))?;
        Ok(Some(number * role.scale))
    }
}

/// Whether a status value means on.
fn is_on(value: &Value, on_value: Option<&serde_yaml::Value>) -> bool {
    match on_value {
        Some(expected) => {
            serde_json::to_value(expected).is_ok_and(|e| crate::rules::eval::equal(value, &e) || text_eq(value, &e))
        }
        None => match value {
            Value::Bool(b) => *b,
            Value::Number(n) => n.as_f64().is_some_and(|v| v != 0.0),
            Value::String(s) => crate::transport::home_assistant::parse_bool(s).unwrap_or(false),
            _ => false,
        },
    }
}

fn text_eq(a: &Value, b: &Value) -> bool {
    let text = |v: &Value| match v {
        Value::String(s) => s.to_ascii_lowercase(),
        other => other.to_string(),
    };
    text(a) == text(b)
}

impl Monitor for HttpController {
    fn read(&self, _wanted: &[FeatureType], call: &Call) -> Result<MinerReading, InputError> {
        let mut replies = BTreeMap::new();
        let mut reading = MinerReading::default();
        if let Some(role) = &self.config.status {
            let value = self.value(role, &mut replies, call)?;
            reading.status =
                Some(if is_on(&value, role.on_value.as_ref()) { MinerStatus::On } else { MinerStatus::Off });
        }
        reading.power = self.number(&self.config.power, &mut replies, call)?;
        reading.hashrate = self.number(&self.config.hashrate, &mut replies, call)?;
        reading.inlet_temperature = self.number(&self.config.inlet_temperature, &mut replies, call)?;
        Ok(reading)
    }
}

/// A command succeeds on any 2xx, whatever the body.
fn command(controller: &HttpController, role: &Option<HttpRole>, name: &str, call: &Call) -> Result<(), InputError> {
    let role = role.as_ref().ok_or_else(|| InputError::not_configured(format!("no `{name}` request configured")))?;
    let (request, budget) = controller.request(role, call)?;
    let url = crate::transport::http::redact(&request.url);
    let response = crate::transport::http::send(&request, budget)
        .map_err(|e| InputError::from(e).context(format_args!("{name}: {url}")))?;
    if response.is_success() {
        Ok(())
    } else {
        Err(InputError::refused(format!("{name}: {url}: HTTP {}", response.status)))
    }
}

impl MiningControl for HttpController {
    fn start_mining(&self, call: &Call) -> Result<(), InputError> {
        command(self, &self.config.start, "start", call)
    }

    fn stop_mining(&self, call: &Call) -> Result<(), InputError> {
        command(self, &self.config.stop, "stop", call)
    }
}

impl PowerControl for HttpController {
    fn power_on(&self, call: &Call) -> Result<(), InputError> {
        command(self, &self.config.power_on, "power_on", call)
    }

    fn power_off(&self, call: &Call) -> Result<(), InputError> {
        command(self, &self.config.power_off, "power_off", call)
    }
}

impl crate::devices::PowerTargetControl for HttpController {
    fn target(&self, call: &Call) -> Result<crate::devices::PowerTarget, InputError> {
        let watts = self.number(&self.config.power_limit, &mut BTreeMap::new(), call)?;
        Ok(crate::devices::PowerTarget {
            watts,
            min: self.config.power_limit_min,
            max: self.config.power_limit_max,
            ..Default::default()
        })
    }

    fn set_target(&self, watts: f64, call: &Call) -> Result<crate::devices::Applied, InputError> {
        let role = self.config.set_power_limit.as_ref();
        let role = role.ok_or_else(|| InputError::not_configured("no `set_power_limit` request configured"))?;
        let text = format!("{}", watts.round());
        let filled = HttpRole {
            url: role.url.replace("{watts}", &text),
            body: role.body.as_ref().map(|b| b.replace("{watts}", &text)),
            ..role.clone()
        };
        command(self, &Some(filled), "set_power_limit", call)?;
        Ok(crate::devices::Applied { watts: watts.round(), lever: None, restarts: false })
    }
}

impl Controller for HttpController {
    fn power_target(&self) -> Option<&dyn crate::devices::PowerTargetControl> {
        self.config.set_power_limit.as_ref().map(|_| self as &dyn crate::devices::PowerTargetControl)
    }
    fn monitor(&self) -> Option<&dyn Monitor> {
        Some(self)
    }
    fn mining_control(&self) -> Option<&dyn MiningControl> {
        (self.config.start.is_some() && self.config.stop.is_some()).then_some(self as &dyn MiningControl)
    }
    fn power_control(&self) -> Option<&dyn PowerControl> {
        (self.config.power_on.is_some() && self.config.power_off.is_some()).then_some(self as &dyn PowerControl)
    }
}
