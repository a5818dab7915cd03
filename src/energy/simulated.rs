//! The simulated energy source: a PV curve from the sun's elevation with passing clouds,
//! a house load, and a battery whose charge is integrated between invocations.

use std::collections::{HashMap, HashSet};

use serde::Deserialize;

use crate::config::model::{Config, EnergySource};
use crate::config::spec::{ComponentSettings, TypeInfo, Typed};
use crate::core::reading::{EnergyReading, ForecastReading};
use crate::core::sun;
use crate::devices::simulated::{SimulatedControllerConfig, SimulatedMiner};
use crate::energy::{Build, EnergyMonitor, ForecastProvider, ForecastSettings, MonitorSettings};
use crate::sim::{SimBattery, SimWorld, noise};
use crate::transport::{Call, InputError};

pub const MONITOR: Typed<SimulatedMonitorConfig> = Typed::new(TypeInfo::new(
    "simulated",
    "A simulated roof, house and battery that follow the sun at the configured place.",
    "{type: simulated, peak_power: 6000, house_load: 400, battery_capacity: 10000}",
));

pub const FORECAST: Typed<SimulatedForecastConfig> =
    Typed::new(TypeInfo::new("simulated", "The simulated roof's clear-sky curve, as a forecast.", "{type: simulated}"));

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SimulatedMonitorConfig {
    /// PV peak in W; default the source's `nominal_power_max`, else 5000.
    pub peak_power: Option<f64>,
    /// Household load in W (without the miners); default 400.
    pub house_load: Option<f64>,
    /// Battery size in Wh; default the source's `storage_capacity`, else none.
    pub battery_capacity: Option<f64>,
    /// The sky over the simulated roof: `sunny` (passing clouds), `cloudy` or `variable`.
    #[serde(default)]
    pub weather: Weather,
    /// A day to replay instead of the PV and house models (`simulate --trace`).
    #[serde(skip)]
    #[schemars(skip)]
    pub trace: Option<std::sync::Arc<crate::core::simulation::Trace>>,
}

/// The weather of the simulated roof (SPEC §20's presets).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Weather {
    /// Clear sky dimmed at most 20 % by passing clouds, a quarter of an hour at a time.
    #[default]
    Sunny,
    /// An overcast day: 15–40 % of the clear sky.
    Cloudy,
    /// Sun and heavy clouds taking turns every ten minutes or so.
    Variable,
}

impl Weather {
    pub fn parse(name: &str) -> Option<Weather> {
        match name {
            "sunny" => Some(Weather::Sunny),
            "cloudy" => Some(Weather::Cloudy),
            "variable" => Some(Weather::Variable),
            _ => None,
        }
    }
}

impl ComponentSettings for SimulatedMonitorConfig {}

impl MonitorSettings for SimulatedMonitorConfig {
    fn build<'a>(&'a self, build: &Build<'a>) -> Option<Box<dyn EnergyMonitor + 'a>> {
        let loads = simulated_loads(build.config, &build.source.id, build.world);
        Some(Box::new(SimulatedMonitor::new(build.source, self, build.location(), loads, build.world)))
    }
}

/// The `simulated` forecast takes no keys; it reads the simulated monitor's, if any.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SimulatedForecastConfig {}

impl ComponentSettings for SimulatedForecastConfig {}

impl ForecastSettings for SimulatedForecastConfig {
    fn build<'a>(&'a self, build: &Build<'a>) -> Option<Box<dyn ForecastProvider + 'a>> {
        let default = SimulatedMonitorConfig::default();
        let monitor = build.source.monitor.settings.downcast::<SimulatedMonitorConfig>().unwrap_or(&default);
        Some(Box::new(SimulatedForecast::new(build.source, monitor, build.location())))
    }
}

/// The simulated miners fed by this source, each once.
pub fn simulated_loads<'a>(config: &'a Config, source: &str, world: &'a SimWorld) -> Vec<SimulatedMiner<'a>> {
    // Indexed by id: a site of thousands of miners is not searched once per miner.
    let simulated: HashMap<&str, (&str, &SimulatedControllerConfig)> = config
        .controllers
        .iter()
        .filter_map(|c| Some((c.id.as_str(), (c.id.as_str(), c.settings.downcast::<SimulatedControllerConfig>()?))))
        .collect();
    let mut seen: HashSet<&str> = HashSet::new();
    let mut loads = Vec::new();
    for unit in config.units.iter().filter(|u| u.energy_source == source && u.enabled) {
        let listed: HashSet<&str> = unit.miners.iter().map(String::as_str).collect();
        for miner in config.miners.iter().filter(|m| listed.contains(m.id.as_str())) {
            for &(id, sim) in miner.controllers.iter().filter_map(|c| simulated.get(c.as_str())) {
                if seen.insert(id) {
                    loads.push(SimulatedMiner::new(id, sim, Some(miner), world));
                }
            }
        }
    }
    loads
}

/// The battery neither charges nor discharges faster than this (W).
const BATTERY_MAX_POWER: f64 = 5000.0;
/// Charge kept in reserve: the battery does not discharge below it (%).
const BATTERY_RESERVE: f64 = 10.0;
/// Longest step integrated at once; longer gaps are taken as this.
const MAX_STEP: i64 = 3600;

/// PV output at an instant: clear-sky from the sun's elevation, dimmed by clouds.
fn pv_power(peak: f64, (latitude, longitude): (f64, f64), at: i64, weather: Weather) -> f64 {
    let elevation = sun::position(latitude, longitude, at).elevation;
    if elevation <= 0.0 {
        return 0.0;
    }
    let clear_sky = elevation.to_radians().sin().powf(1.2);
    let cloud = match weather {
        Weather::Sunny => 0.8 + 0.2 * noise((at / 900) as u64),
        Weather::Cloudy => 0.15 + 0.25 * noise((at / 900) as u64 ^ 0x5EED),
        Weather::Variable => {
            let sun = noise((at / 600) as u64 ^ 0xC10D) > 0.45;
            if sun { 0.85 + 0.15 * noise((at / 300) as u64) } else { 0.2 + 0.2 * noise((at / 300) as u64) }
        }
    };
    (peak * clear_sky * cloud).round()
}

fn house_load(base: f64, at: i64) -> f64 {
    (base * (0.9 + 0.2 * noise((at / 600) as u64 ^ 0xABCD))).round()
}

pub struct SimulatedMonitor<'a> {
    source: String,
    peak: f64,
    house_load: f64,
    capacity: f64,
    location: (f64, f64),
    weather: Weather,
    trace: Option<std::sync::Arc<crate::core::simulation::Trace>>,
    loads: Vec<SimulatedMiner<'a>>,
    world: &'a SimWorld,
}

impl<'a> SimulatedMonitor<'a> {
    pub fn new(
        source: &EnergySource,
        config: &SimulatedMonitorConfig,
        location: (f64, f64),
        loads: Vec<SimulatedMiner<'a>>,
        world: &'a SimWorld,
    ) -> Self {
        SimulatedMonitor {
            source: source.id.clone(),
            peak: config.peak_power.or(source.nominal_power_max).unwrap_or(5000.0),
            house_load: config.house_load.unwrap_or(400.0),
            capacity: config.battery_capacity.or(source.storage_capacity).unwrap_or(0.0),
            location,
            weather: config.weather,
            trace: config.trace.clone(),
            loads,
            world,
        }
    }

    /// (production, house) at `now`: the trace's row, else the models.
    fn roof_and_house(&self, now: i64) -> (f64, f64) {
        match self.trace.as_ref().and_then(|t| t.at(now)) {
            Some(point) => (point.production, point.consumption),
            None => (pv_power(self.peak, self.location, now, self.weather), house_load(self.house_load, now)),
        }
    }

    fn miners_power(&self, now: i64) -> f64 {
        self.loads.iter().map(|miner| miner.drawn(now)).sum()
    }

    /// Integrates the battery from its last step to `now`; returns (soc, battery power).
    fn battery(&self, now: i64, net: f64) -> (f64, f64) {
        let first = self.trace.as_ref().and_then(|t| t.points.first()?.battery_soc).unwrap_or(50.0);
        let previous = self.world.battery(&self.source).unwrap_or(SimBattery { soc: first, at: now });
        let step = (now - previous.at).clamp(0, MAX_STEP) as f64 / 3600.0;
        let power = if net > 0.0 && previous.soc < 100.0 {
            net.min(BATTERY_MAX_POWER)
        } else if net < 0.0 && previous.soc > BATTERY_RESERVE {
            net.max(-BATTERY_MAX_POWER)
        } else {
            0.0
        };
        let soc = (previous.soc + power * step / self.capacity * 100.0).clamp(0.0, 100.0);
        // A clock that went backwards keeps the later instant, so time never runs twice.
        self.world.set_battery(&self.source, SimBattery { soc, at: now.max(previous.at) });
        (soc, power)
    }
}

impl EnergyMonitor for SimulatedMonitor<'_> {
    fn read(&self, call: &Call) -> Result<EnergyReading, InputError> {
        let now = call.now;
        let (production, consumption) = self.roof_and_house(now);
        let net = production - consumption - self.miners_power(now);
        let (soc, battery_power) = if self.capacity > 0.0 { self.battery(now, net) } else { (f64::NAN, 0.0) };
        let has_battery = self.capacity > 0.0;
        Ok(EnergyReading {
            production: Some(production),
            consumption: Some(consumption),
            grid: Some((battery_power - net).round()),
            battery_soc: has_battery.then(|| (soc * 10.0).round() / 10.0),
            battery_power: has_battery.then_some(battery_power.round()),
            battery_remaining: has_battery.then(|| (soc / 100.0 * self.capacity).round()),
            at: now,
            problems: Vec::new(),
        })
    }
}

/// A forecast that knows the simulated PV curve (without the clouds).
pub struct SimulatedForecast {
    peak: f64,
    location: (f64, f64),
}

impl SimulatedForecast {
    pub fn new(source: &EnergySource, config: &SimulatedMonitorConfig, location: (f64, f64)) -> Self {
        SimulatedForecast { peak: config.peak_power.or(source.nominal_power_max).unwrap_or(5000.0), location }
    }

    fn average(&self, from: i64, to: i64) -> f64 {
        let samples: Vec<f64> =
            (0..12).map(|i| pv_power(self.peak, self.location, from + (to - from) * i / 12, Weather::Sunny)).collect();
        (samples.iter().sum::<f64>() / samples.len() as f64 / 0.9).round()
    }
}

impl ForecastProvider for SimulatedForecast {
    fn read(&self, call: &Call) -> Result<ForecastReading, InputError> {
        let now = call.now;
        Ok(ForecastReading {
            next_hour_power: Some(self.average(now + 3600, now + 7200)),
            avg_next_4_hours_power: Some(self.average(now, now + 4 * 3600)),
            next_hour_energy: Some(self.average(now + 3600, now + 7200)),
            at: now,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn call(now: i64) -> Call<'static> {
        Call::new(now, Instant::now() + Duration::from_secs(5), Duration::from_secs(5))
    }

    fn at(text: &str) -> i64 {
        crate::core::time::parse_instant(text).unwrap().as_second()
    }

    fn source() -> EnergySource {
        EnergySource {
            id: "roof".into(),
            at: "energy_sources[0]".into(),
            name: None,
            source_type: crate::config::model::EnergySourceType::Solar,
            nominal_power_max: Some(6000.0),
            storage_capacity: Some(10_000.0),
            monitor: crate::config::model::Component {
                id: String::new(),
                type_name: MONITOR.info.name,
                settings: std::sync::Arc::new(SimulatedMonitorConfig::default()),
                timeout: None,
                at: "energy_sources[0].monitor".into(),
            },
            forecast: None,
            consumption_includes_miners: false,
        }
    }

    #[test]
    fn pv_follows_the_day() {
        let milan = (45.46, 9.19);
        assert_eq!(pv_power(6000.0, milan, at("2026-06-21T01:00:00Z"), Weather::Sunny), 0.0);
        let noon = pv_power(6000.0, milan, at("2026-06-21T11:30:00Z"), Weather::Sunny);
        assert!(noon > 4000.0, "{noon}");
        assert!(pv_power(6000.0, milan, at("2026-06-21T06:00:00Z"), Weather::Sunny) < noon);
    }

    #[test]
    fn battery_charges_with_surplus_across_reads() {
        let world = SimWorld::default();
        let monitor =
            SimulatedMonitor::new(&source(), &SimulatedMonitorConfig::default(), (45.46, 9.19), vec![], &world);
        let first = monitor.read(&call(at("2026-06-21T10:00:00Z"))).unwrap();
        assert_eq!(first.battery_soc, Some(50.0));
        let later = monitor.read(&call(at("2026-06-21T10:30:00Z"))).unwrap();
        assert!(later.battery_soc.unwrap() > 50.0, "{later:?}");
        assert!(later.battery_power.unwrap() > 0.0);
    }

    #[test]
    fn clock_going_back_does_not_integrate_backwards() {
        let world = SimWorld::default();
        let monitor =
            SimulatedMonitor::new(&source(), &SimulatedMonitorConfig::default(), (45.46, 9.19), vec![], &world);
        monitor.read(&call(at("2026-06-21T12:00:00Z"))).unwrap();
        let soc = world.battery("roof").unwrap().soc;
        monitor.read(&call(at("2026-06-21T08:00:00Z"))).unwrap();
        assert_eq!(world.battery("roof").unwrap().soc, soc);
    }
}
