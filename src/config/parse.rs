//! From a YAML document to typed sections, collecting every problem with its position.

use serde::de::DeserializeOwned;

use crate::config::model::*;
use crate::diag::Diagnostic;
use crate::yaml::{Document, Value, index_path, key_path};

pub const TOP_LEVEL_KEYS: [&str; 10] = [
    "version",
    "state",
    "settings",
    "services",
    "energy_sources",
    "controllers",
    "miners",
    "trackers",
    "notifiers",
    "units",
];

pub const SERVICE_TYPES: [&str; 1] = ["home_assistant"];
pub const CONTROLLER_TYPES: [&str; 12] = [
    "simulated",
    "cgminer",
    "whatsminer",
    "avalon",
    "luxos",
    "antminer",
    "braiins_os",
    "bitaxe",
    "shelly",
    "tasmota",
    "home_assistant",
    "http",
];
pub const MONITOR_TYPES: [&str; 3] = ["simulated", "home_assistant", "http"];
pub const FORECAST_TYPES: [&str; 3] = ["simulated", "home_assistant", "forecast_solar"];
pub const TRACKER_TYPES: [&str; 3] = ["simulated", "ocean", "braiins_pool"];
pub const NOTIFIER_TYPES: [&str; 2] = ["telegram", "webhook"];

/// The sections of a config file, typed, before cross-references are checked.
pub struct Sections {
    pub state: Option<String>,
    pub settings: Settings,
    pub services: Vec<Component<ServiceKind>>,
    pub energy_sources: Vec<EnergySource>,
    pub controllers: Vec<Component<ControllerKind>>,
    pub miners: Vec<Miner>,
    pub trackers: Vec<Component<TrackerKind>>,
    pub notifiers: Vec<Component<NotifierKind>>,
    pub units: Vec<Unit>,
}

/// Walks a document, typing what it can and recording a diagnostic for the rest.
pub struct SectionParser<'a> {
    doc: &'a Document,
    pub diagnostics: Vec<Diagnostic>,
}

impl<'a> SectionParser<'a> {
    pub fn new(doc: &'a Document) -> SectionParser<'a> {
        SectionParser { doc, diagnostics: Vec::new() }
    }

    pub fn error(&mut self, path: &str, message: impl Into<String>) {
        self.diagnostics.push(Diagnostic::error(self.doc.locate(path), path, message));
    }

    pub fn parse(&mut self) -> Sections {
        let root = self.doc.value.clone();
        self.check_top_level(&root);
        Sections {
            state: root.get("state").and_then(|v| self.typed("state", v.clone())),
            settings: root.get("settings").and_then(|v| self.typed("settings", v.clone())).unwrap_or_default(),
            services: self.components(&root, "services", &SERVICE_TYPES, service_kind),
            energy_sources: self.list(&root, "energy_sources", Self::energy_source),
            controllers: self.components(&root, "controllers", &CONTROLLER_TYPES, controller_kind),
            miners: self.list(&root, "miners", |parser, path, value| {
                parser.typed(path, value).map(|miner| Miner { at: path.to_string(), ..miner })
            }),
            trackers: self.components(&root, "trackers", &TRACKER_TYPES, tracker_kind),
            notifiers: self.components(&root, "notifiers", &NOTIFIER_TYPES, notifier_kind),
            units: self.list(&root, "units", |parser, path, value| {
                parser.typed(path, value).map(|unit| Unit { at: path.to_string(), ..unit })
            }),
        }
    }

    fn check_top_level(&mut self, root: &Value) {
        let Some(map) = root.as_mapping() else {
            self.error("", "the config file must be a mapping of sections");
            return;
        };
        for key in map.keys() {
            let name = key.as_str().unwrap_or("?");
            if !TOP_LEVEL_KEYS.contains(&name) {
                self.error(name, unknown_key_message(name, &TOP_LEVEL_KEYS));
            }
        }
        match root.get("version").and_then(Value::as_u64) {
            Some(1) => {}
            Some(other) => {
                self.error("version", format!("unsupported config version {other}; this build reads version 1"))
            }
            None if root.get("version").is_none() => {}
            None => self.error("version", "expected `version: 1`"),
        }
    }

    /// Types `value` as T; on failure records the error at the deepest path serde reached.
    pub fn typed<T: DeserializeOwned>(&mut self, path: &str, value: Value) -> Option<T> {
        self.typed_with_extra_keys(path, value, &[])
    }

    fn typed_with_extra_keys<T: DeserializeOwned>(&mut self, path: &str, value: Value, extra: &[&str]) -> Option<T> {
        match serde_path_to_error::deserialize::<_, T>(value) {
            Ok(typed) => Some(typed),
            Err(err) => {
                let inner = err.path().to_string();
                let full = if inner == "." { path.to_string() } else { join_serde_path(path, &inner) };
                let message = readable_serde_message(&err.inner().to_string(), extra);
                self.error(&full, message);
                None
            }
        }
    }

    fn list<T>(
        &mut self,
        root: &Value,
        section: &str,
        mut each: impl FnMut(&mut Self, &str, Value) -> Option<T>,
    ) -> Vec<T> {
        let Some(value) = root.get(section) else { return Vec::new() };
        let Some(items) = value.as_sequence() else {
            if !value.is_null() {
                self.error(section, "expected a list");
            }
            return Vec::new();
        };
        let mut out = Vec::new();
        for (index, item) in items.iter().enumerate() {
            if let Some(typed) = each(self, &index_path(section, index), item.clone()) {
                out.push(typed);
            }
        }
        out
    }

    fn components<K>(
        &mut self,
        root: &Value,
        section: &str,
        types: &[&str],
        kind_of: fn(&mut Self, &str, &str, Value) -> Option<K>,
    ) -> Vec<Component<K>> {
        self.list(root, section, |parser, path, value| {
            let (id, kind_name, body) = parser.split_tagged(path, value, types, true)?;
            let kind = kind_of(parser, path, &kind_name, body)?;
            Some(Component { id: id.unwrap_or_default(), kind, at: path.to_string() })
        })
    }

    /// Splits `{id, type, …}` into the id, the type and the remaining keys; checks the type.
    pub fn split_tagged(
        &mut self,
        path: &str,
        value: Value,
        types: &[&str],
        needs_id: bool,
    ) -> Option<(Option<String>, String, Value)> {
        let Value::Mapping(mut map) = value else {
            self.error(path, "expected a mapping with a `type` key");
            return None;
        };
        let id = match map.remove("id") {
            Some(Value::String(id)) if !id.trim().is_empty() => Some(id),
            Some(_) => {
                self.error(&key_path(path, "id"), "expected a non-empty string");
                return None;
            }
            None if needs_id => {
                self.error(path, "missing key `id`");
                return None;
            }
            None => None,
        };
        let kind = match map.remove("type") {
            Some(Value::String(kind)) if types.contains(&kind.as_str()) => kind,
            Some(Value::String(kind)) => {
                self.error(
                    &key_path(path, "type"),
                    format!("unknown type `{kind}`; expected one of: {}", types.join(", ")),
                );
                return None;
            }
            Some(_) => {
                self.error(&key_path(path, "type"), "expected a string");
                return None;
            }
            None => {
                self.error(path, format!("missing key `type` (one of: {})", types.join(", ")));
                return None;
            }
        };
        Some((id, kind, Value::Mapping(map)))
    }

    /// Types the body of a tagged component; unknown-key messages list `id` and `type` too.
    pub fn tagged_body<T: DeserializeOwned>(&mut self, path: &str, body: Value, with_id: bool) -> Option<T> {
        let extra: &[&str] = if with_id { &["id", "type"] } else { &["type"] };
        self.typed_with_extra_keys(path, body, extra)
    }

    fn energy_source(&mut self, path: &str, value: Value) -> Option<EnergySource> {
        let fields: EnergySourceFields = self.typed(path, value)?;
        let monitor_path = key_path(path, "monitor");
        let (_, kind, body) = self.split_tagged(&monitor_path, fields.monitor, &MONITOR_TYPES, false)?;
        let monitor = match kind.as_str() {
            "simulated" => MonitorKind::Simulated(self.tagged_body(&monitor_path, body, false)?),
            "home_assistant" => MonitorKind::HomeAssistant(self.tagged_body(&monitor_path, body, false)?),
            _ => MonitorKind::Http(self.tagged_body(&monitor_path, body, false)?),
        };
        let forecast = match fields.forecast {
            None => None,
            Some(value) => {
                let forecast_path = key_path(path, "forecast");
                let (_, kind, body) = self.split_tagged(&forecast_path, value, &FORECAST_TYPES, false)?;
                Some(match kind.as_str() {
                    "simulated" => ForecastKind::Simulated(self.tagged_body(&forecast_path, body, false)?),
                    "home_assistant" => ForecastKind::HomeAssistant(self.tagged_body(&forecast_path, body, false)?),
                    _ => ForecastKind::ForecastSolar(self.tagged_body(&forecast_path, body, false)?),
                })
            }
        };
        Some(EnergySource {
            id: fields.id,
            at: path.to_string(),
            name: fields.name,
            source_type: fields.source_type,
            nominal_power_max: fields.nominal_power_max,
            storage_capacity: fields.storage_capacity,
            monitor,
            forecast,
        })
    }
}

fn service_kind(parser: &mut SectionParser, path: &str, _kind: &str, body: Value) -> Option<ServiceKind> {
    Some(ServiceKind::HomeAssistant(parser.tagged_body(path, body, true)?))
}

fn controller_kind(parser: &mut SectionParser, path: &str, kind: &str, body: Value) -> Option<ControllerKind> {
    macro_rules! typed {
        ($body:expr) => {
            parser.tagged_body(path, $body, true)
        };
    }
    Some(match kind {
        "simulated" => ControllerKind::Simulated(typed!(body)?),
        "cgminer" => ControllerKind::Cgminer(typed!(body)?),
        "whatsminer" => ControllerKind::Whatsminer(typed!(body)?),
        "avalon" => ControllerKind::Avalon(typed!(body)?),
        "luxos" => ControllerKind::Luxos(typed!(body)?),
        "antminer" => ControllerKind::Antminer(typed!(body)?),
        "braiins_os" => ControllerKind::BraiinsOs(typed!(body)?),
        "bitaxe" => ControllerKind::Bitaxe(typed!(body)?),
        "shelly" => ControllerKind::Shelly(typed!(body)?),
        "tasmota" => ControllerKind::Tasmota(typed!(body)?),
        "home_assistant" => ControllerKind::HomeAssistant(typed!(body)?),
        _ => ControllerKind::Http(typed!(body)?),
    })
}

fn tracker_kind(parser: &mut SectionParser, path: &str, kind: &str, body: Value) -> Option<TrackerKind> {
    Some(match kind {
        "simulated" => TrackerKind::Simulated(parser.tagged_body(path, body, true)?),
        "ocean" => TrackerKind::Ocean(parser.tagged_body(path, body, true)?),
        _ => TrackerKind::BraiinsPool(parser.tagged_body(path, body, true)?),
    })
}

fn notifier_kind(parser: &mut SectionParser, path: &str, kind: &str, body: Value) -> Option<NotifierKind> {
    Some(match kind {
        "telegram" => NotifierKind::Telegram(parser.tagged_body(path, body, true)?),
        _ => NotifierKind::Webhook(parser.tagged_body(path, body, true)?),
    })
}

/// serde_path_to_error prints `a.b[0].c`; ours is the same shape below a prefix.
fn join_serde_path(prefix: &str, inner: &str) -> String {
    if prefix.is_empty() {
        inner.to_string()
    } else if inner.starts_with('[') {
        format!("{prefix}{inner}")
    } else {
        format!("{prefix}.{inner}")
    }
}

pub fn unknown_key_message(key: &str, allowed: &[&str]) -> String {
    format!("unknown key `{key}`; allowed keys: {}", allowed.join(", "))
}

/// Rewrites serde's "unknown field `x`, expected one of `a`, `b`" into our wording.
fn readable_serde_message(message: &str, extra_keys: &[&str]) -> String {
    let Some(rest) = message.strip_prefix("unknown field `") else {
        return message.replace("missing field", "missing key");
    };
    let key = rest.split('`').next().unwrap_or_default();
    let mut allowed: Vec<String> = extra_keys.iter().map(|k| k.to_string()).collect();
    allowed.extend(
        rest.split('`')
            .skip(1)
            .filter(|part| !part.contains(',') && !part.contains(' ') && !part.is_empty())
            .map(str::to_string),
    );
    let allowed: Vec<&str> = allowed.iter().map(String::as_str).collect();
    unknown_key_message(key, &allowed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_unknown_field_messages() {
        let message = readable_serde_message("unknown field `adress`, expected one of `host`, `port`", &["id", "type"]);
        assert_eq!(message, "unknown key `adress`; allowed keys: id, type, host, port");
        let message = readable_serde_message("unknown field `x`, expected `host`", &[]);
        assert_eq!(message, "unknown key `x`; allowed keys: host");
    }
}
