//! Table tests: integration, windows, and each forecast provider on a known week.

use super::*;

/// 2026-06-01 00:00 UTC, a Monday.
const MONDAY: i64 = 1_780_272_000;

/// The known week's power: distinct per (weekday, hour), never 0.
fn pattern(weekday: i64, hour: i64) -> f64 {
    (100 * (hour + 1) + 10 * weekday) as f64
}

/// A sample every 5 minutes from `from` for `hours` hours, following `pattern`.
fn week(from: i64, hours: i64) -> Vec<Sample> {
    (0..hours * 12)
        .map(|i| {
            let at = from + i * 300;
            let (day, hour) = ((at - MONDAY).div_euclid(86_400), (at - MONDAY).rem_euclid(86_400) / 3600);
            Sample { at, watts: pattern(day.rem_euclid(7), hour) }
        })
        .collect()
}

fn utc() -> TimeZone {
    TimeZone::UTC
}

#[test]
fn integration_is_time_weighted_and_a_sample_holds_at_most_15_minutes() {
    let samples = [Sample { at: 0, watts: 1000.0 }, Sample { at: 600, watts: 0.0 }, Sample { at: 3000, watts: 500.0 }];
    // 1000 W for 600 s, 0 W for 900 s (then uncovered until 3000), 500 W for 600 s.
    assert_eq!(integrate(&samples, 0, 3600), (Some((1000.0 * 600.0 + 500.0 * 600.0) / 2100.0), 2100));
    assert_eq!(integrate(&samples, 1600, 2900), (None, 0));
    assert_eq!(integrate(&[], 0, 3600), (None, 0));
}

#[test]
fn forecast_windows_hold_exactly_their_hours() {
    let values: Vec<f64> = (0..24).map(f64::from).collect();
    let section = forecast_section(&values).unwrap();
    assert_eq!(
        section["next_1h"],
        json!({"avg_power": 0.0, "peak_power": 0.0, "total_energy": 0.0, "avg_energy": 0.0})
    );
    assert_eq!(section["next_2h"]["total_energy"], 1.0, "two hours: 0 + 1 Wh");
    assert_eq!(section["next_6h"]["avg_power"], 2.5);
    assert_eq!(section["next_6h"]["peak_power"], 5.0);
    assert_eq!(section["next_12h"]["total_energy"], 66.0);
    assert_eq!(section["next_24h"]["total_energy"], section["total_energy"], "the whole series is 24 h");
    assert_eq!(section["total_energy"], 276.0);
}

#[test]
fn history_windows_count_back_from_now_and_empty_ones_are_missing() {
    let now = MONDAY + 7 * 86_400;
    let samples = week(MONDAY, 7 * 24);
    let section = history_section(&samples, now).unwrap();
    // The last hour is Sunday 23:00.
    assert_eq!(section["last_1h"]["avg_power"], pattern(6, 23));
    assert_eq!(section["last_1h"]["total_energy"], pattern(6, 23));
    let last_4h: f64 = (20..24).map(|h| pattern(6, h)).sum();
    assert_eq!(section["last_4h"]["total_energy"], last_4h);
    assert_eq!(section["last_4h"]["peak_power"], pattern(6, 23));
    assert_eq!(section["total_energy"], section["last_24h"]["total_energy"]);
    // Nothing in the last day: every window missing.
    assert_eq!(history_section(&samples, now + 2 * 86_400), None);
    // 20 minutes of the last hour covered (a 5-minute sample holds 5 minutes, the last 15):
    // a mean, but no energy below half coverage.
    let sparse = [Sample { at: now - 1200, watts: 800.0 }, Sample { at: now - 900, watts: 800.0 }];
    let section = history_section(&sparse, now).unwrap();
    assert_eq!(section["last_1h"]["avg_power"], 800.0);
    assert!(section["last_1h"].get("total_energy").is_none(), "{section}");
}

#[test]
fn each_provider_forecasts_the_known_week() {
    let now = MONDAY + 7 * 86_400; // the next Monday 00:00
    let samples = week(MONDAY, 7 * 24);
    let buckets = hourly(&samples, MONDAY, now, &utc());
    assert_eq!(buckets.len(), 168);
    let run = |provider| forecast(provider, &samples, &buckets, now, &utc()).unwrap();
    type Expected = Box<dyn Fn(i64) -> f64>;
    let cases: [(Provider, Expected); 4] = [
        (Provider::NaiveLastHour, Box::new(|_| pattern(6, 23))),
        (Provider::NaivePersistence, Box::new(|h| pattern(6, h))),
        (Provider::SeasonalBaseline, Box::new(|h| pattern(0, h))),
        (Provider::TypicalProfile, Box::new(|h| pattern(0, h))),
    ];
    for (provider, expected) in cases {
        let values = run(provider);
        assert_eq!(values.len(), 24, "{provider:?}");
        for (hour, value) in values.iter().enumerate() {
            assert_eq!(*value, expected(hour as i64), "{provider:?} hour {hour}");
        }
    }
}

#[test]
fn sparse_history_falls_back_and_still_gives_24_hours() {
    // Only Saturday and Sunday: no Monday slot, no Sunday for some hours.
    let now = MONDAY + 7 * 86_400;
    let samples = week(MONDAY + 5 * 86_400, 36); // Saturday 00:00 to Sunday 12:00
    let buckets = hourly(&samples, MONDAY, now, &utc());
    let overall = {
        let values: Vec<f64> = buckets.iter().filter_map(|b| b.mean).collect();
        values.iter().sum::<f64>() / values.len() as f64
    };
    let persistence = forecast(Provider::NaivePersistence, &samples, &buckets, now, &utc()).unwrap();
    assert_eq!(persistence[3], pattern(6, 3), "Sunday 03:00 is known");
    assert_eq!(persistence[20], overall, "Sunday 20:00 is not: the overall mean");
    for provider in [Provider::SeasonalBaseline, Provider::TypicalProfile] {
        let values = forecast(provider, &samples, &buckets, now, &utc()).unwrap();
        assert_eq!(values, vec![overall; 24], "{provider:?}: no Monday in history");
    }
    // Nothing at all: no forecast.
    for provider in
        [Provider::NaiveLastHour, Provider::NaivePersistence, Provider::SeasonalBaseline, Provider::TypicalProfile]
    {
        assert_eq!(forecast(provider, &[], &[], now, &utc()), None, "{provider:?}");
    }
}

#[test]
fn typical_profile_prefers_the_same_month_then_the_weekday() {
    // Mondays in May at 1000 W and in June at 2000 W (hour 10): a June Monday takes June's.
    let (may, june) = (1_779_667_200, MONDAY); // 2026-05-25 and 2026-06-01, both Mondays
    let at_ten = |day: i64, watts: f64| (0..12).map(move |i| Sample { at: day + 10 * 3600 + i * 300, watts });
    let samples: Vec<Sample> = at_ten(may, 1000.0).chain(at_ten(june, 2000.0)).collect();
    let buckets = hourly(&samples, may, june + 86_400, &utc());
    let next_monday = june + 7 * 86_400;
    assert_eq!(forecast(Provider::TypicalProfile, &samples, &buckets, next_monday, &utc()).unwrap()[10], 2000.0);
    // In July, no Monday of July: the (weekday, hour) mean of both.
    let july_monday = 1_783_296_000; // 2026-07-06
    assert_eq!(forecast(Provider::TypicalProfile, &samples, &buckets, july_monday, &utc()).unwrap()[10], 1500.0);
}

#[test]
fn hours_are_local_hours() {
    let zone = TimeZone::get("Europe/Rome").unwrap();
    // 22:00 UTC on Sunday is Monday 00:00 in Rome (summer, UTC+2).
    let samples = [Sample { at: MONDAY - 7200, watts: 700.0 }];
    let buckets = hourly(&samples, MONDAY - 7200, MONDAY - 3600, &zone);
    assert_eq!((buckets[0].weekday, buckets[0].hour), (0, 0));
    assert_eq!(buckets[0].mean, Some(700.0));
}
