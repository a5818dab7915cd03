//! Cross-reference checks: ids unique and defined, feature bindings possible, types built,
//! units complete, rule files valid. Each problem is located in the config file.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::config::model::*;
use crate::config::parse::Sections;
use crate::config::spec::SettingsCheck;
use crate::core::binding::{Binding, bind};
use crate::core::feature::FeatureType;
use crate::diag::Diagnostic;
use crate::rules::model::RuleSet;
use crate::yaml::{Document, index_path, key_path};

pub struct Checker<'a> {
    doc: &'a Document,
    dir: &'a Path,
    pub diagnostics: Vec<Diagnostic>,
}

impl<'a> Checker<'a> {
    pub fn new(doc: &'a Document, dir: &'a Path) -> Checker<'a> {
        Checker { doc, dir, diagnostics: Vec::new() }
    }

    fn error(&mut self, path: &str, message: impl Into<String>) {
        self.diagnostics.push(Diagnostic::error(self.doc.locate(path), path, message));
    }

    /// Assembles the config and checks everything that needs more than one section.
    pub fn config(&mut self, sections: Sections) -> Config {
        let state = sections
            .state
            .map(|s| crate::paths::resolve(self.dir, Path::new(&s)))
            .unwrap_or_else(|| crate::config::default_state_path(self.dir));
        let mut settings = sections.settings;
        settings.metrics_file = settings.metrics_file.map(|f| crate::paths::resolve(self.dir, &f));
        let mut config = Config {
            file: self.doc.file.clone(),
            state,
            settings,
            services: sections.services,
            energy_sources: sections.energy_sources,
            controllers: sections.controllers,
            miners: sections.miners,
            trackers: sections.trackers,
            notifiers: sections.notifiers,
            publishers: sections.publishers,
            tariffs: sections.tariffs,
            market: sections.market,
            home_loads: sections.home_loads,
            climate_zones: sections.climate_zones,
            units: sections.units,
            bindings: Default::default(),
        };
        self.settings(&config.settings);
        self.unique_ids(&config);
        self.components(&config);
        self.tariffs(&config);
        self.home(&config);
        config.bindings = self.miners(&config);
        self.units(&config);
        config
    }

    /// Home-load profiles and climate zones (SPEC §18): names rules can address, one sensor
    /// per appliance, known services, valid schedules.
    fn home(&mut self, config: &Config) {
        let services: HashSet<&str> = config.services.iter().map(|s| s.id.as_str()).collect();
        let mut profiles = HashSet::new();
        for (p, profile) in config.home_loads.iter().enumerate() {
            let path = index_path("home_loads", p);
            if !profiles.insert(profile.id.as_str()) {
                self.error(&key_path(&path, "id"), format!("duplicate home-load profile `{}`", profile.id));
            }
            let mut names = HashSet::new();
            for (d, device) in profile.devices.iter().enumerate() {
                let at = index_path(&key_path(&path, "devices"), d);
                self.rule_name(&key_path(&at, "name"), &device.name, &mut names);
                let sensors = [
                    device.service.is_some() || device.power.is_some(),
                    device.http.is_some(),
                    device.simulated.is_some(),
                ];
                if sensors.iter().filter(|s| **s).count() != 1 || device.service.is_some() != device.power.is_some() {
                    self.error(&at, "give one power sensor: `service` with `power`, `http`, or `simulated`");
                }
                if let Some(service) = device.service.as_deref().filter(|s| !services.contains(s)) {
                    self.error(&key_path(&at, "service"), format!("unknown service `{service}`"));
                }
            }
        }
        let mut zones = HashSet::new();
        for (z, zone) in config.climate_zones.iter().enumerate() {
            let path = index_path("climate_zones", z);
            self.rule_name(&key_path(&path, "name"), &zone.name, &mut zones);
            if let crate::home::ClimateMonitor::HomeAssistant { service, .. } = &zone.monitor
                && !services.contains(service.as_str())
            {
                self.error(&key_path(&path, "monitor.service"), format!("unknown service `{service}`"));
            }
            if zone.hysteresis < 0.0 {
                self.error(&key_path(&path, "hysteresis"), "expected °C ≥ 0");
            }
            for (s, slot) in zone.schedule.iter().enumerate() {
                for (key, time) in [("from", &slot.from), ("to", &slot.to)] {
                    if crate::core::climate::minutes(time).is_none() {
                        let at = key_path(&index_path(&key_path(&path, "schedule"), s), key);
                        self.error(&at, format!("`{time}` is not a time of day as HH:MM"));
                    }
                }
            }
        }
    }

    /// Rules naming an appliance or a zone the unit does not have cannot fire: an error, as
    /// for a typo in any other path; `home_load` without a profile is always missing.
    fn home_names(&mut self, path: &str, config: &Config, unit: &Unit, set: &RuleSet) {
        let profile = unit.home_loads.as_ref().and_then(|id| config.home_loads.iter().find(|p| &p.id == id));
        let mut warned = false;
        for (rule, field) in set.field_paths() {
            let segments: Vec<&str> = field.segments.iter().map(String::as_str).collect();
            match segments.as_slice() {
                ["home_load", ..] if profile.is_none() && !warned => {
                    warned = true;
                    let message = format!(
                        "rule `{rule}` reads `{}` but unit `{}` has no `home_loads:` profile; it is always missing",
                        field.text, unit.id
                    );
                    self.diagnostics.push(Diagnostic::warning(self.doc.locate(path), path, message));
                }
                ["home_load", "devices", name, ..]
                    if profile.is_some_and(|p| !p.devices.iter().any(|d| d.name == *name)) =>
                {
                    let known: Vec<&str> =
                        profile.map(|p| p.devices.iter().map(|d| d.name.as_str()).collect()).unwrap_or_default();
                    self.error(
                        path,
                        format!(
                            "rule `{rule}`: `{}` names no device of profile `{}`; it has: {}",
                            field.text,
                            profile.map_or("", |p| p.id.as_str()),
                            known.join(", ")
                        ),
                    );
                }
                ["climate", "zones", name, ..] if !unit.climate_zones.iter().any(|z| z == name) => {
                    self.error(
                        path,
                        format!(
                            "rule `{rule}`: `{}` names no climate zone of unit `{}`; it has: {}",
                            field.text,
                            unit.id,
                            unit.climate_zones.join(", ")
                        ),
                    );
                }
                _ => {}
            }
        }
    }

    /// SPEC §22: a miner no bound feature can start or stop, and a miner the start rules
    /// compare with a `power_max` it does not have, are warnings: the unit would never switch it.
    fn startable(&mut self, config: &Config, miners: &HashMap<&str, &Miner>, unit: &Unit, set: &RuleSet) {
        use crate::core::feature::FeatureType;
        let reads_power_max = set.field_paths().into_iter().any(|(_, field)| field.text == "miner.power_max");
        let mut stuck: Vec<&Miner> = Vec::new();
        for id in &unit.miners {
            let Some(&miner) = miners.get(id.as_str()) else { continue };
            let bindings = config.bindings_of(id);
            let switchable = [FeatureType::MiningControl, FeatureType::PowerControl]
                .iter()
                .any(|feature| crate::core::binding::resolve(bindings, *feature).is_some());
            if !switchable {
                stuck.push(miner);
            }
            if reads_power_max && miner.power_max.is_none() {
                let message = format!(
                    "miner `{id}` has no `power_max`: the rules of unit `{}` compare with miner.power_max, so they start it only if the firmware reports its maximum",
                    unit.id
                );
                self.diagnostics.push(Diagnostic::warning(self.doc.locate(&miner.at), &miner.at, message));
            }
        }
        self.unswitchable(unit, &stuck);
    }

    /// Miners a unit can never start or stop: one warning each, or one for the unit when
    /// there are many (a farm of read-only monitors is one finding, not a thousand lines).
    fn unswitchable(&mut self, unit: &Unit, stuck: &[&Miner]) {
        const EACH_UP_TO: usize = 3;
        if stuck.len() > EACH_UP_TO {
            let named: Vec<&str> = stuck.iter().take(EACH_UP_TO).map(|m| m.id.as_str()).collect();
            let message = format!(
                "{} miners of unit `{}` have neither mining_control nor power_control ({}, …): the unit can never start or stop them (add a plug controller)",
                stuck.len(),
                unit.id,
                named.join(", ")
            );
            let at = key_path(&unit.at, "miners");
            self.diagnostics.push(Diagnostic::warning(self.doc.locate(&at), &at, message));
            return;
        }
        for miner in stuck {
            let message = format!(
                "miner `{}` has neither mining_control nor power_control: unit `{}` can never start or stop it (add a plug controller)",
                miner.id, unit.id
            );
            self.diagnostics.push(Diagnostic::warning(self.doc.locate(&miner.at), &miner.at, message));
        }
    }

    /// SPEC §22: a rule over an energy quantity the unit's monitor does not read is always
    /// false; say so, naming the rule, the field and the monitor key that would give it.
    fn energy_fields(&mut self, config: &Config, unit: &Unit, set: &RuleSet) {
        let Some(source) = config.energy_sources.iter().find(|s| s.id == unit.energy_source) else { return };
        let Some(read) = source.monitor.settings.energy_quantities() else { return };
        let needs = |field: &str| -> &'static [&'static str] {
            match field.split('.').skip(1).take(2).collect::<Vec<_>>().as_slice() {
                ["production", ..] => &["production"],
                ["consumption", ..] => &["consumption"],
                ["surplus_power" | "surplus_for_miner", ..] => &["production", "consumption"],
                ["grid", ..] => &["grid"],
                ["battery", "state_of_charge"] => &["battery_soc"],
                ["battery", "remaining_capacity"] => &["battery_remaining_capacity"],
                ["battery", _] => &["battery_power"],
                _ => &[],
            }
        };
        let mut warned = std::collections::BTreeSet::new();
        for (rule, field) in set.field_paths() {
            if !field.text.starts_with("energy_state.") {
                continue;
            }
            let missing: Vec<&str> = needs(&field.text).iter().copied().filter(|q| !read.contains(q)).collect();
            if missing.is_empty() || !warned.insert(field.text.clone()) {
                continue;
            }
            let at = key_path(&source.at, "monitor");
            let message = format!(
                "rule `{rule}` of unit `{}` reads `{}`, which this monitor does not give (no `{}`): that condition is always false",
                unit.id,
                field.text,
                missing.join("`, `")
            );
            self.diagnostics.push(Diagnostic::warning(self.doc.locate(&at), &at, message));
        }
    }

    /// A device or zone name: unique, and only letters, digits and `_` (a rule path segment).
    fn rule_name<'n>(&mut self, path: &str, name: &'n str, seen: &mut HashSet<&'n str>) {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            self.error(path, format!("`{name}`: use letters, digits and `_` only, so rules can name it"));
        }
        if !seen.insert(name) {
            self.error(path, format!("duplicate name `{name}`"));
        }
    }

    fn settings(&mut self, settings: &Settings) {
        if let Err(message) = crate::core::time::time_zone(settings.timezone.as_deref()) {
            self.error("settings.timezone", message);
        }
        if settings.concurrency == 0 {
            self.error("settings.concurrency", "must be at least 1");
        }
        if settings.latitude.is_some_and(|l| !(-90.0..=90.0).contains(&l)) {
            self.error("settings.latitude", "must be between -90 and 90");
        }
        if settings.longitude.is_some_and(|l| !(-180.0..=180.0).contains(&l)) {
            self.error("settings.longitude", "must be between -180 and 180");
        }
        if settings.timeout.0.is_zero() || settings.deadline.0.is_zero() {
            self.error("settings", "`timeout` and `deadline` must be longer than zero");
        }
    }

    fn unique_ids(&mut self, config: &Config) {
        let sections: [(&str, Vec<&str>); 8] = [
            ("services", config.services.iter().map(|c| c.id.as_str()).collect()),
            ("energy_sources", config.energy_sources.iter().map(|c| c.id.as_str()).collect()),
            ("controllers", config.controllers.iter().map(|c| c.id.as_str()).collect()),
            ("miners", config.miners.iter().map(|c| c.id.as_str()).collect()),
            ("trackers", config.trackers.iter().map(|c| c.id.as_str()).collect()),
            ("notifiers", config.notifiers.iter().map(|c| c.id.as_str()).collect()),
            ("publishers", config.publishers.iter().map(|c| c.id.as_str()).collect()),
            ("units", config.units.iter().map(|c| c.id.as_str()).collect()),
        ];
        for (section, ids) in sections {
            let mut seen = HashSet::new();
            for (index, id) in ids.iter().enumerate() {
                if !seen.insert(*id) {
                    self.error(
                        &key_path(&index_path(section, index), "id"),
                        format!("duplicate id `{id}` in {section}"),
                    );
                }
            }
        }
    }

    /// Each component's own checks (references, expressions, secrets), located below it.
    fn components(&mut self, config: &Config) {
        let services: Vec<&str> = config.services.iter().map(|s| s.id.as_str()).collect();
        let has_location = config.settings.latitude.is_some() && config.settings.longitude.is_some();
        let sources = config.energy_sources.iter().flat_map(|s| std::iter::once(&s.monitor).chain(&s.forecast));
        let all = config.services.iter().chain(&config.controllers).chain(sources);
        let others = config.trackers.iter().chain(&config.notifiers).chain(&config.publishers).chain(&config.market);
        for component in all.chain(others) {
            let mut check = SettingsCheck { services: &services, has_location, problems: Vec::new() };
            component.settings.check(&mut check);
            for (key, message) in check.problems {
                let path = if key.is_empty() { component.at.clone() } else { key_path(&component.at, &key) };
                self.error(&path, message);
            }
        }
    }

    /// Schedules that parse, sensors whose service exists, and a market to price them.
    fn tariffs(&mut self, config: &Config) {
        let Some(tariffs) = &config.tariffs else {
            if config.market.is_some() {
                self.error("market", "a market needs `tariffs` (at least `tariffs: {currency: EUR}`) for its currency");
            }
            return;
        };
        for (key, price) in [("import", &tariffs.import), ("feed_in", &tariffs.feed_in)] {
            let path = format!("tariffs.{key}");
            match price {
                Some(crate::core::tariff::Price::Sensor { service, .. })
                    if !config.services.iter().any(|s| &s.id == service) =>
                {
                    self.error(&format!("{path}.service"), format!("unknown service `{service}`"));
                }
                Some(crate::core::tariff::Price::Http { jsonpath: Some(jsonpath), .. }) => {
                    if let Err(message) = crate::transport::extract::check(jsonpath) {
                        self.error(&format!("{path}.jsonpath"), message);
                    }
                }
                Some(price) => {
                    if let Some(Err(message)) = price.slots().map(crate::core::tariff::check) {
                        self.error(&path, message);
                    }
                }
                None => {}
            }
        }
    }

    /// Binds every miner's features, reporting what cannot be bound.
    fn miners(&mut self, config: &Config) -> BTreeMap<String, Vec<Binding>> {
        let features: HashMap<&str, Vec<FeatureType>> =
            config.controllers.iter().map(|c| (c.id.as_str(), c.settings.features())).collect();
        let supported = |id: &str| features.get(id).cloned();
        let mut bindings = BTreeMap::new();
        for miner in &config.miners {
            let path = &miner.at;
            if miner.controllers.is_empty() && miner.features.is_empty() {
                self.error(path, format!("miner `{}` has no `controllers`", miner.id));
            }
            match bind(&miner.controllers, &miner.features, supported) {
                Ok(bound) => drop(bindings.insert(miner.id.clone(), bound)),
                Err(problems) => {
                    for (inner, message) in problems {
                        self.error(&format!("{path}.{inner}"), message);
                    }
                }
            }
        }
        bindings
    }

    fn units(&mut self, config: &Config) {
        let ids = |list: Vec<&str>| list.into_iter().map(str::to_string).collect::<HashSet<String>>();
        let sources = ids(config.energy_sources.iter().map(|s| s.id.as_str()).collect());
        let miners = ids(config.miners.iter().map(|m| m.id.as_str()).collect());
        let trackers = ids(config.trackers.iter().map(|t| t.id.as_str()).collect());
        let notifiers = ids(config.notifiers.iter().map(|n| n.id.as_str()).collect());
        let publishers = ids(config.publishers.iter().map(|n| n.id.as_str()).collect());
        for unit in &config.units {
            let path = &unit.at;
            if !sources.contains(&unit.energy_source) {
                self.error(&key_path(path, "energy_source"), format!("unknown energy source `{}`", unit.energy_source));
            }
            if let Some(tracker) = unit.tracker.as_ref().filter(|t| !trackers.contains(*t)) {
                self.error(&key_path(path, "tracker"), format!("unknown tracker `{tracker}`"));
            }
            for (i, miner) in unit.miners.iter().enumerate() {
                if !miners.contains(miner) {
                    self.error(&index_path(&key_path(path, "miners"), i), format!("unknown miner `{miner}`"));
                }
            }
            for (i, notifier) in unit.notifiers.iter().enumerate() {
                if !notifiers.contains(notifier) {
                    self.error(&index_path(&key_path(path, "notifiers"), i), format!("unknown notifier `{notifier}`"));
                }
            }
            for (i, publisher) in unit.publishers.iter().enumerate() {
                if !publishers.contains(publisher) {
                    let path = index_path(&key_path(path, "publishers"), i);
                    self.error(&path, format!("unknown publisher `{publisher}`"));
                }
            }
            if unit.policy.is_none() && unit.rules.is_none() {
                self.error(path, format!("unit `{}` needs `policy` or `rules`", unit.id));
            }
            if unit.stop_mode == StopMode::SleepThenPowerOff && unit.power_off_after.is_none() {
                self.error(
                    &key_path(path, "power_off_after"),
                    "`stop_mode: sleep_then_power_off` needs `power_off_after`",
                );
            }
            if let Some(profile) = unit.home_loads.as_ref().filter(|p| !config.home_loads.iter().any(|h| &&h.id == p)) {
                self.error(&key_path(path, "home_loads"), format!("unknown home-load profile `{profile}`"));
            }
            for (i, zone) in unit.climate_zones.iter().enumerate() {
                if !config.climate_zones.iter().any(|z| &z.name == zone) {
                    self.error(
                        &index_path(&key_path(path, "climate_zones"), i),
                        format!("unknown climate zone `{zone}`"),
                    );
                }
            }
            if let Some(allocation) = &unit.allocation {
                self.allocation(&key_path(path, "allocation"), allocation, unit.safety.min_battery_soc);
            }
        }
    }

    /// SPEC §24: `min_battery_soc < priority_soc ≤ buffer_soc`, and amounts that make sense.
    fn allocation(&mut self, path: &str, allocation: &crate::core::allocation::Allocation, min_soc: Option<f64>) {
        if let Some(battery) = allocation.battery {
            let at = key_path(path, "battery");
            if battery.priority_soc > battery.buffer_soc {
                self.error(&at, "`priority_soc` must not be above `buffer_soc`");
            }
            if let Some(min) = min_soc.filter(|min| *min >= battery.priority_soc) {
                self.error(&at, format!("`priority_soc` must be above the unit's `safety.min_battery_soc` ({min})"));
            }
            if battery.discharge_max < 0.0 {
                self.error(&key_path(&at, "discharge_max"), "expected watts ≥ 0");
            }
        }
        for (key, value) in [("reserve", allocation.reserve), ("start_margin", allocation.start_margin)] {
            if value < 0.0 {
                self.error(&key_path(path, key), "expected watts ≥ 0");
            }
        }
        for (key, value) in [("step", allocation.step), ("probe.step", allocation.probe.step)] {
            if value <= 0.0 {
                self.error(&key_path(path, key), "expected watts > 0");
            }
        }
    }

    /// Loads every unit's rules; rule-file problems keep their own file positions.
    pub fn rule_sets(&mut self, config: &Config) -> Vec<(String, RuleSet)> {
        let mut sets = Vec::new();
        let miners: HashMap<&str, &Miner> = config.miners.iter().map(|m| (m.id.as_str(), m)).collect();
        for unit in &config.units {
            let path = &unit.at;
            let source = match crate::rules::rule_source(unit.policy.as_deref(), unit.rules.as_ref(), self.dir) {
                Ok(Some(source)) => source,
                Ok(None) => continue,
                Err(message) => {
                    let key = if unit.policy.is_some() && unit.rules.is_none() { "policy" } else { "rules" };
                    self.error(&key_path(path, key), message);
                    continue;
                }
            };
            if let crate::rules::RuleSource::Policy(file) = &source
                && !file.is_file()
            {
                self.error(&key_path(path, "policy"), format!("policy file {} does not exist", file.display()));
                continue;
            }
            let (set, found) = crate::rules::load_rule_set(&source);
            self.diagnostics.extend(found);
            if let Some(set) = &set {
                let key = if unit.rules.is_some() { "rules" } else { "policy" };
                self.home_names(&key_path(path, key), config, unit, set);
                self.startable(config, &miners, unit, set);
                self.energy_fields(config, unit, set);
            }
            if let Some(set) = set {
                sets.push((unit.id.clone(), set));
            }
        }
        sets
    }
}

/// The folder of the config file, for resolving relative paths.
pub fn config_dir(file: &Path) -> PathBuf {
    file.parent().map(Path::to_path_buf).unwrap_or_default()
}
