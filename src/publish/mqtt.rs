//! `mqtt`: Home Assistant over MQTT (SPEC §21). Each cycle publishes, retained and at QoS 1,
//! one discovery config per entity (`<prefix>/<component>/<node>/<object>/config`: a device
//! per miner and per unit), the states they read, and the availability; a dry run publishes
//! only its states, not retained, under `<base>/dry_run/`. At the start of a cycle it reads
//! the retained command topics: a unit's mode (`select`) and a miner's power target
//! (`number`). Entities whose miner or unit left the config are removed.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::config::secret::Secret;
use crate::config::spec::{ComponentSettings, SettingsCheck, TypeInfo, Typed};
use crate::core::mode::UnitMode;
use crate::duration::Span;
use crate::publish::{Order, Publisher, PublisherSettings, Received, Served, Snapshot};
use crate::transport::mqtt::{Broker, Message, Session};
use crate::transport::{Call, InputError};

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MqttConfig {
    /// The broker, e.g. `192.168.1.10` or `homeassistant.local`.
    pub host: String,
    /// 1883, or 8883 with `tls`.
    pub port: Option<u16>,
    /// The broker's login, when it asks for one.
    pub username: Option<String>,
    /// Use `password_file:` to keep it out of the config.
    pub password: Option<Secret>,
    /// Connect over TLS, checking the broker's certificate.
    #[serde(default)]
    pub tls: bool,
    /// With `tls`: the PEM file of the authority that signed the broker's certificate (an
    /// absolute path); without it, the public web roots.
    pub ca_file: Option<std::path::PathBuf>,
    /// Home Assistant's discovery prefix.
    #[serde(default = "discovery_prefix")]
    pub discovery_prefix: String,
    /// Where states and commands live.
    #[serde(default = "base_topic")]
    pub base_topic: String,
    /// Home Assistant marks a sensor unavailable after this long without a state (default 15m,
    /// three 5-minute cycles).
    pub expire_after: Option<Span>,
    /// How long a power target set from Home Assistant keeps rules and allocation off the
    /// miner (default 1h).
    pub target_hold: Option<Span>,
}

fn discovery_prefix() -> String {
    "homeassistant".into()
}

fn base_topic() -> String {
    "edge-mining".into()
}

pub const TYPE: Typed<MqttConfig> = Typed::new(
    TypeInfo::new(
        "mqtt",
        "Home Assistant over MQTT: discovery, states, and a mode and power targets set from the dashboard.",
        "{id: ha-mqtt, type: mqtt, host: 192.168.1.10, username: edge, password_file: mqtt-password}",
    )
    .note(
        "list it in a unit's `publishers:`; the unit's mode and its miners' targets then come back from Home Assistant",
    ),
);

impl ComponentSettings for MqttConfig {
    fn check(&self, check: &mut SettingsCheck<'_>) {
        for (key, topic) in [("base_topic", &self.base_topic), ("discovery_prefix", &self.discovery_prefix)] {
            if topic.is_empty() || topic.contains(['+', '#']) || topic.starts_with('/') || topic.ends_with('/') {
                check.error(key, format!("`{topic}` is not a topic prefix (no `+`, `#`, leading or trailing `/`)"));
            }
        }
        if self.ca_file.is_some() && !self.tls {
            check.error("ca_file", "`ca_file` needs `tls: true`");
        }
        if self.password.is_some() && self.username.is_none() {
            check.error("password", "a password needs a `username`");
        }
    }
}

impl PublisherSettings for MqttConfig {
    fn build(&self, id: &str) -> Box<dyn Publisher> {
        Box::new(Mqtt { config: self.clone(), client_id: format!("edge-mining-{}", topic_id(id)) })
    }
}

pub struct Mqtt {
    config: MqttConfig,
    client_id: String,
}

/// An id as it may appear in a topic and a discovery node id: `[A-Za-z0-9_-]`, the rest `_`.
pub fn topic_id(id: &str) -> String {
    id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

impl Mqtt {
    fn session(&self, call: &Call) -> Result<Session, InputError> {
        let config = &self.config;
        let broker = Broker {
            host: &config.host,
            port: self.port(),
            tls: config.tls.then_some(config.ca_file.as_deref()),
            username: config.username.as_deref(),
            password: config.password.as_ref().map(Secret::expose),
            client_id: &self.client_id,
        };
        let budget = call.budget().ok_or_else(InputError::deadline)?;
        let place = format!("MQTT broker {}:{}", broker.host, broker.port);
        Session::open(&broker, budget).map_err(|e| e.context(&place))
    }

    fn port(&self) -> u16 {
        self.config.port.unwrap_or(if self.config.tls { 8883 } else { 1883 })
    }

    fn base(&self) -> &str {
        &self.config.base_topic
    }

    fn mode_topic(&self, unit: &str) -> String {
        format!("{}/unit/{}/mode/set", self.base(), topic_id(unit))
    }

    fn target_topic(&self, miner: &str) -> String {
        format!("{}/miner/{}/power_target/set", self.base(), topic_id(miner))
    }

    fn availability(&self) -> String {
        format!("{}/availability", self.base())
    }

    /// The JSON state of a unit or miner (`kind`), under `base` (the base topic, or its
    /// `dry_run/`).
    fn state_topic(base: &str, kind: &str, id: &str) -> String {
        format!("{base}/{kind}/{}/state", topic_id(id))
    }

    /// The discovery configs of every entity of `snapshot`, by topic.
    fn discovery(&self, snapshot: &Snapshot) -> Vec<(String, Value)> {
        let expire = self.config.expire_after.map_or(900, |s| s.as_secs_i64());
        let availability = self.availability();
        let mut configs = Vec::new();
        for unit in &snapshot.units {
            let node = Node::unit(&unit.id);
            let state = Self::state_topic(self.base(), "unit", &unit.id);
            let entity = Entity::of(&node, &state, &availability, expire);
            configs.push(entity("budget", "Budget").sensor("budget", Some(("power", "W"))));
            configs.push(entity("surplus", "Surplus").sensor("surplus", Some(("power", "W"))));
            configs.push(entity("last_cycle", "Last cycle").sensor("at", Some(("timestamp", ""))));
            let mode = entity("mode", "Mode").config(
                "select",
                "mode",
                json!({
                "command_topic": self.mode_topic(&unit.id), "retain": true,
                "options": UnitMode::ALL.map(UnitMode::name)}),
            );
            configs.push(mode);
            for miner in &unit.miners {
                let node = Node::miner(&miner.id, &unit.id);
                let state = Self::state_topic(self.base(), "miner", &miner.id);
                let entity = Entity::of(&node, &state, &availability, expire);
                configs.push(entity("status", "Status").sensor("status", None));
                configs.push(entity("hashrate", "Hashrate").sensor("hashrate", Some(("", "TH/s"))));
                configs.push(entity("power", "Power").sensor("power", Some(("power", "W"))));
                configs.push(entity("decision", "Decision").sensor("decision", None));
                configs.push(entity("reason", "Reason").sensor("reason", None));
                configs.push(
                    entity("chip_temperature", "Chip temperature")
                        .sensor("chip_temperature", Some(("temperature", "°C"))),
                );
                let target = entity("power_target", "Power target").config(
                    "number",
                    "power_target",
                    json!({
                    "command_topic": self.target_topic(&miner.id), "retain": true, "device_class": "power",
                    "unit_of_measurement": "W", "mode": "box", "step": 1,
                    "min": miner.power_target_min.unwrap_or(0.0), "max": miner.power_target_max.unwrap_or(100_000.0)}),
                );
                configs.push(target);
            }
        }
        configs
            .into_iter()
            .map(|(component, node, object, config)| {
                (format!("{}/{component}/{node}/{object}/config", self.config.discovery_prefix), config)
            })
            .collect()
    }

    /// The retained states of a cycle and the availability.
    fn states(&self, snapshot: &Snapshot, base: &str, retain: bool) -> Vec<Message> {
        let message = |topic: String, value: Value| Message { topic, payload: value.to_string().into_bytes(), retain };
        let mut messages = Vec::new();
        for unit in &snapshot.units {
            let state = json!({"mode": unit.mode, "budget": unit.budget, "surplus": unit.surplus,
                               "at": snapshot.at, "dry_run": snapshot.dry_run});
            messages.push(message(Self::state_topic(base, "unit", &unit.id), state));
            for miner in &unit.miners {
                let mut state = serde_json::to_value(miner).unwrap_or(Value::Null);
                state["at"] = json!(snapshot.at);
                state["dry_run"] = json!(snapshot.dry_run);
                messages.push(message(Self::state_topic(base, "miner", &miner.id), state));
            }
        }
        messages
    }
}

/// A Home Assistant device: its node id and description.
struct Node {
    id: String,
    device: Value,
}

impl Node {
    fn unit(unit: &str) -> Node {
        let id = format!("edge_mining_unit_{}", topic_id(unit));
        let device = json!({"identifiers": [id], "name": format!("edge-mining {unit}"), "manufacturer": "edge-mining",
                            "model": "unit"});
        Node { id, device }
    }

    fn miner(miner: &str, unit: &str) -> Node {
        let id = format!("edge_mining_{}", topic_id(miner));
        let device = json!({"identifiers": [id], "name": miner, "manufacturer": "edge-mining", "model": "miner",
                            "via_device": Node::unit(unit).id});
        Node { id, device }
    }
}

/// One entity of a device, reading one field of its device's JSON state.
struct Entity<'a> {
    node: &'a Node,
    object: &'static str,
    name: &'static str,
    state: &'a str,
    availability: &'a str,
    expire: i64,
}

impl<'a> Entity<'a> {
    /// The entities of one node, one state topic: `entity(object, name)`.
    fn of(
        node: &'a Node,
        state: &'a str,
        availability: &'a str,
        expire: i64,
    ) -> impl Fn(&'static str, &'static str) -> Entity<'a> {
        move |object, name| Entity { node, object, name, state, availability, expire }
    }

    /// (component, node, object, config).
    fn config(&self, component: &str, field: &str, extra: Value) -> (String, String, String, Value) {
        let mut config = json!({
            "name": self.name,
            "unique_id": format!("{}_{}", self.node.id, self.object),
            "object_id": format!("{}_{}", self.node.id, self.object),
            "state_topic": self.state,
            "value_template": format!("{{{{ value_json.{field} }}}}"),
            "availability_topic": self.availability,
            "device": self.node.device,
        });
        if let (Some(config), Some(extra)) = (config.as_object_mut(), extra.as_object()) {
            config.extend(extra.clone());
        }
        (component.to_string(), self.node.id.clone(), self.object.to_string(), config)
    }

    /// A sensor, with (device class, unit) when it measures something.
    fn sensor(&self, field: &str, measures: Option<(&str, &str)>) -> (String, String, String, Value) {
        let mut extra = json!({"expire_after": self.expire});
        if let Some((class, unit)) = measures {
            if !class.is_empty() {
                extra["device_class"] = json!(class);
            }
            if !unit.is_empty() {
                extra["unit_of_measurement"] = json!(unit);
                extra["state_class"] = json!("measurement");
            }
        }
        self.config("sensor", field, extra)
    }
}

impl Publisher for Mqtt {
    fn receive(&self, served: &Served, call: &Call) -> Result<Vec<Received>, InputError> {
        let mut session = self.session(call)?;
        let filters = [format!("{}/unit/+/mode/set", self.base()), format!("{}/miner/+/power_target/set", self.base())];
        let sentinel = format!("{}/sync/{}", self.base(), self.client_id);
        let retained = session.retained(&filters, &sentinel);
        session.close();
        let units: Vec<(String, &String)> = served.units.iter().map(|u| (self.mode_topic(u), u)).collect();
        let miners: Vec<(String, &String)> = served.miners.iter().map(|m| (self.target_topic(m), m)).collect();
        let mut received = Vec::new();
        for (topic, payload) in retained? {
            let payload = String::from_utf8_lossy(&payload).trim().to_string();
            let order = if let Some((_, unit)) = units.iter().find(|(t, _)| *t == topic) {
                UnitMode::parse(&payload)
                    .map(|mode| Order::Mode { unit: unit.to_string(), mode })
                    .ok_or_else(|| format!("`{payload}` is not a mode (auto, hold or off)"))
            } else if let Some((_, miner)) = miners.iter().find(|(t, _)| *t == topic) {
                payload
                    .parse::<f64>()
                    .ok()
                    .filter(|w| w.is_finite() && *w > 0.0)
                    .map(|watts| Order::Target { miner: miner.to_string(), watts })
                    .ok_or_else(|| format!("`{payload}` is not a power target in watts"))
            } else {
                continue;
            };
            received.push(Received { topic, payload, order });
        }
        Ok(received)
    }

    fn publish(&self, snapshot: &Snapshot, previous: &[String], call: &Call) -> Result<Vec<String>, InputError> {
        let mut session = self.session(call)?;
        if snapshot.dry_run {
            let states = self.states(snapshot, &format!("{}/dry_run", self.base()), false);
            let sent = session.publish(&states);
            session.close();
            return sent.map(|()| previous.to_vec());
        }
        let discovery = self.discovery(snapshot);
        let topics: Vec<String> = discovery.iter().map(|(topic, _)| topic.clone()).collect();
        let mut messages: Vec<Message> = discovery
            .into_iter()
            .map(|(topic, config)| Message { topic, payload: config.to_string().into_bytes(), retain: true })
            .collect();
        // An empty retained config removes the entity from Home Assistant.
        let gone = previous.iter().filter(|t| !topics.contains(t));
        messages.extend(gone.map(|topic| Message { topic: topic.clone(), payload: Vec::new(), retain: true }));
        messages.extend(self.states(snapshot, self.base(), true));
        let availability = if snapshot.ok { "online" } else { "offline" };
        messages.push(Message { topic: self.availability(), payload: availability.into(), retain: true });
        let sent = session.publish(&messages);
        session.close();
        sent.map(|()| topics)
    }

    fn announce_mode(&self, unit: &str, mode: UnitMode, call: &Call) -> Result<(String, String), InputError> {
        let topic = self.mode_topic(unit);
        let mut session = self.session(call)?;
        let sent = session.publish(&[Message { topic: topic.clone(), payload: mode.name().into(), retain: true }]);
        session.close();
        sent.map(|()| (topic, mode.name().to_string()))
    }

    fn target_hold(&self) -> i64 {
        self.config.target_hold.map_or(3600, |s| s.as_secs_i64())
    }

    fn endpoint(&self) -> String {
        format!("mqtt://{}:{}", self.config.host, self.port())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nested_base_topic_is_kept_whole_in_every_discovery_config() {
        let config: MqttConfig = serde_yaml::from_str("{host: broker, base_topic: home/edge}").unwrap();
        let mqtt = Mqtt { config, client_id: "edge-mining-ha".into() };
        let miner = crate::publish::MinerSnapshot {
            id: "rig".into(),
            status: "on",
            hashrate: None,
            power: None,
            power_target: None,
            power_target_min: None,
            power_target_max: None,
            decision: "maintain_state",
            reason: "none".into(),
            chip_temperature: None,
        };
        let unit = crate::publish::UnitSnapshot {
            id: "home".into(),
            mode: "auto",
            budget: None,
            surplus: None,
            miners: vec![miner],
        };
        let snapshot = Snapshot { at: "t".into(), dry_run: false, ok: true, units: vec![unit] };
        for (topic, config) in mqtt.discovery(&snapshot) {
            assert_eq!(config["availability_topic"], "home/edge/availability", "{topic}");
            assert!(config["state_topic"].as_str().unwrap().starts_with("home/edge/"), "{topic}");
        }
    }
}
