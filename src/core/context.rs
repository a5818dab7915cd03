//! The decisional context (SPEC §8): one JSON tree per miner per cycle, in the shape
//! Edge Mining rules read, built from plain inputs. `complete` adds the derived fields and
//! is shared with `rules eval`, so a captured context evaluates exactly as in a run.

use serde_json::{Map, Value, json};

use crate::core::economics::{EconomicsInputs, efficiency};
use crate::core::miner::Miner;
use crate::core::performance::{HASHRATE_DIGITS, significant};
use crate::core::reading::{EnergyReading, ForecastReading, MinerReading, MinerState};
use crate::core::source::SourceFacts;
use crate::core::sun::SunPosition;

/// Facts from the persisted history about a miner's switching (the `control` section).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ControlFacts {
    pub on_for: Option<i64>,
    pub off_for: Option<i64>,
    pub switches_today: u32,
    pub last_action: Option<String>,
    pub last_action_at: Option<String>,
    pub pending: bool,
    /// The pending command is a start (not in the context: it feeds `surplus_for_miner`).
    pub pending_start: bool,
}

/// Everything one miner's context is made of.
pub struct ContextInputs<'a> {
    pub now: i64,
    /// The cycle's instant as RFC 3339 in the configured zone.
    pub timestamp: String,
    pub source: SourceFacts<'a>,
    pub energy: Option<&'a EnergyReading>,
    pub forecast: Option<&'a ForecastReading>,
    pub sun: Option<SunPosition>,
    pub miner: &'a Miner,
    pub state: &'a MinerState,
    pub performance: Option<Value>,
    pub control: &'a ControlFacts,
    /// Prices and market facts, with tariffs configured.
    pub economics: Option<&'a EconomicsInputs>,
    /// The power of the unit's other miners that are on or starting, the starts decided
    /// earlier in the cycle included (see [`committed_power`]).
    pub others_power: f64,
    /// The unit's `home_load` and `climate` sections (SPEC §18), when it has them.
    pub home_load: Option<&'a Value>,
    pub climate: Option<&'a Value>,
    /// This miner's `allocation` section before the rules decide (SPEC §17.4).
    pub allocation: Option<&'a Value>,
    pub format_instant: &'a dyn Fn(i64) -> String,
}

pub fn build(inputs: &ContextInputs) -> Value {
    let mut context = Map::new();
    context.insert("timestamp".into(), Value::String(inputs.timestamp.clone()));
    context.insert("energy_source".into(), energy_source(inputs.source));
    if let Some(energy) = inputs.energy {
        context.insert("energy_state".into(), energy_state(energy, inputs));
    }
    if let Some(forecast) = inputs.forecast {
        context.insert("forecast".into(), forecast_section(forecast, inputs.now, inputs.format_instant));
    }
    if let Some(sun) = inputs.sun {
        context.insert("sun".into(), serde_json::to_value(sun).unwrap_or(Value::Null));
    }
    context.insert("miner".into(), miner_section(inputs.miner, &inputs.state.reading));
    let efficiency = efficiency(
        inputs.state.reading.power,
        inputs.state.reading.hashrate,
        (inputs.miner.power_max, inputs.miner.hashrate_max),
    );
    let mut state = miner_state(inputs.state);
    if let (Some(jth), Some(map)) = (efficiency, state.as_object_mut()) {
        map.insert("efficiency".into(), json!((jth * 1000.0).round() / 1000.0));
    }
    context.insert("miner_state".into(), state);
    if let Some(economics) = inputs.economics {
        context.insert("economics".into(), crate::core::economics::section(economics, efficiency));
    }
    if let Some(performance) = &inputs.performance {
        context.insert("mining_performance".into(), performance.clone());
    }
    context.insert("control".into(), control_section(inputs.control));
    if let Some(home_load) = inputs.home_load {
        context.insert("home_load".into(), home_load.clone());
    }
    if let Some(climate) = inputs.climate {
        context.insert("climate".into(), climate.clone());
    }
    if let Some(allocation) = inputs.allocation {
        context.insert("allocation".into(), allocation.clone());
    }
    let mut context = Value::Object(context);
    complete(&mut context);
    if let Some(energy) = context.get_mut("energy_state").and_then(Value::as_object_mut)
        && let Some(surplus) = energy.get("surplus_power").and_then(Value::as_f64)
    {
        energy.insert("surplus_for_miner".into(), json!(round3(surplus - inputs.others_power)));
    }
    context
}

/// What the stages after the rules read of a miner's context (allocation, metrics, MQTT):
/// kept when the context itself is not, so that a cycle does not hold one tree per miner
/// to its end (about 10 KiB each).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContextFacts {
    /// `miner_state.efficiency`, J/TH.
    pub efficiency: Option<f64>,
    /// `miner_state.max_chip_temperature.value`, °C.
    pub chip_temperature: Option<f64>,
    /// `miner_state.power_target`, W.
    pub power_target: Option<f64>,
    /// `economics.revenue_per_kwh`, in the tariff currency.
    pub revenue_per_kwh: Option<f64>,
}

impl ContextFacts {
    pub fn of(context: &Value) -> ContextFacts {
        let number = |pointer: &str| context.pointer(pointer).and_then(Value::as_f64);
        ContextFacts {
            efficiency: number("/miner_state/efficiency"),
            chip_temperature: number("/miner_state/max_chip_temperature/value"),
            power_target: number("/miner_state/power_target"),
            revenue_per_kwh: number("/economics/revenue_per_kwh"),
        }
    }
}

/// The power a miner takes from the unit's budget (SPEC §17.1): measured while it is on,
/// else its target, else `power_max`; a miner starting, or about to, is counted with what it
/// will draw (its target, else `power_max`) unless it already draws more (SPEC §24).
pub fn committed_power(miner: &Miner, reading: &MinerReading, starting: bool) -> f64 {
    let expected = reading.power_target.and_then(|t| t.watts).or(miner.power_max);
    let watts = match (starting, reading.power, expected) {
        (true, Some(measured), Some(expected)) => measured.max(expected),
        (true, measured, expected) => expected.or(measured).unwrap_or(0.0),
        (false, measured, expected) => measured.or(expected).unwrap_or(0.0),
    };
    watts.max(0.0)
}

/// A miner's (power_min, power_max): the lower of the configured and the detected maximum
/// (SPEC §24); the configured minimum, else the detected bound, else half the maximum.
pub fn power_range(miner: &Miner, reading: &MinerReading) -> (Option<f64>, Option<f64>) {
    let bound = reading.power_target.and_then(|t| t.max).filter(|w| *w > 0.0);
    let detected = bound.or(reading.max_power.filter(|w| *w > 0.0));
    let power_max = match (miner.power_max, detected) {
        (Some(configured), Some(detected)) => Some(configured.min(detected)),
        (configured, detected) => configured.or(detected),
    };
    let bound = reading.power_target.and_then(|t| t.min);
    let power_min = miner.power_min.or(bound).or(power_max.map(|w| w / 2.0));
    (power_min, power_max)
}

/// Drops nulls so that a missing value is missing, not `null`, in printed contexts.
fn object(pairs: Vec<(&str, Value)>) -> Value {
    Value::Object(pairs.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.to_string(), v)).collect())
}

fn number(value: Option<f64>) -> Value {
    value.filter(|v| v.is_finite()).map_or(Value::Null, |v| json!(round3(v)))
}

fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

fn energy_source(source: SourceFacts) -> Value {
    object(vec![
        ("id", json!(source.id)),
        ("name", json!(source.name.unwrap_or(source.id))),
        ("type", json!(source.source_type.name())),
        ("nominal_power_max", number(source.nominal_power_max)),
        ("storage", source.storage_capacity.map_or(Value::Null, |c| json!({"nominal_capacity": c}))),
    ])
}

fn energy_state(energy: &EnergyReading, inputs: &ContextInputs) -> Value {
    let battery = object(vec![
        ("state_of_charge", number(energy.battery_soc.map(|soc| soc.clamp(0.0, 100.0)))),
        ("remaining_capacity", number(energy.battery_remaining)),
        ("current_power", number(energy.battery_power)),
    ]);
    object(vec![
        ("production", number(energy.production)),
        ("consumption", energy.consumption.map_or(Value::Null, |c| json!({"current_power": round3(c)}))),
        ("battery", if battery.as_object().is_some_and(Map::is_empty) { Value::Null } else { battery }),
        ("grid", energy.grid.map_or(Value::Null, |g| json!({"current_power": round3(g)}))),
        ("age", json!((inputs.now - energy.at).max(0))),
        ("timestamp", json!((inputs.format_instant)(energy.at))),
    ])
}

fn forecast_section(forecast: &ForecastReading, now: i64, format: &dyn Fn(i64) -> String) -> Value {
    object(vec![
        ("next_hour_power", number(forecast.next_hour_power)),
        ("avg_next_4_hours_power", number(forecast.avg_next_4_hours_power)),
        ("next_hour_energy", number(forecast.next_hour_energy)),
        ("age", json!((now - forecast.at).max(0))),
        ("timestamp", json!(format(forecast.at))),
    ])
}

/// The miner's config, with its detected maxima where the config gives none: the configured
/// `hashrate_max`, else the nameplate the firmware reports; the lower of the configured and
/// the detected `power_max` (SPEC §24).
fn miner_section(miner: &Miner, reading: &MinerReading) -> Value {
    let (power_min, power_max) = power_range(miner, reading);
    let hashrate_max = miner.hashrate_max.or(reading.max_hashrate.filter(|h| *h > 0.0));
    object(vec![
        ("id", json!(miner.id)),
        ("name", json!(miner.name.clone().unwrap_or_else(|| miner.id.clone()))),
        ("model", miner.model.as_ref().map_or(Value::Null, |m| json!(m))),
        ("power_max", number(power_max)),
        ("power_min", number(power_min)),
        ("hashrate_max", number(hashrate_max)),
        ("active", json!(miner.active)),
    ])
}

fn miner_state(state: &MinerState) -> Value {
    let reading = &state.reading;
    let wrap = |v: Option<f64>| v.filter(|v| v.is_finite()).map_or(Value::Null, |v| json!({"value": round3(v)}));
    object(vec![
        ("status", json!(state.status.name())),
        (
            "hash_rate",
            reading
                .hashrate
                .filter(|v| v.is_finite())
                .map_or(Value::Null, |v| json!({"value": significant(v, HASHRATE_DIGITS), "unit": "TH/s"})),
        ),
        ("power_consumption", number(reading.power)),
        ("inlet_temperature", wrap(reading.inlet_temperature)),
        ("outlet_temperature", wrap(reading.outlet_temperature)),
        ("internal_fan_speed", reading.internal_fans.as_ref().map_or(Value::Null, |fans| json!(fans))),
        ("external_fan_speed", wrap(reading.external_fan)),
        ("hashboards", reading.hashboards.as_ref().map_or(Value::Null, |boards| json!(boards))),
        ("blocks_found", reading.blocks_found.map_or(Value::Null, |b| json!(b))),
        ("system_uptime", reading.uptime.map_or(Value::Null, |u| json!(u))),
        ("power_target", reading.power_target.and_then(|t| t.watts).map_or(Value::Null, |w| json!(w))),
        (
            "power_target_bounds",
            reading
                .power_target
                .filter(|t| t.min.is_some() || t.max.is_some())
                .map_or(Value::Null, |t| object(vec![("min", number(t.min)), ("max", number(t.max))])),
        ),
        ("sources", if state.sources.is_empty() { Value::Null } else { json!(state.sources) }),
    ])
}

fn control_section(control: &ControlFacts) -> Value {
    object(vec![
        ("on_for", control.on_for.map_or(Value::Null, |s| json!(s))),
        ("off_for", control.off_for.map_or(Value::Null, |s| json!(s))),
        ("switches_today", json!(control.switches_today)),
        ("last_action", control.last_action.as_ref().map_or(Value::Null, |a| json!(a))),
        ("last_action_at", control.last_action_at.as_ref().map_or(Value::Null, |a| json!(a))),
        ("pending", json!(control.pending)),
    ])
}

/// Computes the derived fields from the base fields present (SPEC §7.6, §8).
pub fn complete(context: &mut Value) {
    if let Some(energy) = context.get_mut("energy_state") {
        derive_energy(energy);
    }
    if let Some(state) = context.get_mut("miner_state") {
        derive_temperatures(state);
    }
}

fn get_f64(value: &Value, path: &[&str]) -> Option<f64> {
    path.iter().try_fold(value, |v, key| v.get(key))?.as_f64()
}

fn derive_energy(energy: &mut Value) {
    let surplus = match (get_f64(energy, &["production"]), get_f64(energy, &["consumption", "current_power"])) {
        (Some(production), Some(consumption)) => Some(round3(production - consumption)),
        _ => None,
    };
    if let (Some(surplus), Some(map)) = (surplus, energy.as_object_mut()) {
        map.insert("surplus_power".into(), json!(surplus));
        // A captured context without the unit's other miners: nothing else uses the surplus.
        map.entry("surplus_for_miner").or_insert(json!(surplus));
    }
    split_sign(energy, "battery", "charging_power", "discharging_power");
    split_sign(energy, "grid", "importing_power", "exporting_power");
}

/// `current_power` → its positive part and its negated negative part.
fn split_sign(energy: &mut Value, section: &str, positive: &str, negative: &str) {
    let Some(map) = energy.get_mut(section).and_then(Value::as_object_mut) else { return };
    let Some(current) = map.get("current_power").and_then(Value::as_f64) else { return };
    map.insert(positive.into(), json!(round3(current.max(0.0))));
    map.insert(negative.into(), json!(round3((-current).max(0.0))));
}

fn derive_temperatures(state: &mut Value) {
    let Some(boards) = state.get("hashboards").and_then(Value::as_array) else { return };
    let collect =
        |key: &str| -> Vec<f64> { boards.iter().filter_map(|b| b.get(key).and_then(Value::as_f64)).collect() };
    let chips = collect("chip_temperature");
    let board_temps = collect("board_temperature");
    let Some(map) = state.as_object_mut() else { return };
    for (name, values) in [("chip", chips), ("board", board_temps)] {
        if values.is_empty() {
            continue;
        }
        let max = values.iter().copied().fold(f64::MIN, f64::max);
        let avg = (values.iter().sum::<f64>() / values.len() as f64 * 10.0).round() / 10.0;
        map.insert(format!("max_{name}_temperature"), json!({"value": max}));
        map.insert(format!("avg_{name}_temperature"), json!({"value": avg}));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_energy_fields_from_base_fields() {
        let mut context = json!({"energy_state": {
            "production": 4200.0, "consumption": {"current_power": 700.0},
            "battery": {"current_power": -300.0}, "grid": {"current_power": -1200.0}}});
        complete(&mut context);
        let energy = &context["energy_state"];
        assert_eq!(energy["surplus_power"], json!(3500.0));
        assert_eq!(energy["surplus_for_miner"], json!(3500.0));
        assert_eq!(energy["battery"]["charging_power"], json!(0.0));
        assert_eq!(energy["battery"]["discharging_power"], json!(300.0));
        assert_eq!(energy["grid"]["importing_power"], json!(0.0));
        assert_eq!(energy["grid"]["exporting_power"], json!(1200.0));
    }

    #[test]
    fn committed_power_counts_a_starting_miner_at_what_it_will_draw() {
        let miner: Miner = serde_json::from_value(json!({"id": "s19", "power_max": 3250.0})).unwrap();
        let running = MinerReading { power: Some(3010.0), ..MinerReading::default() };
        assert_eq!(committed_power(&miner, &running, false), 3010.0);
        assert_eq!(committed_power(&miner, &running, true), 3250.0);
        assert_eq!(committed_power(&miner, &MinerReading::default(), false), 3250.0);
        let targeted = MinerReading {
            power_target: Some(crate::core::reading::PowerTarget {
                watts: Some(2400.0),
                min: None,
                max: None,
                ..Default::default()
            }),
            ..MinerReading::default()
        };
        assert_eq!(committed_power(&miner, &targeted, true), 2400.0);
        let above = MinerReading { power: Some(2600.0), ..targeted };
        assert_eq!(committed_power(&miner, &above, true), 2600.0, "max(measured, target) while starting");
    }

    #[test]
    fn derives_temperature_aggregates() {
        let mut context = json!({"miner_state": {"hashboards": [
            {"index": 0, "chip_temperature": 70.0, "board_temperature": 60.0},
            {"index": 1, "chip_temperature": 75.5},
            {"index": 2, "chip_temperature": 72.0, "board_temperature": 61.0}]}});
        complete(&mut context);
        let state = &context["miner_state"];
        assert_eq!(state["max_chip_temperature"]["value"], json!(75.5));
        assert_eq!(state["avg_chip_temperature"]["value"], json!(72.5));
        assert_eq!(state["max_board_temperature"]["value"], json!(61.0));
        assert_eq!(state["avg_board_temperature"]["value"], json!(60.5));
    }

    #[test]
    fn missing_base_fields_leave_derived_fields_missing() {
        let mut context = json!({"energy_state": {"production": 100.0}, "miner_state": {"status": "off"}});
        complete(&mut context);
        assert!(context["energy_state"].get("surplus_power").is_none());
        assert!(context["miner_state"].get("max_chip_temperature").is_none());
    }

    #[test]
    fn the_facts_kept_are_read_where_the_builder_puts_them() {
        let reading = MinerReading {
            power: Some(3000.0),
            hashrate: Some(100.0),
            power_target: Some(crate::core::reading::PowerTarget { watts: Some(2900.0), ..Default::default() }),
            hashboards: Some(vec![crate::core::reading::Hashboard {
                chip_temperature: Some(81.0),
                ..Default::default()
            }]),
            ..MinerReading::default()
        };
        let state = MinerState { reading, ..MinerState::default() };
        let mut context = json!({"miner_state": miner_state(&state), "economics": {"revenue_per_kwh": 0.21}});
        context["miner_state"]["efficiency"] = json!(30.0);
        complete(&mut context);
        let facts = ContextFacts::of(&context);
        let expected = ContextFacts {
            efficiency: Some(30.0),
            chip_temperature: Some(81.0),
            power_target: Some(2900.0),
            revenue_per_kwh: Some(0.21),
        };
        assert_eq!(facts, expected);
        assert_eq!(ContextFacts::of(&json!({})), ContextFacts::default());
    }
}
