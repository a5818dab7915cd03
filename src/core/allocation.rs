//! Sharing a unit's energy budget between its miners (SPEC §17.2–17.4, §24).
//!
//! [`budget`] turns the unit's energy balance into the watts its miners may draw;
//! [`allocate`] shares them out in strategy order and says, per miner, the target to send
//! and whether to start, stop or wait, from plain inputs and the persisted
//! [`AllocationState`]. Pure: `run`, `rules eval` and `simulate` call the same functions.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::duration::Span;

/// A unit's `allocation:` block.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Allocation {
    /// `rules`: the policy decides on/off, allocation sets watts and gates starts; `auto`:
    /// allocation decides on/off too (stop rules and safety still force stops).
    #[serde(default)]
    pub start_stop: StartStop,
    /// What the miners may use: `surplus` (the battery's charging included) or `export`.
    #[serde(default)]
    pub budget: Basis,
    /// evcc's battery policy: export below `priority_soc`, surplus from it, and up to
    /// `discharge_max` W from the battery from `buffer_soc`.
    pub battery: Option<BatteryPolicy>,
    /// W never allocated.
    #[serde(default = "hundred")]
    pub reserve: f64,
    /// Who is served first: `priority` (the `miners:` order), `efficiency` (lowest J/TH) or
    /// `equal` (one level for all).
    #[serde(default)]
    pub strategy: Strategy,
    /// W: targets round down to min(step, 5 % of power_max); smaller increases are not sent.
    #[serde(default = "fifty")]
    pub step: f64,
    /// Per miner, between two increases; decreases are immediate.
    #[serde(default = "five_minutes")]
    pub min_change_interval: Span,
    /// W above a stopped miner's power_min its share must reach to start it.
    #[serde(default = "hundred")]
    pub start_margin: f64,
    /// How long the budget must have allowed a start before it is made.
    #[serde(default = "five_minutes")]
    pub start_after: Span,
    /// How long a running miner's share must have been nothing before it is stopped.
    #[serde(default = "ten_minutes")]
    pub stop_after: Span,
    /// The hidden-surplus probe for zero-export systems.
    #[serde(default)]
    pub probe: Probe,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StartStop {
    #[default]
    Rules,
    Auto,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    #[default]
    Surplus,
    Export,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// In the order of the unit's `miners:` list.
    #[default]
    Priority,
    /// Lowest J/TH first.
    Efficiency,
    /// Water-filling among the miners whose power_min fits.
    Equal,
}

#[derive(Debug, Clone, Copy, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BatteryPolicy {
    pub priority_soc: f64,
    pub buffer_soc: f64,
    #[serde(default)]
    pub discharge_max: f64,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Probe {
    #[serde(default)]
    pub enabled: bool,
    #[serde(default = "fifty")]
    pub step: f64,
    #[serde(default = "ten_minutes")]
    pub every: Span,
    /// W of grid power either way that still counts as balanced.
    #[serde(default = "fifty")]
    pub grid_tolerance: f64,
}

impl Default for Probe {
    fn default() -> Probe {
        Probe { enabled: false, step: fifty(), every: ten_minutes(), grid_tolerance: fifty() }
    }
}

fn fifty() -> f64 {
    50.0
}

fn hundred() -> f64 {
    100.0
}

fn five_minutes() -> Span {
    Span::secs(300)
}

fn ten_minutes() -> Span {
    Span::secs(600)
}

/// The unit's energy balance this cycle (W; grid + import, battery + charging).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Balance {
    /// What the miners on the energy source draw now (P_m).
    pub miners_power: f64,
    pub grid: Option<f64>,
    pub production: Option<f64>,
    pub consumption: Option<f64>,
    pub battery_power: Option<f64>,
    pub battery_soc: Option<f64>,
    /// The monitor's consumption includes the miners.
    pub consumption_includes_miners: bool,
}

/// What the miners may draw this cycle.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Budget {
    /// `surplus` or `export`, after the battery policy.
    pub basis: Basis,
    /// W, before the reserve: decreases are measured against it.
    pub before_reserve: f64,
    /// W the miners may be given: before_reserve − reserve.
    pub available: f64,
    #[serde(skip)]
    pub miners_power: f64,
    #[serde(skip)]
    pub grid: f64,
    #[serde(skip)]
    pub battery_power: Option<f64>,
    #[serde(skip)]
    pub battery_soc: Option<f64>,
}

/// The budget, or `None` while an input it needs is missing (then no increase, no start).
pub fn budget(settings: &Allocation, balance: &Balance) -> Option<Budget> {
    let battery = balance.battery_power.unwrap_or(0.0);
    let grid = balance.grid.or_else(|| {
        // production + grid = house + miners + battery charging
        let house = balance.consumption? - if balance.consumption_includes_miners { balance.miners_power } else { 0.0 };
        Some(house + balance.miners_power + battery - balance.production?)
    })?;
    let (basis, discharge) = match settings.battery {
        None => (settings.budget, 0.0),
        Some(policy) => {
            let soc = balance.battery_soc?;
            if soc < policy.priority_soc {
                (Basis::Export, 0.0)
            } else if soc < policy.buffer_soc {
                (Basis::Surplus, 0.0)
            } else {
                (Basis::Surplus, policy.discharge_max.max(0.0))
            }
        }
    };
    let before_reserve = match basis {
        Basis::Surplus => balance.miners_power - grid + battery + discharge,
        Basis::Export => balance.miners_power - grid + battery.min(0.0),
    };
    Some(Budget {
        basis,
        before_reserve,
        available: before_reserve - settings.reserve.max(0.0),
        miners_power: balance.miners_power,
        grid,
        battery_power: balance.battery_power,
        battery_soc: balance.battery_soc,
    })
}

/// A miner that takes part in the allocation.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub id: String,
    /// On or starting (a pending start counts).
    pub running: bool,
    /// What it draws now, W (for a pending start or increase: max(measured, target)).
    pub measured: Option<f64>,
    /// The target the firmware holds, W.
    pub target: Option<f64>,
    /// Its range, W; a miner without power-target control has min = max (its fixed power).
    pub min: f64,
    pub max: f64,
    /// It takes a watt target without a restart.
    pub adjustable: bool,
    /// J/TH, for the `efficiency` strategy.
    pub efficiency: Option<f64>,
    /// It may be raised (not within 5 °C of `max_chip_temperature`, no unverified increase).
    pub may_raise: bool,
}

/// What earlier cycles of the allocation remember (persisted per unit, not in a dry run).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AllocationState {
    #[serde(default)]
    pub miners: BTreeMap<String, MinerTimers>,
    #[serde(default)]
    pub probe: ProbeState,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MinerTimers {
    /// Since when the budget has allowed this stopped miner to start.
    pub start_since: Option<i64>,
    /// Since when this running miner's share has been nothing.
    pub short_since: Option<i64>,
    /// When its target was last raised.
    pub last_increase: Option<i64>,
    /// Started by the allocation and not given its first target yet.
    #[serde(default)]
    pub first_target: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProbeState {
    /// The miner the last probe step raised, until the grid confirms it.
    pub miner: Option<String>,
    pub last_step: Option<i64>,
    /// No probe step before this instant (after a step back).
    pub hold_until: Option<i64>,
}

/// What the allocation wants for one miner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Wish {
    /// Keep running (at `target` when one is sent).
    Run,
    /// Running below its share's threshold: kept at power_min, stopped after `stop_after`.
    Grace { seconds_left: i64 },
    /// Stop: its share has been nothing for `stop_after`.
    Stop,
    /// Start now.
    Start,
    /// The budget allows a start; it waits out `start_after`.
    Wait { seconds_left: i64 },
    /// Stay off: the budget does not allow it.
    Off,
}

/// One miner's share of the budget.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Share {
    pub id: String,
    /// W given this cycle (0: nothing).
    pub share: f64,
    /// A new target to send this cycle.
    pub target: Option<f64>,
    pub wish: Wish,
    /// Why, in words.
    pub why: String,
}

impl Share {
    fn of(candidate: &Candidate, share: f64, target: Option<f64>, wish: Wish, why: String) -> Share {
        Share { id: candidate.id.clone(), share, target, wish, why }
    }
}

/// The allocation of one unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Shares {
    pub shares: Vec<Share>,
    pub state: AllocationState,
}

/// Shares the budget out between `candidates` (in the unit's `miners:` order).
pub fn allocate(
    settings: &Allocation,
    budget: Option<&Budget>,
    candidates: &[Candidate],
    previous: &AllocationState,
    now: i64,
) -> Shares {
    let previous = rewound(previous, now);
    let Some(budget) = budget else { return without_budget(candidates, &previous) };
    let order = strategy_order(settings.strategy, candidates);
    let none = vec![false; candidates.len()];
    let share_out = |amount: f64, order: &[usize], reserved: &[bool]| match settings.strategy {
        Strategy::Equal => water_fill(candidates, order, amount, settings.start_margin, reserved),
        _ => greedy(candidates, order, amount, settings.start_margin, reserved),
    };
    let pure = share_out(budget.before_reserve, &order, &none);
    let timers = |c: &Candidate| previous.miners.get(&c.id).cloned().unwrap_or_default();
    let short_since: Vec<Option<i64>> = candidates
        .iter()
        .zip(&pure)
        .map(|(c, share)| (c.running && *share <= 0.0).then(|| timers(c).short_since.unwrap_or(now)))
        .collect();
    let stopping: Vec<bool> =
        short_since.iter().map(|since| since.is_some_and(|s| now - s >= settings.stop_after.as_secs_i64())).collect();
    let grace: Vec<bool> = short_since.iter().zip(&stopping).map(|(s, stop)| s.is_some() && !stop).collect();
    let active: Vec<usize> = order.iter().copied().filter(|i| !stopping[*i]).collect();
    let increase = share_out(budget.available, &active, &grace);
    let decrease = share_out(budget.before_reserve, &active, &grace);
    let tolerance = if settings.probe.enabled { settings.probe.grid_tolerance } else { 0.0 };
    let importing = budget.before_reserve < budget.miners_power - tolerance;
    let mut state = AllocationState { miners: BTreeMap::new(), probe: previous.probe.clone() };
    let mut shares = Vec::with_capacity(candidates.len());
    for (i, candidate) in candidates.iter().enumerate() {
        let mut memory = timers(candidate);
        memory.short_since = short_since[i];
        let view = View {
            settings,
            candidate,
            increase: increase[i],
            decrease: decrease[i],
            importing,
            stopping: stopping[i],
            grace: grace[i],
            now,
        };
        let share = if candidate.running { running(&view, &mut memory) } else { stopped(&view, &mut memory) };
        if memory != MinerTimers::default() {
            state.miners.insert(candidate.id.clone(), memory);
        }
        shares.push(share);
    }
    probe(settings, budget, candidates, &order, &mut shares, &mut state, now);
    Shares { shares, state }
}

/// A clock that went backwards restarts every timer whose start lies in the future (§24).
fn rewound(previous: &AllocationState, now: i64) -> AllocationState {
    let clamp = |at: &mut Option<i64>| {
        if let Some(t) = at.as_mut() {
            *t = (*t).min(now);
        }
    };
    let mut state = previous.clone();
    for timers in state.miners.values_mut() {
        clamp(&mut timers.start_since);
        clamp(&mut timers.short_since);
        clamp(&mut timers.last_increase);
    }
    clamp(&mut state.probe.last_step);
    state
}

/// No budget this cycle: running miners keep what they have, nothing starts or rises.
fn without_budget(candidates: &[Candidate], previous: &AllocationState) -> Shares {
    let shares = candidates
        .iter()
        .map(|c| Share {
            id: c.id.clone(),
            share: if c.running { current(c) } else { 0.0 },
            target: None,
            wish: if c.running { Wish::Run } else { Wish::Off },
            why: "no budget this cycle (an energy input is missing): no start, no increase".into(),
        })
        .collect();
    let mut state = previous.clone();
    for timers in state.miners.values_mut() {
        timers.start_since = None;
    }
    Shares { shares, state }
}

/// Running miners first, each group in strategy order.
fn strategy_order(strategy: Strategy, candidates: &[Candidate]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    let efficiency = |i: usize| candidates[i].efficiency.filter(|e| e.is_finite()).unwrap_or(f64::INFINITY);
    order.sort_by(|a, b| {
        let running = candidates[*b].running.cmp(&candidates[*a].running);
        match strategy {
            Strategy::Efficiency => running.then(efficiency(*a).total_cmp(&efficiency(*b))),
            _ => running,
        }
    });
    order
}

/// What a candidate needs before it gets anything: power_min, plus the margin to start.
fn threshold(candidate: &Candidate, margin: f64) -> f64 {
    candidate.min + if candidate.running { 0.0 } else { margin.max(0.0) }
}

/// `reserved` candidates get power_min first; then each in `order` gets min(max, what is
/// left) when that reaches its threshold, else nothing.
fn greedy(candidates: &[Candidate], order: &[usize], amount: f64, margin: f64, reserved: &[bool]) -> Vec<f64> {
    let mut shares = vec![0.0; candidates.len()];
    let mut left = amount;
    for &i in order.iter().filter(|i| reserved[**i]) {
        shares[i] = candidates[i].min;
        left -= candidates[i].min;
    }
    for &i in order {
        let candidate = &candidates[i];
        if reserved[i] {
            let extra = (candidate.max - candidate.min).min(left).max(0.0);
            shares[i] += extra;
            left -= extra;
        } else if left >= threshold(candidate, margin) {
            shares[i] = candidate.max.min(left);
            left -= shares[i];
        }
    }
    shares
}

/// `equal`: the miners whose threshold fits (in order) share the amount at one level, each
/// clamped to its range.
fn water_fill(candidates: &[Candidate], order: &[usize], amount: f64, margin: f64, reserved: &[bool]) -> Vec<f64> {
    let mut included = Vec::new();
    let mut needed = 0.0;
    for &i in order {
        let need = threshold(&candidates[i], margin);
        if reserved[i] || needed + need <= amount {
            needed += need;
            included.push(i);
        }
    }
    let filled =
        |level: f64| -> f64 { included.iter().map(|&i| level.clamp(candidates[i].min, candidates[i].max)).sum() };
    let (mut low, mut high) = (0.0, included.iter().map(|&i| candidates[i].max).fold(0.0, f64::max));
    for _ in 0..50 {
        let middle = (low + high) / 2.0;
        if filled(middle) <= amount { low = middle } else { high = middle }
    }
    let mut shares = vec![0.0; candidates.len()];
    for &i in &included {
        shares[i] = low.clamp(candidates[i].min, candidates[i].max);
    }
    shares
}

/// What one candidate's share is judged with.
struct View<'a> {
    settings: &'a Allocation,
    candidate: &'a Candidate,
    /// Its share of the available budget (for increases and starts).
    increase: f64,
    /// Its share of the budget before the reserve (for decreases).
    decrease: f64,
    importing: bool,
    stopping: bool,
    grace: bool,
    now: i64,
}

/// The watts a running miner holds now: its target, else what it draws, else its maximum.
fn current(candidate: &Candidate) -> f64 {
    candidate.target.or(candidate.measured).unwrap_or(candidate.max)
}

/// The rounding unit of a miner's targets: min(step, 5 % of power_max), at least 1 W.
fn step_of(settings: &Allocation, candidate: &Candidate) -> f64 {
    settings.step.min(candidate.max * 0.05).max(1.0)
}

/// A share as a target: rounded down to the step, within the range.
fn rounded(settings: &Allocation, candidate: &Candidate, share: f64) -> f64 {
    if !candidate.adjustable {
        return share;
    }
    let step = step_of(settings, candidate);
    ((share / step).floor() * step).clamp(candidate.min, candidate.max)
}

fn running(view: &View, memory: &mut MinerTimers) -> Share {
    let (settings, candidate, now) = (view.settings, view.candidate, view.now);
    let since = memory.short_since.unwrap_or(now);
    let stop_after = settings.stop_after.as_secs_i64();
    let share =
        |share: f64, target: Option<f64>, wish: Wish, why: String| Share::of(candidate, share, target, wish, why);
    if view.stopping {
        let why = format!("share below power_min for {} s (stop_after {} s): stop", now - since, stop_after);
        return share(0.0, None, Wish::Stop, why);
    }
    let held = current(candidate);
    if view.grace {
        let left = stop_after - (now - since);
        let target = (candidate.adjustable && held > candidate.min + 0.5).then_some(candidate.min);
        let why = format!("share below power_min: kept at {:.0} W, stopped in {left} s (stop_after)", candidate.min);
        return share(candidate.min, target, Wish::Grace { seconds_left: left }, why);
    }
    if !candidate.adjustable {
        return share(view.increase, None, Wish::Run, format!("fixed power {:.0} W", view.increase));
    }
    let first = std::mem::take(&mut memory.first_target);
    let raised = rounded(settings, candidate, view.increase);
    let lowered = rounded(settings, candidate, view.decrease);
    let interval = settings.min_change_interval.as_secs_i64();
    let waited = memory.last_increase.is_none_or(|at| now - at >= interval);
    if first {
        memory.last_increase = Some(now);
        let sent = candidate.target.is_some_and(|t| (t - raised).abs() < 0.5);
        return share(
            raised,
            (!sent).then_some(raised),
            Wish::Run,
            format!("first target {raised:.0} W after its start"),
        );
    }
    if view.importing && lowered < held - 0.5 {
        return share(lowered, Some(lowered), Wish::Run, format!("decrease {held:.0} → {lowered:.0} W: over budget"));
    }
    if raised >= held + step_of(settings, candidate) && candidate.may_raise {
        if waited {
            memory.last_increase = Some(now);
            return share(raised, Some(raised), Wish::Run, format!("increase {held:.0} → {raised:.0} W"));
        }
        let left = interval - (now - memory.last_increase.unwrap_or(now));
        let why = format!("increase to {raised:.0} W in {left} s (min_change_interval)");
        return share(held, None, Wish::Run, why);
    }
    share(held, None, Wish::Run, format!("keeps {held:.0} W"))
}

fn stopped(view: &View, memory: &mut MinerTimers) -> Share {
    let (settings, candidate, now) = (view.settings, view.candidate, view.now);
    memory.short_since = None;
    let share =
        |share: f64, target: Option<f64>, wish: Wish, why: String| Share::of(candidate, share, target, wish, why);
    if view.increase <= 0.0 {
        memory.start_since = None;
        let need = threshold(candidate, settings.start_margin);
        return share(0.0, None, Wish::Off, format!("budget does not reach {need:.0} W (power_min + start_margin)"));
    }
    let since = *memory.start_since.get_or_insert(now);
    let left = settings.start_after.as_secs_i64() - (now - since);
    let target = rounded(settings, candidate, view.increase);
    if left > 0 {
        let why = format!("start at {target:.0} W in {left} s (start_after)");
        return share(target, None, Wish::Wait { seconds_left: left }, why);
    }
    memory.start_since = None;
    memory.first_target = candidate.adjustable;
    memory.last_increase = None;
    share(target, candidate.adjustable.then_some(target), Wish::Start, format!("start at {target:.0} W"))
}

/// The hidden-surplus probe (§17.4): on a balanced grid, raise one running miner by a step
/// every `every`; on import (or battery discharge above `discharge_max`) step it back and hold.
fn probe(
    settings: &Allocation,
    budget: &Budget,
    candidates: &[Candidate],
    order: &[usize],
    shares: &mut [Share],
    state: &mut AllocationState,
    now: i64,
) {
    let probe = &settings.probe;
    if !probe.enabled {
        return;
    }
    let discharge_max = settings.battery.map_or(0.0, |b| b.discharge_max);
    let over = budget.grid > probe.grid_tolerance || budget.battery_power.is_some_and(|b| -b > discharge_max);
    if over {
        if let Some(miner) = state.probe.miner.take()
            && let Some(i) = candidates.iter().position(|c| c.id == miner && c.running)
        {
            let back = (current(&candidates[i]) - probe.step).max(candidates[i].min);
            let target = shares[i].target.map_or(back, |t| t.min(back));
            shares[i].target = Some(target);
            shares[i].share = target;
            shares[i].why = format!("probe: import, step back to {target:.0} W and hold");
            state.probe.hold_until = Some(now + probe.every.as_secs_i64());
        }
        return;
    }
    let full = match (settings.battery, budget.battery_soc) {
        (Some(policy), Some(soc)) => soc >= policy.buffer_soc,
        (Some(_), None) => false,
        (None, _) => true,
    };
    let due = state.probe.last_step.is_none_or(|at| now - at >= probe.every.as_secs_i64())
        && state.probe.hold_until.is_none_or(|until| now >= until);
    if !full || budget.grid.abs() > probe.grid_tolerance || !due {
        return;
    }
    let headroom = |i: &usize| {
        let c = &candidates[*i];
        c.running && c.adjustable && c.may_raise && shares[*i].target.is_none() && current(c) + probe.step <= c.max
    };
    let Some(&i) = order.iter().find(|i| headroom(i) && shares[**i].wish == Wish::Run) else { return };
    let target = current(&candidates[i]) + probe.step;
    shares[i].target = Some(target);
    shares[i].share = target;
    shares[i].why = format!("probe: grid balanced, raise to {target:.0} W");
    state.probe.miner = Some(candidates[i].id.clone());
    state.probe.last_step = Some(now);
}

#[cfg(test)]
mod tests;
