//! `rules test` and `rules eval` from the command line, as a GitOps CI job runs them.

use crate::support;

use crate::support::{Sandbox, repo};

#[test]
fn the_shipped_rule_tests_pass() {
    let files: Vec<String> = std::fs::read_dir(repo("rules/tests"))
        .unwrap()
        .map(|e| e.unwrap().path().to_string_lossy().into_owned())
        .collect();
    assert!(files.len() >= 2);
    let mut args = vec!["rules", "test"];
    args.extend(files.iter().map(String::as_str));
    let run = support::run_args(&args);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.contains(" passed, 0 failed"), "{}", run.stdout);
}

#[test]
fn a_wrong_expectation_fails_with_a_readable_diff() {
    let sandbox = Sandbox::new();
    let policy = repo("rules/solar-policy.yaml");
    let test = sandbox.write(
        "wrong.yaml",
        &format!(
            "policy: {}\ntests:\n  - name: cloudy but expected to start\n    context:\n      miner: {{power_max: 3250}}\n      miner_state: {{status: off}}\n      energy_state: {{production: 1800, consumption: {{current_power: 400}}, battery: {{state_of_charge: 70}}}}\n    expect: start_mining\n    expect_rule: Surplus covers the miner\n",
            policy.display()
        ),
    );
    let run = support::run_args(&["rules", "test", test.to_str().unwrap()]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("FAIL cloudy but expected to start"), "{}", run.stdout);
    assert!(run.stdout.contains("expected: start_mining (rule `Surplus covers the miner`)"));
    assert!(run.stdout.contains("got:      maintain_state (no rule matched)"));
    assert!(
        run.stdout.contains("energy_state.surplus_for_miner gte miner.power_max (= 3250): false (field is 1400.0)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("0 passed, 1 failed"));
}

#[test]
fn a_broken_rule_file_fails_the_test_run_with_its_position() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "rules.yaml",
        "rules:\n  - name: broken\n    conditions: {field: energy_state.production, operator: around, value: 1}\n",
    );
    let test = sandbox.write("t.yaml", "rules: {start: [rules.yaml]}\ntests: []\n");
    let run = support::run_args(&["rules", "test", test.to_str().unwrap()]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("rules.yaml:3:") && run.stdout.contains("unknown operator `around`"), "{}", run.stdout);
}

#[test]
fn eval_reads_yaml_contexts_and_computes_derived_fields() {
    let sandbox = Sandbox::new();
    let context = sandbox.write(
        "ctx.yaml",
        "timestamp: 2026-06-01T14:00:00+02:00\nminer: {power_max: 3250}\nminer_state: {status: OFF}\nenergy_state: {production: 4200, consumption: {current_power: 500}, battery: {state_of_charge: 80}}\n",
    );
    let policy = repo("rules/solar-policy.yaml");
    let run = support::run_args(&[
        "rules",
        "eval",
        "--context",
        context.to_str().unwrap(),
        "--policy",
        policy.to_str().unwrap(),
        "--output",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let verdict: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        verdict,
        serde_json::json!({"decision": "start_mining", "rule": "Surplus covers the miner", "status": "off"})
    );
}

#[test]
fn eval_with_rule_lists() {
    let sandbox = Sandbox::new();
    let context = sandbox.write(
        "ctx.json",
        r#"{"miner_state": {"status": "on"}, "energy_state": {"battery": {"state_of_charge": 10}}}"#,
    );
    let stop = repo("rules/stop/battery-protection.yaml");
    let run =
        support::run_args(&["rules", "eval", "--context", context.to_str().unwrap(), "--stop", stop.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.trim(), "stop_mining (rule `Battery protection`; miner status on)");
}

/// `rules eval --explain`: each rule considered and each leaf with the value it saw, including
/// a `home_load` window and a climate `value_ref` given directly in the context file.
#[test]
fn eval_explains_each_leaf_with_the_value_it_saw() {
    let sandbox = Sandbox::new();
    let context = sandbox.write(
        "ctx.yaml",
        "miner_state: {status: off}\nenergy_state: {production: 1200, consumption: {current_power: 500}, battery: {state_of_charge: 80}}\nhome_load: {total_forecast: {next_2h: {total_energy: 800}}}\nclimate: {zones: {bedroom: {temperature_celsius: 18.5, target_temperature: 21}}}\n",
    );
    let rules = sandbox.write(
        "start.yaml",
        "rules:\n  - {name: quiet house, priority: 20, conditions: {field: home_load.total_forecast.next_2h.total_energy, operator: lt, value: 1000}}\n  - {name: cold room, priority: 10, conditions: {field: climate.zones.bedroom.temperature_celsius, operator: lt, value_ref: climate.zones.bedroom.target_temperature}}\n",
    );
    let run = support::run_args(&[
        "rules",
        "eval",
        "--context",
        context.to_str().unwrap(),
        "--start",
        rules.to_str().unwrap(),
        "--explain",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.is_empty(), "no warning: both sections exist: {}", run.stderr);
    assert!(run.stdout.starts_with("start_mining (rule `quiet house`"), "{}", run.stdout);
    assert!(
        run.stdout.contains("home_load.total_forecast.next_2h.total_energy lt 1000: true (field is 800"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("climate.zones.bedroom.temperature_celsius lt climate.zones.bedroom.target_temperature (= 21"),
        "{}",
        run.stdout
    );
}
