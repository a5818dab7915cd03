//! `simulate` (SPEC §20): the config's units run over an energy trace with simulated miners,
//! through the same pipeline as `run` (`cycle::run`, with its rules, `for:` timers, guards,
//! safety and allocation), one cycle per step with `--now`-style clocks. No device, broker or
//! service is contacted: the config is rewritten so every energy source is the simulated roof
//! (a weather preset, or the trace), every miner a simulated one made from its own config,
//! and notifiers, publishers, trackers and the market are left out. The state is a database
//! in memory, fresh for each simulation: the config's own is never opened.

pub mod plot;
pub mod trace;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::config::Loaded;
use crate::config::model::Component;
use crate::core::simulation::{MinerTotals, Prices, Step, Totals, Trace, account, settle};
use crate::devices::simulated::SimulatedControllerConfig;
use crate::energy::simulated::{SimulatedMonitorConfig, Weather};

/// What the simulation replays.
#[derive(Debug, Clone)]
pub enum Sky {
    Weather(Weather),
    /// One trace (a CSV file) for every energy source.
    Trace(Arc<Trace>),
    /// What the state database recorded, per energy source.
    Recorded(BTreeMap<String, Arc<Trace>>),
}

impl Sky {
    /// The trace an energy source replays, if any.
    fn trace_of(&self, source: &str) -> Option<Arc<Trace>> {
        match self {
            Sky::Weather(_) => None,
            Sky::Trace(trace) => Some(trace.clone()),
            Sky::Recorded(traces) => traces.get(source).cloned(),
        }
    }
}

/// A simulation's span, step and inputs.
#[derive(Debug, Clone)]
pub struct Options {
    pub from: i64,
    pub to: i64,
    /// Seconds between cycles.
    pub step: i64,
    pub sky: Sky,
    pub prices: Prices,
}

/// A start, a stop or a target change, for the plot.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Event {
    pub at: i64,
    pub miner: String,
    /// `start`, `stop` or `target`.
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub watts: Option<f64>,
}

/// One unit's simulated span.
#[derive(Debug, Clone, serde::Serialize)]
pub struct UnitResult {
    pub id: String,
    pub currency: Option<String>,
    pub totals: Totals,
    pub miners: BTreeMap<String, MinerTotals>,
    /// Each cycle's instant and its decision per miner, as `run` reports them.
    pub decisions: Vec<(i64, Vec<(String, String)>)>,
    pub steps: Vec<Step>,
    pub events: Vec<Event>,
}

/// Runs the simulation of `loaded`'s units.
pub fn simulate(loaded: &Loaded, options: &Options) -> Result<Vec<UnitResult>, String> {
    if options.step <= 0 || options.to <= options.from {
        return Err("the span is empty: --to must come after --from, with a positive --step".into());
    }
    let simulated = simulated_config(loaded, &options.sky);
    let mut store = crate::state::Store::in_memory()?;
    let zone = crate::core::time::time_zone(loaded.config.settings.timezone.as_deref())?;
    let mut units: Vec<UnitResult> = loaded
        .config
        .units
        .iter()
        .filter(|u| u.enabled)
        .map(|u| UnitResult {
            id: u.id.clone(),
            currency: loaded.config.tariffs.as_ref().map(|t| t.currency.clone()),
            totals: Totals::default(),
            miners: u.miners.iter().map(|m| (m.clone(), MinerTotals::default())).collect(),
            decisions: Vec::new(),
            steps: Vec::new(),
            events: Vec::new(),
        })
        .collect();
    let mut at = options.from;
    while at < options.to {
        let seconds = (options.step.min(options.to - at)) as f64;
        let now = jiff::Timestamp::from_second(at).map_err(|e| e.to_string())?;
        let run = crate::cycle::RunOptions { now: Some(now), ..Default::default() };
        let report = crate::cycle::run_on(&simulated, &run, &mut store).map_err(|f| f.message)?;
        let prices = step_prices(loaded, &options.sky, at, &zone);
        for unit in &report.units {
            let Some(result) = units.iter_mut().find(|u| u.id == unit.id) else { continue };
            record_step(result, unit, at, seconds, prices);
        }
        at += options.step;
    }
    for unit in &mut units {
        settle(&mut unit.totals, options.prices);
    }
    Ok(units)
}

/// The config as the simulation runs it.
fn simulated_config(loaded: &Loaded, sky: &Sky) -> Loaded {
    let mut loaded = loaded.clone();
    let config = &mut loaded.config;
    config.settings.metrics_file = None;
    // Simulated devices answer at once: polling them in turn spares a thread per job.
    config.settings.concurrency = 1;
    let weather = match sky {
        Sky::Weather(weather) => *weather,
        _ => Weather::Sunny,
    };
    for source in &mut config.energy_sources {
        let old = source.monitor.settings.downcast::<SimulatedMonitorConfig>().cloned().unwrap_or_default();
        let monitor = SimulatedMonitorConfig { weather, trace: sky.trace_of(&source.id), ..old };
        source.monitor = simulated_component(&source.monitor, Arc::new(monitor));
        // Only the simulated roof's own forecast is offline.
        if source.forecast.as_ref().is_some_and(|f| f.type_name != "simulated") {
            source.forecast = None;
        }
    }
    let mut controllers = Vec::new();
    for miner in &mut config.miners {
        let simulated = |id: &String| {
            config
                .controllers
                .iter()
                .any(|c| &c.id == id && c.settings.downcast::<SimulatedControllerConfig>().is_some())
        };
        if !miner.controllers.is_empty() && miner.controllers.iter().all(simulated) {
            continue;
        }
        let id = format!("simulated-{}", miner.id);
        let settings = SimulatedControllerConfig {
            power: miner.power_max,
            hashrate: miner.hashrate_max,
            power_min: miner.power_min,
            ..Default::default()
        };
        controllers.push(Component {
            id: id.clone(),
            type_name: "simulated",
            settings: Arc::new(settings),
            timeout: None,
            at: miner.at.clone(),
        });
        miner.controllers = vec![id];
        miner.features = Vec::new();
    }
    config.controllers.extend(controllers);
    let features: BTreeMap<String, _> =
        config.controllers.iter().map(|c| (c.id.clone(), c.settings.features())).collect();
    for miner in &config.miners {
        if let Ok(bound) =
            crate::core::binding::bind(&miner.controllers, &miner.features, |id| features.get(id).cloned())
        {
            config.bindings.insert(miner.id.clone(), bound);
        }
    }
    config.trackers.clear();
    config.notifiers.clear();
    config.publishers.clear();
    config.market = None;
    config.tariffs = None;
    for unit in &mut config.units {
        unit.tracker = None;
        unit.notifiers.clear();
        unit.publishers.clear();
        unit.home_loads = None;
        unit.climate_zones.clear();
    }
    loaded
}

fn simulated_component(old: &Component, settings: Arc<SimulatedMonitorConfig>) -> Component {
    Component { id: old.id.clone(), type_name: "simulated", settings, timeout: None, at: old.at.clone() }
}

/// The import and feed-in prices at `at`: the trace's, else the config's fixed or scheduled
/// tariffs (a price read from a sensor is not known offline).
fn step_prices(loaded: &Loaded, sky: &Sky, at: i64, zone: &jiff::tz::TimeZone) -> (Option<f64>, Option<f64>) {
    let point = match sky {
        Sky::Trace(trace) => trace.at(at).copied(),
        _ => None,
    };
    let zoned = jiff::Timestamp::from_second(at).ok().map(|t| t.to_zoned(zone.clone()));
    let tariff = |price: Option<&crate::core::tariff::Price>| match (price?, zoned.as_ref()) {
        (crate::core::tariff::Price::Fixed(value), _) => Some(*value),
        (price, Some(zoned)) => crate::core::tariff::price_at(price.slots()?, zoned),
        _ => None,
    };
    let tariffs = loaded.config.tariffs.as_ref();
    (
        point.and_then(|p| p.import_price).or_else(|| tariff(tariffs.and_then(|t| t.import.as_ref()))),
        point.and_then(|p| p.feed_in_price).or_else(|| tariff(tariffs.and_then(|t| t.feed_in.as_ref()))),
    )
}

/// Adds one cycle's report of a unit to its results.
fn record_step(
    result: &mut UnitResult,
    unit: &crate::cycle::outcome::UnitOutcome,
    at: i64,
    seconds: f64,
    prices: (Option<f64>, Option<f64>),
) {
    let energy = unit.energy.clone().unwrap_or_default();
    let number = |pointer: &str| energy.pointer(pointer).and_then(serde_json::Value::as_f64);
    let step = Step {
        at,
        seconds,
        production: number("/production").unwrap_or(0.0),
        house: number("/consumption/current_power").unwrap_or(0.0),
        miners: unit
            .miners
            .iter()
            .map(|m| (m.id.clone(), m.power.unwrap_or(0.0), m.hash_rate.unwrap_or(0.0)))
            .collect(),
        grid: number("/grid/current_power").unwrap_or(0.0),
        battery: number("/battery/current_power").unwrap_or(0.0),
        soc: number("/battery/state_of_charge"),
        prices,
    };
    account(&mut result.totals, &step);
    for miner in &unit.miners {
        let totals = result.miners.entry(miner.id.clone()).or_default();
        let hours = seconds / 3600.0;
        if miner.status == crate::core::status::MinerStatus::On {
            totals.hours_mining += hours;
        }
        totals.kwh += miner.power.unwrap_or(0.0) * hours / 1000.0;
        totals.th_hours += miner.hash_rate.unwrap_or(0.0) * hours;
        let Some(action) = miner.action.as_ref().filter(|a| a.ok || a.unknown) else { continue };
        let (kind, count) = match action.kind.as_str() {
            "start_mining" | "power_on" => ("start", &mut totals.starts),
            "stop_mining" | "power_off" => ("stop", &mut totals.stops),
            "set_power_target" => ("target", &mut totals.target_changes),
            _ => continue,
        };
        *count += 1;
        result.events.push(Event { at, miner: miner.id.clone(), kind, watts: action.watts });
    }
    result.decisions.push((at, unit.miners.iter().map(|m| (m.id.clone(), m.decision.name().to_string())).collect()));
    result.steps.push(step);
}
