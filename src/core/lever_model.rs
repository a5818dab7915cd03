//! What a device draws at each setting of a lever that is not a watt target (a Bitaxe's
//! frequency), learned from its own readings across runs: an average per setting, and an
//! estimate for a setting never seen, scaled from the nearest one that was.

use std::collections::BTreeMap;

/// One setting's learned watts and how many readings they average.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Learned {
    pub watts: f64,
    pub samples: u32,
}

/// Controller id → its settings' learned watts, by setting.
pub type LeverWatts = BTreeMap<String, Vec<(f64, Learned)>>;

/// The average so far with one more reading: a plain mean of the first five, then each new
/// reading weighs a fifth, so the model follows a device that ages or a changed voltage.
pub fn learn(previous: Option<Learned>, measured: f64) -> Learned {
    match previous {
        None => Learned { watts: measured, samples: 1 },
        Some(Learned { watts, samples }) => {
            let weight = 1.0 / f64::from(samples.saturating_add(1).min(5));
            Learned { watts: watts + (measured - watts) * weight, samples: samples.saturating_add(1) }
        }
    }
}

/// The watts at `setting`: the learned ones where it was seen, else scaled (in proportion to
/// the setting) from the nearest seen setting. None with nothing seen.
pub fn estimate(points: &[(f64, f64)], setting: f64) -> Option<f64> {
    let nearest = points.iter().filter(|(s, _)| *s > 0.0).min_by(|a, b| {
        (a.0 - setting).abs().partial_cmp(&(b.0 - setting).abs()).unwrap_or(std::cmp::Ordering::Equal)
    })?;
    Some(if nearest.0 == setting { nearest.1 } else { nearest.1 * setting / nearest.0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_readings_are_averaged_then_followed() {
        let mut model = None;
        for watts in [10.0, 12.0, 11.0] {
            model = Some(learn(model, watts));
        }
        assert_eq!(model, Some(Learned { watts: 11.0, samples: 3 }));
        let mut model = model.unwrap();
        for _ in 0..40 {
            model = learn(Some(model), 20.0);
        }
        assert!((model.watts - 20.0).abs() < 0.01, "{model:?}");
    }

    #[test]
    fn an_unseen_setting_scales_from_the_nearest_seen_one() {
        let seen = [(400.0, 10.6), (525.0, 15.0)];
        assert_eq!(estimate(&seen, 400.0), Some(10.6));
        assert_eq!(estimate(&seen, 490.0), Some(15.0 * 490.0 / 525.0), "nearer 525 than 400");
        assert_eq!(estimate(&seen, 420.0), Some(10.6 * 420.0 / 400.0));
        assert_eq!(estimate(&[], 400.0), None);
    }
}
