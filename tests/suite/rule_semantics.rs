//! SPEC §7.4 operator semantics and their edge cases, `for:` timers, and an Edge Mining
//! policy with nested groups evaluated as the reference would.

use std::path::Path;

use edge_mining::core::context::complete;
use edge_mining::core::status::MinerStatus;
use edge_mining::rules::decide::{Timers, decide};
use edge_mining::rules::eval::{apply, holds};
use edge_mining::rules::load::{RuleFile, parse_condition, parse_text};
use edge_mining::rules::model::{Decision, Operator, RuleSet};
use serde_json::{Value, json};

fn holds_on(yaml: &str, context: Value) -> bool {
    let mut context = context;
    complete(&mut context);
    holds(&parse_condition(yaml).unwrap_or_else(|e| panic!("{yaml}: {e:?}")), &context)
}

#[test]
fn eq_and_ne_never_convert_between_numbers_and_strings() {
    assert!(!apply(Operator::Eq, &json!(14), &json!("14")));
    assert!(apply(Operator::Ne, &json!(14), &json!("14")));
    assert!(!apply(Operator::Eq, &json!(3500.0), &json!("3500")));
    assert!(apply(Operator::Eq, &json!(3500.0), &json!(3500)));
    assert!(!apply(Operator::Eq, &json!(true), &json!(1)));
}

#[test]
fn ordering_converts_numeric_strings_and_booleans() {
    assert!(apply(Operator::Gt, &json!("3000"), &json!(2999)));
    assert!(apply(Operator::Gte, &json!(true), &json!(1)));
    assert!(apply(Operator::Lt, &json!(false), &json!(0.5)));
    assert!(!apply(Operator::Gt, &json!("lots"), &json!(1)));
    assert!(!apply(Operator::Gt, &json!([5]), &json!(1)));
    assert!(!apply(Operator::Gt, &json!({"value": 5}), &json!(1)));
}

#[test]
fn membership_lists_substrings_and_mismatches() {
    assert!(apply(Operator::In, &json!(3500.0), &json!([3500])));
    assert!(apply(Operator::In, &json!("solar_roof"), &json!("xx solar_roof yy")));
    assert!(!apply(Operator::In, &json!(5), &json!("5 6 7")), "a number in a string is a type mismatch");
    assert!(!apply(Operator::In, &json!("5"), &json!(5)));
    assert!(!apply(Operator::NotIn, &json!(5), &json!("5 6 7")), "not_in over a mismatch is false too");
    assert!(apply(Operator::NotIn, &json!("wind"), &json!(["solar", "hydro"])));
    assert!(!apply(Operator::In, &json!("14"), &json!([14])));
}

#[test]
fn text_operators_print_numbers_as_written() {
    assert!(apply(Operator::Contains, &json!(3500.5), &json!("500.5")));
    assert!(apply(Operator::StartsWith, &json!(42), &json!(4)));
    assert!(apply(Operator::Contains, &json!([3000, 3100]), &json!("3000")));
}

#[test]
fn regex_matches_at_the_start_only() {
    assert!(apply(Operator::Regex, &json!("TH/s"), &json!("TH")));
    assert!(!apply(Operator::Regex, &json!("TH/s"), &json!("H/s")));
    assert!(apply(Operator::Regex, &json!("S19 XP"), &json!("S19|S21")));
    assert!(!apply(Operator::Regex, &json!("anything"), &json!("(unclosed")), "invalid at run time is false");
    assert!(parse_condition("{field: miner.model, operator: regex, value: \"(unclosed\"}").is_err());
}

#[test]
fn enumerations_compare_case_insensitively() {
    let on = json!({"miner_state": {"status": "error"}, "energy_source": {"type": "solar"}});
    assert!(holds_on("{field: miner_state.status, operator: eq, value: ERROR}", on.clone()));
    assert!(holds_on("{field: miner_state.status, operator: in, value: [ON, ERROR]}", on.clone()));
    assert!(holds_on("{field: energy_source.type, operator: ne, value: Wind}", on.clone()));
    assert!(!holds_on("{field: miner.model, operator: eq, value: s19}", json!({"miner": {"model": "S19"}})));
    let payout = json!({"mining_performance": {"payout_schedule": {"frequency": "per_block"}}});
    assert!(holds_on("{field: mining_performance.payout_schedule.frequency, operator: eq, value: PER_BLOCK}", payout));
}

#[test]
fn not_over_a_missing_field_is_true() {
    let no_forecast = json!({"energy_state": {"production": 100}});
    assert!(holds_on("not_: {field: forecast.next_hour_power, operator: gt, value: 1000}", no_forecast));
}

#[test]
fn operator_names_are_case_insensitive() {
    assert!(holds_on(
        "{field: energy_state.production, operator: GT, value: 10}",
        json!({"energy_state": {"production": 11}})
    ));
}

#[test]
fn field_paths_that_cannot_exist_are_rejected_with_the_choices() {
    let errors = parse_condition("{field: energy_state.battery.soc, operator: gt, value: 1}").unwrap_err();
    assert!(errors[0].message.contains("state_of_charge"), "{}", errors[0].message);
    assert!(parse_condition("{all_of: [], any_of: []}").unwrap_err()[0].message.contains("exactly one group key"));
}

/// An Edge Mining policy as users write it: nested all_of / any_of / not_.
const NESTED_POLICY: &str = r#"
id: 5b0e8a36-6d55-4f0c-9d8e-3c1f6c1d2a10
name: Nested solar policy
metadata: {author: Edge Mining User, version: 3}
start_rules:
  - id: 0c4a1f40-1b9f-4e73-8d3f-6c3d7e5d9a01
    name: Sunny and charged, not at peak tariff
    priority: 10
    conditions:
      all_of:
        - any_of:
            - {field: energy_state.production, operator: gte, value: 3000}
            - all_of:
                - {field: energy_state.battery.state_of_charge, operator: gte, value: 90}
                - {field: energy_state.production, operator: gt, value: 500}
        - not_:
            all_of:
              - {field: timestamp.hour, operator: gte, value: 18}
              - {field: timestamp.hour, operator: lt, value: 21}
        - {field: miner_state.status, operator: in, value: [off, error, unknown]}
stop_rules:
  - id: 0c4a1f40-1b9f-4e73-8d3f-6c3d7e5d9a02
    name: Low battery or heavy import
    priority: 20
    conditions:
      any_of:
        - {field: energy_state.battery.state_of_charge, operator: lt, value: 30}
        - all_of:
            - {field: energy_state.grid.current_power, operator: gt, value: 1000}
            - not_: {field: forecast.next_hour_power, operator: gt, value: 4000}
"#;

#[test]
fn a_nested_edge_mining_policy_decides_as_the_reference() {
    let (file, diagnostics) = parse_text(Path::new("policy.yaml"), NESTED_POLICY);
    assert!(diagnostics.iter().all(|d| !d.is_error()), "{diagnostics:?}");
    let Some(RuleFile::Policy { start, stop, .. }) = file else { panic!("a policy") };
    let policy = RuleSet::new(None, start, stop);
    let decide_on = |context: Value| {
        let mut context = context;
        complete(&mut context);
        let status = MinerStatus::parse(context["miner_state"]["status"].as_str().unwrap()).unwrap();
        decide(&policy, &context, status, 0, &Timers::new()).decision
    };
    // Computed by hand with the reference semantics (none of these contexts touches a deviation).
    let cases = [
        (
            json!({"timestamp": "2026-06-01T12:00:00+02:00", "miner_state": {"status": "off"}, "energy_state": {"production": 3500}}),
            Decision::StartMining,
        ),
        (
            json!({"timestamp": "2026-06-01T19:00:00+02:00", "miner_state": {"status": "off"}, "energy_state": {"production": 3500}}),
            Decision::MaintainState,
        ),
        (
            json!({"timestamp": "2026-06-01T17:00:00+02:00", "miner_state": {"status": "off"}, "energy_state": {"production": 800, "battery": {"state_of_charge": 95}}}),
            Decision::StartMining,
        ),
        (
            json!({"timestamp": "2026-06-01T17:00:00+02:00", "miner_state": {"status": "off"}, "energy_state": {"production": 400, "battery": {"state_of_charge": 95}}}),
            Decision::MaintainState,
        ),
        (
            json!({"timestamp": "2026-06-01T12:00:00+02:00", "miner_state": {"status": "on"}, "energy_state": {"battery": {"state_of_charge": 25}}}),
            Decision::StopMining,
        ),
        (
            json!({"timestamp": "2026-06-01T12:00:00+02:00", "miner_state": {"status": "on"}, "energy_state": {"grid": {"current_power": 1500}}}),
            Decision::StopMining,
        ),
        (
            json!({"timestamp": "2026-06-01T12:00:00+02:00", "miner_state": {"status": "on"}, "energy_state": {"grid": {"current_power": 1500}}, "forecast": {"next_hour_power": 5000}}),
            Decision::MaintainState,
        ),
        (
            json!({"timestamp": "2026-06-01T12:00:00+02:00", "miner_state": {"status": "starting"}, "energy_state": {"battery": {"state_of_charge": 5}}}),
            Decision::MaintainState,
        ),
    ];
    for (index, (context, expected)) in cases.into_iter().enumerate() {
        assert_eq!(decide_on(context), expected, "case {index}");
    }
}

#[test]
fn start_rules_only_for_idle_stop_rules_only_for_running() {
    let text = "start_rules: [{name: s, conditions: {field: energy_state.production, operator: gt, value: 0}}]\n\
                stop_rules: [{name: t, conditions: {field: energy_state.production, operator: gt, value: 0}}]\nname: p\n";
    let Some(RuleFile::Policy { start, stop, .. }) = parse_text(Path::new("p.yaml"), text).0 else { panic!() };
    let policy = RuleSet::new(None, start, stop);
    let context = json!({"energy_state": {"production": 10}});
    let expected = [
        (MinerStatus::Off, Decision::StartMining),
        (MinerStatus::Error, Decision::StartMining),
        (MinerStatus::Unknown, Decision::StartMining),
        (MinerStatus::On, Decision::StopMining),
        (MinerStatus::Starting, Decision::MaintainState),
        (MinerStatus::Stopping, Decision::MaintainState),
    ];
    for (status, decision) in expected {
        assert_eq!(decide(&policy, &context, status, 0, &Timers::new()).decision, decision, "{status}");
    }
}

#[test]
fn for_timers_start_hold_fire_and_reset() {
    let text =
        "rules: [{name: long, for: 10m, conditions: {field: energy_state.production, operator: gt, value: 1000}}]";
    let Some(RuleFile::List(rules)) = parse_text(Path::new("r.yaml"), text).0 else { panic!() };
    let set = RuleSet::new(None, rules, vec![]);
    let sunny = json!({"energy_state": {"production": 2000}});
    let cloudy = json!({"energy_state": {"production": 200}});
    let first = decide(&set, &sunny, MinerStatus::Off, 1000, &Timers::new());
    assert_eq!(first.decision, Decision::MaintainState);
    assert_eq!(first.waiting, vec![("long".to_string(), 600)]);
    let later = decide(&set, &sunny, MinerStatus::Off, 1300, &first.timers);
    assert_eq!(later.decision, Decision::MaintainState);
    let fired = decide(&set, &sunny, MinerStatus::Off, 1600, &later.timers);
    assert_eq!(fired.decision, Decision::StartMining);
    let reset = decide(&set, &cloudy, MinerStatus::Off, 1700, &fired.timers);
    assert!(reset.timers.is_empty(), "a cycle where the conditions fail resets the timer");
    let again = decide(&set, &sunny, MinerStatus::Off, 1800, &reset.timers);
    assert_eq!(again.decision, Decision::MaintainState);
}

#[test]
fn for_timers_survive_a_clock_that_goes_backwards() {
    let text =
        "rules: [{name: long, for: 10m, conditions: {field: energy_state.production, operator: gt, value: 1000}}]";
    let Some(RuleFile::List(rules)) = parse_text(Path::new("r.yaml"), text).0 else { panic!() };
    let set = RuleSet::new(None, rules, vec![]);
    let sunny = json!({"energy_state": {"production": 2000}});
    let first = decide(&set, &sunny, MinerStatus::Off, 10_000, &Timers::new());
    let back = decide(&set, &sunny, MinerStatus::Off, 5_000, &first.timers);
    assert_eq!(back.decision, Decision::MaintainState);
    assert_eq!(back.timers.values().copied().collect::<Vec<_>>(), vec![5_000], "restarted, never negative");
}

#[test]
fn unknown_rule_keys_warn_and_invalid_rules_name_the_rule_and_line() {
    let text = "rules:\n  - name: ok rule\n    tags: [x]\n    conditions: {field: energy_state.production, operator: gt, value: 1}\n  - name: broken rule\n    conditions: {field: energy_state.production, operator: between, value: 1}\n";
    let (file, diagnostics) = parse_text(Path::new("r.yaml"), text);
    assert!(file.is_none());
    let warning = diagnostics.iter().find(|d| !d.is_error()).unwrap();
    assert!(warning.message.contains("unknown key `tags`"), "{warning}");
    let error = diagnostics.iter().find(|d| d.is_error()).unwrap().to_string();
    assert!(error.starts_with("r.yaml:6:"), "{error}");
    assert!(error.contains("rule `broken rule`") && error.contains("unknown operator `between`"), "{error}");
}
