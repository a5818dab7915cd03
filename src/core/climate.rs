//! The `climate` context section (SPEC §18.2): room temperatures against scheduled targets,
//! with upstream Edge Mining's schedule semantics and a persisted `heating_demand`
//! thermostat. Pure: the cycle passes readings, the local time and the last demand.

use serde::Deserialize;
use serde_json::{Map, Value, json};

/// One slot of a zone's schedule: `from` inclusive, `to` exclusive, wrapping midnight when
/// `from` is later than `to`; equal times make an empty slot.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Slot {
    /// "HH:MM", local time.
    pub from: String,
    pub to: String,
    /// °C.
    pub target: f64,
}

/// Minutes since local midnight of an "HH:MM" time.
pub fn minutes(text: &str) -> Option<u16> {
    let (hours, minutes) = text.split_once(':')?;
    let (hours, minutes): (u16, u16) = (hours.parse().ok()?, minutes.parse().ok()?);
    (hours < 24 && minutes < 60 && text.len() == 5).then_some(hours * 60 + minutes)
}

/// The target at `now` (minutes since local midnight): the first slot that holds, else the
/// default.
pub fn target(schedule: &[Slot], default: Option<f64>, now: u16) -> Option<f64> {
    let holds = |slot: &Slot| match (minutes(&slot.from), minutes(&slot.to)) {
        (Some(from), Some(to)) if from < to => (from..to).contains(&now),
        (Some(from), Some(to)) if from > to => now >= from || now < to,
        _ => false,
    };
    schedule.iter().find(|slot| holds(slot)).map(|slot| slot.target).or(default)
}

/// The thermostat: true below target − hysteresis, false above target + hysteresis, the
/// previous value in between (false when there is none).
pub fn heating_demand(previous: Option<bool>, temperature: f64, target: f64, hysteresis: f64) -> bool {
    if temperature < target - hysteresis {
        true
    } else if temperature > target + hysteresis {
        false
    } else {
        previous.unwrap_or(false)
    }
}

/// A temperature in °C from `unit` (C, F, °F, K), rounded to 2 decimals.
pub fn celsius(value: f64, unit: Option<&str>) -> Option<f64> {
    let converted = match unit.map(|u| u.trim().trim_start_matches('°').to_ascii_uppercase()).as_deref() {
        None | Some("C" | "") => value,
        Some("F") => (value - 32.0) * 5.0 / 9.0,
        Some("K") => value - 273.15,
        Some(_) => return None,
    };
    converted.is_finite().then(|| (converted * 100.0).round() / 100.0)
}

/// One zone this cycle.
#[derive(Debug, Clone, PartialEq)]
pub struct ZoneReading {
    pub name: String,
    pub temperature: f64,
    /// %; out of 0–100 is no value.
    pub humidity: Option<f64>,
    pub target: Option<f64>,
    pub hysteresis: f64,
    /// Missing when the zone has no target.
    pub heating_demand: Option<bool>,
}

/// The section, or `None` when no zone was read.
pub fn section(zones: &[ZoneReading]) -> Option<Value> {
    if zones.is_empty() {
        return None;
    }
    let mut by_name = Map::new();
    for zone in zones {
        let mut fields = Map::new();
        fields.insert("temperature_celsius".into(), json!(zone.temperature));
        if let Some(humidity) = zone.humidity.filter(|h| (0.0..=100.0).contains(h)) {
            fields.insert("humidity".into(), json!(humidity));
        }
        if let Some(target) = zone.target {
            fields.insert("target_temperature".into(), json!(target));
        }
        fields.insert("hysteresis_celsius".into(), json!(zone.hysteresis));
        if let Some(demand) = zone.heating_demand {
            fields.insert("heating_demand".into(), json!(demand));
        }
        by_name.insert(zone.name.clone(), Value::Object(fields));
    }
    let temperatures: Vec<f64> = zones.iter().map(|z| z.temperature).collect();
    let min = temperatures.iter().copied().fold(f64::INFINITY, f64::min);
    let max = temperatures.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let avg = temperatures.iter().sum::<f64>() / temperatures.len() as f64;
    Some(json!({
        "zones": by_name,
        "min_temperature": min,
        "max_temperature": max,
        "avg_temperature": (avg * 100.0).round() / 100.0,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(from: &str, to: &str, target: f64) -> Slot {
        Slot { from: from.into(), to: to.into(), target }
    }

    #[test]
    fn a_slot_includes_its_start_excludes_its_end_and_may_wrap_midnight() {
        let schedule = [slot("22:00", "06:00", 18.0), slot("06:00", "09:00", 21.0), slot("05:00", "10:00", 25.0)];
        let at = |text: &str| target(&schedule, Some(20.0), minutes(text).unwrap());
        assert_eq!(at("23:00"), Some(18.0));
        assert_eq!(at("03:00"), Some(18.0));
        assert_eq!(at("06:00"), Some(21.0), "start inclusive, the first match wins");
        assert_eq!(at("09:00"), Some(25.0), "end exclusive: the next slot that holds");
        assert_eq!(at("10:00"), Some(20.0), "outside every slot: the default");
        assert_eq!(at("12:00"), Some(20.0));
        assert_eq!(target(&schedule, None, minutes("12:00").unwrap()), None);
        assert_eq!(target(&[], None, 0), None);
        assert_eq!(target(&[slot("08:00", "08:00", 30.0)], Some(19.0), minutes("08:00").unwrap()), Some(19.0));
    }

    #[test]
    fn the_thermostat_holds_inside_its_band() {
        let cases = [
            (None, 19.4, true),
            (Some(true), 20.0, true),
            (Some(false), 20.0, false),
            (None, 20.0, false),
            (Some(true), 20.6, false),
        ];
        for (previous, temperature, expected) in cases {
            assert_eq!(heating_demand(previous, temperature, 20.0, 0.5), expected, "{previous:?} {temperature}");
        }
    }

    #[test]
    fn temperatures_convert_to_celsius() {
        assert_eq!(celsius(68.0, Some("°F")), Some(20.0));
        assert_eq!(celsius(68.0, Some("F")), Some(20.0));
        assert_eq!(celsius(293.15, Some("K")), Some(20.0));
        assert_eq!(celsius(21.5, Some("°C")), Some(21.5));
        assert_eq!(celsius(21.5, None), Some(21.5));
        assert_eq!(celsius(21.5, Some("lux")), None);
    }

    #[test]
    fn the_section_has_zones_and_aggregates_or_is_missing() {
        assert_eq!(section(&[]), None);
        let zone = |name: &str, temperature: f64, humidity: Option<f64>| ZoneReading {
            name: name.into(),
            temperature,
            humidity,
            target: Some(20.0),
            hysteresis: 0.5,
            heating_demand: Some(true),
        };
        let value = section(&[zone("bedroom", 18.5, Some(150.0)), zone("office", 21.0, Some(40.0))]).unwrap();
        assert_eq!(value["zones"]["bedroom"]["temperature_celsius"], 18.5);
        assert!(value["zones"]["bedroom"].get("humidity").is_none(), "150 % is no value");
        assert_eq!(value["zones"]["office"]["humidity"], 40.0);
        assert_eq!(value["min_temperature"], 18.5);
        assert_eq!(value["max_temperature"], 21.0);
        assert_eq!(value["avg_temperature"], 19.75);
        assert_eq!(value["zones"]["bedroom"]["heating_demand"], true);
    }
}
