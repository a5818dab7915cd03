//! `types [TYPE]`: every component type with its description, features, keys, defaults and
//! an example, read off the registry the loader uses.

use crate::config::spec::{ComponentType, Section};
use crate::exit::{self, Failure};
use crate::registry::REGISTRY;

pub fn types(name: Option<&str>) -> Result<i32, Failure> {
    let selected: Vec<(Section, &dyn ComponentType)> =
        REGISTRY.all().filter(|(_, t)| name.is_none_or(|n| t.info().name == n)).collect();
    if selected.is_empty() {
        let mut names: Vec<&str> = REGISTRY.all().map(|(_, t)| t.info().name).collect();
        names.dedup();
        return Err(Failure::new(
            exit::USAGE,
            format!("unknown type `{}`; types: {}", name.unwrap_or_default(), names.join(", ")),
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
        for (key, kind, default, description) in crate::config::schema::keys(section, component) {
            let default = default.map_or(String::new(), |d| format!(" (default {d})"));
            println!("    {key:<28} {kind}{default}  {description}");
        }
        println!("  example:\n    - {}\n", info.example);
    }
    Ok(exit::OK)
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
