//! Home loads and climate (SPEC §18) end to end: upstream Edge Mining's example rules,
//! written in its format, loaded unchanged and each one firing on a history the binary built
//! across invocations with `--now`, from a Home Assistant fake whose sensors change.

use serde_json::Value;

use crate::support::home_assistant::{FakeHomeAssistant, TOKEN};
use crate::support::{Sandbox, miner};

const NOON: i64 = 1_782_043_200; // 2026-06-21T12:00:00Z

fn at(offset: i64) -> String {
    jiff::Timestamp::from_second(NOON + offset).unwrap().to_string()
}

/// Upstream's `home_load_start_rules.yaml`, rule for rule.
const HOME_LOAD_START: &str = r#"rules:
  - name: "Low Home Load Forecast"
    conditions:
      all_of:
        - {field: "home_load.total_forecast.next_2h.total_energy", operator: "lt", value: 1000}
        - {field: "energy_state.battery.state_of_charge", operator: "gt", value: 40}
    priority: 15
    enabled: true
  - name: "Low Boiler Forecast + Excess Solar"
    conditions:
      all_of:
        - {field: "home_load.devices.boiler.forecast.next_1h.peak_power", operator: "lt", value: 500}
        - {field: "energy_state.production", operator: "gt", value: 2000}
        - {field: "energy_state.battery.state_of_charge", operator: "gt", value: 50}
    priority: 12
    enabled: true
  - name: "Low Historical Load + Good Forecast"
    conditions:
      all_of:
        - {field: "home_load.total_history.last_1h.avg_power", operator: "lt", value: 800}
        - {field: "forecast.next_hour_power", operator: "gt", value: 1500}
        - {field: "energy_state.battery.state_of_charge", operator: "gt", value: 45}
    priority: 10
    enabled: true
"#;

/// Upstream's `home_load_stop_rules.yaml`.
const HOME_LOAD_STOP: &str = r#"rules:
  - name: "High Home Load Forecast"
    conditions:
      all_of:
        - {field: "home_load.total_forecast.next_2h.avg_power", operator: "gt", value: 2500}
        - {field: "energy_state.battery.state_of_charge", operator: "lt", value: 70}
    priority: 60
    enabled: true
  - name: "Boiler Peak + Low Battery"
    conditions:
      all_of:
        - {field: "home_load.devices.boiler.forecast.next_1h.peak_power", operator: "gt", value: 2000}
        - {field: "energy_state.battery.state_of_charge", operator: "lt", value: 60}
    priority: 55
    enabled: true
  - name: "Evening High Load History"
    conditions:
      all_of:
        - {field: "timestamp.hour", operator: "in", value: [17, 18, 19, 20, 21, 22]}
        - {field: "home_load.total_history.last_1h.avg_power", operator: "gt", value: 2000}
        - {field: "energy_state.battery.state_of_charge", operator: "lt", value: 75}
    priority: 50
    enabled: true
  - name: "Multiple Devices High Forecast"
    conditions:
      all_of:
        - {field: "home_load.total_forecast.next_4h.avg_power", operator: "gt", value: 1800}
        - {field: "home_load.total_forecast.next_4h.peak_power", operator: "gt", value: 3000}
        - any_of:
            - {field: "energy_state.battery.state_of_charge", operator: "lt", value: 50}
            - {field: "energy_state.production", operator: "lt", value: 1000}
    priority: 45
    enabled: true
"#;

/// Upstream's climate policy (`7a1b2c3d-…yaml`), which needs a zone named `bedroom`.
const CLIMATE_POLICY: &str = r#"id: 7a1b2c3d-e4f5-6789-abcd-ef0123456789
name: Solar Surplus Room Heating Policy
description: Heats the room using miner waste heat when solar production exceeds consumption.
start_rules:
  - id: 7a1b2c3d-e4f5-6789-abcd-ef0123456001
    name: Heat Room with Solar Surplus
    conditions:
      all_of:
        - {field: climate.zones.bedroom.temperature_celsius, operator: lt, value_ref: climate.zones.bedroom.target_temperature}
        - {field: energy_state.production, operator: gt, value: 1500}
        - {field: energy_state.grid.exporting_power, operator: gt, value: 500}
        - {field: energy_state.battery.state_of_charge, operator: gt, value: 30}
    priority: 30
    enabled: true
  - id: 7a1b2c3d-e4f5-6789-abcd-ef0123456002
    name: Heat Room with Battery Surplus
    conditions:
      all_of:
        - {field: climate.zones.bedroom.temperature_celsius, operator: lt, value_ref: climate.zones.bedroom.target_temperature}
        - {field: energy_state.battery.state_of_charge, operator: gte, value: 85}
        - {field: forecast.avg_next_4_hours_power, operator: gt, value: 1000}
    priority: 15
    enabled: true
  - id: 7a1b2c3d-e4f5-6789-abcd-ef0123456003
    name: Aggressive Heating During Peak Solar
    conditions:
      all_of:
        - {field: climate.zones.bedroom.temperature_celsius, operator: lt, value_ref: climate.zones.bedroom.target_temperature}
        - {field: energy_state.production, operator: gt, value: 4000}
        - {field: energy_state.grid.exporting_power, operator: gt, value: 2000}
    priority: 40
    enabled: true
stop_rules:
  - id: 7a1b2c3d-e4f5-6789-abcd-ef0123456004
    name: Room Reached Target Temperature
    conditions:
      all_of:
        - {field: climate.zones.bedroom.temperature_celsius, operator: gte, value_ref: climate.zones.bedroom.target_temperature}
    priority: 50
    enabled: true
  - id: 7a1b2c3d-e4f5-6789-abcd-ef0123456005
    name: No More Solar Surplus
    conditions:
      all_of:
        - {field: energy_state.grid.importing_power, operator: gt, value: 500}
        - {field: energy_state.production, operator: lt, value: 1000}
        - {field: energy_state.battery.state_of_charge, operator: lt, value: 60}
    priority: 70
    enabled: true
  - id: 7a1b2c3d-e4f5-6789-abcd-ef0123456006
    name: Battery Protection
    conditions:
      any_of:
        - {field: energy_state.battery.state_of_charge, operator: lt, value: 20}
        - all_of:
            - {field: energy_state.battery.state_of_charge, operator: lt, value: 40}
            - {field: energy_state.grid.importing_power, operator: gt, value: 1500}
    priority: 100
    enabled: true
  - id: 7a1b2c3d-e4f5-6789-abcd-ef0123456007
    name: Evening Battery Reserve
    conditions:
      all_of:
        - {field: timestamp.hour, operator: in, value: [17, 18, 19, 20, 21, 22, 23]}
        - {field: energy_state.battery.state_of_charge, operator: lt, value: 70}
        - {field: energy_state.production, operator: lt, value: 500}
    priority: 60
    enabled: true
"#;

/// Upstream's `advanced_start_rules.yaml`.
const ADVANCED_START: &str = r#"rules:
  - name: "Smart Weekend Mining (On-Grid)"
    conditions:
      all_of:
        - {field: "timestamp.weekday", operator: "in", value: [5, 6]}
        - any_of:
            - all_of:
                - {field: "forecast.avg_next_4_hours_power", operator: "gt", value: 2000}
                - {field: "energy_state.battery.state_of_charge", operator: "gt", value: 70}
            - all_of:
                - {field: "energy_state.grid.exporting_power", operator: "lt", value: 800}
                - {field: "energy_state.battery.state_of_charge", operator: "gt", value: 50}
        - not_: {field: "timestamp.hour", operator: "in", value: [2, 3, 4]}
    priority: 15
    enabled: true
  - name: "Off-Peak Hours Mining"
    conditions:
      all_of:
        - {field: "timestamp.hour", operator: "in", value: [10, 11, 12, 13, 14, 15]}
        - {field: "energy_state.battery.state_of_charge", operator: "gt", value: 60}
        - {field: "home_load.total_forecast.next_2h.avg_power", operator: "lt", value: 2000}
        - any_of:
            - {field: "energy_state.production", operator: "gt", value: 2500}
            - {field: "energy_state.grid.exporting_power", operator: "lt", value: 300}
    priority: 10
    enabled: true
  - name: "Economic Opportunity Mining"
    conditions:
      all_of:
        - {field: "energy_state.battery.state_of_charge", operator: "gte", value: 85}
        - {field: "energy_state.production", operator: "gt", value: 1800}
        - any_of:
            - {field: "timestamp.weekday", operator: "in", value: [5, 6]}
            - all_of:
                - {field: "timestamp.weekday", operator: "in", value: [0, 1, 2, 3, 4]}
                - {field: "timestamp.hour", operator: "in", value: [11, 12, 13, 14]}
    priority: 5
    enabled: true
"#;

/// Upstream's `advanced_stop_rules.yaml`.
const ADVANCED_STOP: &str = r#"rules:
  - name: "Critical Battery Protection"
    conditions:
      any_of:
        - {field: "energy_state.battery.state_of_charge", operator: "lt", value: 15}
        - {field: "energy_state.battery.remaining_capacity", operator: "lt", value: 800}
        - all_of:
            - {field: "energy_state.battery.discharging_power", operator: "gt", value: 1000}
            - {field: "energy_state.battery.state_of_charge", operator: "lt", value: 25}
    priority: 100
    enabled: true
  - name: "Grid Import Limit Protection"
    conditions:
      all_of:
        - {field: "energy_state.grid.importing_power", operator: "gt", value: 2500}
        - any_of:
            - {field: "forecast.next_hour_power", operator: "lt", value: 1000}
            - {field: "energy_state.battery.state_of_charge", operator: "lt", value: 60}
        - not_:
            all_of:
              - {field: "timestamp.hour", operator: "in", value: [1, 2, 3, 4, 5]}
              - {field: "energy_state.battery.state_of_charge", operator: "lt", value: 30}
    priority: 80
    enabled: true
  - name: "Peak Home Consumption Stop"
    conditions:
      all_of:
        - {field: "home_load.total_forecast.next_2h.avg_power", operator: "gt", value: 2800}
        - {field: "timestamp.hour", operator: "in", value: [17, 18, 19, 20, 21, 22]}
        - any_of:
            - {field: "energy_state.battery.state_of_charge", operator: "lt", value: 70}
            - {field: "energy_state.production", operator: "lt", value: 1500}
    priority: 60
    enabled: true
  - name: "Weather-Based Stop"
    conditions:
      all_of:
        - {field: "forecast.avg_next_4_hours_power", operator: "lt", value: 800}
        - {field: "energy_state.production", operator: "lt", value: 1200}
        - any_of:
            - {field: "energy_state.battery.state_of_charge", operator: "lt", value: 50}
            - {field: "energy_state.grid.current_power", operator: "gt", value: 1500}
    priority: 40
    enabled: true
  - name: "Maintenance Window Stop"
    conditions:
      any_of:
        - {field: "timestamp.hour", operator: "eq", value: 3}
        - {field: "miner_state.status", operator: "eq", value: "ERROR"}
        - all_of:
            - {field: "timestamp.weekday", operator: "eq", value: 6}
            - {field: "timestamp.hour", operator: "in", value: [2, 3, 4, 5]}
    priority: 70
    enabled: true
  - name: "Economic Stop"
    conditions:
      all_of:
        - {field: "energy_state.grid.importing_power", operator: "gt", value: 2000}
        - {field: "energy_state.battery.state_of_charge", operator: "lt", value: 40}
        - {field: "timestamp.hour", operator: "in", value: [16, 17, 18, 19, 20, 21, 22, 23]}
        - any_of:
            - {field: "forecast.next_hour_power", operator: "lt", value: 500}
            - {field: "home_load.total_forecast.next_2h.avg_power", operator: "gt", value: 2500}
    priority: 30
    enabled: true
"#;

/// Upstream's `basic_start_rules.yaml`.
const BASIC_START: &str = r#"rules:
  - name: "Priority Solar Mining"
    conditions:
      all_of:
        - {field: "energy_state.production", operator: "gt", value: 3000}
        - {field: "energy_state.battery.state_of_charge", operator: "gt", value: 40}
    priority: 20
    enabled: true
  - name: "High Solar + Low Battery"
    conditions:
      all_of:
        - {field: "forecast.next_hour_power", operator: "gt", value: 2000}
        - {field: "energy_state.battery.state_of_charge", operator: "lt", value: 90}
    priority: 20
    enabled: true
  - name: "Battery Full + Excess Solar (On-Grid)"
    conditions:
      all_of:
        - {field: "energy_state.battery.state_of_charge", operator: "gte", value: 95}
        - {field: "energy_state.grid.exporting_power", operator: "gt", value: 500}
    priority: 20
    enabled: true
  - name: "Battery Full + Excess Solar (Off-Grid)"
    conditions:
      all_of:
        - {field: "energy_state.battery.state_of_charge", operator: "gte", value: 95}
        - {field: "forecast.next_hour_power", operator: "gt", value: 2000}
    priority: 20
    enabled: true
  - name: "Weekend High Production"
    conditions:
      all_of:
        - {field: "timestamp.weekday", operator: "in", value: [5, 6]}
        - {field: "forecast.avg_next_4_hours_power", operator: "gt", value: 1500}
        - {field: "energy_state.battery.state_of_charge", operator: "gt", value: 50}
    priority: 20
    enabled: true
"#;

/// Upstream's `basic_stop_rules.yaml`.
const BASIC_STOP: &str = r#"rules:
  - name: "Low Battery Stop"
    conditions:
      any_of:
        - {field: "energy_state.battery.state_of_charge", operator: "lt", value: 20}
        - {field: "energy_state.battery.remaining_capacity", operator: "lt", value: 2000}
    priority: 100
    enabled: true
  - name: "Grid Import Limit"
    conditions:
      all_of:
        - {field: "energy_state.grid.importing_power", operator: "gt", value: 200}
    priority: 20
    enabled: true
  - name: "High Home Consumption"
    conditions:
      all_of:
        - {field: "home_load.total_forecast.next_2h.avg_power", operator: "gt", value: 2500}
        - {field: "energy_state.battery.state_of_charge", operator: "lt", value: 80}
        - {field: "timestamp.hour", operator: "in", value: [17, 18, 19, 20, 21]}
    priority: 20
    enabled: true
  - name: "Maintenance Window"
    conditions:
      any_of:
        - {field: "timestamp.hour", operator: "eq", value: 3}
        - {field: "miner_state.status", operator: "eq", value: "ERROR"}
    priority: 20
    enabled: true
  - name: "Quiet Window"
    conditions:
      any_of:
        - {field: "timestamp.hour", operator: "in", value: [6, 7, 8]}
        - {field: "miner_state.status", operator: "eq", value: "ERROR"}
    priority: 20
    enabled: true
"#;

/// A house on Home Assistant: PV, house load, battery, grid, a solar forecast, a boiler and
/// a bedroom thermometer; one simulated miner whose unit reads `rules` (a unit key).
struct House {
    sandbox: Sandbox,
    ha: FakeHomeAssistant,
}

impl House {
    fn new(rules: &str) -> House {
        let ha = FakeHomeAssistant::start();
        let sandbox = Sandbox::new();
        sandbox.write("home_load_start_rules.yaml", HOME_LOAD_START);
        sandbox.write("home_load_stop_rules.yaml", HOME_LOAD_STOP);
        sandbox.write("climate_policy.yaml", CLIMATE_POLICY);
        for (file, text) in [
            ("advanced_start_rules.yaml", ADVANCED_START),
            ("advanced_stop_rules.yaml", ADVANCED_STOP),
            ("basic_start_rules.yaml", BASIC_START),
            ("basic_stop_rules.yaml", BASIC_STOP),
        ] {
            sandbox.write(file, text);
        }
        sandbox.config(&format!(
            "version: 1\nstate: state.db\nservices:\n  - {{id: ha, type: home_assistant, url: \"{}\", token: {TOKEN}}}\nenergy_sources:\n  - id: roof\n    type: solar\n    monitor: {{type: home_assistant, service: ha, production: sensor.pv, consumption: sensor.house, grid: sensor.grid, battery_soc: sensor.soc, battery_power: sensor.battery, battery_remaining_capacity: sensor.battery_wh}}\n    forecast: {{type: home_assistant, service: ha, power_now: sensor.pv_now, power_next_hour: sensor.pv_next}}\ncontrollers:\n  - {{id: sim, type: simulated, power: 1200, boot_time: 0s}}\nminers:\n  - {{id: rig, power_max: 1200, controllers: [sim]}}\nhome_loads:\n  - id: house\n    forecast: naive_last_hour\n    devices:\n      - {{name: boiler, category: controllable, service: ha, power: sensor.boiler}}\nclimate_zones:\n  - name: bedroom\n    monitor: {{type: home_assistant, service: ha, temperature: sensor.bedroom}}\n    target: 20.5\n    hysteresis: 0.5\n    schedule: [{{from: \"22:00\", to: \"06:30\", target: 18}}]\nunits:\n  - {{id: home, energy_source: roof, miners: [rig], home_loads: house, climate_zones: [bedroom], {rules}}}\n",
            ha.url()
        ));
        let house = House { sandbox, ha };
        house.energy(3000.0, 50.0, -500.0, 1000.0);
        house.set("sensor.bedroom", 19.0, "°C");
        house.set("sensor.battery", 0.0, "W");
        house.set("sensor.battery_wh", 5000.0, "Wh");
        house
    }

    fn set(&self, entity: &str, value: f64, unit: &str) {
        self.ha.set(entity, &value.to_string(), Some(unit));
    }

    fn energy(&self, production: f64, soc: f64, grid: f64, forecast: f64) {
        self.set("sensor.pv", production, "W");
        self.set("sensor.soc", soc, "%");
        self.set("sensor.grid", grid, "W");
        self.set("sensor.pv_now", forecast, "W");
        self.set("sensor.pv_next", forecast, "W");
    }

    /// An hour of the house at `house` W with the boiler at `boiler` W, sampled by dry runs
    /// every 5 minutes, ending at `end`.
    fn hour_of(&self, end: i64, house: f64, boiler: f64) {
        self.set("sensor.house", house, "W");
        self.set("sensor.boiler", boiler, "W");
        for offset in (end - 3600..end).step_by(300) {
            let run = self.sandbox.run(&["run", "--dry-run", "--now", &at(offset)]);
            assert!(run.code <= 1, "{}\n{}", run.stdout, run.stderr);
        }
    }

    /// The decision at `offset` and the rule that made it.
    fn decide(&self, offset: i64) -> (String, String, Value) {
        let (run, report) = self.sandbox.cycle(&at(offset), &["--dry-run"]);
        assert!(run.code <= 1, "{}", run.stderr);
        let rig = miner(&report, "rig").clone();
        (rig["decision"].as_str().unwrap().into(), rig["reason"]["name"].as_str().unwrap_or("").into(), rig)
    }
}

fn rules_key() -> &'static str {
    "rules: {start: [home_load_start_rules.yaml], stop: [home_load_stop_rules.yaml]}"
}

#[test]
fn upstream_home_load_rules_load_unchanged_without_a_warning() {
    let house = House::new(rules_key());
    let validate = house.sandbox.run(&["validate", "--offline"]);
    assert_eq!(validate.code, 0, "{}{}", validate.stdout, validate.stderr);
    assert!(
        !validate.stdout.contains("always missing") && !validate.stderr.contains("always missing"),
        "{}",
        validate.stdout
    );
    assert!(validate.stdout.contains("0 warning(s)"), "{}", validate.stdout);
    // A device the profile does not have is an error, as any other typo.
    house.sandbox.write("home_load_start_rules.yaml", &HOME_LOAD_START.replace("devices.boiler", "devices.boilr"));
    let typo = house.sandbox.run(&["validate", "--offline"]);
    assert_ne!(typo.code, 0);
    assert!(
        typo.stdout.contains(
            "`home_load.devices.boilr.forecast.next_1h.peak_power` names no device of profile `house`; it has: boiler"
        ),
        "{}",
        typo.stdout
    );
}

#[test]
fn each_upstream_home_load_start_rule_fires_on_a_history_built_across_invocations() {
    let house = House::new(rules_key());
    // 400 W for the last hour: 800 Wh forecast for the next two hours (< 1000).
    house.hour_of(0, 400.0, 300.0);
    house.energy(1000.0, 45.0, 0.0, 500.0);
    let (decision, rule, rig) = house.decide(0);
    assert_eq!((decision.as_str(), rule.as_str()), ("start_mining", "Low Home Load Forecast"), "{}", rig);
    // 600 W: 1200 Wh (no longer low); the boiler at 100 W, 2.5 kW of sun, battery 55 %.
    // Three hours later (the samples of before hold 15 minutes at most):
    house.hour_of(3 * 3600, 600.0, 100.0);
    house.energy(2500.0, 55.0, -1500.0, 500.0);
    let (decision, rule, _) = house.decide(3 * 3600);
    assert_eq!((decision.as_str(), rule.as_str()), ("start_mining", "Low Boiler Forecast + Excess Solar"));
    // 700 W, the boiler at 600 W (not low), a good solar forecast, battery 50 %.
    house.hour_of(6 * 3600, 700.0, 600.0);
    house.energy(1800.0, 50.0, -300.0, 2000.0);
    let (decision, rule, rig) = house.decide(6 * 3600);
    assert_eq!((decision.as_str(), rule.as_str()), ("start_mining", "Low Historical Load + Good Forecast"));
    // The context carries the windows: next_2h holds exactly two hours.
    let context = house.sandbox.run(&["context", "--miner", "rig", "--now", &at(6 * 3600)]);
    let context: Value = serde_json::from_str(&context.stdout).unwrap();
    assert_eq!(context["home_load"]["total_history"]["last_1h"]["avg_power"], 700.0, "{}", context["home_load"]);
    assert_eq!(context["home_load"]["total_forecast"]["next_2h"]["total_energy"], 1400.0);
    assert_eq!(context["home_load"]["devices"]["boiler"]["device_category"], "controllable");
    assert_eq!(context["home_load"]["devices"]["boiler"]["history"]["last_1h"]["peak_power"], 600.0);
    assert!(rig["errors"].as_array().unwrap().is_empty(), "{rig}");
}

#[test]
fn each_upstream_home_load_stop_rule_fires_on_a_history_built_across_invocations() {
    let house = House::new(rules_key());
    assert_eq!(house.sandbox.run(&["miner", "start", "rig", "--now", &at(-7200)]).code, 0);
    house.hour_of(0, 2600.0, 300.0);
    house.energy(3000.0, 65.0, 0.0, 2000.0);
    let (decision, rule, rig) = house.decide(0);
    assert_eq!((decision.as_str(), rule.as_str()), ("stop_mining", "High Home Load Forecast"), "{rig}");
    house.hour_of(3 * 3600, 1500.0, 2100.0);
    house.energy(3000.0, 55.0, 0.0, 2000.0);
    assert_eq!(house.decide(3 * 3600).1, "Boiler Peak + Low Battery");
    // 18:00 local (UTC here): an evening of 2.2 kW.
    house.hour_of(6 * 3600, 2200.0, 500.0);
    house.energy(1500.0, 70.0, 500.0, 200.0);
    assert_eq!(house.decide(6 * 3600).1, "Evening High Load History");
    // Back at noon the next day: 3.1 kW forecast on little sun, a full-ish battery.
    house.hour_of(86_400, 3100.0, 500.0);
    house.energy(800.0, 72.0, 2000.0, 500.0);
    let (decision, rule, _) = house.decide(86_400);
    assert_eq!((decision.as_str(), rule.as_str()), ("stop_mining", "Multiple Devices High Forecast"));
}

#[test]
fn each_rule_of_upstream_climate_policy_fires_and_heating_demand_holds_in_its_band() {
    let house = House::new("policy: climate_policy.yaml");
    let validate = house.sandbox.run(&["validate", "--offline"]);
    assert_eq!(validate.code, 0, "{}", validate.stdout);
    assert!(validate.stdout.contains("0 warning(s)"), "{}", validate.stdout);
    let start = |temperature: f64, production: f64, soc: f64, grid: f64, forecast: f64, offset: i64| {
        house.set("sensor.bedroom", temperature, "°C");
        house.set("sensor.house", 500.0, "W");
        house.set("sensor.boiler", 0.0, "W");
        house.energy(production, soc, grid, forecast);
        house.decide(offset)
    };
    assert_eq!(start(19.0, 4500.0, 50.0, -2500.0, 3000.0, 0).1, "Aggressive Heating During Peak Solar");
    assert_eq!(start(19.0, 2000.0, 50.0, -800.0, 3000.0, 60).1, "Heat Room with Solar Surplus");
    assert_eq!(start(19.0, 900.0, 90.0, 0.0, 1500.0, 120).1, "Heat Room with Battery Surplus");
    // 66 °F is 18.9 °C: still below the target, converted from the sensor's unit.
    house.set("sensor.bedroom", 66.0, "°F");
    let (_, _, rig) = house.decide(180);
    let context = house.sandbox.run(&["context", "--miner", "rig", "--now", &at(180)]);
    let context: Value = serde_json::from_str(&context.stdout).unwrap();
    assert_eq!(context["climate"]["zones"]["bedroom"]["temperature_celsius"], 18.89, "{rig}");
    assert_eq!(context["climate"]["zones"]["bedroom"]["target_temperature"], 20.5);
    assert_eq!(context["climate"]["min_temperature"], 18.89);
    // Stop rules, with the miner on.
    assert_eq!(house.sandbox.run(&["miner", "start", "rig", "--now", &at(200)]).code, 0);
    let stop = |temperature: f64, production: f64, soc: f64, grid: f64, offset: i64| {
        house.set("sensor.bedroom", temperature, "°C");
        house.energy(production, soc, grid, 0.0);
        house.decide(offset)
    };
    assert_eq!(stop(21.0, 3000.0, 80.0, -500.0, 300).1, "Room Reached Target Temperature");
    assert_eq!(stop(19.0, 800.0, 50.0, 800.0, 360).1, "No More Solar Surplus");
    assert_eq!(stop(19.0, 800.0, 15.0, 0.0, 420).1, "Battery Protection");
    assert_eq!(stop(19.0, 300.0, 65.0, 0.0, 6 * 3600).1, "Evening Battery Reserve");
    // The thermostat: on below 20.0 °C, unchanged between 20.0 and 21.0, off above 21.0 —
    // across invocations, each run reading what the last one left.
    let demand = |temperature: f64, offset: i64| {
        house.set("sensor.bedroom", temperature, "°C");
        let run = house.sandbox.run(&["run", "--dry-run", "--now", &at(offset)]);
        assert!(run.code <= 1, "{}", run.stderr);
        let context = house.sandbox.run(&["context", "--miner", "rig", "--now", &at(offset)]);
        let context: Value = serde_json::from_str(&context.stdout).unwrap();
        context["climate"]["zones"]["bedroom"]["heating_demand"].clone()
    };
    assert_eq!(demand(19.8, 7 * 3600), true);
    assert_eq!(demand(20.7, 7 * 3600 + 300), true, "inside the band: still heating");
    assert_eq!(demand(21.2, 7 * 3600 + 600), false);
    assert_eq!(demand(20.2, 7 * 3600 + 900), false, "inside the band: still satisfied");
    // 23:00 is in the night slot: target 18 °C.
    house.set("sensor.bedroom", 19.0, "°C");
    let night = house.sandbox.run(&["context", "--miner", "rig", "--now", &at(11 * 3600)]);
    let night: Value = serde_json::from_str(&night.stdout).unwrap();
    assert_eq!(night["climate"]["zones"]["bedroom"]["target_temperature"], 18.0);
}

#[test]
fn the_home_load_rules_of_upstream_advanced_and_basic_files_fire() {
    const MONDAY: i64 = 86_400; // 2026-06-22, a Monday: no weekend rule
    let advanced = House::new("rules: {start: [advanced_start_rules.yaml], stop: [advanced_stop_rules.yaml]}");
    let basic = House::new("rules: {start: [basic_start_rules.yaml], stop: [basic_stop_rules.yaml]}");
    for house in [&advanced, &basic] {
        let validate = house.sandbox.run(&["validate", "--offline"]);
        assert_eq!(validate.code, 0, "{}", validate.stdout);
        // The one warning left is about Edge Mining's own `not_` semantics over a battery
        // that may be missing, never about a section that is always missing.
        let warnings: Vec<&str> = validate.stdout.lines().filter(|l| l.contains(": warning:")).collect();
        assert!(warnings.iter().all(|w| w.contains("`not_` is true when its field is missing")), "{}", validate.stdout);
        assert!(warnings.len() <= 1, "{}", validate.stdout);
    }
    // Monday noon, a quiet house: "Off-Peak Hours Mining".
    advanced.hour_of(MONDAY, 1000.0, 200.0);
    advanced.energy(3000.0, 65.0, -1500.0, 2500.0);
    assert_eq!(advanced.decide(MONDAY).1, "Off-Peak Hours Mining");
    // With the miner on: 18:00, 3 kW expected → "Peak Home Consumption Stop"; 20:00, 2.6 kW
    // expected while importing 2.2 kW on a low battery → "Economic Stop".
    assert_eq!(advanced.sandbox.run(&["miner", "start", "rig", "--now", &at(MONDAY + 3600)]).code, 0);
    advanced.hour_of(MONDAY + 6 * 3600, 3000.0, 500.0);
    advanced.energy(2000.0, 65.0, 0.0, 1000.0);
    assert_eq!(advanced.decide(MONDAY + 6 * 3600).1, "Peak Home Consumption Stop");
    advanced.hour_of(MONDAY + 8 * 3600, 2600.0, 500.0);
    advanced.energy(400.0, 35.0, 2200.0, 1000.0);
    assert_eq!(advanced.decide(MONDAY + 8 * 3600).1, "Economic Stop");
    // Basic: 18:00, 2.6 kW expected, no import → "High Home Consumption".
    assert_eq!(basic.sandbox.run(&["miner", "start", "rig", "--now", &at(MONDAY)]).code, 0);
    basic.hour_of(MONDAY + 6 * 3600, 2600.0, 500.0);
    basic.energy(2000.0, 70.0, 0.0, 1000.0);
    assert_eq!(basic.decide(MONDAY + 6 * 3600).1, "High Home Consumption");
}

#[test]
fn a_first_run_backfills_the_appliances_from_home_assistants_history() {
    let house = House::new(rules_key());
    house.sandbox.edit_config(|c| {
        c.replace("    forecast: naive_last_hour\n", "    forecast: naive_last_hour\n    backfill: true\n")
    });
    // The recorder has the boiler at 2.1 kW for the last three hours, a state change every
    // ten minutes, one of them `unavailable`.
    let points: Vec<(i64, &str)> =
        (0..18).map(|i| (NOON - 3 * 3600 + i * 600, if i == 5 { "unavailable" } else { "2.1" })).collect();
    house.ha.set_history("sensor.boiler", &points, "kW");
    house.set("sensor.boiler", 2100.0, "W");
    house.set("sensor.house", 1500.0, "W");
    assert_eq!(house.sandbox.run(&["miner", "start", "rig", "--now", &at(-7200)]).code, 0);
    house.energy(3000.0, 55.0, 0.0, 2000.0);
    // The very first cycle knows the boiler's last hour: the stop rule on its forecast fires.
    let (decision, rule, rig) = house.decide(0);
    assert_eq!((decision.as_str(), rule.as_str()), ("stop_mining", "Boiler Peak + Low Battery"), "{rig}");
    assert_eq!(house.ha.history_requests(), 1);
    // The backfill is kept: later cycles read the database, not the history API.
    house.decide(300);
    assert_eq!(house.ha.history_requests(), 1);
    let context = house.sandbox.run(&["context", "--miner", "rig", "--now", &at(600)]);
    let context: Value = serde_json::from_str(&context.stdout).unwrap();
    assert_eq!(context["home_load"]["devices"]["boiler"]["history"]["last_4h"]["avg_power"], 2100.0, "{context}");
}

#[test]
fn an_unavailable_thermometer_leaves_its_zone_out_and_says_so() {
    let house = House::new("policy: climate_policy.yaml");
    house.ha.set("sensor.bedroom", "unavailable", Some("°C"));
    house.set("sensor.house", 500.0, "W");
    house.set("sensor.boiler", 0.0, "W");
    let (run, report) = house.sandbox.cycle(&at(0), &["--dry-run"]);
    assert_eq!(run.code, 1, "a failed input is a degraded cycle");
    let errors = report["errors"].to_string();
    assert!(errors.contains("climate zone `bedroom`") && errors.contains("unavailable"), "{errors}");
    // No zone was read: `climate` is missing, and the rules over it are false.
    assert_eq!(miner(&report, "rig")["decision"], "maintain_state");
    let context = house.sandbox.run(&["context", "--miner", "rig", "--now", &at(0)]);
    let context: Value = serde_json::from_str(&context.stdout).unwrap();
    assert!(context.get("climate").is_none(), "{context}");
}

/// Where the monitor reads no house load, the total is the sum of the devices (upstream
/// averages their samples: 1000 W and 200 W gave it 600 W).
#[test]
fn without_a_house_load_sensor_the_total_is_the_sum_of_the_devices() {
    let house = House::new(rules_key());
    house.sandbox.edit_config(|c| {
        c.replace("consumption: sensor.house, ", "").replace(
            "      - {name: boiler, category: controllable, service: ha, power: sensor.boiler}\n",
            "      - {name: boiler, category: controllable, service: ha, power: sensor.boiler}\n      - {name: pump, category: seasonal, service: ha, power: sensor.pump}\n",
        )
    });
    house.set("sensor.pump", 200.0, "W");
    house.hour_of(0, 999.0, 1000.0);
    let context = house.sandbox.run(&["context", "--miner", "rig", "--now", &at(0)]);
    let context: Value = serde_json::from_str(&context.stdout).unwrap();
    let home_load = &context["home_load"];
    assert_eq!(home_load["total_history"]["last_1h"]["avg_power"], 1200.0, "{home_load}");
    assert_eq!(home_load["total_history"]["last_1h"]["total_energy"], 1200.0);
    assert_eq!(home_load["devices"]["pump"]["history"]["last_1h"]["avg_power"], 200.0);
    assert_eq!(home_load["total_forecast"]["next_2h"]["total_energy"], 2400.0, "two hours of 1.2 kW");
}

/// The other rules of upstream's advanced and basic files fire too, each when only its
/// conditions hold.
#[test]
fn every_other_rule_of_upstream_advanced_and_basic_files_fires() {
    const SUNDAY: i64 = 0; // NOON is Sunday 2026-06-21 12:00 UTC
    const MONDAY: i64 = 86_400;
    let advanced = House::new("rules: {start: [advanced_start_rules.yaml], stop: [advanced_stop_rules.yaml]}");
    let basic = House::new("rules: {start: [basic_start_rules.yaml], stop: [basic_stop_rules.yaml]}");
    let fires = |house: &House, offset: i64, (production, soc, grid, forecast): (f64, f64, f64, f64)| {
        house.energy(production, soc, grid, forecast);
        house.set("sensor.house", 500.0, "W");
        house.decide(offset).1
    };
    // Start rules, the miners off.
    assert_eq!(fires(&advanced, SUNDAY, (3000.0, 75.0, -500.0, 2500.0)), "Smart Weekend Mining (On-Grid)");
    advanced.hour_of(MONDAY, 2500.0, 300.0); // a busy house: "Off-Peak Hours Mining" does not hold
    assert_eq!(fires(&advanced, MONDAY, (2000.0, 90.0, -300.0, 1000.0)), "Economic Opportunity Mining");
    assert_eq!(fires(&basic, MONDAY, (3500.0, 60.0, -2000.0, 1000.0)), "Priority Solar Mining");
    assert_eq!(fires(&basic, MONDAY + 60, (2000.0, 60.0, -500.0, 2500.0)), "High Solar + Low Battery");
    assert_eq!(fires(&basic, MONDAY + 120, (2000.0, 96.0, -800.0, 1000.0)), "Battery Full + Excess Solar (On-Grid)");
    assert_eq!(fires(&basic, MONDAY + 180, (2000.0, 96.0, 0.0, 2500.0)), "Battery Full + Excess Solar (Off-Grid)");
    assert_eq!(fires(&basic, SUNDAY, (2000.0, 60.0, 0.0, 1800.0)), "Weekend High Production");
    // Stop rules, the miners on.
    for house in [&advanced, &basic] {
        assert_eq!(house.sandbox.run(&["miner", "start", "rig", "--now", &at(2 * MONDAY)]).code, 0);
    }
    let day = 2 * MONDAY; // Tuesday
    assert_eq!(fires(&advanced, day + 60, (2000.0, 10.0, 0.0, 2000.0)), "Critical Battery Protection");
    assert_eq!(fires(&advanced, day + 120, (2000.0, 50.0, 3000.0, 2000.0)), "Grid Import Limit Protection");
    assert_eq!(fires(&advanced, day + 15 * 3600, (2000.0, 80.0, 0.0, 2000.0)), "Maintenance Window Stop");
    assert_eq!(fires(&advanced, day + 180, (1000.0, 45.0, 0.0, 500.0)), "Weather-Based Stop");
    assert_eq!(fires(&basic, day + 60, (2000.0, 15.0, 0.0, 2000.0)), "Low Battery Stop");
    assert_eq!(fires(&basic, day + 120, (2000.0, 60.0, 500.0, 2000.0)), "Grid Import Limit");
    assert_eq!(fires(&basic, day + 15 * 3600, (2000.0, 60.0, 0.0, 2000.0)), "Maintenance Window");
    assert_eq!(fires(&basic, day + 19 * 3600, (2000.0, 60.0, 0.0, 2000.0)), "Quiet Window");
}
