//! The home stage (SPEC §18): this cycle's house-load and appliance samples joined to the
//! remembered history, each unit's `home_load` and `climate` sections, and the observations
//! to keep (samples and thermostats, recorded even in a dry run, never when the clock went
//! backwards).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::config::Config;
use crate::config::model::Unit;
use crate::core::climate::{ZoneReading, heating_demand, section as climate_section, target};
use crate::core::home_load::{Sample, forecast, forecast_section, history_section, hourly};
use crate::core::reading::MinerState;
use crate::cycle::Clock;
use crate::cycle::memory::Memory;
use crate::cycle::poll::Inputs;
use crate::cycle::scope::Scope;
use crate::home::HomeLoadProfile;

/// Each unit's sections, and what to record.
#[derive(Debug, Default, Clone)]
pub struct Home {
    /// Unit id → (`home_load`, `climate`).
    pub sections: BTreeMap<String, (Option<Value>, Option<Value>)>,
    pub observations: Observations,
}

/// Samples and thermostat states this cycle observed.
#[derive(Debug, Default, Clone)]
pub struct Observations {
    pub samples: Vec<(String, Sample)>,
    pub demands: Vec<(String, bool)>,
    /// (controller, setting, W): what a device drew at a lever setting (SPEC §16.2).
    pub levers: Vec<(String, f64, f64)>,
}

/// The series a profile's total is kept under, and each of its devices'.
pub fn total_series(profile: &str) -> String {
    profile.to_string()
}

pub fn device_series(profile: &str, device: &str) -> String {
    format!("{profile}/{device}")
}

/// The earliest sample any profile of the config still needs.
pub fn history_start(config: &Config, now: i64) -> i64 {
    let longest = config.home_loads.iter().map(|p| p.history.as_secs_i64()).max().unwrap_or(0);
    now - longest.min(config.settings.retention.as_secs_i64())
}

pub fn build(config: &Config, scope: &Scope, inputs: &Inputs, memory: &Memory, clock: &Clock) -> Home {
    let mut home = Home::default();
    let rewound = |series: &str| memory.samples.get(series).and_then(|s| s.last()).is_some_and(|s| s.at >= clock.now);
    for unit in &scope.units {
        let profile = unit.home_loads.as_ref().and_then(|id| config.home_loads.iter().find(|p| &p.id == id));
        let home_load = profile.map(|profile| {
            let (section, samples) = home_load(config, unit, profile, inputs, memory, clock);
            let fresh = samples.into_iter().filter(|(series, _)| !rewound(series));
            home.observations.samples.extend(fresh);
            section
        });
        let climate = climate(config, unit, inputs, memory, clock, &mut home.observations);
        home.sections.insert(unit.id.clone(), (home_load, climate));
    }
    // Two units sharing a profile observe the same samples once.
    home.observations.samples.sort_by(|a, b| (&a.0, a.1.at).cmp(&(&b.0, b.1.at)));
    home.observations.samples.dedup_by(|a, b| a.0 == b.0 && a.1.at == b.1.at);
    home
}

/// The house load now: the source's consumption (less the miners where it includes them),
/// else the sum of the profile's devices.
fn house_load(config: &Config, unit: &Unit, profile: &HomeLoadProfile, inputs: &Inputs) -> Option<f64> {
    let energy = inputs.energy.get(&unit.energy_source).and_then(|r| r.as_ref().ok());
    let includes = config
        .energy_sources
        .iter()
        .find(|s| s.id == unit.energy_source)
        .is_some_and(|s| s.consumption_includes_miners);
    let miners: f64 = unit.miners.iter().filter_map(|id| inputs.miners.get(id)).map(MinerState::drawn).sum();
    match energy.and_then(|e| e.consumption) {
        Some(consumption) => Some((consumption - if includes { miners } else { 0.0 }).max(0.0)),
        None if !profile.devices.is_empty() => profile
            .devices
            .iter()
            .map(|d| inputs.loads.get(&device_series(&profile.id, &d.name)).and_then(|r| r.as_ref().ok()))
            .sum(),
        None => None,
    }
}

fn home_load(
    config: &Config,
    unit: &Unit,
    profile: &HomeLoadProfile,
    inputs: &Inputs,
    memory: &Memory,
    clock: &Clock,
) -> (Value, Vec<(String, Sample)>) {
    let now = clock.now;
    let mut taken = Vec::new();
    let mut series = |key: String, value: Option<f64>| -> (Option<Value>, Option<Value>) {
        let mut samples = memory.samples.get(&key).cloned().unwrap_or_default();
        if let Some(Ok(backfill)) = inputs.backfills.get(&key).filter(|_| samples.is_empty()) {
            samples = backfill.iter().copied().filter(|s| s.at < now).collect();
            taken.extend(samples.iter().map(|s| (key.clone(), *s)));
        }
        if let Some(watts) = value {
            let sample = Sample { at: now, watts };
            samples.retain(|s| s.at < now);
            samples.push(sample);
            taken.push((key, sample));
        }
        let from = now - profile.history.as_secs_i64();
        let buckets = hourly(&samples, from, now, &clock.zone);
        let predicted = forecast(profile.forecast, &samples, &buckets, now, &clock.zone);
        (history_section(&samples, now), predicted.as_deref().and_then(forecast_section))
    };
    let mut section = Map::new();
    let (history, predicted) = series(total_series(&profile.id), house_load(config, unit, profile, inputs));
    section.insert("total_history".into(), history.unwrap_or(Value::Null));
    section.insert("total_forecast".into(), predicted.unwrap_or(Value::Null));
    let mut devices = Map::new();
    for device in &profile.devices {
        let key = device_series(&profile.id, &device.name);
        let value = inputs.loads.get(&key).and_then(|r| r.as_ref().ok()).copied();
        let (history, predicted) = series(key, value);
        let mut fields = Map::new();
        fields.insert("device_category".into(), json!(device.category));
        fields.extend(history.map(|h| ("history".to_string(), h)));
        fields.extend(predicted.map(|f| ("forecast".to_string(), f)));
        devices.insert(device.name.clone(), Value::Object(fields));
    }
    section.insert("devices".into(), Value::Object(devices));
    section.retain(|_, v| !v.is_null());
    (Value::Object(section), taken)
}

fn climate(
    config: &Config,
    unit: &Unit,
    inputs: &Inputs,
    memory: &Memory,
    clock: &Clock,
    observations: &mut Observations,
) -> Option<Value> {
    let minutes = jiff::Timestamp::from_second(clock.now)
        .ok()
        .map(|t| t.to_zoned(clock.zone.clone()))
        .map_or(0, |z| z.hour() as u16 * 60 + z.minute() as u16);
    let mut readings = Vec::new();
    for name in &unit.climate_zones {
        let Some(zone) = config.climate_zones.iter().find(|z| &z.name == name) else { continue };
        let Some(Ok((temperature, humidity))) = inputs.zones.get(name) else { continue };
        let target = target(&zone.schedule, zone.target, minutes);
        let demand =
            target.map(|t| heating_demand(memory.demands.get(name).copied(), *temperature, t, zone.hysteresis));
        if let Some(demand) = demand {
            observations.demands.push((name.clone(), demand));
        }
        readings.push(ZoneReading {
            name: name.clone(),
            temperature: *temperature,
            humidity: *humidity,
            target,
            hysteresis: zone.hysteresis,
            heating_demand: demand,
        });
    }
    climate_section(&readings)
}
