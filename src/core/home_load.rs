//! The `home_load` context section (SPEC §18.1, §24): house and appliance history from
//! sampled power, the four non-ML forecast providers of upstream Edge Mining, and the
//! windows and aggregates rules read. Pure: the cycle passes the samples and the zone.
//!
//! A sample holds until the next one, for at most 15 minutes; means are time-weighted.
//! History is bucketed by local hour; windows are elapsed time from the cycle's instant:
//! `last_Nh` is the N hours before it, `next_Nh` the N hours after it, exactly.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// How long one sample stands for the power, at most (s).
pub const SAMPLE_HOLD: i64 = 900;
const HOUR: i64 = 3600;

/// One sampled power, W, at a Unix second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub at: i64,
    pub watts: f64,
}

/// The forecast algorithm of a home-load profile.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    /// The last hour's mean, repeated.
    NaiveLastHour,
    /// The same local hour yesterday.
    NaivePersistence,
    /// The mean of positive values per (weekday, hour).
    SeasonalBaseline,
    /// The mean per (month, weekday, hour), then (weekday, hour), then overall.
    #[default]
    TypicalProfile,
}

/// What a device is, as upstream names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Controllable,
    Continuous,
    Seasonal,
    Occasional,
}

/// The power over `[start, end)`: (time-weighted mean W, seconds covered by samples).
pub fn integrate(samples: &[Sample], start: i64, end: i64) -> (Option<f64>, i64) {
    let first = samples.partition_point(|s| s.at + SAMPLE_HOLD <= start);
    let (mut energy, mut covered) = (0.0, 0);
    for (i, sample) in samples.iter().enumerate().skip(first) {
        if sample.at >= end {
            break;
        }
        let until = samples.get(i + 1).map_or(sample.at + SAMPLE_HOLD, |next| next.at.min(sample.at + SAMPLE_HOLD));
        let overlap = until.min(end) - sample.at.max(start);
        if overlap > 0 {
            energy += sample.watts * overlap as f64;
            covered += overlap;
        }
    }
    ((covered > 0).then(|| energy / covered as f64), covered)
}

/// One hour of history in local time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    pub start: i64,
    /// Time-weighted mean W; `None` when no sample covers it.
    pub mean: Option<f64>,
    pub month: i8,
    /// Monday = 0.
    pub weekday: i8,
    pub hour: i8,
    /// Days since 1970-01-01 of its local date.
    pub day: i32,
}

/// Local calendar facts of an instant.
fn local(at: i64, zone: &TimeZone) -> Option<(i8, i8, i8, i32, i64)> {
    let zoned = Timestamp::from_second(at).ok()?.to_zoned(zone.clone());
    let hour_start = zoned.with().minute(0).second(0).subsec_nanosecond(0).build().ok()?;
    let day = zoned.date().since(jiff::civil::date(1970, 1, 1)).ok()?.get_days();
    let weekday = zoned.weekday().to_monday_zero_offset();
    Some((zoned.month(), weekday, zoned.hour(), day, hour_start.timestamp().as_second()))
}

/// The local hours from the one holding `from` to the one before `to`.
pub fn hourly(samples: &[Sample], from: i64, to: i64, zone: &TimeZone) -> Vec<Bucket> {
    let mut buckets = Vec::new();
    let Some((_, _, _, _, mut start)) = local(from, zone) else { return buckets };
    while start < to {
        let Some((month, weekday, hour, day, _)) = local(start, zone) else { break };
        let mean = integrate(samples, start, start + HOUR).0;
        buckets.push(Bucket { start, mean, month, weekday, hour, day });
        start += HOUR;
    }
    buckets
}

/// The four aggregates of a window of `hours` one-hour slices, each (mean W, seconds covered).
/// Missing when nothing covers it; the energies are missing below half coverage.
pub fn aggregate(slices: &[(Option<f64>, i64)]) -> Option<Value> {
    let covered: i64 = slices.iter().map(|(_, c)| c).sum();
    if covered == 0 {
        return None;
    }
    let weighted: f64 = slices.iter().filter_map(|(mean, c)| mean.map(|m| m * *c as f64)).sum();
    let avg_power = weighted / covered as f64;
    let peak_power = slices.iter().filter_map(|(mean, _)| *mean).fold(f64::MIN, f64::max);
    let hours = slices.len() as f64;
    let mut out = Map::new();
    out.insert("avg_power".into(), json!(round(avg_power)));
    out.insert("peak_power".into(), json!(round(peak_power)));
    if covered as f64 >= 0.5 * hours * HOUR as f64 {
        out.insert("total_energy".into(), json!(round(avg_power * hours)));
        out.insert("avg_energy".into(), json!(round(avg_power)));
    }
    Some(Value::Object(out))
}

fn round(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

pub const HISTORY_WINDOWS: [(&str, i64); 4] = [("last_1h", 1), ("last_4h", 4), ("last_12h", 12), ("last_24h", 24)];
pub const FORECAST_WINDOWS: [(&str, i64); 7] = [
    ("next_1h", 1),
    ("next_2h", 2),
    ("next_4h", 4),
    ("next_6h", 6),
    ("next_8h", 8),
    ("next_12h", 12),
    ("next_24h", 24),
];

/// A series section: the whole (24 h) aggregates, and each window's under its name.
fn series(windows: &[(&str, i64)], slice: impl Fn(i64) -> (Option<f64>, i64)) -> Option<Value> {
    let slices: Vec<(Option<f64>, i64)> = (0..24).map(slice).collect();
    let mut out = match aggregate(&slices)? {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    for (name, hours) in windows {
        if let Some(window) = aggregate(&slices[..*hours as usize]) {
            out.insert((*name).into(), window);
        }
    }
    Some(Value::Object(out))
}

/// `history`: the 24 hours before `now`, hour by hour backwards (slice 0 is the last hour).
pub fn history_section(samples: &[Sample], now: i64) -> Option<Value> {
    series(&HISTORY_WINDOWS, |k| integrate(samples, now - (k + 1) * HOUR, now - k * HOUR))
}

/// `forecast`: the 24 hourly values after `now`.
pub fn forecast_section(values: &[f64]) -> Option<Value> {
    if values.len() < 24 {
        return None;
    }
    series(&FORECAST_WINDOWS, |k| (Some(values[k as usize]), HOUR))
}

/// The provider's 24 hourly values from `now`, from local-hour `buckets` of history (oldest
/// first); `None` without the history it needs.
pub fn forecast(
    provider: Provider,
    samples: &[Sample],
    buckets: &[Bucket],
    now: i64,
    zone: &TimeZone,
) -> Option<Vec<f64>> {
    let known: Vec<(&Bucket, f64)> = buckets.iter().filter_map(|b| b.mean.map(|m| (b, m.max(0.0)))).collect();
    let mean = |values: &mut dyn Iterator<Item = f64>| {
        let (sum, count) = values.fold((0.0, 0usize), |(s, c), v| (s + v, c + 1));
        (count > 0).then(|| sum / count as f64)
    };
    let overall = mean(&mut known.iter().map(|(_, v)| *v));
    let hours: Vec<(i8, i8, i8, i32)> = (0..24)
        .filter_map(|k| local(now + k * HOUR, zone).map(|(month, weekday, hour, day, _)| (month, weekday, hour, day)))
        .collect();
    if hours.len() < 24 {
        return None;
    }
    let values: Vec<Option<f64>> = match provider {
        Provider::NaiveLastHour => {
            let baseline = integrate(samples, now - HOUR, now).0.map(|w| w.max(0.0)).or(overall)?;
            vec![Some(baseline); 24]
        }
        Provider::NaivePersistence => {
            let today = local(now, zone)?.3;
            hours
                .iter()
                .map(|(_, _, hour, _)| {
                    mean(&mut known.iter().filter(|(b, _)| b.day == today - 1 && b.hour == *hour).map(|(_, v)| *v))
                        .or(overall)
                })
                .collect()
        }
        Provider::SeasonalBaseline => {
            let positive: Vec<&(&Bucket, f64)> = known.iter().filter(|(_, v)| *v > 0.0).collect();
            let global = mean(&mut positive.iter().map(|(_, v)| *v))?;
            hours
                .iter()
                .map(|(_, weekday, hour, _)| {
                    let slot = positive.iter().filter(|(b, _)| b.weekday == *weekday && b.hour == *hour);
                    mean(&mut slot.map(|(_, v)| *v)).or(Some(global))
                })
                .collect()
        }
        Provider::TypicalProfile => hours
            .iter()
            .map(|(month, weekday, hour, _)| {
                let slot = |b: &Bucket| b.weekday == *weekday && b.hour == *hour;
                mean(&mut known.iter().filter(|(b, _)| slot(b) && b.month == *month).map(|(_, v)| *v))
                    .or_else(|| mean(&mut known.iter().filter(|(b, _)| slot(b)).map(|(_, v)| *v)))
                    .or(overall)
            })
            .collect(),
    };
    values.into_iter().collect()
}

#[cfg(test)]
mod tests;
