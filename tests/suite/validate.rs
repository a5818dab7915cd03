//! `validate`: every problem printed as file:line:column with its key path, exit 78.

use crate::support;

use crate::support::Sandbox;

const POLICY: &str = "name: p\nstart_rules: []\nstop_rules: []\n";

/// A valid config to start from; each test breaks one thing.
const GOOD: &str = "version: 1
state: state.db
energy_sources:
  - id: roof
    type: solar
    monitor: {type: simulated}
controllers:
  - id: sim
    type: simulated
miners:
  - id: s19
    controllers: [sim]
units:
  - id: home
    energy_source: roof
    miners: [s19]
    policy: policy.yaml
";

fn validate(config: &str) -> support::Run {
    let sandbox = Sandbox::new();
    sandbox.write("policy.yaml", POLICY);
    sandbox.config(config);
    let run = sandbox.run(&["validate"]);
    // The sandbox is dropped here; the output is all we need.
    run
}

fn config_line<'a>(run: &'a support::Run, needle: &str) -> &'a str {
    run.stdout
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in:\n{}", run.stdout))
}

#[test]
fn the_good_config_is_valid() {
    let run = validate(GOOD);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.contains("valid (1 miner(s), 1 unit(s)"));
}

#[test]
fn every_kind_of_problem_is_located() {
    let broken = GOOD
        .replace("    type: simulated\nminers:", "    type: simulated\n  - id: spare\n    type: simulated\n    adress: 10.0.0.1\nminers:")
        .replace("  - id: s19\n    controllers: [sim]", "  - id: s19\n    power_max: lots\n    controllers: [sim]\n  - id: s21\n    controllers: [ghost]\n    features:\n      - {type: hashrate_monitoring, controller: sim, priority: 150}\n  - id: s9\n    controllers: [plug]\n    features:\n      - {type: mining_control, controller: plug}")
        .replace("controllers:\n  - id: sim\n", "controllers:\n  - id: plug\n    type: shelly\n    url: http://127.0.0.1:9\n  - id: sim\n")
        .replace("    miners: [s19]", "    miners: [s19, nobody]");
    let run = validate(&broken);
    assert_eq!(run.code, 78, "{}", run.stdout);
    let typo = config_line(&run, "adress");
    assert!(typo.contains("config.yaml:15:5: error: controllers[2].adress: unknown key `adress`"), "{typo}");
    assert!(typo.contains("allowed keys: id, type, timeout, power, hashrate, boot_time"), "{typo}");
    let wrong_type = config_line(&run, "power_max");
    assert!(wrong_type.contains("config.yaml:18:5: error: miners[0].power_max: invalid type"), "{wrong_type}");
    let dangling = config_line(&run, "ghost");
    assert!(
        dangling.contains("config.yaml:21:19: error: miners[1].controllers[0]: unknown controller `ghost`"),
        "{dangling}"
    );
    let priority = config_line(&run, "out of range");
    assert!(priority.contains("config.yaml:23:9: error: miners[1].features[0]"), "{priority}");
    assert!(priority.contains("priority 150 is out of range"), "{priority}");
    let cannot = config_line(&run, "cannot provide");
    assert!(
        cannot.contains(
            "config.yaml:27:9: error: miners[2].features[0]: controller `plug` cannot provide `mining_control`"
        ),
        "{cannot}"
    );
    let unknown_miner = config_line(&run, "nobody");
    assert!(
        unknown_miner.contains("config.yaml:31:19: error: units[0].miners[1]: unknown miner `nobody`"),
        "{unknown_miner}"
    );
    assert!(run.stdout.trim_end().ends_with("invalid (7 error(s))"), "{}", run.stdout);
}

#[test]
fn unknown_top_level_and_unit_keys_list_the_allowed_keys() {
    let run = validate(
        &GOOD
            .replace("state: state.db", "state: state.db\nsetings: {}")
            .replace("    policy: policy.yaml", "    policy: policy.yaml\n    gards: {min_on: 5m}"),
    );
    assert_eq!(run.code, 78);
    let top = config_line(&run, "setings");
    assert!(top.contains("config.yaml:3:1:") && top.contains("allowed keys: version, state, settings"), "{top}");
    let unit = config_line(&run, "gards");
    assert!(unit.contains("units[0].gards") && unit.contains("guards"), "{unit}");
}

#[test]
fn environment_variables_and_secret_files() {
    let sandbox = Sandbox::new();
    sandbox.write("policy.yaml", POLICY);
    sandbox.write("creds/ha-token", "s3cret-token\n");
    sandbox.config(&GOOD.replace(
        "version: 1",
        "version: 1\nservices:\n  - {id: ha, type: home_assistant, url: \"${HA_URL}\", token_file: ha-token}",
    ));
    let mut command = support::command(sandbox.dir.path(), &sandbox.path("config.yaml"), &["validate"]);
    command.env("HA_URL", "http://127.0.0.1:8123").env("CREDENTIALS_DIRECTORY", sandbox.path("creds"));
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(!stdout.contains("s3cret"));

    let mut unset = support::command(sandbox.dir.path(), &sandbox.path("config.yaml"), &["validate"]);
    unset.env_remove("HA_URL").env("CREDENTIALS_DIRECTORY", sandbox.path("creds"));
    let output = unset.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(78));
    assert!(stdout.contains("services[0].url: environment variable `HA_URL` is not set"), "{stdout}");
}

#[test]
fn rule_file_problems_carry_their_own_file_and_rule() {
    let sandbox = Sandbox::new();
    sandbox.write("policy.yaml", "name: p\nstart_rules:\n  - name: typo\n    conditions: {field: energy_state.battery.soc, operator: gt, value: 50}\n");
    sandbox.config(GOOD);
    let run = sandbox.run(&["validate"]);
    assert_eq!(run.code, 78, "{}", run.stdout);
    let line = config_line(&run, "battery.soc");
    assert!(line.contains("policy.yaml:4:18: error: start_rules[0].conditions.field: rule `typo`"), "{line}");
    assert!(line.contains("state_of_charge"), "{line}");
}

#[test]
fn yaml_syntax_errors_have_a_position() {
    let run = validate("version: 1\nminers: [a, b\nunits: []\n");
    assert_eq!(run.code, 78);
    assert!(run.stdout.contains("config.yaml:") && run.stdout.contains("invalid YAML"), "{}", run.stdout);
}

#[test]
fn run_refuses_an_invalid_config_with_78() {
    let sandbox = Sandbox::new();
    sandbox.write("policy.yaml", POLICY);
    sandbox.config(&GOOD.replace("miners: [s19]", "miners: [ghost]"));
    let run = sandbox.run(&["run"]);
    assert_eq!(run.code, 78);
    assert!(run.stderr.contains("units[0].miners[0]: unknown miner `ghost`"), "{}", run.stderr);
}

/// CI checks a config in git without its secret files: `--offline` (or `--no-secrets`) skips
/// them; without it a missing one is an error naming its key.
#[test]
fn offline_validation_needs_no_secret_files() {
    let sandbox = Sandbox::new();
    sandbox.write("policy.yaml", POLICY);
    sandbox.config(&GOOD.replace(
        "controllers:\n  - id: sim\n    type: simulated\n",
        "controllers:\n  - id: sim\n    type: braiins_os\n    host: 192.0.2.10\n    password_file: bos-password\n",
    ));
    let online = sandbox.run(&["validate"]);
    assert_eq!(online.code, 78, "{}", online.stdout);
    assert!(online.stdout.contains("controllers[0].password_file: cannot read secret file"), "{}", online.stdout);
    for flag in ["--offline", "--no-secrets"] {
        let offline = sandbox.run(&["validate", flag]);
        assert_eq!(offline.code, 0, "{flag}: {}", offline.stdout);
        assert!(offline.stdout.contains("valid (1 miner(s), 1 unit(s)"), "{}", offline.stdout);
        assert!(!offline.stdout.contains("placeholder"), "{}", offline.stdout);
    }
}

/// SPEC §22: a unit that could never switch a miner says so — a miner with no control
/// feature, and a miner without `power_max` under rules that compare with it.
#[test]
fn a_miner_the_unit_could_never_switch_is_a_warning() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "policy.yaml",
        "name: p\nstart_rules:\n  - {name: covers, conditions: {field: energy_state.surplus_for_miner, operator: gte, value_ref: miner.power_max}}\nstop_rules: []\n",
    );
    let config = GOOD
        .replace("controllers:\n  - id: sim\n    type: simulated\n", "controllers:\n  - id: sim\n    type: simulated\n  - id: axe\n    type: bitaxe\n    url: http://127.0.0.1:9\n")
        .replace("  - id: s19\n    controllers: [sim]", "  - id: s19\n    controllers: [sim]\n  - id: desk\n    power_max: 15\n    controllers: [axe]")
        .replace("    miners: [s19]", "    miners: [s19, desk]");
    sandbox.config(&config);
    let run = sandbox.run(&["validate"]);
    assert_eq!(run.code, 0, "warnings do not fail validation: {}", run.stdout);
    let power = config_line(&run, "miner `s19` has no `power_max`");
    assert!(power.contains("warning") && power.contains("miners[0]"), "{power}");
    let stuck = config_line(&run, "miner `desk` has neither mining_control nor power_control");
    assert!(stuck.contains("add a plug controller"), "{stuck}");
    assert!(run.stdout.contains("2 warning(s)"), "{}", run.stdout);
}

/// A farm of read-only monitors is one warning for the unit, naming how many and a few of
/// them, not one line per miner.
#[test]
fn many_miners_the_unit_could_never_switch_are_one_warning() {
    let mut config = String::from(
        "version: 1\nstate: state.db\nenergy_sources:\n  - {id: roof, type: solar, monitor: {type: simulated}}\ncontrollers:\n",
    );
    for i in 0..40 {
        config.push_str(&format!("  - {{id: api{i}, type: cgminer, host: 127.0.0.1, port: 9}}\n"));
    }
    config.push_str("miners:\n");
    for i in 0..40 {
        config.push_str(&format!("  - {{id: m{i}, controllers: [api{i}]}}\n"));
    }
    let ids: Vec<String> = (0..40).map(|i| format!("m{i}")).collect();
    config.push_str(&format!(
        "units:\n  - id: farm\n    energy_source: roof\n    miners: [{}]\n    policy: policy.yaml\n",
        ids.join(", ")
    ));
    let run = validate(&config);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let line =
        config_line(&run, "40 miners of unit `farm` have neither mining_control nor power_control (m0, m1, m2, …)");
    assert!(
        line.contains("warning") && line.contains("units[0].miners") && line.contains("add a plug controller"),
        "{line}"
    );
    assert_eq!(run.stdout.matches("mining_control").count(), 1, "{}", run.stdout);
    assert!(run.stdout.contains("1 warning(s)"), "{}", run.stdout);
}

/// SPEC §22: a rule over an energy quantity the unit's monitor does not read is a warning that
/// names the rule, the field and the key that would give it.
#[test]
fn a_rule_over_a_quantity_the_monitor_does_not_read_is_a_warning() {
    let sandbox = Sandbox::new();
    sandbox.write("ha-token", "token\n");
    sandbox.write(
        "policy.yaml",
        "name: p\nstart_rules:\n  - {name: full battery, conditions: {field: energy_state.battery.state_of_charge, operator: gte, value: 95}}\nstop_rules:\n  - {name: importing, conditions: {field: energy_state.grid.importing_power, operator: gt, value: 300}}\n",
    );
    let config = GOOD
        .replace("    monitor: {type: simulated}", "    monitor: {type: home_assistant, service: ha, production: sensor.pv, consumption: sensor.house, grid: sensor.grid}")
        .replace("energy_sources:", "services:\n  - {id: ha, type: home_assistant, url: \"http://127.0.0.1:9\", token_file: ha-token}\nenergy_sources:");
    sandbox.config(&config);
    let run = sandbox.run(&["validate", "--offline"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let line = config_line(&run, "rule `full battery`");
    assert!(line.contains("warning") && line.contains("energy_sources[0].monitor"), "{line}");
    assert!(line.contains("`energy_state.battery.state_of_charge`") && line.contains("no `battery_soc`"), "{line}");
    assert!(!run.stdout.contains("rule `importing`"), "the grid is read: {}", run.stdout);
}
