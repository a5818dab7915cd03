//! Device fidelity (SPEC §23): for every family, a fake on loopback replying in the
//! documented format, and the values a person reads off the reply (±2 %) in
//! `context --output json` and in `miner status`.

use serde_json::{Value, json};

use crate::support::auradine::{self, auradine_web};
use crate::support::bitaxe::nerdqaxe_info;
use crate::support::cgminer::{FakeCgminer, ok};
use crate::support::epic::{self, FakeEpic};
use crate::support::http::{FakeHttp, json as json_answer, status};
use crate::support::vnish::{self, FakeVnish};
use crate::support::whatsminer::FakeWhatsminerV3;
use crate::support::{Sandbox, replies, sealminer};

/// What a person reads off the replies.
struct Expected {
    status: &'static str,
    hashrate: f64,
    power: Option<f64>,
    chip: Option<f64>,
    boards: usize,
    fans: usize,
}

/// One miner `rig` driven by `controller` (a YAML list item whose id is `c`).
fn sandbox(controller: &str) -> Sandbox {
    let sandbox = Sandbox::new();
    sandbox.write("policy.yaml", "name: manual only\nstart_rules: []\nstop_rules: []\n");
    sandbox.write("secret", "s3cret\n");
    sandbox.config(&format!(
        "version: 1\nstate: state.db\nsettings: {{timeout: 2s, deadline: 20s}}\nenergy_sources:\n  - {{id: roof, type: solar, monitor: {{type: simulated}}}}\ncontrollers:\n  - {controller}\nminers:\n  - {{id: rig, controllers: [c]}}\nunits:\n  - {{id: home, energy_source: roof, miners: [rig], policy: policy.yaml}}\n"
    ));
    sandbox
}

fn close(got: &Value, expected: f64, what: &str) {
    let got = got.as_f64().unwrap_or_else(|| panic!("{what}: not a number: {got}"));
    let tolerance = (expected.abs() * 0.02).max(1e-9);
    assert!((got - expected).abs() <= tolerance, "{what}: {got} is not {expected} ±2 %");
}

/// Checks the context and `miner status` against what the replies say.
fn check(sandbox: &Sandbox, expected: &Expected) {
    let run = sandbox.run(&["context", "--miner", "rig", "--output", "json", "--now", "2026-06-21T12:00:00+02:00"]);
    let context: Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr));
    let state = &context["miner_state"];
    assert_eq!(state["status"], expected.status, "{state}\n{}", run.stderr);
    close(&state["hash_rate"]["value"], expected.hashrate, "hashrate");
    match expected.power {
        Some(watts) => close(&state["power_consumption"], watts, "power"),
        None => assert!(state.get("power_consumption").is_none(), "{state}"),
    }
    if let Some(chip) = expected.chip {
        close(&state["max_chip_temperature"]["value"], chip, "chip temperature");
    }
    assert_eq!(state["hashboards"].as_array().map_or(0, Vec::len), expected.boards, "boards: {state}");
    assert_eq!(state["internal_fan_speed"].as_array().map_or(0, Vec::len), expected.fans, "fans: {state}");
    let status = sandbox.run(&["miner", "status", "rig", "--now", "2026-06-21T12:00:00+02:00"]);
    assert!(status.stdout.starts_with(&format!("rig: {}", expected.status)), "{}", status.stdout);
    let shown = status.stdout.lines().find_map(|l| l.trim().strip_prefix("hashrate")).map(str::trim).unwrap_or("");
    let shown: f64 = shown.trim_end_matches(" TH/s").parse().unwrap_or_else(|_| panic!("{}", status.stdout));
    close(&json!(shown), expected.hashrate, "miner status hashrate");
}

#[test]
fn whatsminer_api_v2_reads_its_real_time_hashrate_and_a_stopped_miner_reads_off() {
    let fake = FakeCgminer::start(&[
        ("summary", replies::whatsminer_v2_summary(124_500_000.0)),
        ("devs", replies::whatsminer_v2_devs(true)),
        ("status", replies::whatsminer_v2_status(false)),
    ]);
    let sandbox = sandbox(&format!("{{id: c, type: whatsminer, host: 127.0.0.1, port: {}}}", fake.port));
    let running = Expected { status: "on", hashrate: 124.5, power: Some(3200.0), chip: Some(81.0), boards: 3, fans: 2 };
    check(&sandbox, &running);
    // Stopped: `mineroff` says so, `HS RT` is 0, and `MHS av` still shows 125 TH/s.
    fake.set_reply("summary", replies::whatsminer_v2_summary(0.0));
    fake.set_reply("devs", replies::whatsminer_v2_devs(false));
    fake.set_reply("status", replies::whatsminer_v2_status(true));
    check(&sandbox, &Expected { status: "off", hashrate: 0.0, power: Some(12.0), ..running });
}

#[test]
fn whatsminer_api_v3_on_its_own_port_and_stopped_reads_off() {
    let v3 = FakeWhatsminerV3::start();
    let sandbox = sandbox(&format!("{{id: c, type: whatsminer, host: 127.0.0.1, api: v3, v3_port: {}}}", v3.port));
    let running = Expected { status: "on", hashrate: 171.2, power: Some(3156.0), chip: Some(82.0), boards: 3, fans: 2 };
    check(&sandbox, &running);
    v3.set_working(false);
    check(&sandbox, &Expected { status: "off", hashrate: 0.0, power: Some(15.0), ..running });
    let commands: Vec<String> = v3.log().iter().filter_map(|r| r["cmd"].as_str().map(str::to_string)).collect();
    assert!(commands.iter().all(|c| c.starts_with("get.")), "reads only: {commands:?}");
}

#[test]
fn whatsminer_auto_falls_back_to_api_v3_when_4028_is_closed() {
    let v3 = FakeWhatsminerV3::start();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let sandbox =
        sandbox(&format!("{{id: c, type: whatsminer, host: 127.0.0.1, port: {closed}, v3_port: {}}}", v3.port));
    check(
        &sandbox,
        &Expected { status: "on", hashrate: 171.2, power: Some(3156.0), chip: Some(82.0), boards: 3, fans: 2 },
    );
}

#[test]
fn avalon_a_series_reads_power_from_ps_and_each_board() {
    let fake = FakeCgminer::start(&[
        ("summary", replies::avalon_summary(81_072_680.0)),
        ("stats", replies::avalon_a_stats()),
        ("ascset", ok("ASC 0 set info: success softoff")),
    ]);
    let sandbox = sandbox(&format!("{{id: c, type: avalon, host: 127.0.0.1, port: {}}}", fake.port));
    check(
        &sandbox,
        &Expected { status: "on", hashrate: 81.07, power: Some(3189.0), chip: Some(77.0), boards: 3, fans: 4 },
    );
}

#[test]
fn a_sealminer_on_bdminer_reads_its_own_keys() {
    let fake =
        FakeCgminer::start(&[("summary", sealminer::sealminer_summary()), ("stats", sealminer::sealminer_stats())]);
    let sandbox = sandbox(&format!("{{id: c, type: cgminer, host: 127.0.0.1, port: {}}}", fake.port));
    check(
        &sandbox,
        &Expected { status: "on", hashrate: 220.4, power: Some(3504.0), chip: Some(71.0), boards: 3, fans: 4 },
    );
}

#[test]
fn vnish_reads_its_summary_and_stops_with_a_bearer_token() {
    let fake = FakeVnish::start();
    let sandbox =
        sandbox(&format!("{{id: c, type: vnish, url: \"{}\", password: {}}}", fake.http.url(), vnish::PASSWORD));
    let running =
        Expected { status: "on", hashrate: 104.25, power: Some(3050.0), chip: Some(73.0), boards: 3, fans: 4 };
    check(&sandbox, &running);
    let stop = sandbox.run(&["miner", "stop", "rig"]);
    assert_eq!(stop.code, 0, "{}", stop.stderr);
    let requests = fake.http.requests();
    assert!(
        requests.contains(&"POST /api/v1/unlock".to_string())
            && requests.contains(&"POST /api/v1/mining/stop".to_string())
    );
    check(&sandbox, &Expected { status: "off", hashrate: 0.0, power: Some(90.0), ..running });
    assert!(!stop.stdout.contains(vnish::PASSWORD) && !stop.stderr.contains(vnish::PASSWORD));
}

#[test]
fn epic_reads_its_summary_and_chip_temperatures_and_stops_with_its_password() {
    let fake = FakeEpic::start();
    let sandbox = sandbox(&format!(
        "{{id: c, type: epic, host: 127.0.0.1, port: {}, password: {}}}",
        fake.http.port,
        epic::PASSWORD
    ));
    let running = Expected { status: "on", hashrate: 138.9, power: Some(2870.5), chip: Some(72.0), boards: 3, fans: 4 };
    check(&sandbox, &running);
    assert_eq!(sandbox.run(&["miner", "stop", "rig"]).code, 0);
    let stop = fake.http.log().into_iter().find(|r| r.url == "/miner").expect("a POST /miner");
    assert_eq!(serde_json::from_str::<Value>(&stop.body).unwrap()["param"], "Stop");
    check(&sandbox, &Expected { status: "off", hashrate: 0.0, power: Some(40.0), ..running });
}

#[test]
fn auradine_reads_gcminer_commands_skips_the_5s_spike_and_sleeps_through_rest() {
    let fake = FakeCgminer::start(&[
        ("summary", auradine::auradine_summary()),
        ("version", auradine::auradine_version()),
        ("psu", auradine::auradine_psu()),
        ("fan", auradine::auradine_fan()),
        ("temperature", auradine::auradine_temperature()),
        ("mode", auradine::auradine_mode(false)),
    ]);
    let web = auradine_web();
    let sandbox = sandbox(&format!(
        "{{id: c, type: auradine, host: 127.0.0.1, port: {}, web_url: \"{}\", password: {}}}",
        fake.port,
        web.url(),
        auradine::PASSWORD
    ));
    // 5 s says 20.6 TH/s, the minute 10.26: the spike is not the current hashrate.
    let running =
        Expected { status: "on", hashrate: 10.256844, power: Some(3105.94), chip: Some(64.8), boards: 3, fans: 4 };
    check(&sandbox, &running);
    assert_eq!(sandbox.run(&["miner", "stop", "rig"]).code, 0);
    let mode = web.log().into_iter().find(|r| r.url == "/mode").expect("a POST /mode");
    assert_eq!(mode.header("Token"), Some("aura-token"));
    assert_eq!(serde_json::from_str::<Value>(&mode.body).unwrap()["sleep"], "on");
    fake.set_reply("mode", auradine::auradine_mode(true));
    check(&sandbox, &Expected { status: "off", ..running });
}

#[test]
fn a_nerdqaxe_reads_through_the_bitaxe_type() {
    let paused = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = paused.clone();
    let web = FakeHttp::start(move |request| match request.url.as_str() {
        "/api/system/info" => json_answer(nerdqaxe_info(4800.0, flag.load(std::sync::atomic::Ordering::SeqCst))),
        _ => status(404),
    });
    let sandbox = sandbox(&format!("{{id: c, type: bitaxe, url: \"{}\"}}", web.url()));
    let running = Expected { status: "on", hashrate: 4.8, power: Some(76.5), chip: Some(58.0), boards: 1, fans: 1 };
    check(&sandbox, &running);
    paused.store(true, std::sync::atomic::Ordering::SeqCst);
    check(&sandbox, &Expected { status: "off", ..running });
}

/// The families of the first wave, through the same two views.
#[test]
fn the_first_families_read_the_same_in_context_and_miner_status() {
    let generic = FakeCgminer::start(&[
        ("summary", replies::cgminer_summary(95_000_000.0)),
        ("devs", replies::cgminer_devs(95_000_000.0, [61.0, 63.5, 62.0])),
    ]);
    let sandbox_of =
        |kind: &str, port: u16| sandbox(&format!("{{id: c, type: {kind}, host: 127.0.0.1, port: {port}}}"));
    check(
        &sandbox_of("cgminer", generic.port),
        &Expected { status: "on", hashrate: 95.0, power: None, chip: None, boards: 3, fans: 0 },
    );
    let luxos = FakeCgminer::start(&[
        ("summary", replies::luxos_summary(139_800.0)),
        ("stats", replies::antminer_stats()),
        ("power", replies::luxos_power(3210.0)),
        ("fans", replies::luxos_fans()),
        ("config", replies::luxos_config("None")),
    ]);
    let lux = Expected { status: "on", hashrate: 139.8, power: Some(3210.0), chip: Some(76.0), boards: 3, fans: 4 };
    check(&sandbox_of("luxos", luxos.port), &lux);
    let avalon = FakeCgminer::start(&[
        ("summary", replies::avalon_summary(88_000_000.0)),
        ("stats", replies::avalon_stats(true)),
    ]);
    check(
        &sandbox_of("avalon", avalon.port),
        &Expected { status: "on", hashrate: 88.0, power: None, chip: Some(71.0), boards: 1, fans: 4 },
    );
    let whatsminer = FakeCgminer::start(&[
        ("summary", replies::whatsminer_summary()),
        ("devs", replies::cgminer_devs(88_300_000.0, [66.0, 67.0, 66.5])),
        ("status", replies::whatsminer_status(false)),
    ]);
    let v1 = Expected { status: "on", hashrate: 88.3, power: Some(3360.0), chip: Some(88.5), boards: 3, fans: 2 };
    check(&sandbox_of("whatsminer", whatsminer.port), &v1);
    whatsminer.set_reply("status", replies::whatsminer_status(true));
    check(&sandbox_of("whatsminer", whatsminer.port), &Expected { status: "off", ..v1 });
    let stock =
        FakeCgminer::start(&[("summary", replies::antminer_summary(100_500.0)), ("stats", replies::antminer_stats())]);
    let cgi = crate::support::antminer::FakeAntminerWeb::start("0");
    let antminer = sandbox(&format!(
        "{{id: c, type: antminer, host: 127.0.0.1, port: {}, web_url: \"{}\", password: root}}",
        stock.port,
        cgi.url()
    ));
    check(&antminer, &Expected { status: "on", hashrate: 100.5, power: None, chip: Some(76.0), boards: 3, fans: 4 });
    let bos = crate::support::braiins_os::FakeBraiinsOs::start(1300.0, 3200.0, 3050.0);
    let bos_api = FakeCgminer::start(&[]);
    let braiins = sandbox(&format!(
        "{{id: c, type: braiins_os, host: 127.0.0.1, port: {}, web_url: \"{}\", password: pw}}",
        bos_api.port,
        bos.http.url()
    ));
    check(
        &braiins,
        &Expected { status: "on", hashrate: 100.2, power: Some(3050.0), chip: Some(70.5), boards: 3, fans: 4 },
    );
    let axe = FakeHttp::start(|_| json_answer(replies::bitaxe_info(1100.0)));
    let bitaxe = sandbox(&format!("{{id: c, type: bitaxe, url: \"{}\"}}", axe.url()));
    check(&bitaxe, &Expected { status: "on", hashrate: 1.1, power: Some(14.2), chip: Some(61.5), boards: 1, fans: 1 });
}

/// A feature the controller advertises and that its reply did not fill is reported, not
/// silently empty: the report line, `miner features` and the feature metric.
#[test]
fn a_feature_advertised_but_empty_is_reported() {
    let fake = FakeCgminer::start(&[
        ("summary", replies::cgminer_summary(95_000_000.0)),
        ("devs", replies::cgminer_devs(95_000_000.0, [61.0, 63.5, 62.0])),
    ]);
    let sandbox = sandbox(&format!("{{id: c, type: cgminer, host: 127.0.0.1, port: {}}}", fake.port));
    let metrics = sandbox.path("edge-mining.prom");
    let run = sandbox.run(&[
        "run",
        "--dry-run",
        "--now",
        "2026-06-21T12:00:00+02:00",
        "--metrics-file",
        metrics.to_str().unwrap(),
    ]);
    assert!(run.stdout.contains("[no value this cycle: power_monitoring"), "{}", run.stdout);
    let features = sandbox.run(&["miner", "features", "rig", "--now", "2026-06-21T12:00:00+02:00"]);
    let line = features.stdout.lines().find(|l| l.contains("power_monitoring")).unwrap_or_default();
    assert!(line.contains("EMPTY"), "{}", features.stdout);
    assert!(
        features.stdout.lines().any(|l| l.contains("hashrate_monitoring") && l.contains(" up ")),
        "{}",
        features.stdout
    );
    let text = std::fs::read_to_string(&metrics).unwrap();
    assert!(
        text.lines().any(|l| l.starts_with("edge_mining_miner_feature_up{")
            && l.contains("feature=\"power_monitoring\"")
            && l.ends_with(" 0")),
        "{text}"
    );
    assert!(text.lines().any(|l| l.contains("feature=\"hashrate_monitoring\"") && l.ends_with(" 1")), "{text}");
}
