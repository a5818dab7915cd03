//! Onboarding: `types`, `schema`, `scan`, `init`.

use crate::support;

use crate::support::{Sandbox, repo};
use serde_json::Value;

/// Writes the file every `<secret>_file: <name>` of the registered examples names.
fn write_secret_files(sandbox: &Sandbox) {
    for (_, component) in edge_mining::registry::REGISTRY.all() {
        for part in component.info().example.split("_file: ").skip(1) {
            let name = part.split([',', '}', ' ']).next().unwrap_or_default();
            sandbox.write(name, "s3cret\n");
        }
    }
}

/// Every type of every registry: it parses from a minimal config (its own example), and
/// `types` and `schema` list it.
#[test]
fn every_registered_type_parses_and_is_listed_by_types_and_schema() {
    use edge_mining::config::spec::Section;
    use edge_mining::registry::REGISTRY;
    let types = support::run_args(&["types"]);
    assert_eq!(types.code, 0);
    let schema: Value = serde_json::from_str(&support::run_args(&["schema"]).stdout).expect("schema is JSON");
    let variants = |section: Section| -> Vec<String> {
        let at = match section {
            Section::Monitor => &schema["properties"]["energy_sources"]["items"]["properties"]["monitor"],
            Section::Forecast => &schema["properties"]["energy_sources"]["items"]["properties"]["forecast"],
            Section::Market => &schema["properties"]["market"],
            other => &schema["properties"][other.name()]["items"],
        };
        let list = at["oneOf"].as_array().cloned().unwrap_or_default();
        list.iter().filter_map(|v| v["properties"]["type"]["const"].as_str().map(str::to_string)).collect()
    };
    let mut counted = 0;
    for (section, component) in REGISTRY.all() {
        let info = component.info();
        assert!(types.stdout.contains(&format!("{} (in {})", info.name, section.name())), "types lacks {}", info.name);
        assert!(variants(section).contains(&info.name.to_string()), "schema lacks {} in {}", info.name, section.name());
        let sandbox = Sandbox::new();
        sandbox.write("p.yaml", "name: p\nstart_rules: []\nstop_rules: []\n");
        write_secret_files(&sandbox);
        let service = "services:\n  - {id: ha, type: home_assistant, url: \"http://127.0.0.1:9\", token: t}\n";
        let services = if section == Section::Services { String::new() } else { service.to_string() };
        let example = info.example;
        let (sources, controllers, trackers, notifiers) = match section {
            Section::Monitor => (format!("  - {{id: s, type: solar, monitor: {example}}}\n"), String::new(), "", ""),
            Section::Forecast => (
                format!("  - {{id: s, type: solar, monitor: {{type: simulated}}, forecast: {example}}}\n"),
                String::new(),
                "",
                "",
            ),
            _ => ("  - {id: s, type: solar, monitor: {type: simulated}}\n".to_string(), String::new(), "", ""),
        };
        let mut config = format!(
            "version: 1\nstate: state.db\nsettings: {{latitude: 45.4, longitude: 9.2}}\n{services}energy_sources:\n{sources}"
        );
        let first = match section {
            Section::Services => format!("services:\n  - {example}\n"),
            Section::Controllers => format!("controllers:\n  - {example}\n{controllers}"),
            Section::Trackers => format!("trackers:\n  - {example}\n{trackers}"),
            Section::Notifiers => format!("notifiers:\n  - {example}\n{notifiers}"),
            Section::Market => format!("tariffs: {{currency: EUR}}\nmarket: {example}\n"),
            _ => String::new(),
        };
        config.push_str(&first);
        if section != Section::Controllers {
            config.push_str("controllers:\n  - {id: sim-c, type: simulated}\n");
        }
        let controller = if section == Section::Controllers {
            example.split("id: ").nth(1).and_then(|rest| rest.split(',').next()).unwrap_or("sim-c").to_string()
        } else {
            "sim-c".to_string()
        };
        config.push_str(&format!(
            "miners:\n  - {{id: rig, controllers: [{controller}]}}\nunits:\n  - {{id: home, energy_source: s, miners: [rig], policy: p.yaml}}\n"
        ));
        sandbox.write("config.yaml", &config);
        let run = sandbox.run(&["validate"]);
        assert_eq!(run.code, 0, "{} in {}: {}\n{config}", info.name, section.name(), run.stdout);
        counted += 1;
    }
    assert!(counted >= 24, "every registry is walked: {counted} types");
    let one = support::run_args(&["types", "luxos"]);
    assert!(
        one.stdout.contains("mining_control") && one.stdout.contains("port") && one.stdout.contains("(default 4028)"),
        "{}",
        one.stdout
    );
    assert!(one.stdout.contains("max_hashrate_detection"), "the LuxOS nameplate is a declared feature: {}", one.stdout);
    assert_eq!(support::run_args(&["types", "teleporter"]).code, 2);
}

/// An unknown type in any section is a configuration error (exit 78) naming the allowed types.
#[test]
fn an_unknown_type_is_a_config_error_naming_the_allowed_types() {
    use edge_mining::config::spec::Section;
    use edge_mining::registry::REGISTRY;
    let cases = [
        (Section::Controllers, "controllers:\n  - {id: x, type: teleporter}\n", "controllers[0].type"),
        (Section::Trackers, "trackers:\n  - {id: x, type: teleporter}\n", "trackers[0].type"),
        (Section::Notifiers, "notifiers:\n  - {id: x, type: teleporter}\n", "notifiers[0].type"),
        (Section::Services, "services:\n  - {id: x, type: teleporter}\n", "services[0].type"),
    ];
    for (section, entry, at) in cases {
        let sandbox = Sandbox::new();
        sandbox.write(
            "config.yaml",
            &format!("version: 1\nstate: state.db\nenergy_sources:\n  - {{id: s, type: solar, monitor: {{type: teleporter}}}}\n{entry}"),
        );
        let run = sandbox.run(&["validate"]);
        assert_eq!(run.code, 78, "{}", run.stdout);
        let names = REGISTRY.names(section).join(", ");
        assert!(run.stdout.contains(at) && run.stdout.contains(&format!("expected one of: {names}")), "{}", run.stdout);
        let monitors = REGISTRY.names(Section::Monitor).join(", ");
        assert!(run.stdout.contains("energy_sources[0].monitor.type"), "{}", run.stdout);
        assert!(run.stdout.contains(&format!("expected one of: {monitors}")), "{}", run.stdout);
    }
}

#[test]
fn every_types_example_passes_validate() {
    use edge_mining::config::spec::Section;
    use edge_mining::registry::REGISTRY;
    let sandbox = Sandbox::new();
    write_secret_files(&sandbox);
    sandbox.write("p.yaml", "name: p\nstart_rules: []\nstop_rules: []\n");
    let items =
        |section: Section| -> Vec<&str> { REGISTRY.section(section).iter().map(|t| t.info().example).collect() };
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
    let run = support::run_args(&["schema"]);
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

/// Fakes of different firmwares on 127.0.0.2–4, one port for all, and an AxeOS on .5.
type Fleet = (Vec<support::cgminer::FakeCgminer>, support::http::FakeHttp, support::vnish::FakeVnish, u16);

/// LuxOS, stock Antminer, Avalon and Whatsminer fakes on one CGMiner port (127.0.0.2-4, 6),
/// a Bitaxe (127.0.0.5) and a VNish (127.0.0.7) on one HTTP port.
fn fleet_of_firmwares() -> Fleet {
    use support::cgminer::{FakeCgminer, reply};
    use support::replies;
    let version = |entry: serde_json::Value, description: &str| {
        let mut value: Value = serde_json::from_str(&reply("VERSION", serde_json::json!([entry]))).unwrap();
        value["STATUS"][0]["Description"] = Value::from(description);
        value.to_string()
    };
    let firmwares = [
        (
            "127.0.0.2",
            version(
                serde_json::json!({"LUXminer": "2025.4.8", "Type": "Antminer S19k Pro", "API": "3.7"}),
                "LUXminer 2025.4.8",
            ),
            replies::luxos_summary(120_000.0),
        ),
        (
            "127.0.0.3",
            version(serde_json::json!({"BMMiner": "1.0.0", "Type": "Antminer S19 Pro", "API": "3.1"}), "cgminer 1.0.0"),
            replies::antminer_summary(110_000.0),
        ),
        (
            "127.0.0.4",
            version(
                serde_json::json!({"CGMiner": "4.11.1", "PROD": "Avalon Q", "MODEL": "Q", "HWTYPE": "Q_MM1"}),
                "cgminer 4.11.1",
            ),
            replies::avalon_summary(88_000_000.0),
        ),
        (
            // Its `version` names only cgminer; its `devdetails` driver says Whatsminer.
            "127.0.0.6",
            version(serde_json::json!({"CGMiner": "4.9.2", "API": "3.7"}), "cgminer 4.9.2"),
            replies::whatsminer_v2_summary(124_500_000.0),
        ),
    ];
    for _ in 0..20 {
        let probe = std::net::TcpListener::bind("127.0.0.2:0").unwrap();
        let port = probe.local_addr().unwrap().port();
        drop(probe);
        let fakes: Vec<FakeCgminer> = firmwares
            .iter()
            .filter_map(|(ip, version, summary)| {
                let details = ("devdetails", replies::whatsminer_devdetails());
                let replies = [("version", version.clone()), ("summary", summary.clone())];
                let with_details = [replies[0].clone(), replies[1].clone(), details];
                FakeCgminer::start_at(ip, port, if *ip == "127.0.0.6" { &with_details } else { &replies })
            })
            .collect();
        if fakes.len() == firmwares.len() {
            let bitaxe = support::http::FakeHttp::start_on("127.0.0.5", |request| match request.url.as_str() {
                "/api/system/info" => support::http::json(replies::bitaxe_info(1100.0)),
                _ => support::http::status(404),
            });
            let Some(vnish) = support::vnish::FakeVnish::start_at("127.0.0.7", bitaxe.port) else { continue };
            return (fakes, bitaxe, vnish, port);
        }
    }
    panic!("no common free port on 127.0.0.2-7");
}

#[test]
fn scan_finds_each_firmware_and_nothing_where_nothing_listens() {
    let (fakes, bitaxe, vnish, port) = fleet_of_firmwares();
    let started = std::time::Instant::now();
    let run = support::run_args(&[
        "scan",
        "127.0.0.0/28",
        "--port",
        &port.to_string(),
        "--http-port",
        &bitaxe.port.to_string(),
        "--timeout",
        "1s",
        "--output",
        "json",
    ]);
    assert!(started.elapsed() < std::time::Duration::from_secs(8), "bounded in time: {:?}", started.elapsed());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let found: Vec<Value> = serde_json::from_str(&run.stdout).unwrap();
    let summary: Vec<(String, String, String)> = found
        .iter()
        .map(|f| {
            (
                f["address"].as_str().unwrap().into(),
                f["type"].as_str().unwrap().into(),
                f["model"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("127.0.0.2".into(), "luxos".into(), "Antminer S19k Pro".into()),
            ("127.0.0.3".into(), "antminer".into(), "Antminer S19 Pro".into()),
            ("127.0.0.4".into(), "avalon".into(), "Avalon Q".into()),
            ("127.0.0.5".into(), "bitaxe".into(), "Bitaxe (BM1368)".into()),
            ("127.0.0.6".into(), "whatsminer".into(), "M50".into()),
            ("127.0.0.7".into(), "vnish".into(), "Antminer S19j Pro".into()),
        ]
    );
    assert_eq!(found[1]["hashrate"], 110.0);
    assert!(vnish.http.log().iter().all(|r| r.method == "GET"), "a scan never writes: {:?}", vnish.http.requests());
    for fake in &fakes {
        assert!(fake.writes().is_empty(), "a scan never writes: {:?}", fake.log());
        assert!(fake.commands().iter().all(|c| ["version", "devdetails", "summary"].contains(&c.as_str())));
    }
    let yaml = support::run_args(&[
        "scan",
        "127.0.0.0/28",
        "--port",
        &port.to_string(),
        "--http-port",
        &bitaxe.port.to_string(),
    ]);
    let sandbox = Sandbox::new();
    sandbox.write("p.yaml", "name: p\nstart_rules: []\nstop_rules: []\n");
    let miners: Vec<String> =
        found.iter().map(|f| format!("miner-{}", f["address"].as_str().unwrap().replace('.', "-"))).collect();
    sandbox.config(&format!(
        "version: 1\nstate: state.db\nenergy_sources:\n  - {{id: roof, type: solar, monitor: {{type: simulated}}}}\n{}units:\n  - {{id: home, energy_source: roof, miners: [{}], policy: p.yaml}}\n",
        yaml.stdout,
        miners.join(", ")
    ));
    let validate = sandbox.run(&["validate"]);
    assert_eq!(validate.code, 0, "{}\n{}", validate.stdout, yaml.stdout);
}

#[test]
fn scan_refuses_ranges_larger_than_a_slash_16() {
    let run = support::run_args(&["scan", "10.0.0.0/8"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--allow-large"), "{}", run.stderr);
}

fn init_in(sandbox: &Sandbox, args: &[&str], stdin: &str) -> support::Run {
    use std::io::Write;
    let mut command = std::process::Command::new(support::binary());
    command
        .current_dir(sandbox.dir.path())
        .arg("init")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    support::finished(child.wait_with_output().unwrap())
}

fn validate_written(sandbox: &Sandbox) -> support::Run {
    support::run_binary(sandbox.dir.path(), &sandbox.path("config.yaml"), &["validate"])
}

#[test]
fn init_without_anything_writes_a_simulated_config_that_runs() {
    let sandbox = Sandbox::new();
    let run = init_in(&sandbox, &[], "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(validate_written(&sandbox).code, 0);
    let cycle = support::run_binary(sandbox.dir.path(), &sandbox.path("config.yaml"), &["run", "--dry-run"]);
    assert_eq!(cycle.code, 0, "{}", cycle.stderr);
    // No `state:` line that would break under systemd: the database goes to the default place.
    let text = std::fs::read_to_string(sandbox.path("config.yaml")).unwrap();
    assert!(!text.lines().any(|l| l.starts_with("state:")), "{text}");
    assert!(sandbox.path(".state/edge-mining/state.db").exists());
    assert!(sandbox.path("edge-mining.schema.json").exists());
    assert_eq!(init_in(&sandbox, &[], "").code, 2, "an existing config is not overwritten");
}

#[test]
fn init_from_flags_writes_a_commented_config_that_validates() {
    let sandbox = Sandbox::new();
    sandbox.write("ha-token", "token\n");
    let run = init_in(
        &sandbox,
        &[
            "--ha-url",
            "http://homeassistant.local:8123",
            "--grid",
            "sensor.grid_power",
            "--miner",
            "braiins_os=192.168.1.30,name=s19,power_max=3250,plug=shelly:192.168.1.40",
            "--miner",
            "bitaxe=192.168.1.20,power_max=15",
            "--ocean",
            "bc1qexampleaddress",
            "--timezone",
            "Europe/Rome",
        ],
        "",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = std::fs::read_to_string(sandbox.path("config.yaml")).unwrap();
    assert!(text.contains("# How to talk to each miner"));
    assert!(text.contains("type: bitaxe, url: \"http://192.168.1.20\""));
    assert!(text.contains("{id: plug1, type: shelly, url: \"http://192.168.1.40\"}"), "{text}");
    assert!(text.contains("{id: s19, power_max: 3250, controllers: [c1, plug1]}"), "{text}");
    assert!(text.contains("bitcoin_address: \"bc1qexampleaddress\""));
    let validate = validate_written(&sandbox);
    assert_eq!(validate.code, 0, "{}\n{text}", validate.stdout);
    assert_eq!(init_in(&sandbox, &["--force", "--miner", "teleporter=1.2.3.4"], "").code, 2);
    // What a new user types by mistake is refused, saying why.
    for (flag, value, says) in [
        ("--miner", "luxos=http://192.168.1.43", "not a URL"),
        ("--miner", "luxos=192.168.1.43:notaport", "not a port number"),
        ("--miner", "luxos=192.168.1.43,plug=toaster:1.2.3.4", "unknown plug type"),
        ("--timezone", "Europe/Rom", "Europe/Rom"),
        ("--ha-url", "ftp://homeassistant.local", "http:// or https://"),
        ("--location", "91,9", "LATITUDE,LONGITUDE"),
    ] {
        let refused = init_in(&sandbox, &["--force", flag, value], "");
        assert_eq!(refused.code, 2, "{flag} {value}: {}", refused.stdout);
        assert!(refused.stderr.contains(says), "{flag} {value}: {}", refused.stderr);
    }
}

#[test]
fn init_interactively_from_a_stdin_script() {
    let sandbox = Sandbox::new();
    sandbox.write("ha-token", "token\n");
    let script = "Europe/Rome\nhttp://127.0.0.1:9\n\nsensor.solar\n\nsensor.grid\n-\n\n\nluxos\n192.168.1.43\ns19\n3250\nshelly\n192.168.1.50\nwindmill\nnowhere\nbitaxe\n192.168.1.20\n\n15\n\n\n45.46,9.19\nbc1qexampleaddress\n";
    let run = init_in(&sandbox, &["--interactive"], script);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("Home Assistant URL") && run.stdout.contains("unknown miner type `windmill`"),
        "{}",
        run.stdout
    );
    let text = std::fs::read_to_string(sandbox.path("config.yaml")).unwrap();
    assert!(
        text.contains("production: sensor.solar") && text.contains("consumption: sensor.house_consumption"),
        "{text}"
    );
    assert!(text.contains("grid: sensor.grid") && !text.contains("battery_soc"), "{text}");
    assert!(text.contains("type: luxos, host: \"192.168.1.43\"") && text.contains("tracker: ocean"), "{text}");
    assert!(text.contains("{id: s19, power_max: 3250, controllers: [c1, plug1]}"), "{text}");
    assert!(text.contains("{id: miner2, power_max: 15, controllers: [c2]}"), "{text}");
    assert!(text.contains("latitude: 45.46") && text.contains("longitude: 9.19"), "{text}");
    let validate = validate_written(&sandbox);
    assert_eq!(validate.code, 0, "{}\n{text}", validate.stdout);
}

/// A home as the issue describes it, on fakes: Home Assistant with PV, house load and a
/// battery; a Bitaxe whose power `init` reads from it; a second Bitaxe behind a Shelly plug.
struct FirstHour {
    sandbox: Sandbox,
    _ha: crate::support::home_assistant::FakeHomeAssistant,
    _axe: crate::support::http::FakeHttp,
    plug: crate::support::shelly::FakeShelly,
    desk_plug: crate::support::shelly::FakeShelly,
    flags: Vec<String>,
}

impl FirstHour {
    fn new() -> FirstHour {
        use crate::support::home_assistant::{FakeHomeAssistant, TOKEN};
        let ha = FakeHomeAssistant::start();
        let sensors = [
            ("sensor.pv", "3000", "W"),
            ("sensor.house", "400", "W"),
            ("sensor.grid", "-2600", "W"),
            ("sensor.soc", "80", "%"),
            ("sensor.battery", "0", "W"),
        ];
        for (entity, value, unit) in sensors {
            ha.set(entity, value, Some(unit));
        }
        let axe = crate::support::http::FakeHttp::start(|_| {
            crate::support::http::json(crate::support::replies::bitaxe_info(1100.0))
        });
        let plug = crate::support::shelly::FakeShelly::start(2, 15.0);
        // The desk Bitaxe's plug is on: `init` reads its power through it.
        let desk_plug = crate::support::shelly::FakeShelly::start(2, 14.2);
        *desk_plug.on.lock().unwrap() = true;
        let sandbox = Sandbox::new();
        sandbox.write("ha-token", &format!("{TOKEN}\n"));
        let flags = vec![
            format!("--ha-url={}", ha.url()),
            "--production=sensor.pv".into(),
            "--consumption=sensor.house".into(),
            "--grid=sensor.grid".into(),
            "--battery-soc=sensor.soc".into(),
            "--battery-power=sensor.battery".into(),
            "--min-battery-soc=20".into(),
            format!("--miner=bitaxe={},name=desk,plug=shelly:{}", axe.url(), desk_plug.http.url()),
            format!("--miner=bitaxe=127.0.0.1:{},name=garage,power_max=20,plug=shelly:{}", 1, plug.http.url()),
            "--location=45.46,9.19".into(),
            "--timezone=Europe/Rome".into(),
        ];
        FirstHour { sandbox, _ha: ha, _axe: axe, plug, desk_plug, flags }
    }

    /// `validate` accepts the written config without a warning, and a cycle on a sunny
    /// surplus starts the plugged miner.
    fn check_written_config(&self) {
        let text = std::fs::read_to_string(self.sandbox.path("config.yaml")).unwrap();
        assert!(
            text.contains("{id: desk, power_max: 14, controllers: [c1, plug1]}"),
            "power read from the device:\n{text}"
        );
        assert!(self.desk_plug.is_on());
        assert!(text.contains("min_battery_soc: 20") && text.contains("latitude: 45.46"), "{text}");
        assert!(!text.lines().any(|l| l.starts_with("state:")), "{text}");
        let validate = validate_written(&self.sandbox);
        assert_eq!(validate.code, 0, "{}\n{text}", validate.stdout);
        assert!(validate.stdout.contains("0 warning(s)"), "{}", validate.stdout);
        assert!(!self.plug.is_on());
        let config = self.sandbox.path("config.yaml");
        let run = |now: &str| support::run_binary(self.sandbox.dir.path(), &config, &["run", "--now", now]);
        // A miner seen for the first time counts as just switched: `min_off` says how long.
        let first = run("2026-06-21T12:00");
        assert!(first.code <= 1, "{}\n{}", first.stdout, first.stderr);
        assert!(first.stdout.contains("guard `min_off (600 s left)`"), "{}", first.stdout);
        assert!(
            first.stdout.contains("[held rule `Surplus covers the miner`]"),
            "the guard names the rule it held: {}",
            first.stdout
        );
        let run = run("2026-06-21T12:11");
        assert!(run.code <= 1, "{}\n{}", run.stdout, run.stderr);
        assert!(run.stdout.contains("power_on via plug2: ok"), "{}", run.stdout);
        assert!(self.plug.is_on(), "the surplus covers the garage Bitaxe: its plug is switched on");
    }
}

#[test]
fn init_from_flags_writes_a_config_that_validates_cleanly_and_starts_a_miner() {
    let home = FirstHour::new();
    let flags: Vec<&str> = home.flags.iter().map(String::as_str).collect();
    let run = init_in(&home.sandbox, &flags, "");
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("miner `desk`: power_max 14 W, read from the device"), "{}", run.stdout);
    home.check_written_config();
}

/// The same answers typed on a terminal: `init` runs in a real pseudo-terminal (util-linux
/// `script`), so it asks its questions.
#[test]
fn init_on_a_terminal_asks_and_writes_the_same_config() {
    let home = FirstHour::new();
    let value = |flag: &str| home.flags.iter().find_map(|f| f.strip_prefix(&format!("--{flag}="))).unwrap().to_string();
    let miners: Vec<&String> = home.flags.iter().filter(|f| f.starts_with("--miner=")).collect();
    let axe_url = miners[0].trim_start_matches("--miner=bitaxe=").split(',').next().unwrap().to_string();
    let answers = [
        "Europe/Rome".to_string(),
        value("ha-url"),
        String::new(),
        "sensor.pv".into(),
        "sensor.house".into(),
        "sensor.grid".into(),
        "sensor.soc".into(),
        "sensor.battery".into(),
        String::new(),
        "bitaxe".into(),
        axe_url,
        "desk".into(),
        String::new(),
        "shelly".into(),
        home.desk_plug.http.url(),
        "bitaxe".into(),
        "127.0.0.1:1".into(),
        "garage".into(),
        "20".into(),
        "shelly".into(),
        home.plug.http.url(),
        String::new(),
        "45.46,9.19".into(),
        "20".into(),
        String::new(),
    ];
    let typed = answers.join("\n") + "\n";
    let command = format!("{} init", support::binary());
    let mut child = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(home.sandbox.dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("util-linux `script` provides the pseudo-terminal");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(typed.as_bytes()).unwrap();
    let run = support::finished(child.wait_with_output().unwrap());
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("Time zone (IANA name)"), "it asked on the terminal: {}", run.stdout);
    home.check_written_config();
}
