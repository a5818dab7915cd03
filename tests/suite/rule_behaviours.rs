//! The 29 rule-engine behaviours of Edge Mining's unit tests (reference §2.9), adapted to the
//! deliberate fixes of SPEC §7.5 (integer weekday, case-insensitive enums, no runtime errors).

use std::path::Path;

use edge_mining::core::context::complete;
use edge_mining::core::status::MinerStatus;
use edge_mining::rules::decide::{Timers, decide};
use edge_mining::rules::eval::{apply, holds, resolve};
use edge_mining::rules::load::{RuleFile, parse_condition, parse_text};
use edge_mining::rules::model::{Condition, Decision, FieldPath, Leaf, Operand, Operator, Rule, RuleSet};
use serde_json::{Value, json};

fn context(value: Value) -> Value {
    let mut value = value;
    complete(&mut value);
    value
}

fn cond(yaml: &str) -> Condition {
    parse_condition(yaml).unwrap_or_else(|e| panic!("{yaml}: {e:?}"))
}

/// A leaf built directly, for paths that validation would (rightly) reject.
fn raw_leaf(field: &str, operator: Operator, value: Value) -> Condition {
    let number = edge_mining::rules::eval::as_f64(&value);
    Condition::Leaf(Leaf {
        field: path(field),
        operator,
        operand: Operand::Value(value),
        pattern: None,
        enumeration: false,
        number,
    })
}

fn path(text: &str) -> FieldPath {
    FieldPath::parse(text).unwrap()
}

fn soc(value: f64) -> Value {
    context(json!({"energy_state": {"battery": {"state_of_charge": value}, "production": 1200}}))
}

fn rule(name: &str, priority: i64, enabled: bool, conditions: &str) -> Rule {
    Rule { id: None, name: name.into(), conditions: cond(conditions), priority, enabled, hold_for: None }
}

fn first_match(rules: Vec<Rule>, ctx: &Value) -> Option<String> {
    let set = RuleSet::new(None, rules, vec![]);
    decide(&set, ctx, MinerStatus::Off, 0, &Timers::new()).rule
}

const SOC_GT_50: &str = "{field: energy_state.battery.state_of_charge, operator: gt, value: 50}";

#[test]
fn b01_leaf_on_soc() {
    assert!(holds(&cond(SOC_GT_50), &soc(75.0)));
}

#[test]
fn b02_all_of_two_leaves() {
    let both = |threshold: i64| {
        cond(&format!(
            "all_of: [{{field: energy_state.battery.state_of_charge, operator: gt, value: {threshold}}},
                      {{field: energy_state.production, operator: gt, value: 1000}}]"
        ))
    };
    assert!(holds(&both(50), &soc(75.0)), "both leaves hold");
    assert!(!holds(&both(80), &soc(75.0)), "one leaf fails: all_of is false where any_of would hold");
}

#[test]
fn b03_plain_string_conditions_are_unsupported() {
    let errors = parse_condition("\"energy_state.production > 5\"").unwrap_err();
    assert!(errors[0].message.contains("unsupported condition type"), "{errors:?}");
}

#[test]
fn b04_leaf_keeps_field_operator_value() {
    match cond("{field: miner_state.status, operator: eq, value: \"ON\"}") {
        Condition::Leaf(leaf) => {
            assert_eq!(leaf.field.text, "miner_state.status");
            assert_eq!(leaf.operator, Operator::Eq);
            assert!(matches!(leaf.operand, Operand::Value(ref v) if v == "ON"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn b05_group_with_one_child() {
    match cond(&format!("all_of: [{SOC_GT_50}]")) {
        Condition::AllOf(children) => assert_eq!(children.len(), 1),
        other => panic!("{other:?}"),
    }
}

#[test]
fn b06_unknown_keys_are_an_invalid_format() {
    let errors = parse_condition("{invalid_key: 1}").unwrap_err();
    assert!(errors[0].message.contains("invalid conditions format"), "{errors:?}");
}

#[test]
fn b07_non_mapping_is_rejected() {
    let errors = parse_condition("[1, 2]").unwrap_err();
    assert!(errors[0].message.contains("expected conditions to be a dict"), "{errors:?}");
}

#[test]
fn b08_unknown_operator_is_rejected() {
    let errors = parse_condition("{field: energy_state.production, operator: invalid_operator, value: 1}").unwrap_err();
    assert!(errors[0].message.contains("unknown operator"), "{errors:?}");
}

#[test]
fn b09_missing_paths_resolve_to_nothing() {
    let ctx = soc(75.0);
    assert!(resolve(&ctx, &path("non.existent.field")).is_none());
    assert!(resolve(&ctx, &path("non_existent")).is_none());
    assert!(resolve(&ctx, &path("energy_state.missing.field")).is_none());
    assert!(!holds(&raw_leaf("energy_state.missing.field", Operator::Gt, json!(1)), &ctx));
    assert!(parse_condition("{field: energy_state.missing.field, operator: gt, value: 1}").is_err(), "validation");
}

#[test]
fn b10_null_field_with_gt_is_false() {
    let ctx = context(json!({"energy_state": {"production": null}}));
    assert!(!holds(&cond("{field: energy_state.production, operator: gt, value: 0}"), &ctx));
}

#[test]
fn b11_lookups_through_a_scalar_are_false() {
    let ctx = soc(75.0);
    assert!(resolve(&ctx, &path("energy_state.production.value")).is_none());
    assert!(!holds(&raw_leaf("energy_state.production.value", Operator::Gt, json!(0)), &ctx));
}

#[test]
fn b12_empty_group_never_loads_and_would_be_false() {
    assert!(parse_condition("{all_of: []}").is_err());
    assert!(!holds(&Condition::AnyOf(vec![]), &soc(50.0)));
}

#[test]
fn b13_scalar_table() {
    assert!(apply(Operator::Gt, &json!(80), &json!(70)));
    assert!(!apply(Operator::Gt, &json!(60), &json!(70)));
    assert!(apply(Operator::Gte, &json!(1500), &json!(1000)));
    assert!(apply(Operator::Eq, &json!("ON"), &json!("ON")));
    assert!(apply(Operator::Ne, &json!("OFF"), &json!("ERROR")));
}

#[test]
fn b14_resolver_returns_objects_and_values() {
    let ctx = soc(75.0);
    assert!(resolve(&ctx, &path("energy_state")).unwrap().is_object());
    assert_eq!(*resolve(&ctx, &path("energy_state.battery.state_of_charge")).unwrap(), json!(75.0));
}

#[test]
fn b15_operator_table() {
    let cases: [(Operator, Value, Value, bool); 26] = [
        (Operator::Eq, json!(75), json!(75), true),
        (Operator::Eq, json!(75), json!(50), false),
        (Operator::Ne, json!(75), json!(50), true),
        (Operator::Ne, json!(75), json!(75), false),
        (Operator::Gt, json!(75), json!(50), true),
        (Operator::Gt, json!(50), json!(75), false),
        (Operator::Gte, json!(75), json!(50), true),
        (Operator::Gte, json!(75), json!(75), true),
        (Operator::Gte, json!(50), json!(75), false),
        (Operator::Lt, json!(50), json!(75), true),
        (Operator::Lt, json!(75), json!(50), false),
        (Operator::Lte, json!(50), json!(75), true),
        (Operator::Lte, json!(75), json!(75), true),
        (Operator::Lte, json!(75), json!(50), false),
        (Operator::In, json!("ON"), json!(["ON", "OFF", "ERROR"]), true),
        (Operator::In, json!("STARTING"), json!(["ON", "OFF", "ERROR"]), false),
        (Operator::NotIn, json!("STARTING"), json!(["ON", "OFF", "ERROR"]), true),
        (Operator::NotIn, json!("ON"), json!(["ON", "OFF", "ERROR"]), false),
        (Operator::Contains, json!("solar_panel_1"), json!("solar"), true),
        (Operator::Contains, json!("battery_monitor"), json!("solar"), false),
        (Operator::StartsWith, json!("HIGH_PRIORITY"), json!("HIGH"), true),
        (Operator::StartsWith, json!("LOW_PRIORITY"), json!("HIGH"), false),
        (Operator::EndsWith, json!("SYSTEM_LEVEL"), json!("LEVEL"), true),
        (Operator::EndsWith, json!("SYSTEM_STATE"), json!("LEVEL"), false),
        (Operator::Regex, json!("12345"), json!("^\\d+$"), true),
        (Operator::Regex, json!("abc123"), json!("^\\d+$"), false),
    ];
    for (operator, field, value, expected) in cases {
        assert_eq!(apply(operator, &field, &value), expected, "{field} {operator} {value}");
    }
}

#[test]
fn b16_mismatches_are_false_not_errors() {
    assert!(!apply(Operator::Gt, &json!("not_a_number"), &json!(50)));
    assert!(!apply(Operator::Gt, &Value::Null, &json!(50)));
    assert!(Operator::parse("between").is_err());
}

#[test]
fn b17_weekday_is_an_integer_with_monday_zero() {
    let weekend = cond("{field: timestamp.weekday, operator: in, value: [5, 6]}");
    assert!(holds(&weekend, &context(json!({"timestamp": "2026-06-06T10:00:00+02:00"}))), "Saturday");
    assert!(!holds(&weekend, &context(json!({"timestamp": "2026-06-08T10:00:00+02:00"}))), "Monday");
}

#[test]
fn b18_map_keys_are_traversed() {
    let ctx = json!({"miner_state": {"sources": {"hash_rate": "asic"}}, "home_load": null});
    assert_eq!(*resolve(&ctx, &path("miner_state.sources.hash_rate")).unwrap(), json!("asic"));
    assert!(resolve(&ctx, &path("miner_state.sources.power_consumption")).is_none());
    assert!(resolve(&ctx, &path("home_load.devices.boiler.forecast")).is_none());
    let ctx = json!({"miner_state": {"hashboards": [{"chip_temperature": 71.0}, {"chip_temperature": 88.0}]}});
    assert!(holds(&cond("{field: miner_state.hashboards.1.chip_temperature, operator: gt, value: 85}"), &ctx));
}

#[test]
fn b19_rule_sets_start_empty_and_are_replaced_whole() {
    let empty = RuleSet::default();
    assert!(empty.start.is_empty() && empty.stop.is_empty());
    let set = RuleSet::new(None, vec![rule("a", 0, true, SOC_GT_50), rule("b", 0, true, SOC_GT_50)], vec![]);
    assert_eq!(set.start.len(), 2);
}

#[test]
fn b20_no_rules_means_maintain() {
    let verdict = decide(&RuleSet::default(), &soc(99.0), MinerStatus::Off, 0, &Timers::new());
    assert_eq!(verdict.decision, Decision::MaintainState);
    assert_eq!(verdict.rule, None);
}

#[test]
fn b21_one_rule_matches_or_not() {
    assert_eq!(first_match(vec![rule("soc", 0, true, SOC_GT_50)], &soc(75.0)).as_deref(), Some("soc"));
    assert_eq!(first_match(vec![rule("soc", 0, true, SOC_GT_50)], &soc(25.0)), None);
}

#[test]
fn b22_highest_priority_first_and_stable() {
    let rules = vec![
        rule("a", 5, true, SOC_GT_50),
        rule("b", 10, true, SOC_GT_50),
        rule("c", 5, true, SOC_GT_50),
        rule("d", 10, true, SOC_GT_50),
    ];
    let set = RuleSet::new(None, rules, vec![]);
    let order: Vec<&str> = set.start.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(order, ["b", "d", "a", "c"]);
    assert_eq!(decide(&set, &soc(75.0), MinerStatus::Off, 0, &Timers::new()).rule.as_deref(), Some("b"));
}

#[test]
fn b23_disabled_rules_are_skipped() {
    let rules = vec![rule("disabled", 15, false, SOC_GT_50), rule("enabled", 1, true, SOC_GT_50)];
    assert_eq!(first_match(rules, &soc(75.0)).as_deref(), Some("enabled"));
}

#[test]
fn b24_a_failing_comparison_does_not_stop_later_rules() {
    let bad = "{field: miner_state.status, operator: gt, value: 10}";
    let rules = vec![rule("bad", 10, true, bad), rule("good", 1, true, SOC_GT_50)];
    let ctx = context(json!({"miner_state": {"status": "off"}, "energy_state": {"battery": {"state_of_charge": 75}}}));
    assert_eq!(first_match(rules, &ctx).as_deref(), Some("good"));
}

fn climate() -> Value {
    json!({"climate": {"zones": {"bedroom": {"temperature_celsius": 18.5, "target_temperature": 21.0}}},
           "energy_state": {"battery": {"state_of_charge": 60}}})
}

const BEDROOM: &str = "climate.zones.bedroom.temperature_celsius";
const TARGET: &str = "climate.zones.bedroom.target_temperature";

#[test]
fn b25_value_ref_compares_two_fields() {
    let leaf = |op: &str| cond(&format!("{{field: {BEDROOM}, operator: {op}, value_ref: {TARGET}}}"));
    assert!(holds(&leaf("lt"), &climate()));
    assert!(!holds(&leaf("gt"), &climate()));
    assert!(!holds(&leaf("eq"), &climate()));
}

#[test]
fn b26_value_ref_to_nothing_is_false() {
    let missing =
        cond(&format!("{{field: {BEDROOM}, operator: lt, value_ref: climate.zones.bedroom.hysteresis_celsius}}"));
    assert!(!holds(&missing, &climate()));
    let no_root = cond(&format!("{{field: energy_state.battery.state_of_charge, operator: lt, value_ref: {TARGET}}}"));
    assert!(!holds(&no_root, &json!({"energy_state": {"battery": {"state_of_charge": 10}}, "climate": null})));
}

#[test]
fn b27_value_ref_inside_groups() {
    let all = cond(&format!("all_of: [{SOC_GT_50}, {{field: {BEDROOM}, operator: lt, value_ref: {TARGET}}}]"));
    assert!(holds(&all, &climate()));
    let any = cond(&format!("any_of: [{{field: {BEDROOM}, operator: gt, value_ref: {TARGET}}}, {SOC_GT_50}]"));
    assert!(holds(&any, &climate()));
}

#[test]
fn b28_value_ref_from_a_rule_file() {
    let text =
        format!("rules:\n  - name: warm up\n    conditions: {{field: {BEDROOM}, operator: lt, value_ref: {TARGET}}}\n");
    let (file, _) = parse_text(Path::new("r.yaml"), &text);
    let Some(RuleFile::List(rules)) = file else { panic!("rule list expected") };
    assert!(holds(&rules[0].conditions, &climate()));
}

#[test]
fn b29_value_and_value_ref_are_exclusive_and_paths_are_checked() {
    let both = parse_condition("{field: energy_state.production, operator: gt, value: 1, value_ref: miner.power_max}");
    assert!(both.unwrap_err()[0].message.contains("not both"));
    let neither = parse_condition("{field: energy_state.production, operator: gt}");
    assert!(neither.unwrap_err()[0].message.contains("needs `value` or `value_ref`"));
    assert!(parse_condition("{field: energy_state.production, operator: gt, value: 1}").is_ok());
    assert!(parse_condition("{field: energy_state.production, operator: gt, value_ref: miner.power_max}").is_ok());
    for bad in ["miner.power_max; drop", "miner power_max"] {
        let text = format!("{{field: energy_state.production, operator: gt, value_ref: \"{bad}\"}}");
        assert!(parse_condition(&text).unwrap_err()[0].message.contains("invalid field path"), "{bad}");
    }
}
