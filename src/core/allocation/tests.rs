//! Table tests of the budget and the allocation.

use super::*;

fn settings(yaml: &str) -> Allocation {
    serde_yaml::from_str(yaml).expect("allocation settings")
}

fn braiins(id: &str, running: bool, target: Option<f64>) -> Candidate {
    Candidate {
        id: id.into(),
        running,
        measured: if running { target } else { None },
        target,
        min: 1300.0,
        max: 3200.0,
        adjustable: true,
        efficiency: None,
        may_raise: true,
    }
}

fn fixed(id: &str, running: bool, watts: f64) -> Candidate {
    Candidate {
        id: id.into(),
        running,
        measured: running.then_some(watts),
        target: None,
        min: watts,
        max: watts,
        adjustable: false,
        efficiency: None,
        may_raise: true,
    }
}

/// A budget of `watts` before the reserve, with the miners drawing `miners` W.
fn budget_of(settings: &Allocation, watts: f64, miners: f64) -> Budget {
    let balance = Balance { miners_power: miners, grid: Some(miners - watts), ..Balance::default() };
    budget(settings, &balance).expect("a budget")
}

fn targets(shares: &Shares) -> Vec<Option<f64>> {
    shares.shares.iter().map(|s| s.target).collect()
}

fn wishes(shares: &Shares) -> Vec<Wish> {
    shares.shares.iter().map(|s| s.wish).collect()
}

#[test]
fn budget_follows_the_basis_and_the_battery_policy() {
    // 1 kW of miners, 500 W exported, the battery charging at 800 W.
    let balance = |soc: Option<f64>| Balance {
        miners_power: 1000.0,
        grid: Some(-500.0),
        battery_power: Some(800.0),
        battery_soc: soc,
        ..Balance::default()
    };
    type Case = (&'static str, Option<f64>, Option<(Basis, f64)>);
    let cases: [Case; 7] = [
        ("{reserve: 0}", None, Some((Basis::Surplus, 2300.0))),
        ("{reserve: 0, budget: export}", None, Some((Basis::Export, 1500.0))),
        ("{reserve: 150}", None, Some((Basis::Surplus, 2150.0))),
        (
            "{reserve: 0, battery: {priority_soc: 80, buffer_soc: 95, discharge_max: 600}}",
            Some(50.0),
            Some((Basis::Export, 1500.0)),
        ),
        (
            "{reserve: 0, battery: {priority_soc: 80, buffer_soc: 95, discharge_max: 600}}",
            Some(85.0),
            Some((Basis::Surplus, 2300.0)),
        ),
        (
            "{reserve: 0, battery: {priority_soc: 80, buffer_soc: 95, discharge_max: 600}}",
            Some(97.0),
            Some((Basis::Surplus, 2900.0)),
        ),
        ("{reserve: 0, battery: {priority_soc: 80, buffer_soc: 95}}", None, None),
    ];
    for (yaml, soc, expected) in cases {
        let got = budget(&settings(yaml), &balance(soc)).map(|b| (b.basis, b.available));
        assert_eq!(got, expected, "{yaml} at soc {soc:?}");
    }
}

#[test]
fn export_never_drains_the_battery() {
    let balance = Balance { miners_power: 0.0, grid: Some(-300.0), battery_power: Some(-400.0), ..Balance::default() };
    assert_eq!(budget(&settings("{reserve: 0, budget: export}"), &balance).map(|b| b.available), Some(-100.0));
}

#[test]
fn budget_without_a_grid_sensor_comes_from_production_and_house_load() {
    let balance = Balance {
        miners_power: 1000.0,
        production: Some(5000.0),
        consumption: Some(1600.0),
        battery_power: Some(0.0),
        ..Balance::default()
    };
    assert_eq!(budget(&settings("{reserve: 0}"), &balance).map(|b| b.available), Some(3400.0));
    let including = Balance { consumption: Some(2600.0), consumption_includes_miners: true, ..balance };
    assert_eq!(budget(&settings("{reserve: 0}"), &including).map(|b| b.available), Some(3400.0));
    let missing = Balance { production: None, ..balance };
    assert_eq!(budget(&settings("{}"), &missing), None);
}

#[test]
fn strategies_share_a_budget_differently() {
    let mut a = braiins("a", true, Some(1300.0));
    let mut b = braiins("b", true, Some(1300.0));
    a.efficiency = Some(30.0);
    b.efficiency = Some(20.0);
    let cases = [
        ("{reserve: 0, strategy: priority}", vec![Some(3200.0), None]),
        ("{reserve: 0, strategy: efficiency}", vec![None, Some(3200.0)]),
        ("{reserve: 0, strategy: equal}", vec![Some(2250.0), Some(2250.0)]),
    ];
    for (yaml, expected) in cases {
        let s = settings(yaml);
        let shares =
            allocate(&s, Some(&budget_of(&s, 4500.0, 2600.0)), &[a.clone(), b.clone()], &Default::default(), 0);
        assert_eq!(targets(&shares), expected, "{yaml}");
    }
}

#[test]
fn targets_round_down_to_the_step_and_small_increases_wait() {
    let s = settings("{reserve: 0, step: 50}");
    let miner = braiins("a", true, Some(2000.0));
    let raise = |watts: f64| {
        allocate(&s, Some(&budget_of(&s, watts, 2000.0)), std::slice::from_ref(&miner), &Default::default(), 0)
    };
    assert_eq!(targets(&raise(2449.0)), vec![Some(2400.0)]);
    assert_eq!(targets(&raise(2049.0)), vec![None], "less than a step is not sent");
}

#[test]
fn decreases_are_immediate_and_increases_wait_for_min_change_interval() {
    let s = settings("{reserve: 0, min_change_interval: 5m}");
    let miner = braiins("a", true, Some(2000.0));
    let mut state = AllocationState::default();
    state.miners.insert("a".into(), MinerTimers { last_increase: Some(1000), ..Default::default() });
    let up = allocate(&s, Some(&budget_of(&s, 3000.0, 2000.0)), std::slice::from_ref(&miner), &state, 1100);
    assert_eq!(targets(&up), vec![None], "raised 100 s ago");
    assert!(up.shares[0].why.contains("min_change_interval"), "{}", up.shares[0].why);
    let later = allocate(&s, Some(&budget_of(&s, 3000.0, 2000.0)), std::slice::from_ref(&miner), &state, 1300);
    assert_eq!(targets(&later), vec![Some(3000.0)]);
    assert_eq!(later.state.miners["a"].last_increase, Some(1300));
    let down = allocate(&s, Some(&budget_of(&s, 1500.0, 2000.0)), &[miner], &state, 1100);
    assert_eq!(targets(&down), vec![Some(1500.0)], "a decrease does not wait");
}

#[test]
fn no_decrease_while_the_miners_draw_no_more_than_the_budget() {
    // Zero export: the budget before the reserve equals what the miners draw.
    let s = settings("{reserve: 150}");
    let miner = braiins("a", true, Some(2000.0));
    let shares = allocate(&s, Some(&budget_of(&s, 2000.0, 2000.0)), &[miner], &Default::default(), 0);
    assert_eq!(targets(&shares), vec![None]);
}

#[test]
fn a_start_waits_for_start_after_and_its_margin() {
    let s = settings("{reserve: 0, start_margin: 200, start_after: 5m}");
    let off = braiins("a", false, None);
    let at = |watts: f64, state: &AllocationState, now: i64| {
        allocate(&s, Some(&budget_of(&s, watts, 0.0)), std::slice::from_ref(&off), state, now)
    };
    assert_eq!(wishes(&at(1450.0, &Default::default(), 0)), vec![Wish::Off], "1300 + 200 not reached");
    let first = at(2000.0, &Default::default(), 0);
    assert_eq!(wishes(&first), vec![Wish::Wait { seconds_left: 300 }]);
    let second = at(2000.0, &first.state, 200);
    assert_eq!(wishes(&second), vec![Wish::Wait { seconds_left: 100 }]);
    let third = at(2000.0, &second.state, 300);
    assert_eq!(wishes(&third), vec![Wish::Start]);
    assert_eq!(targets(&third), vec![Some(2000.0)]);
    assert!(third.state.miners["a"].first_target);
    let dipped = at(1000.0, &second.state, 250);
    assert_eq!(wishes(&dipped), vec![Wish::Off]);
    assert_eq!(wishes(&at(2000.0, &dipped.state, 300)), vec![Wish::Wait { seconds_left: 300 }], "the timer restarted");
}

#[test]
fn a_running_miner_keeps_power_min_until_stop_after() {
    let s = settings("{reserve: 0, stop_after: 10m}");
    let miner = braiins("a", true, Some(2000.0));
    let short = |state: &AllocationState, now: i64| {
        allocate(&s, Some(&budget_of(&s, 800.0, 2000.0)), std::slice::from_ref(&miner), state, now)
    };
    let first = short(&Default::default(), 0);
    assert_eq!(wishes(&first), vec![Wish::Grace { seconds_left: 600 }]);
    assert_eq!(targets(&first), vec![Some(1300.0)], "down to power_min at once");
    let later = short(&first.state, 599);
    assert_eq!(wishes(&later), vec![Wish::Grace { seconds_left: 1 }]);
    assert_eq!(wishes(&short(&later.state, 600)), vec![Wish::Stop]);
    let recovered = allocate(&s, Some(&budget_of(&s, 1600.0, 1300.0)), std::slice::from_ref(&miner), &later.state, 599);
    assert_eq!(wishes(&recovered), vec![Wish::Run]);
    assert!(recovered.state.miners.get("a").is_none_or(|t| t.short_since.is_none()));
}

#[test]
fn miners_in_grace_keep_power_min_before_others_are_served() {
    let s = settings("{reserve: 0}");
    let (a, b) = (braiins("a", true, Some(3200.0)), braiins("b", true, Some(1300.0)));
    let mut state = AllocationState::default();
    state.miners.insert("b".into(), MinerTimers { short_since: Some(0), ..Default::default() });
    let shares = allocate(&s, Some(&budget_of(&s, 3500.0, 4500.0)), &[a, b], &state, 60);
    assert_eq!(shares.shares.iter().map(|s| s.share).collect::<Vec<_>>(), vec![2200.0, 1300.0]);
    assert_eq!(wishes(&shares), vec![Wish::Run, Wish::Grace { seconds_left: 540 }]);
}

#[test]
fn fixed_power_miners_start_whole_or_not_at_all() {
    // The scenario: two S19s and a Bitaxe on 4,240 W.
    let s = settings("{reserve: 100, start_after: 0s}");
    let miners = [fixed("s19a", false, 3250.0), fixed("s19b", false, 3250.0), fixed("bitaxe", false, 15.0)];
    let first = allocate(&s, Some(&budget_of(&s, 4240.0, 0.0)), &miners, &Default::default(), 0);
    assert_eq!(wishes(&first), vec![Wish::Start, Wish::Off, Wish::Start]);
    let running = [fixed("s19a", true, 3250.0), fixed("s19b", false, 3250.0), fixed("bitaxe", false, 15.0)];
    // The first S19 draws its power: 990 W left before the reserve.
    let second = allocate(&s, Some(&budget_of(&s, 4240.0, 3250.0)), &running, &first.state, 300);
    assert_eq!(wishes(&second), vec![Wish::Run, Wish::Off, Wish::Start]);
    assert_eq!(targets(&second), vec![None, None, None], "fixed miners get no target");
}

#[test]
fn without_a_budget_nothing_starts_or_rises() {
    let s = settings("{start_after: 0s}");
    let miners = [braiins("a", true, Some(2000.0)), braiins("b", false, None)];
    let shares = allocate(&s, None, &miners, &Default::default(), 0);
    assert_eq!(wishes(&shares), vec![Wish::Run, Wish::Off]);
    assert_eq!(targets(&shares), vec![None, None]);
}

#[test]
fn a_hot_miner_is_not_raised() {
    let s = settings("{reserve: 0}");
    let hot = Candidate { may_raise: false, ..braiins("a", true, Some(2000.0)) };
    let shares = allocate(&s, Some(&budget_of(&s, 3000.0, 2000.0)), &[hot], &Default::default(), 0);
    assert_eq!(targets(&shares), vec![None]);
}

#[test]
fn a_clock_that_went_backwards_restarts_future_timers() {
    let s = settings("{reserve: 0, start_after: 5m}");
    let mut state = AllocationState::default();
    state.miners.insert("a".into(), MinerTimers { start_since: Some(10_000), ..Default::default() });
    let shares = allocate(&s, Some(&budget_of(&s, 2000.0, 0.0)), &[braiins("a", false, None)], &state, 5_000);
    assert_eq!(wishes(&shares), vec![Wish::Wait { seconds_left: 300 }]);
    assert_eq!(shares.state.miners["a"].start_since, Some(5_000));
}

#[test]
fn the_probe_raises_on_a_balanced_grid_and_steps_back_on_import() {
    let s = settings("{reserve: 100, probe: {enabled: true, step: 100, every: 10m, grid_tolerance: 50}}");
    let at = |target: f64, grid: f64, state: &AllocationState, now: i64| {
        let balance = Balance { miners_power: target, grid: Some(grid), ..Balance::default() };
        let budget = budget(&s, &balance).expect("budget");
        allocate(&s, Some(&budget), &[braiins("a", true, Some(target))], state, now)
    };
    let first = at(2000.0, 10.0, &Default::default(), 0);
    assert_eq!(targets(&first), vec![Some(2100.0)]);
    assert_eq!(first.state.probe.miner.as_deref(), Some("a"));
    assert_eq!(targets(&at(2100.0, 0.0, &first.state, 300)), vec![None], "one step every 10 min");
    let second = at(2100.0, -5.0, &first.state, 600);
    assert_eq!(targets(&second), vec![Some(2200.0)]);
    let import = at(2200.0, 180.0, &second.state, 900);
    // It steps back, and the decrease covers the whole import (2200 − 180 W, down to the step).
    assert_eq!(targets(&import), vec![Some(2000.0)], "steps back on import");
    assert_eq!(import.state.probe.hold_until, Some(1500));
    assert_eq!(targets(&at(2000.0, 0.0, &import.state, 1200)), vec![None], "holds for `every`");
    assert_eq!(targets(&at(2000.0, 0.0, &import.state, 1500)), vec![Some(2100.0)]);
}
