//! `forecast_solar`: the forecast.solar estimate API (by place, panel tilt, azimuth and kWp),
//! fetched through the cached, rate-limit-aware client: an estimate is kept for an hour.

use serde::Deserialize;
use serde_json::Value;

use crate::config::secret::Secret;
use crate::config::spec::{ComponentSettings, SettingsCheck, TypeInfo, Typed};
use crate::core::reading::ForecastReading;
use crate::energy::{Build, ForecastProvider, ForecastSettings};
use crate::transport::fetch::{Fetcher, Policy};
use crate::transport::http::Request;
use crate::transport::{Call, InputError};

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ForecastSolarConfig {
    /// Panel tilt, degrees from horizontal.
    pub declination: f64,
    /// Panel azimuth, degrees from south (−90 east, 90 west), as forecast.solar counts it.
    pub azimuth: f64,
    pub kwp: f64,
    /// Default `https://api.forecast.solar`.
    pub api_base_url: Option<String>,
    pub api_key: Option<Secret>,
}

const CACHE: Policy = Policy { ttl: 3600, min_interval: std::time::Duration::ZERO, max_stale: 6 * 3600 };

pub const TYPE: Typed<ForecastSolarConfig> = Typed::new(TypeInfo::new(
    "forecast_solar",
    "The forecast.solar API for the configured place and the panels' tilt, azimuth and size.",
    "{type: forecast_solar, declination: 30, azimuth: 0, kwp: 6}",
));

impl ComponentSettings for ForecastSolarConfig {
    fn check(&self, check: &mut SettingsCheck<'_>) {
        if !check.has_location {
            check.error("", "forecast_solar needs settings.latitude and settings.longitude");
        }
    }
}

impl ForecastSettings for ForecastSolarConfig {
    fn build<'a>(&'a self, build: &Build<'a>) -> Option<Box<dyn ForecastProvider + 'a>> {
        let zone = crate::core::time::time_zone(build.config.settings.timezone.as_deref()).ok()?;
        Some(Box::new(ForecastSolar::new(self, build.location(), zone, build.fetcher)))
    }
}

pub struct ForecastSolar<'a> {
    config: ForecastSolarConfig,
    place: (f64, f64),
    zone: jiff::tz::TimeZone,
    fetcher: &'a Fetcher,
}

impl<'a> ForecastSolar<'a> {
    pub fn new(
        config: &ForecastSolarConfig,
        place: (f64, f64),
        zone: jiff::tz::TimeZone,
        fetcher: &'a Fetcher,
    ) -> Self {
        ForecastSolar { config: config.clone(), place, zone, fetcher }
    }

    /// The request URL, and the cache key (the same without the API key).
    fn urls(&self) -> (String, String) {
        let base = self.config.api_base_url.as_deref().unwrap_or("https://api.forecast.solar").trim_end_matches('/');
        let c = &self.config;
        let path = format!("estimate/{}/{}/{}/{}/{}", self.place.0, self.place.1, c.declination, c.azimuth, c.kwp);
        let key = format!("{base}/{path}");
        match &c.api_key {
            Some(api_key) => (format!("{base}/{}/{path}", api_key.expose()), key),
            None => (key.clone(), key),
        }
    }
}

/// Watts by unix second, from `result.watts` (local times in the place's zone).
pub fn curve(reply: &Value, fallback: &jiff::tz::TimeZone) -> Vec<(i64, f64)> {
    let zone = reply
        .pointer("/message/info/timezone")
        .and_then(Value::as_str)
        .and_then(|name| jiff::tz::TimeZone::get(name).ok())
        .unwrap_or_else(|| fallback.clone());
    let Some(watts) = reply.pointer("/result/watts").and_then(Value::as_object) else { return Vec::new() };
    let mut points: Vec<(i64, f64)> = watts
        .iter()
        .filter_map(|(when, w)| {
            let local: jiff::civil::DateTime = when.replace(' ', "T").parse().ok()?;
            let at = local.to_zoned(zone.clone()).ok()?.timestamp().as_second();
            Some((at, w.as_f64()?.max(0.0)))
        })
        .collect();
    points.sort_by_key(|(at, _)| *at);
    points
}

/// Linear interpolation; zero outside the curve (night).
pub fn power_at(curve: &[(i64, f64)], at: i64) -> f64 {
    match curve.iter().position(|(t, _)| *t >= at) {
        Some(0) if curve[0].0 == at => curve[0].1,
        Some(0) | None => 0.0,
        Some(i) => {
            let ((t0, w0), (t1, w1)) = (curve[i - 1], curve[i]);
            w0 + (w1 - w0) * (at - t0) as f64 / (t1 - t0).max(1) as f64
        }
    }
}

fn mean_power(curve: &[(i64, f64)], from: i64, to: i64) -> f64 {
    let steps = 16;
    let total: f64 = (0..=steps).map(|i| power_at(curve, from + (to - from) * i / steps)).sum();
    (total / f64::from(steps as i32 + 1)).round()
}

impl ForecastProvider for ForecastSolar<'_> {
    fn read(&self, call: &Call) -> Result<ForecastReading, InputError> {
        let (url, key) = self.urls();
        let outcome = self.fetcher.get_keyed(&Request::get(&url), &key, &CACHE, call);
        let Some(fetched) = outcome.fetched else {
            return Err(InputError::invalid(format!(
                "forecast.solar: {}",
                outcome.problem.map(|p| p.to_string()).unwrap_or_default()
            )));
        };
        let curve = curve(&fetched.value, &self.zone);
        if curve.is_empty() {
            return Err(InputError::invalid("forecast.solar: the reply has no `result.watts`"));
        }
        let now = call.now;
        Ok(ForecastReading {
            next_hour_power: Some(power_at(&curve, now + 3600).round()),
            avg_next_4_hours_power: Some(mean_power(&curve, now, now + 4 * 3600)),
            next_hour_energy: Some(mean_power(&curve, now + 3600, now + 7200)),
            at: fetched.fetched_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn curve_in_the_places_zone_and_interpolation() {
        let reply = json!({"result": {"watts": {"2026-06-21 10:00:00": 1000, "2026-06-21 11:00:00": 2000}},
                           "message": {"info": {"timezone": "Europe/Rome"}}});
        let points = curve(&reply, &jiff::tz::TimeZone::UTC);
        let ten_rome = crate::core::time::parse_instant("2026-06-21T08:00:00Z").unwrap().as_second();
        assert_eq!(points[0], (ten_rome, 1000.0));
        assert_eq!(power_at(&points, ten_rome + 1800), 1500.0);
        assert_eq!(power_at(&points, ten_rome - 1), 0.0);
        assert_eq!(power_at(&points, ten_rome + 7200), 0.0);
        assert_eq!(power_at(&points, ten_rome), 1000.0);
    }
}
