//! The policy decision for one miner (SPEC §7.5 step 2), with `for:` timers.
//!
//! Pure: the caller passes the timers persisted by earlier cycles and the current instant,
//! and receives the decision together with the timers to persist.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::core::status::MinerStatus;
use crate::rules::eval::Evaluator;
use crate::rules::model::{Decision, Rule, RuleKind, RuleSet};

/// When each rule's conditions started to hold (unix seconds), by `Rule::timer_key`.
pub type Timers = BTreeMap<String, i64>;

#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub decision: Decision,
    /// The rule that decided, if any.
    pub rule: Option<String>,
    /// Rules whose conditions hold but whose `for:` has not elapsed yet: (name, seconds left).
    pub waiting: Vec<(String, i64)>,
    /// The timers to keep for the next cycle (all others are reset).
    pub timers: Timers,
}

/// Which rule list applies to a status: start rules when idle, stop rules when running.
pub fn applicable(status: MinerStatus) -> Option<RuleKind> {
    match status {
        MinerStatus::Off | MinerStatus::Error | MinerStatus::Unknown => Some(RuleKind::Start),
        MinerStatus::On => Some(RuleKind::Stop),
        MinerStatus::Starting | MinerStatus::Stopping => None,
    }
}

/// Evaluates the applicable rules in priority order; the first that holds (and whose `for:`
/// is satisfied) decides. Rules with `for:` are evaluated every cycle so their timers stay true.
pub fn decide(rules: &RuleSet, context: &Value, status: MinerStatus, now: i64, previous: &Timers) -> Verdict {
    let mut verdict =
        Verdict { decision: Decision::MaintainState, rule: None, waiting: Vec::new(), timers: Timers::new() };
    let Some(kind) = applicable(status) else { return verdict };
    let evaluator = Evaluator::new(context);
    for rule in rules.rules(kind).iter().filter(|rule| rule.enabled) {
        let decided = verdict.rule.is_some();
        if decided && rule.hold_for.is_none() {
            continue;
        }
        if !evaluator.holds(&rule.conditions) {
            continue;
        }
        if ready(rule, kind, now, previous, &mut verdict) && !decided {
            verdict.decision = match kind {
                RuleKind::Start => Decision::StartMining,
                RuleKind::Stop => Decision::StopMining,
            };
            verdict.rule = Some(rule.name.clone());
        }
    }
    verdict
}

/// Records the rule's timer and says whether its `for:` has elapsed.
fn ready(rule: &Rule, kind: RuleKind, now: i64, previous: &Timers, verdict: &mut Verdict) -> bool {
    let Some(hold_for) = rule.hold_for else { return true };
    let key = rule.timer_key(kind);
    // A clock that went backwards restarts the timer rather than producing a negative age.
    let since = previous.get(&key).copied().filter(|since| *since <= now).unwrap_or(now);
    verdict.timers.insert(key, since);
    let left = hold_for.as_secs_i64() - (now - since);
    if left > 0 {
        verdict.waiting.push((rule.name.clone(), left));
    }
    left <= 0
}
