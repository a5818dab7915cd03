//! Every real controller type against fakes on loopback: the features it reads, and the
//! exact control requests the firmware expects (asserted on the fake's request log).

use crate::support::cgminer::{FakeCgminer, Mode, ok, reply};
use crate::support::http::{Answer, FakeHttp, json as json_answer, status};
use crate::support::{Sandbox, replies};
use serde_json::{Value, json};

/// A config with one miner driven by `controllers` (YAML list items) and a unit.
fn sandbox_with(controllers: &str, miner_controllers: &str) -> Sandbox {
    let sandbox = Sandbox::new();
    sandbox.write("policy.yaml", "name: manual only\nstart_rules: []\nstop_rules: []\n");
    sandbox.config(&format!(
        "version: 1\nstate: state.db\nsettings: {{timeout: 2s, deadline: 20s}}\nenergy_sources:\n  - {{id: roof, type: solar, monitor: {{type: simulated}}}}\ncontrollers:\n{controllers}\nminers:\n  - id: rig\n    power_max: 3300\n    hashrate_max: 100\n    controllers: [{miner_controllers}]\nunits:\n  - {{id: home, energy_source: roof, miners: [rig], policy: policy.yaml}}\n"
    ));
    sandbox
}

/// `context --miner rig` as JSON.
fn context(sandbox: &Sandbox) -> (i32, Value, String) {
    let run = sandbox.run(&["context", "--miner", "rig", "--now", "2026-06-21T12:00:00+02:00"]);
    let value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr));
    (run.code, value, run.stderr)
}

fn approx(value: &Value, expected: f64) {
    let got = value.as_f64().unwrap_or_else(|| panic!("not a number: {value}"));
    assert!((got - expected).abs() < 0.01, "{got} != {expected}");
}

fn generic_fake() -> FakeCgminer {
    FakeCgminer::start(&[
        ("summary", replies::cgminer_summary(95_000_000.0)),
        ("devs", replies::cgminer_devs(95_000_000.0, [61.0, 63.5, 62.0])),
        ("version", replies::cgminer_version("Generic S19")),
    ])
}

#[test]
fn cgminer_reads_hashrate_boards_uptime_and_info_over_every_reply_framing() {
    let fake = generic_fake();
    let sandbox = sandbox_with(&format!("  - {{id: api, type: cgminer, host: 127.0.0.1, port: {}}}", fake.port), "api");
    for mode in [Mode::NulTerminated, Mode::Newline, Mode::KeepOpen, Mode::SmallPackets] {
        fake.set_mode(mode);
        let (code, ctx, stderr) = context(&sandbox);
        assert_eq!(code, 0, "{mode:?}: {stderr}");
        let state = &ctx["miner_state"];
        assert_eq!(state["status"], "on", "{mode:?}");
        approx(&state["hash_rate"]["value"], 95.0);
        assert_eq!(state["hash_rate"]["unit"], "TH/s");
        assert_eq!(state["system_uptime"], 7200);
        assert_eq!(state["blocks_found"], 1);
        assert_eq!(state["hashboards"].as_array().unwrap().len(), 3);
        approx(&state["max_board_temperature"]["value"], 63.5);
        assert_eq!(state["sources"]["hash_rate"], "api");
        assert_eq!(state["sources"]["status"], "api");
    }
    assert!(fake.commands().iter().any(|c| c.contains('+')), "one multi-command request: {:?}", fake.commands());
    let status = sandbox.run(&["miner", "status", "rig"]);
    assert_eq!(status.code, 0, "{}", status.stderr);
    assert!(status.stdout.starts_with("rig: on"), "{}", status.stdout);
    assert!(status.stdout.contains("hashrate     95.00 TH/s"), "{}", status.stdout);
    assert!(status.stdout.contains("source       hash_rate <- api"), "{}", status.stdout);
}

#[test]
fn a_cgminer_that_hashes_nothing_is_in_error_not_on() {
    let fake = FakeCgminer::start(&[("summary", replies::cgminer_summary(0.0))]);
    let sandbox = sandbox_with(&format!("  - {{id: api, type: cgminer, host: 127.0.0.1, port: {}}}", fake.port), "api");
    let (_, ctx, _) = context(&sandbox);
    assert_eq!(ctx["miner_state"]["status"], "error");
}

#[test]
fn antminer_falls_back_to_single_commands_and_switches_work_mode_with_digest_auth() {
    let fake = FakeCgminer::start(&[
        ("summary", replies::antminer_summary(100_500.0)),
        ("stats", replies::antminer_stats()),
        ("version", replies::cgminer_version("Antminer S19j Pro")),
    ]);
    fake.set_multi(false);
    let web = crate::support::antminer::FakeAntminerWeb::start("0");
    let sandbox = sandbox_with(
        &format!(
            "  - {{id: stock, type: antminer, host: 127.0.0.1, port: {}, web_url: \"{}\", password: root}}",
            fake.port,
            web.url()
        ),
        "stock",
    );
    let (code, ctx, stderr) = context(&sandbox);
    assert_eq!(code, 0, "{stderr}");
    let state = &ctx["miner_state"];
    assert_eq!(state["status"], "on");
    approx(&state["hash_rate"]["value"], 100.5);
    let boards = state["hashboards"].as_array().unwrap();
    assert_eq!(boards.len(), 3);
    approx(&boards[1]["chip_temperature"], 76.0);
    approx(&boards[0]["hash_rate"], 33.6001);
    assert_eq!(state["internal_fan_speed"], json!([5400.0, 5460.0, 5280.0, 5340.0]));
    assert!(fake.commands().contains(&"summary".to_string()), "fell back to single commands: {:?}", fake.commands());

    let stop = sandbox.run(&["miner", "stop", "rig", "--now", "2026-06-21T12:00:00+02:00"]);
    assert_eq!(stop.code, 0, "{}", stop.stderr);
    let posted =
        web.http.log().into_iter().rfind(|r| r.url.ends_with("set_miner_conf.cgi")).expect("a set_miner_conf request");
    let body: Value = serde_json::from_str(&posted.body).unwrap();
    assert_eq!(body["bitmain-work-mode"], "1");
    assert_eq!(body["miner-mode"], 1);
    assert_eq!(body["pools"][0]["user"], "worker1", "the rest of the configuration is sent back unchanged");
    let (_, ctx, _) = context(&sandbox);
    assert_eq!(ctx["miner_state"]["status"], "off", "the sleep work mode reads as off");
    assert!(fake.writes().is_empty(), "control goes over the web interface, not 4028");
}

#[test]
fn braiins_os_rest_reads_and_pauses_with_a_token() {
    let paused = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = paused.clone();
    let web = FakeHttp::start(move |request| {
        // The firmware's OpenAPI says the bare token; some builds accept `Bearer` too.
        let authorized = matches!(request.header("Authorization"), Some("tok-123" | "Bearer tok-123"));
        match (request.method.as_str(), request.url.as_str()) {
            ("POST", "/api/v1/auth/login") => json_answer(json!({"token": "tok-123", "timeout_s": 3600})),
            (_, _) if !authorized => status(401),
            ("GET", "/api/v1/miner/details") => {
                json_answer(replies::braiins_details(if flag.load(std::sync::atomic::Ordering::SeqCst) {
                    3
                } else {
                    2
                }))
            }
            ("GET", "/api/v1/miner/stats") => json_answer(replies::braiins_stats(100_200.0, 3050.0)),
            ("GET", "/api/v1/miner/hw/hashboards") => json_answer(replies::braiins_hashboards()),
            ("GET", "/api/v1/cooling/state") => json_answer(replies::braiins_cooling()),
            ("GET", "/api/v1/performance/tuner-state") => {
                json_answer(json!({"mode_state": {"powertargetmodestate": {"current_target": {"watt": 3100}}}}))
            }
            ("PUT", "/api/v1/actions/pause") => {
                flag.store(true, std::sync::atomic::Ordering::SeqCst);
                Answer::Text(204, String::new(), vec![])
            }
            _ => status(404),
        }
    });
    let fake = FakeCgminer::start(&[]);
    let sandbox = sandbox_with(
        &format!(
            "  - {{id: bos, type: braiins_os, host: 127.0.0.1, port: {}, web_url: \"{}\", password: secret-pw}}",
            fake.port,
            web.url()
        ),
        "bos",
    );
    let (code, ctx, stderr) = context(&sandbox);
    assert_eq!(code, 0, "{stderr}");
    let state = &ctx["miner_state"];
    assert_eq!(state["status"], "on");
    approx(&state["hash_rate"]["value"], 100.2);
    approx(&state["power_consumption"], 3050.0);
    approx(&state["max_chip_temperature"]["value"], 70.5);
    approx(&state["hashboards"][0]["frequency"], 525.0);
    let login = web.log().into_iter().find(|r| r.url == "/api/v1/auth/login").unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&login.body).unwrap(),
        json!({"username": "root", "password": "secret-pw"})
    );
    let authorized: Vec<_> = web.log().into_iter().filter(|r| r.url != "/api/v1/auth/login").collect();
    assert!(
        authorized.iter().all(|r| r.header("Authorization") == Some("tok-123")),
        "the bare token, as the OpenAPI says"
    );

    let stop = sandbox.run(&["miner", "stop", "rig"]);
    assert_eq!(stop.code, 0, "{}", stop.stderr);
    assert!(web.requests().contains(&"PUT /api/v1/actions/pause".to_string()), "{:?}", web.requests());
    assert!(fake.writes().is_empty(), "REST worked, so 4028 was not used");
    let (_, ctx, _) = context(&sandbox);
    assert_eq!(ctx["miner_state"]["status"], "off", "paused reads as off");
    assert!(!stop.stdout.contains("secret-pw") && !stop.stderr.contains("secret-pw"));
}

#[test]
fn braiins_os_without_rest_uses_4028_pause_and_resume() {
    let web = FakeHttp::start(|_| status(404));
    let fake = FakeCgminer::start(&[
        ("summary", replies::cgminer_summary(90_000_000.0)),
        ("pause", ok("Pausing")),
        ("resume", ok("Resuming")),
    ]);
    let sandbox = sandbox_with(
        &format!("  - {{id: bos, type: braiins_os, host: 127.0.0.1, port: {}, web_url: \"{}\"}}", fake.port, web.url()),
        "bos",
    );
    let (code, ctx, stderr) = context(&sandbox);
    assert_eq!(code, 0, "{stderr}");
    approx(&ctx["miner_state"]["hash_rate"]["value"], 90.0);
    assert_eq!(sandbox.run(&["miner", "stop", "rig"]).code, 0);
    assert_eq!(sandbox.run(&["miner", "start", "rig"]).code, 0);
    let writes: Vec<String> = fake.writes().into_iter().map(|w| w.command).collect();
    assert_eq!(writes, ["pause", "resume"]);
}

#[test]
fn luxos_reuses_a_session_or_logs_on_then_curtails() {
    let fake = FakeCgminer::start(&[
        ("summary", replies::luxos_summary(139_800.0)),
        ("stats", replies::antminer_stats()),
        ("power", replies::luxos_power(3210.0)),
        ("fans", replies::luxos_fans()),
        ("config", replies::luxos_config("None")),
        ("session", replies::luxos_session("")),
        ("logon", replies::luxos_session("sid-42")),
        ("curtail", ok("Curtail sleep")),
    ]);
    let sandbox = sandbox_with(&format!("  - {{id: lux, type: luxos, host: 127.0.0.1, port: {}}}", fake.port), "lux");
    let (code, ctx, stderr) = context(&sandbox);
    assert_eq!(code, 0, "{stderr}");
    let state = &ctx["miner_state"];
    assert_eq!(state["status"], "on");
    approx(&state["hash_rate"]["value"], 139.8);
    approx(&state["power_consumption"], 3210.0);
    assert_eq!(state["internal_fan_speed"], json!([3120.0, 3180.0, 3060.0, 3090.0]));

    assert_eq!(sandbox.run(&["miner", "stop", "rig"]).code, 0);
    let writes = fake.writes();
    assert_eq!(writes.iter().map(|w| w.command.as_str()).collect::<Vec<_>>(), ["logon", "curtail"]);
    assert_eq!(writes[1].parameter.as_deref(), Some("sid-42,sleep"));

    fake.set_reply("session", replies::luxos_session("sid-7"));
    fake.set_reply("config", replies::luxos_config("Sleep"));
    let (_, ctx, _) = context(&sandbox);
    assert_eq!(ctx["miner_state"]["status"], "off", "curtailed reads as off");
    assert_eq!(sandbox.run(&["miner", "start", "rig"]).code, 0);
    let last = fake.writes().pop().unwrap();
    assert_eq!(
        (last.command.as_str(), last.parameter.as_deref()),
        ("curtail", Some("sid-7,wakeup")),
        "the active session is reused"
    );
    assert_eq!(fake.writes().iter().filter(|w| w.command == "logon").count(), 1);
}

/// LuxOS reports its nameplate hashrate (`config` → `NameplateTHS`); with no
/// `hashrate_max` in the config it is the miner's maximum in the context.
#[test]
fn luxos_nameplate_hashrate_reaches_the_context() {
    let fake = FakeCgminer::start(&[
        ("summary", replies::luxos_summary(139_800.0)),
        ("stats", replies::antminer_stats()),
        ("power", replies::luxos_power(3210.0)),
        ("fans", replies::luxos_fans()),
        ("config", replies::luxos_config("None")),
    ]);
    let sandbox = Sandbox::new();
    sandbox.write("policy.yaml", "name: manual only\nstart_rules: []\nstop_rules: []\n");
    sandbox.config(&format!(
        "version: 1\nstate: state.db\nenergy_sources:\n  - {{id: roof, type: solar, monitor: {{type: simulated}}}}\ncontrollers:\n  - {{id: lux, type: luxos, host: 127.0.0.1, port: {}}}\nminers:\n  - {{id: rig, power_max: 3300, controllers: [lux]}}\nunits:\n  - {{id: home, energy_source: roof, miners: [rig], policy: policy.yaml}}\n",
        fake.port
    ));
    let (code, ctx, stderr) = context(&sandbox);
    assert_eq!(code, 0, "{stderr}");
    approx(&ctx["miner"]["hashrate_max"], 141.0);
    assert_eq!(ctx["miner_state"]["sources"]["hashrate_max"], "lux", "{}", ctx["miner_state"]);
    let configured =
        sandbox_with(&format!("  - {{id: lux, type: luxos, host: 127.0.0.1, port: {}}}", fake.port), "lux");
    let (_, ctx, _) = context(&configured);
    approx(&ctx["miner"]["hashrate_max"], 100.0);
}

#[test]
fn avalon_soft_off_and_soft_on_with_a_dropped_connection() {
    let fake = FakeCgminer::start(&[
        ("summary", replies::avalon_summary(88_000_000.0)),
        ("stats", replies::avalon_stats(true)),
        ("version", reply("VERSION", json!([{"CGMiner": "4.11.1", "PROD": "Avalon Q", "MODEL": "Q"}]))),
        ("ascset", ok("ASC 0 set info: success softoff")),
    ]);
    let sandbox = sandbox_with(&format!("  - {{id: ava, type: avalon, host: 127.0.0.1, port: {}}}", fake.port), "ava");
    let (code, ctx, stderr) = context(&sandbox);
    assert_eq!(code, 0, "{stderr}");
    let state = &ctx["miner_state"];
    assert_eq!(state["status"], "on");
    approx(&state["hash_rate"]["value"], 88.0);
    approx(&state["max_chip_temperature"]["value"], 71.0);
    assert_eq!(state["internal_fan_speed"], json!([2700.0, 2710.0, 2690.0, 2705.0]));

    let stop = sandbox.run(&["miner", "stop", "rig", "--now", "2026-06-21T12:00:00Z"]);
    assert_eq!(stop.code, 0, "{}", stop.stderr);
    let off = fake.writes().pop().unwrap();
    assert_eq!(off.parameter.as_deref(), Some("0,softoff,1:1782043200"));

    fake.set_reply("stats", replies::avalon_stats(false));
    fake.set_reply("summary", replies::avalon_summary(0.0));
    let (_, ctx, _) = context(&sandbox);
    assert_eq!(ctx["miner_state"]["status"], "off");
    fake.drop_connection_on("ascset");
    let start = sandbox.run(&["miner", "start", "rig", "--now", "2026-06-21T12:10:00Z"]);
    assert_eq!(start.code, 0, "a dropped connection on softon is success: {}", start.stderr);
    assert_eq!(fake.writes().pop().unwrap().parameter.as_deref(), Some("0,softon,1:1782043800"));
}

#[test]
fn whatsminer_reads_power_and_chip_temperatures_and_cannot_be_switched() {
    let fake = FakeCgminer::start(&[
        ("summary", replies::whatsminer_summary()),
        ("devs", replies::cgminer_devs(88_300_000.0, [70.0, 71.0, 69.0])),
        ("status", replies::whatsminer_status(false)),
    ]);
    let sandbox =
        sandbox_with(&format!("  - {{id: wm, type: whatsminer, host: 127.0.0.1, port: {}}}", fake.port), "wm");
    let (code, ctx, stderr) = context(&sandbox);
    assert_eq!(code, 0, "{stderr}");
    let state = &ctx["miner_state"];
    assert_eq!(state["status"], "on");
    approx(&state["hash_rate"]["value"], 88.3);
    approx(&state["power_consumption"], 3360.0);
    approx(&state["max_chip_temperature"]["value"], 88.5);
    assert_eq!(state["internal_fan_speed"], json!([5100.0, 5130.0]));
    let features = sandbox.run(&["miner", "features", "rig"]);
    assert!(features.stdout.contains("pair it with a plug"), "{}", features.stdout);
    assert!(!features.stdout.contains("mining_control"));
    let start = sandbox.run(&["miner", "start", "rig"]);
    assert_eq!(start.code, 1);
    assert!(start.stderr.contains("neither mining_control nor power_control"), "{}", start.stderr);
    fake.set_reply("status", replies::whatsminer_status(true));
    let (_, ctx, _) = context(&sandbox);
    assert_eq!(ctx["miner_state"]["status"], "off", "btmineroff reads as off");
    assert!(fake.writes().is_empty());
}

#[test]
fn bitaxe_reads_axeos_and_has_no_software_stop() {
    let web = FakeHttp::start(|request| match request.url.as_str() {
        "/api/system/info" => json_answer(replies::bitaxe_info(1150.0)),
        _ => status(404),
    });
    let sandbox = sandbox_with(&format!("  - {{id: axe, type: bitaxe, url: \"{}\"}}", web.url()), "axe");
    let (code, ctx, stderr) = context(&sandbox);
    assert_eq!(code, 0, "{stderr}");
    let state = &ctx["miner_state"];
    assert_eq!(state["status"], "on");
    approx(&state["hash_rate"]["value"], 1.15);
    approx(&state["power_consumption"], 14.2);
    approx(&state["hashboards"][0]["chip_temperature"], 61.5);
    approx(&state["hashboards"][0]["voltage"], 1.195);
    approx(&state["hashboards"][0]["frequency"], 575.0);
    assert_eq!(state["system_uptime"], 12345);
    let features = sandbox.run(&["miner", "features", "rig"]);
    assert!(features.stdout.contains("no software pause"), "{}", features.stdout);
    assert_eq!(sandbox.run(&["miner", "stop", "rig"]).code, 1);
    assert!(web.log().iter().all(|r| r.method == "GET"), "nothing but reads: {:?}", web.requests());
}

#[test]
fn failover_to_the_next_controller_when_the_preferred_one_hangs() {
    let hanging = generic_fake();
    hanging.set_mode(Mode::Hang);
    let healthy = FakeCgminer::start(&[("summary", replies::cgminer_summary(80_000_000.0))]);
    let sandbox = Sandbox::new();
    sandbox.write("policy.yaml", "name: p\nstart_rules: []\nstop_rules: []\n");
    sandbox.config(&format!(
        "version: 1\nstate: state.db\nsettings: {{timeout: 1s, deadline: 10s}}\nenergy_sources:\n  - {{id: roof, type: solar, monitor: {{type: simulated}}}}\ncontrollers:\n  - {{id: primary, type: cgminer, host: 127.0.0.1, port: {}}}\n  - {{id: backup, type: cgminer, host: 127.0.0.1, port: {}}}\nminers:\n  - id: rig\n    controllers: [primary, backup]\n    features:\n      - {{type: hashrate_monitoring, controller: primary, priority: 90}}\n      - {{type: status_monitoring, controller: primary, priority: 90}}\nunits:\n  - {{id: home, energy_source: roof, miners: [rig], policy: policy.yaml}}\n",
        hanging.port, healthy.port
    ));
    let started = std::time::Instant::now();
    let run = sandbox.run(&["context", "--miner", "rig"]);
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "bounded by the 1 s timeout");
    assert_eq!(run.code, 1, "the primary's failure is reported: {}", run.stderr);
    assert!(run.stderr.contains("primary") && run.stderr.contains("no complete reply in time"), "{}", run.stderr);
    let ctx: Value = serde_json::from_str(&run.stdout).unwrap();
    approx(&ctx["miner_state"]["hash_rate"]["value"], 80.0);
    assert_eq!(ctx["miner_state"]["sources"]["hash_rate"], "backup");
    let features = sandbox.run(&["miner", "features", "rig"]);
    assert!(features.stdout.contains("*primary (priority 90), backup (priority 50)"), "{}", features.stdout);
}
