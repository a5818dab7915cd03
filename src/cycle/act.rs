//! Act: turn decisions into commands (MINING → POWER fallback, stop modes), record each
//! command before sending it, send them in parallel, and record the outcomes.

use std::collections::BTreeSet;

use crate::config::Config;
use crate::config::model::StopMode;
use crate::core::binding::{Binding, resolve};
pub use crate::core::command::CommandKind;
use crate::core::error::ErrorKind;
use crate::core::feature::FeatureType;
use crate::core::status::MinerStatus;
use crate::cycle::outcome::{ActionOutcome, Reason};
use crate::devices::{Applied, Controllers};
use crate::rules::model::Decision;
use crate::sim::SimWorld;
use crate::state::{ActionRow, Store, finish_action, insert_action, save_sim};
use crate::transport::{Call, InputError};

/// One command to one miner, and why.
#[derive(Debug, Clone)]
pub struct Command {
    pub unit: Option<String>,
    pub miner: String,
    pub kind: CommandKind,
    pub controller: String,
    pub decision: Decision,
    pub reason: Reason,
    /// A retry or escalation of a pending command (not a new switch).
    pub follow_up: Option<crate::state::Intent>,
    /// The watts of a power target.
    pub watts: Option<f64>,
}

/// What a decision means for a miner in a given state; `Ok(None)` when nothing is to be done.
pub fn plan(
    decision: Decision,
    status: MinerStatus,
    relay_on: Option<bool>,
    bindings: &[Binding],
    stop_mode: StopMode,
) -> Result<Option<(CommandKind, String)>, String> {
    let mining = resolve(bindings, FeatureType::MiningControl).map(|b| b.controller.clone());
    let power = resolve(bindings, FeatureType::PowerControl).map(|b| b.controller.clone());
    let choice = match decision {
        Decision::MaintainState => return Ok(None),
        Decision::StartMining if matches!(status, MinerStatus::On | MinerStatus::Starting) => return Ok(None),
        Decision::StopMining if !matches!(status, MinerStatus::On | MinerStatus::Starting) => return Ok(None),
        Decision::StartMining => match (relay_on, mining, power) {
            (Some(false), _, Some(plug)) => (CommandKind::PowerOn, plug),
            (_, Some(controller), _) => (CommandKind::StartMining, controller),
            (_, None, Some(plug)) => (CommandKind::PowerOn, plug),
            (_, None, None) => return Err("the miner has neither mining_control nor power_control".into()),
        },
        Decision::StopMining => match (stop_mode, mining, power) {
            (StopMode::PowerOff, _, Some(plug)) => (CommandKind::PowerOff, plug),
            (_, Some(controller), _) => (CommandKind::StopMining, controller),
            (_, None, Some(plug)) => (CommandKind::PowerOff, plug),
            (_, None, None) => return Err("the miner has neither mining_control nor power_control".into()),
        },
    };
    Ok(Some(choice))
}

/// Sends one command through its controller; a power target answers the watts applied.
pub fn send(command: &Command, controllers: &Controllers, call: &Call) -> Result<Option<Applied>, InputError> {
    let unable = |message: String| InputError::new(ErrorKind::NotConfigured, message);
    let built = controllers
        .get(&command.controller)
        .ok_or_else(|| unable(format!("controller `{}` is not available in this build", command.controller)))?;
    let (controller, call) = (&built.inner, &built.call(call));
    if call.budget().is_none() {
        return Err(InputError::new(ErrorKind::Deadline, "cycle deadline reached before the command"));
    }
    let missing = || unable(format!("controller `{}` cannot {}", command.controller, command.kind.name()));
    match command.kind {
        CommandKind::StartMining => {
            controller.mining_control().ok_or_else(missing)?.start_mining(call)?;
            Ok(command.watts.and_then(|watts| target_after_start(command, controller.power_target()?, watts, call)))
        }
        CommandKind::StopMining => controller.mining_control().ok_or_else(missing)?.stop_mining(call).map(|_| None),
        CommandKind::PowerOn => controller.power_control().ok_or_else(missing)?.power_on(call).map(|_| None),
        CommandKind::PowerOff => controller.power_control().ok_or_else(missing)?.power_off(call).map(|_| None),
        CommandKind::SetPowerTarget => {
            let watts = command.watts.ok_or_else(|| unable("a power target without watts".into()))?;
            controller.power_target().ok_or_else(missing)?.set_target(watts, call).map(Some)
        }
    }
}

/// Whether sending `command` pauses the firmware's thermal management (a LuxOS profile
/// change while ATM runs).
fn pauses_thermal_management(command: &Command, controllers: &Controllers, call: &Call) -> bool {
    if command.kind != CommandKind::SetPowerTarget {
        return false;
    }
    let Some(built) = controllers.get(&command.controller) else { return false };
    let Some(control) = built.inner.power_target() else { return false };
    control.thermal_management(&built.call(call)).ok().flatten() == Some(true)
}

/// Turns thermal management back on where a target write that paused it was cut off (the
/// flag outlived the run), and says so; not in a dry run.
pub fn restore_thermal_management(
    store: &mut Store,
    controllers: &Controllers,
    call: &Call,
    format_instant: &dyn Fn(i64) -> String,
) -> Vec<String> {
    let Ok(flags) = crate::state::load_thermal_restores(&store.conn) else { return Vec::new() };
    let mut said = Vec::new();
    for (controller, miner, since) in flags {
        let Some(control) = controllers.get(&controller).and_then(|b| b.inner.power_target().map(|c| (b, c))) else {
            continue;
        };
        let (built, control) = control;
        let call = built.call(call);
        let restored = match control.thermal_management(&call) {
            Ok(Some(false)) => match control.restore_thermal_management(&call) {
                Ok(()) => {
                    said.push(format!("miner `{miner}`: turned thermal management (ATM) back on via `{controller}`; a power target write that paused it at {} was cut off", format_instant(since)));
                    true
                }
                Err(error) => {
                    said.push(format!("miner `{miner}`: thermal management (ATM) is off after a cut-off write and could not be turned on: {error}"));
                    false
                }
            },
            Ok(_) => true,
            Err(_) => false,
        };
        if restored {
            let _ = store.transaction(|conn| crate::state::set_thermal_restore(conn, &controller, &miner, None));
        }
    }
    said
}

/// SPEC §24: a start with a target writes it right after the resume. The start stands even
/// when the target fails; the next cycle's allocation sends the target again.
fn target_after_start(
    command: &Command,
    control: &dyn crate::devices::PowerTargetControl,
    watts: f64,
    call: &Call,
) -> Option<Applied> {
    match control.set_target(watts, call) {
        Ok(applied) => Some(applied),
        Err(error) => {
            log::warn!("miner `{}`: started, but its target {watts:.0} W failed: {error}", command.miner);
            None
        }
    }
}

/// Records, sends and settles commands. Each row is written before its command leaves, so a
/// crash mid-send leaves a row with an unknown outcome rather than no row at all. The
/// simulated world (whose "hardware" lives in the database) is saved with the outcomes.
pub fn execute(
    store: &mut Store,
    config: &Config,
    commands: &[Command],
    controllers: &Controllers,
    call: &Call,
    world: &SimWorld,
    manual: bool,
) -> Result<Vec<ActionOutcome>, String> {
    // A target write that pauses thermal management leaves its restore flag in the same
    // transaction as its row, before it is sent (SPEC §24).
    let pausing: Vec<bool> = commands.iter().map(|c| pauses_thermal_management(c, controllers, call)).collect();
    let ids = store.transaction(|conn| {
        for (command, _) in commands.iter().zip(&pausing).filter(|(_, pauses)| **pauses) {
            crate::state::set_thermal_restore(conn, &command.controller, &command.miner, Some(call.now))?;
        }
        commands
            .iter()
            .map(|command| insert_action(conn, &row(command, call.now, manual)))
            .collect::<rusqlite::Result<Vec<i64>>>()
    })?;
    let results =
        crate::parallel::map(commands, config.settings.concurrency, |command| send(command, controllers, call));
    store.transaction(|conn| {
        for (id, result) in ids.iter().zip(&results) {
            let error = result.as_ref().err();
            // A write that timed out may have been applied: its outcome stays unknown (NULL)
            // until the next read confirms it.
            let ok = if error.is_some_and(timed_out) { None } else { Some(result.is_ok()) };
            finish_action(conn, *id, ok, error.map(|e| e.to_string()).as_deref())?;
            if let Ok(Some(applied)) = result {
                crate::state::set_action_watts(conn, *id, applied.watts, applied.restarts)?;
            }
        }
        // A write that came back restored thermal management itself.
        for ((command, result), _) in commands.iter().zip(&results).zip(&pausing).filter(|(_, p)| **p) {
            if result.is_ok() {
                crate::state::set_thermal_restore(conn, &command.controller, &command.miner, None)?;
            }
        }
        if world.changed() { save_sim(conn, world) } else { Ok(()) }
    })?;
    Ok(commands
        .iter()
        .zip(results)
        .map(|(command, result)| ActionOutcome {
            kind: command.kind.name().to_string(),
            controller: Some(command.controller.clone()),
            feature: Some(command.kind.feature().name().to_string()),
            ok: result.is_ok(),
            unknown: result.as_ref().err().is_some_and(timed_out),
            watts: result.as_ref().ok().and_then(|a| a.as_ref().map(|a| a.watts)).or(command.watts),
            restarts: result.as_ref().ok().and_then(|a| a.as_ref().map(|a| a.restarts)).unwrap_or(false),
            error: result.err().map(|e| e.to_string()),
        })
        .collect())
}

/// Whether a failed write timed out, so the miner may have applied it all the same.
fn timed_out(error: &InputError) -> bool {
    error.kind == ErrorKind::Timeout
}

fn row(command: &Command, at: i64, manual: bool) -> ActionRow {
    ActionRow {
        at,
        unit: command.unit.clone(),
        miner: command.miner.clone(),
        decision: command.decision.name().to_string(),
        reason_kind: command.reason.kind.name().to_string(),
        reason_name: command.reason.name.clone(),
        action: command.kind.name().to_string(),
        controller: Some(command.controller.clone()),
        feature: Some(command.kind.feature().name().to_string()),
        manual,
        follow_up: command.follow_up.is_some(),
        watts: command.watts,
        ok: None,
        error: None,
    }
}

/// The commands a cycle sent and how each went.
#[derive(Debug, Default)]
pub struct Acted {
    pub commands: Vec<Command>,
    pub outcomes: Vec<ActionOutcome>,
}

/// Puts each command's outcome on its miner's line of the report.
pub fn attach(evaluation: &mut crate::cycle::evaluate::Evaluation, commands: &[Command], outcomes: &[ActionOutcome]) {
    let mut lines = std::collections::HashMap::new();
    for (u, evaluated) in evaluation.units.iter().enumerate() {
        for (m, miner) in evaluated.outcome.miners.iter().enumerate() {
            lines.insert((evaluated.unit.id.clone(), miner.id.clone()), (u, m));
        }
    }
    for (command, action) in commands.iter().zip(outcomes) {
        let key = (command.unit.clone().unwrap_or_default(), command.miner.clone());
        if let Some(&(u, m)) = lines.get(&key) {
            let miner = &mut evaluation.units[u].outcome.miners[m];
            if let Some(error) = &action.error {
                miner.errors.push(format!("{} via `{}` failed: {error}", action.kind, command.controller));
            }
            if command.follow_up.is_some() {
                miner.decision = command.decision;
                miner.reason = command.reason.clone();
            }
            miner.action = Some(action.clone());
        }
    }
}

/// Keeps the first command per miner: never two commands to one miner in one cycle.
pub fn one_per_miner(commands: Vec<Command>) -> Vec<Command> {
    let mut seen = BTreeSet::new();
    commands.into_iter().filter(|c| seen.insert(c.miner.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use FeatureType::*;

    fn binding(feature: FeatureType, controller: &str) -> Binding {
        Binding { feature, controller: controller.into(), priority: 50, enabled: true }
    }

    #[test]
    fn start_prefers_mining_control_and_powers_an_unpowered_miner_first() {
        let both = [binding(MiningControl, "asic"), binding(PowerControl, "plug")];
        let start = |status, relay| plan(Decision::StartMining, status, relay, &both, StopMode::Sleep).unwrap();
        assert_eq!(start(MinerStatus::Off, Some(true)), Some((CommandKind::StartMining, "asic".into())));
        assert_eq!(start(MinerStatus::Off, Some(false)), Some((CommandKind::PowerOn, "plug".into())));
        assert_eq!(start(MinerStatus::On, Some(true)), None);
        let plug_only = [binding(PowerControl, "plug")];
        let planned = plan(Decision::StartMining, MinerStatus::Off, None, &plug_only, StopMode::Sleep).unwrap();
        assert_eq!(planned, Some((CommandKind::PowerOn, "plug".into())));
    }

    #[test]
    fn stop_follows_the_stop_mode_with_fallback() {
        let both = [binding(MiningControl, "asic"), binding(PowerControl, "plug")];
        let stop = |mode| plan(Decision::StopMining, MinerStatus::On, Some(true), &both, mode).unwrap();
        assert_eq!(stop(StopMode::Sleep), Some((CommandKind::StopMining, "asic".into())));
        assert_eq!(stop(StopMode::PowerOff), Some((CommandKind::PowerOff, "plug".into())));
        let asic_only = [binding(MiningControl, "asic")];
        let planned = plan(Decision::StopMining, MinerStatus::On, None, &asic_only, StopMode::PowerOff).unwrap();
        assert_eq!(planned, Some((CommandKind::StopMining, "asic".into())));
        assert_eq!(plan(Decision::StopMining, MinerStatus::Off, None, &both, StopMode::Sleep).unwrap(), None);
        assert!(plan(Decision::StopMining, MinerStatus::On, None, &[], StopMode::Sleep).is_err());
    }
}
