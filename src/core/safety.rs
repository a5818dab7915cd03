//! Safety limits (SPEC §7.5 step 1): read off the context, before and above the rules.

use serde_json::Value;

use serde::Deserialize;

use crate::duration::Span;

/// A unit's safety limits (`safety:`): stops whatever the rules say.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Safety {
    /// °C: a miner whose hottest chip is above it is stopped.
    pub max_chip_temperature: Option<f64>,
    /// °C: a miner whose inlet air is above it is stopped.
    pub max_inlet_temperature: Option<f64>,
    /// %: below it the unit's miners stop.
    pub min_battery_soc: Option<f64>,
    /// W: importing more than this from the grid stops miners.
    pub max_grid_import: Option<f64>,
    /// Energy data older than this (or none) stops miners.
    pub stale_energy_after: Option<Span>,
    /// Pool data older than this (or none) stops miners.
    pub stale_pool_after: Option<Span>,
}

/// How a unit stops a miner.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StopMode {
    #[default]
    Sleep,
    PowerOff,
    SleepThenPowerOff,
}

/// A limit on one reading: (name, configured limit, the keys down to the reading, unit, is a maximum).
type Limit<'a> = (&'a str, Option<f64>, &'a [&'a str], &'a str, bool);

/// The first limit the context violates, named as in the config, with the reading.
pub fn violated(safety: &Safety, context: &Value) -> Option<String> {
    let number = |path: &[&str]| path.iter().try_fold(context, |node, key| node.get(key)).and_then(Value::as_f64);
    let limits: [Limit; 4] = [
        (
            "max_chip_temperature",
            safety.max_chip_temperature,
            &["miner_state", "max_chip_temperature", "value"],
            "°C",
            true,
        ),
        (
            "max_inlet_temperature",
            safety.max_inlet_temperature,
            &["miner_state", "inlet_temperature", "value"],
            "°C",
            true,
        ),
        ("min_battery_soc", safety.min_battery_soc, &["energy_state", "battery", "state_of_charge"], "%", false),
        ("max_grid_import", safety.max_grid_import, &["energy_state", "grid", "importing_power"], "W", true),
    ];
    for (name, limit, path, unit, is_max) in limits {
        // A limit that is not set costs no lookup.
        if let Some(limit) = limit
            && let Some(value) = number(path)
            && (if is_max { value > limit } else { value < limit })
        {
            let sign = if is_max { ">" } else { "<" };
            return Some(format!("{name} ({value} {unit} {sign} {limit} {unit})"));
        }
    }
    let ages = [
        ("stale_energy_after", safety.stale_energy_after, ["energy_state", "age"], "no energy reading"),
        ("stale_pool_after", safety.stale_pool_after, ["mining_performance", "age"], "no pool data"),
    ];
    for (name, limit, path, missing) in ages {
        let Some(limit) = limit else { continue };
        match number(&path) {
            None => return Some(format!("{name} ({missing})")),
            Some(age) if age > limit.as_secs_f64() => return Some(format!("{name} ({age} s old)")),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::duration::Span;
    use serde_json::json;

    #[test]
    fn names_the_limit_that_is_violated() {
        let safety = Safety { max_chip_temperature: Some(85.0), min_battery_soc: Some(20.0), ..Safety::default() };
        let hot = json!({"miner_state": {"max_chip_temperature": {"value": 91.0}}});
        assert!(violated(&safety, &hot).unwrap().starts_with("max_chip_temperature"));
        let low = json!({"energy_state": {"battery": {"state_of_charge": 12.0}}});
        assert!(violated(&safety, &low).unwrap().starts_with("min_battery_soc"));
        let fine = json!({"miner_state": {"max_chip_temperature": {"value": 70.0}}, "energy_state": {"battery": {"state_of_charge": 60.0}}});
        assert_eq!(violated(&safety, &fine), None);
    }

    #[test]
    fn stale_or_missing_inputs_violate_their_limits() {
        let safety = Safety { stale_energy_after: Some(Span::secs(600)), ..Safety::default() };
        assert!(violated(&safety, &json!({})).unwrap().contains("no energy reading"));
        assert!(violated(&safety, &json!({"energy_state": {"age": 900}})).is_some());
        assert!(violated(&safety, &json!({"energy_state": {"age": 60}})).is_none());
    }
}
