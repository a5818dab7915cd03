//! End-to-end: the built binary, run several times against one state file with `--now`.

use crate::support;

use std::fs::OpenOptions;

use crate::support::{Sandbox, miner};
use serde_json::Value;

fn at(time: &str) -> String {
    format!("2026-06-21T{time}:00+02:00")
}

#[test]
fn a_day_starts_miners_in_the_morning_and_stops_them_in_the_evening() {
    let sandbox = Sandbox::new();
    sandbox.example();
    let mut statuses: Vec<(String, String, String)> = Vec::new();
    for time in [
        "05:00", "07:30", "08:00", "10:00", "12:00", "12:05", "15:00", "19:00", "19:30", "20:00", "20:30", "21:00",
        "21:30", "22:00",
    ] {
        let (run, report) = sandbox.cycle(&at(time), &[]);
        assert_eq!(run.code, 0, "{time}: {}", run.stderr);
        assert!(report["errors"].as_array().unwrap().is_empty());
        let status = |id| miner(&report, id)["status"].as_str().unwrap().to_string();
        statuses.push((time.to_string(), status("s19"), status("bitaxe")));
    }
    let s19 = |time: &str| statuses.iter().find(|(t, _, _)| t == time).unwrap().1.clone();
    let bitaxe = |time: &str| statuses.iter().find(|(t, _, _)| t == time).unwrap().2.clone();
    assert_eq!(s19("05:00"), "off");
    assert_eq!(bitaxe("05:00"), "off");
    assert_eq!(bitaxe("10:00"), "on", "{statuses:?}");
    assert_eq!(s19("12:05"), "on", "{statuses:?}");
    assert_eq!(s19("22:00"), "off", "{statuses:?}");
    assert_eq!(bitaxe("22:00"), "off", "{statuses:?}");

    let history = sandbox.run(&["history", "--output", "json", "--since", "2d", "--now", &at("23:00")]);
    assert_eq!(history.code, 0, "{}", history.stderr);
    let rows: Vec<Value> = serde_json::from_str(&history.stdout).unwrap();
    let actions: Vec<(String, String)> =
        rows.iter().map(|r| (r["miner"].as_str().unwrap().into(), r["action"].as_str().unwrap().into())).collect();
    for (id, action) in
        [("s19", "start_mining"), ("s19", "stop_mining"), ("bitaxe", "start_mining"), ("bitaxe", "stop_mining")]
    {
        assert!(actions.contains(&(id.into(), action.into())), "{actions:?}");
    }
    let first = &rows[0];
    assert_eq!(first["reason"]["kind"], "rule");
    assert_eq!(first["manual"], false);
    assert_eq!(first["ok"], true);
    assert!(first["at"].as_str().unwrap().starts_with("2026-06-21T"));
}

#[test]
fn a_started_miner_reports_starting_then_on_near_nominal() {
    let sandbox = Sandbox::new();
    sandbox.example();
    let start = sandbox.run(&["miner", "start", "s19", "--now", &at("12:00")]);
    assert_eq!(start.code, 0, "{}", start.stderr);
    let (_, booting) = sandbox.cycle(&at("12:01"), &["--dry-run"]);
    assert_eq!(miner(&booting, "s19")["status"], "starting");
    let (_, running) = sandbox.cycle(&at("12:03"), &["--dry-run"]);
    let s19 = miner(&running, "s19");
    assert_eq!(s19["status"], "on");
    let power = s19["power"].as_f64().unwrap();
    let hashrate = s19["hash_rate"].as_f64().unwrap();
    assert!((3100.0..3400.0).contains(&power), "{power}");
    assert!((90.0..100.0).contains(&hashrate), "{hashrate}");
}

#[test]
fn dry_run_sends_nothing_and_persists_no_decision_state() {
    let sandbox = Sandbox::new();
    sandbox.example();
    for _ in 0..2 {
        let (run, report) = sandbox.cycle(&at("12:00"), &["--dry-run"]);
        assert_eq!(run.code, 0);
        assert_eq!(report["dry_run"], true);
        let s19 = miner(&report, "s19");
        assert_eq!(s19["decision"], "start_mining", "the decision is reported");
        assert!(s19["action"].is_null(), "but no command is sent");
    }
    let (_, later) = sandbox.cycle(&at("12:10"), &["--dry-run"]);
    assert_eq!(miner(&later, "s19")["status"], "off", "the simulated miner was never started");
    let history = sandbox.run(&["history", "--output", "json", "--now", &at("13:00")]);
    assert_eq!(history.stdout.trim(), "[]");
    let conn = table_rows(&sandbox, "sim_device");
    assert_eq!(conn, 0, "no simulated device state was written");
}

/// Counts rows through the binary's own `state show` (the tests use no SQLite of their own).
fn table_rows(sandbox: &Sandbox, table: &str) -> i64 {
    let show = sandbox.run(&["state", "show"]);
    let line =
        show.stdout.lines().find(|l| l.trim_start().starts_with(table)).unwrap_or_else(|| panic!("{}", show.stdout));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn a_second_run_while_the_lock_is_held_exits_75_at_once() {
    let sandbox = Sandbox::new();
    sandbox.example();
    let (first, _) = sandbox.cycle(&at("09:00"), &[]);
    assert_eq!(first.code, 0);
    let lock = OpenOptions::new().create(true).truncate(false).write(true).open(sandbox.path("state.db.lock")).unwrap();
    lock.try_lock().unwrap();
    let started = std::time::Instant::now();
    let second = sandbox.run(&["run", "--now", &at("09:05")]);
    assert_eq!(second.code, 75, "{}", second.stderr);
    assert!(second.stderr.contains("another edge-mining run holds the lock"));
    assert!(started.elapsed().as_secs() < 5);
    drop(lock);
    let third = sandbox.run(&["run", "--now", &at("09:10")]);
    assert_eq!(third.code, 0, "a released lock no longer blocks: {}", third.stderr);
}

#[test]
fn overlapping_runs_one_acts_the_others_skip() {
    let sandbox = Sandbox::new();
    sandbox.example();
    let children: Vec<_> = (0..6)
        .map(|_| {
            support::command(sandbox.dir.path(), &sandbox.path("config.yaml"), &["run", "--now", &at("12:00")])
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    let codes: Vec<i32> = children.into_iter().map(|mut c| c.wait().unwrap().code().unwrap()).collect();
    assert!(codes.iter().all(|c| *c == 0 || *c == 75), "{codes:?}");
    let history = sandbox.run(&["history", "--output", "json", "--now", &at("13:00")]);
    let rows: Vec<Value> = serde_json::from_str(&history.stdout).unwrap();
    let s19_starts = rows.iter().filter(|r| r["miner"] == "s19" && r["action"] == "start_mining").count();
    assert_eq!(s19_starts, 1, "exactly one run acted: {rows:?}");
}

#[test]
fn runs_killed_at_random_points_leave_a_usable_database() {
    let sandbox = Sandbox::new();
    sandbox.example();
    for round in 0..25u64 {
        let minute = 10 + round;
        let mut child = support::command(
            sandbox.dir.path(),
            &sandbox.path("config.yaml"),
            &["run", "--now", &format!("2026-06-21T12:{minute:02}:00+02:00")],
        )
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
        std::thread::sleep(std::time::Duration::from_micros(500 + round * 700));
        let _ = child.kill();
        let _ = child.wait();
    }
    let (run, report) = sandbox.cycle(&at("13:00"), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(report["errors"].as_array().unwrap().is_empty());
    let history = sandbox.run(&["history", "--output", "json", "--now", &at("14:00")]);
    assert_eq!(history.code, 0);
    let rows: Vec<Value> = serde_json::from_str(&history.stdout).unwrap();
    let starts =
        rows.iter().filter(|r| r["miner"] == "s19" && r["action"] == "start_mining" && r["ok"] == true).count();
    assert!(starts <= 1, "never two successful starts of a running miner: {rows:?}");
}

#[test]
fn a_corrupt_database_is_moved_aside_and_the_run_continues_degraded() {
    let sandbox = Sandbox::new();
    sandbox.example();
    std::fs::write(sandbox.state(), b"this is not a database, just some bytes that ruin the header.....").unwrap();
    let (run, report) = sandbox.cycle(&at("12:00"), &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(report["errors"].to_string().contains("corrupt"), "{report}");
    let moved: Vec<_> = std::fs::read_dir(sandbox.dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("state.db.corrupt-"))
        .collect();
    assert_eq!(moved.len(), 1);
    let (again, _) = sandbox.cycle(&at("12:05"), &[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
}

#[test]
fn an_unwritable_state_location_is_fatal() {
    let sandbox = Sandbox::new();
    sandbox.example();
    sandbox.write("not-a-dir", "a file where the state directory should be");
    let config = std::fs::read_to_string(sandbox.path("config.yaml")).unwrap();
    sandbox.config(&config.replace("state: state.db", "state: not-a-dir/state.db"));
    let run = sandbox.run(&["run", "--now", &at("12:00")]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("state"), "{}", run.stderr);
}

#[test]
fn the_text_report_has_a_line_per_miner() {
    let sandbox = Sandbox::new();
    sandbox.example();
    let run = sandbox.run(&["run", "--now", &at("12:00")]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("unit home: production"), "{}", run.stdout);
    let s19 = run.stdout.lines().find(|l| l.trim_start().starts_with("s19")).unwrap();
    assert!(
        s19.contains("start_mining")
            && s19.contains("rule `Surplus covers the miner`")
            && s19.contains("via s19-sim: ok"),
        "{s19}"
    );
    assert!(run.stdout.lines().any(|l| l.trim_start().starts_with("bitaxe")));
}

#[test]
fn safety_blocks_a_start_and_names_the_limit() {
    let sandbox = Sandbox::new();
    sandbox.example();
    let config = std::fs::read_to_string(sandbox.path("config.yaml")).unwrap();
    sandbox.config(&config.replace("min_battery_soc: 20", "min_battery_soc: 99"));
    let (run, report) = sandbox.cycle(&at("12:00"), &[]);
    assert_eq!(run.code, 0);
    let s19 = miner(&report, "s19");
    assert_eq!(s19["decision"], "maintain_state");
    assert_eq!(s19["reason"]["kind"], "safety");
    assert!(s19["reason"]["name"].as_str().unwrap().starts_with("min_battery_soc"));
    assert!(s19["action"].is_null());
}

#[test]
fn context_prints_what_the_rules_see_with_sources() {
    let sandbox = Sandbox::new();
    sandbox.example();
    let run = sandbox.run(&["context", "--miner", "s19", "--now", &at("12:00")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let context: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(context["miner"]["id"], "s19");
    assert_eq!(context["miner_state"]["status"], "off");
    assert_eq!(context["miner_state"]["sources"]["status"], "s19-sim");
    assert_eq!(context["timestamp"], "2026-06-21T12:00:00+02:00");
    assert!(context["energy_state"]["surplus_power"].as_f64().unwrap() > 3000.0);
    assert!(context["sun"]["elevation"].as_f64().unwrap() > 60.0);
    assert_eq!(context["mining_performance"]["tracker"], "pool");
    // A captured context feeds `rules eval` and gives the decision the run would take.
    sandbox.write("ctx.json", &run.stdout);
    let eval = sandbox.run(&[
        "rules",
        "eval",
        "--context",
        "ctx.json",
        "--policy",
        "rules/solar-policy.yaml",
        "--output",
        "json",
    ]);
    assert_eq!(eval.code, 0, "{}", eval.stderr);
    let verdict: Value = serde_json::from_str(&eval.stdout).unwrap();
    assert_eq!(verdict["decision"], "start_mining");
    assert_eq!(verdict["rule"], "Surplus covers the miner");
    assert_eq!(verdict["status"], "off");
}

#[test]
fn history_refuses_a_miner_never_heard_of_and_honours_yaml() {
    let sandbox = Sandbox::new();
    sandbox.example();
    let (run, _) = sandbox.cycle(&at("12:00"), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let typo = sandbox.run(&["history", "--miner", "s91", "--now", &at("13:00")]);
    assert_eq!(typo.code, 2, "{}", typo.stdout);
    assert!(typo.stderr.contains("unknown miner `s91` (configured: s19, bitaxe)"), "{}", typo.stderr);
    let quiet = sandbox.run(&["history", "--miner", "bitaxe", "--now", &at("13:00")]);
    assert_eq!(quiet.code, 0, "a configured miner without actions is no error");
    let yaml = sandbox.run(&["history", "--output", "yaml", "--now", &at("13:00")]);
    assert_eq!(yaml.code, 0);
    let rows: serde_yaml::Value = serde_yaml::from_str(&yaml.stdout).unwrap();
    assert_eq!(rows[0]["miner"], serde_yaml::Value::from("s19"), "{}", yaml.stdout);
    assert!(!yaml.stdout.trim_start().starts_with('['), "YAML, not JSON: {}", yaml.stdout);
}

/// "Why did it not start?": every cycle's decision is kept with its reason, identical ones
/// merged into one stretch, and `history --decisions` lists them.
#[test]
fn history_decisions_lists_every_cycles_decision_with_its_reason() {
    let sandbox = Sandbox::new();
    sandbox.example();
    for time in ["12:00", "12:05", "12:10", "12:15"] {
        let (run, _) = sandbox.cycle(&at(time), &[]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    let (_, _) = sandbox.cycle(&at("12:20"), &["--dry-run"]);
    let json = sandbox.run(&["history", "--decisions", "--output", "json", "--now", &at("13:00")]);
    assert_eq!(json.code, 0, "{}", json.stderr);
    let rows: Vec<Value> = serde_json::from_str(&json.stdout).unwrap();
    let s19: Vec<&Value> = rows.iter().filter(|r| r["miner"] == "s19").collect();
    assert_eq!(s19.len(), 2, "{s19:?}");
    assert_eq!(s19[0]["decision"], "start_mining");
    assert_eq!(s19[0]["reason"]["name"], "Surplus covers the miner");
    assert_eq!((s19[1]["decision"].as_str(), s19[1]["status"].as_str()), (Some("maintain_state"), Some("on")));
    assert_eq!(s19[1]["from"], at("12:05"));
    assert_eq!(s19[1]["until"], at("12:15"), "merged across runs; a dry run keeps nothing");
    let bitaxe: Vec<&Value> = rows.iter().filter(|r| r["miner"] == "bitaxe").collect();
    assert_eq!(bitaxe[0]["reason"], serde_json::json!({"kind": "guard", "name": "stagger"}), "{bitaxe:?}");

    let text = sandbox.run(&["history", "--decisions", "--miner", "bitaxe", "--now", &at("13:00")]);
    assert!(text.stdout.contains("maintain_state (guard `stagger`)"), "{}", text.stdout);
    assert!(!text.stdout.contains("s19"), "{}", text.stdout);
}

/// `run --explain`: for a miner that did not start, every rule considered and each leaf with
/// the value it saw; a held decision names its guard.
#[test]
fn run_explain_names_each_leaf_with_the_value_it_saw() {
    let sandbox = Sandbox::new();
    sandbox.example();
    let run = sandbox.run(&["run", "--explain", "--now", "2026-06-21T07:00"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let explained = run.stdout.split("explanation:\n").nth(1).expect("an explanation section");
    assert!(explained.contains("miner s19 (unit home): maintain_state (no rule matched)"), "{explained}");
    assert!(explained.contains("    rule `Surplus covers the miner` (priority 20):"), "{explained}");
    assert!(
        explained.contains("energy_state.surplus_for_miner gte miner.power_max (= 3250.0): false (field is "),
        "{explained}"
    );
    assert!(explained.contains("energy_state.battery.state_of_charge gte 95: false (field is 50.0)"), "{explained}");
    assert!(explained.contains("miner bitaxe (unit home): start_mining (rule `Surplus covers the miner`)"));
}
