//! The JSON Schema of the config file (draft 2020-12) and the catalogue of component types,
//! both generated from the config structs the loader deserializes into (via schemars), so
//! `schema`, `types` and the loader cannot drift apart.

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{Map, Value, json};

use crate::config::interpolate::SECRET_FIELDS;

/// Where a component type is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Services,
    Controllers,
    Monitor,
    Forecast,
    Trackers,
    Notifiers,
}

impl Section {
    pub fn name(self) -> &'static str {
        match self {
            Section::Services => "services",
            Section::Controllers => "controllers",
            Section::Monitor => "energy_sources[].monitor",
            Section::Forecast => "energy_sources[].forecast",
            Section::Trackers => "trackers",
            Section::Notifiers => "notifiers",
        }
    }

    /// Components listed under a top-level key carry an `id`.
    fn has_id(self) -> bool {
        !matches!(self, Section::Monitor | Section::Forecast)
    }
}

/// One `type` of a component: its keys come from `schema`, its example passes `validate`.
pub struct TypeSpec {
    pub section: Section,
    pub name: &'static str,
    pub schema: fn(&mut SchemaGenerator) -> Schema,
    pub example: &'static str,
}

fn of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.root_schema_for::<T>()
}

use crate::config::planned::Empty;
use crate::devices::antminer::WebMinerConfig;
use crate::devices::bitaxe::BitaxeConfig;
use crate::devices::cgminer::CgminerConfig;
use crate::devices::home_assistant::HomeAssistantControllerConfig;
use crate::devices::http::HttpControllerConfig;
use crate::devices::luxos::LuxosConfig;
use crate::devices::shelly::ShellyConfig;
use crate::devices::simulated::SimulatedControllerConfig;
use crate::devices::tasmota::TasmotaConfig;
use crate::energy::forecast_home_assistant::HomeAssistantForecastConfig;
use crate::energy::forecast_solar::ForecastSolarConfig;
use crate::energy::home_assistant::HomeAssistantMonitorConfig;
use crate::energy::http::HttpMonitorConfig;
use crate::energy::simulated::SimulatedMonitorConfig;
use crate::notify::telegram::TelegramConfig;
use crate::notify::webhook::WebhookConfig;
use crate::trackers::braiins_pool::BraiinsPoolConfig;
use crate::trackers::ocean::OceanConfig;
use crate::transport::home_assistant::HomeAssistantService;

pub const TYPES: &[TypeSpec] = &[
    TypeSpec {
        section: Section::Services,
        name: "home_assistant",
        schema: of::<HomeAssistantService>,
        example: "{id: ha, type: home_assistant, url: \"http://homeassistant.local:8123\", token_file: ha-token}",
    },
    TypeSpec {
        section: Section::Controllers,
        name: "simulated",
        schema: of::<SimulatedControllerConfig>,
        example: "{id: sim, type: simulated, power: 3250, hashrate: 95, boot_time: 2m}",
    },
    TypeSpec {
        section: Section::Controllers,
        name: "cgminer",
        schema: of::<CgminerConfig>,
        example: "{id: rig-api, type: cgminer, host: 192.168.1.40, port: 4028}",
    },
    TypeSpec {
        section: Section::Controllers,
        name: "whatsminer",
        schema: of::<CgminerConfig>,
        example: "{id: m30-api, type: whatsminer, host: 192.168.1.41}",
    },
    TypeSpec {
        section: Section::Controllers,
        name: "avalon",
        schema: of::<CgminerConfig>,
        example: "{id: avalon-q, type: avalon, host: 192.168.1.42}",
    },
    TypeSpec {
        section: Section::Controllers,
        name: "luxos",
        schema: of::<LuxosConfig>,
        example: "{id: s19k-lux, type: luxos, host: 192.168.1.43}",
    },
    TypeSpec {
        section: Section::Controllers,
        name: "antminer",
        schema: of::<WebMinerConfig>,
        example: "{id: s19-stock, type: antminer, host: 192.168.1.44, username: root, password: root}",
    },
    TypeSpec {
        section: Section::Controllers,
        name: "braiins_os",
        schema: of::<WebMinerConfig>,
        example: "{id: s19-bos, type: braiins_os, host: 192.168.1.45, password_file: bos-password}",
    },
    TypeSpec {
        section: Section::Controllers,
        name: "bitaxe",
        schema: of::<BitaxeConfig>,
        example: "{id: bitaxe, type: bitaxe, url: \"http://192.168.1.20\"}",
    },
    TypeSpec {
        section: Section::Controllers,
        name: "shelly",
        schema: of::<ShellyConfig>,
        example: "{id: plug, type: shelly, url: \"http://192.168.1.31\", generation: 2}",
    },
    TypeSpec {
        section: Section::Controllers,
        name: "tasmota",
        schema: of::<TasmotaConfig>,
        example: "{id: relay, type: tasmota, url: \"http://192.168.1.32\", channel: 1}",
    },
    TypeSpec {
        section: Section::Controllers,
        name: "home_assistant",
        schema: of::<HomeAssistantControllerConfig>,
        example: "{id: socket, type: home_assistant, service: ha, switch: switch.miner_socket, power: sensor.miner_power}",
    },
    TypeSpec {
        section: Section::Controllers,
        name: "http",
        schema: of::<HttpControllerConfig>,
        example: "{id: custom, type: http, status: {url: \"http://192.168.1.50/api/status\", jsonpath: \"$.state\", on_value: mining}, power: {url: \"http://192.168.1.50/api/status\", jsonpath: \"$.watts\"}}",
    },
    TypeSpec {
        section: Section::Monitor,
        name: "simulated",
        schema: of::<SimulatedMonitorConfig>,
        example: "{type: simulated, peak_power: 6000, house_load: 400, battery_capacity: 10000}",
    },
    TypeSpec {
        section: Section::Monitor,
        name: "home_assistant",
        schema: of::<HomeAssistantMonitorConfig>,
        example: "{type: home_assistant, service: ha, production: sensor.pv_power, consumption: sensor.house_load, grid: sensor.grid_power, battery_soc: sensor.battery_soc}",
    },
    TypeSpec {
        section: Section::Monitor,
        name: "http",
        schema: of::<HttpMonitorConfig>,
        example: "{type: http, production: {url: \"http://192.168.1.60/inverter\", jsonpath: \"$.pv.w\"}}",
    },
    TypeSpec { section: Section::Forecast, name: "simulated", schema: of::<Empty>, example: "{type: simulated}" },
    TypeSpec {
        section: Section::Forecast,
        name: "home_assistant",
        schema: of::<HomeAssistantForecastConfig>,
        example: "{type: home_assistant, service: ha, power_now: sensor.pv_forecast_now, power_next_hour: sensor.pv_forecast_next_hour}",
    },
    TypeSpec {
        section: Section::Forecast,
        name: "forecast_solar",
        schema: of::<ForecastSolarConfig>,
        example: "{type: forecast_solar, declination: 30, azimuth: 0, kwp: 6}",
    },
    TypeSpec {
        section: Section::Trackers,
        name: "simulated",
        schema: of::<Empty>,
        example: "{id: pool-sim, type: simulated}",
    },
    TypeSpec {
        section: Section::Trackers,
        name: "ocean",
        schema: of::<OceanConfig>,
        example: "{id: ocean, type: ocean, bitcoin_address: bc1qexampleaddress}",
    },
    TypeSpec {
        section: Section::Trackers,
        name: "braiins_pool",
        schema: of::<BraiinsPoolConfig>,
        example: "{id: braiins, type: braiins_pool, api_token_file: braiins-token}",
    },
    TypeSpec {
        section: Section::Notifiers,
        name: "telegram",
        schema: of::<TelegramConfig>,
        example: "{id: phone, type: telegram, bot_token_file: bot-token, chat_id: 123456789}",
    },
    TypeSpec {
        section: Section::Notifiers,
        name: "webhook",
        schema: of::<WebhookConfig>,
        example: "{id: ntfy, type: webhook, url: \"https://ntfy.example/miners\"}",
    },
];

fn generator() -> SchemaGenerator {
    SchemaSettings::draft2020_12().with(|s| s.inline_subschemas = true).into_generator()
}

/// The schema of one type as it appears in a config: its keys plus `type` (and `id`).
pub fn type_schema(spec: &TypeSpec) -> Value {
    let mut schema = (spec.schema)(&mut generator()).to_value();
    let map = object(&mut schema);
    map.remove("$schema");
    map.remove("title");
    let properties = map.entry("properties").or_insert_with(|| json!({}));
    if let Some(properties) = properties.as_object_mut() {
        properties.insert("type".into(), json!({"const": spec.name, "description": "The component type."}));
        if spec.section.has_id() {
            properties.insert(
                "id".into(),
                json!({"type": "string", "minLength": 1, "description": "A name, unique in its section."}),
            );
        }
    }
    let required = map.entry("required").or_insert_with(|| json!([]));
    if let Some(required) = required.as_array_mut() {
        required.push(json!("type"));
        if spec.section.has_id() {
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

fn one_of(section: Section) -> Value {
    let variants: Vec<Value> = TYPES.iter().filter(|t| t.section == section).map(type_schema).collect();
    json!({"oneOf": variants})
}

fn plain<T: JsonSchema>() -> Value {
    let mut schema = generator().into_root_schema_for::<T>().to_value();
    if let Some(map) = schema.as_object_mut() {
        map.remove("$schema");
    }
    schema
}

/// The whole config file's schema.
pub fn config_schema() -> Value {
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
            "monitor": one_of(Section::Monitor),
            "forecast": one_of(Section::Forecast)
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
            "services": list(one_of(Section::Services)),
            "energy_sources": list(energy_source),
            "controllers": list(one_of(Section::Controllers)),
            "miners": list(plain::<Miner>()),
            "trackers": list(one_of(Section::Trackers)),
            "notifiers": list(one_of(Section::Notifiers)),
            "units": list(plain::<Unit>())
        }
    })
}

/// The keys of a type: (name, type, default, description), from its schema.
pub fn keys(spec: &TypeSpec) -> Vec<(String, String, Option<String>, String)> {
    let schema = type_schema(spec);
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
