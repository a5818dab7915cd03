//! Poll: read every input the selected units need, in parallel, under one deadline.
//!
//! Each miner is read feature by feature from its best provider; when a provider fails,
//! the next candidate for the same feature is tried in the same cycle (runtime failover).

use std::collections::BTreeMap;

use crate::config::Config;
use crate::config::model::{EnergySource, Miner};
use crate::core::binding::candidates;
use crate::core::feature::FeatureType;
use crate::core::reading::{EnergyReading, FeatureState, ForecastReading, MinerReading, MinerState};
use crate::core::status::{MinerStatus, derive_status};
use crate::core::tariff::Price;
use crate::cycle::scope::Scope;
use crate::devices::Controllers;
use crate::market::MarketRead;
use crate::sim::SimWorld;
use crate::trackers::Tracked;
use crate::transport::cgminer::Opening;
use crate::transport::fetch::Fetcher;
use crate::transport::{Call, InputError};

/// What polling needs besides the config: the simulated world and the cached HTTP client.
pub struct Sources<'a> {
    pub world: &'a SimWorld,
    pub fetcher: &'a Fetcher,
    /// The home-load samples remembered per series: an empty series may be backfilled.
    pub samples: &'a BTreeMap<String, Vec<crate::core::home_load::Sample>>,
}

/// Everything the poll stage read (or why it could not).
#[derive(Debug, Default)]
pub struct Inputs {
    /// The cycle's instant (unix seconds).
    pub now: i64,
    pub energy: BTreeMap<String, Result<EnergyReading, InputError>>,
    pub forecast: BTreeMap<String, Result<ForecastReading, InputError>>,
    pub performance: BTreeMap<String, Tracked>,
    pub miners: BTreeMap<String, MinerState>,
    /// The market, when the config has one.
    pub market: Option<MarketRead>,
    /// Tariff prices read from sensors this cycle, by `import` / `feed_in`.
    pub prices: BTreeMap<&'static str, Result<f64, InputError>>,
    /// Each home-load appliance's power, by its series (`<profile>/<device>`).
    pub loads: BTreeMap<String, Result<f64, InputError>>,
    /// Each climate zone's temperature (°C) and humidity, by name.
    pub zones: BTreeMap<String, Result<crate::home::ZoneValues, InputError>>,
    /// The history backfilled from Home Assistant for a series seen for the first time.
    pub backfills: BTreeMap<String, Result<Vec<crate::core::home_load::Sample>, InputError>>,
}

impl Inputs {
    /// (controller, setting, W) of each miner mining at a lever setting with its power
    /// measured and its firmware not still tuning: what the lever model learns from.
    pub fn lever_readings(&self) -> Vec<(String, f64, f64)> {
        self.miners
            .values()
            .filter(|state| state.status == crate::core::status::MinerStatus::On)
            .filter_map(|state| {
                let target = state.reading.power_target.filter(|t| !t.settling)?;
                let power = state.reading.power.filter(|w| *w > 0.0)?;
                Some((state.sources.get("power_target")?.clone(), target.lever?, power))
            })
            .collect()
    }
}

enum Job<'a> {
    Energy(&'a EnergySource),
    Forecast(&'a EnergySource),
    Tracker(&'a str),
    Miner(&'a Miner),
    Market,
    Price(&'static str, &'a Price),
    Device(&'a crate::home::HomeLoadProfile, &'a crate::home::LoadDevice),
    Backfill(&'a crate::home::HomeLoadProfile, &'a crate::home::LoadDevice),
    Zone(&'a crate::home::ClimateZone),
}

enum Answer {
    Energy(String, Result<EnergyReading, InputError>),
    Forecast(String, Result<ForecastReading, InputError>),
    Tracker(String, Tracked),
    Miner(String, MinerState),
    Market(MarketRead),
    Price(&'static str, Result<f64, InputError>),
    Device(String, Result<f64, InputError>),
    Backfill(String, Option<Result<Vec<crate::core::home_load::Sample>, InputError>>),
    Zone(String, Result<crate::home::ZoneValues, InputError>),
}

pub fn poll(config: &Config, scope: &Scope, controllers: &Controllers, sources: &Sources, call: &Call) -> Inputs {
    let mut jobs: Vec<Job> = Vec::new();
    jobs.extend(scope.sources.iter().map(|s| Job::Energy(s)));
    jobs.extend(scope.sources.iter().filter(|s| s.forecast.is_some()).map(|s| Job::Forecast(s)));
    jobs.extend(scope.trackers.iter().map(|t| Job::Tracker(t.as_str())));
    jobs.extend(scope.miners.iter().map(|m| Job::Miner(m)));
    if let Some(tariffs) = &config.tariffs {
        if config.market.is_some() {
            jobs.push(Job::Market);
        }
        for (kind, price) in [("import", &tariffs.import), ("feed_in", &tariffs.feed_in)] {
            if let Some(price @ (Price::Sensor { .. } | Price::Http { .. })) = price {
                jobs.push(Job::Price(kind, price));
            }
        }
    }
    jobs.extend(home_jobs(config, scope, sources.samples));
    let answers = run_jobs(config, &jobs, controllers, sources, call);
    let mut inputs = Inputs { now: call.now, ..Inputs::default() };
    for answer in answers {
        match answer {
            Answer::Energy(id, result) => drop(inputs.energy.insert(id, result)),
            Answer::Forecast(id, result) => drop(inputs.forecast.insert(id, result)),
            Answer::Tracker(id, result) => drop(inputs.performance.insert(id, result)),
            Answer::Miner(id, state) => drop(inputs.miners.insert(id, state)),
            Answer::Market(read) => inputs.market = Some(read),
            Answer::Price(kind, price) => drop(inputs.prices.insert(kind, price)),
            Answer::Device(series, watts) => drop(inputs.loads.insert(series, watts)),
            Answer::Backfill(series, Some(points)) => drop(inputs.backfills.insert(series, points)),
            Answer::Backfill(_, None) => {}
            Answer::Zone(name, values) => drop(inputs.zones.insert(name, values)),
        }
    }
    inputs
}

/// Runs the jobs. The miners read by one CGMiner multi-command alone are sent it all at once
/// over one poll loop (`cgminer::prime`) and parsed on a thread per core, while every other
/// job has a thread of its own (up to `concurrency`), as has a miner whose firmware refused
/// the multi-command and must be asked command by command.
fn run_jobs(config: &Config, jobs: &[Job], controllers: &Controllers, sources: &Sources, call: &Call) -> Vec<Answer> {
    let concurrency = config.settings.concurrency;
    let mut primable: Vec<&Job> = Vec::new();
    let mut openings = Vec::new();
    let mut others: Vec<&Job> = Vec::new();
    for job in jobs {
        match job {
            Job::Miner(miner) => match opening_of(config, miner, controllers, call) {
                Some(opening) => {
                    primable.push(job);
                    openings.push(opening);
                }
                None => others.push(job),
            },
            _ => others.push(job),
        }
    }
    let run = |jobs: &[&Job], workers: usize, call: &Call| {
        crate::parallel::map(jobs, workers, |job| run_job(config, job, controllers, sources, call))
    };
    // The other jobs' threads hold connections too.
    let in_flight = concurrency.saturating_sub(others.len()).min(crate::parallel::room_for_connections()).max(1);
    std::thread::scope(|scope| {
        let others = scope.spawn(|| run(&others, concurrency, call));
        let mut answers = Vec::with_capacity(jobs.len());
        // In waves of `in_flight`, so that only one wave's replies are held at a time.
        for (jobs, openings) in primable.chunks(in_flight).zip(openings.chunks(in_flight)) {
            let primed = crate::transport::cgminer::prime(openings, in_flight, crate::parallel::cores(), call.deadline);
            // Those whose reply is in need no connection; a refusal is asked command by command.
            let (mut quick, mut slow): (Vec<&Job>, Vec<&Job>) = (Vec::new(), Vec::new());
            for (job, opening) in jobs.iter().zip(openings) {
                if primed.ready(opening) { quick.push(job) } else { slow.push(job) }
            }
            let call = call.with_primed(&primed);
            answers.extend(run(&quick, crate::parallel::cores(), &call));
            answers.extend(run(&slow, concurrency, &call));
        }
        // A job that panicked has no answer, as when a worker thread fails.
        answers.extend(others.join().unwrap_or_default());
        answers
    })
}

/// The opening of a miner read from one CGMiner-API controller alone, and nothing else.
fn opening_of<'c>(config: &Config, miner: &Miner, controllers: &'c Controllers, call: &Call) -> Option<Opening<'c>> {
    let bindings = config.bindings_of(&miner.id);
    let first = bindings.first()?;
    if bindings.iter().any(|b| b.controller != first.controller) {
        return None;
    }
    let controller = controllers.get(&first.controller)?;
    let budget = controller.call(call).budget()?;
    controller.inner.monitor()?.opening(budget)
}

fn run_job(config: &Config, job: &Job, controllers: &Controllers, sources: &Sources, call: &Call) -> Answer {
    let world = sources.world;
    match job {
        Job::Energy(source) => {
            let build = crate::energy::Build { config, source, world, fetcher: sources.fetcher };
            let result = match crate::energy::build_monitor(&build) {
                Some(monitor) => monitor.read(&call.with_timeout(source.monitor.timeout)),
                None => Err(unsupported("energy monitor")),
            };
            Answer::Energy(source.id.clone(), result)
        }
        Job::Forecast(source) => {
            let build = crate::energy::Build { config, source, world, fetcher: sources.fetcher };
            let timeout = source.forecast.as_ref().and_then(|f| f.timeout);
            let result = match crate::energy::build_forecast(&build) {
                Some(provider) => provider.read(&call.with_timeout(timeout)),
                None => Err(unsupported("forecast")),
            };
            Answer::Forecast(source.id.clone(), result)
        }
        Job::Tracker(id) => {
            let tracked = match crate::trackers::build(config, id, world, sources.fetcher) {
                Some(tracker) => tracker.inner.snapshot(&tracker.call(call)),
                None => Tracked { snapshot: None, problem: Some(unsupported("tracker")) },
            };
            Answer::Tracker(id.to_string(), tracked)
        }
        Job::Miner(miner) => Answer::Miner(miner.id.clone(), poll_miner(config, miner, controllers, call)),
        Job::Market => {
            let currency = config.tariffs.as_ref().map_or("USD", |t| t.currency.as_str());
            let read = match crate::market::build(config, sources.fetcher) {
                Some(market) => market.inner.read(currency, &market.call(call)),
                None => MarketRead { problem: Some(unsupported("market")), ..MarketRead::default() },
            };
            Answer::Market(read)
        }
        Job::Price(kind, price) => Answer::Price(kind, read_price(config, price, call)),
        Job::Device(profile, device) => Answer::Device(
            crate::cycle::home::device_series(&profile.id, &device.name),
            crate::home::read_device(config, device, call),
        ),
        Job::Backfill(profile, device) => {
            let window = (call.now - crate::home::backfill_span(profile), call.now);
            Answer::Backfill(
                crate::cycle::home::device_series(&profile.id, &device.name),
                crate::home::read_history(config, device, window, call),
            )
        }
        Job::Zone(zone) => Answer::Zone(zone.name.clone(), crate::home::read_zone(config, zone, call)),
    }
}

/// The appliances and climate zones of the units in scope, each once, and the backfill of
/// an appliance with no history yet.
fn home_jobs<'a>(
    config: &'a Config,
    scope: &Scope,
    samples: &BTreeMap<String, Vec<crate::core::home_load::Sample>>,
) -> Vec<Job<'a>> {
    let mut jobs = Vec::new();
    let mut profiles: Vec<&str> = scope.units.iter().filter_map(|u| u.home_loads.as_deref()).collect();
    profiles.sort_unstable();
    profiles.dedup();
    for profile in config.home_loads.iter().filter(|p| profiles.contains(&p.id.as_str())) {
        jobs.extend(profile.devices.iter().map(|device| Job::Device(profile, device)));
        let unknown = |d: &crate::home::LoadDevice| {
            samples.get(&crate::cycle::home::device_series(&profile.id, &d.name)).is_none_or(Vec::is_empty)
        };
        let backfilled = profile.devices.iter().filter(|d| profile.backfill && unknown(d));
        jobs.extend(backfilled.map(|device| Job::Backfill(profile, device)));
    }
    let zones: Vec<&String> = scope.units.iter().flat_map(|u| &u.climate_zones).collect();
    jobs.extend(config.climate_zones.iter().filter(|z| zones.contains(&&z.name)).map(Job::Zone));
    jobs
}

/// A tariff price held by a sensor: a Home Assistant entity or a value in an HTTP reply.
fn read_price(config: &Config, price: &Price, call: &Call) -> Result<f64, InputError> {
    use crate::home::sensor;
    match price {
        Price::Sensor { service, entity } => sensor::entity(config, service, entity, false, call).map(|(v, _)| v),
        Price::Http { url, jsonpath, headers } => {
            let value = sensor::HttpValue { url: url.clone(), jsonpath: jsonpath.clone(), headers: headers.clone() };
            sensor::http(&value, call)
        }
        Price::Fixed(_) | Price::Slots(_) | Price::Schedule { .. } => {
            Err(InputError::new(crate::transport::ErrorKind::Unavailable, "the price sensor has no value"))
        }
    }
}

/// A component the registry could not build (what it refers to is missing).
fn unsupported(what: &str) -> InputError {
    InputError::not_configured(format!("the {what} could not be built from its config"))
}

/// Reads one miner: its plug first (an open relay means `off`, nothing else to read), then
/// every readable feature from its best provider, failing over to the next on error.
pub fn poll_miner(config: &Config, miner: &Miner, controllers: &Controllers, call: &Call) -> MinerState {
    let bindings = config.bindings_of(&miner.id);
    let mut state = MinerState::default();
    let mut merged = MinerReading::default();
    let mut failed: Vec<String> = Vec::new();
    let mut pending: Vec<FeatureType> =
        FeatureType::READABLE.into_iter().filter(|feature| !candidates(bindings, *feature).is_empty()).collect();
    let all_readable = pending.clone();
    let mut tried: BTreeMap<FeatureType, usize> = BTreeMap::new();
    if let Some(plug) = candidates(bindings, FeatureType::PowerControl).first() {
        // One request to the plug: its relay, and whatever it is the first provider of.
        let primary: Vec<FeatureType> = pending
            .iter()
            .copied()
            .filter(|f| candidates(bindings, *f).first().is_some_and(|b| b.controller == plug.controller))
            .collect();
        let wanted: Vec<FeatureType> =
            std::iter::once(FeatureType::PowerControl).chain(primary.iter().copied()).collect();
        match read(controllers, &plug.controller, &wanted, call) {
            Ok(reading) if reading.relay_on == Some(false) => {
                state.status = MinerStatus::Off;
                state.reading.relay_on = Some(false);
                state.sources.insert("status".into(), plug.controller.clone());
                return state;
            }
            Ok(reading) => {
                merged.relay_on = reading.relay_on;
                tried.extend(primary.iter().map(|f| (*f, 1)));
                absorb(&reading, &plug.controller, &primary, &mut merged, &mut state, &mut pending);
            }
            Err(reason) => {
                state.failures.push((plug.controller.clone(), reason));
                failed.push(plug.controller.clone());
            }
        }
    }
    while !pending.is_empty() {
        // This round: each pending feature's next untried, not failed provider.
        let mut round: BTreeMap<String, Vec<FeatureType>> = BTreeMap::new();
        for feature in &pending {
            let options = candidates(bindings, *feature);
            let start = tried.get(feature).copied().unwrap_or(0);
            if let Some((offset, binding)) =
                options.iter().enumerate().skip(start).find(|(_, b)| !failed.contains(&b.controller))
            {
                tried.insert(*feature, offset + 1);
                round.entry(binding.controller.clone()).or_default().push(*feature);
            }
        }
        if round.is_empty() {
            break;
        }
        for (controller, features) in round {
            match read(controllers, &controller, &features, call) {
                Ok(reading) => absorb(&reading, &controller, &features, &mut merged, &mut state, &mut pending),
                Err(reason) => {
                    state.failures.push((controller.clone(), reason));
                    failed.push(controller);
                }
            }
        }
    }
    state.features = feature_states(bindings, &pending, &failed, &all_readable);
    read_target(controllers, bindings, &failed, call, &mut merged, &mut state);
    state.status = merged.status.unwrap_or_else(|| derive_status(merged.hashrate, merged.power));
    if merged.status.is_none() && merged.hashrate.is_some() {
        let source = state.sources.get("hash_rate").cloned().unwrap_or_default();
        state.sources.insert("status".into(), source);
    }
    state.reading = merged;
    state
}

/// The power target and bounds, from the miner's `power_target_control` provider.
fn read_target(
    controllers: &Controllers,
    bindings: &[crate::core::binding::Binding],
    failed: &[String],
    call: &Call,
    merged: &mut MinerReading,
    state: &mut MinerState,
) {
    let Some(binding) =
        candidates(bindings, FeatureType::PowerTargetControl).into_iter().find(|b| !failed.contains(&b.controller))
    else {
        return;
    };
    let Some(built) = controllers.get(&binding.controller) else { return };
    let Some(control) = built.inner.power_target() else { return };
    match control.target(&built.call(call)) {
        Ok(target) => {
            merged.power_target = Some(target);
            state.target_restarts = control.restarts();
            state.sources.insert("power_target".into(), binding.controller.clone());
        }
        // A firmware without power targets is not a failed input.
        Err(error) if error.kind == crate::transport::ErrorKind::NotConfigured => {}
        Err(error) => state.failures.push((binding.controller.clone(), error)),
    }
}

/// Each bound feature's state: up when read; empty when a provider of it answered without
/// the value; failed when every provider failed.
fn feature_states(
    bindings: &[crate::core::binding::Binding],
    pending: &[FeatureType],
    failed: &[String],
    all: &[FeatureType],
) -> Vec<(FeatureType, FeatureState)> {
    all.iter()
        .map(|feature| {
            let state = if !pending.contains(feature) {
                FeatureState::Up
            } else if candidates(bindings, *feature).iter().any(|b| !failed.contains(&b.controller)) {
                FeatureState::Empty
            } else {
                FeatureState::Failed
            };
            (*feature, state)
        })
        .collect()
}

/// Keeps the features a reading provides, naming the controller as their source.
fn absorb(
    reading: &MinerReading,
    controller: &str,
    features: &[FeatureType],
    merged: &mut MinerReading,
    state: &mut MinerState,
    pending: &mut Vec<FeatureType>,
) {
    for feature in features {
        if take(*feature, reading, merged) {
            record_sources(*feature, controller, state);
            pending.retain(|f| f != feature);
        }
    }
}

fn read(
    controllers: &Controllers,
    id: &str,
    features: &[FeatureType],
    call: &Call,
) -> Result<MinerReading, InputError> {
    let controller = controllers.get(id);
    let monitor = controller
        .and_then(|c| c.inner.monitor())
        .ok_or_else(|| InputError::not_configured(format!("controller `{id}` cannot be read by this build")))?;
    let call = controller.map_or(*call, |c| c.call(call));
    if call.budget().is_none() {
        return Err(InputError::deadline());
    }
    monitor.read(features, &call)
}

/// Copies the fields a feature provides; false when the reading lacks them.
fn take(feature: FeatureType, from: &MinerReading, into: &mut MinerReading) -> bool {
    fn copy<T: Clone>(from: &Option<T>, into: &mut Option<T>) -> bool {
        if from.is_some() {
            *into = from.clone();
        }
        from.is_some()
    }
    use FeatureType::*;
    match feature {
        StatusMonitoring => copy(&from.status, &mut into.status),
        HashrateMonitoring => copy(&from.hashrate, &mut into.hashrate),
        PowerMonitoring => copy(&from.power, &mut into.power),
        HashboardMonitoring => copy(&from.hashboards, &mut into.hashboards),
        InletTemperatureMonitoring => copy(&from.inlet_temperature, &mut into.inlet_temperature),
        OutletTemperatureMonitoring => copy(&from.outlet_temperature, &mut into.outlet_temperature),
        FanSpeedInternalMonitoring => copy(&from.internal_fans, &mut into.internal_fans),
        FanSpeedExternalMonitoring => copy(&from.external_fan, &mut into.external_fan),
        OperationalMonitoring => {
            let uptime = copy(&from.uptime, &mut into.uptime);
            copy(&from.blocks_found, &mut into.blocks_found) || uptime
        }
        MaxPowerDetection => copy(&from.max_power, &mut into.max_power),
        MaxHashrateDetection => copy(&from.max_hashrate, &mut into.max_hashrate),
        DeviceInfoDetection => copy(&from.device_info, &mut into.device_info),
        MiningControl | PowerControl | InternalFanControl | ExternalFanControl | PowerTargetControl => false,
    }
}

/// The context fields a feature fills, for `miner_state.sources`.
fn record_sources(feature: FeatureType, controller: &str, state: &mut MinerState) {
    use FeatureType::*;
    let fields: &[&str] = match feature {
        StatusMonitoring => &["status"],
        HashrateMonitoring => &["hash_rate"],
        PowerMonitoring => &["power_consumption"],
        HashboardMonitoring => &["hashboards"],
        InletTemperatureMonitoring => &["inlet_temperature"],
        OutletTemperatureMonitoring => &["outlet_temperature"],
        FanSpeedInternalMonitoring => &["internal_fan_speed"],
        FanSpeedExternalMonitoring => &["external_fan_speed"],
        OperationalMonitoring => &["system_uptime", "blocks_found"],
        MaxPowerDetection => &["power_max"],
        MaxHashrateDetection => &["hashrate_max"],
        DeviceInfoDetection => &["device_info"],
        _ => &[],
    };
    for field in fields {
        state.sources.insert(field.to_string(), controller.to_string());
    }
}
