//! A home: Home Assistant energy sensors, a miner on a Home Assistant socket, a Bitaxe on a
//! Shelly plug, Tasmota, generic HTTP devices and solar forecasts, all against fakes.

use std::sync::{Arc, Mutex};

use crate::support::forecast_solar::forecast_solar;
use crate::support::home_assistant::{FakeHomeAssistant, HaMode, TOKEN};
use crate::support::http::{Answer, FakeHttp};
use crate::support::shelly::FakeShelly;
use crate::support::tasmota::FakeTasmota;
use crate::support::{Sandbox, miner, replies};
use serde_json::{Value, json};

const START: &str = "rules:\n  - name: Surplus covers the miner\n    conditions: {field: energy_state.surplus_power, operator: gte, value_ref: miner.power_max}\n";
const STOP: &str = "rules:\n  - name: Importing\n    conditions: {field: energy_state.grid.importing_power, operator: gt, value: 100}\n";

struct Home {
    sandbox: Sandbox,
    ha: FakeHomeAssistant,
    shelly: FakeShelly,
    _bitaxe: FakeHttp,
}

/// A Bitaxe that answers only while its plug is on.
fn bitaxe_behind(plug: Arc<Mutex<bool>>) -> FakeHttp {
    FakeHttp::start(move |_| {
        if *plug.lock().unwrap() {
            Answer::Json(200, replies::bitaxe_info(1100.0))
        } else {
            Answer::Hang(std::time::Duration::from_secs(30))
        }
    })
}

fn home() -> Home {
    let ha = FakeHomeAssistant::start();
    ha.set("sensor.pv_power", "4.2", Some("kW"));
    ha.set("sensor.house_load", "400", Some("W"));
    ha.set("sensor.grid_export", "1500", Some("W"));
    ha.set("switch.s19_socket", "off", None);
    ha.set("sensor.s19_power", "0", Some("W"));
    let shelly = FakeShelly::start(2, 14.0);
    let bitaxe = bitaxe_behind(shelly.on.clone());
    let sandbox = Sandbox::new();
    sandbox.write("ha-token", &format!("{TOKEN}\n"));
    sandbox.write("start.yaml", START);
    sandbox.write("stop.yaml", STOP);
    sandbox.config(&format!(
        "version: 1
state: state.db
settings: {{timezone: Europe/Rome, latitude: 45.46, longitude: 9.19, timeout: 2s, deadline: 10s}}
services:
  - {{id: ha, type: home_assistant, url: \"{ha}\", token_file: ha-token}}
energy_sources:
  - id: house
    type: solar
    monitor:
      type: home_assistant
      service: ha
      production: sensor.pv_power
      consumption: sensor.house_load
      grid: sensor.grid_export
      grid_positive_export: true
controllers:
  - {{id: s19-socket, type: home_assistant, service: ha, switch: switch.s19_socket, power: sensor.s19_power}}
  - {{id: axe, type: bitaxe, url: \"{bitaxe}\"}}
  - {{id: axe-plug, type: shelly, url: \"{shelly}\"}}
miners:
  - {{id: s19, power_max: 3250, controllers: [s19-socket]}}
  - {{id: bitaxe, power_max: 15, controllers: [axe, axe-plug]}}
units:
  - id: home
    energy_source: house
    miners: [s19, bitaxe]
    rules: {{start: [start.yaml], stop: [stop.yaml]}}
    stop_mode: power_off
    guards: {{max_starts_per_cycle: 0}}   # both plugs in one cycle: the stagger is tested elsewhere
",
        ha = ha.url(),
        bitaxe = bitaxe.url(),
        shelly = shelly.http.url(),
    ));
    Home { sandbox, ha, shelly, _bitaxe: bitaxe }
}

#[test]
fn the_real_home_config_validates() {
    let home = home();
    let run = home.sandbox.run(&["validate"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
}

#[test]
fn plug_only_miners_are_started_and_stopped_by_rules_through_power_control() {
    let home = home();
    let (run, report) = home.sandbox.cycle("2026-06-21T12:00:00+02:00", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let s19 = miner(&report, "s19");
    assert_eq!(s19["status"], "off");
    assert_eq!(s19["action"]["kind"], "power_on");
    assert_eq!(s19["action"]["feature"], "power_control");
    let bitaxe = miner(&report, "bitaxe");
    assert_eq!(bitaxe["action"]["kind"], "power_on");
    assert_eq!(bitaxe["action"]["controller"], "axe-plug");
    assert_eq!(home.ha.service_calls(), ["switch.turn_on switch.s19_socket"]);
    assert_eq!(home.shelly.switches(), ["/rpc/Switch.Set?id=0&on=true"]);
    let call = home.ha.http.log().into_iter().find(|r| r.method == "POST").unwrap();
    assert_eq!(call.header("Authorization"), Some(format!("Bearer {TOKEN}").as_str()));
    assert_eq!(serde_json::from_str::<Value>(&call.body).unwrap(), json!({"entity_id": "switch.s19_socket"}));

    // Clouds: the house now imports from the grid; both are stopped at their plugs.
    home.ha.set("sensor.pv_power", "0.5", Some("kW"));
    home.ha.set("sensor.grid_export", "-2900", Some("W"));
    home.ha.set("sensor.s19_power", "3210", Some("W"));
    let (run, report) = home.sandbox.cycle("2026-06-21T12:05:00+02:00", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let s19 = miner(&report, "s19");
    assert_eq!(s19["status"], "on");
    assert_eq!(s19["power"], 3210.0);
    assert_eq!(s19["action"]["kind"], "power_off");
    let bitaxe = miner(&report, "bitaxe");
    assert_eq!(bitaxe["status"], "on", "read from the Bitaxe itself once its plug is on");
    assert_eq!(bitaxe["hash_rate"], 1.1);
    assert_eq!(bitaxe["action"]["kind"], "power_off");
    assert_eq!(home.ha.service_calls(), ["switch.turn_on switch.s19_socket", "switch.turn_off switch.s19_socket"]);
    assert!(!home.shelly.is_on());

    // Off at its plug, the Bitaxe is not asked (it would not answer) and that is no failure.
    home.ha.set("sensor.pv_power", "0.3", Some("kW"));
    let (run, report) = home.sandbox.cycle("2026-06-21T12:10:00+02:00", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(miner(&report, "bitaxe")["status"], "off");
    let history = home.sandbox.run(&["history", "--output", "json", "--now", "2026-06-21T13:00:00+02:00"]);
    let rows: Vec<Value> = serde_json::from_str(&history.stdout).unwrap();
    assert_eq!(rows.len(), 4);
    assert!(!history.stdout.contains(TOKEN));
}

#[test]
fn kw_units_an_inverted_grid_sign_and_a_missing_battery_make_the_right_context() {
    let home = home();
    let run = home.sandbox.run(&["context", "--miner", "s19", "--now", "2026-06-21T12:00:00+02:00"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let ctx: Value = serde_json::from_str(&run.stdout).unwrap();
    let energy = &ctx["energy_state"];
    assert_eq!(energy["production"], 4200.0);
    assert_eq!(energy["consumption"]["current_power"], 400.0);
    assert_eq!(energy["surplus_power"], 3800.0);
    assert_eq!(energy["grid"]["current_power"], -1500.0, "positive export means negative grid power");
    assert_eq!(energy["grid"]["exporting_power"], 1500.0);
    assert_eq!(energy["grid"]["importing_power"], 0.0);
    assert!(energy.get("battery").is_none(), "no battery sensor, no battery");
    assert!(ctx["sun"]["is_day"].as_bool().unwrap());
    assert_eq!(ctx["miner_state"]["sources"]["status"], "s19-socket");
}

#[test]
fn an_unavailable_sensor_is_missing_never_zero_and_a_failed_input() {
    let home = home();
    home.ha.set("sensor.house_load", "unavailable", None);
    let (run, report) = home.sandbox.cycle("2026-06-21T12:00:00+02:00", &["--dry-run"]);
    assert_eq!(run.code, 1);
    let errors = report["errors"].to_string();
    assert!(errors.contains("sensor `sensor.house_load` is unavailable"), "{errors}");
    let s19 = miner(&report, "s19");
    assert_eq!(s19["decision"], "maintain_state", "no surplus can be computed without the house load");
    let ctx_run = home.sandbox.run(&["context", "--miner", "s19"]);
    let ctx: Value = serde_json::from_str(&ctx_run.stdout).unwrap();
    assert!(ctx["energy_state"].get("consumption").is_none());
    assert!(ctx["energy_state"].get("surplus_power").is_none());
    assert_eq!(ctx["energy_state"]["production"], 4200.0);
}

#[test]
fn home_assistant_failures_are_reported_and_runs_end_in_time() {
    for (mode, expected) in
        [(HaMode::Unauthorized, "rejected the token"), (HaMode::Html, "HTML page"), (HaMode::Hang, "timed out")]
    {
        let home = home();
        home.ha.set_mode(mode);
        let started = std::time::Instant::now();
        let (run, report) = home.sandbox.cycle("2026-06-21T12:00:00+02:00", &["--dry-run"]);
        assert!(started.elapsed().as_secs() < 9, "{mode:?} took {:?}", started.elapsed());
        assert_eq!(run.code, 1, "{mode:?}");
        assert!(report["errors"].to_string().contains(expected), "{mode:?}: {}", report["errors"]);
        assert!(miner(&report, "s19")["action"].is_null());
    }
    let home = home();
    home.ha.set("switch.s19_socket", "on", None);
    let config = std::fs::read_to_string(home.sandbox.path("config.yaml")).unwrap();
    home.sandbox.config(&config.replace("sensor.house_load", "sensor.no_such_sensor"));
    let (_, report) = home.sandbox.cycle("2026-06-21T12:00:00+02:00", &["--dry-run"]);
    assert!(
        report["errors"].to_string().contains("no entity `sensor.no_such_sensor` (HTTP 404)"),
        "{}",
        report["errors"]
    );
}

fn single_miner(controller: &str) -> Sandbox {
    let sandbox = Sandbox::new();
    sandbox.write(
        "start.yaml",
        "rules:\n  - name: always\n    conditions: {field: miner.power_max, operator: gt, value: 0}\n",
    );
    sandbox.config(&format!(
        "version: 1\nstate: state.db\nsettings: {{timeout: 2s}}\nenergy_sources:\n  - {{id: roof, type: solar, monitor: {{type: simulated}}}}\ncontrollers:\n{controller}\nminers:\n  - {{id: rig, power_max: 1400, controllers: [dev]}}\nunits:\n  - {{id: home, energy_source: roof, miners: [rig], rules: {{start: [start.yaml]}}, stop_mode: power_off}}\n"
    ));
    sandbox
}

#[test]
fn tasmota_second_relay_and_its_power_array() {
    let tasmota = FakeTasmota::start();
    let sandbox = single_miner(&format!("  - {{id: dev, type: tasmota, url: \"{}\", channel: 2}}", tasmota.http.url()));
    let (run, report) = sandbox.cycle("2026-06-21T12:00:00+02:00", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(miner(&report, "rig")["action"]["kind"], "power_on");
    assert!(tasmota.relay(2) && tasmota.relay(1));
    assert!(tasmota.http.requests().iter().any(|r| r.ends_with("cmnd=Power2%20On")), "{:?}", tasmota.http.requests());
    let stop = sandbox.run(&["miner", "stop", "rig"]);
    assert_eq!(stop.code, 0, "{}", stop.stderr);
    assert!(!tasmota.relay(2));
    assert!(tasmota.relay(1), "the other relay is untouched");
    let (_, report) = sandbox.cycle("2026-06-21T12:05:00+02:00", &["--dry-run"]);
    assert_eq!(miner(&report, "rig")["status"], "off");
}

#[test]
fn shelly_gen1_with_basic_auth() {
    let shelly = FakeShelly::start(1, 1390.0);
    let sandbox = single_miner(&format!(
        "  - {{id: dev, type: shelly, generation: 1, url: \"{}\", username: admin, password: plugpw}}",
        shelly.http.url()
    ));
    let (run, _) = sandbox.cycle("2026-06-21T12:00:00+02:00", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(shelly.switches(), ["/relay/0?turn=on"]);
    assert!(shelly.http.log().iter().all(|r| r.header("Authorization") == Some("Basic YWRtaW46cGx1Z3B3")));
    let before = shelly.http.log().iter().filter(|r| r.url == "/relay/0").count();
    let (_, report) = sandbox.cycle("2026-06-21T12:05:00+02:00", &["--dry-run"]);
    assert_eq!(miner(&report, "rig")["power"], 1390.0);
    let reads = shelly.http.log().iter().filter(|r| r.url == "/relay/0").count() - before;
    assert_eq!(reads, 1, "the plug is read once per cycle for its relay, status and power");
}

#[test]
fn generic_http_device_by_jsonpath() {
    let running = Arc::new(Mutex::new(false));
    let state = running.clone();
    let device = FakeHttp::start(move |request| {
        let mut on = state.lock().unwrap();
        match (request.method.as_str(), request.url.as_str()) {
            ("GET", "/api/status") => Answer::Json(
                200,
                json!({"miner": {"state": if *on { "mining" } else { "idle" }, "watts": if *on { "1.35" } else { "0.01" }, "ghs": if *on { 14000.0 } else { 0.0 }}}),
            ),
            ("POST", "/api/start") => {
                *on = true;
                Answer::Text(204, String::new(), vec![])
            }
            ("POST", "/api/stop") => {
                *on = false;
                Answer::Text(204, String::new(), vec![])
            }
            _ => Answer::Text(404, String::new(), vec![]),
        }
    });
    let url = device.url();
    let sandbox = single_miner(&format!(
        "  - id: dev\n    type: http\n    headers: {{X-Key: k1}}\n    status: {{url: \"{url}/api/status\", jsonpath: \"$.miner.state\", on_value: mining}}\n    power: {{url: \"{url}/api/status\", jsonpath: \"$.miner.watts\", scale: 1000}}\n    hashrate: {{url: \"{url}/api/status\", jsonpath: \"$.miner.ghs\", scale: 0.001}}\n    start: {{url: \"{url}/api/start\", method: POST, body: '{{\"go\":true}}'}}\n    stop: {{url: \"{url}/api/stop\", method: POST}}"
    ));
    assert_eq!(sandbox.run(&["validate"]).code, 0);
    let (run, report) = sandbox.cycle("2026-06-21T12:00:00+02:00", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(miner(&report, "rig")["action"]["kind"], "start_mining");
    let reads = device.log().iter().filter(|r| r.url == "/api/status").count();
    assert_eq!(reads, 1, "one request per distinct URL");
    let start = device.log().into_iter().find(|r| r.url == "/api/start").unwrap();
    assert_eq!(start.body, "{\"go\":true}");
    assert_eq!(start.header("X-Key"), Some("k1"));
    let (_, report) = sandbox.cycle("2026-06-21T12:05:00+02:00", &["--dry-run"]);
    let rig = miner(&report, "rig");
    assert_eq!(rig["status"], "on");
    assert_eq!(rig["power"], 1350.0);
    assert_eq!(rig["hash_rate"], 14.0);
    let broken =
        single_miner("  - id: dev\n    type: http\n    status: {url: \"http://127.0.0.1:9/x\", jsonpath: \"$.a[\"}");
    let validate = broken.run(&["validate"]);
    assert_eq!(validate.code, 78);
    assert!(validate.stdout.contains("controllers[0].status.jsonpath: invalid JSONPath"), "{}", validate.stdout);
}

#[test]
fn http_energy_monitor_reads_each_url_once() {
    let meter = FakeHttp::start(|request| match request.url.as_str() {
        "/inverter" => Answer::Json(200, json!({"pv": {"w": 3100}, "load": {"w": 450}})),
        "/meter" => Answer::Json(200, json!({"grid_kw": -1.2})),
        _ => Answer::Text(404, String::new(), vec![]),
    });
    let url = meter.url();
    let sandbox = Sandbox::new();
    sandbox.write("p.yaml", "name: p\nstart_rules: []\nstop_rules: []\n");
    sandbox.config(&format!(
        "version: 1\nstate: state.db\nenergy_sources:\n  - id: roof\n    type: solar\n    monitor:\n      type: http\n      production: {{url: \"{url}/inverter\", jsonpath: \"$.pv.w\"}}\n      consumption: {{url: \"{url}/inverter\", jsonpath: \"$.load.w\"}}\n      grid: {{url: \"{url}/meter\", jsonpath: \"$.grid_kw\", scale: 1000}}\ncontrollers:\n  - {{id: sim, type: simulated}}\nminers:\n  - {{id: rig, controllers: [sim]}}\nunits:\n  - {{id: home, energy_source: roof, miners: [rig], policy: p.yaml}}\n"
    ));
    let run = sandbox.run(&["context", "--miner", "rig"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let ctx: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(ctx["energy_state"]["production"], 3100.0);
    assert_eq!(ctx["energy_state"]["surplus_power"], 2650.0);
    assert_eq!(ctx["energy_state"]["grid"]["exporting_power"], 1200.0);
    assert_eq!(meter.requests(), ["GET /inverter", "GET /meter"]);
}

#[test]
fn forecast_solar_is_cached_for_an_hour_and_its_key_stays_secret() {
    let forecast = forecast_solar();
    let sandbox = Sandbox::new();
    sandbox.write("p.yaml", "name: p\nstart_rules: []\nstop_rules: []\n");
    sandbox.config(&format!(
        "version: 1\nstate: state.db\nsettings: {{timezone: Europe/Rome, latitude: 45.46, longitude: 9.19}}\nenergy_sources:\n  - id: roof\n    type: solar\n    monitor: {{type: simulated}}\n    forecast: {{type: forecast_solar, declination: 30, azimuth: 0, kwp: 6, api_base_url: \"{}\", api_key: fs-KEY-777}}\ncontrollers:\n  - {{id: sim, type: simulated}}\nminers:\n  - {{id: rig, controllers: [sim]}}\nunits:\n  - {{id: home, energy_source: roof, miners: [rig], policy: p.yaml}}\n",
        forecast.url()
    ));
    let read = |now: &str| {
        let run = sandbox.run(&["context", "--miner", "rig", "--now", now]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        serde_json::from_str::<Value>(&run.stdout).unwrap()["forecast"].clone()
    };
    let first = read("2026-06-21T12:00:00+02:00");
    let next_hour = first["next_hour_power"].as_f64().unwrap();
    assert_eq!(next_hour, 4000.0, "the peak of the fake day is at 13:00: {first}");
    assert!(first["avg_next_4_hours_power"].as_f64().unwrap() > 2500.0);
    assert_eq!(first["age"], 0);
    assert_eq!(forecast.log().len(), 1);
    assert!(forecast.log()[0].url.starts_with("/fs-KEY-777/estimate/45.46/9.19/30/0/6"));
    let again = read("2026-06-21T12:40:00+02:00");
    assert_eq!(forecast.log().len(), 1, "cached for an hour");
    assert_eq!(again["age"], 2400);
    read("2026-06-21T13:01:00+02:00");
    assert_eq!(forecast.log().len(), 2);
    let database = std::fs::read(sandbox.state()).unwrap();
    let wal = std::fs::read(sandbox.path("state.db-wal")).unwrap_or_default();
    assert!(![database, wal].iter().any(|bytes| bytes.windows(10).any(|w| w == b"fs-KEY-777")));
}

#[test]
fn a_miner_integrated_in_home_assistant_and_a_forecast_from_its_sensors() {
    let ha = FakeHomeAssistant::start();
    ha.set("switch.s21_active", "on", None);
    ha.set("sensor.s21_hashrate", "198000", Some("GH/s"));
    ha.set("sensor.s21_power", "3.5", Some("kW"));
    ha.set("sensor.s21_inlet", "24.5", Some("°C"));
    ha.set("sensor.pv_now", "2.1", Some("kW"));
    ha.set("sensor.pv_next_hour", "2600", Some("W"));
    let sandbox = Sandbox::new();
    sandbox.write("stop.yaml", "rules:\n  - name: weak sun ahead\n    conditions: {field: forecast.next_hour_power, operator: lt, value: 3000}\n");
    sandbox.config(&format!(
        "version: 1\nstate: state.db\nservices:\n  - {{id: ha, type: home_assistant, url: \"{}\", token: {TOKEN}}}\nenergy_sources:\n  - id: roof\n    type: solar\n    monitor: {{type: simulated}}\n    forecast: {{type: home_assistant, service: ha, power_now: sensor.pv_now, power_next_hour: sensor.pv_next_hour}}\ncontrollers:\n  - {{id: hass-miner, type: home_assistant, service: ha, mining_switch: switch.s21_active, hashrate: sensor.s21_hashrate, power: sensor.s21_power, inlet_temperature: sensor.s21_inlet}}\nminers:\n  - {{id: s21, controllers: [hass-miner]}}\nunits:\n  - {{id: home, energy_source: roof, miners: [s21], rules: {{stop: [stop.yaml]}}}}\n",
        ha.url()
    ));
    let (run, report) = sandbox.cycle("2026-06-21T12:00:00+02:00", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let s21 = miner(&report, "s21");
    assert_eq!(s21["status"], "on");
    assert_eq!(s21["hash_rate"], 198.0);
    assert_eq!(s21["power"], 3500.0);
    assert_eq!(s21["reason"]["name"], "weak sun ahead");
    assert_eq!(s21["action"]["kind"], "stop_mining");
    assert_eq!(ha.service_calls(), ["switch.turn_off switch.s21_active"]);
    assert_eq!(ha.state("switch.s21_active").as_deref(), Some("off"));
    let forecast = &report["units"][0]["forecast"];
    assert_eq!(forecast["next_hour_power"], 2600.0);
    assert_eq!(forecast["avg_next_4_hours_power"], 2350.0);
}
