//! Fault tolerance (SPEC §12): broken and unwritable state, crashes mid-cycle, clocks that
//! jump, and device replies of the wrong shape.

use crate::support;

use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::cgminer::FakeCgminer;
use crate::support::home_assistant::{FakeHomeAssistant, TOKEN};
use crate::support::shelly::FakeShelly;
use crate::support::{Sandbox, miner};
use serde_json::Value;

#[test]
fn a_database_locked_beyond_the_busy_timeout_is_fatal_and_nothing_is_sent() {
    let sandbox = Sandbox::new();
    sandbox.example();
    assert_eq!(sandbox.run(&["run", "--dry-run"]).code, 0);
    let holder = rusqlite::Connection::open(sandbox.state()).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE; INSERT INTO run (started_at, dry_run) VALUES (0, 1);").unwrap();
    let started = Instant::now();
    let run = sandbox.run(&["run", "--now", "2026-06-21T12:00:00+02:00"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("locked"), "{}", run.stderr);
    assert!(started.elapsed() < Duration::from_secs(15));
    holder.execute_batch("ROLLBACK").unwrap();
    drop(holder);
    let history = sandbox.run(&["history", "--output", "json", "--now", "2026-06-21T13:00:00+02:00"]);
    assert_eq!(history.stdout.trim(), "[]", "no command was sent while the state could not be written");
    assert_eq!(sandbox.run(&["run", "--now", "2026-06-21T12:05:00+02:00"]).code, 0);
}

/// Makes a path immutable (chattr +i) for the guard's life; None where chattr cannot.
struct Immutable(std::path::PathBuf);

impl Immutable {
    fn set(path: &std::path::Path) -> Option<Immutable> {
        let ok = Command::new("chattr").arg("+i").arg(path).status().is_ok_and(|s| s.success());
        ok.then(|| Immutable(path.to_path_buf()))
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(&self.0).status();
    }
}

#[test]
#[ignore = "needs root and chattr (CI runs it)"]
fn a_read_only_state_directory_is_fatal() {
    let sandbox = Sandbox::new();
    sandbox.example();
    let config = std::fs::read_to_string(sandbox.path("config.yaml")).unwrap();
    sandbox.config(&config.replace("state: state.db", "state: var/state.db"));
    assert_eq!(sandbox.run(&["run", "--now", "2026-06-21T12:00:00+02:00"]).code, 0);
    // Root ignores permission bits, so the directory is made immutable instead.
    let _guard = Immutable::set(&sandbox.path("var")).expect("chattr +i works here (root, a file system that has it)");
    let run = sandbox.run(&["run", "--now", "2026-06-21T12:05:00+02:00"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("state"), "{}", run.stderr);
}

/// A small tmpfs, unmounted on drop; None where mounting is not allowed.
struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    fn mount(path: &std::path::Path, size: &str) -> Option<SmallDisk> {
        std::fs::create_dir_all(path).ok()?;
        let ok = Command::new("mount").args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"]).arg(path).status();
        ok.is_ok_and(|s| s.success()).then(|| SmallDisk(path.to_path_buf()))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
#[ignore = "needs root to mount a tmpfs (CI runs it)"]
fn a_full_disk_is_fatal_before_any_command_and_loses_nothing() {
    let sandbox = Sandbox::new();
    sandbox.example();
    let _disk = SmallDisk::mount(&sandbox.path("disk"), "1m").expect("a tmpfs can be mounted here (root)");
    let config = std::fs::read_to_string(sandbox.path("config.yaml")).unwrap();
    sandbox.config(&config.replace("state: state.db", "state: disk/state.db"));
    assert_eq!(sandbox.run(&["run", "--now", "2026-06-21T08:00:00+02:00"]).code, 0);
    let filler = sandbox.path("disk/filler");
    let block = vec![0u8; 4096];
    let mut file = std::fs::File::create(&filler).unwrap();
    while std::io::Write::write_all(&mut file, &block).is_ok() {}
    drop(file);
    let full = sandbox.run(&["run", "--now", "2026-06-21T12:00:00+02:00"]);
    assert_eq!(full.code, 3, "{}", full.stderr);
    std::fs::remove_file(&filler).unwrap();
    let history = sandbox.run(&["history", "--output", "json", "--now", "2026-06-21T13:00:00+02:00"]);
    let rows: Vec<Value> = serde_json::from_str(&history.stdout).unwrap();
    assert!(rows.iter().all(|r| r["at"].as_str().unwrap().contains("T08:00")), "nothing was sent while full: {rows:?}");
    assert_eq!(sandbox.run(&["run", "--now", "2026-06-21T12:05:00+02:00"]).code, 0);
}

#[test]
fn sigkill_at_random_points_keeps_the_database_consistent_with_what_was_sent() {
    let ha = FakeHomeAssistant::start();
    let plug = FakeShelly::start(2, 3000.0);
    let sandbox = Sandbox::new();
    sandbox.sun_rules();
    sandbox.config(&format!(
        "version: 1\nstate: state.db\nservices:\n  - {{id: ha, type: home_assistant, url: \"{}\", token: {TOKEN}}}\nenergy_sources:\n  - {{id: roof, type: solar, monitor: {{type: home_assistant, service: ha, production: sensor.pv}}}}\ncontrollers:\n  - {{id: plug, type: shelly, url: \"{}\"}}\nminers:\n  - {{id: s19, controllers: [plug]}}\nunits:\n  - {{id: home, energy_source: roof, miners: [s19], rules: {{start: [start.yaml], stop: [stop.yaml]}}, stop_mode: power_off, guards: {{verify_after: 1m}}}}\n",
        ha.url(),
        plug.http.url()
    ));
    let start = 1_782_036_000i64;
    ha.set("sensor.pv", "500", Some("W"));
    assert_eq!(sandbox.run(&["run", "--dry-run"]).code, 0, "the database exists before the kills");
    for round in 0..40i64 {
        ha.set("sensor.pv", if round % 2 == 0 { "5000" } else { "500" }, Some("W"));
        let now = jiff::Timestamp::from_second(start + round * 300).unwrap().to_string();
        let mut child = support::command(sandbox.dir.path(), &sandbox.path("config.yaml"), &["run", "--now", &now])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Every fourth run finishes; the others die somewhere in their first 40 ms.
        if round % 4 != 3 {
            std::thread::sleep(Duration::from_micros((round as u64 * 2_977) % 40_000));
            let _ = child.kill();
        }
        let _ = child.wait();
    }
    let conn = rusqlite::Connection::open(sandbox.state()).unwrap();
    let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
    let rows: i64 = conn.query_row("SELECT COUNT(*) FROM action", [], |r| r.get(0)).unwrap();
    let sent = plug.switches().len() as i64;
    assert!(rows >= sent, "every command sent has its row ({rows} rows, {sent} sent)");
    let orphans: i64 = conn
        .query_row("SELECT COUNT(*) FROM intent i WHERE NOT EXISTS (SELECT 1 FROM action a WHERE a.miner = i.miner AND a.action = i.command)", [], |r| r.get(0))
        .unwrap();
    assert_eq!(orphans, 0, "no intent without the command that made it");
    drop(conn);
    let (run, _) = sandbox.cycle(&jiff::Timestamp::from_second(start + 41 * 300).unwrap().to_string(), &[]);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
}

#[test]
fn a_clock_that_jumps_back_or_days_ahead_makes_no_negative_ages_and_no_burst() {
    let sandbox = Sandbox::new();
    sandbox.example();
    let config = std::fs::read_to_string(sandbox.path("config.yaml")).unwrap();
    sandbox.config(&config.replace(
        "      min_battery_soc: 20        # %: never start below this, stop when reached",
        "      min_battery_soc: 20\n    guards: {min_on: 15m, max_switches_per_day: 6}",
    ));
    sandbox.cycle("2026-06-21T12:00:00+02:00", &[]);
    sandbox.cycle("2026-06-21T12:10:00+02:00", &[]);
    let back = sandbox.run(&["context", "--miner", "s19", "--now", "2026-06-21T09:00:00+02:00"]);
    let context: Value = serde_json::from_str(&back.stdout).unwrap();
    for pointer in ["/energy_state/age", "/mining_performance/age", "/control/on_for", "/control/off_for"] {
        if let Some(age) = context.pointer(pointer).and_then(Value::as_i64) {
            assert!(age >= 0, "{pointer} = {age}");
        }
    }
    let (run, _) = sandbox.cycle("2026-06-21T09:00:00+02:00", &[]);
    assert!(run.code == 0, "{}", run.stderr);
    let (_, ahead) = sandbox.cycle("2026-06-24T12:00:00+02:00", &[]);
    let actions = ahead["units"][0]["miners"].as_array().unwrap().iter().filter(|m| !m["action"].is_null()).count();
    assert!(actions <= 2, "at most one command per miner: {ahead}");
    let (_, next) = sandbox.cycle("2026-06-24T12:02:00+02:00", &[]);
    for id in ["s19", "bitaxe"] {
        assert!(
            miner(&next, id)["action"].is_null() || miner(&next, id)["reason"]["kind"] != "rule",
            "no burst: {next}"
        );
    }
}

#[test]
fn valid_json_of_the_wrong_shape_is_a_failed_input() {
    let fake = FakeCgminer::start(&[
        ("summary", r#"{"STATUS":[{"STATUS":"S","Msg":"Summary"}],"SUMMARY":"all good","id":1}"#.to_string()),
        ("devs", r#"[1,2,3]"#.to_string()),
    ]);
    let sandbox = Sandbox::new();
    sandbox.write("p.yaml", "name: p\nstart_rules: []\nstop_rules: []\n");
    sandbox.config(&format!(
        "version: 1\nstate: state.db\nenergy_sources:\n  - {{id: roof, type: solar, monitor: {{type: simulated}}}}\ncontrollers:\n  - {{id: api, type: cgminer, host: 127.0.0.1, port: {}}}\nminers:\n  - {{id: rig, controllers: [api]}}\nunits:\n  - {{id: home, energy_source: roof, miners: [rig], policy: p.yaml}}\n",
        fake.port
    ));
    let (run, report) = sandbox.cycle("2026-06-21T12:00:00+02:00", &[]);
    assert_eq!(run.code, 1);
    assert!(report["errors"].to_string().contains("carries no hashrate"), "{}", report["errors"]);
    assert_eq!(miner(&report, "rig")["status"], "unknown");
}
