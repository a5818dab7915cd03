//! Onboarding: `types`, `schema`, `scan`, `init`.

mod support;

use serde_json::Value;
use support::{Sandbox, repo};

fn binary(args: &[&str]) -> support::Run {
    let output = std::process::Command::new(support::binary()).args(args).output().unwrap();
    support::Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[test]
fn types_lists_every_type_the_loader_accepts() {
    use edge_mining::config::parse::{
        CONTROLLER_TYPES, FORECAST_TYPES, MONITOR_TYPES, NOTIFIER_TYPES, SERVICE_TYPES, TRACKER_TYPES,
    };
    use edge_mining::config::schema::{Section, TYPES};
    let listed = |section: Section| -> Vec<&str> {
        let mut names: Vec<&str> = TYPES.iter().filter(|t| t.section == section).map(|t| t.name).collect();
        names.sort();
        names
    };
    let sorted = |names: &[&'static str]| {
        let mut names = names.to_vec();
        names.sort();
        names
    };
    assert_eq!(listed(Section::Services), sorted(&SERVICE_TYPES));
    assert_eq!(listed(Section::Controllers), sorted(&CONTROLLER_TYPES));
    assert_eq!(listed(Section::Monitor), sorted(&MONITOR_TYPES));
    assert_eq!(listed(Section::Forecast), sorted(&FORECAST_TYPES));
    assert_eq!(listed(Section::Trackers), sorted(&TRACKER_TYPES));
    assert_eq!(listed(Section::Notifiers), sorted(&NOTIFIER_TYPES));
    let run = binary(&["types"]);
    assert_eq!(run.code, 0);
    for spec in TYPES {
        assert!(run.stdout.contains(&format!("{} (in {})", spec.name, spec.section.name())), "{}", spec.name);
    }
    let one = binary(&["types", "luxos"]);
    assert!(
        one.stdout.contains("mining_control") && one.stdout.contains("port") && one.stdout.contains("(default 4028)"),
        "{}",
        one.stdout
    );
    assert_eq!(binary(&["types", "teleporter"]).code, 2);
}

#[test]
fn every_types_example_passes_validate() {
    use edge_mining::config::schema::{Section, TYPES};
    let sandbox = Sandbox::new();
    for secret in ["ha-token", "bos-password", "braiins-token", "bot-token"] {
        sandbox.write(secret, "s3cret\n");
    }
    sandbox.write("p.yaml", "name: p\nstart_rules: []\nstop_rules: []\n");
    let items =
        |section: Section| -> Vec<&str> { TYPES.iter().filter(|t| t.section == section).map(|t| t.example).collect() };
    let mut config =
        String::from("version: 1\nstate: state.db\nsettings: {latitude: 45.4, longitude: 9.2}\nservices:\n");
    for example in items(Section::Services) {
        config.push_str(&format!("  - {example}\n"));
    }
    config.push_str("energy_sources:\n");
    for (i, example) in items(Section::Monitor).iter().enumerate() {
        config.push_str(&format!("  - {{id: source{i}, type: solar, monitor: {example}}}\n"));
    }
    for (i, example) in items(Section::Forecast).iter().enumerate() {
        config.push_str(&format!(
            "  - {{id: forecast{i}, type: solar, monitor: {{type: simulated}}, forecast: {example}}}\n"
        ));
    }
    config.push_str("controllers:\n");
    for example in items(Section::Controllers) {
        config.push_str(&format!("  - {example}\n"));
    }
    config.push_str("miners:\n  - {id: rig, controllers: [sim]}\ntrackers:\n");
    for example in items(Section::Trackers) {
        config.push_str(&format!("  - {example}\n"));
    }
    config.push_str("notifiers:\n");
    for example in items(Section::Notifiers) {
        config.push_str(&format!("  - {example}\n"));
    }
    config.push_str("units:\n  - {id: home, energy_source: source0, miners: [rig], policy: p.yaml}\n");
    sandbox.config(&config);
    let run = sandbox.run(&["validate"]);
    assert_eq!(run.code, 0, "{}\n{config}", run.stdout);
}

fn schema() -> Value {
    let run = binary(&["schema"]);
    assert_eq!(run.code, 0);
    serde_json::from_str(&run.stdout).unwrap()
}

fn yaml_as_json(text: &str) -> Value {
    serde_json::to_value(serde_yaml::from_str::<serde_yaml::Value>(text).unwrap()).unwrap()
}

#[test]
fn the_schema_accepts_the_example_and_flags_a_typo_and_a_wrong_type() {
    let schema = schema();
    let validator = jsonschema::draft202012::new(&schema).expect("a valid draft 2020-12 schema");
    let example = std::fs::read_to_string(repo("config.example.yaml")).unwrap();
    let errors: Vec<String> = validator.iter_errors(&yaml_as_json(&example)).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let typo = example.replace("boot_time: 2m", "boot_tiem: 2m");
    assert!(!validator.is_valid(&yaml_as_json(&typo)), "an unknown key is flagged");
    let wrong = example.replace("power_max: 3250", "power_max: lots");
    assert!(!validator.is_valid(&yaml_as_json(&wrong)), "a wrong type is flagged");
    let secret_file = example.replace(
        "forecast: {type: simulated}",
        "forecast: {type: forecast_solar, declination: 30, azimuth: 0, kwp: 6, api_key_file: fs-key}",
    );
    assert_ne!(secret_file, example);
    let errors: Vec<String> = validator.iter_errors(&yaml_as_json(&secret_file)).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "`<secret>_file` keys are allowed: {errors:?}");
}

#[test]
fn the_shipped_schema_file_is_current_and_the_example_points_at_it() {
    let shipped: Value =
        serde_json::from_str(&std::fs::read_to_string(repo("edge-mining.schema.json")).unwrap()).unwrap();
    assert_eq!(shipped, schema(), "regenerate with: edge-mining schema > edge-mining.schema.json");
    let example = std::fs::read_to_string(repo("config.example.yaml")).unwrap();
    assert!(example.starts_with("# yaml-language-server: $schema=edge-mining.schema.json"));
}
