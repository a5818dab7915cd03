//! `types [TYPE]`: every component type with its description, features, keys, defaults and
//! an example, read off the registry the loader uses.

use crate::config::spec::{ComponentType, Section};
use crate::exit::{self, Failure};
use crate::registry::REGISTRY;

/// The config's own blocks, beside the component types.
type Keys = fn() -> Vec<(String, String, Option<String>, String)>;
const BLOCKS: [(&str, &str, Keys); 9] = [
    (
        "settings",
        "The `settings:` block: zone, location, limits and paths.",
        crate::config::schema::struct_keys::<crate::config::model::Settings>,
    ),
    (
        "miner",
        "One entry of `miners:`: a miner, its nominal values and its controllers.",
        crate::config::schema::struct_keys::<crate::core::miner::Miner>,
    ),
    (
        "unit",
        "One entry of `units:`: miners sharing an energy source, their rules and limits.",
        crate::config::schema::struct_keys::<crate::config::model::Unit>,
    ),
    (
        "safety",
        "A unit's `safety:` limits: they stop a running miner and block a start whatever the rules say.",
        crate::config::schema::struct_keys::<crate::core::safety::Safety>,
    ),
    (
        "guards",
        "A unit's `guards:`: hysteresis, verification and the stagger of starts.",
        crate::config::schema::struct_keys::<crate::core::guards::Guards>,
    ),
    (
        "allocation",
        "A unit's `allocation:`: its budget shared between its miners in watts (SPEC §17).",
        crate::config::schema::struct_keys::<crate::core::allocation::Allocation>,
    ),
    (
        "home_load",
        "One entry of `home_loads:`: the house's load history and appliances (SPEC §18.1).",
        crate::config::schema::struct_keys::<crate::home::HomeLoadProfile>,
    ),
    (
        "climate_zone",
        "One entry of `climate_zones:`: a room, its thermometer and target (SPEC §18.2).",
        crate::config::schema::struct_keys::<crate::home::ClimateZone>,
    ),
    (
        "tariffs",
        "The `tariffs:` block: import and feed-in prices (SPEC §19).",
        crate::config::schema::struct_keys::<crate::core::tariff::Tariffs>,
    ),
];

pub fn types(name: Option<&str>) -> Result<i32, Failure> {
    for (block, description, keys) in BLOCKS.iter().filter(|(block, _, _)| name.is_none_or(|n| n == *block)) {
        println!("{block} (config block)\n  {description}\n  keys:");
        print_keys(keys());
        println!();
    }
    if let Some(name) = name.filter(|n| BLOCKS.iter().any(|(block, _, _)| block == n)) {
        let _ = name;
        return Ok(exit::OK);
    }
    let selected: Vec<(Section, &dyn ComponentType)> =
        REGISTRY.all().filter(|(_, t)| name.is_none_or(|n| t.info().name == n)).collect();
    if selected.is_empty() {
        let mut names: Vec<&str> = REGISTRY.all().map(|(_, t)| t.info().name).collect();
        names.dedup();
        return Err(Failure::new(
            exit::USAGE,
            format!(
                "unknown type `{}`; blocks: {}; types: {}",
                name.unwrap_or_default(),
                BLOCKS.map(|(block, _, _)| block).join(", "),
                names.join(", ")
            ),
        ));
    }
    for (section, component) in selected {
        let info = component.info();
        println!("{} (in {})", info.name, section.name());
        println!("  {}", info.description);
        if section == Section::Controllers {
            println!("  features: {}", features(component));
        }
        println!("  keys:");
        print_keys(crate::config::schema::keys(section, component));
        println!("  example:\n    - {}\n", info.example);
    }
    Ok(exit::OK)
}

fn print_keys(keys: Vec<(String, String, Option<String>, String)>) {
    for (key, kind, default, description) in keys {
        let default = default.map_or(String::new(), |d| format!(" (default {d})"));
        println!("    {key:<28} {kind}{default}  {description}");
    }
}

/// The features a controller type provides: those its example's settings declare.
fn features(component: &dyn ComponentType) -> String {
    let info = component.info();
    let Some(settings) = example_settings(component) else { return String::new() };
    let mut list: Vec<&str> = settings.features().iter().map(|f| f.name()).collect();
    if matches!(info.name, "home_assistant" | "http") {
        list.push("(those of the roles configured)");
    }
    list.extend(info.note);
    list.join(", ")
}

/// A type's example, parsed by the type (secrets given as files are taken inline here).
pub fn example_settings(
    component: &dyn ComponentType,
) -> Option<std::sync::Arc<dyn crate::config::spec::ComponentSettings>> {
    let inline =
        crate::config::interpolate::SECRET_FIELDS.iter().fold(component.info().example.to_string(), |text, secret| {
            text.replace(&format!("{secret}_file:"), &format!("{secret}:"))
        });
    let serde_yaml::Value::Mapping(mut body) = serde_yaml::from_str(&inline).ok()? else { return None };
    for shared in ["id", "type", "timeout"] {
        body.remove(shared);
    }
    component.parse(serde_yaml::Value::Mapping(body)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_of_the_main_blocks_is_described() {
        for (block, _, keys) in
            BLOCKS.iter().filter(|(b, _, _)| ["miner", "unit", "safety", "guards", "allocation"].contains(b))
        {
            for (key, _, _, description) in keys() {
                assert!(!description.trim().is_empty(), "{block}.{key} has no description");
                assert!(
                    !description.starts_with("A duration such as"),
                    "{block}.{key} says only that it is a duration"
                );
            }
        }
    }
}
