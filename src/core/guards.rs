//! Guards (SPEC §7.5 step 3): hysteresis that turns a decision into `maintain_state`.
//! Pure: the cycle passes what the database remembers.

use serde::Deserialize;

use crate::core::decision::Decision;
use crate::core::status::MinerStatus;
use crate::duration::Span;

/// A unit's hysteresis settings (`guards:`).
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Guards {
    /// A started miner is not stopped by the rules before this (safety still stops it).
    pub min_on: Option<Span>,
    /// A stopped miner is not started again before this.
    pub min_off: Option<Span>,
    /// At most this many starts and stops per miner per local day.
    pub max_switches_per_day: Option<u32>,
    /// How long after a command the miner is checked, and the command retried if it did not take.
    #[serde(default = "default_verify_after")]
    pub verify_after: Span,
    /// How long a miner that restarts to apply a power target (Whatsminer) may take before
    /// the target is checked.
    #[serde(default = "default_restart_time")]
    pub restart_time: Span,
    /// How close measured power must come to a power target to count as effective.
    #[serde(default)]
    pub power_tolerance: PowerTolerance,
    /// How many miners sharing an energy source may start in one cycle (0: no limit),
    /// SPEC §17.1. Further starts wait, as does every start while another is unverified.
    #[serde(default = "one")]
    pub max_starts_per_cycle: u32,
}

fn one() -> u32 {
    1
}

fn default_verify_after() -> Span {
    Span::secs(180)
}

fn default_restart_time() -> Span {
    Span::secs(600)
}

/// `percent` of the target or `min_watts`, whichever is larger, but at most `max_percent`
/// of the target (so a 15 W Bitaxe is held to 4.5 W), SPEC §16.2.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PowerTolerance {
    #[serde(default = "ten")]
    pub percent: f64,
    #[serde(default = "fifty")]
    pub min_watts: f64,
    #[serde(default = "thirty")]
    pub max_percent: f64,
}

fn ten() -> f64 {
    10.0
}
fn fifty() -> f64 {
    50.0
}
fn thirty() -> f64 {
    30.0
}

impl Default for PowerTolerance {
    fn default() -> PowerTolerance {
        PowerTolerance { percent: ten(), min_watts: fifty(), max_percent: thirty() }
    }
}

impl PowerTolerance {
    /// The watts measured power may differ from `target` by.
    pub fn watts(&self, target: f64) -> f64 {
        let target = target.abs();
        (target * self.percent / 100.0).max(self.min_watts).min(target * self.max_percent / 100.0)
    }

    /// Whether `measured` counts as having reached `target`.
    pub fn reached(&self, measured: f64, target: f64) -> bool {
        (measured - target).abs() <= self.watts(target)
    }
}

impl Default for Guards {
    fn default() -> Guards {
        Guards {
            min_on: None,
            min_off: None,
            max_switches_per_day: None,
            verify_after: default_verify_after(),
            restart_time: default_restart_time(),
            power_tolerance: PowerTolerance::default(),
            max_starts_per_cycle: one(),
        }
    }
}

/// What the database remembers about a miner's switching.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SwitchingFacts {
    /// When the miner last changed state (the command that caused it, or the first cycle
    /// that observed a change the tool did not cause).
    pub last_change_at: Option<i64>,
    /// State changes caused today (in the configured zone).
    pub switches_today: u32,
    /// A command was sent and is not verified yet.
    pub pending: bool,
    /// That command starts the miner or sets a target: it holds later starts, never a stop.
    pub pending_up: bool,
}

/// The guard that holds a decision back, if any. `safety` marks a safety stop, which
/// ignores `min_on` and the daily switch limit. A pending command holds every decision but a
/// stop while the command is a start or a target (SPEC §24: a stop is always sent and
/// replaces it); a pending stop holds everything until it is verified.
pub fn hold(
    decision: Decision,
    status: MinerStatus,
    safety: bool,
    facts: &SwitchingFacts,
    guards: &Guards,
    now: i64,
) -> Option<String> {
    if decision == Decision::MaintainState {
        return None;
    }
    let stop_over_start = decision == Decision::StopMining && facts.pending_up;
    if facts.pending && !stop_over_start {
        return Some("pending command".into());
    }
    if safety {
        return None;
    }
    let since = facts.last_change_at.map_or(0, |at| (now - at).max(0));
    let (minimum, name) = match decision {
        Decision::StopMining => (guards.min_on, "min_on"),
        _ => (guards.min_off, "min_off"),
    };
    let relevant = match decision {
        Decision::StopMining => matches!(status, MinerStatus::On | MinerStatus::Starting),
        _ => matches!(status, MinerStatus::Off | MinerStatus::Stopping),
    };
    if let Some(minimum) = minimum
        && relevant
        && facts.last_change_at.is_some()
        && since < minimum.as_secs_i64()
    {
        return Some(format!("{name} ({} s left)", minimum.as_secs_i64() - since));
    }
    if let Some(limit) = guards.max_switches_per_day
        && facts.switches_today >= limit
    {
        return Some(format!("max_switches_per_day ({} of {limit} used)", facts.switches_today));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::duration::Span;

    fn guards() -> Guards {
        Guards {
            min_on: Some(Span::secs(900)),
            min_off: Some(Span::secs(600)),
            max_switches_per_day: Some(4),
            ..Guards::default()
        }
    }

    fn facts(last_change_at: i64, switches_today: u32, pending: bool) -> SwitchingFacts {
        SwitchingFacts { last_change_at: Some(last_change_at), switches_today, pending, pending_up: false }
    }

    #[test]
    fn min_on_holds_a_rule_stop_but_not_a_safety_stop() {
        let held = hold(Decision::StopMining, MinerStatus::On, false, &facts(1000, 1, false), &guards(), 1300);
        assert_eq!(held.as_deref(), Some("min_on (600 s left)"));
        assert_eq!(hold(Decision::StopMining, MinerStatus::On, true, &facts(1000, 1, false), &guards(), 1300), None);
        assert_eq!(hold(Decision::StopMining, MinerStatus::On, false, &facts(1000, 1, false), &guards(), 1900), None);
    }

    #[test]
    fn min_off_holds_a_start() {
        let held = hold(Decision::StartMining, MinerStatus::Off, false, &facts(1000, 1, false), &guards(), 1100);
        assert!(held.unwrap().starts_with("min_off"));
    }

    #[test]
    fn the_daily_limit_and_a_pending_command() {
        let held = hold(Decision::StartMining, MinerStatus::Off, false, &facts(0, 4, false), &guards(), 100_000);
        assert!(held.unwrap().starts_with("max_switches_per_day"));
        assert_eq!(hold(Decision::StopMining, MinerStatus::On, true, &facts(0, 9, false), &guards(), 100_000), None);
        let pending = hold(Decision::StopMining, MinerStatus::On, true, &facts(0, 0, true), &guards(), 100_000);
        assert_eq!(pending.as_deref(), Some("pending command"));
        assert_eq!(hold(Decision::MaintainState, MinerStatus::On, false, &facts(0, 9, true), &guards(), 1), None);
    }

    #[test]
    fn a_stop_passes_a_pending_start_but_a_start_does_not() {
        let starting = SwitchingFacts { pending_up: true, ..facts(0, 0, true) };
        assert_eq!(hold(Decision::StopMining, MinerStatus::Starting, true, &starting, &guards(), 100_000), None);
        assert_eq!(hold(Decision::StopMining, MinerStatus::Starting, false, &starting, &guards(), 100_000), None);
        let again = hold(Decision::StartMining, MinerStatus::Off, false, &starting, &guards(), 100_000);
        assert_eq!(again.as_deref(), Some("pending command"));
        // A rule stop still waits for min_on, counted from the start.
        let just_started = SwitchingFacts { pending_up: true, ..facts(99_900, 0, true) };
        let held = hold(Decision::StopMining, MinerStatus::Starting, false, &just_started, &guards(), 100_000);
        assert!(held.unwrap().starts_with("min_on"));
    }

    #[test]
    fn unknown_history_blocks_nothing_but_the_limit() {
        let none = SwitchingFacts::default();
        assert_eq!(hold(Decision::StopMining, MinerStatus::On, false, &none, &guards(), 5), None);
    }
}
