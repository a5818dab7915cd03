//! Binding a miner's controllers to feature types, and resolving which controller serves a feature.
//!
//! `controllers: [a, b]` binds every feature each controller's type supports (priority 50,
//! enabled); `features:` entries override a bound pair or add one. Resolution orders the
//! enabled candidates by priority, then by config order; the cycle walks that list for failover.

use crate::core::feature::FeatureType;
use crate::core::miner::FeatureOverride;

pub const DEFAULT_PRIORITY: u8 = 50;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub feature: FeatureType,
    pub controller: String,
    pub priority: u8,
    pub enabled: bool,
}

/// A problem with a miner's bindings: the key path below the miner, and the message.
pub type BindingProblem = (String, String);

/// Builds a miner's bindings; `supported` answers a controller's features (None: unknown controller).
pub fn bind(
    controllers: &[String],
    overrides: &[FeatureOverride],
    supported: impl Fn(&str) -> Option<Vec<FeatureType>>,
) -> Result<Vec<Binding>, Vec<BindingProblem>> {
    let mut bindings = Vec::new();
    let mut problems = Vec::new();
    for (index, controller) in controllers.iter().enumerate() {
        match supported(controller) {
            Some(features) => bindings.extend(features.into_iter().map(|feature| Binding {
                feature,
                controller: controller.clone(),
                priority: DEFAULT_PRIORITY,
                enabled: true,
            })),
            None => problems.push((format!("controllers[{index}]"), format!("unknown controller `{controller}`"))),
        }
    }
    let mut overridden: Vec<(FeatureType, &str)> = Vec::new();
    for (index, entry) in overrides.iter().enumerate() {
        let path = format!("features[{index}]");
        if let Err(problem) = apply_override(&mut bindings, entry, &supported) {
            problems.push((path, problem));
            continue;
        }
        if overridden.contains(&(entry.feature, entry.controller.as_str())) {
            problems
                .push((path, format!("duplicate feature `{}` for controller `{}`", entry.feature, entry.controller)));
        }
        overridden.push((entry.feature, entry.controller.as_str()));
    }
    if problems.is_empty() { Ok(bindings) } else { Err(problems) }
}

fn apply_override(
    bindings: &mut Vec<Binding>,
    entry: &FeatureOverride,
    supported: &impl Fn(&str) -> Option<Vec<FeatureType>>,
) -> Result<(), String> {
    let features = supported(&entry.controller).ok_or_else(|| format!("unknown controller `{}`", entry.controller))?;
    if !features.contains(&entry.feature) {
        return Err(format!("controller `{}` cannot provide `{}`", entry.controller, entry.feature));
    }
    let priority = match entry.priority {
        None => None,
        Some(p @ 1..=100) => Some(p as u8),
        Some(p) => return Err(format!("priority {p} is out of range; it must be 1–100")),
    };
    let existing = bindings.iter_mut().find(|b| b.feature == entry.feature && b.controller == entry.controller);
    match existing {
        Some(binding) => {
            binding.priority = priority.unwrap_or(binding.priority);
            binding.enabled = entry.enabled.unwrap_or(binding.enabled);
        }
        None => bindings.push(Binding {
            feature: entry.feature,
            controller: entry.controller.clone(),
            priority: priority.unwrap_or(DEFAULT_PRIORITY),
            enabled: entry.enabled.unwrap_or(true),
        }),
    }
    Ok(())
}

/// The enabled providers of `feature`, best first (priority descending, config order on ties).
pub fn candidates(bindings: &[Binding], feature: FeatureType) -> Vec<&Binding> {
    let mut found: Vec<&Binding> = bindings.iter().filter(|b| b.feature == feature && b.enabled).collect();
    found.sort_by_key(|b| std::cmp::Reverse(b.priority));
    found
}

/// The provider resolution picks (no failover): the first candidate.
pub fn resolve(bindings: &[Binding], feature: FeatureType) -> Option<&Binding> {
    candidates(bindings, feature).into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;
    use FeatureType::*;

    fn supported(controller: &str) -> Option<Vec<FeatureType>> {
        match controller {
            "asic" => Some(vec![HashrateMonitoring, StatusMonitoring, MiningControl]),
            "plug" => Some(vec![PowerControl, PowerMonitoring, StatusMonitoring]),
            _ => None,
        }
    }

    fn over(feature: FeatureType, controller: &str, priority: Option<i64>, enabled: Option<bool>) -> FeatureOverride {
        FeatureOverride { feature, controller: controller.to_string(), priority, enabled }
    }

    #[test]
    fn controllers_bind_every_supported_feature_at_fifty() {
        let bindings = bind(&["asic".into(), "plug".into()], &[], supported).unwrap();
        assert_eq!(bindings.len(), 6);
        assert!(bindings.iter().all(|b| b.priority == 50 && b.enabled));
    }

    #[test]
    fn resolution_is_priority_then_config_order() {
        let bindings = bind(&["asic".into(), "plug".into()], &[], supported).unwrap();
        assert_eq!(resolve(&bindings, StatusMonitoring).unwrap().controller, "asic");
        let bindings =
            bind(&["asic".into(), "plug".into()], &[over(StatusMonitoring, "plug", Some(80), None)], supported)
                .unwrap();
        let order: Vec<&str> = candidates(&bindings, StatusMonitoring).iter().map(|b| b.controller.as_str()).collect();
        assert_eq!(order, ["plug", "asic"]);
    }

    #[test]
    fn disabled_features_are_skipped() {
        let bindings = bind(&["asic".into()], &[over(MiningControl, "asic", None, Some(false))], supported).unwrap();
        assert!(resolve(&bindings, MiningControl).is_none());
    }

    #[test]
    fn overrides_may_add_a_pair_from_an_unlisted_controller() {
        let bindings = bind(&["asic".into()], &[over(PowerControl, "plug", Some(10), None)], supported).unwrap();
        assert_eq!(resolve(&bindings, PowerControl).unwrap().priority, 10);
    }

    #[test]
    fn problems_are_reported_with_their_entry() {
        let problems = bind(
            &["asic".into(), "ghost".into()],
            &[
                over(PowerControl, "asic", None, None),
                over(HashrateMonitoring, "asic", Some(0), None),
                over(HashrateMonitoring, "asic", Some(101), None),
                over(StatusMonitoring, "asic", Some(60), None),
                over(StatusMonitoring, "asic", Some(70), None),
            ],
            supported,
        )
        .unwrap_err();
        let paths: Vec<&str> = problems.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, ["controllers[1]", "features[0]", "features[1]", "features[2]", "features[4]"]);
        assert!(problems[1].1.contains("cannot provide `power_control`"));
        assert!(problems[2].1.contains("1–100"));
        assert!(problems[4].1.contains("duplicate"));
    }
}
