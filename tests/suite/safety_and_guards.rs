//! Safety limits, guards, verified commands and notifications across invocations (--now).

use crate::support::cgminer::{FakeCgminer, ok};
use crate::support::home_assistant::{FakeHomeAssistant, HaMode, TOKEN};
use crate::support::http::{Answer, FakeHttp};
use crate::support::shelly::FakeShelly;
use crate::support::{Sandbox, miner, replies};
use serde_json::Value;

const T0: i64 = 1_782_036_000; // 2026-06-21T10:00:00Z

fn at(offset: i64) -> String {
    jiff::Timestamp::from_second(T0 + offset).unwrap().to_string()
}

fn webhook() -> FakeHttp {
    FakeHttp::start(|_| Answer::Json(200, serde_json::json!({"ok": true})))
}

/// Home Assistant with a production sensor the test moves.
fn sun() -> FakeHomeAssistant {
    let ha = FakeHomeAssistant::start();
    ha.set("sensor.pv", "5000", Some("W"));
    ha
}

fn energy(ha: &FakeHomeAssistant) -> String {
    format!(
        "services:\n  - {{id: ha, type: home_assistant, url: \"{}\", token: {TOKEN}}}\nenergy_sources:\n  - {{id: roof, type: solar, monitor: {{type: home_assistant, service: ha, production: sensor.pv}}}}\n",
        ha.url()
    )
}

/// A simulated miner on the Home Assistant roof, with a webhook notifier (`notifier` holds
/// its extra keys).
fn notified_home(ha: &FakeHomeAssistant, hook: &FakeHttp, notifier: &str) -> Sandbox {
    let sandbox = Sandbox::new();
    sandbox.sun_rules();
    sandbox.config(&format!(
        "version: 1\nstate: state.db\n{}controllers:\n  - {{id: sim, type: simulated}}\nminers:\n  - {{id: s19, controllers: [sim]}}\nnotifiers:\n  - {{id: phone, type: webhook, url: \"{}\", {notifier}}}\nunits:\n  - {{id: home, energy_source: roof, miners: [s19], rules: {{start: [start.yaml]}}, notifiers: [phone]}}\n",
        energy(ha), hook.url()
    ));
    sandbox
}

#[test]
fn an_ignored_pause_is_retried_once_then_escalated_to_the_plug_once_and_notified_once() {
    let avalon = FakeCgminer::start(&[
        ("summary", replies::avalon_summary(88_000_000.0)),
        ("stats", replies::avalon_stats(true)),
        ("ascset", ok("ASC 0 set info: success softoff")),
    ]);
    let plug = FakeShelly::start(2, 1500.0);
    *plug.on.lock().unwrap() = true;
    let ha = sun();
    ha.set("sensor.pv", "100", Some("W"));
    let hook = webhook();
    let sandbox = Sandbox::new();
    sandbox.sun_rules();
    sandbox.config(&format!(
        "version: 1\nstate: state.db\nsettings: {{timeout: 2s}}\n{}controllers:\n  - {{id: ava, type: avalon, host: 127.0.0.1, port: {}}}\n  - {{id: plug, type: shelly, url: \"{}\"}}\nminers:\n  - {{id: q, power_max: 1600, controllers: [ava, plug]}}\nnotifiers:\n  - {{id: phone, type: webhook, url: \"{}/hook\"}}\nunits:\n  - {{id: home, energy_source: roof, miners: [q], rules: {{start: [start.yaml], stop: [stop.yaml]}}, notifiers: [phone], guards: {{verify_after: 3m}}}}\n",
        energy(&ha), avalon.port, plug.http.url(), hook.url()
    ));
    let softoffs =
        || avalon.writes().iter().filter(|w| w.parameter.as_deref().is_some_and(|p| p.contains("softoff"))).count();

    let (_, first) = sandbox.cycle(&at(0), &[]);
    assert_eq!(miner(&first, "q")["action"]["kind"], "stop_mining");
    assert_eq!(softoffs(), 1);
    let (_, waiting) = sandbox.cycle(&at(60), &[]);
    assert_eq!(miner(&waiting, "q")["reason"]["name"], "pending command");
    assert_eq!(softoffs(), 1, "nothing is sent while the command is pending");
    let (_, retry) = sandbox.cycle(&at(200), &[]);
    assert_eq!(miner(&retry, "q")["reason"]["name"], "retry: not effective");
    assert_eq!(softoffs(), 2, "retried once");
    assert!(plug.is_on());
    let (_, escalation) = sandbox.cycle(&at(400), &[]);
    let q = miner(&escalation, "q");
    assert_eq!(q["reason"]["name"], "escalation: not effective");
    assert_eq!(q["action"]["kind"], "power_off");
    assert_eq!(q["action"]["controller"], "plug");
    assert!(!plug.is_on());
    let (_, settled) = sandbox.cycle(&at(600), &[]);
    assert_eq!(miner(&settled, "q")["status"], "off");
    sandbox.cycle(&at(900), &[]);
    assert_eq!(softoffs(), 2);
    assert_eq!(plug.switches().len(), 1, "escalated once");
    let messages: Vec<Value> = hook.log().iter().map(|r| serde_json::from_str(&r.body).unwrap()).collect();
    assert_eq!(messages.len(), 1, "one notification: {messages:?}");
    assert_eq!(messages[0]["event"], "miner_stopped");
    assert_eq!(messages[0]["miner"], "q");
    assert_eq!(messages[0]["unit"], "home");
    assert!(messages[0]["at"].as_str().unwrap().starts_with("2026-06-21T10:00:00"));
    let history = sandbox.run(&["history", "--output", "json", "--now", &at(1000)]);
    let rows: Vec<Value> = serde_json::from_str(&history.stdout).unwrap();
    assert_eq!(rows.len(), 3, "stop, retry, escalation: {rows:?}");
}

fn simulated(sandbox: &Sandbox, ha: &FakeHomeAssistant, unit_extra: &str) {
    sandbox.sun_rules();
    sandbox.config(&format!(
        "version: 1\nstate: state.db\n{}controllers:\n  - {{id: sim, type: simulated, boot_time: 1m}}\nminers:\n  - {{id: s19, power_max: 3250, hashrate_max: 95, controllers: [sim]}}\nunits:\n  - {{id: home, energy_source: roof, miners: [s19], rules: {{start: [start.yaml], stop: [stop.yaml]}}{unit_extra}}}\n",
        energy(ha)
    ));
}

#[test]
fn min_on_holds_a_miner_on_through_a_short_dip() {
    let ha = sun();
    let sandbox = Sandbox::new();
    simulated(&sandbox, &ha, ", guards: {min_on: 15m, verify_after: 1m}");
    sandbox.cycle(&at(0), &[]);
    ha.set("sensor.pv", "800", Some("W"));
    let (_, dip) = sandbox.cycle(&at(300), &[]);
    let s19 = miner(&dip, "s19");
    assert_eq!(s19["status"], "on");
    assert_eq!(s19["decision"], "maintain_state");
    assert_eq!(s19["reason"]["kind"], "guard");
    assert!(s19["reason"]["name"].as_str().unwrap().starts_with("min_on"), "{s19}");
    ha.set("sensor.pv", "5200", Some("W"));
    let (_, back) = sandbox.cycle(&at(600), &[]);
    assert_eq!(miner(&back, "s19")["status"], "on");
    ha.set("sensor.pv", "800", Some("W"));
    let (_, later) = sandbox.cycle(&at(1000), &[]);
    assert_eq!(miner(&later, "s19")["action"]["kind"], "stop_mining", "min_on has passed");
}

#[test]
fn a_hot_chip_stops_a_miner_even_inside_min_on() {
    let ha = sun();
    let sandbox = Sandbox::new();
    simulated(&sandbox, &ha, ", guards: {min_on: 1h}, safety: {max_chip_temperature: 60}");
    sandbox.cycle(&at(0), &[]);
    let (_, hot) = sandbox.cycle(&at(300), &[]);
    let s19 = miner(&hot, "s19");
    assert_eq!(s19["status"], "on");
    assert_eq!(s19["reason"]["kind"], "safety");
    assert!(s19["reason"]["name"].as_str().unwrap().starts_with("max_chip_temperature"));
    assert_eq!(s19["action"]["kind"], "stop_mining");
}

#[test]
fn max_switches_per_day_stops_flapping_in_a_fluctuating_sun() {
    let ha = sun();
    let plug = FakeShelly::start(2, 3200.0);
    let sandbox = Sandbox::new();
    sandbox.sun_rules();
    sandbox.config(&format!(
        "version: 1\nstate: state.db\nsettings: {{timezone: Europe/Rome}}\n{}controllers:\n  - {{id: plug, type: shelly, url: \"{}\"}}\nminers:\n  - {{id: s19, power_max: 3250, controllers: [plug]}}\nunits:\n  - {{id: home, energy_source: roof, miners: [s19], rules: {{start: [start.yaml], stop: [stop.yaml]}}, stop_mode: power_off, guards: {{max_switches_per_day: 4, verify_after: 1m}}}}\n",
        energy(&ha), plug.http.url()
    ));
    for step in 0..16 {
        ha.set("sensor.pv", if step % 2 == 0 { "5000" } else { "1000" }, Some("W"));
        let (run, _) = sandbox.cycle(&at(step * 300), &[]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    assert_eq!(plug.switches().len(), 4, "{:?}", plug.switches());
    ha.set("sensor.pv", "5000", Some("W"));
    let (_, report) = sandbox.cycle(&at(16 * 300), &[]);
    assert!(miner(&report, "s19")["reason"]["name"].as_str().unwrap().starts_with("max_switches_per_day"));
    // A new day in Europe/Rome resets the count.
    ha.set("sensor.pv", "5000", Some("W"));
    sandbox.cycle("2026-06-22T08:00:00+02:00", &[]);
    assert_eq!(plug.switches().len(), 5);
}

#[test]
fn sleep_then_power_off() {
    let ha = sun();
    let sandbox = Sandbox::new();
    simulated(&sandbox, &ha, ", stop_mode: sleep_then_power_off, power_off_after: 30m, guards: {verify_after: 1m}");
    sandbox.cycle(&at(0), &[]);
    sandbox.cycle(&at(120), &[]);
    ha.set("sensor.pv", "500", Some("W"));
    let (_, sleep) = sandbox.cycle(&at(300), &[]);
    assert_eq!(miner(&sleep, "s19")["action"]["kind"], "stop_mining");
    let (_, asleep) = sandbox.cycle(&at(600), &[]);
    assert!(miner(&asleep, "s19")["action"].is_null());
    let (_, off) = sandbox.cycle(&at(300 + 1800 + 60), &[]);
    let s19 = miner(&off, "s19");
    assert_eq!(s19["action"]["kind"], "power_off", "{s19}");
    assert_eq!(s19["reason"]["name"], "sleep_then_power_off");
}

#[test]
fn starting_behind_an_open_plug_powers_it_first_and_resumes_once_it_answers() {
    let avalon = FakeCgminer::start(&[
        ("summary", replies::avalon_summary(0.0)),
        ("stats", replies::avalon_stats(false)),
        ("ascset", ok("ASC 0 set info: success softon")),
    ]);
    let plug = FakeShelly::start(2, 20.0);
    let ha = sun();
    let sandbox = Sandbox::new();
    sandbox.sun_rules();
    sandbox.config(&format!(
        "version: 1\nstate: state.db\n{}controllers:\n  - {{id: ava, type: avalon, host: 127.0.0.1, port: {}}}\n  - {{id: plug, type: shelly, url: \"{}\"}}\nminers:\n  - {{id: q, power_max: 1600, controllers: [ava, plug]}}\nunits:\n  - {{id: home, energy_source: roof, miners: [q], rules: {{start: [start.yaml], stop: [stop.yaml]}}, guards: {{verify_after: 1m}}}}\n",
        energy(&ha), avalon.port, plug.http.url()
    ));
    let (_, first) = sandbox.cycle(&at(0), &[]);
    assert_eq!(miner(&first, "q")["action"]["kind"], "power_on");
    assert!(avalon.log().is_empty(), "an unpowered miner is not asked");
    let (_, second) = sandbox.cycle(&at(120), &[]);
    let q = miner(&second, "q");
    assert_eq!(q["status"], "off", "powered, answering, soft-off");
    assert_eq!(q["action"]["kind"], "start_mining", "{q}");
    assert!(avalon.writes().iter().any(|w| w.parameter.as_deref().is_some_and(|p| p.contains("softon"))));
}

#[test]
fn an_unavailable_sensor_notifies_once_per_repeat_after() {
    let ha = sun();
    ha.set("sensor.pv", "unavailable", None);
    let hook = webhook();
    let sandbox = notified_home(&ha, &hook, "repeat_after: 2h, headers: {X-Priority: high}");
    for step in 0..30 {
        let (run, _) = sandbox.cycle(&at(step * 600), &[]);
        assert_eq!(run.code, 1);
    }
    let messages: Vec<Value> = hook.log().iter().map(|r| serde_json::from_str(&r.body).unwrap()).collect();
    assert_eq!(messages.len(), 3, "5 hours, one per 2 h: {messages:?}");
    assert!(messages.iter().all(|m| m["event"] == "input_unavailable"));
    assert!(messages[0]["message"].as_str().unwrap().contains("sensor.pv"));
    assert_eq!(hook.log()[0].header("X-Priority"), Some("high"));
}

/// A rejected token is an `authentication_error` (matched on the error's kind, not its
/// wording), sent once per `repeat_after` for the same subject whatever changes between runs.
#[test]
fn a_rejected_token_notifies_an_authentication_error() {
    let ha = sun();
    ha.set_mode(HaMode::Unauthorized);
    let hook = webhook();
    let sandbox = notified_home(&ha, &hook, "repeat_after: 1h");
    for step in 0..4 {
        let (run, _) = sandbox.cycle(&at(step * 1200), &[]);
        assert_eq!(run.code, 1);
    }
    let messages: Vec<Value> = hook.log().iter().map(|r| serde_json::from_str(&r.body).unwrap()).collect();
    assert_eq!(messages.len(), 2, "80 minutes, one per hour: {messages:?}");
    assert!(messages.iter().all(|m| m["event"] == "authentication_error"), "{messages:?}");
    assert!(messages[0]["message"].as_str().unwrap().contains("rejected the token"), "{messages:?}");
}

#[test]
fn telegram_messages_are_markdown_v2_and_the_token_never_shows() {
    let telegram = FakeHttp::start(|_| Answer::Json(200, serde_json::json!({"ok": true, "result": {"message_id": 1}})));
    let ha = sun();
    let sandbox = Sandbox::new();
    sandbox.sun_rules();
    sandbox.write("bot-token", "123456:SECRET-bot-token\n");
    sandbox.config(&format!(
        "version: 1\nstate: state.db\n{}controllers:\n  - {{id: sim, type: simulated}}\nminers:\n  - {{id: s19.garage, controllers: [sim]}}\nnotifiers:\n  - {{id: tg, type: telegram, bot_token_file: bot-token, chat_id: -100123, api_base_url: \"{}\"}}\nunits:\n  - {{id: home, energy_source: roof, miners: [s19.garage], rules: {{start: [start.yaml]}}, notifiers: [tg]}}\n",
        energy(&ha), telegram.url()
    ));
    let (run, _) = sandbox.cycle(&at(0), &["-vv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let log = telegram.log();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].url, "/bot123456:SECRET-bot-token/sendMessage");
    let body: Value = serde_json::from_str(&log[0].body).unwrap();
    assert_eq!(body["chat_id"], -100123);
    assert_eq!(body["parse_mode"], "MarkdownV2");
    assert!(body["text"].as_str().unwrap().starts_with("*Miner started: s19\\.garage*\n"), "{body}");
    assert!(
        body["text"].as_str().unwrap().contains("because of rule \\`sunny\\`"),
        "the reason is in the message: {body}"
    );
    // A failing Telegram never fails the control work, and its error does not leak the token.
    let broken = FakeHttp::start(|_| Answer::Text(500, "boom".into(), vec![]));
    let config = std::fs::read_to_string(sandbox.path("config.yaml")).unwrap();
    sandbox.config(&config.replace(&telegram.url(), &broken.url()));
    ha.set("sensor.pv", "100", Some("W"));
    sandbox.write(
        "stop.yaml",
        "rules:\n  - name: cloudy\n    conditions: {field: energy_state.production, operator: lt, value: 3000}\n",
    );
    let config = std::fs::read_to_string(sandbox.path("config.yaml")).unwrap();
    sandbox.config(&config.replace("rules: {start: [start.yaml]}", "rules: {start: [start.yaml], stop: [stop.yaml]}"));
    let (run, report) = sandbox.cycle(&at(600), &["-vv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(miner(&report, "s19.garage")["action"]["ok"], true);
    assert!(run.stderr.contains("Telegram API answered HTTP 500"), "{}", run.stderr);
    for text in [&run.stdout, &run.stderr] {
        assert!(!text.contains("SECRET-bot-token"));
    }
    let database = std::fs::read(sandbox.state()).unwrap();
    assert!(!database.windows(16).any(|w| w == b"SECRET-bot-token"));
}

/// SPEC §24: a stop is always sent and replaces a pending start; its retry is not sent.
#[test]
fn a_safety_stop_is_sent_while_the_start_is_still_unverified() {
    let sandbox = Sandbox::new();
    sandbox.example();
    let (run, report) = sandbox.cycle(&at(0), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(miner(&report, "s19")["action"]["kind"], "start_mining");

    // A minute later the S19 still boots (2 minutes) and the battery limit is raised above
    // its charge: the stop goes out now, not after the start is verified.
    sandbox.edit_config(|config| config.replacen("min_battery_soc: 20", "min_battery_soc: 99", 1));
    let (run, report) = sandbox.cycle(&at(60), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let s19 = miner(&report, "s19");
    assert_eq!(s19["action"]["kind"], "stop_mining", "{s19}");
    assert_eq!(s19["reason"]["kind"], "safety");

    // Nothing restarts it: the stop's intent replaced the start's.
    let (run, report) = sandbox.cycle(&at(600), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(miner(&report, "s19")["status"], "off");
    let history = sandbox.run(&["history", "--output", "json", "--now", &at(900)]);
    let rows: Vec<Value> = serde_json::from_str(&history.stdout).unwrap();
    let s19: Vec<&str> = rows.iter().filter(|r| r["miner"] == "s19").filter_map(|r| r["action"].as_str()).collect();
    assert_eq!(s19, ["start_mining", "stop_mining"], "{rows:?}");
}

/// `notifier test ID` sends one message now, says whether it was accepted, and is sent again
/// on each try (no de-duplication); a typo or a failing endpoint is an error naming it.
#[test]
fn notifier_test_sends_a_message_now() {
    let ha = sun();
    let hook = webhook();
    let sandbox = notified_home(&ha, &hook, "repeat_after: 6h");
    for _ in 0..2 {
        let sent = sandbox.run(&["notifier", "test", "phone", "--now", &at(0)]);
        assert_eq!(sent.code, 0, "{}{}", sent.stdout, sent.stderr);
        assert!(sent.stdout.contains("ok: notifier `phone` accepted the test message"), "{}", sent.stdout);
    }
    let messages: Vec<Value> = hook.log().iter().map(|r| serde_json::from_str(&r.body).unwrap()).collect();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["event"], "test");
    assert!(messages[0]["message"].as_str().unwrap().contains("Notifier phone works"), "{messages:?}");

    let typo = sandbox.run(&["notifier", "test", "phnoe"]);
    assert_eq!(typo.code, 2);
    assert!(typo.stderr.contains("unknown notifier `phnoe` (configured: phone)"), "{}", typo.stderr);
    let broken = FakeHttp::start(|_| Answer::Text(500, "boom".into(), vec![]));
    sandbox.edit_config(|config| config.replace(&hook.url(), &broken.url()));
    let failed = sandbox.run(&["notifier", "test", "phone"]);
    assert_eq!(failed.code, 1);
    assert!(failed.stderr.contains("notifier `phone`") && failed.stderr.contains("500"), "{}", failed.stderr);
}

/// `miner stop --hold` keeps the rules from undoing a manual stop for that long, across runs;
/// a safety limit still stops a miner started with `--hold`.
#[test]
fn a_manual_hold_keeps_the_rules_off_until_it_ends_but_not_safety() {
    let sandbox = Sandbox::new();
    sandbox.example();
    let local = |time: &str| format!("2026-06-21T{time}:00+02:00");
    let (_, report) = sandbox.cycle(&local("12:00"), &[]);
    assert_eq!(miner(&report, "s19")["action"]["kind"], "start_mining");
    let stop = sandbox.run(&["miner", "stop", "s19", "--hold", "1h", "--now", &local("12:10")]);
    assert_eq!(stop.code, 0, "{}{}", stop.stdout, stop.stderr);
    assert!(stop.stdout.contains("the rules leave it alone until 2026-06-21T13:10:00+02:00"), "{}", stop.stdout);

    // The sun still covers it, but the hold stands: run after run.
    for time in ["12:15", "12:40", "13:05"] {
        let (run, report) = sandbox.cycle(&local(time), &[]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let s19 = miner(&report, "s19");
        assert_eq!(s19["status"], "off", "{time}");
        assert!(s19["reason"]["name"].as_str().unwrap().starts_with("manual hold ("), "{time}: {s19}");
        assert!(s19["action"].is_null());
    }
    let (_, report) = sandbox.cycle(&local("13:15"), &[]);
    assert_eq!(miner(&report, "s19")["action"]["kind"], "start_mining", "the hold has ended");

    // A start held by hand is still stopped by a safety limit.
    let start = sandbox.run(&["miner", "start", "bitaxe", "--hold", "2h", "--now", &local("13:20")]);
    assert_eq!(start.code, 0, "{}", start.stderr);
    sandbox.edit_config(|config| config.replacen("max_chip_temperature: 85", "max_chip_temperature: 20", 1));
    let (_, report) = sandbox.cycle(&local("13:30"), &[]);
    let bitaxe = miner(&report, "bitaxe");
    assert_eq!(bitaxe["action"]["kind"], "stop_mining", "{bitaxe}");
    assert_eq!(bitaxe["reason"]["kind"], "safety");
    assert_eq!(sandbox.run(&["miner", "stop", "s19", "--hold", "soon"]).code, 2, "a bad duration is refused");
}
