//! Publishers (SPEC §21): at the end of each cycle its states go out, for Home Assistant's
//! dashboard; at the start of the next, the modes and power targets set there come back. A
//! publisher that fails never fails the control work: the run exits 1 and says so. Each
//! publisher type is one file and one line in `TYPES`.
//!
//! What is published is an allow-list ([`Snapshot`]): never a secret, never a raw reply.

pub mod mqtt;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::config::model::Config;
use crate::config::spec::{ComponentSettings, ComponentType, Typed};
use crate::core::mode::UnitMode;
use crate::cycle::outcome::RunReport;
use crate::duration::Span;
use crate::transport::{Call, InputError};

/// Every publisher type, in the order `types` and the schema list them.
pub const TYPES: &[&dyn PublisherType] = &[&mqtt::TYPE];

/// Where a cycle's states go and its commands come from.
pub trait Publisher {
    /// The commands its command topics hold now for the `served` units and their miners.
    fn receive(&self, served: &Served, call: &Call) -> Result<Vec<Received>, InputError>;
    /// Publishes a cycle; `previous` are the discovery topics published before. Returns the
    /// discovery topics published now (none in a dry run).
    fn publish(&self, snapshot: &Snapshot, previous: &[String], call: &Call) -> Result<Vec<String>, InputError>;
    /// Publishes a unit's mode on its command topic, retained, once the broker acknowledges
    /// it; returns the (topic, payload) now held there.
    fn announce_mode(&self, unit: &str, mode: UnitMode, call: &Call) -> Result<(String, String), InputError>;
    /// How long a power target set from the dashboard keeps rules and allocation off a miner.
    fn target_hold(&self) -> i64;
    /// Where it connects (`mqtt://host:port`): the key of its backoff after failures.
    fn endpoint(&self) -> String;
}

/// The units a publisher serves, and their miners, by id.
#[derive(Debug, Clone, Default)]
pub struct Served {
    pub units: Vec<String>,
    pub miners: Vec<String>,
}

/// What one command topic holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    pub topic: String,
    pub payload: String,
    /// What it asks, or why it asks nothing understood.
    pub order: Result<Order, String>,
}

/// A command from the dashboard.
#[derive(Debug, Clone, PartialEq)]
pub enum Order {
    Mode { unit: String, mode: UnitMode },
    Target { miner: String, watts: f64 },
}

/// A cycle as published: only these fields, each one chosen.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    pub at: String,
    pub dry_run: bool,
    /// The cycle's control work went well (exit 0 so far).
    pub ok: bool,
    pub units: Vec<UnitSnapshot>,
}

#[derive(Debug, Clone, Serialize)]
pub struct UnitSnapshot {
    pub id: String,
    pub mode: &'static str,
    pub budget: Option<f64>,
    pub surplus: Option<f64>,
    pub miners: Vec<MinerSnapshot>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MinerSnapshot {
    pub id: String,
    pub status: &'static str,
    /// TH/s.
    pub hashrate: Option<f64>,
    pub power: Option<f64>,
    pub power_target: Option<f64>,
    pub power_target_min: Option<f64>,
    pub power_target_max: Option<f64>,
    pub decision: &'static str,
    pub reason: String,
    pub chip_temperature: Option<f64>,
}

/// The snapshot of `report` for the units in `served`, with their modes.
pub fn snapshot(report: &RunReport, served: &Served, modes: &BTreeMap<String, UnitMode>) -> Snapshot {
    let units = report
        .units
        .iter()
        .filter(|u| served.units.contains(&u.id))
        .map(|unit| UnitSnapshot {
            id: unit.id.clone(),
            mode: modes.get(&unit.id).copied().unwrap_or_default().name(),
            budget: unit.allocation.as_ref().and_then(|a| a["budget"].as_f64()),
            surplus: unit.energy.as_ref().and_then(|e| e["surplus_power"].as_f64()),
            miners: unit.miners.iter().map(miner_snapshot).collect(),
        })
        .collect();
    Snapshot { at: report.finished_at.clone(), dry_run: report.dry_run, ok: report.exit_code == 0, units }
}

fn miner_snapshot(miner: &crate::cycle::outcome::MinerOutcome) -> MinerSnapshot {
    let target = |key: &str| miner.power_target.as_ref().and_then(|t| t[key].as_f64());
    let reason = match (&miner.reason.name, miner.reason.kind.name()) {
        (Some(name), kind) => format!("{kind}: {name}"),
        (None, kind) => kind.to_string(),
    };
    MinerSnapshot {
        id: miner.id.clone(),
        status: miner.status.name(),
        hashrate: miner.hash_rate,
        power: miner.power,
        power_target: target("watts"),
        power_target_min: target("min"),
        power_target_max: target("max"),
        decision: miner.decision.name(),
        reason,
        chip_temperature: miner.facts.chip_temperature,
    }
}

/// A publisher type: what the loader needs, plus how to build one.
pub trait PublisherType: ComponentType {
    fn build(&self, id: &str, settings: &dyn ComponentSettings) -> Option<Box<dyn Publisher>>;
}

/// The settings struct of a publisher type.
pub trait PublisherSettings: ComponentSettings + DeserializeOwned + JsonSchema {
    /// `id` names its session on the broker.
    fn build(&self, id: &str) -> Box<dyn Publisher>;
}

impl<S: PublisherSettings> PublisherType for Typed<S> {
    fn build(&self, id: &str, settings: &dyn ComponentSettings) -> Option<Box<dyn Publisher>> {
        Some(settings.downcast::<S>()?.build(id))
    }
}

/// A configured publisher with its id and own `timeout`.
pub struct Configured {
    pub id: String,
    pub timeout: Option<Span>,
    pub publisher: Box<dyn Publisher>,
}

/// Every publisher of the config.
pub fn build(config: &Config) -> Vec<Configured> {
    let mut built = Vec::new();
    for publisher in &config.publishers {
        let Some(kind) = TYPES.iter().find(|t| t.info().name == publisher.type_name) else { continue };
        let Some(built_one) = kind.build(&publisher.id, publisher.settings.as_ref()) else { continue };
        built.push(Configured { id: publisher.id.clone(), timeout: publisher.timeout, publisher: built_one });
    }
    built
}

/// The enabled units of `units` that list `publisher`, and their miners.
pub fn served(config: &Config, units: &[&crate::config::model::Unit], publisher: &str) -> Served {
    let mut served = Served::default();
    for unit in units.iter().filter(|u| u.publishers.iter().any(|p| p == publisher)) {
        served.units.push(unit.id.clone());
        served.miners.extend(unit.miners.iter().filter(|m| config.miners.iter().any(|c| &c.id == *m)).cloned());
    }
    served
}
