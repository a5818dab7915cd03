//! Verify: compare each pending intent with what the miner now reports, once
//! `guards.verify_after` has passed (SPEC §4.3). Matched clears it; not matched retries the
//! command once, then escalates to the other control feature, then gives up and says so.

use crate::core::binding::{Binding, resolve};
use crate::core::guards::{Guards, PowerTolerance};
use crate::core::reading::MinerState;
use crate::core::status::MinerStatus;
use crate::cycle::act::CommandKind;
use crate::state::Intent;

#[derive(Debug, Clone, PartialEq)]
pub enum Verification {
    /// Not yet time to check, or the miner could not be read.
    Waiting,
    /// The miner reached the target: the change happened at `intent.at`.
    Matched(Intent),
    /// Send this command now; the intent becomes the one given.
    FollowUp { command: CommandKind, controller: String, intent: Intent },
    /// Retried and escalated, still not effective: give up and notify.
    NotEffective(Intent),
}

/// Whether a miner's state is the intent's target; a power target is judged on the power
/// measured while the miner hashes.
pub fn reached_intent(intent: &Intent, state: &MinerState, tolerance: &PowerTolerance) -> Option<bool> {
    if intent.command != CommandKind::SetPowerTarget {
        return reached(&intent.target, state);
    }
    if state.status != MinerStatus::On {
        return None;
    }
    let target = intent.watts?;
    match state.reading.power {
        Some(measured) => Some(tolerance.reached(measured, target)),
        // Nothing measures its power: the target the firmware reports holding is the evidence.
        None => state.reading.power_target.and_then(|t| t.watts).map(|held| tolerance.reached(held, target)),
    }
}

/// Whether a miner's state is the target of an on/off intent.
pub fn reached(target: &str, state: &MinerState) -> Option<bool> {
    let status = state.status;
    let relay = state.reading.relay_on;
    if status == MinerStatus::Unknown && relay.is_none() {
        return None;
    }
    Some(match target {
        "on" => status == MinerStatus::On,
        "off" => status == MinerStatus::Off || relay == Some(false),
        "powered" => relay == Some(true) || matches!(status, MinerStatus::On | MinerStatus::Starting),
        "unpowered" => relay == Some(false),
        _ => true,
    })
}

/// The longest a tuning or ramping firmware is waited for, s.
const SETTLE_AT_MOST: i64 = 900;

pub fn verify(intent: &Intent, state: &MinerState, bindings: &[Binding], guards: &Guards, now: i64) -> Verification {
    let mut verify_after = guards.verify_after.as_secs_i64();
    if intent.restarts {
        verify_after = verify_after.max(guards.restart_time.as_secs_i64());
    }
    // SPEC §24: while the firmware says it is still tuning or ramping, a target is given up
    // to 15 minutes before it is judged.
    let settling = intent.command == CommandKind::SetPowerTarget
        && state.reading.power_target.is_some_and(|t| t.settling)
        && now - intent.at < SETTLE_AT_MOST;
    match reached_intent(intent, state, &guards.power_tolerance) {
        Some(true) => return Verification::Matched(intent.clone()),
        None => return Verification::Waiting,
        Some(false) if settling => return Verification::Waiting,
        Some(false) if now - intent.at < verify_after && now >= intent.at => return Verification::Waiting,
        Some(false) => {}
    }
    let command = intent.command;
    if intent.attempts < 2 {
        let retried = Intent { at: now, attempts: intent.attempts + 1, ..intent.clone() };
        return Verification::FollowUp { command, controller: intent.controller.clone(), intent: retried };
    }
    // A power target has no other feature to try: retried once, then not effective.
    if intent.escalated || command == CommandKind::SetPowerTarget {
        return Verification::NotEffective(intent.clone());
    }
    let other = command.escalation();
    match resolve(bindings, other.feature()) {
        Some(binding) => {
            let escalated = Intent {
                target: other.target().to_string(),
                command: other,
                controller: binding.controller.clone(),
                at: now,
                attempts: 2,
                escalated: true,
                ..intent.clone()
            };
            Verification::FollowUp { command: other, controller: binding.controller.clone(), intent: escalated }
        }
        None => Verification::NotEffective(intent.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::feature::FeatureType;
    use crate::core::reading::MinerReading;

    fn intent(command: &str, attempts: u32, escalated: bool) -> Intent {
        let kind = CommandKind::parse(command).unwrap();
        Intent {
            miner: "s19".into(),
            unit: None,
            target: kind.target().into(),
            command: kind,
            controller: "asic".into(),
            at: 1000,
            attempts,
            escalated,
            watts: None,
            restarts: false,
        }
    }

    fn state(status: MinerStatus, relay: Option<bool>) -> MinerState {
        MinerState {
            status,
            reading: MinerReading { relay_on: relay, ..MinerReading::default() },
            ..MinerState::default()
        }
    }

    fn bindings() -> Vec<Binding> {
        vec![
            Binding { feature: FeatureType::MiningControl, controller: "asic".into(), priority: 50, enabled: true },
            Binding { feature: FeatureType::PowerControl, controller: "plug".into(), priority: 50, enabled: true },
        ]
    }

    #[test]
    fn a_pause_that_keeps_hashing_is_retried_then_escalated_then_given_up() {
        let hashing = state(MinerStatus::On, Some(true));
        assert_eq!(
            verify(&intent("stop_mining", 1, false), &hashing, &bindings(), &Guards::default(), 1100),
            Verification::Waiting
        );
        let Verification::FollowUp { command, intent: retried, .. } =
            verify(&intent("stop_mining", 1, false), &hashing, &bindings(), &Guards::default(), 1200)
        else {
            panic!()
        };
        assert_eq!((command, retried.attempts), (CommandKind::StopMining, 2));
        let Verification::FollowUp { command, controller, intent: escalated } =
            verify(&retried, &hashing, &bindings(), &Guards::default(), 1400)
        else {
            panic!()
        };
        assert_eq!(
            (command, controller.as_str(), escalated.target.as_str()),
            (CommandKind::PowerOff, "plug", "unpowered")
        );
        assert!(matches!(
            verify(&escalated, &hashing, &bindings(), &Guards::default(), 1600),
            Verification::NotEffective(_)
        ));
        assert!(matches!(
            verify(&escalated, &state(MinerStatus::Off, Some(false)), &bindings(), &Guards::default(), 1600),
            Verification::Matched(_)
        ));
    }

    #[test]
    fn a_target_that_restarts_the_miner_is_judged_after_restart_time_not_verify_after() {
        let target = |restarts| Intent { watts: Some(2500.0), restarts, ..intent("set_power_target", 1, false) };
        // Back up and hashing at 3 100 W five minutes after the write: still ramping.
        let ramping = MinerState {
            status: MinerStatus::On,
            reading: MinerReading { power: Some(3100.0), ..MinerReading::default() },
            ..MinerState::default()
        };
        let guards = Guards::default();
        let at = |minutes: i64| 1000 + minutes * 60;
        assert_eq!(verify(&target(true), &ramping, &bindings(), &guards, at(5)), Verification::Waiting);
        assert!(matches!(
            verify(&target(false), &ramping, &bindings(), &guards, at(5)),
            Verification::FollowUp { command: CommandKind::SetPowerTarget, .. }
        ));
        assert!(matches!(
            verify(&target(true), &ramping, &bindings(), &guards, at(11)),
            Verification::FollowUp { command: CommandKind::SetPowerTarget, .. }
        ));
        let settled =
            MinerState { reading: MinerReading { power: Some(2540.0), ..MinerReading::default() }, ..ramping.clone() };
        assert!(matches!(verify(&target(true), &settled, &bindings(), &guards, at(5)), Verification::Matched(_)));
    }

    #[test]
    fn a_firmware_still_tuning_is_given_up_to_fifteen_minutes() {
        let target = Intent { watts: Some(2500.0), ..intent("set_power_target", 1, false) };
        let tuning = MinerState {
            status: MinerStatus::On,
            reading: MinerReading {
                power: Some(3100.0),
                power_target: Some(crate::core::reading::PowerTarget {
                    watts: Some(2500.0),
                    settling: true,
                    ..Default::default()
                }),
                ..MinerReading::default()
            },
            ..MinerState::default()
        };
        let at = |minutes: i64| 1000 + minutes * 60;
        let guards = Guards::default();
        assert_eq!(
            verify(&target, &tuning, &bindings(), &guards, at(10)),
            Verification::Waiting,
            "past verify_after, still tuning"
        );
        assert!(
            matches!(
                verify(&target, &tuning, &bindings(), &guards, at(15)),
                Verification::FollowUp { command: CommandKind::SetPowerTarget, .. }
            ),
            "15 minutes at most"
        );
    }

    #[test]
    fn targets() {
        assert_eq!(reached("on", &state(MinerStatus::On, None)), Some(true));
        assert_eq!(reached("on", &state(MinerStatus::Starting, None)), Some(false));
        assert_eq!(reached("off", &state(MinerStatus::Off, None)), Some(true));
        assert_eq!(reached("powered", &state(MinerStatus::Off, Some(true))), Some(true));
        assert_eq!(reached("unpowered", &state(MinerStatus::Off, Some(false))), Some(true));
        assert_eq!(reached("on", &state(MinerStatus::Unknown, None)), None, "unreadable: wait");
    }
}
