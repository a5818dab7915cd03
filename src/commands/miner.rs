//! `miner list|status|features|start|stop`: inspection and manual control.

use crate::cli::{Cli, MinerCommand};
use crate::config::Loaded;
use crate::config::model::{Miner, StopMode};
use crate::config::spec::Section;
use crate::core::binding::{candidates, resolve};
use crate::core::feature::FeatureType;
use crate::core::reading::{FeatureState, MinerState};
use crate::core::status::MinerStatus;
use crate::cycle::act::{Command, execute, plan};
use crate::cycle::open_locked;
use crate::cycle::outcome::{Reason, ReasonKind};
use crate::cycle::poll::poll_miner;
use crate::duration::Span;
use crate::exit::{self, Failure};
use crate::rules::model::Decision;
use crate::state::Store;

pub fn miner(cli: &Cli, command: &MinerCommand) -> Result<i32, Failure> {
    let loaded = super::load_config(cli)?;
    match command {
        MinerCommand::List => list(&loaded),
        MinerCommand::Features { id } => features(cli, &loaded, id.as_deref()),
        MinerCommand::Status { id } => status(cli, &loaded, id.as_deref()),
        MinerCommand::Start { id, hold } => control(cli, &loaded, id, Decision::StartMining, hold.as_deref(), manual()),
        MinerCommand::Stop { id, hold } => control(cli, &loaded, id, Decision::StopMining, hold.as_deref(), manual()),
        MinerCommand::Power { id, watts, dry_run, hold } => power(cli, &loaded, id, *watts, *dry_run, hold.as_deref()),
    }
}

fn selected<'a>(loaded: &'a Loaded, id: Option<&str>) -> Result<Vec<&'a Miner>, Failure> {
    let miners: Vec<&Miner> = loaded.config.miners.iter().filter(|m| id.is_none_or(|id| m.id == id)).collect();
    match (id, miners.is_empty()) {
        (Some(id), true) => Err(Failure::new(exit::USAGE, format!("unknown miner `{id}`"))),
        _ => Ok(miners),
    }
}

fn list(loaded: &Loaded) -> Result<i32, Failure> {
    for miner in &loaded.config.miners {
        let units: Vec<&str> =
            loaded.config.units.iter().filter(|u| u.miners.contains(&miner.id)).map(|u| u.id.as_str()).collect();
        println!(
            "{:<14} {:<8} controllers: {:<28} units: {}",
            miner.id,
            if miner.active { "active" } else { "inactive" },
            miner.controllers.join(", "),
            if units.is_empty() { "-".to_string() } else { units.join(", ") }
        );
    }
    Ok(exit::OK)
}

/// Each miner's bound features with their providers, and what each gave when read now
/// (`up`, `EMPTY`: its controller answered without a value, `FAILED`).
fn features(cli: &Cli, loaded: &Loaded, id: Option<&str>) -> Result<i32, Failure> {
    let miners = selected(loaded, id)?;
    let states = poll_selected(cli, loaded, &miners)?;
    let mut code = exit::OK;
    for (miner, state) in miners.iter().zip(&states) {
        println!("{}", miner.id);
        for controller in loaded.config.controllers.iter().filter(|c| miner.controllers.contains(&c.id)) {
            let note =
                crate::registry::REGISTRY.find(Section::Controllers, controller.type_name).and_then(|t| t.info().note);
            if let Some(note) = note {
                println!("  note: {}: {note}", controller.id);
            }
        }
        let bindings = loaded.config.bindings_of(&miner.id);
        for feature in FeatureType::ALL {
            let all: Vec<_> = bindings.iter().filter(|b| b.feature == feature).collect();
            if all.is_empty() {
                continue;
            }
            let used = candidates(bindings, feature).first().map(|b| b.controller.clone());
            let providers: Vec<String> = all
                .iter()
                .map(|b| {
                    let mark = if Some(&b.controller) == used.as_ref() { "*" } else { "" };
                    let off = if b.enabled { "" } else { " disabled" };
                    format!("{mark}{} (priority {}{off})", b.controller, b.priority)
                })
                .collect();
            let now = match state.features.iter().find(|(f, _)| *f == feature).map(|(_, s)| *s) {
                Some(FeatureState::Up) => "up",
                Some(FeatureState::Empty) => {
                    code = exit::DEGRADED;
                    "EMPTY"
                }
                Some(FeatureState::Failed) => {
                    code = exit::DEGRADED;
                    "FAILED"
                }
                None => "",
            };
            println!("  {:<32} {:<7} {}", feature.name(), now, providers.join(", "));
        }
    }
    println!("(* = the provider used; the others take over when it fails; EMPTY = answered without a value)");
    Ok(code)
}

/// Reads the selected miners now, in parallel.
fn poll_selected(cli: &Cli, loaded: &Loaded, miners: &[&Miner]) -> Result<Vec<MinerState>, Failure> {
    let clock = super::clock(cli, loaded)?;
    let store = Store::for_reading(&loaded.config.state).map_err(|m| Failure::new(exit::FATAL, m))?;
    let (world, learned) = device_memory(&store)?;
    let controllers = crate::devices::build(&loaded.config, &world, &learned);
    let call = clock.call(loaded);
    Ok(crate::parallel::map(miners, loaded.config.settings.concurrency, |m| {
        poll_miner(&loaded.config, m, &controllers, &call)
    }))
}

fn status(cli: &Cli, loaded: &Loaded, id: Option<&str>) -> Result<i32, Failure> {
    let miners = selected(loaded, id)?;
    let states = poll_selected(cli, loaded, &miners)?;
    let mut code = exit::OK;
    for (miner, state) in miners.iter().zip(states) {
        let reading = &state.reading;
        let num = |v: Option<f64>, unit: &str| v.map_or("-".to_string(), |v| format!("{v:.2} {unit}"));
        println!("{}: {}", miner.id, state.status);
        println!("  hashrate     {}", num(reading.hashrate, "TH/s"));
        println!("  power        {}", num(reading.power, "W"));
        if let Some(target) = reading.power_target {
            println!(
                "  target       {} (bounds {} – {})",
                num(target.watts, "W"),
                num(target.min, "W"),
                num(target.max, "W")
            );
        }
        if let Some(boards) = &reading.hashboards {
            for board in boards {
                println!(
                    "  board {}      chip {} board {} {} {}",
                    board.index,
                    num(board.chip_temperature, "°C"),
                    num(board.board_temperature, "°C"),
                    num(board.voltage, "V"),
                    num(board.frequency, "MHz")
                );
            }
        }
        if let Some(fans) = &reading.internal_fans {
            println!("  fans         {fans:?} RPM");
        }
        if let Some(uptime) = reading.uptime {
            println!("  uptime       {uptime} s");
        }
        for (field, controller) in &state.sources {
            println!("  source       {field} <- {controller}");
        }
        for feature in state.empty_features() {
            println!("  EMPTY        {}: its controller answered without a value", feature.name());
        }
        for (controller, reason) in &state.failures {
            println!("  FAILED       {controller}: {reason}");
            code = exit::DEGRADED;
        }
    }
    Ok(code)
}

/// The reason of a command typed by hand.
fn manual() -> Reason {
    Reason { kind: ReasonKind::Manual, name: Some("manual".into()) }
}

/// Parses `--hold`.
fn hold_span(hold: Option<&str>) -> Result<Option<Span>, Failure> {
    hold.map(Span::parse).transpose().map_err(|m| Failure::new(exit::USAGE, format!("--hold: {m}")))
}

/// SPEC §24: nothing by hand starts a miner or sets its power while its unit is in mode off.
fn refuse_in_mode_off(loaded: &Loaded, store: &Store, miner: &str, now: i64) -> Result<(), Failure> {
    let Some(unit) = loaded.config.units.iter().find(|u| u.miners.iter().any(|m| m == miner)) else { return Ok(()) };
    let modes = crate::state::load_modes(&store.conn).map_err(|e| Failure::new(exit::FATAL, e.to_string()))?;
    if crate::core::mode::ModeSetting::at(modes.get(&unit.id), now) == crate::core::mode::UnitMode::Off {
        return Err(Failure::new(
            exit::DEGRADED,
            format!("miner `{miner}`: unit `{}` is in mode off (`unit mode {} auto` first)", unit.id, unit.id),
        ));
    }
    Ok(())
}

pub fn control(
    cli: &Cli,
    loaded: &Loaded,
    id: &str,
    decision: Decision,
    hold: Option<&str>,
    reason: Reason,
) -> Result<i32, Failure> {
    let hold = hold_span(hold)?;
    let miner = selected(loaded, Some(id))?[0];
    let clock = super::clock(cli, loaded)?;
    let (_lock, mut store) = open_locked(loaded)?;
    if decision == Decision::StartMining {
        refuse_in_mode_off(loaded, &store, &miner.id, clock.now)?;
    }
    let (world, learned) = device_memory(&store)?;
    let controllers = crate::devices::build(&loaded.config, &world, &learned);
    let call = clock.call(loaded);
    let state = poll_miner(&loaded.config, miner, &controllers, &call);
    let unit = loaded.config.units.iter().find(|u| u.miners.contains(&miner.id));
    let stop_mode = unit.map_or(StopMode::Sleep, |u| u.stop_mode);
    // A manual command always goes out: plan as if the miner were in the opposite state.
    let assumed = if decision == Decision::StartMining { MinerStatus::Off } else { MinerStatus::On };
    let bindings = loaded.config.bindings_of(&miner.id);
    let (kind, controller) = plan(decision, assumed, state.reading.relay_on, bindings, stop_mode)
        .map_err(|m| Failure::new(exit::DEGRADED, format!("miner `{id}`: {m}")))?
        .ok_or_else(|| Failure::new(exit::DEGRADED, "nothing to do"))?;
    let command = Command {
        unit: unit.map(|u| u.id.clone()),
        miner: miner.id.clone(),
        kind,
        controller,
        decision,
        reason,
        follow_up: None,
        watts: None,
    };
    let outcome =
        execute(&mut store, &loaded.config, std::slice::from_ref(&command), &controllers, &call, &world, true)
            .map_err(|m| Failure::new(exit::FATAL, m))?;
    if outcome.first().is_some_and(|o| o.ok || o.unknown) {
        let unit_id = command.unit.clone().unwrap_or_default();
        let intent =
            crate::cycle::plan::new_intent(&unit_id, &command.miner, command.kind, &command.controller, clock.now);
        let until = hold.map(|span| clock.now + span.as_secs_i64());
        store
            .transaction(|c| {
                crate::state::save_intent(c, &intent)?;
                crate::state::set_hold(c, &command.miner, until)
            })
            .map_err(|m| Failure::new(exit::FATAL, m))?;
        if let Some(until) = until {
            println!("{}: the rules leave it alone until {}", miner.id, clock.format(until));
        }
    }
    match outcome.first() {
        Some(action) if action.ok => {
            println!("{}: {} via {}: ok", miner.id, action.kind, command.controller);
            Ok(exit::OK)
        }
        Some(action) => Err(Failure::new(
            exit::DEGRADED,
            format!(
                "{}: {} via {} {}: {}",
                miner.id,
                action.kind,
                command.controller,
                if action.unknown { "has an unknown outcome (the next run verifies it)" } else { "failed" },
                action.error.as_deref().unwrap_or("")
            ),
        )),
        None => Err(Failure::new(exit::DEGRADED, "no command was sent")),
    }
}

/// `miner power ID WATTS`: reads the bounds, clamps and says so, sets the target (or, with
/// `--dry-run`, only says what it would send), and leaves an intent that `run` verifies.
fn power(cli: &Cli, loaded: &Loaded, id: &str, watts: f64, dry_run: bool, hold: Option<&str>) -> Result<i32, Failure> {
    let hold = hold_span(hold)?;
    let miner = selected(loaded, Some(id))?[0];
    if !watts.is_finite() || watts <= 0.0 {
        return Err(Failure::new(exit::USAGE, format!("`{watts}` is not a power target in watts")));
    }
    let bindings = loaded.config.bindings_of(&miner.id);
    let controller = resolve(bindings, FeatureType::PowerTargetControl)
        .ok_or_else(|| Failure::new(exit::DEGRADED, format!("miner `{id}` has no power_target_control")))?
        .controller
        .clone();
    let clock = super::clock(cli, loaded)?;
    let (_lock, mut store) = open_locked(loaded)?;
    refuse_in_mode_off(loaded, &store, &miner.id, clock.now)?;
    let (world, learned) = device_memory(&store)?;
    let controllers = crate::devices::build(&loaded.config, &world, &learned);
    let call = clock.call(loaded);
    let built = controllers.get(&controller).ok_or_else(|| Failure::new(exit::DEGRADED, "controller unavailable"))?;
    let control = built.inner.power_target().ok_or_else(|| Failure::new(exit::DEGRADED, "no power target control"))?;
    let bounds = control.target(&built.call(&call)).map_err(|e| {
        Failure::new(exit::DEGRADED, format!("{id}: cannot read its power target: {}", clock.render(&e)))
    })?;
    let (target, clamped) = bounds.clamp(watts);
    if clamped {
        println!(
            "{id}: {watts} W is outside its bounds ({}–{} W): clamped to {target} W",
            bounds.min.map_or("-".into(), |w| w.to_string()),
            bounds.max.map_or("-".into(), |w| w.to_string())
        );
    }
    if dry_run {
        println!("{id}: would set a power target of {target} W via {controller} (dry run: nothing sent)");
        return Ok(exit::OK);
    }
    let unit = loaded.config.units.iter().find(|u| u.miners.contains(&miner.id));
    let command = Command {
        unit: unit.map(|u| u.id.clone()),
        miner: miner.id.clone(),
        kind: crate::core::command::CommandKind::SetPowerTarget,
        controller: controller.clone(),
        decision: Decision::MaintainState,
        reason: manual(),
        follow_up: None,
        watts: Some(target),
    };
    let outcome =
        execute(&mut store, &loaded.config, std::slice::from_ref(&command), &controllers, &call, &world, true)
            .map_err(|m| Failure::new(exit::FATAL, m))?;
    match outcome.first() {
        Some(action) if action.ok => {
            let applied = action.watts.unwrap_or(target);
            let unit_id = command.unit.clone().unwrap_or_default();
            let intent = crate::cycle::plan::new_intent(&unit_id, &miner.id, command.kind, &controller, clock.now);
            let intent = crate::state::Intent { watts: Some(applied), restarts: action.restarts, ..intent };
            let until = hold.map(|span| clock.now + span.as_secs_i64());
            store
                .transaction(|c| {
                    crate::state::save_intent(c, &intent)?;
                    match until {
                        Some(until) => crate::state::set_hold(c, &miner.id, Some(until)),
                        None => Ok(()),
                    }
                })
                .map_err(|m| Failure::new(exit::FATAL, m))?;
            if let Some(until) = until {
                println!("{id}: rules and allocation leave its target alone until {}", clock.format(until));
            }
            let lever = if applied == target { String::new() } else { format!(" (the nearest lever: {applied} W)") };
            println!("{id}: power target {target} W via {controller}: ok{lever}");
            Ok(exit::OK)
        }
        Some(action) => Err(Failure::new(
            exit::DEGRADED,
            format!(
                "{id}: power target {target} W via {controller} refused: {}",
                action.error.as_deref().unwrap_or("")
            ),
        )),
        None => Err(Failure::new(exit::DEGRADED, "no command was sent")),
    }
}

/// The simulated world and the learned lever watts the controllers are built with.
fn device_memory(store: &Store) -> Result<(crate::sim::SimWorld, crate::core::lever_model::LeverWatts), Failure> {
    let fatal = |e: rusqlite::Error| Failure::new(exit::FATAL, e.to_string());
    Ok((
        crate::state::load_sim(&store.conn).map_err(fatal)?,
        crate::state::load_lever_watts(&store.conn).map_err(fatal)?,
    ))
}
