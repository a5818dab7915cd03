//! Devices that hang, drip, close, flood or talk nonsense: every run ends in time, names the
//! failed inputs, keeps the healthy miner under control, and sends nothing to the others.

use std::time::{Duration, Instant};

use crate::support::cgminer::{FakeCgminer, Mode, ok};
use crate::support::{Sandbox, miner, replies};
use serde_json::Value;

fn idle_avalon() -> FakeCgminer {
    FakeCgminer::start(&[
        ("summary", replies::avalon_summary(0.0)),
        ("stats", replies::avalon_stats(false)),
        ("ascset", ok("ASC 0 set info: success softon")),
    ])
}

#[test]
fn hostile_devices_cannot_stall_or_mislead_a_run() {
    let modes = [Mode::Hang, Mode::SlowDrip, Mode::CloseSilently, Mode::Malformed, Mode::Oversized];
    let fakes: Vec<FakeCgminer> = modes
        .iter()
        .map(|mode| {
            let fake = idle_avalon();
            fake.set_mode(*mode);
            fake
        })
        .collect();
    let healthy = idle_avalon();
    let mut controllers = String::new();
    let mut miners = String::new();
    let mut ids = Vec::new();
    for (index, fake) in fakes.iter().chain(std::iter::once(&healthy)).enumerate() {
        let id = if index < modes.len() { format!("bad{index}") } else { "good".to_string() };
        controllers.push_str(&format!("  - {{id: {id}-api, type: avalon, host: 127.0.0.1, port: {}}}\n", fake.port));
        miners.push_str(&format!("  - {{id: {id}, power_max: 1500, controllers: [{id}-api]}}\n"));
        ids.push(id);
    }
    let sandbox = Sandbox::new();
    sandbox.write(
        "always.yaml",
        "rules:\n  - name: always\n    conditions: {field: miner.power_max, operator: gt, value: 0}\n",
    );
    sandbox.config(&format!(
        "version: 1\nstate: state.db\nsettings: {{timeout: 1s, deadline: 6s}}\nenergy_sources:\n  - {{id: roof, type: solar, monitor: {{type: simulated}}}}\ncontrollers:\n{controllers}miners:\n{miners}units:\n  - id: site\n    energy_source: roof\n    miners: [{}]\n    rules: {{start: [always.yaml]}}\n",
        ids.join(", ")
    ));
    let started = Instant::now();
    let (run, report) = sandbox.cycle("2026-06-21T12:00:00+02:00", &[]);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(4), "ended long before its deadline: {took:?}");
    assert_eq!(run.code, 1, "degraded: {}", run.stderr);
    let errors = report["errors"].to_string();
    for index in 0..modes.len() {
        assert!(errors.contains(&format!("bad{index}-api")), "bad{index} named in {errors}");
        let bad = miner(&report, &format!("bad{index}"));
        assert_eq!(bad["decision"], "maintain_state", "{bad}");
        assert_eq!(bad["reason"]["name"], "miner unreadable");
        assert!(bad["action"].is_null());
    }
    for (fake, mode) in fakes.iter().zip(modes) {
        assert!(fake.writes().is_empty(), "{mode:?} got a command: {:?}", fake.writes());
    }
    let good = miner(&report, "good");
    assert_eq!(good["status"], "off");
    assert_eq!(good["action"]["kind"], "start_mining");
    assert_eq!(good["action"]["ok"], true);
    assert_eq!(healthy.writes().len(), 1);
    let messages: Vec<&str> = report["errors"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(messages.iter().any(|m| m.contains("larger than 1 MiB")), "{messages:?}");
    assert!(messages.iter().any(|m| m.contains("not JSON")), "{messages:?}");
    assert!(messages.iter().any(|m| m.contains("no complete reply in time")), "{messages:?}");
}

#[test]
fn nonsense_values_are_not_taken_at_face_value() {
    let fake = FakeCgminer::start(&[(
        "summary",
        r#"{"STATUS":[{"STATUS":"S","Msg":"Summary"}],"SUMMARY":[{"MHS 5s":nan,"MHS av":-5000000,"Elapsed":-3}],"id":1}"#.to_string(),
    )]);
    let sandbox = Sandbox::new();
    sandbox.write("policy.yaml", "name: p\nstart_rules: []\nstop_rules: []\n");
    sandbox.config(&format!(
        "version: 1\nstate: state.db\nenergy_sources:\n  - {{id: roof, type: solar, monitor: {{type: simulated}}}}\ncontrollers:\n  - {{id: api, type: cgminer, host: 127.0.0.1, port: {}}}\nminers:\n  - {{id: rig, controllers: [api]}}\nunits:\n  - {{id: home, energy_source: roof, miners: [rig], policy: policy.yaml}}\n",
        fake.port
    ));
    let run = sandbox.run(&["context", "--miner", "rig"]);
    let ctx: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {} {}", run.stdout, run.stderr));
    let state = &ctx["miner_state"];
    assert_eq!(state["hash_rate"]["value"], 0.0, "NaN is skipped, a negative average clamps to 0: {state}");
    assert_eq!(state["system_uptime"], 0);
    assert_eq!(state["status"], "error");
}

/// A component's own `timeout` bounds its requests alone: a miner slower than its
/// controller's timeout is a failed input, the same latency without one is read.
#[test]
fn a_controller_timeout_bounds_only_its_own_requests() {
    let slow = idle_avalon();
    slow.set_latency(Duration::from_millis(700));
    let patient = idle_avalon();
    patient.set_latency(Duration::from_millis(700));
    let sandbox = Sandbox::new();
    sandbox.write("policy.yaml", "name: none\nstart_rules: []\nstop_rules: []\n");
    sandbox.config(&format!(
        "version: 1\nstate: state.db\nsettings: {{timeout: 5s}}\nenergy_sources:\n  - {{id: roof, type: solar, monitor: {{type: simulated}}}}\ncontrollers:\n  - {{id: hasty-api, type: avalon, host: 127.0.0.1, port: {}, timeout: 250ms}}\n  - {{id: patient-api, type: avalon, host: 127.0.0.1, port: {}}}\nminers:\n  - {{id: hasty, controllers: [hasty-api]}}\n  - {{id: patient, controllers: [patient-api]}}\nunits:\n  - {{id: home, energy_source: roof, miners: [hasty, patient], policy: policy.yaml}}\n",
        slow.port, patient.port
    ));
    // Both answer after 700 ms: only the one whose own timeout is shorter fails.
    let run = sandbox.run(&["context", "--miner", "hasty", "--now", "2026-06-21T12:00:00+02:00"]);
    let hasty: Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr));
    assert_eq!(hasty["miner_state"]["status"], "unknown", "over its own timeout");
    assert!(run.stderr.contains("hasty-api"), "{}", run.stderr);
    assert!(!run.stderr.contains("patient-api"), "{}", run.stderr);
    let run = sandbox.run(&["context", "--miner", "patient", "--now", "2026-06-21T12:00:00+02:00"]);
    let patient: Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr));
    assert_eq!(patient["miner_state"]["status"], "off", "read within the settings' timeout");
}

/// A write that times out may have been applied (a miner that restarts to apply it drops the
/// connection): it is "unknown", not failed, and the next run's read confirms it.
#[test]
fn a_timed_out_start_is_unknown_and_confirmed_by_the_next_read() {
    use crate::support::http::{Answer, FakeHttp};
    use std::sync::{Arc, Mutex};
    let running = Arc::new(Mutex::new(false));
    let state = running.clone();
    let device = FakeHttp::start(move |request| match (request.method.as_str(), request.url.as_str()) {
        ("GET", "/api/status") => {
            let on = *state.lock().unwrap();
            Answer::Json(200, serde_json::json!({"state": if on { "mining" } else { "idle" }}))
        }
        ("POST", "/api/start") => {
            *state.lock().unwrap() = true;
            Answer::Hang(Duration::from_secs(5))
        }
        _ => Answer::Text(404, String::new(), vec![]),
    });
    let sandbox = Sandbox::new();
    sandbox.write(
        "start.yaml",
        "rules:\n  - name: always\n    conditions: {field: miner.power_max, operator: gt, value: 0}\n",
    );
    let url = device.url();
    sandbox.config(&format!(
        "version: 1\nstate: state.db\nenergy_sources:\n  - {{id: roof, type: solar, monitor: {{type: simulated}}}}\ncontrollers:\n  - {{id: dev, type: http, timeout: 300ms, status: {{url: \"{url}/api/status\", jsonpath: \"$.state\", on_value: mining}}, start: {{url: \"{url}/api/start\", method: POST}}, stop: {{url: \"{url}/api/stop\", method: POST}}}}\nminers:\n  - {{id: rig, power_max: 1400, controllers: [dev]}}\nunits:\n  - {{id: home, energy_source: roof, miners: [rig], rules: {{start: [start.yaml]}}}}\n"
    ));
    let (run, report) = sandbox.cycle("2026-06-21T12:00:00+02:00", &[]);
    assert_eq!(run.code, 0, "unknown is not failed: {}", run.stdout);
    let action = &miner(&report, "rig")["action"];
    assert_eq!(action["kind"], "start_mining");
    assert_eq!(action["ok"], false);
    assert_eq!(action["unknown"], true, "{action}");
    let intents = |now: &str| -> String {
        let show = sandbox.run(&["state", "show", "--now", now]);
        show.stdout.lines().find(|l| l.trim_start().starts_with("intent ")).unwrap_or_default().to_string()
    };
    assert!(intents("2026-06-21T12:01:00+02:00").contains(" 1 row"), "the start is left to verify");
    let history = sandbox.run(&["history", "--now", "2026-06-21T12:01:00+02:00"]);
    assert!(history.stdout.contains("outcome unknown (") && history.stdout.contains("timed out"), "{}", history.stdout);

    // The next run reads the miner mining: the start took, nothing is sent again.
    let (run, report) = sandbox.cycle("2026-06-21T12:05:00+02:00", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(miner(&report, "rig")["status"], "on");
    assert!(miner(&report, "rig")["action"].is_null());
    let starts = device.log().iter().filter(|r| r.url == "/api/start").count();
    assert_eq!(starts, 1, "verified by the read, not retried");
    assert!(intents("2026-06-21T12:06:00+02:00").contains(" 0 row"), "verified and cleared");
}
