//! Record: persist what the next invocation needs, in one transaction. A dry run records
//! its run row and the HTTP cache and backoff (they describe the world, not decisions):
//! no timers, intents, observations or simulated-device changes.

use rusqlite::Connection;

use crate::config::Loaded;
use crate::config::model::StopMode;
use crate::core::command::CommandKind;
use crate::core::status::MinerStatus;
use crate::cycle::Clock;
use crate::cycle::act::Acted;
use crate::cycle::memory::Memory;
use crate::cycle::outcome::RunReport;
use crate::cycle::plan::new_intent;
use crate::cycle::scope::Scope;
use crate::cycle::verify::Verification;
use crate::state::*;

/// What the cycle changed besides its report.
pub struct Changes<'a> {
    pub verifications: &'a [(String, Verification)],
    pub acted: &'a Acted,
    pub scope: &'a Scope<'a>,
    pub published: Published<'a>,
}

/// What the publish stage read and published (SPEC §21).
pub struct Published<'a> {
    pub inbox: &'a crate::cycle::publish::Inbox,
    /// (miner, watts, held until) of the targets set on the dashboard.
    pub holds: &'a [(String, f64, i64)],
    /// Each publisher's discovery topics, published now.
    pub discovered: &'a [(String, Vec<String>)],
}

#[allow(clippy::too_many_arguments)]
pub fn record(
    store: &mut Store,
    loaded: &Loaded,
    clock: &Clock,
    run_id: i64,
    report: &RunReport,
    dry_run: bool,
    memory: &Memory,
    changes: &Changes,
) -> Result<(), String> {
    let retention = loaded.config.settings.retention.as_secs_i64();
    let summary = RunSummary {
        finished_at: clock.now,
        exit_code: report.exit_code,
        miners: report.units.iter().map(|u| u.miners.len()).sum(),
        commands: changes.acted.commands.len(),
        failures: report.errors.len(),
    };
    store.transaction(|conn| {
        if !dry_run {
            decisions(conn, report, memory, clock.now)?;
            verifications(conn, changes, report, clock.now)?;
            commands(conn, changes.acted, clock.now)?;
            for (unit, state) in &report.allocations {
                save_allocation(conn, unit, state)?;
            }
            if memory.world.changed() {
                save_sim(conn, &memory.world)?;
            }
            published(conn, &changes.published, clock.now)?;
            prune(conn, clock.now.saturating_sub(retention))?;
        }
        memory.fetcher.save(conn)?;
        // Observations of the world, kept in a dry run too (SPEC §24).
        for (series, sample) in &report.observations.samples {
            save_sample(conn, series, *sample)?;
        }
        for (zone, demand) in &report.observations.demands {
            save_demand(conn, zone, *demand, clock.now)?;
        }
        for (controller, setting, watts) in &report.observations.levers {
            learn_lever_watts(conn, controller, *setting, *watts, clock.now)?;
        }
        let previous = previous_run_at(conn, run_id)?;
        // A trace only grows forward: nothing when the clock went back.
        if previous.is_none_or(|last| last < clock.now) {
            traces(conn, loaded, report, clock.now)?;
        }
        // Compaction and pruning scan whole tables: once an hour is enough, as they work in hours.
        if previous.is_none_or(|last| last.div_euclid(3600) != clock.now.div_euclid(3600)) {
            let hours_kept_raw = (clock.now - 48 * 3600).div_euclid(3600) * 3600;
            compact_traces(conn, hours_kept_raw, clock.now.saturating_sub(retention))?;
            prune_samples(conn, crate::cycle::home::history_start(&loaded.config, clock.now))?;
            compact_samples(conn, hours_kept_raw)?;
        }
        finish_run(conn, run_id, &summary)
    })
}

/// What this cycle saw of each energy source and miner, for `simulate --trace recorded`.
fn traces(conn: &Connection, loaded: &Loaded, report: &RunReport, now: i64) -> rusqlite::Result<()> {
    let mut seen: Vec<&str> = Vec::new();
    for unit in &report.units {
        let Some(source) = loaded.config.units.iter().find(|u| u.id == unit.id).map(|u| u.energy_source.as_str())
        else {
            continue;
        };
        let Some(energy) = unit.energy.as_ref() else { continue };
        for miner in &unit.miners {
            save_miner_trace(conn, &miner.id, now, miner.power, miner.hash_rate)?;
        }
        if seen.contains(&source) {
            continue;
        }
        seen.push(source);
        let number = |pointer: &str| energy.pointer(pointer).and_then(serde_json::Value::as_f64);
        let row = EnergyRow {
            production: number("/production"),
            consumption: number("/consumption/current_power"),
            grid: number("/grid/current_power"),
            battery_soc: number("/battery/state_of_charge"),
            battery_power: number("/battery/current_power"),
        };
        save_energy_trace(conn, source, now, &row)?;
    }
    Ok(())
}

/// The dashboard's orders as decision state (modes, holds), the command payloads seen, and
/// the discovery topics published.
fn published(conn: &Connection, published: &Published, now: i64) -> rusqlite::Result<()> {
    for (publisher, received) in &published.inbox.received {
        save_mqtt_seen(conn, publisher, &received.topic, &received.payload)?;
        if let Ok(crate::publish::Order::Mode { unit, mode }) = &received.order {
            save_mode(conn, unit, &crate::core::mode::ModeSetting { mode: *mode, at: now, until: None })?;
        }
    }
    for (miner, _, until) in published.holds {
        set_hold(conn, miner, Some(*until))?;
    }
    for (publisher, topics) in published.discovered {
        save_mqtt_discovery(conn, publisher, topics)?;
    }
    Ok(())
}

/// Timers, observed statuses, and state changes the tool did not cause.
fn decisions(conn: &Connection, report: &RunReport, memory: &Memory, now: i64) -> rusqlite::Result<()> {
    for unit in &report.units {
        for (u, m, timers) in report.timers.iter().filter(|(u, _, _)| u == &unit.id) {
            save_timers(conn, u, m, timers)?;
        }
        for miner in &unit.miners {
            let status = miner.status;
            observe(conn, &miner.id, status.name(), now)?;
            let row = DecisionRow {
                id: 0,
                miner: miner.id.clone(),
                unit: unit.id.clone(),
                at: now,
                until: now,
                status: status.name().to_string(),
                decision: miner.decision.name().to_string(),
                reason_kind: miner.reason.kind.name().to_string(),
                reason_name: miner.reason.name.clone(),
            };
            log_decision(conn, memory.last_decisions.get(&(miner.id.clone(), unit.id.clone())), &row)?;
            let known = memory.last_changes.get(&miner.id).is_some_and(|(s, _)| s == status.name());
            if matches!(status, MinerStatus::On | MinerStatus::Off) && !known && !memory.intents.contains_key(&miner.id)
            {
                save_last_change(conn, &miner.id, status.name(), memory.state_since(&miner.id, status, now))?;
            }
        }
    }
    Ok(())
}

/// Verified intents become state changes (dated by their command); given-up ones are cleared.
fn verifications(conn: &Connection, changes: &Changes, report: &RunReport, now: i64) -> rusqlite::Result<()> {
    let statuses: std::collections::HashMap<&str, MinerStatus> =
        report.units.iter().flat_map(|u| &u.miners).map(|m| (m.id.as_str(), m.status)).collect();
    for (miner, verification) in changes.verifications {
        match verification {
            Verification::Matched(intent) if intent.command == CommandKind::SetPowerTarget => {
                clear_intent(conn, miner)?
            }
            Verification::Matched(intent) => {
                clear_intent(conn, miner)?;
                if let Some(status) = statuses.get(miner.as_str()) {
                    save_last_change(conn, miner, status.name(), intent.at)?;
                }
                let sleeping = intent.command == CommandKind::StopMining
                    && stop_mode(changes.scope, intent) == StopMode::SleepThenPowerOff;
                set_asleep(conn, miner, sleeping.then_some(intent.at))?;
            }
            Verification::NotEffective(intent) if intent.command == CommandKind::SetPowerTarget => {
                clear_intent(conn, miner)?;
                insert_action(conn, &not_effective_row(intent, now))?;
            }
            Verification::NotEffective(_) => clear_intent(conn, miner)?,
            Verification::Waiting | Verification::FollowUp { .. } => {}
        }
    }
    Ok(())
}

/// The history row of a power target given up on.
fn not_effective_row(intent: &Intent, now: i64) -> ActionRow {
    ActionRow {
        at: now,
        unit: intent.unit.clone(),
        miner: intent.miner.clone(),
        decision: "maintain_state".into(),
        reason_kind: "guard".into(),
        reason_name: Some("target not effective".into()),
        action: CommandKind::SetPowerTarget.name().into(),
        controller: Some(intent.controller.clone()),
        feature: Some(CommandKind::SetPowerTarget.feature().name().into()),
        manual: false,
        follow_up: true,
        watts: intent.watts,
        ok: Some(false),
        error: Some("target not effective".into()),
    }
}

fn stop_mode(scope: &Scope, intent: &Intent) -> StopMode {
    scope.unit_of(intent.unit.as_deref(), &intent.miner).map(|u| u.stop_mode).unwrap_or_default()
}

/// Each command sent (or timed out) leaves an intent to verify; a failed follow-up gives up.
fn commands(conn: &Connection, acted: &Acted, now: i64) -> rusqlite::Result<()> {
    for (command, outcome) in acted.commands.iter().zip(&acted.outcomes) {
        // A write of unknown outcome is verified like one that went through.
        match (&command.follow_up, outcome.ok || outcome.unknown) {
            (Some(intent), true) => save_intent(conn, intent)?,
            (None, true) => {
                let unit = command.unit.as_deref().unwrap_or_default();
                let intent = new_intent(unit, &command.miner, command.kind, &command.controller, now);
                save_intent(conn, &Intent { watts: outcome.watts, restarts: outcome.restarts, ..intent })?;
            }
            (Some(_), false) => clear_intent(conn, &command.miner)?,
            (None, false) => {}
        }
        if command.kind.starts() {
            set_asleep(conn, &command.miner, None)?;
        }
        // A restart-causing target write counts as a start: `min_on` runs from it.
        if outcome.ok && outcome.restarts {
            save_last_change(conn, &command.miner, "starting", now)?;
        }
    }
    Ok(())
}
