//! The JSON Schema of the config file (draft 2020-12) and the keys of each component type,
//! both generated from the registry's types and the config structs the loader deserializes
//! into (via schemars), so `schema`, `types` and the loader cannot drift apart.

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{Map, Value, json};

use crate::config::interpolate::SECRET_FIELDS;
use crate::config::spec::{ComponentType, Registry, Section};

fn generator() -> SchemaGenerator {
    SchemaSettings::draft2020_12().with(|s| s.inline_subschemas = true).into_generator()
}

/// The schema of one type as it appears in a config: its keys plus `type`, `timeout` (and
/// `id`).
pub fn type_schema(section: Section, component: &dyn ComponentType) -> Value {
    let info = component.info();
    let mut schema = component.schema(&mut generator()).to_value();
    let map = object(&mut schema);
    map.remove("$schema");
    map.remove("title");
    map.insert("description".into(), json!(info.description));
    let properties = map.entry("properties").or_insert_with(|| json!({}));
    if let Some(properties) = properties.as_object_mut() {
        properties.insert("type".into(), json!({"const": info.name, "description": "The component type."}));
        properties.insert("timeout".into(), plain::<crate::duration::Span>());
        if section == Section::Monitor {
            properties.insert(
                "consumption_includes_miners".into(),
                json!({"type": "boolean", "description": "The house load this monitor reads includes the miners."}),
            );
        }
        if section.has_id() {
            properties.insert(
                "id".into(),
                json!({"type": "string", "minLength": 1, "description": "A name, unique in its section."}),
            );
        }
    }
    let required = map.entry("required").or_insert_with(|| json!([]));
    if let Some(required) = required.as_array_mut() {
        required.push(json!("type"));
        if section.has_id() {
            required.push(json!("id"));
        }
    }
    map.insert("additionalProperties".into(), json!(false));
    add_secret_files(&mut schema);
    schema
}

fn object(value: &mut Value) -> &mut Map<String, Value> {
    if !value.is_object() {
        *value = json!({});
    }
    value.as_object_mut().expect("an object")
}

/// Every secret key may also be written `<key>_file`.
fn add_secret_files(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            if let Some(Value::Object(properties)) = map.get_mut("properties") {
                for secret in SECRET_FIELDS {
                    if properties.contains_key(secret) {
                        properties.insert(format!("{secret}_file"), json!({"type": "string", "description": format!("A file holding `{secret}` (relative to $CREDENTIALS_DIRECTORY when set).")}));
                    }
                }
            }
            map.values_mut().for_each(add_secret_files);
        }
        Value::Array(items) => items.iter_mut().for_each(add_secret_files),
        _ => {}
    }
}

fn one_of(registry: &Registry, section: Section) -> Value {
    let variants: Vec<Value> = registry.section(section).iter().map(|t| type_schema(section, *t)).collect();
    json!({"oneOf": variants})
}

fn plain<T: JsonSchema>() -> Value {
    let mut schema = generator().into_root_schema_for::<T>().to_value();
    if let Some(map) = schema.as_object_mut() {
        map.remove("$schema");
    }
    schema
}

/// The whole config file's schema, with the types of `registry`.
pub fn config_schema(registry: &Registry) -> Value {
    use crate::config::model::{EnergySourceType, Miner, Settings, Unit};
    let list = |items: Value| json!({"type": "array", "items": items});
    let energy_source = json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["id", "type", "monitor"],
        "properties": {
            "id": {"type": "string", "minLength": 1},
            "name": {"type": "string"},
            "type": plain::<EnergySourceType>(),
            "nominal_power_max": {"type": "number", "description": "Peak power, W."},
            "storage_capacity": {"type": "number", "description": "Battery capacity, Wh."},
            "monitor": one_of(registry, Section::Monitor),
            "forecast": one_of(registry, Section::Forecast)
        }
    });
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://edge-mining.invalid/config.schema.json",
        "title": "edge-mining configuration",
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "version": {"const": 1},
            "state": {"type": "string", "description": "The SQLite state file (relative to this file)."},
            "settings": plain::<Settings>(),
            "services": list(one_of(registry, Section::Services)),
            "energy_sources": list(energy_source),
            "controllers": list(one_of(registry, Section::Controllers)),
            "miners": list(plain::<Miner>()),
            "trackers": list(one_of(registry, Section::Trackers)),
            "notifiers": list(one_of(registry, Section::Notifiers)),
            "publishers": list(one_of(registry, Section::Publishers)),
            "tariffs": plain::<crate::core::tariff::Tariffs>(),
            "market": one_of(registry, Section::Market),
            "units": list(plain::<Unit>())
        }
    })
}

/// The keys of a type: (name, type, default, description), from its schema.
pub fn keys(section: Section, component: &dyn ComponentType) -> Vec<(String, String, Option<String>, String)> {
    keys_of(&type_schema(section, component))
}

/// The keys of a config struct (`miner`, `unit`, `safety`…), for `types`.
pub fn struct_keys<T: JsonSchema>() -> Vec<(String, String, Option<String>, String)> {
    keys_of(&generator().into_root_schema_for::<T>().to_value())
}

fn keys_of(schema: &Value) -> Vec<(String, String, Option<String>, String)> {
    let required: Vec<&str> =
        schema["required"].as_array().map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    let Some(properties) = schema["properties"].as_object() else { return Vec::new() };
    properties
        .iter()
        .map(|(name, property)| {
            let kind = describe_type(property);
            let kind = if required.contains(&name.as_str()) { format!("{kind}, required") } else { kind };
            let default = property.get("default").map(|d| d.to_string());
            let description = property.get("description").and_then(Value::as_str).unwrap_or("").replace('\n', " ");
            (name.clone(), kind, default, description)
        })
        .collect()
}

fn describe_type(property: &Value) -> String {
    if let Some(constant) = property.get("const") {
        return format!("= {constant}");
    }
    if property.get("description").and_then(Value::as_str).is_some_and(|d| d.starts_with("A duration")) {
        return "duration".into();
    }
    match (property.get("type"), property.get("anyOf").and_then(Value::as_array)) {
        (Some(Value::String(kind)), _) => kind.clone(),
        (Some(Value::Array(kinds)), _) => {
            kinds.iter().filter_map(Value::as_str).filter(|k| *k != "null").collect::<Vec<_>>().join("|")
        }
        (None, Some(variants)) => {
            let kinds: Vec<String> =
                variants.iter().filter(|v| v.get("type") != Some(&json!("null"))).map(describe_type).collect();
            kinds.join("|")
        }
        _ => "object".into(),
    }
}
