//! Plan: the commands this cycle sends. Follow-ups of pending commands (retries,
//! escalations) first, then the power-off that ends a `sleep_then_power_off`, then what the
//! decisions call for; at most one command per miner.

use crate::config::Config;
use crate::config::model::StopMode;
use crate::core::binding::resolve;
use crate::core::status::MinerStatus;
use crate::cycle::act::{Command, CommandKind, one_per_miner, plan};
use crate::cycle::evaluate::{Evaluated, Evaluation};
use crate::cycle::memory::Memory;
use crate::cycle::outcome::{Problem, Reason, ReasonKind};
use crate::cycle::poll::Inputs;
use crate::cycle::scope::Scope;
use crate::cycle::verify::Verification;
use crate::rules::model::Decision;
use crate::state::Intent;

pub fn commands(
    config: &Config,
    scope: &Scope,
    inputs: &Inputs,
    memory: &Memory,
    verifications: &[(String, Verification)],
    evaluation: &mut Evaluation,
    now: i64,
) -> Vec<Command> {
    let decided = decided(config, scope, inputs, evaluation);
    // A stop decided now replaces a pending start or target: its retry is not sent.
    let stopping: Vec<String> =
        decided.iter().filter(|c| c.decision == Decision::StopMining).map(|c| c.miner.clone()).collect();
    let mut commands: Vec<Command> =
        follow_ups(verifications).into_iter().filter(|c| !stopping.contains(&c.miner)).collect();
    commands.extend(power_offs_after_sleep(config, scope, inputs, memory, now));
    commands.extend(decided);
    one_per_miner(commands)
}

fn follow_ups(verifications: &[(String, Verification)]) -> Vec<Command> {
    verifications
        .iter()
        .filter_map(|(miner, verification)| match verification {
            Verification::FollowUp { command, controller, intent } => Some(Command {
                unit: intent.unit.clone(),
                miner: miner.clone(),
                kind: *command,
                controller: controller.clone(),
                decision: match command {
                    CommandKind::SetPowerTarget => Decision::MaintainState,
                    kind if kind.starts() => Decision::StartMining,
                    _ => Decision::StopMining,
                },
                reason: Reason {
                    kind: ReasonKind::Guard,
                    name: Some(if intent.escalated {
                        "escalation: not effective".into()
                    } else {
                        "retry: not effective".into()
                    }),
                },
                follow_up: Some(intent.clone()),
                watts: intent.watts,
            }),
            _ => None,
        })
        .collect()
}

/// Miners asleep for `power_off_after` under `sleep_then_power_off` lose power.
fn power_offs_after_sleep(config: &Config, scope: &Scope, inputs: &Inputs, memory: &Memory, now: i64) -> Vec<Command> {
    let mut commands = Vec::new();
    for unit in scope.units.iter().filter(|u| u.stop_mode == StopMode::SleepThenPowerOff) {
        let Some(after) = unit.power_off_after else { continue };
        for miner in scope.unit_miners(unit).into_iter().filter(|m| scope.commands(&m.id)) {
            let (Some(since), Some(state)) = (memory.asleep.get(&miner.id), inputs.miners.get(&miner.id)) else {
                continue;
            };
            let asleep = state.status == MinerStatus::Off && state.reading.relay_on != Some(false);
            if !asleep || memory.intents.contains_key(&miner.id) || now - since < after.as_secs_i64() {
                continue;
            }
            let Some(plug) = resolve(config.bindings_of(&miner.id), CommandKind::PowerOff.feature()) else { continue };
            let intent = new_intent(unit.id.as_str(), &miner.id, CommandKind::PowerOff, &plug.controller, now);
            commands.push(Command {
                unit: Some(unit.id.clone()),
                miner: miner.id.clone(),
                kind: CommandKind::PowerOff,
                controller: plug.controller.clone(),
                decision: Decision::StopMining,
                reason: Reason { kind: ReasonKind::Guard, name: Some("sleep_then_power_off".into()) },
                follow_up: Some(intent),
                watts: None,
            });
        }
    }
    commands
}

/// The intent a command creates.
pub fn new_intent(unit: &str, miner: &str, kind: CommandKind, controller: &str, now: i64) -> Intent {
    Intent {
        miner: miner.to_string(),
        unit: Some(unit.to_string()),
        target: kind.target().to_string(),
        command: kind,
        controller: controller.to_string(),
        at: now,
        attempts: 1,
        escalated: false,
        watts: None,
        restarts: false,
    }
}

/// The allocation's new target for a running miner (SPEC §17.4).
fn target_command(
    unit: &crate::config::model::Unit,
    outcome: &crate::cycle::outcome::MinerOutcome,
    status: MinerStatus,
    bindings: &[crate::core::binding::Binding],
    watts: f64,
) -> Option<Command> {
    if !matches!(status, MinerStatus::On | MinerStatus::Starting) {
        return None;
    }
    let binding = resolve(bindings, CommandKind::SetPowerTarget.feature())?;
    let why = outcome.allocation.as_ref().map_or_else(String::new, |share| share.why.clone());
    Some(Command {
        unit: Some(unit.id.clone()),
        miner: outcome.id.clone(),
        kind: CommandKind::SetPowerTarget,
        controller: binding.controller.clone(),
        decision: Decision::MaintainState,
        reason: Reason { kind: ReasonKind::Allocation, name: Some(why) },
        follow_up: None,
        watts: Some(watts),
    })
}

/// A start through `controller` can carry the target: the same controller sets targets.
fn targets_through(bindings: &[crate::core::binding::Binding], controller: &str) -> bool {
    resolve(bindings, CommandKind::SetPowerTarget.feature()).is_some_and(|b| b.controller == controller)
}

fn decided(config: &Config, scope: &Scope, inputs: &Inputs, evaluation: &mut Evaluation) -> Vec<Command> {
    let mut commands = Vec::new();
    for Evaluated { unit, outcome } in &evaluation.units {
        for outcome in &outcome.miners {
            let (Some(miner), Some(state)) = (scope.miner(&outcome.id), inputs.miners.get(&outcome.id)) else {
                continue;
            };
            let bindings = config.bindings_of(&miner.id);
            let share = outcome.allocation.as_ref().and_then(|share| share.target);
            match plan(outcome.decision, state.status, state.reading.relay_on, bindings, unit.stop_mode) {
                Ok(Some((kind, controller))) => commands.push(Command {
                    unit: Some(unit.id.clone()),
                    miner: miner.id.clone(),
                    watts: share.filter(|_| kind == CommandKind::StartMining && targets_through(bindings, &controller)),
                    kind,
                    controller,
                    decision: outcome.decision,
                    reason: outcome.reason.clone(),
                    follow_up: None,
                }),
                // Nothing to switch: the allocation's new target, if any.
                Ok(None) => commands
                    .extend(share.and_then(|watts| target_command(unit, outcome, state.status, bindings, watts))),
                Err(message) => evaluation.errors.push(Problem::other(
                    format!("miner/{}", miner.id),
                    format!("miner `{}`: cannot act: {message}", miner.id),
                )),
            }
        }
    }
    commands
}

/// Power targets set on the dashboard (SPEC §21), one manual command each, clamped to the
/// bounds the firmware reports; a miner without power targets gets a warning instead.
pub fn dashboard_targets(
    config: &Config,
    scope: &Scope,
    inputs: &Inputs,
    orders: &[(String, f64)],
) -> (Vec<Command>, Vec<String>) {
    let (mut commands, mut warnings) = (Vec::new(), Vec::new());
    for (miner, watts) in orders {
        let Some(unit) = scope.units.iter().find(|u| u.miners.contains(miner)) else { continue };
        let Some(binding) = resolve(config.bindings_of(miner), CommandKind::SetPowerTarget.feature()) else {
            warnings.push(format!(
                "miner `{miner}`: a power target was set in Home Assistant, but it has no power_target_control"
            ));
            continue;
        };
        let bounds = inputs.miners.get(miner).and_then(|s| s.reading.power_target).unwrap_or_default();
        let (watts, _) = bounds.clamp(*watts);
        commands.push(Command {
            unit: Some(unit.id.clone()),
            miner: miner.clone(),
            kind: CommandKind::SetPowerTarget,
            controller: binding.controller.clone(),
            decision: Decision::MaintainState,
            reason: Reason { kind: ReasonKind::Manual, name: Some("power target set in Home Assistant".into()) },
            follow_up: None,
            watts: Some(watts),
        });
    }
    (commands, warnings)
}

/// Commands by hand join the plan after safety stops and before everything else, still one
/// per miner.
pub fn with_manual(planned: Vec<Command>, manual: Vec<Command>) -> Vec<Command> {
    let (safety, rest): (Vec<Command>, Vec<Command>) =
        planned.into_iter().partition(|c| c.reason.kind == ReasonKind::Safety);
    one_per_miner(safety.into_iter().chain(manual).chain(rest).collect())
}
