//! Home Assistant over MQTT (SPEC §21, §24) against a real broker (Debian's `mosquitto`, on a
//! free loopback port) read and written by its own clients: the discovery configs and states
//! a subscriber sees after a run, a mode set on the command topic (`hold` sends nothing,
//! `off` stops), a power target set there, a broker that is down or refuses the login, and
//! a dry run. Each run is the built binary against one state file with `--now`.
//!
//! Ignored by default (they need `mosquitto`); `.ci/run` installs it and runs them.

use serde_json::Value;

use crate::support::braiins_os::FakeBraiinsOs;
use crate::support::cgminer::FakeCgminer;
use crate::support::mosquitto::{Mosquitto, Seen};
use crate::support::{Sandbox, miner};

const T0: i64 = 1_782_043_200; // 2026-06-21T12:00:00Z: the simulated roof gives plenty
const PASSWORD: &str = "mqtt-s3cret-pw";

fn at(offset: i64) -> String {
    jiff::Timestamp::from_second(T0 + offset).unwrap().to_string()
}

/// A home unit `home` with one Braiins OS miner `rig` (paused at first) that its rule starts
/// whenever the sun gives more than 1 kW, published to `broker`.
struct Home {
    sandbox: Sandbox,
    bos: FakeBraiinsOs,
    _cgminer: FakeCgminer,
}

fn home(broker_port: u16, login: &str, extra_miners: &[&str]) -> Home {
    let bos = FakeBraiinsOs::paused(1300.0, 3200.0, 3200.0);
    let cgminer = FakeCgminer::start(&[]);
    let sandbox = Sandbox::new();
    sandbox.write(
        "policy.yaml",
        "name: sun\nstart_rules:\n  - {name: sunny, conditions: {field: energy_state.production, operator: gt, value: 1000}}\nstop_rules:\n  - {name: night, conditions: {field: energy_state.production, operator: lt, value: 100}}\n",
    );
    sandbox.write("mqtt-password", &format!("{PASSWORD}\n"));
    let extra: String =
        extra_miners.iter().map(|id| format!("  - {{id: {id}, power_max: 15, controllers: [{id}-sim]}}\n")).collect();
    let extra_controllers: String = extra_miners
        .iter()
        .map(|id| format!("  - {{id: {id}-sim, type: simulated, power: 15, hashrate: 1.2}}\n"))
        .collect();
    let listed: String = extra_miners.iter().map(|id| format!(", {id}")).collect();
    sandbox.config(&format!(
        "version: 1\nstate: state.db\nsettings: {{timeout: 2s, latitude: 45.0, longitude: 9.0}}\nenergy_sources:\n  - {{id: roof, type: solar, monitor: {{type: simulated}}}}\ncontrollers:\n  - {{id: c, type: braiins_os, host: 127.0.0.1, port: {}, web_url: \"{}\", password: pw}}\n{extra_controllers}miners:\n  - {{id: rig, power_max: 3200, controllers: [c]}}\n{extra}publishers:\n  - {{id: ha, type: mqtt, host: 127.0.0.1, port: {broker_port}{login}}}\nunits:\n  - {{id: home, energy_source: roof, miners: [rig{listed}], policy: policy.yaml, publishers: [ha], guards: {{min_on: 0s, min_off: 0s}}}}\n",
        cgminer.port,
        bos.http.url()
    ));
    Home { sandbox, bos, _cgminer: cgminer }
}

fn payload(seen: &[Seen], topic: &str) -> Value {
    let message = seen.iter().find(|m| m.topic == topic).unwrap_or_else(|| panic!("no {topic} in {seen:#?}"));
    serde_json::from_str(&message.payload).unwrap_or_else(|e| panic!("{topic}: {e}: {}", message.payload))
}

#[test]
#[ignore = "needs mosquitto"]
fn one_run_publishes_discovery_and_states_a_subscriber_reads() {
    let broker = Mosquitto::with_login("edge", PASSWORD);
    let home = home(broker.port, ", username: edge, password_file: mqtt-password", &["bitaxe"]);
    let (run, _) = home.sandbox.cycle(&at(0), &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let discovery = broker.retained("homeassistant/#");
    let topics: Vec<&str> = discovery.iter().map(|m| m.topic.as_str()).collect();
    for object in ["status", "hashrate", "power", "decision", "reason", "chip_temperature"] {
        assert!(
            topics.contains(&format!("homeassistant/sensor/edge_mining_rig/{object}/config").as_str()),
            "{topics:?}"
        );
    }
    assert!(topics.contains(&"homeassistant/number/edge_mining_rig/power_target/config"));
    assert!(topics.contains(&"homeassistant/select/edge_mining_unit_home/mode/config"));
    assert!(topics.contains(&"homeassistant/sensor/edge_mining_unit_home/budget/config"));
    assert_eq!(topics.len(), 2 * 7 + 4, "seven entities per miner, four per unit: {topics:?}");
    assert!(discovery.iter().all(|m| m.retained));
    let power = payload(&discovery, "homeassistant/sensor/edge_mining_rig/power/config");
    assert_eq!(power["unique_id"], "edge_mining_rig_power");
    assert_eq!((power["device_class"].as_str(), power["unit_of_measurement"].as_str()), (Some("power"), Some("W")));
    assert_eq!(power["state_class"], "measurement");
    assert_eq!(power["state_topic"], "edge-mining/miner/rig/state");
    assert_eq!(power["expire_after"], 900, "unavailable after three 5-minute cycles without a state");
    assert_eq!(power["device"]["identifiers"][0], "edge_mining_rig");
    assert_eq!(power["device"]["via_device"], "edge_mining_unit_home");
    let mode = payload(&discovery, "homeassistant/select/edge_mining_unit_home/mode/config");
    assert_eq!(
        (mode["command_topic"].as_str(), mode["retain"].as_bool()),
        (Some("edge-mining/unit/home/mode/set"), Some(true))
    );
    assert_eq!(mode["options"], serde_json::json!(["auto", "hold", "off"]));
    let target = payload(&discovery, "homeassistant/number/edge_mining_rig/power_target/config");
    assert_eq!((target["min"].as_f64(), target["max"].as_f64()), (Some(1300.0), Some(3200.0)), "the firmware's bounds");
    let states = broker.retained("edge-mining/#");
    let rig = payload(&states, "edge-mining/miner/rig/state");
    assert_eq!((rig["decision"].as_str(), rig["reason"].as_str()), (Some("start_mining"), Some("rule: sunny")));
    assert_eq!(rig["power_target"], 3200.0);
    assert_eq!(rig["dry_run"], false);
    let unit = payload(&states, "edge-mining/unit/home/state");
    assert_eq!(unit["mode"], "auto");
    assert!(unit["surplus"].as_f64().is_some_and(|w| w > 1000.0), "{unit}");
    assert!(states.iter().any(|m| m.topic == "edge-mining/availability" && m.payload == "online" && m.retained));
    let everything: String = discovery.iter().chain(&states).map(|m| m.payload.as_str()).collect();
    assert!(!everything.contains(PASSWORD) && !everything.contains("\"pw\""), "no secret in any payload");
    // A second run: the same unique ids, nothing duplicated.
    let (run, _) = home.sandbox.cycle(&at(300), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let again: Vec<String> = broker.retained("homeassistant/#").into_iter().map(|m| m.topic).collect();
    assert_eq!(again, topics.iter().map(|t| t.to_string()).collect::<Vec<_>>());
    // The Bitaxe leaves the config: its entities are removed (empty retained configs).
    home.sandbox.edit_config(|c| {
        c.replace(", bitaxe]", "]").replace("  - {id: bitaxe, power_max: 15, controllers: [bitaxe-sim]}\n", "")
    });
    let (run, _) = home.sandbox.cycle(&at(600), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let left = broker.retained("homeassistant/#");
    assert!(left.iter().all(|m| !m.topic.contains("edge_mining_bitaxe")), "{left:#?}");
    assert_eq!(left.len(), 7 + 4);
}

/// The mode on the command topic: `hold` sends no command, `auto` lets the rule start the
/// miner, `off` stops it and keeps it off; the state file remembers it, and a retained value
/// already seen is not applied again.
#[test]
#[ignore = "needs mosquitto"]
fn a_mode_set_on_the_command_topic_holds_then_stops_the_unit() {
    let broker = Mosquitto::start();
    let home = home(broker.port, "", &[]);
    broker.publish_retained("edge-mining/unit/home/mode/set", "hold");
    let (run, report) = home.sandbox.cycle(&at(0), &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(report["units"][0]["mode"], "hold");
    assert_eq!(miner(&report, "rig")["reason"]["kind"], "mode");
    assert_eq!(miner(&report, "rig")["held_rule"], "sunny");
    assert!(home.bos.writes().is_empty(), "hold: no command sent, {:?}", home.bos.writes());
    assert_eq!(payload(&broker.retained("edge-mining/unit/#"), "edge-mining/unit/home/state")["mode"], "hold");
    // Still hold next cycle, from the state file (the retained value was already applied).
    let (_, report) = home.sandbox.cycle(&at(300), &[]);
    assert_eq!(report["units"][0]["mode"], "hold");
    assert!(home.bos.writes().is_empty());
    broker.publish_retained("edge-mining/unit/home/mode/set", "auto");
    let (run, report) = home.sandbox.cycle(&at(600), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(miner(&report, "rig")["action"]["kind"], "start_mining");
    assert_eq!(home.bos.writes(), ["resume"]);
    broker.publish_retained("edge-mining/unit/home/mode/set", "off");
    let (run, report) = home.sandbox.cycle(&at(900), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(miner(&report, "rig")["action"]["kind"], "stop_mining");
    assert_eq!(miner(&report, "rig")["reason"], serde_json::json!({"kind": "mode", "name": "unit mode off"}));
    assert_eq!(home.bos.writes(), ["resume", "pause"]);
    // Kept off while the sun says start, and nothing by hand starts it.
    let (_, report) = home.sandbox.cycle(&at(1200), &[]);
    assert!(miner(&report, "rig")["action"].is_null());
    let start = home.sandbox.run(&["miner", "start", "rig", "--now", &at(1210)]);
    assert_eq!(start.code, 1, "{}", start.stdout);
    assert!(start.stderr.contains("is in mode off"), "{}", start.stderr);
    assert_eq!(home.bos.writes(), ["resume", "pause"]);
}

/// `unit mode` on the command line: persisted, published retained for Home Assistant (and
/// not taken back as new by the next run), `--for` runs out; `off` stops the miners at once.
#[test]
#[ignore = "needs mosquitto"]
fn the_command_line_mode_is_published_and_runs_out() {
    let broker = Mosquitto::start();
    let home = home(broker.port, "", &[]);
    let (_, _) = home.sandbox.cycle(&at(0), &[]);
    assert_eq!(home.bos.writes(), ["resume"]);
    let set = home.sandbox.run(&["unit", "mode", "home", "hold", "--for", "1h", "--now", &at(60)]);
    assert_eq!(set.code, 0, "{}{}", set.stdout, set.stderr);
    assert!(set.stdout.contains("unit `home`: mode hold until"), "{}", set.stdout);
    let held = broker.retained("edge-mining/unit/home/mode/set");
    assert_eq!(held.first().map(|m| (m.payload.as_str(), m.retained)), Some(("hold", true)));
    let (_, report) = home.sandbox.cycle(&at(300), &[]);
    assert_eq!(report["units"][0]["mode"], "hold");
    // After the hour: auto again, though the retained topic still says hold (already seen).
    let (_, report) = home.sandbox.cycle(&at(3700), &[]);
    assert_eq!(report["units"][0]["mode"], "auto");
    let off = home.sandbox.run(&["unit", "mode", "home", "off", "--now", &at(3800)]);
    assert_eq!(off.code, 0, "{}{}", off.stdout, off.stderr);
    assert_eq!(home.bos.writes(), ["resume", "pause"], "stopped at once");
    let unknown = home.sandbox.run(&["unit", "mode", "nowhere", "off", "--now", &at(3900)]);
    assert_eq!(unknown.code, 2);
    let bad = home.sandbox.run(&["unit", "mode", "home", "pause", "--now", &at(3900)]);
    assert_eq!(bad.code, 2);
}

#[test]
#[ignore = "needs mosquitto"]
fn a_power_target_set_in_home_assistant_is_sent_once_and_holds_the_miner() {
    let broker = Mosquitto::start();
    let home = home(broker.port, "", &["bitaxe"]);
    home.sandbox.cycle(&at(0), &[]);
    broker.publish_retained("edge-mining/miner/rig/power_target/set", "2000");
    // A run that may command only the Bitaxe leaves the target for a later run.
    let (run, _) = home.sandbox.cycle(&at(150), &["--miner", "bitaxe"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(home.bos.writes(), ["resume"]);
    let (run, report) = home.sandbox.cycle(&at(300), &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(miner(&report, "rig")["action"]["kind"], "set_power_target");
    assert_eq!(miner(&report, "rig")["action"]["watts"], 2000.0, "{}", miner(&report, "rig"));
    assert_eq!(home.bos.writes(), ["resume", "target 2000"]);
    let (_, _) = home.sandbox.cycle(&at(600), &[]);
    assert_eq!(home.bos.writes(), ["resume", "target 2000"], "a retained value counts once");
    let history = home.sandbox.run(&["history", "--output", "json", "--now", &at(700)]);
    assert!(history.stdout.contains("power target set in Home Assistant"), "{}", history.stdout);
}

/// A broker that is down: the control work happens, the run exits 1 and says so, and it
/// is not retried within the cycle.
#[test]
#[ignore = "needs mosquitto"]
fn a_broker_that_is_down_fails_the_run_not_the_control_work() {
    let broker = Mosquitto::start();
    let home = home(broker.port, "", &[]);
    broker.stop();
    let (run, report) = home.sandbox.cycle(&at(0), &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(home.bos.writes(), ["resume"], "the miner was started anyway");
    let errors = report["errors"].to_string();
    assert!(errors.contains("publisher `ha`: cannot read its commands"), "{errors}");
    assert!(errors.contains("publisher `ha`: cannot publish: backing off"), "not asked twice in one cycle: {errors}");
}

#[test]
#[ignore = "needs mosquitto"]
fn refused_credentials_fail_the_run_and_name_the_fix() {
    let broker = Mosquitto::with_login("edge", PASSWORD);
    let home = home(broker.port, ", username: edge, password: wrong-one", &[]);
    let (run, report) = home.sandbox.cycle(&at(0), &[]);
    assert_eq!(run.code, 1);
    assert!(report["errors"].to_string().contains("refused the credentials (check username and password_file)"));
    assert!(!run.stdout.contains("wrong-one") && !run.stderr.contains("wrong-one"), "no secret in the output");
    assert_eq!(home.bos.writes(), ["resume"]);
    assert!(broker.retained("#").is_empty(), "nothing got through");
}

/// A dry run publishes its states under `dry_run/`, not retained and marked as such, and no
/// discovery, and sends no command.
#[test]
#[ignore = "needs mosquitto"]
fn a_dry_run_publishes_marked_states_and_sends_no_command() {
    let broker = Mosquitto::start();
    let home = home(broker.port, "", &[]);
    broker.publish_retained("edge-mining/unit/home/mode/set", "off");
    let listening = broker.listen("#");
    let (run, report) = home.sandbox.cycle(&at(0), &["--dry-run"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(report["units"][0]["mode"], "off", "what the dashboard asks is shown");
    let seen = listening.finish();
    let rig = payload(&seen, "edge-mining/dry_run/miner/rig/state");
    assert_eq!(rig["dry_run"], true);
    assert!(seen.iter().filter(|m| m.topic.contains("dry_run")).all(|m| !m.retained));
    assert!(seen.iter().all(|m| !m.topic.starts_with("homeassistant/")), "no discovery in a dry run");
    assert!(broker.retained("edge-mining/dry_run/#").is_empty(), "nothing of a dry run is retained");
    assert!(home.bos.writes().is_empty(), "--dry-run sends no command");
    // Nothing was remembered: the next real run applies the mode.
    let (_, report) = home.sandbox.cycle(&at(300), &[]);
    assert_eq!(report["units"][0]["mode"], "off");
}

/// The config names what is wrong with a publisher, with its place (no broker needed).
#[test]
fn a_bad_publisher_is_named_by_validate() {
    let home = home(1, "", &[]);
    home.sandbox.edit_config(|c| {
        c.replace("publishers: [ha]", "publishers: [ha, nope]").replace("port: 1}", "port: 1, base_topic: \"edge/#\"}")
    });
    let run = home.sandbox.run(&["validate"]);
    assert_eq!(run.code, 78, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("units[0].publishers[1]: unknown publisher `nope`"), "{}", run.stdout);
    assert!(run.stdout.contains("publishers[0].base_topic: `edge/#` is not a topic prefix"), "{}", run.stdout);
}

/// TLS: with the broker's authority as `ca_file` the cycle publishes; trusting only the
/// public roots, the broker's certificate is refused, and the run says so.
#[test]
#[ignore = "needs mosquitto"]
fn tls_checks_the_brokers_certificate() {
    let broker = Mosquitto::with_tls();
    let ca = broker.ca_file.clone().unwrap();
    let trusting = home(broker.port, &format!(", tls: true, ca_file: \"{}\"", ca.display()), &[]);
    let (run, _) = trusting.sandbox.cycle(&at(0), &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let states = broker.retained("edge-mining/#");
    assert_eq!(payload(&states, "edge-mining/miner/rig/state")["decision"], "start_mining");
    let untrusted = home(broker.port, ", tls: true", &[]);
    let (run, report) = untrusted.sandbox.cycle(&at(0), &[]);
    assert_eq!(run.code, 1);
    assert!(report["errors"].to_string().contains("invalid peer certificate: UnknownIssuer"), "{report}");
    assert_eq!(untrusted.bos.writes(), ["resume"], "the control work is done");
}

/// More messages than may be in flight at once (64): every one is acknowledged and arrives.
#[test]
#[ignore = "needs mosquitto"]
fn a_dozen_miners_publish_past_the_in_flight_window() {
    let broker = Mosquitto::start();
    let axes: Vec<String> = (1..=11).map(|i| format!("axe{i}")).collect();
    let names: Vec<&str> = axes.iter().map(String::as_str).collect();
    let home = home(broker.port, "", &names);
    let (run, _) = home.sandbox.cycle(&at(0), &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(broker.retained("homeassistant/#").len(), 12 * 7 + 4);
    assert_eq!(broker.retained("edge-mining/miner/+/state").len(), 12);
}
