//! Component specs: what the config holds for a component of any type, and the descriptor
//! each type hands the loader.
//!
//! The concrete types live in their kind's registry (`devices`, `energy`, `trackers`,
//! `notify`, `services`), each in one file; `crate::registry` gathers the lists and the
//! loader reads what it is handed, so nothing here imports a component.

use std::any::Any;
use std::fmt::Debug;
use std::marker::PhantomData;
use std::sync::Arc;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::DeserializeOwned;

use crate::core::feature::FeatureType;

/// Where a component type is used in the config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Services,
    Controllers,
    Monitor,
    Forecast,
    Trackers,
    Notifiers,
    Market,
    Publishers,
}

impl Section {
    pub const ALL: [Section; 8] = [
        Section::Services,
        Section::Controllers,
        Section::Monitor,
        Section::Forecast,
        Section::Trackers,
        Section::Notifiers,
        Section::Market,
        Section::Publishers,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Section::Services => "services",
            Section::Controllers => "controllers",
            Section::Monitor => "energy_sources[].monitor",
            Section::Forecast => "energy_sources[].forecast",
            Section::Trackers => "trackers",
            Section::Notifiers => "notifiers",
            Section::Market => "market",
            Section::Publishers => "publishers",
        }
    }

    /// Components listed under a top-level key carry an `id`.
    pub fn has_id(self) -> bool {
        !matches!(self, Section::Monitor | Section::Forecast | Section::Market)
    }
}

/// How a controller type is addressed, for `init` and `scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Address {
    /// `host` (and `port`): the CGMiner family.
    Host,
    /// `url`: HTTP devices.
    Url,
    /// Neither: simulated, or addressed through a service.
    Other,
}

/// What a person reads about a type in `types`, the schema and `init`.
#[derive(Debug, Clone, Copy)]
pub struct TypeInfo {
    pub name: &'static str,
    /// One sentence: what it talks to.
    pub description: &'static str,
    /// A complete entry that passes `validate`.
    pub example: &'static str,
    /// Something to know about its features, if anything.
    pub note: Option<&'static str>,
    pub address: Address,
    /// A mining device (as opposed to a plug, a relay or a service), for `init`.
    pub miner: bool,
}

impl TypeInfo {
    /// A type with no note, addressed otherwise, not a miner.
    pub const fn new(name: &'static str, description: &'static str, example: &'static str) -> TypeInfo {
        TypeInfo { name, description, example, note: None, address: Address::Other, miner: false }
    }

    pub const fn miner(self, address: Address) -> TypeInfo {
        TypeInfo { miner: true, address, ..self }
    }

    pub const fn address(self, address: Address) -> TypeInfo {
        TypeInfo { address, ..self }
    }

    pub const fn note(self, note: &'static str) -> TypeInfo {
        TypeInfo { note: Some(note), ..self }
    }
}

/// Problems a component's settings find in themselves and in what they refer to.
pub struct SettingsCheck<'a> {
    /// The service ids the config defines.
    pub services: &'a [&'a str],
    /// Whether `settings.latitude` and `settings.longitude` are both set.
    pub has_location: bool,
    /// (key below the component, message).
    pub problems: Vec<(String, String)>,
}

impl SettingsCheck<'_> {
    /// A problem at `key` below the component (`""` for the component itself).
    pub fn error(&mut self, key: &str, message: impl Into<String>) {
        self.problems.push((key.to_string(), message.into()));
    }

    /// The problem a check of the value at `key` found, if any.
    pub fn result(&mut self, key: &str, result: Result<(), String>) {
        if let Err(message) = result {
            self.error(key, message);
        }
    }

    /// `id`, given at `key`, must name a service.
    pub fn service(&mut self, key: &str, id: &str) {
        if !self.services.contains(&id) {
            self.error(key, format!("unknown service `{id}`"));
        }
    }
}

/// The parsed settings of one component; the type's own struct behind a trait object.
pub trait ComponentSettings: Any + Debug + Send + Sync {
    /// The features a controller with these settings provides (SPEC §4.4); other kinds none.
    fn features(&self) -> Vec<FeatureType> {
        Vec::new()
    }

    /// Checks beyond the keys themselves: references, expressions, secrets present.
    fn check(&self, _check: &mut SettingsCheck<'_>) {}

    /// The energy quantities an energy monitor with these settings reads (`production`,
    /// `consumption`, `grid`, `battery_soc`, `battery_power`, `battery_remaining_capacity`);
    /// `None` when it reads them all or it is no monitor.
    fn energy_quantities(&self) -> Option<Vec<&'static str>> {
        None
    }
}

impl dyn ComponentSettings {
    /// The settings as the type that parsed them, for that type's own code.
    pub fn downcast<T: ComponentSettings>(&self) -> Option<&T> {
        (self as &dyn Any).downcast_ref::<T>()
    }
}

/// The error of a body that does not fit its type, with the path serde reached.
pub type ParseError = serde_path_to_error::Error<serde_yaml::Error>;

/// One component type as the loader, `types` and `schema` see it.
pub trait ComponentType: Sync {
    fn info(&self) -> &TypeInfo;
    /// The schema of its keys (without `id`, `type` and `timeout`).
    fn schema(&self, generator: &mut SchemaGenerator) -> Schema;
    /// Types a body (the keys besides `id`, `type` and `timeout`).
    fn parse(&self, body: serde_yaml::Value) -> Result<Arc<dyn ComponentSettings>, ParseError>;
}

/// The descriptor of a type whose settings are the struct `S`.
pub struct Typed<S> {
    pub info: TypeInfo,
    settings: PhantomData<fn() -> S>,
}

impl<S> Typed<S> {
    pub const fn new(info: TypeInfo) -> Typed<S> {
        Typed { info, settings: PhantomData }
    }
}

impl<S: ComponentSettings + DeserializeOwned + JsonSchema> ComponentType for Typed<S> {
    fn info(&self) -> &TypeInfo {
        &self.info
    }

    fn schema(&self, generator: &mut SchemaGenerator) -> Schema {
        generator.root_schema_for::<S>()
    }

    fn parse(&self, body: serde_yaml::Value) -> Result<Arc<dyn ComponentSettings>, ParseError> {
        serde_path_to_error::deserialize::<_, S>(body).map(|settings| Arc::new(settings) as Arc<dyn ComponentSettings>)
    }
}

/// Every component type this build knows, by section (`crate::registry::REGISTRY`).
pub struct Registry {
    pub services: Vec<&'static dyn ComponentType>,
    pub controllers: Vec<&'static dyn ComponentType>,
    pub monitors: Vec<&'static dyn ComponentType>,
    pub forecasts: Vec<&'static dyn ComponentType>,
    pub trackers: Vec<&'static dyn ComponentType>,
    pub notifiers: Vec<&'static dyn ComponentType>,
    pub markets: Vec<&'static dyn ComponentType>,
    pub publishers: Vec<&'static dyn ComponentType>,
}

impl Registry {
    pub fn section(&self, section: Section) -> &[&'static dyn ComponentType] {
        match section {
            Section::Services => &self.services,
            Section::Controllers => &self.controllers,
            Section::Monitor => &self.monitors,
            Section::Forecast => &self.forecasts,
            Section::Trackers => &self.trackers,
            Section::Notifiers => &self.notifiers,
            Section::Market => &self.markets,
            Section::Publishers => &self.publishers,
        }
    }

    /// The type of that name in a section.
    pub fn find(&self, section: Section, name: &str) -> Option<&'static dyn ComponentType> {
        self.section(section).iter().copied().find(|t| t.info().name == name)
    }

    /// The names of a section's types, in the order they are listed.
    pub fn names(&self, section: Section) -> Vec<&'static str> {
        self.section(section).iter().map(|t| t.info().name).collect()
    }

    /// Every (section, type), in order.
    pub fn all(&self) -> impl Iterator<Item = (Section, &'static dyn ComponentType)> + '_ {
        Section::ALL.into_iter().flat_map(move |s| self.section(s).iter().map(move |t| (s, *t)))
    }
}
