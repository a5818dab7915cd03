//! `simulate` (SPEC §20) end to end: a preset day gives the decisions `run --now` gives at
//! the same instants against the simulated devices; the energy balances at every step (a
//! property test over random traces); `--compare` shows each figure's difference; a CSV
//! trace with a bad row names its file and line; the SVG is well-formed with one line per
//! series and one band per miner; and nothing but the simulation's memory is written.

use proptest::prelude::*;
use serde_json::Value;

use crate::support::Sandbox;

fn json(run: &crate::support::Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr))
}

/// Every step of every unit of a `simulate --output json` document balances, and the totals
/// do too.
fn assert_balanced(document: &Value) {
    for run in document["runs"].as_array().unwrap() {
        for unit in run["units"].as_array().unwrap() {
            for step in unit["steps"].as_array().unwrap() {
                let miners: f64 = step["miners"].as_array().unwrap().iter().map(|m| m[1].as_f64().unwrap()).sum();
                let f = |k: &str| step[k].as_f64().unwrap();
                let imbalance = f("production") + f("grid") - f("battery") - f("house") - miners;
                assert!(imbalance.abs() <= 1.0, "PV + import + discharge = house + miners + export + charge: {step}");
            }
            let t = &unit["totals"];
            let f = |k: &str| t[k].as_f64().unwrap();
            let sources = f("production_kwh") + f("import_kwh") + f("battery_discharge_kwh");
            let uses = f("house_kwh") + f("miners_kwh") + f("export_kwh") + f("battery_charge_kwh");
            assert!((sources - uses).abs() < 0.01 * sources.max(1.0), "{t}");
            let origins = f("miners_from_pv_kwh") + f("miners_from_battery_kwh") + f("miners_from_grid_kwh");
            assert!((origins - f("miners_kwh")).abs() < 1e-6, "{t}");
        }
    }
}

#[test]
fn a_preset_day_decides_as_run_now_does_at_the_same_instants() {
    let sandbox = Sandbox::new();
    sandbox.example();
    let simulated = sandbox.run(&["simulate", "--day", "2026-06-21", "--step", "30m", "--output", "json"]);
    assert_eq!(simulated.code, 0, "{}", simulated.stderr);
    let document = json(&simulated);
    assert_balanced(&document);
    let unit = &document["runs"][0]["units"][0];
    let decisions = unit["decisions"].as_array().unwrap();
    assert_eq!(decisions.len(), 48);
    assert!(!sandbox.path("state.db").exists(), "simulate never opens the config's database");
    // The same instants, one `run --now` each, against the simulated devices.
    let mut started = 0;
    for entry in decisions {
        let at = entry[0].as_i64().unwrap();
        let now = jiff::Timestamp::from_second(at).unwrap().to_string();
        let (run, report) = sandbox.cycle(&now, &[]);
        assert!(run.code <= 1, "{}", run.stderr);
        for (miner, decision) in entry[1].as_array().unwrap().iter().map(|m| (m[0].as_str(), m[1].as_str())) {
            let ran = crate::support::miner(&report, miner.unwrap());
            assert_eq!(ran["decision"].as_str(), decision, "{now} {miner:?}: {ran}");
            started += usize::from(decision == Some("start_mining"));
        }
    }
    assert!(started >= 2, "the day has starts to compare: {started}");
}

#[test]
fn compare_shows_the_difference_in_each_figure() {
    let sandbox = Sandbox::new();
    sandbox.example();
    let eager = std::fs::read_to_string(sandbox.path("rules/solar-policy.yaml")).unwrap().replace(
        "{field: energy_state.surplus_for_miner, operator: gte, value_ref: miner.power_max}",
        "{field: energy_state.surplus_for_miner, operator: gte, value: 800}",
    );
    sandbox.write("rules/eager-policy.yaml", &eager);
    let priced = std::fs::read_to_string(sandbox.path("config.yaml")).unwrap()
        + "tariffs: {currency: EUR, import: 0.30, feed_in: 0.08}\n";
    sandbox.config(&priced);
    sandbox.write("eager.yaml", &priced.replace("rules/solar-policy.yaml", "rules/eager-policy.yaml"));
    let args = ["simulate", "--day", "2026-06-21", "--step", "10m", "--hashprice", "48000", "--btc-price", "90000"];
    let text = sandbox.run(&[&args[..], &["--compare", "eager.yaml"]].concat());
    assert_eq!(text.code, 0, "{}", text.stderr);
    let header = text.stdout.lines().find(|l| l.contains("config.yaml")).unwrap_or_default();
    assert!(header.contains("eager.yaml") && header.contains("difference"), "{}", text.stdout);
    let figures = [
        "production kWh",
        "house kWh",
        "miners kWh",
        "from PV kWh",
        "from battery kWh",
        "from grid kWh",
        "import kWh",
        "export kWh",
        "battery charge kWh",
        "battery discharge kWh",
        "hash TH·h",
        "sats",
        "grid cost EUR",
        "feed-in forgone EUR",
        "net EUR",
    ];
    for figure in figures {
        let line = text.stdout.lines().find(|l| l.trim_start().starts_with(figure)).unwrap_or_default();
        assert_eq!(line.split_whitespace().filter(|w| w.parse::<f64>().is_ok()).count(), 3, "{figure}: {line}");
    }
    let document = json(&sandbox.run(&[&args[..], &["--compare", "eager.yaml", "--output", "json"]].concat()));
    assert_balanced(&document);
    let difference = &document["difference"][0]["totals"];
    assert_eq!(difference["production_kwh"], 0.0, "the same sun");
    assert!(difference["miners_kwh"].as_f64().unwrap() > 1.0, "a lower threshold mines more: {difference}");
    assert!(difference["th_hours"].as_f64().unwrap() > 0.0);
    assert!(difference["export_kwh"].as_f64().unwrap() <= 0.0, "{difference}");
}

#[test]
fn a_csv_trace_replays_and_a_bad_row_names_its_file_and_line() {
    let sandbox = Sandbox::new();
    sandbox.example();
    let mut csv = String::from("time,production,consumption,battery_soc,price\n");
    for (i, production) in [0, 500, 2500, 4500, 5200, 4800, 3000, 900, 0].iter().enumerate() {
        csv.push_str(&format!(
            "2026-06-21T{:02}:00:00+02:00,{production},450,{},0.31\n",
            8 + i,
            if i == 0 { "60" } else { "" }
        ));
    }
    sandbox.write("day.csv", &csv);
    let args =
        ["simulate", "--from", "2026-06-21T08:00:00+02:00", "--to", "2026-06-21T17:00:00+02:00", "--trace", "day.csv"];
    let run = sandbox.run(&[&args[..], &["--step", "5m", "--output", "json"]].concat());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let document = json(&run);
    assert_balanced(&document);
    let unit = &document["runs"][0]["units"][0];
    assert_eq!(unit["steps"][0]["production"], 0.0);
    assert_eq!(unit["steps"][0]["soc"], 60.0, "the trace's first state of charge");
    assert_eq!(unit["steps"].as_array().unwrap().len(), 108);
    assert!(unit["totals"]["grid_cost"].as_f64().is_some(), "the trace's price");
    sandbox.write("bad.csv", &csv.replace("2026-06-21T10:00:00+02:00,2500,450", "2026-06-21T10:00:00+02:00,lots,450"));
    let bad = sandbox.run(&["simulate", "--trace", "bad.csv", "--day", "2026-06-21"]);
    assert_eq!(bad.code, 1, "{}", bad.stdout);
    assert!(bad.stderr.contains("bad.csv:4: `production`: `lots` is not a number"), "{}", bad.stderr);
}

#[test]
fn the_plot_is_an_svg_with_one_line_per_series_and_one_band_per_miner() {
    let sandbox = Sandbox::new();
    sandbox.example();
    let run = sandbox.run(&["simulate", "--day", "2026-06-21", "--trace", "variable", "--plot", "day.svg"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let svg = std::fs::read_to_string(sandbox.path("day.svg")).unwrap();
    let document = roxmltree::Document::parse(&svg).expect("well-formed XML");
    assert_eq!(document.root_element().tag_name().name(), "svg");
    let long_lines = |colour: &str| {
        document
            .descendants()
            .filter(|n| n.has_tag_name("polyline") && n.attribute("stroke") == Some(colour))
            .filter(|n| n.attribute("points").is_some_and(|p| p.split_whitespace().count() > 100))
            .count()
    };
    // production, house, grid, battery: one line each (the legend's swatches are short).
    for colour in ["#E69F00", "#0072B2", "#505050", "#009E73"] {
        assert_eq!(long_lines(colour), 1, "{colour}");
    }
    let long = |n: &roxmltree::Node| n.attribute("points").is_some_and(|p| p.split_whitespace().count() > 100);
    let bands = document.descendants().filter(|n| n.has_tag_name("polygon") && long(n)).count();
    assert_eq!(bands, 2, "one band per miner (s19, bitaxe)");
    let markers = document.descendants().filter(|n| n.has_tag_name("polygon") && !long(n)).count();
    assert!(markers >= 2, "a marker at each start: {markers}");
    let labels: Vec<&str> = document.descendants().filter_map(|n| n.text()).collect();
    for label in ["production", "house", "grid (import > 0)", "battery %", "miner s19", "12:00"] {
        assert!(labels.iter().any(|t| t.trim() == label), "{label} in {labels:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]

    /// Any trace, whatever the rules do with it: the energy balances at every step.
    #[test]
    fn the_energy_balances_at_every_step_of_any_trace(
        rows in proptest::collection::vec((0u32..9000, 0u32..3000), 6..14),
        soc in 0u32..=100,
    ) {
        let sandbox = Sandbox::new();
        sandbox.example();
        let mut csv = String::from("time,production,consumption,battery_soc\n");
        for (i, (production, house)) in rows.iter().enumerate() {
            let soc = if i == 0 { soc.to_string() } else { String::new() };
            csv.push_str(&format!("2026-06-21T{:02}:{:02}:00Z,{production},{house},{soc}\n", 8 + i / 4, (i % 4) * 15));
        }
        sandbox.write("random.csv", &csv);
        let to = format!("2026-06-21T{:02}:{:02}:00Z", 8 + rows.len() / 4, (rows.len() % 4) * 15);
        let run = sandbox.run(&["simulate", "--trace", "random.csv", "--from", "2026-06-21T08:00:00Z", "--to", &to,
            "--step", "5m", "--output", "json"]);
        prop_assert_eq!(run.code, 0, "{}", run.stderr);
        assert_balanced(&json(&run));
    }
}

/// Every `run` records what it saw; `--trace recorded` replays it from the state file, which
/// it only reads.
#[test]
fn a_recorded_day_replays_what_the_runs_saw() {
    let sandbox = Sandbox::new();
    sandbox.example();
    let mut seen = Vec::new();
    for half_hours in 0..9 {
        let now = jiff::Timestamp::from_second(1_782_036_000 + half_hours * 1800).unwrap().to_string();
        let (run, report) = sandbox.cycle(&now, &[]);
        assert!(run.code <= 1, "{}", run.stderr);
        seen.push(report["units"][0]["energy"]["production"].as_f64().unwrap());
    }
    let before = std::fs::read(sandbox.path("state.db")).unwrap();
    let run = sandbox.run(&[
        "simulate",
        "--trace",
        "recorded",
        "--from",
        "2026-06-21T10:00:00Z",
        "--to",
        "2026-06-21T14:30:00Z",
        "--step",
        "30m",
        "--output",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let document = json(&run);
    assert_balanced(&document);
    let steps = document["runs"][0]["units"][0]["steps"].as_array().unwrap();
    let replayed: Vec<f64> = steps.iter().map(|s| s["production"].as_f64().unwrap()).collect();
    assert_eq!(replayed, seen, "the roof as the runs saw it");
    assert_eq!(std::fs::read(sandbox.path("state.db")).unwrap(), before, "the state file is only read");
    let state = sandbox.run(&["state", "show", "--now", "2026-06-21T15:00:00Z"]);
    let rows = state.stdout.lines().find(|l| l.trim_start().starts_with("energy_trace")).unwrap_or_default();
    assert!(rows.ends_with(" 9 row(s)"), "one row per cycle: {}", state.stdout);
    let none = sandbox.run(&["simulate", "--trace", "recorded", "--day", "2026-01-01"]);
    assert_eq!(none.code, 1);
    assert!(none.stderr.contains("no recorded trace of `house`"), "{}", none.stderr);
}

/// A config of real devices and services: `simulate` asks none of them, and its miners are
/// simulated from their own config.
#[test]
fn simulate_contacts_no_device_or_service() {
    let bos = crate::support::braiins_os::FakeBraiinsOs::start(1300.0, 3200.0, 3200.0);
    let hook = crate::support::http::FakeHttp::start(|_| crate::support::http::json(serde_json::json!({"ok": true})));
    let sandbox = Sandbox::new();
    sandbox.write("policy.yaml", "name: sun\nstart_rules:\n  - {name: sunny, conditions: {field: energy_state.production, operator: gt, value: 1000}}\nstop_rules:\n  - {name: dusk, conditions: {field: energy_state.production, operator: lt, value: 300}}\n");
    sandbox.config(&format!(
        "version: 1\nstate: state.db\nsettings: {{latitude: 45.0, longitude: 9.0}}\nenergy_sources:\n  - {{id: roof, type: solar, nominal_power_max: 6000, monitor: {{type: http, production: {{url: \"{hook}/energy\", jsonpath: \"$.pv\"}}}}}}\ncontrollers:\n  - {{id: c, type: braiins_os, host: 127.0.0.1, web_url: \"{bos}\", password: pw}}\nminers:\n  - {{id: rig, power_max: 3200, hashrate_max: 100, controllers: [c]}}\nnotifiers:\n  - {{id: hook, type: webhook, url: \"{hook}/notify\"}}\npublishers:\n  - {{id: ha, type: mqtt, host: 127.0.0.1, port: 1}}\nunits:\n  - {{id: home, energy_source: roof, miners: [rig], policy: policy.yaml, notifiers: [hook], publishers: [ha]}}\n",
        hook = hook.url(),
        bos = bos.http.url()
    ));
    let run = sandbox.run(&["simulate", "--day", "2026-06-21", "--step", "15m", "--output", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let miner = &json(&run)["runs"][0]["units"][0]["miners"]["rig"];
    assert!(miner["hours_mining"].as_f64().unwrap() > 4.0, "simulated from its config: {miner}");
    assert_eq!(miner["starts"], 1);
    assert!(bos.http.log().is_empty(), "no request to the miner");
    assert!(hook.log().is_empty(), "no request to the monitor or the notifier");
}
