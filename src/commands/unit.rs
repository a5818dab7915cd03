//! `unit mode ID auto|hold|off [--for DURATION]` (SPEC §21): sets a unit's mode and keeps it
//! in the state file, publishes it retained on the unit's command topic (waiting for the
//! broker's acknowledgement) so Home Assistant shows it, and with `off` stops the unit's
//! miners at once, as `miner stop` would.

use crate::cli::{Cli, UnitCommand};
use crate::config::Loaded;
use crate::core::mode::{ModeSetting, UnitMode};
use crate::cycle::open_locked;
use crate::cycle::outcome::{Reason, ReasonKind};
use crate::duration::Span;
use crate::exit::{self, Failure};
use crate::rules::model::Decision;

pub fn unit(cli: &Cli, command: &UnitCommand) -> Result<i32, Failure> {
    let loaded = super::load_config(cli)?;
    match command {
        UnitCommand::Mode { id, mode, duration } => set_mode(cli, &loaded, id, mode, duration.as_deref()),
    }
}

fn set_mode(cli: &Cli, loaded: &Loaded, id: &str, mode: &str, duration: Option<&str>) -> Result<i32, Failure> {
    let unit = loaded.config.units.iter().find(|u| u.id == id).ok_or_else(|| {
        let known: Vec<&str> = loaded.config.units.iter().map(|u| u.id.as_str()).collect();
        Failure::new(exit::USAGE, format!("unknown unit `{id}` (units: {})", known.join(", ")))
    })?;
    let mode = UnitMode::parse(mode)
        .ok_or_else(|| Failure::new(exit::USAGE, format!("`{mode}` is not a mode: auto, hold or off")))?;
    let span = duration.map(Span::parse).transpose().map_err(|m| Failure::new(exit::USAGE, format!("--for: {m}")))?;
    let clock = super::clock(cli, loaded)?;
    let setting = ModeSetting { mode, at: clock.now, until: span.map(|s| clock.now + s.as_secs_i64()) };
    let mut failures = Vec::new();
    {
        let (_lock, mut store) = open_locked(loaded)?;
        store
            .transaction(|c| crate::state::save_mode(c, &unit.id, &setting))
            .map_err(|m| Failure::new(exit::FATAL, m))?;
        let call = clock.call(loaded);
        for configured in crate::publish::build(&loaded.config).iter().filter(|p| unit.publishers.contains(&p.id)) {
            match configured.publisher.announce_mode(&unit.id, mode, &call.with_timeout(configured.timeout)) {
                Ok((topic, payload)) => store
                    .transaction(|c| crate::state::save_mqtt_seen(c, &configured.id, &topic, &payload))
                    .map_err(|m| Failure::new(exit::FATAL, m))?,
                Err(error) => failures.push(format!("publisher `{}`: {}", configured.id, clock.render(&error))),
            }
        }
    }
    let until = setting.until.map_or(String::new(), |until| format!(" until {}", clock.format(until)));
    println!("unit `{}`: mode {}{until}", unit.id, mode.name());
    let mut code = exit::OK;
    if mode == UnitMode::Off {
        let reason = Reason { kind: ReasonKind::Mode, name: Some("unit mode off".into()) };
        for miner in &unit.miners {
            let stopped = super::miner::control(cli, loaded, miner, Decision::StopMining, None, reason.clone());
            if let Err(failure) = stopped {
                eprintln!("{}", failure.message);
                code = exit::DEGRADED;
            }
        }
    }
    if !failures.is_empty() {
        for line in &failures {
            eprintln!(
                "{line} (the mode is set here; Home Assistant will show it after the next run that reaches the broker)"
            );
        }
        code = exit::DEGRADED;
    }
    Ok(code)
}
