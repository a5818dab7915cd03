//! The position of the sun (NOAA's solar position equations) for `sun.*` in the context
//! and for the simulated PV curve. Accurate to a fraction of a degree, which is plenty here.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SunPosition {
    /// Degrees above the horizon (negative at night).
    pub elevation: f64,
    /// Degrees clockwise from north.
    pub azimuth: f64,
    pub is_day: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minutes_to_sunset: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minutes_since_sunrise: Option<i64>,
}

/// The sun seen from `latitude`, `longitude` (degrees) at unix second `at`.
pub fn position(latitude: f64, longitude: f64, at: i64) -> SunPosition {
    let orbit = Orbit::at(at);
    let minutes_of_day = at.rem_euclid(86_400) as f64 / 60.0;
    let true_solar_time = minutes_of_day + orbit.equation_of_time + 4.0 * longitude;
    let hour_angle = (true_solar_time / 4.0 - 180.0).to_radians();
    let (lat, decl) = (latitude.to_radians(), orbit.declination);
    let cos_zenith = (lat.sin() * decl.sin() + lat.cos() * decl.cos() * hour_angle.cos()).clamp(-1.0, 1.0);
    let elevation = 90.0 - cos_zenith.acos().to_degrees();
    let azimuth = (hour_angle.sin().atan2(hour_angle.cos() * lat.sin() - decl.tan() * lat.cos()).to_degrees() + 180.0)
        .rem_euclid(360.0);
    let (sunrise, sunset) = sunrise_sunset(latitude, longitude, at, &orbit).unzip();
    SunPosition {
        elevation: round2(elevation),
        azimuth: round2(azimuth),
        is_day: elevation > -0.833,
        minutes_to_sunset: sunset.filter(|s| *s > at).map(|s| (s - at) / 60),
        minutes_since_sunrise: sunrise.filter(|r| *r <= at).map(|r| (at - r) / 60),
    }
}

fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

struct Orbit {
    declination: f64,
    equation_of_time: f64,
}

impl Orbit {
    fn at(at: i64) -> Orbit {
        let julian_day = at as f64 / 86_400.0 + 2_440_587.5;
        let t = (julian_day - 2_451_545.0) / 36_525.0;
        let mean_longitude = (280.46646 + t * (36000.76983 + t * 0.0003032)).rem_euclid(360.0).to_radians();
        let mean_anomaly = (357.52911 + t * (35999.05029 - 0.0001537 * t)).to_radians();
        let eccentricity = 0.016_708_634 - t * (0.000_042_037 + 0.000_000_126_7 * t);
        let center = mean_anomaly.sin() * (1.914_602 - t * (0.004_817 + 0.000_014 * t))
            + (2.0 * mean_anomaly).sin() * (0.019_993 - 0.000_101 * t)
            + (3.0 * mean_anomaly).sin() * 0.000_289;
        let omega = (125.04 - 1_934.136 * t).to_radians();
        let apparent = (mean_longitude.to_degrees() + center - 0.005_69 - 0.004_78 * omega.sin()).to_radians();
        let obliquity0 = 23.0 + (26.0 + (21.448 - t * (46.815 + t * (0.000_59 - t * 0.001_813))) / 60.0) / 60.0;
        let obliquity = (obliquity0 + 0.002_56 * omega.cos()).to_radians();
        let declination = (obliquity.sin() * apparent.sin()).asin();
        let y = (obliquity / 2.0).tan().powi(2);
        let (l, m, e) = (mean_longitude, mean_anomaly, eccentricity);
        let equation_of_time = 4.0
            * (y * (2.0 * l).sin() - 2.0 * e * m.sin() + 4.0 * e * y * m.sin() * (2.0 * l).cos()
                - 0.5 * y * y * (4.0 * l).sin()
                - 1.25 * e * e * (2.0 * m).sin())
            .to_degrees();
        Orbit { declination, equation_of_time }
    }
}

/// Sunrise and sunset (unix seconds) of the solar day around `at`; None in polar day or night.
fn sunrise_sunset(latitude: f64, longitude: f64, at: i64, orbit: &Orbit) -> Option<(i64, i64)> {
    let (lat, decl) = (latitude.to_radians(), orbit.declination);
    let cos_ha = (90.833f64.to_radians().cos() / (lat.cos() * decl.cos())) - lat.tan() * decl.tan();
    if !(-1.0..=1.0).contains(&cos_ha) {
        return None;
    }
    let half_day_minutes = 4.0 * cos_ha.acos().to_degrees();
    let noon_minutes = 720.0 - 4.0 * longitude - orbit.equation_of_time;
    let mut noon = at.div_euclid(86_400) * 86_400 + (noon_minutes * 60.0) as i64;
    if noon - at > 43_200 {
        noon -= 86_400;
    } else if at - noon > 43_200 {
        noon += 86_400;
    }
    let half = (half_day_minutes * 60.0) as i64;
    Some((noon - half, noon + half))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> i64 {
        crate::core::time::parse_instant(text).unwrap().as_second()
    }

    #[test]
    fn milan_summer_noon_is_high_in_the_south() {
        let sun = position(45.46, 9.19, at("2026-06-21T11:25:00Z"));
        assert!((sun.elevation - 68.0).abs() < 1.0, "{sun:?}");
        assert!((sun.azimuth - 180.0).abs() < 10.0, "{sun:?}");
        assert!(sun.is_day);
        let to_sunset = sun.minutes_to_sunset.unwrap();
        // Sunset in Milan on the solstice is at 21:15 CEST, 19:15 UTC.
        assert!((to_sunset - 470).abs() < 10, "{to_sunset}");
    }

    #[test]
    fn night_has_no_sunset_ahead_in_the_same_solar_day() {
        let sun = position(45.46, 9.19, at("2026-06-21T22:30:00Z"));
        assert!(!sun.is_day);
        assert!(sun.elevation < 0.0);
    }

    #[test]
    fn polar_night_has_no_sunrise() {
        let sun = position(78.2, 15.6, at("2026-12-21T12:00:00Z"));
        assert!(!sun.is_day);
        assert_eq!(sun.minutes_to_sunset, None);
    }
}
