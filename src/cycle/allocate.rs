//! Allocate (SPEC §17.2–17.4): for each unit with an `allocation:` block, build its energy
//! balance and candidates from the cycle's readings and decisions, call the pure
//! [`crate::core::allocation`], and turn its shares into decisions, targets and context.
//!
//! Runs between decide and guard, so the guards (holds, hysteresis, the stagger) still apply
//! to the starts and stops it asks for.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::config::Config;
use crate::config::model::{Miner, Unit};
use crate::core::allocation::{
    Allocation, AllocationState, Balance, Budget, Candidate, Share, StartStop, Wish, allocate, budget,
};
use crate::core::context::{ContextFacts, committed_power, power_range};
use crate::core::reading::MinerState;
use crate::core::status::MinerStatus;
use crate::cycle::evaluate::{Evaluated, Evaluation};
use crate::cycle::memory::Memory;
use crate::cycle::outcome::{MinerOutcome, Reason, ReasonKind};
use crate::cycle::poll::Inputs;
use crate::cycle::scope::Scope;
use crate::rules::model::Decision;

/// Shares each allocation unit's budget; records the state to persist in `evaluation`.
pub fn allocate_units(config: &Config, scope: &Scope, inputs: &Inputs, memory: &Memory, evaluation: &mut Evaluation) {
    let mut states = Vec::new();
    for Evaluated { unit, outcome } in &mut evaluation.units {
        let Some(settings) = &unit.allocation else { continue };
        relieve_import(settings, unit, inputs, &mut outcome.miners);
        let (shares, budget) = share_unit(config, scope, inputs, memory, settings, unit, &outcome.miners);
        outcome.allocation = Some(unit_section(settings, budget.as_ref()));
        for share in &shares.shares {
            if let Some(miner) = outcome.miners.iter_mut().find(|m| m.id == share.id) {
                apply(settings, miner, share, budget.as_ref());
            }
        }
        states.push((unit.id.clone(), shares.state));
    }
    evaluation.allocations = states;
}

/// The unit's budget and its shares, from its miners' outcomes.
fn share_unit(
    config: &Config,
    scope: &Scope,
    inputs: &Inputs,
    memory: &Memory,
    settings: &Allocation,
    unit: &Unit,
    miners: &[MinerOutcome],
) -> (crate::core::allocation::Shares, Option<Budget>) {
    let now = inputs.now;
    let unknown = MinerState::default();
    let mut taking_part = Vec::new();
    let mut fixed = 0.0;
    for miner in miners {
        let Some(config_miner) = scope.miner(&miner.id) else { continue };
        let state = inputs.miners.get(&miner.id).unwrap_or(&unknown);
        match candidate(settings, unit, config_miner, state, miner, scope, memory, now) {
            Some(candidate) => taking_part.push(candidate),
            None => fixed += state.drawn(),
        }
    }
    fixed += other_units_power(scope, unit, inputs);
    let budget = balance(config, scope, unit, inputs).and_then(|b| budget(settings, &b)).map(|b| less(b, fixed));
    let previous = memory.allocation.get(&unit.id).cloned().unwrap_or_default();
    (allocate(settings, budget.as_ref(), &taking_part, &previous, now), budget)
}

/// What the rules of a `start_stop: rules` unit see as `allocation.*` (SPEC §17.4): each
/// miner's share were every readable miner to take part, before the rules decide. Only for
/// units whose rules read `allocation.*`; the final allocation follows the rules' decisions.
pub fn preview(
    config: &Config,
    scope: &Scope,
    inputs: &Inputs,
    memory: &Memory,
    evaluation: &Evaluation,
    rules: &[(String, crate::rules::model::RuleSet)],
) -> BTreeMap<String, Value> {
    let mut sections = BTreeMap::new();
    for Evaluated { unit, outcome } in &evaluation.units {
        let Some(settings) = &unit.allocation else { continue };
        let reads = rules
            .iter()
            .find(|(id, _)| id == &unit.id)
            .is_some_and(|(_, set)| set.field_paths().iter().any(|(_, field)| field.text.starts_with("allocation.")));
        if !reads {
            continue;
        }
        let every_miner = Allocation { start_stop: StartStop::Auto, ..settings.clone() };
        let (shares, budget) = share_unit(config, scope, inputs, memory, &every_miner, unit, &outcome.miners);
        for share in shares.shares {
            let mut section = unit_section(settings, budget.as_ref());
            if let Some(map) = section.as_object_mut() {
                map.insert("share".into(), json!(round(share.share)));
            }
            sections.insert(share.id, section);
        }
    }
    sections
}

/// SPEC §24: over `max_grid_import`, safety stops an allocation unit's miners in reverse
/// strategy order only until the expected import is under the limit; the rest stay on (and
/// the allocation lowers them).
fn relieve_import(settings: &Allocation, unit: &Unit, inputs: &Inputs, miners: &mut [MinerOutcome]) {
    let (Some(limit), Some(grid)) = (
        unit.safety.max_grid_import,
        inputs.energy.get(&unit.energy_source).and_then(|r| r.as_ref().ok()).and_then(|e| e.grid),
    ) else {
        return;
    };
    let import_stop = |m: &MinerOutcome| {
        m.reason.kind == ReasonKind::Safety
            && m.reason.name.as_deref().is_some_and(|n| n.starts_with("max_grid_import"))
    };
    let mut stopping: Vec<usize> = (0..miners.len()).filter(|i| import_stop(&miners[*i])).collect();
    if settings.strategy == crate::core::allocation::Strategy::Efficiency {
        let efficiency = |i: usize| miners[i].facts.efficiency.unwrap_or(0.0);
        stopping.sort_by(|a, b| efficiency(*b).total_cmp(&efficiency(*a)));
    } else {
        stopping.reverse();
    }
    let mut expected = grid.max(0.0);
    for i in stopping {
        if expected <= limit {
            miners[i].decision = Decision::MaintainState;
            miners[i].reason = Reason::none();
        } else {
            expected -= miners[i].power.unwrap_or(0.0).max(0.0);
        }
    }
}

/// The miner as the allocation sees it, or `None` when it does not take part (then it is
/// counted at what it draws): held by hand, not commanded by this run, unreadable, stopped
/// by a rule or safety, or (in `rules` mode) off without a rule starting it.
#[allow(clippy::too_many_arguments)]
fn candidate(
    settings: &Allocation,
    unit: &Unit,
    miner: &Miner,
    state: &MinerState,
    outcome: &MinerOutcome,
    scope: &Scope,
    memory: &Memory,
    now: i64,
) -> Option<Candidate> {
    let held = memory.holds.get(&miner.id).is_some_and(|until| *until > now);
    // An intent this reading already fulfils no longer holds anything back.
    let intent = memory.intents.get(&miner.id).filter(|intent| {
        crate::cycle::verify::reached_intent(intent, state, &unit.guards.power_tolerance) != Some(true)
    });
    let pending_start = intent.is_some_and(|i| i.command.starts()) && state.status != MinerStatus::On;
    let running = matches!(state.status, MinerStatus::On | MinerStatus::Starting) || pending_start;
    let forced = matches!(outcome.reason.kind, ReasonKind::Safety)
        || (outcome.decision == Decision::StopMining && running)
        || outcome.reason.name.as_deref() == Some("miner unreadable");
    let wanted = running || settings.start_stop == StartStop::Auto || outcome.decision == Decision::StartMining;
    if held || forced || !wanted || !scope.commands(&miner.id) || state.status == MinerStatus::Unknown {
        return None;
    }
    let (min, max) = power_range(miner, &state.reading);
    let adjustable = state.reading.power_target.is_some() && !state.target_restarts;
    let measured = if pending_start { Some(committed_power(miner, &state.reading, true)) } else { state.reading.power };
    let pending_up = intent.is_some_and(|i| i.command.starts() || i.watts.is_some());
    let measured = match intent.and_then(|i| i.watts) {
        Some(watts) if pending_up => Some(measured.map_or(watts, |m| m.max(watts))),
        _ => measured,
    };
    let (min, max) = if adjustable {
        (min?, max?)
    } else {
        let fixed = if running { measured.or(max)? } else { max? };
        (fixed, fixed)
    };
    Some(Candidate {
        id: miner.id.clone(),
        running,
        measured,
        target: state.reading.power_target.and_then(|t| t.watts),
        min: min.min(max),
        max,
        adjustable,
        efficiency: crate::core::economics::efficiency(
            state.reading.power,
            state.reading.hashrate,
            (Some(max), miner.hashrate_max),
        ),
        may_raise: !pending_up && !near_chip_limit(unit, &outcome.facts),
    })
}

/// SPEC §24: a miner within 5 °C of `max_chip_temperature` is never raised.
fn near_chip_limit(unit: &Unit, facts: &ContextFacts) -> bool {
    let Some(limit) = unit.safety.max_chip_temperature else { return false };
    facts.chip_temperature.is_some_and(|chip| chip >= limit - 5.0)
}

/// What the miners of the other units on the same energy source draw: the house load of
/// this unit's budget.
fn other_units_power(scope: &Scope, unit: &Unit, inputs: &Inputs) -> f64 {
    scope
        .units
        .iter()
        .filter(|other| other.id != unit.id && other.energy_source == unit.energy_source)
        .flat_map(|other| scope.unit_miners(other))
        .filter_map(|miner| inputs.miners.get(&miner.id))
        .map(MinerState::drawn)
        .sum()
}

/// The energy balance of the unit's source, with every miner on it (P_m).
fn balance(config: &Config, scope: &Scope, unit: &Unit, inputs: &Inputs) -> Option<Balance> {
    let energy = inputs.energy.get(&unit.energy_source)?.as_ref().ok()?;
    let source = config.energy_sources.iter().find(|s| s.id == unit.energy_source)?;
    let miners_power = scope
        .units
        .iter()
        .filter(|u| u.energy_source == unit.energy_source)
        .flat_map(|u| scope.unit_miners(u))
        .filter_map(|miner| inputs.miners.get(&miner.id))
        .map(MinerState::drawn)
        .sum();
    Some(Balance {
        miners_power,
        grid: energy.grid,
        production: energy.production,
        consumption: energy.consumption,
        battery_power: energy.battery_power,
        battery_soc: energy.battery_soc,
        consumption_includes_miners: source.consumption_includes_miners,
    })
}

/// The budget less what miners outside the allocation draw.
fn less(budget: Budget, fixed: f64) -> Budget {
    Budget {
        before_reserve: budget.before_reserve - fixed,
        available: budget.available - fixed,
        miners_power: budget.miners_power - fixed,
        ..budget
    }
}

fn round(watts: f64) -> f64 {
    watts.round()
}

/// `allocation.{budget, available, mode, strategy}` of a unit.
fn unit_section(settings: &Allocation, budget: Option<&Budget>) -> Value {
    let mut section = json!({
        "mode": settings.start_stop,
        "strategy": settings.strategy,
    });
    if let (Some(budget), Some(map)) = (budget, section.as_object_mut()) {
        map.insert("budget".into(), json!(round(budget.before_reserve)));
        map.insert("available".into(), json!(round(budget.available)));
        map.insert("basis".into(), json!(budget.basis));
    }
    section
}

/// Puts a share on its miner: the context's `allocation` section, the report, and the
/// decision it calls for.
fn apply(settings: &Allocation, miner: &mut MinerOutcome, share: &Share, budget: Option<&Budget>) {
    let mut section = unit_section(settings, budget);
    if let Some(map) = section.as_object_mut() {
        map.insert("share".into(), json!(round(share.share)));
    }
    if let Some(context) = miner.context.as_mut().and_then(Value::as_object_mut) {
        context.insert("allocation".into(), section);
    }
    let reason = |why: &str| Reason { kind: ReasonKind::Allocation, name: Some(why.to_string()) };
    match share.wish {
        Wish::Start if settings.start_stop == StartStop::Auto && miner.decision != Decision::StartMining => {
            miner.decision = Decision::StartMining;
            miner.reason = reason(&share.why);
        }
        Wish::Start => {}
        Wish::Wait { .. } | Wish::Off if miner.decision == Decision::StartMining => {
            crate::cycle::guard::hold_back(miner, format!("allocation: {}", share.why));
        }
        Wish::Stop => {
            miner.decision = Decision::StopMining;
            miner.reason = reason(&share.why);
        }
        _ if share.target.is_some() && miner.reason.kind == ReasonKind::None => miner.reason = reason(&share.why),
        _ => {}
    }
    miner.allocation = Some(share.clone());
}

/// The allocation states this cycle leaves, per unit (for `record`).
pub type States = Vec<(String, AllocationState)>;
