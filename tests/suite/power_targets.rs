//! Power targets (SPEC §16) per controller type against fakes of their protocols: the exact
//! requests sent for a target, the bounds read, the clamp, the lever at or below the request,
//! verification across invocations with `--now`, and nothing sent under `--dry-run`.

use serde_json::{Value, json};

use crate::support::braiins_os::FakeBraiinsOs;
use crate::support::cgminer::FakeCgminer;
use crate::support::home_assistant::{FakeHomeAssistant, TOKEN};
use crate::support::http::{Answer, FakeHttp, json as json_answer, status};
use crate::support::{Sandbox, miner};

const T0: i64 = 1_782_036_000; // 2026-06-21T10:00:00Z

pub(super) fn at(offset: i64) -> String {
    jiff::Timestamp::from_second(T0 + offset).unwrap().to_string()
}

/// One miner `rig` driven by `controllers` (YAML list items), `c` first; `extra` adds
/// top-level sections (services, notifiers).
pub(super) fn sandbox(controllers: &str, bound: &str, extra: &str, notifiers: &str) -> Sandbox {
    let sandbox = Sandbox::new();
    sandbox.write("policy.yaml", "name: manual only\nstart_rules: []\nstop_rules: []\n");
    sandbox.config(&format!(
        "version: 1\nstate: state.db\nsettings: {{timeout: 2s}}\n{extra}energy_sources:\n  - {{id: roof, type: solar, monitor: {{type: simulated}}}}\ncontrollers:\n{controllers}miners:\n  - {{id: rig, power_max: 3250, hashrate_max: 100, controllers: [{bound}]}}\nunits:\n  - {{id: home, energy_source: roof, miners: [rig], policy: policy.yaml{notifiers}}}\n"
    ));
    sandbox
}

fn context(sandbox: &Sandbox, now: &str) -> Value {
    let run = sandbox.run(&["context", "--miner", "rig", "--now", now]);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr))
}

#[test]
fn a_simulated_miner_ramps_to_its_target_and_the_target_is_verified_across_invocations() {
    let sandbox = sandbox("  - {id: c, type: simulated, power: 3250, power_min: 1300, ramp_time: 30s}\n", "c", "", "");
    assert_eq!(sandbox.run(&["miner", "start", "rig", "--now", &at(0)]).code, 0);
    let (_, report) = sandbox.cycle(&at(300), &[]);
    assert_eq!(miner(&report, "rig")["status"], "on");
    let ctx = context(&sandbox, &at(310));
    assert_eq!(ctx["miner_state"]["power_target"], 3250.0);
    assert_eq!(ctx["miner_state"]["power_target_bounds"], json!({"min": 1300.0, "max": 3250.0}));
    assert_eq!(ctx["miner"]["power_min"], 1300.0);
    // Set 2000 W: recorded as a manual set_power_target with its watts, and an intent.
    let set = sandbox.run(&["miner", "power", "rig", "2000", "--now", &at(320)]);
    assert_eq!(set.code, 0, "{}", set.stderr);
    assert!(set.stdout.contains("power target 2000 W via c: ok"), "{}", set.stdout);
    let history = sandbox.run(&["history", "--output", "json", "--now", &at(330)]);
    let rows: Value = serde_json::from_str(&history.stdout).unwrap();
    let last = rows.as_array().unwrap().last().unwrap();
    assert_eq!(
        (last["action"].as_str(), last["watts"].as_f64(), last["manual"].as_bool()),
        (Some("set_power_target"), Some(2000.0), Some(true)),
        "{last}"
    );
    // Before verify_after nothing is re-sent; after it, the measured power (±2 % around 2000 W)
    // is within the tolerance and the intent closes: no retry, exit 0.
    let (run, report) = sandbox.cycle(&at(400), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(miner(&report, "rig")["action"].is_null());
    let (run, report) = sandbox.cycle(&at(560), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let power = miner(&report, "rig")["power"].as_f64().unwrap();
    assert!((power - 2000.0).abs() < 60.0, "{power}");
    assert!(miner(&report, "rig")["action"].is_null(), "verified: no retry");
    assert_eq!(
        miner(&report, "rig")["power_target"],
        json!({"watts": 2000.0, "min": 1300.0, "max": 3250.0}),
        "in the JSON report"
    );
    let status = sandbox.run(&["miner", "status", "rig", "--now", &at(565)]);
    assert!(status.stdout.contains("target       2000.00 W (bounds 1300.00 W – 3250.00 W)"), "{}", status.stdout);
    let ctx = context(&sandbox, &at(570));
    assert_eq!(ctx["miner_state"]["power_target"], 2000.0);
    assert_eq!(ctx["control"]["switches_today"], 1, "the start counts, the live target does not");
    // Outside the bounds: clamped, and said so.
    let clamped = sandbox.run(&["miner", "power", "rig", "9000", "--now", &at(600)]);
    assert!(clamped.stdout.contains("clamped to 3250 W") && clamped.code == 0, "{}", clamped.stdout);
    // --dry-run says what it would send and changes nothing.
    let dry = sandbox.run(&["miner", "power", "rig", "1500", "--dry-run", "--now", &at(700)]);
    assert!(dry.stdout.contains("would set a power target of 1500 W"), "{}", dry.stdout);
    assert_eq!(context(&sandbox, &at(710))["miner_state"]["power_target"], 3250.0);
}

/// An HTTP device whose power never follows: the target is re-sent once after
/// `verify_after`, then reported not effective (report, exit 1, history, notification).
#[test]
fn a_target_the_miner_ignores_is_retried_once_then_reported_not_effective() {
    let device = FakeHttp::start(|request| match (request.method.as_str(), request.url.as_str()) {
        ("GET", "/api/status") => json_answer(json!({"state": "mining", "watts": 3000, "limit": 3000})),
        ("POST", url) if url.starts_with("/api/limit") => Answer::Text(204, String::new(), vec![]),
        _ => status(404),
    });
    let hook = FakeHttp::start(|_| json_answer(json!({"ok": true})));
    let url = device.url();
    let controllers = format!(
        "  - {{id: c, type: http, status: {{url: \"{url}/api/status\", jsonpath: \"$.state\", on_value: mining}}, power: {{url: \"{url}/api/status\", jsonpath: \"$.watts\"}}, power_limit: {{url: \"{url}/api/status\", jsonpath: \"$.limit\"}}, set_power_limit: {{url: \"{url}/api/limit?w={{watts}}\", method: POST, body: \"{{\\\"watts\\\": {{watts}}}}\"}}, power_limit_min: 1000, power_limit_max: 3300}}\n"
    );
    let notifiers = format!("notifiers:\n  - {{id: phone, type: webhook, url: \"{}\"}}\n", hook.url());
    let sandbox = sandbox(&controllers, "c", &notifiers, ", notifiers: [phone]");
    let set = sandbox.run(&["miner", "power", "rig", "2000", "--now", &at(0)]);
    assert_eq!(set.code, 0, "{}", set.stderr);
    let posts = || device.log().into_iter().filter(|r| r.method == "POST").collect::<Vec<_>>();
    assert_eq!(posts().len(), 1);
    assert_eq!(posts()[0].url, "/api/limit?w=2000", "the exact request");
    assert_eq!(posts()[0].body, "{\"watts\": 2000}");
    // Outside power_limit_min/max: clamped, and said so; nothing more is sent for these.
    let clamped = sandbox.run(&["miner", "power", "rig", "500", "--dry-run", "--now", &at(10)]);
    assert!(clamped.stdout.contains("clamped to 1000 W"), "{}", clamped.stdout);
    // A dry run after verify_after sends nothing, not even the retry.
    let (dry, _) = sandbox.cycle(&at(200), &["--dry-run"]);
    assert!(dry.code <= 1);
    assert_eq!(posts().len(), 1, "--dry-run writes nothing");
    // After verify_after: 3000 W measured against 2000 W: re-sent once.
    let (run, report) = sandbox.cycle(&at(200), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(miner(&report, "rig")["action"]["kind"], "set_power_target");
    assert_eq!(miner(&report, "rig")["reason"]["name"], "retry: not effective");
    assert_eq!(posts().len(), 2);
    assert_eq!(posts()[1].url, "/api/limit?w=2000");
    // Still 3000 W after the retry: given up, and said so everywhere.
    let (run, report) = sandbox.cycle(&at(400), &[]);
    assert_eq!(run.code, 1, "a target not effective fails the cycle: {}", run.stdout);
    let errors = report["errors"].to_string();
    assert!(errors.contains("power target 2000 W not effective (measured 3000 W)"), "{errors}");
    assert_eq!(posts().len(), 2, "no third send");
    let history = sandbox.run(&["history", "--output", "json", "--now", &at(500)]);
    let rows: Value = serde_json::from_str(&history.stdout).unwrap();
    assert!(
        rows.as_array().unwrap().iter().any(|r| r["error"] == "target not effective" && r["watts"] == 2000.0),
        "{rows}"
    );
    let events: Vec<Value> = hook.log().iter().map(|r| serde_json::from_str(&r.body).unwrap()).collect();
    assert!(events.iter().any(|e| e["event"] == "target_not_effective"), "{events:?}");
    let (run, _) = sandbox.cycle(&at(600), &[]);
    assert_eq!(run.code, 0, "the intent is closed: the next cycle is clean");
}

#[test]
fn home_assistant_sets_the_power_limit_number_on_its_step() {
    let ha = FakeHomeAssistant::start();
    ha.set("switch.miner", "on", None);
    ha.set_number("number.s19_power_limit", 3000.0, 1000.0, 3500.0, 100.0);
    let services = format!("services:\n  - {{id: ha, type: home_assistant, url: \"{}\", token: {TOKEN}}}\n", ha.url());
    let sandbox = sandbox(
        "  - {id: c, type: home_assistant, service: ha, switch: switch.miner, power_limit: number.s19_power_limit}\n",
        "c",
        &services,
        "",
    );
    let ctx = context(&sandbox, &at(0));
    assert_eq!(ctx["miner_state"]["power_target"], 3000.0);
    assert_eq!(ctx["miner_state"]["power_target_bounds"], json!({"min": 1000.0, "max": 3500.0}));
    // 2345 W is not on the 100 W step: the value at or below it, 2300 W.
    let set = sandbox.run(&["miner", "power", "rig", "2345", "--now", &at(10)]);
    assert!(set.stdout.contains("the nearest lever: 2300 W"), "{}", set.stdout);
    let call = ha.http.log().into_iter().find(|r| r.url == "/api/services/number/set_value").expect("set_value");
    assert_eq!(
        serde_json::from_str::<Value>(&call.body).unwrap(),
        json!({"entity_id": "number.s19_power_limit", "value": 2300.0})
    );
    let clamped = sandbox.run(&["miner", "power", "rig", "4000", "--now", &at(20)]);
    assert!(clamped.stdout.contains("clamped to 3500 W"), "{}", clamped.stdout);
    assert_eq!(ha.state("number.s19_power_limit").as_deref(), Some("3500.0"));
    let before = ha.http.log().len();
    assert_eq!(sandbox.run(&["miner", "power", "rig", "2000", "--dry-run", "--now", &at(30)]).code, 0);
    assert!(ha.http.log()[before..].iter().all(|r| r.method == "GET"), "--dry-run writes nothing");
    // Verified across invocations: no power sensor here, so the number Home Assistant now
    // holds (3500) is the evidence; the intent closes and nothing is re-sent.
    let writes = || ha.http.log().into_iter().filter(|r| r.method == "POST").count();
    let sent = writes();
    let (run, report) = sandbox.cycle(&at(300), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(miner(&report, "rig")["action"].is_null(), "{report}");
    let (run, _) = sandbox.cycle(&at(600), &[]);
    assert_eq!(run.code, 0);
    assert_eq!(writes(), sent);
    let state = sandbox.run(&["state", "show", "--now", &at(700)]);
    let intents = state.stdout.lines().find(|l| l.trim_start().starts_with("intent ")).unwrap_or_default();
    assert!(intents.ends_with(" 0 row(s)"), "the target was verified and its intent closed: {}", state.stdout);
}

#[test]
fn braiins_os_puts_an_integer_watt_target_within_its_constraints() {
    let bos = FakeBraiinsOs::start(1300.0, 3200.0, 3200.0);
    let cgminer = FakeCgminer::start(&[]);
    let sandbox = sandbox(
        &format!(
            "  - {{id: c, type: braiins_os, host: 127.0.0.1, port: {}, web_url: \"{}\", password: pw}}\n",
            cgminer.port,
            bos.http.url()
        ),
        "c",
        "",
        "",
    );
    let ctx = context(&sandbox, &at(0));
    assert_eq!(ctx["miner_state"]["power_target"], 3200.0);
    assert_eq!(ctx["miner_state"]["power_target_bounds"], json!({"min": 1300.0, "max": 3200.0}));
    let set = sandbox.run(&["miner", "power", "rig", "2500.4", "--now", &at(10)]);
    assert_eq!(set.code, 0, "{}", set.stderr);
    let put = bos.http.log().into_iter().find(|r| r.method == "PUT").expect("a PUT");
    assert_eq!((put.url.as_str(), put.header("Authorization")), ("/api/v1/performance/power-target", Some("tok-123")));
    assert_eq!(serde_json::from_str::<Value>(&put.body).unwrap(), json!({"watt": 2500}));
    assert_eq!(bos.target(), 2500.0);
    let clamped = sandbox.run(&["miner", "power", "rig", "1000", "--now", &at(20)]);
    assert!(clamped.stdout.contains("clamped to 1300 W"), "{}", clamped.stdout);
    assert_eq!(bos.target(), 1300.0);
    // After verify_after the measured power (the fake follows) matches: no retry.
    let (run, report) = sandbox.cycle(&at(300), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(miner(&report, "rig")["action"].is_null(), "{}", miner(&report, "rig"));
    let puts = bos.http.log().into_iter().filter(|r| r.method == "PUT").count();
    assert_eq!(sandbox.run(&["miner", "power", "rig", "2000", "--dry-run", "--now", &at(400)]).code, 0);
    assert_eq!(bos.http.log().into_iter().filter(|r| r.method == "PUT").count(), puts, "--dry-run writes nothing");
}

/// A Braiins OS build from before the REST API: the power target goes through its GraphQL
/// API, with the session cookie its login mutation sets.
#[test]
fn braiins_os_without_rest_sets_its_target_through_graphql() {
    use crate::support::braiins_os::{FakeBraiinsGraphql, GRAPHQL_PASSWORD};
    let bos = FakeBraiinsGraphql::start(1200.0, 3300.0, 3000.0);
    let cgminer = FakeCgminer::start(&[("summary", crate::support::cgminer::cgminer_summary(100_000_000.0))]);
    let controller = |password: &str| {
        format!(
            "  - {{id: c, type: braiins_os, host: 127.0.0.1, port: {}, web_url: \"{}\", password: {password}}}\n",
            cgminer.port,
            bos.http.url()
        )
    };
    let sandbox = sandbox(&controller(GRAPHQL_PASSWORD), "c", "", "");
    let ctx = context(&sandbox, &at(0));
    assert_eq!(ctx["miner_state"]["power_target"], 3000.0);
    assert_eq!(ctx["miner_state"]["power_target_bounds"], json!({"min": 1200.0, "max": 3300.0}));
    let set = sandbox.run(&["miner", "power", "rig", "2500.4", "--now", &at(10)]);
    assert_eq!(set.code, 0, "{}{}", set.stdout, set.stderr);
    assert_eq!(bos.writes(), [json!(2500)], "an integer powerTarget");
    assert_eq!(bos.target(), 2500.0);
    let update = bos.http.log().into_iter().rfind(|r| r.body.contains("updateAutotuning")).unwrap();
    assert_eq!(update.header("Cookie"), Some("session_id=sess-42"), "sent with the login's session");
    assert!(update.body.contains("apply: true"), "applied live: {}", update.body);
    let clamped = sandbox.run(&["miner", "power", "rig", "5000", "--now", &at(20)]);
    assert!(clamped.stdout.contains("clamped to 3300 W"), "{}", clamped.stdout);
    assert_eq!(bos.target(), 3300.0);
    let writes = bos.writes().len();
    assert_eq!(sandbox.run(&["miner", "power", "rig", "2000", "--dry-run", "--now", &at(30)]).code, 0);
    assert_eq!(bos.writes().len(), writes, "--dry-run writes nothing");
    let wrong = sandbox_with_config(&controller("not-it"));
    let refused = wrong.run(&["miner", "power", "rig", "2000", "--now", &at(40)]);
    assert_eq!(refused.code, 1);
    assert!(refused.stderr.contains("Invalid username or password"), "{}", refused.stderr);
    assert!(!refused.stderr.contains("not-it") && !set.stdout.contains(GRAPHQL_PASSWORD));
    assert_eq!(bos.writes().len(), writes, "nothing sent without a session");
}

#[test]
fn stock_antminer_modes_are_two_power_targets() {
    let fake = FakeCgminer::start(&[
        ("summary", crate::support::replies::antminer_summary(100_500.0)),
        ("stats", crate::support::replies::antminer_stats()),
    ]);
    let web = crate::support::antminer::FakeAntminerWeb::start("0");
    let sandbox = sandbox(
        &format!(
            "  - {{id: c, type: antminer, host: 127.0.0.1, port: {}, web_url: \"{}\", password: root, low_power_watts: 2300}}\n",
            fake.port,
            web.url()
        ),
        "c",
        "",
        "",
    );
    let ctx = context(&sandbox, &at(0));
    assert_eq!(ctx["miner_state"]["power_target"], 3250.0, "normal mode stands for power_max");
    assert_eq!(ctx["miner_state"]["power_target_bounds"], json!({"min": 2300.0, "max": 3250.0}));
    let set = sandbox.run(&["miner", "power", "rig", "3000", "--now", &at(10)]);
    assert!(set.stdout.contains("the nearest lever: 2300 W"), "3000 W is below normal: low power. {}", set.stdout);
    assert_eq!((web.conf()["miner-mode"].clone(), web.conf()["bitmain-work-mode"].clone()), (json!(3), json!("3")));
    let clamped = sandbox.run(&["miner", "power", "rig", "5000", "--now", &at(20)]);
    assert!(clamped.stdout.contains("clamped to 3250 W"), "{}", clamped.stdout);
    assert_eq!(web.conf()["miner-mode"], 0);
    let posts = web.http.log().iter().filter(|r| r.method == "POST").count();
    assert_eq!(sandbox.run(&["miner", "power", "rig", "2300", "--dry-run", "--now", &at(30)]).code, 0);
    assert_eq!(web.http.log().iter().filter(|r| r.method == "POST").count(), posts, "--dry-run writes nothing");
}

#[test]
fn avalon_work_levels_stand_for_configured_watts() {
    let stats = |level: u32| {
        let mm = format!(
            "Ver[Q-1] SYSTEMSTATU[Work: In Work, Hash Board: 1] TMax[70] GHSspd[88000] WORKMODE[1] WORKLEVEL[{level}]"
        );
        crate::support::cgminer::reply("STATS", json!([{"STATS": 0, "ID": "AVA100", "MM ID0:Summary": mm}]))
    };
    let fake = FakeCgminer::start(&[
        ("summary", crate::support::replies::avalon_summary(88_000_000.0)),
        ("stats", stats(2)),
        ("ascset", crate::support::cgminer::ok("ASC 0 set OK")),
    ]);
    let sandbox = sandbox(
        &format!(
            "  - {{id: c, type: avalon, host: 127.0.0.1, port: {}, levels: {{0: 800, 1: 1200, 2: 1600}}}}\n",
            fake.port
        ),
        "c",
        "",
        "",
    );
    let ctx = context(&sandbox, &at(0));
    assert_eq!(ctx["miner_state"]["power_target"], 1600.0);
    assert_eq!(ctx["miner_state"]["power_target_bounds"], json!({"min": 800.0, "max": 1600.0}));
    let set = sandbox.run(&["miner", "power", "rig", "1400", "--now", &at(10)]);
    assert!(set.stdout.contains("the nearest lever: 1200 W"), "{}", set.stdout);
    let write = fake.writes().into_iter().find(|w| w.command == "ascset").expect("an ascset");
    assert_eq!(write.parameter.as_deref(), Some("0,worklevel,set,1"));
    let clamped = sandbox.run(&["miner", "power", "rig", "5000", "--now", &at(15)]);
    assert!(clamped.stdout.contains("clamped to 1600 W"), "{}", clamped.stdout);
    assert_eq!(fake.writes().last().and_then(|w| w.parameter.clone()).as_deref(), Some("0,worklevel,set,2"));
    let writes = fake.writes().len();
    assert_eq!(sandbox.run(&["miner", "power", "rig", "800", "--dry-run", "--now", &at(20)]).code, 0);
    assert_eq!(fake.writes().len(), writes, "--dry-run writes nothing");
}

#[test]
fn vnish_chooses_the_highest_tuned_preset_at_or_below_and_reads_it_back() {
    let fake = crate::support::vnish::FakeVnish::start();
    let sandbox = sandbox(
        &format!(
            "  - {{id: c, type: vnish, url: \"{}\", password: {}}}\n",
            fake.http.url(),
            crate::support::vnish::PASSWORD
        ),
        "c",
        "",
        "",
    );
    let ctx = context(&sandbox, &at(0));
    assert_eq!(ctx["miner_state"]["power_target"], 3250.0);
    assert_eq!(
        ctx["miner_state"]["power_target_bounds"],
        json!({"min": 2400.0, "max": 3250.0}),
        "untuned presets left out"
    );
    // 2900 W: 2800 is untuned, so 2400 is the highest tuned preset at or below.
    let set = sandbox.run(&["miner", "power", "rig", "2900", "--now", &at(10)]);
    assert!(set.stdout.contains("the nearest lever: 2400 W"), "{}", set.stdout);
    assert_eq!(fake.preset(), "2400");
    let posted = fake.http.log().into_iter().rfind(|r| r.method == "POST" && r.url == "/api/v1/settings").unwrap();
    let body: Value = serde_json::from_str(&posted.body).unwrap();
    assert_eq!(body["miner"]["overclock"]["preset"], "2400");
    assert_eq!(body["miner"]["overclock"]["globals"]["freq"], 585, "the rest of the overclock settings are kept");
    let clamped = sandbox.run(&["miner", "power", "rig", "1000", "--now", &at(15)]);
    assert!(clamped.stdout.contains("clamped to 2400 W"), "{}", clamped.stdout);
    let posts = fake.http.log().iter().filter(|r| r.method == "POST" && r.url == "/api/v1/settings").count();
    assert_eq!(sandbox.run(&["miner", "power", "rig", "3000", "--dry-run", "--now", &at(20)]).code, 0);
    let after = fake.http.log().iter().filter(|r| r.method == "POST" && r.url == "/api/v1/settings").count();
    assert_eq!(after, posts, "--dry-run writes nothing");
}

#[test]
fn epic_sets_its_power_perpetual_tune_target_with_the_password() {
    let fake = crate::support::epic::FakeEpic::start();
    let sandbox = sandbox(
        &format!(
            "  - {{id: c, type: epic, host: 127.0.0.1, port: {}, password: {}}}\n",
            fake.http.port,
            crate::support::epic::PASSWORD
        ),
        "c",
        "",
        "",
    );
    let ctx = context(&sandbox, &at(0));
    assert_eq!(ctx["miner_state"]["power_target_bounds"], json!({"min": 1500.0, "max": 3000.0}));
    let clamped = sandbox.run(&["miner", "power", "rig", "3400", "--now", &at(10)]);
    assert!(clamped.stdout.contains("clamped to 3000 W"), "{}", clamped.stdout);
    let posted = fake.http.log().into_iter().find(|r| r.url == "/perpetualtune/algo").expect("a POST");
    let body: Value = serde_json::from_str(&posted.body).unwrap();
    assert_eq!(body, json!({"param": {"algo": "Power", "target": 3000.0}, "password": crate::support::epic::PASSWORD}));
    assert!(!clamped.stdout.contains(crate::support::epic::PASSWORD));
    let posts = || fake.http.log().iter().filter(|r| r.method == "POST").count();
    let before = posts();
    assert_eq!(sandbox.run(&["miner", "power", "rig", "2000", "--dry-run", "--now", &at(20)]).code, 0);
    assert_eq!(posts(), before, "--dry-run writes nothing");
}

#[test]
fn luxos_chooses_a_profile_at_or_below_and_pauses_atm_around_it() {
    let fake = crate::support::luxos::fake_luxos(true);
    let sandbox = sandbox(&format!("  - {{id: c, type: luxos, host: 127.0.0.1, port: {}}}\n", fake.port), "c", "", "");
    let ctx = context(&sandbox, &at(0));
    assert_eq!(ctx["miner_state"]["power_target"], 3010.0);
    assert_eq!(ctx["miner_state"]["power_target_bounds"], json!({"min": 2250.0, "max": 3350.0}));
    let set = sandbox.run(&["miner", "power", "rig", "2900", "--now", &at(10)]);
    assert!(set.stdout.contains("the nearest lever: 2650 W"), "{}", set.stdout);
    let writes: Vec<(String, Option<String>)> = fake.writes().into_iter().map(|w| (w.command, w.parameter)).collect();
    assert_eq!(
        writes,
        [
            ("atmset".to_string(), Some("sid-9,enabled=false".to_string())),
            ("profileset".to_string(), Some("sid-9,275MHz".to_string())),
            ("atmset".to_string(), Some("sid-9,enabled=true".to_string())),
        ]
    );
    assert_eq!(sandbox.run(&["miner", "power", "rig", "2250", "--dry-run", "--now", &at(20)]).code, 0);
    assert_eq!(fake.writes().len(), 3, "--dry-run writes nothing");
    let clamped = sandbox.run(&["miner", "power", "rig", "1000", "--dry-run", "--now", &at(30)]);
    assert!(clamped.stdout.contains("clamped to 2250 W"), "{}", clamped.stdout);
}

#[test]
fn whatsminer_api_v2_sends_an_encrypted_power_limit_the_fake_decrypts() {
    use crate::support::whatsminer::{FakeWhatsminerV2Writer, V2_PASSWORD};
    let writer = FakeWhatsminerV2Writer::start();
    let sandbox = sandbox(
        &format!(
            "  - {{id: c, type: whatsminer, host: 127.0.0.1, port: {}, api: v2, password: {V2_PASSWORD}}}\n",
            writer.port
        ),
        "c",
        "",
        "",
    );
    let set = sandbox.run(&["miner", "power", "rig", "2800", "--now", &at(0)]);
    assert_eq!(set.code, 0, "{}{}", set.stdout, set.stderr);
    let commands = writer.commands();
    assert_eq!(commands.len(), 1);
    assert_eq!(commands[0]["cmd"], "adjust_power_limit");
    assert_eq!(commands[0]["power_limit"], "2800", "watts as a string, as the API takes them");
    assert!(!set.stdout.contains(V2_PASSWORD) && !set.stderr.contains(V2_PASSWORD));
    // No bounds from the firmware: a limit may not exceed the miner's ordinary power, its power_max.
    assert_eq!(context(&sandbox, &at(5))["miner_state"]["power_target_bounds"], json!({"max": 3250.0}));
    let dry = sandbox.run(&["miner", "power", "rig", "5000", "--dry-run", "--now", &at(5)]);
    assert!(dry.stdout.contains("clamped to 3250 W") && dry.stdout.contains("would set"), "{}", dry.stdout);
    assert_eq!(writer.commands().len(), 1, "--dry-run sends nothing");
    // The write restarts the miner: it counts as a switch (a target that does not, does not).
    let history = sandbox.run(&["history", "--output", "json", "--now", &at(10)]);
    assert!(history.stdout.contains("set_power_target"), "{}", history.stdout);
    assert_eq!(context(&sandbox, &at(20))["control"]["switches_today"], 1);
    // The miner still reads its old power five minutes on: it may still be restarting, so the
    // target waits for `restart_time` (10m) instead of being re-sent (another restart) at 3m.
    let (run, _) = sandbox.cycle(&at(300), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(writer.commands().len(), 1, "not retried within restart_time");
    let (_, report) = sandbox.cycle(&at(660), &[]);
    assert_eq!(report["units"][0]["miners"][0]["action"]["kind"], "set_power_target", "{report}");
    assert_eq!(writer.commands().len(), 2, "retried once restart_time has passed");
    // A wrong password: the fake cannot decrypt it and refuses; the command fails with its reason.
    let wrong = crate::support::Sandbox::new();
    wrong.write("policy.yaml", "name: p\nstart_rules: []\nstop_rules: []\n");
    wrong.config(&sandbox_config_with(&format!(
        "  - {{id: c, type: whatsminer, host: 127.0.0.1, port: {}, api: v2, password: not-it}}\n",
        writer.port
    )));
    let refused = wrong.run(&["miner", "power", "rig", "2800", "--now", &at(0)]);
    assert_eq!(refused.code, 1);
    assert!(refused.stderr.contains("invalid token or password"), "{}", refused.stderr);
    assert_eq!(writer.commands().len(), 2, "nothing more accepted");
}

#[test]
fn whatsminer_api_v3_signs_set_miner_power_limit() {
    use crate::support::whatsminer::{FakeWhatsminerV3, V3_PASSWORD};
    let v3 = FakeWhatsminerV3::start();
    let controller = |password: &str| {
        format!(
            "  - {{id: c, type: whatsminer, host: 127.0.0.1, api: v3, v3_port: {}, password: {password}}}\n",
            v3.port
        )
    };
    let sandbox = sandbox(&controller(V3_PASSWORD), "c", "", "");
    let ctx = context(&sandbox, &at(0));
    assert_eq!(ctx["miner_state"]["power_target"], 3600.0, "power-limit");
    let set = sandbox.run(&["miner", "power", "rig", "3000", "--now", &at(10)]);
    assert_eq!(set.code, 0, "{}", set.stderr);
    let sent = v3.log().into_iter().find(|r| r["cmd"] == "set.miner.power_limit").expect("a set");
    assert_eq!((sent["param"].clone(), sent["account"].clone()), (json!(3000), json!("super")));
    let sent = v3.log().len();
    assert_eq!(sandbox.run(&["miner", "power", "rig", "2500", "--dry-run", "--now", &at(15)]).code, 0);
    assert!(v3.log()[sent..].iter().all(|r| r["cmd"] != "set.miner.power_limit"), "--dry-run sends nothing");
    let wrong = sandbox_with_config(&controller("nope"));
    assert_eq!(wrong.run(&["miner", "power", "rig", "3000", "--now", &at(20)]).code, 1, "a wrong password is refused");
}

/// A sandbox like `sandbox` with these controllers bound to `rig`.
fn sandbox_with_config(controllers: &str) -> Sandbox {
    let sandbox = Sandbox::new();
    sandbox.write("policy.yaml", "name: p\nstart_rules: []\nstop_rules: []\n");
    sandbox.config(&sandbox_config_with(controllers));
    sandbox
}

fn sandbox_config_with(controllers: &str) -> String {
    format!(
        "version: 1\nstate: state.db\nsettings: {{timeout: 2s}}\nenergy_sources:\n  - {{id: roof, type: solar, monitor: {{type: simulated}}}}\ncontrollers:\n{controllers}miners:\n  - {{id: rig, power_max: 3250, controllers: [c]}}\nunits:\n  - {{id: home, energy_source: roof, miners: [rig], policy: policy.yaml}}\n"
    )
}

#[test]
fn a_bitaxe_steps_its_frequency_within_the_options_and_never_overclocks_unless_allowed() {
    let device = FakeHttp::start(|request| match (request.method.as_str(), request.url.as_str()) {
        ("GET", "/api/system/info") => {
            json_answer(json!({"power": 15.0, "hashRate": 1100.0, "frequency": 525, "coreVoltage": 1150,
            "temp": 60.0, "ASICModel": "BM1368", "version": "v2.5.0"}))
        }
        ("GET", "/api/system/asic") => json_answer(json!({"ASICModel": "BM1368", "defaultFrequency": 525,
            "frequencyOptions": [400, 490, 525, 575], "defaultVoltage": 1150, "voltageOptions": [1100, 1150, 1200]})),
        ("PATCH", "/api/system") => Answer::Text(200, String::new(), vec![]),
        _ => status(404),
    });
    let controller = |overclock: bool| {
        format!("  - {{id: c, type: bitaxe, url: \"{}\", allow_overclock: {overclock}}}\n", device.url())
    };
    let sandbox = sandbox(&controller(false), "c", "", "");
    // 15 W at 525 MHz: 0.02857 W/MHz; 400 MHz → 11.4 W, 490 → 14.0 W, 525 → 15.0 W; 575 is overclock.
    let ctx = context(&sandbox, &at(0));
    assert_eq!(ctx["miner_state"]["power_target_bounds"], json!({"min": 11.4, "max": 15.0}));
    let set = sandbox.run(&["miner", "power", "rig", "14.5", "--now", &at(10)]);
    assert!(set.stdout.contains("the nearest lever: 14 W"), "{}", set.stdout);
    let patch = device.log().into_iter().find(|r| r.method == "PATCH").expect("a PATCH");
    assert_eq!(serde_json::from_str::<Value>(&patch.body).unwrap(), json!({"frequency": 490.0, "coreVoltage": 1150.0}));
    let capped = sandbox.run(&["miner", "power", "rig", "20", "--now", &at(20)]);
    assert!(capped.stdout.contains("clamped to 15 W"), "no overclock: {}", capped.stdout);
    let overclock = sandbox_with_config(&controller(true));
    assert_eq!(context(&overclock, &at(30))["miner_state"]["power_target_bounds"]["max"], 16.4, "575 MHz allowed");
    let patches = device.log().iter().filter(|r| r.method == "PATCH").count();
    assert_eq!(sandbox.run(&["miner", "power", "rig", "12", "--dry-run", "--now", &at(40)]).code, 0);
    assert_eq!(device.log().iter().filter(|r| r.method == "PATCH").count(), patches, "--dry-run writes nothing");
}

/// SPEC §24: a LuxOS profile change pauses ATM; a run killed while LuxOS applies the profile
/// leaves ATM off on the device, and the next run turns it back on (a dry run does not).
#[test]
fn a_luxos_profile_change_cut_off_has_its_atm_turned_back_on_by_the_next_run() {
    let fake = crate::support::luxos::fake_luxos(true);
    fake.hang_on("profileset");
    let sandbox = sandbox(&format!("  - {{id: c, type: luxos, host: 127.0.0.1, port: {}}}\n", fake.port), "c", "", "");
    let mut child = crate::support::command(
        sandbox.dir.path(),
        &sandbox.path("config.yaml"),
        &["miner", "power", "rig", "2900", "--now", &at(10)],
    )
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null())
    .spawn()
    .unwrap();
    let started = std::time::Instant::now();
    while !fake.writes().iter().any(|w| w.command == "profileset") && started.elapsed().as_secs() < 10 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    let _ = child.wait();
    let writes =
        || -> Vec<(String, Option<String>)> { fake.writes().into_iter().map(|w| (w.command, w.parameter)).collect() };
    let atm = |on: bool| ("atmset".to_string(), Some(format!("sid-9,enabled={on}")));
    assert_eq!(
        writes(),
        [atm(false), ("profileset".to_string(), Some("sid-9,275MHz".to_string()))],
        "killed before ATM came back"
    );
    // The device now runs without ATM, as a real one would.
    fake.set_reply("config", crate::support::luxos::luxos_config_profile("300MHz", false));
    let (dry, _) = sandbox.cycle(&at(300), &["--dry-run"]);
    assert!(dry.code <= 1, "{}", dry.stderr);
    assert_eq!(writes().len(), 2, "a dry run opens no write session");
    let (run, report) = sandbox.cycle(&at(300), &[]);
    assert!(run.code <= 1, "{}", run.stderr);
    assert_eq!(writes().last(), Some(&atm(true)), "the next run turns ATM back on");
    assert!(report["warnings"].to_string().contains("turned thermal management (ATM) back on"), "{report}");
    // Done once: the flag is gone.
    fake.set_reply("config", crate::support::luxos::luxos_config_profile("300MHz", true));
    let count = writes().len();
    sandbox.cycle(&at(600), &[]);
    assert_eq!(writes().len(), count);
}

/// Braiins OS verification across invocations: while the tuner says "tuning", a target the
/// power does not follow yet is waited for (up to 15 minutes), then retried once; once the
/// tuner settles on it, it is verified.
#[test]
fn braiins_os_targets_wait_for_the_tuner_then_are_verified_across_invocations() {
    let bos = FakeBraiinsOs::start(1300.0, 3200.0, 3200.0);
    let cgminer = FakeCgminer::start(&[]);
    let controllers = format!(
        "  - {{id: c, type: braiins_os, host: 127.0.0.1, port: {}, web_url: \"{}\", password: pw}}\n",
        cgminer.port,
        bos.http.url()
    );
    let sandbox = sandbox(&controllers, "c", "", "");
    bos.tuning_at(Some(3200.0));
    assert_eq!(sandbox.run(&["miner", "power", "rig", "2000", "--now", &at(0)]).code, 0);
    let puts = || bos.writes().iter().filter(|w| w.starts_with("target")).count();
    assert_eq!(puts(), 1);
    // Five and ten minutes on (past verify_after), 3.2 kW while tuning: no retry.
    for offset in [300, 600] {
        let (run, report) = sandbox.cycle(&at(offset), &[]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(miner(&report, "rig")["action"].is_null(), "+{offset}: still tuning");
    }
    assert_eq!(puts(), 1);
    // Fifteen minutes: judged, and retried once.
    let (_, report) = sandbox.cycle(&at(900), &[]);
    assert_eq!(miner(&report, "rig")["reason"]["name"], "retry: not effective");
    assert_eq!(puts(), 2);
    // The tuner settles on the target: the retry is verified, nothing more is sent.
    bos.tuning_at(None);
    let (run, report) = sandbox.cycle(&at(1200), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(miner(&report, "rig")["action"].is_null());
    let (run, _) = sandbox.cycle(&at(1500), &[]);
    assert_eq!(run.code, 0, "verified, not reported as not effective");
    assert_eq!(puts(), 2);
}

/// LuxOS verification across invocations: a profile whose power never comes is re-sent once,
/// then reported not effective; one the miner follows is verified and left alone.
#[test]
fn luxos_targets_are_verified_across_invocations() {
    let fake = crate::support::luxos::fake_luxos(false);
    let sandbox = sandbox(&format!("  - {{id: c, type: luxos, host: 127.0.0.1, port: {}}}\n", fake.port), "c", "", "");
    let profilesets = || fake.writes().iter().filter(|w| w.command == "profileset").count();
    assert!(sandbox.run(&["miner", "power", "rig", "2900", "--now", &at(0)]).stdout.contains("2650 W"));
    // Still drawing 3010 W after verify_after: re-sent once, then not effective.
    let (run, report) = sandbox.cycle(&at(200), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(miner(&report, "rig")["reason"]["name"], "retry: not effective");
    assert_eq!(profilesets(), 2);
    let (run, report) = sandbox.cycle(&at(400), &[]);
    assert_eq!(run.code, 1, "not effective is a degraded cycle");
    assert!(report["errors"].to_string().contains("power target 2650 W not effective (measured 3010 W)"), "{report}");
    assert_eq!(profilesets(), 2, "given up: nothing more is sent");
    // A profile the miner follows: verified, nothing re-sent.
    assert_eq!(sandbox.run(&["miner", "power", "rig", "2900", "--now", &at(500)]).code, 0);
    fake.set_reply("power", crate::support::replies::luxos_power(2660.0));
    let (run, report) = sandbox.cycle(&at(700), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(miner(&report, "rig")["action"].is_null(), "{report}");
    assert_eq!(profilesets(), 3);
}
