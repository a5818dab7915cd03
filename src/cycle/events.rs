//! Events worth a notification, from what a cycle saw and did.

use crate::core::error::ErrorKind;
use crate::cycle::act::Acted;
use crate::cycle::outcome::RunReport;
use crate::cycle::scope::Scope;
use crate::cycle::verify::Verification;
use crate::notify::{Event, EventKind};

/// Each event with the notifier ids of the units it concerns.
pub fn events(
    scope: &Scope,
    report: &RunReport,
    verifications: &[(String, Verification)],
    acted: &Acted,
) -> Vec<(Event, Vec<String>)> {
    let notifiers_of_miner = |miner: &str| -> Vec<String> {
        scope.units.iter().filter(|u| u.miners.iter().any(|m| m == miner)).flat_map(|u| u.notifiers.clone()).collect()
    };
    let every_notifier: Vec<String> = scope.units.iter().flat_map(|u| u.notifiers.clone()).collect();
    let mut events = Vec::new();
    for (command, outcome) in acted.commands.iter().zip(&acted.outcomes) {
        // A timed-out write is neither done nor failed yet: its verification will tell.
        if outcome.unknown {
            continue;
        }
        let unit = command.unit.clone();
        let place = unit.as_deref().map_or(String::new(), |u| format!(" (unit {u})"));
        let because = command.reason.describe().map_or(String::new(), |why| format!(", because of {why}"));
        let (kind, title, message) = match (outcome.ok, command.kind.starts()) {
            (true, true) => (
                EventKind::Started,
                format!("Miner started: {}", command.miner),
                format!(
                    "Miner {} was started with {} via {}{place}{because}.",
                    command.miner,
                    command.kind.name(),
                    command.controller
                ),
            ),
            (true, false) => (
                EventKind::Stopped,
                format!("Miner stopped: {}", command.miner),
                format!(
                    "Miner {} was stopped with {} via {}{place}{because}.",
                    command.miner,
                    command.kind.name(),
                    command.controller
                ),
            ),
            (false, _) => (
                EventKind::CommandFailed,
                format!("Command failed: {}", command.miner),
                format!(
                    "{} via {} failed{place}: {}",
                    command.kind.name(),
                    command.controller,
                    outcome.error.as_deref().unwrap_or("")
                ),
            ),
        };
        let event =
            Event { kind, subject: command.miner.clone(), unit, miner: Some(command.miner.clone()), title, message };
        events.push((event, notifiers_of_miner(&command.miner)));
    }
    for (miner, verification) in verifications {
        if let Verification::NotEffective(intent) = verification {
            let target = intent.command == crate::core::command::CommandKind::SetPowerTarget;
            let event = Event {
                kind: if target { EventKind::TargetNotEffective } else { EventKind::NotEffective },
                subject: miner.clone(),
                unit: intent.unit.clone(),
                miner: Some(miner.clone()),
                title: if target {
                    format!("Target not effective: {miner}")
                } else {
                    format!("Command not effective: {miner}")
                },
                message: if target {
                    format!(
                        "a power target of {} W via {} was acknowledged but the miner's power did not follow, even after a retry; it needs a look.",
                        intent.watts.unwrap_or_default(),
                        intent.controller
                    )
                } else {
                    format!(
                        "{} via {} was acknowledged but the miner did not follow, even after a retry and an escalation; it needs a look.",
                        intent.command.name(),
                        intent.controller
                    )
                },
            };
            events.push((event, notifiers_of_miner(miner)));
        }
    }
    for problem in &report.errors {
        let auth = problem.kind == Some(ErrorKind::Authentication);
        let kind = if auth { EventKind::AuthenticationError } else { EventKind::InputUnavailable };
        let title = if auth { "Authentication error" } else { "Input unavailable" };
        let event = Event {
            kind,
            subject: problem.subject.clone(),
            unit: None,
            miner: None,
            title: title.into(),
            message: problem.line.clone(),
        };
        events.push((event, every_notifier.clone()));
    }
    events
}
