//! Operations: metrics files in Prometheus text format, logs, exit codes under systemd.

use crate::support;

use crate::support::{Sandbox, prometheus};

/// Gives the S19 a first controller that nothing answers (port 9 on loopback).
fn with_unreachable_controller(sandbox: &Sandbox) {
    sandbox.edit_config(|config| {
        config
            .replace(
                "controllers:\n  - {id: s19-sim",
                "controllers:\n  - {id: ghost, type: cgminer, host: 127.0.0.1, port: 9}\n  - {id: s19-sim",
            )
            .replace("controllers: [s19-sim]", "controllers: [ghost, s19-sim]")
    });
}

#[test]
fn a_cycle_writes_parseable_metrics_with_the_stable_names() {
    let sandbox = Sandbox::new();
    sandbox.example();
    let metrics = sandbox.path("metrics/edge-mining.prom");
    std::fs::create_dir_all(metrics.parent().unwrap()).unwrap();
    let run = sandbox.run(&["run", "--now", "2026-06-21T12:00:00+02:00", "--metrics-file", metrics.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = std::fs::read_to_string(&metrics).unwrap();
    let parsed = prometheus::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    for name in [
        "edge_mining_miner_up",
        "edge_mining_miner_status",
        "edge_mining_miner_hashrate_terahashes",
        "edge_mining_miner_power_watts",
        "edge_mining_miner_chip_temperature_celsius",
        "edge_mining_miner_decision",
        "edge_mining_input_up",
        "edge_mining_input_age_seconds",
        "edge_mining_commands_sent",
        "edge_mining_commands_failed",
        "edge_mining_cycle_duration_seconds",
        "edge_mining_last_run_timestamp_seconds",
        "edge_mining_last_success_timestamp_seconds",
        "edge_mining_exit_code",
    ] {
        assert_eq!(parsed.types.get(name).map(String::as_str), Some("gauge"), "{name}");
    }
    let s19 = [("unit", "home"), ("miner", "s19")];
    assert_eq!(parsed.value("edge_mining_miner_up", &s19), Some(1.0));
    assert_eq!(parsed.value("edge_mining_miner_status", &[("miner", "s19"), ("status", "off")]), Some(1.0));
    assert_eq!(parsed.value("edge_mining_miner_status", &[("miner", "s19"), ("status", "on")]), Some(0.0));
    assert_eq!(
        parsed.value("edge_mining_miner_decision", &[("miner", "s19"), ("decision", "start_mining")]),
        Some(1.0)
    );
    assert_eq!(parsed.value("edge_mining_input_up", &[("kind", "energy"), ("id", "house")]), Some(1.0));
    assert_eq!(parsed.value("edge_mining_input_up", &[("kind", "tracker"), ("id", "pool")]), Some(1.0));
    // Both miners of the example want to start; the stagger lets one start per cycle.
    assert_eq!(parsed.value("edge_mining_commands_sent", &[]), Some(1.0));
    assert_eq!(parsed.value("edge_mining_exit_code", &[]), Some(0.0));
    let run_at = parsed.value("edge_mining_last_run_timestamp_seconds", &[]).unwrap();
    assert_eq!(run_at, 1_782_036_000.0);
    assert_eq!(parsed.value("edge_mining_last_success_timestamp_seconds", &[]), Some(run_at));
    let leftovers: Vec<_> = std::fs::read_dir(metrics.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "the temporary file was renamed into place");

    // A degraded cycle keeps the last success and says so.
    with_unreachable_controller(&sandbox);
    let degraded = sandbox.run(&[
        "run",
        "--dry-run",
        "--now",
        "2026-06-21T12:05:00+02:00",
        "--metrics-file",
        metrics.to_str().unwrap(),
    ]);
    assert_eq!(degraded.code, 1, "{}", degraded.stderr);
    let parsed = prometheus::parse(&std::fs::read_to_string(&metrics).unwrap()).unwrap();
    assert_eq!(parsed.value("edge_mining_exit_code", &[]), Some(1.0));
    assert_eq!(parsed.value("edge_mining_last_success_timestamp_seconds", &[]), Some(run_at));
    assert_eq!(parsed.value("edge_mining_input_up", &[("kind", "miner"), ("id", "s19")]), Some(0.0));
}

#[test]
fn failed_inputs_are_one_log_line_each_naming_the_controller() {
    let sandbox = Sandbox::new();
    sandbox.example();
    with_unreachable_controller(&sandbox);
    let mut command = support::command(sandbox.dir.path(), &sandbox.path("config.yaml"), &["run", "--dry-run"]);
    command.env("JOURNAL_STREAM", "8:1234");
    let output = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| l.contains("ghost")).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].starts_with("[WARN "), "no timestamp under journald: {}", lines[0]);
    assert!(lines[0].contains("controller `ghost`") && lines[0].contains("cannot connect"), "{}", lines[0]);
    let quiet = sandbox.run(&["-q", "run", "--dry-run"]);
    assert!(quiet.stderr.is_empty(), "{}", quiet.stderr);
}

#[test]
fn the_example_config_and_shipped_units_are_valid() {
    let validate = support::run_binary(&support::repo(""), &support::repo("config.example.yaml"), &["validate"]);
    assert_eq!(validate.code, 0, "{}", validate.stdout);
    for unit in ["systemd/edge-mining.service", "systemd/edge-mining.timer"] {
        let text = std::fs::read_to_string(support::repo(unit)).unwrap();
        assert!(text.contains("[Unit]"));
    }
    let service = std::fs::read_to_string(support::repo("systemd/edge-mining.service")).unwrap();
    for hardening in [
        "DynamicUser=yes",
        "StateDirectory=",
        "ConfigurationDirectory=",
        "LoadCredential=",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "RestrictAddressFamilies=",
        "SuccessExitStatus=1 75",
        "Type=oneshot",
    ] {
        assert!(service.contains(hardening), "{hardening}");
    }
}

#[test]
fn the_readme_systemd_layout_runs() {
    // As the unit sets things up: config in ConfigurationDirectory without `state:`, state
    // in $STATE_DIRECTORY, the config named by EDGE_MINING_CONFIG, metrics in a subfolder.
    let root = tempfile::tempdir().unwrap();
    let etc = root.path().join("etc/edge-mining");
    let var = root.path().join("var/lib/edge-mining");
    let run = root.path().join("run/edge-mining");
    std::fs::create_dir_all(etc.join("rules")).unwrap();
    std::fs::create_dir_all(&var).unwrap();
    std::fs::create_dir_all(&run).unwrap();
    let config = std::fs::read_to_string(support::repo("config.example.yaml")).unwrap();
    let without_state: String = config.lines().filter(|l| !l.starts_with("state:")).map(|l| format!("{l}\n")).collect();
    std::fs::write(etc.join("config.yaml"), without_state).unwrap();
    std::fs::copy(support::repo("rules/solar-policy.yaml"), etc.join("rules/solar-policy.yaml")).unwrap();
    // The unit's UMask=0077, through a shell.
    let output = std::process::Command::new("sh")
        .args(["-c", "umask 077; exec \"$@\"", "sh", support::binary()])
        .args(["run", "--metrics-file"])
        .arg(run.join("edge-mining.prom"))
        .env("EDGE_MINING_CONFIG", etc.join("config.yaml"))
        .env("STATE_DIRECTORY", &var)
        .env("JOURNAL_STREAM", "8:1")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(var.join("edge-mining.db").exists());
    // Under UMask=0077 the metrics file is still readable by others (node_exporter).
    let metrics = std::fs::metadata(run.join("edge-mining.prom")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(metrics.permissions().mode() & 0o777, 0o644);
    let service = std::fs::read_to_string(support::repo("systemd/edge-mining.service")).unwrap();
    assert!(service.contains("--metrics-file /run/edge-mining/edge-mining.prom"));
    assert!(service.contains("RuntimeDirectory=edge-mining") && service.contains("RuntimeDirectoryMode=0755"));
    assert!(!etc.join("edge-mining.db").exists(), "nothing is written to the configuration directory");
}

#[test]
fn completions_and_a_man_page_come_from_the_command_line_definition() {
    let run = |args: &[&str]| std::process::Command::new(support::binary()).args(args).output().unwrap();
    let bash = run(&["completions", "bash"]);
    assert!(bash.status.success());
    let text = String::from_utf8_lossy(&bash.stdout);
    assert!(text.contains("edge-mining") && text.contains("validate"), "{text}");
    let man = run(&["man"]);
    assert!(man.status.success());
    let page = String::from_utf8_lossy(&man.stdout);
    assert!(page.starts_with(".ie") || page.contains(".TH"), "{page}");
    assert!(page.contains("edge\\-mining"));
    // No reference to a page that is not installed (edge-mining-run(1)…): the commands are
    // described in place.
    assert!(!page.contains("\\-run(1)") && !page.contains("\\-history(1)"), "{page}");
    assert!(page.contains(".SH COMMANDS") && page.contains("edge\\-mining history \\-\\-help"), "{page}");
}

/// The bash script completes past the first word: `miner s<TAB>` and `run --<TAB>`, run in a
/// real bash with the generated script sourced.
#[test]
fn bash_completes_subcommands_and_options() {
    let script = std::process::Command::new(support::binary()).args(["completions", "bash"]).output().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("edge-mining.bash");
    std::fs::write(&path, &script.stdout).unwrap();
    let complete = |words: &[&str]| {
        let line = format!(
            "source {}; COMP_WORDS=({}); COMP_CWORD={}; _edge__mining edge-mining '{}' '{}'; echo \"${{COMPREPLY[@]}}\"",
            path.display(),
            words.iter().map(|w| format!("'{w}'")).collect::<Vec<_>>().join(" "),
            words.len() - 1,
            words[words.len() - 1],
            words[words.len() - 2],
        );
        let out = std::process::Command::new("bash").args(["--norc", "-c", &line]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(complete(&["edge-mining", "miner", "s"]), "status start stop");
    let options = complete(&["edge-mining", "run", "--"]);
    for option in ["--dry-run", "--explain", "--miner", "--output", "--now"] {
        assert!(options.split(' ').any(|o| o == option), "{option} in {options}");
    }
    assert!(complete(&["edge-mining", "hist"]).contains("history"));
}

/// Every command either honours `--output json` (its stdout parses as JSON) or refuses it
/// with exit 2 before doing anything.
#[test]
fn every_command_honours_output_or_refuses_it() {
    let sandbox = Sandbox::new();
    sandbox.example();
    let now = "2026-06-21T12:00:00+02:00";
    let context = sandbox.run(&["context", "--miner", "s19", "--now", now]);
    sandbox.write("ctx.json", &context.stdout);
    // (command, honours --output): those that print a report take it, the others refuse it.
    let commands: [(&[&str], bool); 29] = [
        (&["run", "--dry-run"], true),
        (&["validate"], false),
        (&["context"], true),
        (&["rules", "eval", "--context", "ctx.json", "--policy", "rules/solar-policy.yaml"], true),
        (&["rules", "test", "ctx.json"], false),
        (&["miner", "list"], false),
        (&["miner", "status"], false),
        (&["miner", "features"], false),
        (&["miner", "start", "s19"], false),
        (&["miner", "stop", "s19"], false),
        (&["miner", "power", "s19", "1000"], false),
        (&["tracker", "stats", "pool"], false),
        (&["tracker", "workers", "pool"], false),
        (&["tracker", "rewards", "pool"], false),
        (&["tracker", "payout", "pool"], false),
        (&["tracker", "test", "pool"], false),
        (&["notifier", "test", "phone"], false),
        (&["unit", "mode", "home", "hold"], false),
        (&["simulate", "--step", "1h"], true),
        (&["history"], true),
        (&["history", "--decisions"], true),
        (&["types"], false),
        (&["schema"], false),
        (&["scan", "127.0.0.1/32", "--timeout", "100ms"], true),
        (&["init"], false),
        (&["completions", "bash"], false),
        (&["man"], false),
        (&["state", "show"], false),
        (&["state", "clear"], false),
    ];
    for (command, honours) in commands {
        let mut args = command.to_vec();
        args.extend(["--output", "json", "--now", now]);
        let run = sandbox.run(&args);
        if honours {
            let parsed: Result<serde_json::Value, _> = serde_json::from_str(&run.stdout);
            assert!(parsed.is_ok(), "{command:?} exit {}: not JSON: {}", run.code, run.stdout);
        } else {
            assert_eq!(run.code, 2, "{command:?} must refuse --output: {}", run.stdout);
            assert!(run.stderr.contains("--output"), "{command:?}: {}", run.stderr);
            assert!(run.stdout.is_empty(), "{command:?} did nothing: {}", run.stdout);
        }
    }
    let history = sandbox.run(&["history", "--output", "json", "--now", now]);
    assert!(history.stdout.trim_start().starts_with('['), "{}", history.stdout);
}

/// The quick start followed literally: a run on the real clock (today), then the `--now`
/// day of the example (in June): the clock went backwards, and the report says so.
#[test]
fn a_cycle_before_the_last_one_warns_that_the_clock_went_backwards() {
    let sandbox = Sandbox::new();
    sandbox.example();
    let real = sandbox.run(&["run", "--dry-run"]);
    assert!(real.code <= 1, "{}", real.stderr);
    assert!(!real.stdout.contains("clock went backwards"), "{}", real.stdout);
    let earlier = sandbox.run(&["run", "--dry-run", "--now", "2026-06-21T12:00:00+02:00"]);
    assert!(earlier.code <= 1, "{}", earlier.stderr);
    assert!(
        earlier.stdout.contains("warning: this cycle (2026-06-21T12:00:00+02:00) is before the last one"),
        "{}",
        earlier.stdout
    );
    let json = sandbox.run(&["run", "--dry-run", "--output", "json", "--now", "2026-06-21T12:05:00+02:00"]);
    let report: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert!(report["warnings"][0].as_str().unwrap().contains("the clock went backwards"), "{report}");
}

/// Under cron (`-q run`), a clean cycle prints nothing, so nothing is mailed; a degraded one
/// prints its problems only.
#[test]
fn quiet_runs_print_nothing_when_clean_and_the_problems_when_degraded() {
    let sandbox = Sandbox::new();
    sandbox.example();
    let clean = sandbox.run(&["-q", "run", "--now", "2026-06-21T12:00:00+02:00"]);
    assert_eq!(clean.code, 0, "{}", clean.stderr);
    assert_eq!(clean.stdout, "", "a clean cycle is silent");
    assert_eq!(clean.stderr, "");

    with_unreachable_controller(&sandbox);
    sandbox.edit_config(|config| config.replace("controllers: [ghost, s19-sim]", "controllers: [ghost]"));
    let degraded = sandbox.run(&["-q", "run", "--now", "2026-06-21T12:05:00+02:00"]);
    assert_eq!(degraded.code, 1, "{}", degraded.stdout);
    assert!(
        degraded.stdout.starts_with("edge-mining cycle at 2026-06-21T12:05:00+02:00: exit 1"),
        "{}",
        degraded.stdout
    );
    assert!(degraded.stdout.contains("miner `s19` via controller `ghost`"), "{}", degraded.stdout);
    assert!(!degraded.stdout.contains("bitaxe"), "healthy miners are left out: {}", degraded.stdout);
}

/// `--now` takes a local time in the configured zone, as a person types it.
#[test]
fn now_accepts_a_local_time_in_the_configured_zone() {
    let sandbox = Sandbox::new();
    sandbox.example();
    let local = sandbox.run(&["run", "--dry-run", "--output", "json", "--now", "2026-06-21T12:00"]);
    assert_eq!(local.code, 0, "{}", local.stderr);
    let report: serde_json::Value = serde_json::from_str(&local.stdout).unwrap();
    assert_eq!(report["started_at"], "2026-06-21T12:00:00+02:00", "Europe/Rome in summer");
    let wrong = sandbox.run(&["run", "--now", "at noon"]);
    assert_eq!(wrong.code, 2);
    assert!(wrong.stderr.contains("local time such as"), "{}", wrong.stderr);
}

/// `--output yaml` gives YAML wherever `--output` is offered (a command without it refuses
/// the flag with exit 2).
#[test]
fn output_yaml_is_honoured_by_run_and_context() {
    let sandbox = Sandbox::new();
    sandbox.example();
    let run = sandbox.run(&["run", "--dry-run", "--output", "yaml", "--now", "2026-06-21T12:00"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: serde_yaml::Value = serde_yaml::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout));
    assert_eq!(report["units"][0]["miners"][0]["id"], serde_yaml::Value::from("s19"), "{}", run.stdout);
    assert!(!run.stdout.contains("edge-mining cycle at"), "not the text report");
    let context = sandbox.run(&["context", "--miner", "s19", "--output", "yaml", "--now", "2026-06-21T12:00"]);
    let context: serde_yaml::Value = serde_yaml::from_str(&context.stdout).unwrap();
    assert_eq!(context["miner"]["id"], serde_yaml::Value::from("s19"));
    assert_eq!(sandbox.run(&["validate", "--output", "yaml"]).code, 2, "validate has no --output");
}
