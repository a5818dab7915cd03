//! The publish stage (SPEC §21): at the start of a cycle, the modes and power targets set on
//! the dashboard since they were last read or published; at its end, the cycle's states. A
//! publisher that fails is a problem of the cycle (exit 1), never a reason to skip the
//! control work, and its broker is backed off like an HTTP host (§6.3).

use std::collections::BTreeMap;

use crate::config::Config;
use crate::core::mode::{ModeSetting, UnitMode};
use crate::cycle::memory::Memory;
use crate::cycle::outcome::{Problem, RunReport};
use crate::cycle::scope::Scope;
use crate::publish::{Configured, Order, Received};
use crate::transport::Call;

/// What the command topics held that is new, and what went wrong reading them.
#[derive(Debug, Default)]
pub struct Inbox {
    /// (publisher, what its topic held), new since last read or published.
    pub received: Vec<(String, Received)>,
    pub problems: Vec<Problem>,
    pub warnings: Vec<String>,
}

impl Inbox {
    /// The orders understood.
    pub fn orders(&self) -> impl Iterator<Item = (&str, &Order)> {
        self.received.iter().filter_map(|(publisher, r)| Some((publisher.as_str(), r.order.as_ref().ok()?)))
    }
}

/// Reads every publisher the scope's units list; keeps what differs from what was last seen.
pub fn receive(publishers: &[Configured], config: &Config, scope: &Scope, memory: &Memory, call: &Call) -> Inbox {
    let mut inbox = Inbox::default();
    for configured in publishers {
        let served = crate::publish::served(config, &scope.units, &configured.id);
        if served.units.is_empty() {
            continue;
        }
        let result = reach(configured, memory, call, |call| configured.publisher.receive(&served, call));
        let received = match result {
            Ok(received) => received,
            Err(line) => {
                let line = format!("publisher `{}`: cannot read its commands: {line}", configured.id);
                inbox.problems.push(Problem::other(format!("publisher/{}", configured.id), line));
                continue;
            }
        };
        for item in received {
            let key = (configured.id.clone(), item.topic.clone());
            if memory.mqtt_seen.get(&key) == Some(&item.payload) {
                continue;
            }
            // A target for a miner this run may not command waits, unseen, for one that may.
            if let Ok(Order::Target { miner, .. }) = &item.order
                && !scope.commands(miner)
            {
                continue;
            }
            if let Err(why) = &item.order {
                inbox.warnings.push(format!("publisher `{}`: {}: {why}", configured.id, item.topic));
            }
            inbox.received.push((configured.id.clone(), item));
        }
    }
    inbox
}

/// Calls a publisher unless its broker is backed off, and records the outcome.
fn reach<T>(
    configured: &Configured,
    memory: &Memory,
    call: &Call,
    work: impl FnOnce(&Call) -> Result<T, crate::transport::InputError>,
) -> Result<T, String> {
    let endpoint = configured.publisher.endpoint();
    if let Some((until, reason)) = memory.fetcher.backed_off(&endpoint, call.now) {
        return Err(format!("backing off for {} s more after {reason}", until - call.now));
    }
    let result = work(&call.with_timeout(configured.timeout));
    memory.fetcher.settle_other(&endpoint, call.now, result.as_ref().err());
    result.map_err(|e| e.to_string())
}

/// Each unit's mode setting after this cycle's orders (an order is a new setting, now, with
/// no end).
pub fn settings(memory: &Memory, inbox: &Inbox, now: i64) -> BTreeMap<String, ModeSetting> {
    let mut settings = memory.modes.clone();
    for (_, order) in inbox.orders() {
        if let Order::Mode { unit, mode } = order {
            settings.insert(unit.clone(), ModeSetting { mode: *mode, at: now, until: None });
        }
    }
    settings
}

/// The power targets set on the dashboard: (miner, watts, until when the miner is held for
/// it, by its publisher's `target_hold`).
pub fn targets(publishers: &[Configured], inbox: &Inbox, now: i64) -> Vec<(String, f64, i64)> {
    inbox
        .orders()
        .filter_map(|(publisher, order)| match order {
            Order::Target { miner, watts } => {
                let hold = publishers.iter().find(|p| p.id == publisher).map_or(3600, |p| p.publisher.target_hold());
                Some((miner.clone(), *watts, now + hold))
            }
            Order::Mode { .. } => None,
        })
        .collect()
}

/// The mode in force for each of the scope's units.
pub fn modes(scope: &Scope, settings: &BTreeMap<String, ModeSetting>, now: i64) -> BTreeMap<String, UnitMode> {
    scope.units.iter().map(|u| (u.id.clone(), ModeSetting::at(settings.get(&u.id), now))).collect()
}

/// Publishes the cycle to every publisher the scope's units list; a failure becomes an
/// error of the report (exit 1). Returns each publisher's discovery topics, to remember.
pub fn publish(
    publishers: &[Configured],
    config: &Config,
    scope: &Scope,
    memory: &Memory,
    report: &mut RunReport,
    modes: &BTreeMap<String, UnitMode>,
    call: &Call,
) -> Vec<(String, Vec<String>)> {
    let mut discovered = Vec::new();
    let mut problems = Vec::new();
    for configured in publishers {
        let served = crate::publish::served(config, &scope.units, &configured.id);
        if served.units.is_empty() {
            continue;
        }
        let snapshot = crate::publish::snapshot(report, &served, modes);
        let previous = memory.discovery.get(&configured.id).cloned().unwrap_or_default();
        match reach(configured, memory, call, |call| configured.publisher.publish(&snapshot, &previous, call)) {
            Ok(topics) => discovered.push((configured.id.clone(), topics)),
            Err(line) => {
                let line = format!("publisher `{}`: cannot publish: {line}", configured.id);
                problems.push(Problem::other(format!("publisher/{}", configured.id), line));
            }
        }
    }
    if !problems.is_empty() {
        problems.iter().for_each(|p| log::error!("{p}"));
        report.errors.extend(problems);
        report.exit_code = crate::exit::DEGRADED;
    }
    discovered
}
