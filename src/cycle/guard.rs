//! Guard: verify pending commands, then hold back decisions that hysteresis forbids
//! (`min_on`, `min_off`, `max_switches_per_day`, a pending command) and starts beyond the
//! stagger (`max_starts_per_cycle` per energy source, none while another start is
//! unverified). Safety stops pass `min_on` and the daily limit; stops are never staggered.
//! A unit's mode (`hold`, `off`) comes first, below safety only.

use std::collections::BTreeMap;

use crate::config::Config;
use crate::core::guards::hold;
use crate::core::mode::UnitMode;
use crate::core::status::MinerStatus;
use crate::cycle::evaluate::{Evaluated, Evaluation};
use crate::cycle::memory::Memory;
use crate::cycle::outcome::{Reason, ReasonKind};
use crate::cycle::poll::Inputs;
use crate::cycle::scope::Scope;
use crate::cycle::verify::{Verification, verify};
use crate::rules::model::Decision;

/// The verification of every pending intent of the miners in scope.
pub fn verify_intents(
    config: &Config,
    scope: &Scope,
    inputs: &Inputs,
    memory: &Memory,
    now: i64,
) -> Vec<(String, Verification)> {
    let mut verifications = Vec::new();
    for (miner_id, intent) in &memory.intents {
        let (Some(miner), Some(state)) = (scope.miner(miner_id), inputs.miners.get(miner_id)) else {
            continue;
        };

        let guards = scope.unit_of(intent.unit.as_deref(), miner_id).map(|u| u.guards.clone()).unwrap_or_default();
        let mut verification = verify(intent, state, config.bindings_of(&miner.id), &guards, now);
        // A miner this run may not command is still read: its start may be verified, but a
        // retry waits for a run that covers it.
        if !scope.commands(miner_id) && matches!(verification, Verification::FollowUp { .. }) {
            verification = Verification::Waiting;
        }
        verifications.push((miner_id.clone(), verification));
    }
    verifications
}

/// A power target the miner did not follow, even after its retry, is a problem of the cycle
/// (the report says so and the run exits 1).
pub fn report_ineffective_targets(
    verifications: &[(String, Verification)],
    inputs: &Inputs,
    evaluation: &mut Evaluation,
) {
    for (miner, verification) in verifications {
        let Verification::NotEffective(intent) = verification else { continue };
        if intent.command != crate::core::command::CommandKind::SetPowerTarget {
            continue;
        }
        let reading = inputs.miners.get(miner).map(|s| &s.reading);
        // What showed it: the measured power, else the target the firmware reports holding.
        let evidence = match (reading.and_then(|r| r.power), reading.and_then(|r| r.power_target?.watts)) {
            (Some(measured), _) => format!("measured {measured:.0} W"),
            (None, Some(held)) => format!("the firmware holds {held:.0} W"),
            (None, None) => "nothing measured".to_string(),
        };
        let line = format!(
            "miner `{miner}`: power target {} W not effective ({evidence}) after a retry",
            intent.watts.unwrap_or_default(),
        );
        evaluation.errors.push(crate::cycle::outcome::Problem::other(format!("miner/{miner}/target"), line));
    }
}

/// Turns held-back decisions into `maintain_state`, naming the guard, in precedence order:
/// a miner this run may not command, a manual `--hold` (not over safety), hysteresis and a
/// pending command ([`hold`]), then the stagger of starts.
pub fn apply(
    scope: &Scope,
    inputs: &Inputs,
    memory: &Memory,
    verifications: &[(String, Verification)],
    evaluation: &mut Evaluation,
    now: i64,
) {
    let settled = |miner: &str| {
        verifications
            .iter()
            .any(|(m, v)| m == miner && matches!(v, Verification::Matched(_) | Verification::NotEffective(_)))
    };
    for Evaluated { unit, outcome } in &mut evaluation.units {
        for miner in outcome.miners.iter_mut().filter(|m| m.decision != Decision::MaintainState) {
            let Some(state) = inputs.miners.get(&miner.id) else { continue };
            // A unit's `off` stops like safety does: at once, over holds and hysteresis.
            let safety = matches!(miner.reason.kind, ReasonKind::Safety | ReasonKind::Mode);
            let held_by_hand = memory.holds.get(&miner.id).filter(|until| **until > now && !safety);
            let guard = if !scope.commands(&miner.id) {
                Some("not named by --miner".to_string())
            } else if let Some(until) = held_by_hand {
                Some(format!("manual hold ({} s left)", until - now))
            } else {
                let mut facts = memory.switching(&miner.id, state.status, now);
                facts.pending &= !settled(&miner.id);
                hold(miner.decision, state.status, safety, &facts, &unit.guards, now)
            };
            if let Some(guard) = guard {
                hold_back(miner, guard);
            }
        }
    }
    stagger(memory, &settled, evaluation);
}

/// SPEC §24: a unit in mode `off` stops its running miners and keeps the rest off; in mode
/// `hold` it holds back every automatic decision. Safety stops go through either way, and no
/// allocation target is sent in either mode.
pub fn apply_modes(modes: &BTreeMap<String, UnitMode>, inputs: &Inputs, evaluation: &mut Evaluation) {
    for Evaluated { unit, outcome } in &mut evaluation.units {
        let mode = modes.get(&unit.id).copied().unwrap_or_default();
        outcome.mode = mode.name();
        if mode == UnitMode::Auto {
            continue;
        }
        let reason = Reason { kind: ReasonKind::Mode, name: Some(format!("unit mode {}", mode.name())) };
        for miner in outcome.miners.iter_mut().filter(|m| m.reason.kind != ReasonKind::Safety) {
            if let Some(share) = miner.allocation.as_mut() {
                share.target = None;
            }
            let status = inputs.miners.get(&miner.id).map(|s| s.status);
            let running = matches!(status, Some(MinerStatus::On | MinerStatus::Starting));
            if miner.reason.kind == ReasonKind::Rule && miner.decision != Decision::MaintainState {
                miner.held_rule = miner.reason.name.clone();
            }
            miner.decision =
                if mode == UnitMode::Off && running { Decision::StopMining } else { Decision::MaintainState };
            miner.reason = reason.clone();
        }
    }
}

/// SPEC §24: what a unit's mode lets through of the planned commands. `hold` sends no
/// automatic command (safety stops and commands by hand do go); `off` sends nothing that
/// starts a miner or sets its power.
pub fn allowed_by_mode(command: &crate::cycle::act::Command, modes: &BTreeMap<String, UnitMode>) -> bool {
    let mode = command.unit.as_ref().and_then(|u| modes.get(u)).copied().unwrap_or_default();
    let kind = command.reason.kind;
    match mode {
        UnitMode::Auto => true,
        UnitMode::Hold => matches!(kind, ReasonKind::Safety | ReasonKind::Manual),
        UnitMode::Off => {
            kind == ReasonKind::Safety
                || !(command.kind.starts() || command.kind == crate::core::command::CommandKind::SetPowerTarget)
        }
    }
}

/// The commands a unit's mode lets through, and a line for each command by hand it refused.
pub fn by_mode(
    commands: Vec<crate::cycle::act::Command>,
    modes: &BTreeMap<String, UnitMode>,
) -> (Vec<crate::cycle::act::Command>, Vec<String>) {
    let (allowed, refused): (Vec<_>, Vec<_>) = commands.into_iter().partition(|c| allowed_by_mode(c, modes));
    let lines = refused
        .iter()
        .filter(|c| c.reason.kind == ReasonKind::Manual)
        .map(|c| format!("miner `{}`: its unit is in mode off: {} not sent", c.miner, c.kind.name()))
        .collect();
    (allowed, lines)
}

/// Turns a decision into `maintain_state` because of `guard`, naming the rule it held.
pub fn hold_back(miner: &mut crate::cycle::outcome::MinerOutcome, guard: String) {
    if miner.reason.kind == ReasonKind::Rule {
        miner.held_rule = miner.reason.name.clone();
    }
    miner.decision = Decision::MaintainState;
    miner.reason = Reason { kind: ReasonKind::Guard, name: Some(guard) };
}

/// SPEC §17.1: the miners sharing an energy source start one batch at a time. A start
/// beyond the unit's `max_starts_per_cycle` (0: no limit), or while another miner on the
/// source has a start not yet verified, waits for a later cycle, in the units' `miners:` order.
fn stagger(memory: &Memory, settled: &dyn Fn(&str) -> bool, evaluation: &mut Evaluation) {
    let mut unverified: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for Evaluated { unit, outcome } in &evaluation.units {
        let starting =
            outcome.miners.iter().map(|m| m.id.clone()).filter(|id| memory.pending_start(id) && !settled(id));
        unverified.entry(unit.energy_source.clone()).or_default().extend(starting);
    }
    let mut started: BTreeMap<String, u32> = BTreeMap::new();
    for Evaluated { unit, outcome } in &mut evaluation.units {
        let limit = unit.guards.max_starts_per_cycle;
        let others_starting = unverified.get(&unit.energy_source).map_or(&[][..], Vec::as_slice);
        let count = started.entry(unit.energy_source.clone()).or_default();
        for miner in &mut outcome.miners {
            let off = !matches!(miner.status, MinerStatus::On | MinerStatus::Starting);
            if miner.decision != Decision::StartMining || !off {
                continue;
            }
            let waiting_on_other = others_starting.iter().any(|other| *other != miner.id);
            if waiting_on_other || (limit > 0 && *count >= limit) {
                hold_back(miner, "stagger".into());
            } else {
                *count += 1;
            }
        }
    }
}
