//! One control cycle (SPEC §1), as a short pipeline:
//! load → poll → context → decide → guard → act → record → report.
//!
//! `load` happens before (the caller hands over a loaded config); each later stage is a
//! function of its own module. State that must survive the process is read at the start
//! and written at the end, in transactions.

pub mod act;
pub mod evaluate;
pub mod outcome;
pub mod poll;
pub mod record;
pub mod report;
pub mod scope;

use std::collections::BTreeMap;
use std::time::Instant;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::config::Loaded;
use crate::core::context::ControlFacts;
use crate::core::status::MinerStatus;
use crate::cycle::act::{Command, one_per_miner, plan};
use crate::cycle::evaluate::{Evaluation, Knowledge, evaluate};
use crate::cycle::outcome::RunReport;
use crate::cycle::poll::{Inputs, miner_bindings};
use crate::cycle::scope::Scope;
use crate::devices::Call;
use crate::exit::{self, Failure};
use crate::fetch::Fetcher;
use crate::rules::model::Decision;
use crate::state::{Store, lock};

#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub dry_run: bool,
    pub units: Vec<String>,
    pub miners: Vec<String>,
    /// `--now`: the instant the cycle pretends it is.
    pub now: Option<Timestamp>,
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

    pub fn format(&self, at: i64) -> String {
        crate::core::time::rfc3339_in(Timestamp::from_second(at).unwrap_or_default(), &self.zone)
    }

    /// Unix second of the start of the current day in the configured zone.
    pub fn day_start(&self) -> i64 {
        Timestamp::from_second(self.now)
            .ok()
            .and_then(|t| t.to_zoned(self.zone.clone()).start_of_day().ok())
            .map_or(self.now - self.now.rem_euclid(86_400), |z| z.timestamp().as_second())
    }

    pub fn call(&self, loaded: &Loaded) -> Call {
        let settings = &loaded.config.settings;
        Call { now: self.now, deadline: self.started + settings.deadline.0, timeout: settings.timeout.0 }
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

/// Runs one full cycle.
pub fn run(loaded: &Loaded, options: &RunOptions) -> Result<RunReport, Failure> {
    let clock = Clock::new(loaded, options.now)?;
    let config = &loaded.config;
    let scope = Scope::select(config, &options.units, &options.miners).map_err(|m| Failure::new(exit::USAGE, m))?;
    let (_lock, mut store) = open_locked(loaded)?;
    let fatal = |m: String| Failure::new(exit::FATAL, m);
    let run_id = store.transaction(|c| crate::state::begin_run(c, clock.now, options.dry_run)).map_err(fatal)?;
    let world = crate::state::load_sim(&store.conn).map_err(|e| fatal(e.to_string()))?;
    let fetcher = Fetcher::load(&store.conn).map_err(|e| fatal(e.to_string()))?;
    let controllers = crate::devices::build(config, &world);
    let call = clock.call(loaded);
    let inputs = poll::poll(config, &scope, &controllers, &poll::Sources { world: &world, fetcher: &fetcher }, &call);
    let mut evaluation = decide(loaded, &scope, &inputs, &store, &clock)?;
    if !options.dry_run {
        let commands = commands(loaded, &scope, &inputs, &mut evaluation);
        let outcomes =
            act::execute(&mut store, config, &commands, &controllers, &call, &world, false).map_err(fatal)?;
        attach(&mut evaluation, &commands, outcomes);
    }
    let report = report::assemble(&clock, options.dry_run, evaluation, store.recovered_from.as_deref());
    let memory = record::Memory { world: &world, fetcher: &fetcher };
    record::record(&mut store, loaded, &clock, run_id, &report, options.dry_run, &memory).map_err(fatal)?;
    Ok(report)
}

/// Context and decide, with what the database remembers.
pub fn decide(
    loaded: &Loaded,
    scope: &Scope,
    inputs: &Inputs,
    store: &Store,
    clock: &Clock,
) -> Result<Evaluation, Failure> {
    let fatal = |e: rusqlite::Error| Failure::new(exit::FATAL, format!("state database: {e}"));
    let timers = crate::state::load_timers(&store.conn).map_err(fatal)?;
    let control = control_facts(store, inputs, clock).map_err(fatal)?;
    let format = |at: i64| clock.format(at);
    let knowledge =
        Knowledge { now: clock.now, format_instant: &format, rules: &loaded.rules, timers: &timers, control: &control };
    Ok(evaluate(&loaded.config, scope, inputs, &knowledge))
}

/// The `control` section of each miner, from the observed status and the action log.
fn control_facts(store: &Store, inputs: &Inputs, clock: &Clock) -> rusqlite::Result<BTreeMap<String, ControlFacts>> {
    let observed = crate::state::load_observed(&store.conn)?;
    let day_start = clock.day_start();
    let mut facts = BTreeMap::new();
    for (miner, state) in &inputs.miners {
        let since = match observed.get(miner) {
            Some((status, since)) if status == state.status.name() && *since <= clock.now => *since,
            _ => clock.now,
        };
        let stats = crate::state::command_stats(&store.conn, miner, day_start)?;
        let running = matches!(state.status, MinerStatus::On);
        let idle = matches!(state.status, MinerStatus::Off);
        facts.insert(
            miner.clone(),
            ControlFacts {
                on_for: running.then_some(clock.now - since),
                off_for: idle.then_some(clock.now - since),
                switches_today: stats.today,
                last_action: stats.last.as_ref().map(|(action, _)| action.clone()),
                last_action_at: stats.last.as_ref().map(|(_, at)| clock.format(*at)),
                pending: false,
            },
        );
    }
    Ok(facts)
}

/// Guard and plan: the commands the decisions call for, at most one per miner.
fn commands(loaded: &Loaded, scope: &Scope, inputs: &Inputs, evaluation: &mut Evaluation) -> Vec<Command> {
    let mut commands = Vec::new();
    for unit in &evaluation.units {
        let Some(unit_config) = scope.units.iter().find(|u| u.id == unit.id) else { continue };
        for outcome in &unit.miners {
            if outcome.decision == Decision::MaintainState {
                continue;
            }
            let Some(miner) = scope.miners.iter().find(|m| m.id == outcome.id) else { continue };
            let Some(state) = inputs.miners.get(&miner.id) else { continue };
            let bindings = miner_bindings(&loaded.config, miner);
            match plan(outcome.decision, state.status, state.reading.relay_on, &bindings, unit_config.stop_mode) {
                Ok(Some((kind, controller))) => commands.push(Command {
                    unit: Some(unit.id.clone()),
                    miner: miner.id.clone(),
                    kind,
                    controller,
                    decision: outcome.decision,
                    reason: outcome.reason.clone(),
                }),
                Ok(None) => {}
                Err(message) => evaluation.errors.push(format!("miner `{}`: cannot act: {message}", miner.id)),
            }
        }
    }
    one_per_miner(commands)
}

/// Puts each command's outcome on its miner's line.
fn attach(evaluation: &mut Evaluation, commands: &[Command], outcomes: Vec<outcome::ActionOutcome>) {
    for (command, action) in commands.iter().zip(outcomes) {
        let unit = evaluation.units.iter_mut().find(|u| Some(&u.id) == command.unit.as_ref());
        if let Some(miner) = unit.and_then(|u| u.miners.iter_mut().find(|m| m.id == command.miner)) {
            if let Some(error) = &action.error {
                miner.errors.push(format!("{} via `{}` failed: {error}", action.kind, command.controller));
            }
            miner.action = Some(action);
        }
    }
}
