//! Allocation (SPEC §17.2–17.4) end to end: the built binary run cycle after cycle with
//! `--now` against one state file, Braiins OS fakes that follow their targets and a Home
//! Assistant whose grid sensor follows what the miners draw.

use serde_json::Value;

use crate::support::braiins_os::FakeBraiinsOs;
use crate::support::cgminer::FakeCgminer;
use crate::support::home_assistant::{FakeHomeAssistant, TOKEN};
use crate::support::{Sandbox, miner};

const T0: i64 = 1_782_036_000; // 2026-06-21T10:00:00Z
const HOUSE: f64 = 400.0;

fn at(offset: i64) -> String {
    jiff::Timestamp::from_second(T0 + offset).unwrap().to_string()
}

/// A site: Home Assistant for the energy, Braiins OS miners `a`, `b`… in that priority.
struct Site {
    sandbox: Sandbox,
    ha: FakeHomeAssistant,
    miners: Vec<(String, FakeBraiinsOs)>,
    _cgminer: FakeCgminer,
}

impl Site {
    /// `miners`: (id, hashrate_max TH/s, fake); `allocation`: the unit's block (YAML flow).
    fn new(miners: Vec<(&str, f64, FakeBraiinsOs)>, allocation: &str, battery: bool) -> Site {
        Site::with_policy(
            miners,
            allocation,
            battery,
            "name: allocation decides\nstart_rules: []\nstop_rules: []\n",
            "",
        )
    }

    /// The same with a policy of its own and `unit_extra` keys on the unit.
    fn with_policy(
        miners: Vec<(&str, f64, FakeBraiinsOs)>,
        allocation: &str,
        battery: bool,
        policy: &str,
        unit_extra: &str,
    ) -> Site {
        let ha = FakeHomeAssistant::start();
        let cgminer = FakeCgminer::start(&[]);
        let sandbox = Sandbox::new();
        sandbox.write("policy.yaml", policy);
        let battery_keys = if battery { ", battery_soc: sensor.soc, battery_power: sensor.battery" } else { "" };
        let mut controllers = String::new();
        let mut configured = String::new();
        for (id, hashrate, fake) in &miners {
            controllers.push_str(&format!(
                "  - {{id: c{id}, type: braiins_os, host: 127.0.0.1, port: {}, web_url: \"{}\", password: pw}}\n",
                cgminer.port,
                fake.http.url()
            ));
            configured.push_str(&format!(
                "  - {{id: {id}, power_max: 3200, hashrate_max: {hashrate}, controllers: [c{id}]}}\n"
            ));
        }
        let ids: Vec<&str> = miners.iter().map(|(id, _, _)| *id).collect();
        sandbox.config(&format!(
            "version: 1\nstate: state.db\nsettings: {{timeout: 2s}}\nservices:\n  - {{id: ha, type: home_assistant, url: \"{}\", token: {TOKEN}}}\nenergy_sources:\n  - {{id: roof, type: solar, monitor: {{type: home_assistant, service: ha, production: sensor.pv, consumption: sensor.house, grid: sensor.grid{battery_keys}}}}}\ncontrollers:\n{controllers}miners:\n{configured}units:\n  - {{id: home, energy_source: roof, miners: [{}], policy: policy.yaml, guards: {{verify_after: 60s}}, allocation: {allocation}{unit_extra}}}\n",
            ha.url(),
            ids.join(", ")
        ));
        let miners = miners.into_iter().map(|(id, _, fake)| (id.to_string(), fake)).collect();
        Site { sandbox, ha, miners, _cgminer: cgminer }
    }

    /// The energy of a moment: `surplus` W beyond the house load, the grid balancing what
    /// the miners draw (less what the battery takes).
    fn energy(&self, surplus: f64, battery: Option<(f64, f64)>) {
        let miners: f64 = self.miners.iter().map(|(_, fake)| fake.power()).sum();
        let charging = battery.map_or(0.0, |(_, power)| power);
        self.ha.set("sensor.pv", &(surplus + HOUSE).to_string(), Some("W"));
        self.ha.set("sensor.house", &HOUSE.to_string(), Some("W"));
        self.ha.set("sensor.grid", &(miners + charging - surplus).to_string(), Some("W"));
        if let Some((soc, power)) = battery {
            self.ha.set("sensor.soc", &soc.to_string(), Some("%"));
            self.ha.set("sensor.battery", &power.to_string(), Some("W"));
        }
    }

    fn writes(&self) -> Vec<Vec<String>> {
        self.miners.iter().map(|(_, fake)| fake.writes()).collect()
    }

    /// Runs a cycle at `offset` on `surplus`; returns what each miner was sent, as
    /// `+120 a: resume, target 2400`.
    fn step(&self, offset: i64, surplus: f64) -> (Vec<String>, Value) {
        self.energy(surplus, None);
        let before = self.writes();
        let (run, report) = self.sandbox.cycle(&at(offset), &[]);
        assert!(run.code <= 1, "{}\n{}", run.stdout, run.stderr);
        let after = self.writes();
        let mut lines = Vec::new();
        for ((id, _), (old, new)) in self.miners.iter().zip(before.iter().zip(&after)) {
            if new.len() > old.len() {
                lines.push(format!("+{offset} {id}: {}", new[old.len()..].join(", ")));
            }
        }
        (lines, report)
    }
}

/// The steps, one cycle every 2 minutes: 1.0 → 2.5 → 5.0 → 3.0 → 0.8 kW.
fn walk(site: &Site) -> Vec<String> {
    let steps = [(1000.0, 2), (2500.0, 3), (5000.0, 3), (3000.0, 3), (800.0, 6)];
    let mut log = Vec::new();
    let mut offset = 0;
    for (surplus, cycles) in steps {
        for _ in 0..cycles {
            log.extend(site.step(offset, surplus).0);
            offset += 120;
        }
    }
    log
}

const SETTINGS: &str = "{start_stop: auto, reserve: 100, step: 50, start_margin: 100, start_after: 2m, stop_after: 6m, min_change_interval: 5m";

fn two_braiins(strategy: &str) -> Site {
    let a = FakeBraiinsOs::paused(1300.0, 3200.0, 3200.0).with_efficiency(32.0);
    let b = FakeBraiinsOs::paused(1300.0, 3200.0, 3200.0).with_efficiency(22.0);
    Site::new(vec![("a", 100.0, a), ("b", 145.0, b)], &format!("{SETTINGS}, strategy: {strategy}}}"), false)
}

#[test]
fn priority_shares_the_steps_between_two_braiins_miners_across_invocations() {
    let site = two_braiins("priority");
    assert_eq!(
        walk(&site),
        [
            // 2.5 kW from +240: the budget allows `a` (2400 W ≥ 1300 + 100 W); it starts after
            // start_after, its target written with the resume. Its first target is then
            // already held (+480, nothing sent) and counts as its last change.
            "+360 a: resume, target 2400",
            // 5.0 kW from +600: `b` gets what `a` leaves (4900 − 3200 W) and starts after
            // start_after; `a` may rise only 5 min after +480 (min_change_interval).
            "+720 b: resume, target 1700",
            "+840 a: target 3200",
            // 3.0 kW at +960: both decrease in the same cycle; `b`'s share is nothing, so it
            // is held at power_min for stop_after.
            "+960 a: target 1700",
            "+960 b: target 1300",
            // 0.8 kW at +1320: `b` stops 6 min after it fell short; `a` is held at power_min
            // and stops 6 min later.
            "+1320 a: target 1300",
            "+1320 b: pause",
            "+1680 a: pause",
        ]
    );
}

#[test]
fn efficiency_serves_the_lowest_joules_per_terahash_first() {
    // `b` (22 J/TH) before `a` (32 J/TH): the same walk with the roles swapped.
    let site = two_braiins("efficiency");
    assert_eq!(
        walk(&site),
        [
            "+360 b: resume, target 2400",
            "+720 a: resume, target 1700",
            "+840 b: target 3200",
            "+960 a: target 1300",
            "+960 b: target 1700",
            "+1320 a: pause",
            "+1320 b: target 1300",
            "+1680 b: pause",
        ]
    );
}

#[test]
fn equal_fills_both_miners_to_one_level() {
    let site = two_braiins("equal");
    assert_eq!(
        walk(&site),
        [
            // 2.5 kW: only one power_min + start_margin fits.
            "+360 a: resume, target 2400",
            // 5.0 kW: 4900 W at one level, 2450 W each; `a`'s rise waits for min_change_interval.
            "+720 b: resume, target 2450",
            "+840 a: target 2450",
            // 3.0 kW: 1500 W each, at once; 0.8 kW: neither fits, both held at power_min, then
            // both stop in one cycle (stops are never staggered).
            "+960 a: target 1500",
            "+960 b: target 1500",
            "+1320 a: target 1300",
            "+1320 b: target 1300",
            "+1680 a: pause",
            "+1680 b: pause",
        ]
    );
}

#[test]
fn the_budget_and_shares_are_in_every_report_and_a_dry_run_writes_nothing() {
    let site = two_braiins("priority");
    // `a` runs at 2400 W; the 5.0 kW step would raise it, were it not for --dry-run.
    site.miners[0].1.http.log().clear();
    for (offset, surplus) in [(0, 2500.0), (120, 2500.0), (240, 2500.0)] {
        site.step(offset, surplus);
    }
    assert_eq!(site.miners[0].1.power(), 2400.0);
    let writes = site.writes();
    site.energy(5000.0, None);
    let dry = site.sandbox.run(&["run", "--dry-run", "--explain", "--now", &at(600)]);
    assert!(dry.code <= 1, "{}\n{}", dry.stdout, dry.stderr);
    assert_eq!(site.writes(), writes, "--dry-run sends no target and no start");
    // 2400 W drawn, 2600 W exported: a budget of 5000 W, 4900 W after the reserve.
    assert!(
        dry.stdout.contains("allocation: budget 5000 W, available 4900 W (surplus, priority, auto)"),
        "{}",
        dry.stdout
    );
    assert!(dry.stdout.contains("[share 3200 W: increase 2400 → 3200 W]"), "{}", dry.stdout);
    assert!(
        dry.stdout.contains("allocation: share 1700 W of 4900 W: start at 1700 W in 120 s (start_after)"),
        "{}",
        dry.stdout
    );
    // The dry run kept no timer: `b` still waits its full start_after after the real cycle.
    let metrics = site.sandbox.path("metrics.prom");
    let (run, report) = site.sandbox.cycle(&at(600), &["--metrics-file", metrics.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(report["units"][0]["allocation"]["budget"], 5000.0);
    assert_eq!(report["units"][0]["allocation"]["available"], 4900.0);
    assert_eq!(miner(&report, "a")["allocation"]["share"], 3200.0);
    assert_eq!(miner(&report, "a")["allocation"]["target"], 3200.0);
    assert_eq!(miner(&report, "a")["action"]["kind"], "set_power_target");
    assert_eq!(miner(&report, "a")["reason"]["kind"], "allocation");
    assert_eq!(miner(&report, "b")["allocation"]["wish"]["wait"]["seconds_left"], 120);
    let prom = std::fs::read_to_string(&metrics).unwrap();
    assert!(prom.contains("edge_mining_unit_budget_watts{unit=\"home\"} 5000"), "{prom}");
    assert!(prom.contains("edge_mining_miner_share_watts{unit=\"home\",miner=\"a\"} 3200"), "{prom}");
    // Rules and `context` see the section: `a` now draws 3200 W, `b` may have what is left.
    site.energy(5000.0, None);
    let context = site.sandbox.run(&["context", "--miner", "b", "--now", &at(630)]);
    let context: Value = serde_json::from_str(&context.stdout).unwrap();
    assert_eq!(context["allocation"]["share"], 1700.0, "{context}");
    assert_eq!(context["allocation"]["mode"], "auto");
}

#[test]
fn the_battery_policy_gives_the_same_surplus_different_budgets() {
    // 3 kW beyond the house, 1 kW of it charging the battery: below priority_soc only the
    // 2 kW export is the miners'; from priority_soc the whole surplus; from buffer_soc also
    // 500 W from the battery.
    let settings = "{start_stop: auto, reserve: 0, battery: {priority_soc: 60, buffer_soc: 90, discharge_max: 500}}";
    let a = FakeBraiinsOs::paused(1300.0, 3200.0, 3200.0);
    let site = Site::new(vec![("a", 100.0, a)], settings, true);
    let mut budgets = Vec::new();
    for (offset, soc) in [(0, 40.0), (120, 75.0), (240, 95.0)] {
        site.energy(3000.0, Some((soc, 1000.0)));
        let (run, report) = site.sandbox.cycle(&at(offset), &["--dry-run"]);
        assert!(run.code <= 1, "{}", run.stderr);
        let allocation = &report["units"][0]["allocation"];
        budgets.push((allocation["basis"].as_str().unwrap().to_string(), allocation["budget"].as_f64().unwrap()));
    }
    assert_eq!(
        budgets,
        [("export".to_string(), 2000.0), ("surplus".to_string(), 3000.0), ("surplus".to_string(), 3500.0)]
    );
    let validate = site.sandbox.run(&["validate", "--offline"]);
    assert_eq!(validate.code, 0, "{}", validate.stderr);
    site.sandbox.edit_config(|c| c.replace("priority_soc: 60", "priority_soc: 95"));
    let invalid = site.sandbox.run(&["validate", "--offline"]);
    assert_ne!(invalid.code, 0);
    assert!(
        invalid.stdout.contains("units[0].allocation.battery") && invalid.stdout.contains("buffer_soc"),
        "{}",
        invalid.stdout
    );
}

#[test]
fn the_probe_raises_a_target_while_the_grid_stays_at_zero_and_steps_back_on_import() {
    // Zero export: the inverter throttles to the load, so the grid reads 0 whatever the sun.
    let settings = "{reserve: 100, probe: {enabled: true, step: 100, every: 10m, grid_tolerance: 50}}";
    let a = FakeBraiinsOs::start(1300.0, 3200.0, 2000.0);
    let site = Site::new(vec![("a", 100.0, a)], settings, false);
    let fake = &site.miners[0].1;
    let zero_export = |offset: i64, grid: f64| {
        site.ha.set("sensor.pv", &(HOUSE + fake.power() - grid).to_string(), Some("W"));
        site.ha.set("sensor.house", &HOUSE.to_string(), Some("W"));
        site.ha.set("sensor.grid", &grid.to_string(), Some("W"));
        let before = fake.writes().len();
        let (run, _) = site.sandbox.cycle(&at(offset), &[]);
        assert!(run.code <= 1, "{}", run.stderr);
        fake.writes()[before..].to_vec()
    };
    assert_eq!(zero_export(0, 0.0), ["target 2100"]);
    assert_eq!(zero_export(300, 0.0), Vec::<String>::new(), "one step every 10 minutes");
    assert_eq!(zero_export(600, 10.0), ["target 2200"]);
    // The sun did not follow: 150 W imported. Step back, and hold for `every`.
    assert_eq!(zero_export(900, 150.0), ["target 2050"]);
    assert_eq!(zero_export(1200, 0.0), Vec::<String>::new());
    assert_eq!(zero_export(1500, 0.0), ["target 2150"]);
    // A dry run when a step is due sends nothing and keeps no probe state.
    site.ha.set("sensor.grid", "0", Some("W"));
    let dry = site.sandbox.run(&["run", "--dry-run", "--now", &at(2100)]);
    assert!(dry.stdout.contains("probe: grid balanced, raise to 2250 W"), "{}", dry.stdout);
    assert_eq!(fake.target(), 2150.0);
    assert_eq!(zero_export(2100, 0.0), ["target 2250"]);
}

#[test]
fn fixed_power_miners_start_whole_one_at_a_time() {
    // The scenario with an allocation block: two 3.25 kW on/off miners and a Bitaxe
    // on 4,240 W; simulated miners without power-target control.
    let sandbox = Sandbox::new();
    let ha = FakeHomeAssistant::start();
    sandbox.write("policy.yaml", "name: allocation decides\nstart_rules: []\nstop_rules: []\n");
    sandbox.config(&format!(
        "version: 1\nstate: state.db\nservices:\n  - {{id: ha, type: home_assistant, url: \"{}\", token: {TOKEN}}}\nenergy_sources:\n  - {{id: roof, type: solar, monitor: {{type: home_assistant, service: ha, production: sensor.pv, consumption: sensor.house, grid: sensor.grid}}}}\ncontrollers:\n  - {{id: s1, type: simulated, power: 3250}}\n  - {{id: s2, type: simulated, power: 3250}}\n  - {{id: bx, type: simulated, power: 15}}\nminers:\n  - {{id: s19a, power_max: 3250, controllers: [s1], features: [{{type: power_target_control, controller: s1, enabled: false}}]}}\n  - {{id: s19b, power_max: 3250, controllers: [s2], features: [{{type: power_target_control, controller: s2, enabled: false}}]}}\n  - {{id: bitaxe, power_max: 15, controllers: [bx], features: [{{type: power_target_control, controller: bx, enabled: false}}]}}\nunits:\n  - {{id: home, energy_source: roof, miners: [s19a, s19b, bitaxe], policy: policy.yaml, allocation: {{start_stop: auto, start_after: 0s}}}}\n",
        ha.url()
    ));
    let mut drawn = 0.0;
    let mut started = Vec::new();
    for offset in [0, 300, 600, 900, 1200] {
        ha.set("sensor.pv", &(4240.0 + HOUSE).to_string(), Some("W"));
        ha.set("sensor.house", &HOUSE.to_string(), Some("W"));
        ha.set("sensor.grid", &(drawn - 4240.0).to_string(), Some("W"));
        let (run, report) = sandbox.cycle(&at(offset), &[]);
        assert!(run.code <= 1, "{}", run.stderr);
        for id in ["s19a", "s19b", "bitaxe"] {
            if miner(&report, id)["action"]["kind"] == "start_mining" {
                started.push(format!("+{offset} {id}"));
            }
        }
        // Once started, each draws its full power, and the grid sees it.
        for (id, watts) in [("s19a", 3250.0), ("s19b", 3250.0), ("bitaxe", 15.0)] {
            if miner(&report, id)["action"]["kind"] == "start_mining" {
                drawn += watts;
            }
        }
    }
    assert_eq!(started, ["+0 s19a", "+300 bitaxe"], "never the second S19");
}

#[test]
fn in_rules_mode_the_policy_starts_and_the_allocation_gates_sets_watts_and_stops_after_stop_after() {
    let policy = "name: sun\nstart_rules:\n  - {name: sunny, conditions: {field: energy_state.production, operator: gt, value: 1000}}\nstop_rules:\n  - {name: night, conditions: {field: energy_state.production, operator: lt, value: 100}}\n";
    let a = FakeBraiinsOs::paused(1300.0, 3200.0, 3200.0);
    let b = FakeBraiinsOs::paused(1300.0, 3200.0, 3200.0);
    let settings = "{start_stop: rules, reserve: 100, start_after: 2m, stop_after: 6m}";
    let site = Site::with_policy(vec![("a", 100.0, a), ("b", 100.0, b)], settings, false, policy, "");
    // The rule wants both; the budget allows one, after start_after.
    let (writes, report) = site.step(0, 2500.0);
    assert!(writes.is_empty(), "{writes:?}");
    assert_eq!(miner(&report, "a")["decision"], "maintain_state");
    assert_eq!(miner(&report, "a")["reason"]["name"], "allocation: start at 2400 W in 120 s (start_after)");
    assert_eq!(
        miner(&report, "b")["reason"]["name"],
        "allocation: budget does not reach 1400 W (power_min + start_margin)"
    );
    let (writes, report) = site.step(120, 2500.0);
    assert_eq!(writes, ["+120 a: resume, target 2400"]);
    assert_eq!(miner(&report, "a")["reason"]["name"], "sunny", "the rule's start, gated and sized");
    // The sun fades but the rule does not stop: the allocation holds `a` at power_min, then
    // stops it after stop_after, under its own name.
    assert_eq!(site.step(240, 800.0).0, ["+240 a: target 1300"]);
    assert!(site.step(480, 800.0).0.is_empty());
    let (writes, report) = site.step(600, 800.0);
    assert_eq!(writes, ["+600 a: pause"]);
    assert_eq!(miner(&report, "a")["reason"]["kind"], "allocation");
}

#[test]
fn over_max_grid_import_safety_stops_only_as_many_miners_as_it_takes() {
    let a = FakeBraiinsOs::start(1300.0, 3200.0, 2000.0);
    let b = FakeBraiinsOs::start(1300.0, 3200.0, 2000.0);
    let site = Site::with_policy(
        vec![("a", 100.0, a), ("b", 100.0, b)],
        "{start_stop: auto}",
        false,
        "name: allocation decides\nstart_rules: []\nstop_rules: []\n",
        ", safety: {max_grid_import: 1000}",
    );
    // 4 kW drawn on 1.5 kW of sun: 2.5 kW imported. Stopping `b` (last in priority) brings
    // the expected import to 500 W, under the limit: `a` stays on, lowered to power_min.
    let (writes, report) = site.step(0, 1500.0);
    assert_eq!(writes, ["+0 a: target 1300", "+0 b: pause"]);
    assert_eq!(miner(&report, "b")["reason"]["kind"], "safety");
    assert_ne!(miner(&report, "a")["decision"], "stop_mining");
}

#[test]
fn rules_can_read_their_miners_share_before_they_decide() {
    // A policy that starts a miner only when the allocation would give it at least 1.3 kW.
    let policy = "name: share\nstart_rules:\n  - {name: enough share, conditions: {field: allocation.share, operator: gte, value: 1300}}\nstop_rules: []\n";
    let a = FakeBraiinsOs::paused(1300.0, 3200.0, 3200.0);
    let b = FakeBraiinsOs::paused(1300.0, 3200.0, 3200.0);
    let settings = "{start_stop: rules, reserve: 100, start_after: 0s}";
    let site = Site::with_policy(vec![("a", 100.0, a), ("b", 100.0, b)], settings, false, policy, "");
    assert_eq!(site.sandbox.run(&["validate", "--offline"]).code, 0, "allocation.share is a known path");
    let (writes, report) = site.step(0, 2500.0);
    assert_eq!(writes, ["+0 a: resume, target 2400"]);
    assert_eq!(miner(&report, "a")["reason"]["name"], "enough share");
    assert_eq!(miner(&report, "b")["decision"], "maintain_state");
    assert_eq!(miner(&report, "b")["reason"]["kind"], "none", "its share is nothing: the rule did not match");
}
