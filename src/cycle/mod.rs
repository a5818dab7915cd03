//! One control cycle (SPEC §1), as a short pipeline:
//! load → poll → context → decide → allocate → guard → act → record → report.
//!
//! `load` happens before (the caller hands over a loaded config); each later stage is a
//! function of its own module. What earlier invocations remembered is read once at the
//! start (`memory`) and what this one learned is written once at the end (`record`).

pub mod act;
pub mod allocate;
pub mod economics;
pub mod evaluate;
pub mod events;
pub mod guard;
pub mod home;
pub mod memory;
pub mod outcome;
pub mod plan;
pub mod poll;
pub mod publish;
pub mod record;
pub mod report;
pub mod scope;
pub mod verify;

use std::time::Instant;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::config::Loaded;
use crate::cycle::evaluate::{Evaluation, Knowledge, evaluate};
use crate::cycle::memory::Memory;
use crate::cycle::outcome::RunReport;
use crate::cycle::poll::Inputs;
use crate::cycle::scope::Scope;
use crate::exit::{self, Failure};
use crate::state::{Store, lock};
use crate::transport::Call;

#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub dry_run: bool,
    pub units: Vec<String>,
    pub miners: Vec<String>,
    /// `--now`: the instant the cycle pretends it is.
    pub now: Option<Timestamp>,
    /// Where to write Prometheus metrics (`--metrics-file`, else `settings.metrics_file`).
    pub metrics_file: Option<std::path::PathBuf>,
    /// Keep each miner's whole context in the report (`--explain` prints it).
    pub keep_contexts: bool,
}

/// The clock of a cycle: its instant and the configured zone.
pub struct Clock {
    pub now: i64,
    pub zone: TimeZone,
    pub started: Instant,
}

impl Clock {
    pub fn new(loaded: &Loaded, now: Option<Timestamp>) -> Result<Clock, Failure> {
        let zone = crate::core::time::time_zone(loaded.config.settings.timezone.as_deref())
            .map_err(|m| Failure::new(exit::CONFIG, m))?;
        Ok(Clock { now: now.unwrap_or_else(Timestamp::now).as_second(), zone, started: Instant::now() })
    }

    /// The clock of a command: `--now` as given (RFC 3339, or a local time in the configured
    /// zone), else the present.
    pub fn at(loaded: &Loaded, now: Option<&str>) -> Result<Clock, Failure> {
        let mut clock = Clock::new(loaded, None)?;
        if let Some(text) = now {
            let instant =
                crate::core::time::parse_instant_in(text, &clock.zone).map_err(|m| Failure::new(exit::USAGE, m))?;
            clock.now = instant.as_second();
        }
        Ok(clock)
    }

    /// A Unix second in the configured zone; one out of range says so instead of 1970.
    pub fn format(&self, at: i64) -> String {
        match Timestamp::from_second(at) {
            Ok(instant) => crate::core::time::rfc3339_in(instant, &self.zone),
            Err(_) => format!("(invalid instant {at})"),
        }
    }

    /// An input error in words, its instants in the configured zone.
    pub fn render(&self, error: &crate::transport::InputError) -> String {
        error.render(&|instant| crate::core::time::rfc3339_in(instant, &self.zone))
    }

    /// Unix second of the start of the current day in the configured zone.
    pub fn day_start(&self) -> i64 {
        Timestamp::from_second(self.now)
            .ok()
            .and_then(|t| t.to_zoned(self.zone.clone()).start_of_day().ok())
            .map_or(self.now - self.now.rem_euclid(86_400), |z| z.timestamp().as_second())
    }

    pub fn call(&self, loaded: &Loaded) -> Call<'static> {
        let settings = &loaded.config.settings;
        Call::new(self.now, self.started + settings.deadline.0, settings.timeout.0)
    }
}

/// Takes the run lock and opens the database: 75 when another run holds the lock, 3 when
/// either cannot be used.
pub fn open_locked(loaded: &Loaded) -> Result<(lock::RunLock, Store), Failure> {
    let state = &loaded.config.state;
    if let Some(dir) = state.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| Failure::new(exit::FATAL, format!("cannot create state directory {}: {e}", dir.display())))?;
    }
    let held = lock::acquire(state).map_err(|err| match err {
        lock::LockError::Busy => {
            Failure::new(exit::SKIPPED, "another edge-mining run holds the lock; skipping this cycle")
        }
        lock::LockError::Io(message) => Failure::new(exit::FATAL, message),
    })?;
    let store = Store::open(state).map_err(|m| Failure::new(exit::FATAL, m))?;
    Ok((held, store))
}

fn fatal(message: impl ToString) -> Failure {
    Failure::new(exit::FATAL, message.to_string())
}

/// Runs one full cycle, holding the run lock on the config's state database.
pub fn run(loaded: &Loaded, options: &RunOptions) -> Result<RunReport, Failure> {
    let (_lock, mut store) = open_locked(loaded)?;
    run_on(loaded, options, &mut store)
}

/// Runs one full cycle on an open state database (`simulate` keeps one in memory across
/// its cycles).
pub fn run_on(loaded: &Loaded, options: &RunOptions, store: &mut Store) -> Result<RunReport, Failure> {
    let clock = Clock::new(loaded, options.now)?;
    let config = &loaded.config;
    let scope = Scope::select(config, &options.units, &options.miners).map_err(|m| Failure::new(exit::USAGE, m))?;
    let rewound = crate::state::latest_run(&store.conn).map_err(fatal)?.filter(|last| *last > clock.now);
    let run_id = store.transaction(|c| crate::state::begin_run(c, clock.now, options.dry_run)).map_err(fatal)?;
    let mut memory = Memory::load(store, clock.day_start(), home::history_start(config, clock.now)).map_err(fatal)?;
    let call = clock.call(loaded);
    let publishers = crate::publish::build(config);
    let inbox = publish::receive(&publishers, config, &scope, &memory, &call);
    let modes = publish::modes(&scope, &publish::settings(&memory, &inbox, clock.now), clock.now);
    let targets = publish::targets(&publishers, &inbox, clock.now);
    // A target set on the dashboard keeps the rules and the allocation off the miner a while.
    memory.holds.extend(targets.iter().map(|(miner, _, until)| (miner.clone(), *until)));
    let memory = memory;
    let controllers = crate::devices::build(config, &memory.world, &memory.learned);
    let sources = poll::Sources { world: &memory.world, fetcher: &memory.fetcher, samples: &memory.samples };
    let inputs = poll::poll(config, &scope, &controllers, &sources, &call);
    let mut evaluation = decide(loaded, &scope, &inputs, &memory, &clock, options.keep_contexts);
    evaluation.errors.extend(inbox.problems.iter().cloned());
    guard::apply_modes(&modes, &inputs, &mut evaluation);
    let verifications = guard::verify_intents(config, &scope, &inputs, &memory, clock.now);
    guard::apply(&scope, &inputs, &memory, &verifications, &mut evaluation, clock.now);
    guard::report_ineffective_targets(&verifications, &inputs, &mut evaluation);
    let mut acted = act::Acted::default();
    let mut plan_warnings = Vec::new();
    let restored = if options.dry_run {
        Vec::new()
    } else {
        act::restore_thermal_management(store, &controllers, &call, &|at| clock.format(at))
    };
    if !options.dry_run {
        let planned = plan::commands(config, &scope, &inputs, &memory, &verifications, &mut evaluation, clock.now);
        let orders: Vec<(String, f64)> = targets.iter().map(|(miner, watts, _)| (miner.clone(), *watts)).collect();
        let (manual, warnings) = plan::dashboard_targets(config, &scope, &inputs, &orders);
        let (commands, refused) = guard::by_mode(plan::with_manual(planned, manual), &modes);
        plan_warnings.extend(warnings.into_iter().chain(refused));
        let outcomes =
            act::execute(store, config, &commands, &controllers, &call, &memory.world, false).map_err(fatal)?;
        act::attach(&mut evaluation, &commands, &outcomes);
        acted = act::Acted { commands, outcomes };
    }
    let mut report = report::assemble(&clock, options.dry_run, evaluation, store.recovered_from.as_deref());
    report.warnings.extend(inbox.warnings.iter().cloned().chain(plan_warnings));
    for line in restored {
        log::warn!("{line}");
        report.warnings.push(line);
    }
    if let Some(last) = rewound {
        let warning = format!(
            "this cycle ({}) is before the last one ({}): the clock went backwards (a real-clock run, then a --now day?); no samples are recorded and timers that would start in the future restart now",
            clock.format(clock.now),
            clock.format(last)
        );
        log::warn!("{warning}");
        report.warnings.push(warning);
    }
    let discovered = publish::publish(&publishers, config, &scope, &memory, &mut report, &modes, &call);
    let published = record::Published { inbox: &inbox, holds: &targets, discovered: &discovered };
    let changes = record::Changes { verifications: &verifications, acted: &acted, scope: &scope, published };
    record::record(store, loaded, &clock, run_id, &report, options.dry_run, &memory, &changes).map_err(fatal)?;
    if let Some(path) = options.metrics_file.as_ref().or(config.settings.metrics_file.as_ref()) {
        let last_success = crate::state::last_success(&store.conn).ok().flatten();
        let timing = crate::metrics::Timing {
            now: clock.now,
            duration_seconds: clock.started.elapsed().as_secs_f64(),
            last_success,
        };
        if let Err(message) = crate::metrics::write_atomically(path, &crate::metrics::render(&report, &timing)) {
            log::error!("metrics: {message}");
        }
    }
    if !options.dry_run {
        let events = events::events(&scope, &report, &verifications, &acted);
        let format = |at: i64| clock.format(at);
        let warnings = crate::notify::deliver(store, &crate::notify::build(config), &events, &call, &format);
        warnings.iter().for_each(|w| log::warn!("{w}"));
    }
    Ok(report)
}

/// Context, decide (rules and safety) and allocate, with what the database remembers. Each
/// miner's whole context is kept in its outcome only with `keep_contexts`.
pub fn decide<'a>(
    loaded: &Loaded,
    scope: &Scope<'a>,
    inputs: &Inputs,
    memory: &Memory,
    clock: &Clock,
    keep_contexts: bool,
) -> Evaluation<'a> {
    let format = |at: i64| clock.format(at);
    let control = inputs
        .miners
        .iter()
        .map(|(id, state)| (id.clone(), memory.control(id, state.status, clock.now, &format)))
        .collect();
    let home = home::build(&loaded.config, scope, inputs, memory, clock);
    let no_preview = std::collections::BTreeMap::new();
    let mut knowledge = Knowledge {
        allocation: &no_preview,
        home: &home.sections,
        now: clock.now,
        zone: &clock.zone,
        format_instant: &format,
        rules: &loaded.rules,
        timers: &memory.timers,
        control: &control,
        keep_contexts,
    };
    let mut evaluation = evaluate(&loaded.config, scope, inputs, &knowledge);
    // Rules that read `allocation.*` are judged again with this cycle's shares in view.
    let preview = allocate::preview(&loaded.config, scope, inputs, memory, &evaluation, &loaded.rules);
    if !preview.is_empty() {
        knowledge.allocation = &preview;
        evaluation = evaluate(&loaded.config, scope, inputs, &knowledge);
    }
    evaluation.observations = home.observations;
    evaluation.observations.levers = inputs.lever_readings();
    allocate::allocate_units(&loaded.config, scope, inputs, memory, &mut evaluation);
    evaluation
}
