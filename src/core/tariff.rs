//! Electricity tariffs (SPEC §19): a price that is a number, a schedule of time slots in the
//! configured zone, or a sensor read each cycle.
//!
//! Schedules compare local wall time (SPEC §24): a slot that starts at a time that does not
//! exist that day (a DST gap) begins at the next valid instant, and `days` names the day a
//! slot starts, so an overnight slot `22:00–06:00` on `fri` still holds on Saturday at 05:00.

use jiff::Zoned;
use jiff::civil::{Time, Weekday};
use serde::Deserialize;

/// A unit's prices for electricity: what it pays to import and earns to feed in.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tariffs {
    /// The currency of every price (and of `economics.*`), e.g. `EUR`.
    pub currency: String,
    /// The import price per kWh.
    pub import: Option<Price>,
    /// The feed-in price per kWh.
    pub feed_in: Option<Price>,
}

/// A price per kWh: a number, a schedule, or a sensor.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum Price {
    /// The same price all the time.
    Fixed(f64),
    /// Time slots, the first that holds wins (a slot without `from`/`to` always holds).
    Slots(Vec<Slot>),
    /// The same, as `{schedule: [...]}`.
    Schedule { schedule: Vec<Slot> },
    /// A Home Assistant entity holding the price.
    Sensor { service: String, entity: String },
    /// A value in an HTTP JSON reply.
    Http {
        url: String,
        jsonpath: Option<String>,
        #[serde(default)]
        headers: std::collections::BTreeMap<String, String>,
    },
}

impl Price {
    /// The schedule of a price that has one.
    pub fn slots(&self) -> Option<&[Slot]> {
        match self {
            Price::Slots(slots) | Price::Schedule { schedule: slots } => Some(slots),
            _ => None,
        }
    }
}

/// One slot of a schedule: `{from: "07:00", to: "23:00", days: [mon, tue], price: 0.32}`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Slot {
    /// Local wall time the slot starts, `HH:MM`.
    pub from: Option<String>,
    /// Local wall time it ends (exclusive); before `from` means it ends the next day.
    pub to: Option<String>,
    /// The days a slot starts on (`mon`…`sun`); every day when absent.
    #[serde(default)]
    pub days: Vec<String>,
    pub price: f64,
}

/// `HH:MM` (or `HH:MM:SS`) as a wall time.
pub fn wall_time(text: &str) -> Result<Time, String> {
    text.trim().parse::<Time>().map_err(|_| format!("`{text}` is not a time of day (HH:MM)"))
}

/// A day name as the schedule writes it.
pub fn weekday(text: &str) -> Result<Weekday, String> {
    let day = match text.trim().to_ascii_lowercase().get(..3) {
        Some("mon") => Weekday::Monday,
        Some("tue") => Weekday::Tuesday,
        Some("wed") => Weekday::Wednesday,
        Some("thu") => Weekday::Thursday,
        Some("fri") => Weekday::Friday,
        Some("sat") => Weekday::Saturday,
        Some("sun") => Weekday::Sunday,
        _ => return Err(format!("`{text}` is not a day (mon, tue, wed, thu, fri, sat, sun)")),
    };
    Ok(day)
}

/// What is wrong with a schedule, if anything (for `validate`).
pub fn check(slots: &[Slot]) -> Result<(), String> {
    for (index, slot) in slots.iter().enumerate() {
        let place = |m: String| format!("slot {}: {m}", index + 1);
        for time in [&slot.from, &slot.to].into_iter().flatten() {
            wall_time(time).map_err(place)?;
        }
        if slot.from.is_some() != slot.to.is_some() {
            return Err(place("give both `from` and `to`, or neither".into()));
        }
        for day in &slot.days {
            weekday(day).map_err(place)?;
        }
        if !slot.price.is_finite() {
            return Err(place("the price must be a number".into()));
        }
    }
    Ok(())
}

/// The price of the first slot holding at `now` (a zoned instant in the configured zone).
pub fn price_at(slots: &[Slot], now: &Zoned) -> Option<f64> {
    slots.iter().find(|slot| holds(slot, now)).map(|slot| slot.price)
}

fn holds(slot: &Slot, now: &Zoned) -> bool {
    let on = |day: Weekday| slot.days.is_empty() || slot.days.iter().any(|d| weekday(d).ok() == Some(day));
    let (Some(from), Some(to)) = (slot.from.as_deref(), slot.to.as_deref()) else { return on(now.weekday()) };
    let (Ok(from), Ok(to)) = (wall_time(from), wall_time(to)) else { return false };
    let time = now.time();
    if from <= to {
        on(now.weekday()) && from <= time && time < to
    } else {
        // Overnight: the evening part on the day it starts, the morning part the day after.
        (time >= from && on(now.weekday())) || (time < to && on(now.weekday().wrapping_sub(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(from: &str, to: &str, days: &[&str], price: f64) -> Slot {
        Slot { from: Some(from.into()), to: Some(to.into()), days: days.iter().map(|d| d.to_string()).collect(), price }
    }

    fn at(text: &str) -> Zoned {
        text.parse().unwrap()
    }

    #[test]
    fn the_first_slot_that_holds_wins_and_a_slot_without_times_is_the_default() {
        let slots = vec![
            slot("07:00", "23:00", &["mon", "tue", "wed", "thu", "fri"], 0.32),
            Slot { from: None, to: None, days: vec![], price: 0.22 },
        ];
        assert_eq!(price_at(&slots, &at("2026-06-22T06:59:59+02:00[Europe/Rome]")), Some(0.22), "Monday, before");
        assert_eq!(price_at(&slots, &at("2026-06-22T07:00:00+02:00[Europe/Rome]")), Some(0.32), "Monday, at the start");
        assert_eq!(price_at(&slots, &at("2026-06-22T23:00:00+02:00[Europe/Rome]")), Some(0.22), "the end is exclusive");
        assert_eq!(price_at(&slots, &at("2026-06-21T12:00:00+02:00[Europe/Rome]")), Some(0.22), "Sunday");
    }

    #[test]
    fn overnight_slots_belong_to_the_day_they_start() {
        let slots = vec![slot("22:00", "06:00", &["fri"], 0.10)];
        assert_eq!(price_at(&slots, &at("2026-06-19T23:00:00+02:00[Europe/Rome]")), Some(0.10), "Friday night");
        assert_eq!(price_at(&slots, &at("2026-06-20T05:00:00+02:00[Europe/Rome]")), Some(0.10), "Saturday morning");
        assert_eq!(price_at(&slots, &at("2026-06-20T23:00:00+02:00[Europe/Rome]")), None, "Saturday night");
    }

    #[test]
    fn across_the_spring_dst_gap_a_slot_starting_in_the_gap_begins_at_the_next_valid_instant() {
        // Europe/Rome, 2026-03-29: 02:00 CET jumps to 03:00 CEST; 02:30 never happens.
        let slots = vec![slot("02:30", "05:00", &[], 0.12), Slot { from: None, to: None, days: vec![], price: 0.30 }];
        let before: Zoned = "2026-03-29T01:59:59+01:00[Europe/Rome]".parse().unwrap();
        assert_eq!(price_at(&slots, &before), Some(0.30));
        let next_valid = before.checked_add(jiff::Span::new().seconds(1)).unwrap();
        assert_eq!(next_valid.time(), wall_time("03:00").unwrap(), "the clock jumped");
        assert_eq!(price_at(&slots, &next_valid), Some(0.12), "the slot begins at the next valid instant");
        // Autumn, 2026-10-25: 03:00 CEST falls back to 02:00 CET; 02:30 happens twice, both in the slot.
        let first: Zoned = "2026-10-25T02:30:00+02:00[Europe/Rome]".parse().unwrap();
        let second: Zoned = "2026-10-25T02:30:00+01:00[Europe/Rome]".parse().unwrap();
        assert_eq!((price_at(&slots, &first), price_at(&slots, &second)), (Some(0.12), Some(0.12)));
        assert_eq!(second.timestamp().as_second() - first.timestamp().as_second(), 3600);
    }

    #[test]
    fn schedules_are_checked() {
        assert!(check(&[slot("7h", "23:00", &[], 0.3)]).unwrap_err().contains("not a time"));
        assert!(check(&[slot("07:00", "23:00", &["someday"], 0.3)]).unwrap_err().contains("not a day"));
        assert!(check(&[slot("07:00", "23:00", &["Mon", "sunday"], 0.3)]).is_ok());
    }
}
