//! Context and decide: build each miner's decisional context, evaluate its unit's rules,
//! and apply the safety limits. Pure over the polled inputs.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::config::Config;
use crate::config::model::{Miner, Unit};
use crate::core::context::{ContextFacts, ContextInputs, ControlFacts, build, committed_power};
use crate::core::economics::EconomicsInputs;
use crate::core::performance::to_context;
use crate::core::reading::{FeatureState, MinerState};
use crate::core::status::MinerStatus;
use crate::core::{safety, sun};
use crate::cycle::outcome::{InputStatus, MinerOutcome, Problem, Reason, ReasonKind, UnitOutcome};
use crate::cycle::poll::Inputs;
use crate::cycle::scope::Scope;
use crate::rules::decide::{Timers, decide};
use crate::rules::model::{Decision, RuleSet};
use crate::transport::InputError;

/// What evaluation needs besides the polled inputs.
pub struct Knowledge<'a> {
    pub now: i64,
    /// The configured zone (tariff schedules).
    pub zone: &'a jiff::tz::TimeZone,
    pub format_instant: &'a dyn Fn(i64) -> String,
    pub rules: &'a [(String, RuleSet)],
    pub timers: &'a BTreeMap<(String, String), Timers>,
    pub control: &'a BTreeMap<String, ControlFacts>,
    /// Each unit's `home_load` and `climate` sections.
    pub home: &'a BTreeMap<String, (Option<Value>, Option<Value>)>,
    /// The `allocation` section each miner's rules see, where they read it.
    pub allocation: &'a BTreeMap<String, Value>,
    /// Keep every miner's whole context in its outcome (`run --explain`, `context`).
    pub keep_contexts: bool,
}

/// Decisions for every unit, plus the `for:` timers to keep.
pub struct Evaluation<'a> {
    pub units: Vec<Evaluated<'a>>,
    pub inputs: Vec<InputStatus>,
    pub timers: Vec<(String, String, Timers)>,
    pub errors: Vec<Problem>,
    /// The allocation state each allocation unit leaves (persisted unless a dry run).
    pub allocations: crate::cycle::allocate::States,
    /// Home-load samples and thermostats observed (recorded, even in a dry run).
    pub observations: crate::cycle::home::Observations,
}

/// A unit's outcome with the unit it is about, so later stages need not find it again.
pub struct Evaluated<'a> {
    pub unit: &'a Unit,
    pub outcome: UnitOutcome,
}

pub fn evaluate<'a>(config: &Config, scope: &Scope<'a>, inputs: &Inputs, knowledge: &Knowledge) -> Evaluation<'a> {
    let mut evaluation = Evaluation {
        units: Vec::new(),
        inputs: input_statuses(inputs),
        timers: Vec::new(),
        errors: input_errors(inputs, knowledge.format_instant),
        allocations: Vec::new(),
        observations: Default::default(),
    };
    let economics = crate::cycle::economics::inputs(config, inputs, knowledge.zone, knowledge.now);
    for unit in &scope.units {
        let outcome = evaluate_unit(config, unit, scope, inputs, knowledge, economics.as_ref(), &mut evaluation.timers);
        evaluation.units.push(Evaluated { unit, outcome });
    }
    evaluation
}

/// Whether each input was read, and how old its data is.
fn input_statuses(inputs: &Inputs) -> Vec<InputStatus> {
    let now = inputs.now;
    let mut statuses = Vec::new();
    for (id, result) in &inputs.energy {
        let (up, age) = match result {
            Ok(reading) => (reading.problems.is_empty(), Some((now - reading.at).max(0))),
            Err(_) => (false, None),
        };
        statuses.push(InputStatus { kind: "energy", id: id.clone(), up, age });
    }
    for (id, result) in &inputs.forecast {
        let age = result.as_ref().ok().map(|f| (now - f.at).max(0));
        statuses.push(InputStatus { kind: "forecast", id: id.clone(), up: result.is_ok(), age });
    }
    for (id, tracked) in &inputs.performance {
        let age = tracked.snapshot.as_ref().map(|s| (now - s.fetched_at).max(0));
        statuses.push(InputStatus { kind: "tracker", id: id.clone(), up: tracked.problem.is_none(), age });
    }
    for (id, state) in &inputs.miners {
        let up = state.failures.is_empty() && state.status != MinerStatus::Unknown;
        statuses.push(InputStatus { kind: "miner", id: id.clone(), up, age: up.then_some(0) });
    }
    statuses
}

/// One problem per failed input, naming it and why, instants in the configured zone.
fn input_errors(inputs: &Inputs, format_instant: &dyn Fn(i64) -> String) -> Vec<Problem> {
    let render = |error: &InputError| error.render(&|instant| format_instant(instant.as_second()));
    let problem = |subject: String, error: &InputError, line: String| Problem { subject, kind: Some(error.kind), line };
    let mut errors = Vec::new();
    for (id, result) in &inputs.energy {
        let subject = format!("energy_source/{id}");
        match result {
            Err(error) => errors.push(problem(subject, error, format!("energy source `{id}`: {}", render(error)))),
            Ok(reading) => errors.extend(reading.problems.iter().map(|error| {
                let line = format!("energy source `{id}`: {}", render(error));
                problem(format!("{subject}/{}", error.message), error, line)
            })),
        }
    }
    for (id, result) in &inputs.forecast {
        if let Err(error) = result {
            errors.push(problem(format!("forecast/{id}"), error, format!("forecast of `{id}`: {}", render(error))));
        }
    }
    for (id, tracked) in &inputs.performance {
        let Some(error) = &tracked.problem else { continue };
        let line = match &tracked.snapshot {
            Some(snapshot) if snapshot.stale => format!(
                "tracker `{id}`: {}; serving data {} s old",
                render(error),
                (inputs.now - snapshot.fetched_at).max(0)
            ),
            Some(_) => format!("tracker `{id}`: {}", render(error)),
            None => {
                format!("tracker `{id}`: {}; no pool data (rules over mining_performance are false)", render(error))
            }
        };
        errors.push(problem(format!("tracker/{id}"), error, line));
    }
    if let Some(error) = inputs.market.as_ref().and_then(|m| m.problem.as_ref()) {
        let line = match &inputs.market {
            Some(market) if market.facts.stale => {
                format!("{}; serving market data {} s old", render(error), market.facts.age.unwrap_or(0))
            }
            Some(market) if market.facts.is_empty() => {
                format!("{}; no market data (rules over economics are false)", render(error))
            }
            _ => render(error),
        };
        errors.push(problem("market".into(), error, line));
    }
    for (kind, result) in &inputs.prices {
        if let Err(error) = result {
            errors.push(problem(format!("tariff/{kind}"), error, format!("tariff `{kind}`: {}", render(error))));
        }
    }
    for (series, result) in &inputs.loads {
        if let Err(error) = result {
            errors.push(problem(
                format!("home_load/{series}"),
                error,
                format!("home load `{series}`: {}", render(error)),
            ));
        }
    }
    for (series, result) in &inputs.backfills {
        if let Err(error) = result {
            let line = format!("home load `{series}`: backfill from Home Assistant's history: {}", render(error));
            errors.push(problem(format!("home_load/{series}/backfill"), error, line));
        }
    }
    for (zone, result) in &inputs.zones {
        if let Err(error) = result {
            errors.push(problem(format!("climate/{zone}"), error, format!("climate zone `{zone}`: {}", render(error))));
        }
    }
    for (id, state) in &inputs.miners {
        for (controller, error) in &state.failures {
            let line = format!("miner `{id}` via controller `{controller}`: {}", render(error));
            errors.push(problem(format!("miner/{id}/{controller}"), error, line));
        }
    }
    errors
}

fn evaluate_unit(
    config: &Config,
    unit: &Unit,
    scope: &Scope,
    inputs: &Inputs,
    knowledge: &Knowledge,
    economics: Option<&EconomicsInputs>,
    timers_out: &mut Vec<(String, String, Timers)>,
) -> UnitOutcome {
    let source = config.energy_sources.iter().find(|s| s.id == unit.energy_source);
    let energy = inputs.energy.get(&unit.energy_source).and_then(|r| r.as_ref().ok());
    let forecast = inputs.forecast.get(&unit.energy_source).and_then(|r| r.as_ref().ok());
    let tracked = unit.tracker.as_ref().and_then(|t| inputs.performance.get(t)).and_then(|t| t.snapshot.as_ref());
    let sun = match (config.settings.latitude, config.settings.longitude) {
        (Some(lat), Some(lon)) => Some(sun::position(lat, lon, knowledge.now)),
        _ => None,
    };
    let rules = knowledge.rules.iter().find(|(id, _)| id == &unit.id).map(|(_, set)| set);
    let economics = economics.map(|shared| crate::cycle::economics::for_unit(shared, tracked));
    let mut outcome = UnitOutcome {
        id: unit.id.clone(),
        energy: None,
        forecast: None,
        tracker: None,
        economics: None,
        allocation: None,
        mode: crate::core::mode::UnitMode::Auto.name(),
        miners: Vec::new(),
        market: None,
    };
    let Some(source) = source else { return outcome };
    let home = knowledge.home.get(&unit.id);
    let unknown = MinerState::default();
    let no_control = ControlFacts::default();
    let miners = scope.unit_miners(unit);
    let committed: Vec<f64> = miners
        .iter()
        .map(|miner| {
            let state = inputs.miners.get(&miner.id).unwrap_or(&unknown);
            let pending_start = knowledge.control.get(&miner.id).is_some_and(|c| c.pending_start);
            match state.status {
                MinerStatus::On => committed_power(miner, &state.reading, false),
                MinerStatus::Starting => committed_power(miner, &state.reading, true),
                _ if pending_start => committed_power(miner, &state.reading, true),
                _ => 0.0,
            }
        })
        .collect();
    let total_committed: f64 = committed.iter().sum();
    let mut decided_starts = 0.0;
    for (miner, own) in miners.iter().copied().zip(&committed) {
        let state = inputs.miners.get(&miner.id).unwrap_or(&unknown);
        let context = build(&ContextInputs {
            now: knowledge.now,
            timestamp: (knowledge.format_instant)(knowledge.now),
            source: source.facts(),
            energy,
            forecast,
            sun,
            miner,
            state,
            performance: tracked.map(|t| to_context(t, knowledge.now, miner.worker.as_deref())),
            control: knowledge.control.get(&miner.id).unwrap_or(&no_control),
            economics: economics.as_ref(),
            others_power: total_committed - own + decided_starts,
            home_load: home.and_then(|(h, _)| h.as_ref()),
            allocation: knowledge.allocation.get(&miner.id),
            climate: home.and_then(|(_, c)| c.as_ref()),
            format_instant: knowledge.format_instant,
        });
        if outcome.miners.is_empty() {
            outcome.energy = context.get("energy_state").cloned();
            outcome.forecast = context.get("forecast").cloned();
        }
        let previous = knowledge.timers.get(&(unit.id.clone(), miner.id.clone())).cloned().unwrap_or_default();
        let mut miner_outcome = decide_miner(unit, miner, state, &context, rules, knowledge.now, &previous, timers_out);
        miner_outcome.context = knowledge.keep_contexts.then_some(context);
        if miner_outcome.decision == Decision::StartMining && *own == 0.0 {
            decided_starts += committed_power(miner, &state.reading, true);
        }
        outcome.miners.push(miner_outcome);
    }
    outcome.economics = economics.as_ref().and_then(|e| crate::cycle::economics::unit_summary(&outcome.miners, e));
    if !outcome.miners.is_empty() {
        // The section every miner sees, without a miner's own revenue (no efficiency).
        outcome.market = economics.as_ref().map(|e| crate::core::economics::section(e, None));
    }
    outcome.tracker =
        tracked.map(|t| json!({"id": t.tracker, "stale": t.stale, "age": (knowledge.now - t.fetched_at).max(0)}));
    outcome
}

#[allow(clippy::too_many_arguments)]
fn decide_miner(
    unit: &Unit,
    miner: &Miner,
    state: &MinerState,
    context: &Value,
    rules: Option<&RuleSet>,
    now: i64,
    previous: &Timers,
    timers_out: &mut Vec<(String, String, Timers)>,
) -> MinerOutcome {
    let empty = RuleSet::default();
    let verdict = decide(rules.unwrap_or(&empty), context, state.status, now, previous);
    timers_out.push((unit.id.clone(), miner.id.clone(), verdict.timers.clone()));
    let mut decision = verdict.decision;
    let mut reason = match &verdict.rule {
        Some(rule) => Reason { kind: ReasonKind::Rule, name: Some(rule.clone()) },
        None => Reason::none(),
    };
    // A miner that could not be read at all is left alone: no command on a value never read.
    if state.status == MinerStatus::Unknown && !state.failures.is_empty() {
        decision = Decision::MaintainState;
        reason = Reason { kind: ReasonKind::Guard, name: Some("miner unreadable".into()) };
    }
    if let Some(limit) = safety::violated(&unit.safety, context) {
        let running = matches!(state.status, MinerStatus::On | MinerStatus::Starting);
        if running || decision == Decision::StartMining {
            decision = if running { Decision::StopMining } else { Decision::MaintainState };
            reason = Reason { kind: ReasonKind::Safety, name: Some(limit) };
        }
    }
    MinerOutcome {
        id: miner.id.clone(),
        status: state.status,
        hash_rate: state.reading.hashrate,
        power: state.reading.power,
        power_target: state.reading.power_target.map(|t| json!({"watts": t.watts, "min": t.min, "max": t.max})),
        held_rule: (decision == Decision::MaintainState && verdict.decision != Decision::MaintainState)
            .then(|| verdict.rule.clone())
            .flatten(),
        decision,
        reason,
        action: None,
        errors: state.failures.iter().map(|(c, r)| format!("controller `{c}`: {r}")).collect(),
        features_without_value: state.empty_features().iter().map(|f| f.name()).collect(),
        feature_up: state.features.iter().map(|(f, s)| (f.name(), *s == FeatureState::Up)).collect(),
        context: None,
        facts: ContextFacts::of(context),
        waiting: verdict.waiting,
        allocation: None,
    }
}
