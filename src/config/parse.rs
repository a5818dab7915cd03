//! From a YAML document to typed sections, collecting every problem with its position.

use serde::de::DeserializeOwned;

use crate::config::model::*;
use crate::config::spec::{ParseError, Registry, Section};
use crate::diag::Diagnostic;
use crate::duration::Span;
use crate::yaml::{Document, Value, index_path, key_path};

pub const TOP_LEVEL_KEYS: [&str; 15] = [
    "version",
    "state",
    "settings",
    "services",
    "energy_sources",
    "controllers",
    "miners",
    "trackers",
    "notifiers",
    "publishers",
    "tariffs",
    "market",
    "home_loads",
    "climate_zones",
    "units",
];

/// The sections of a config file, typed, before cross-references are checked.
pub struct Sections {
    pub state: Option<String>,
    pub settings: Settings,
    pub services: Vec<Component>,
    pub energy_sources: Vec<EnergySource>,
    pub controllers: Vec<Component>,
    pub miners: Vec<Miner>,
    pub trackers: Vec<Component>,
    pub notifiers: Vec<Component>,
    pub publishers: Vec<Component>,
    pub tariffs: Option<crate::core::tariff::Tariffs>,
    pub market: Option<Component>,
    pub home_loads: Vec<crate::home::HomeLoadProfile>,
    pub climate_zones: Vec<crate::home::ClimateZone>,
    pub units: Vec<Unit>,
}

/// Walks a document, typing what it can and recording a diagnostic for the rest.
pub struct SectionParser<'a> {
    doc: &'a Document,
    registry: &'a Registry,
    pub diagnostics: Vec<Diagnostic>,
}

impl<'a> SectionParser<'a> {
    pub fn new(doc: &'a Document, registry: &'a Registry) -> SectionParser<'a> {
        SectionParser { doc, registry, diagnostics: Vec::new() }
    }

    pub fn error(&mut self, path: &str, message: impl Into<String>) {
        self.diagnostics.push(Diagnostic::error(self.doc.locate(path), path, message));
    }

    /// Types the document's values, `root`, taken out of it: each part is moved into its
    /// typed section, not copied (the document keeps its text, for positions).
    pub fn parse(&mut self, mut root: Value) -> Sections {
        self.check_top_level(&root);
        let mut take = |key: &str| root.get_mut(key).map(std::mem::take);
        let (state, settings, tariffs, market) = (take("state"), take("settings"), take("tariffs"), take("market"));
        Sections {
            state: state.and_then(|v| self.typed("state", v)),
            settings: settings.and_then(|v| self.typed("settings", v)).unwrap_or_default(),
            services: self.components(&mut root, Section::Services),
            energy_sources: self.list(&mut root, "energy_sources", Self::energy_source),
            controllers: self.components(&mut root, Section::Controllers),
            miners: self.list(&mut root, "miners", |parser, path, value| {
                parser.typed(path, value).map(|miner| Miner { at: path.to_string(), ..miner })
            }),
            trackers: self.components(&mut root, Section::Trackers),
            notifiers: self.components(&mut root, Section::Notifiers),
            publishers: self.components(&mut root, Section::Publishers),
            tariffs: tariffs.and_then(|v| self.typed("tariffs", v)),
            market: market.and_then(|v| self.component("market", v, Section::Market)),
            home_loads: self.list(&mut root, "home_loads", |parser, path, value| parser.typed(path, value)),
            climate_zones: self.list(&mut root, "climate_zones", |parser, path, value| parser.typed(path, value)),
            units: self.list(&mut root, "units", |parser, path, value| {
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
        match serde_path_to_error::deserialize::<_, T>(value) {
            Ok(typed) => Some(typed),
            Err(err) => self.body_error(path, &err, &[]),
        }
    }

    fn list<T>(
        &mut self,
        root: &mut Value,
        section: &str,
        mut each: impl FnMut(&mut Self, &str, Value) -> Option<T>,
    ) -> Vec<T> {
        let Some(value) = root.get_mut(section) else { return Vec::new() };
        if !value.is_sequence() && !value.is_null() {
            self.error(section, "expected a list");
        }
        let Some(items) = value.as_sequence_mut() else { return Vec::new() };
        let mut out = Vec::new();
        for (index, item) in items.iter_mut().enumerate() {
            if let Some(typed) = each(self, &index_path(section, index), std::mem::take(item)) {
                out.push(typed);
            }
        }
        out
    }

    fn components(&mut self, root: &mut Value, section: Section) -> Vec<Component> {
        self.list(root, section.name(), |parser, path, value| parser.component(path, value, section))
    }

    /// Types one `{id, type, timeout, …}` entry of a section by its type in the registry.
    pub fn component(&mut self, path: &str, value: Value, section: Section) -> Option<Component> {
        let types = self.registry.names(section);
        let (id, kind, timeout, body) = self.split_tagged(path, value, &types, section.has_id())?;
        let component_type = self.registry.find(section, &kind)?;
        let settings = match component_type.parse(body) {
            Ok(settings) => settings,
            Err(err) => {
                let shared: &[&str] = if section.has_id() { &["id", "type", "timeout"] } else { &["type", "timeout"] };
                return self.body_error(path, &err, shared);
            }
        };
        Some(Component {
            id: id.unwrap_or_default(),
            type_name: component_type.info().name,
            settings,
            timeout,
            at: path.to_string(),
        })
    }

    /// Records a typing error at the deepest path serde reached; `extra` are keys allowed
    /// besides the struct's own.
    fn body_error<T>(&mut self, path: &str, err: &ParseError, extra: &[&str]) -> Option<T> {
        let inner = err.path().to_string();
        let full = if inner == "." { path.to_string() } else { join_serde_path(path, &inner) };
        self.error(&full, readable_serde_message(&err.inner().to_string(), extra));
        None
    }

    /// Splits `{id, type, timeout, …}` into the keys every type shares and the remaining
    /// ones; checks the type.
    fn split_tagged(
        &mut self,
        path: &str,
        value: Value,
        types: &[&str],
        needs_id: bool,
    ) -> Option<(Option<String>, String, Option<Span>, Value)> {
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
        let timeout = match map.remove("timeout") {
            None => None,
            Some(value) => Some(self.typed(&key_path(path, "timeout"), value)?),
        };
        Some((id, kind, timeout, Value::Mapping(map)))
    }

    fn energy_source(&mut self, path: &str, value: Value) -> Option<EnergySource> {
        let mut fields: EnergySourceFields = self.typed(path, value)?;
        let includes = self.includes_miners(&key_path(path, "monitor"), &mut fields.monitor);
        let monitor = self.component(&key_path(path, "monitor"), fields.monitor, Section::Monitor)?;
        let forecast = match fields.forecast {
            None => None,
            Some(value) => Some(self.component(&key_path(path, "forecast"), value, Section::Forecast)?),
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
            consumption_includes_miners: includes,
        })
    }

    /// The monitor key every type shares: `consumption_includes_miners` (SPEC §17.3).
    fn includes_miners(&mut self, path: &str, monitor: &mut Value) -> bool {
        let Some(value) = monitor.as_mapping_mut().and_then(|m| m.remove("consumption_includes_miners")) else {
            return false;
        };
        match value {
            Value::Bool(includes) => includes,
            _ => {
                self.error(&key_path(path, "consumption_includes_miners"), "expected true or false");
                false
            }
        }
    }
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
