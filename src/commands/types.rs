//! `types [TYPE]`: every component type with its features, keys, defaults and an example,
//! generated from the same definitions the loader uses.

use crate::config::schema::{Section, TYPES, TypeSpec, keys};
use crate::exit::{self, Failure};

pub fn types(name: Option<&str>) -> Result<i32, Failure> {
    let selected: Vec<&TypeSpec> = TYPES.iter().filter(|t| name.is_none_or(|n| t.name == n)).collect();
    if selected.is_empty() {
        let names: Vec<&str> = TYPES.iter().map(|t| t.name).collect();
        return Err(Failure::new(
            exit::USAGE,
            format!("unknown type `{}`; types: {}", name.unwrap_or_default(), names.join(", ")),
        ));
    }
    for spec in selected {
        println!("{} (in {})", spec.name, spec.section.name());
        if spec.section == Section::Controllers {
            println!("  features: {}", features(spec.name));
        }
        println!("  keys:");
        for (key, kind, default, description) in keys(spec) {
            let default = default.map_or(String::new(), |d| format!(" (default {d})"));
            println!("    {key:<28} {kind}{default}  {description}");
        }
        println!("  example:\n    - {}\n", spec.example);
    }
    Ok(exit::OK)
}

/// The features a controller type provides, read off the loader's own capability table
/// applied to the type's example.
fn features(name: &str) -> String {
    let Some(spec) = TYPES.iter().find(|t| t.name == name && t.section == Section::Controllers) else {
        return String::new();
    };
    // Secrets given as files would be read by the loader; their values do not matter here.
    let inline = crate::config::interpolate::SECRET_FIELDS
        .iter()
        .fold(spec.example.to_string(), |text, secret| text.replace(&format!("{secret}_file:"), &format!("{secret}:")));
    let example = format!("version: 1\ncontrollers:\n  - {inline}\n");
    let doc = crate::yaml::Document::parse(std::path::Path::new("example"), &example);
    let kind = doc.ok().and_then(|doc| {
        let mut parser = crate::config::parse::SectionParser::new(&doc);
        parser.parse().controllers.into_iter().next().map(|c| c.kind)
    });
    let Some(kind) = kind else { return String::new() };
    let mut list: Vec<&str> = crate::devices::capabilities(&kind).iter().map(|f| f.name()).collect();
    if matches!(name, "home_assistant" | "http") {
        list.push("(those of the roles configured)");
    }
    if let Some(note) = crate::devices::note(&kind) {
        list.push(note);
    }
    list.join(", ")
}
