//! Loading the configuration file: YAML → interpolation → typed sections → checks.
//!
//! `load` returns either a usable `Config` (with warnings) or every problem found, each
//! with `file:line:column`, so `validate` can print them all at once.

pub mod check;
pub mod interpolate;
pub mod model;
pub mod parse;
pub mod schema;
pub mod secret;
pub mod spec;

use std::path::{Path, PathBuf};

use crate::diag::{Diagnostic, Location, has_errors};
use crate::yaml::Document;
pub use model::Config;

/// A loaded config, with the rule sets of its units and any warnings.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub rules: Vec<(String, crate::rules::model::RuleSet)>,
    pub warnings: Vec<Diagnostic>,
}

/// Loads and checks `file`, including every rule file its units name, with the component
/// types of `registry` (`crate::registry::REGISTRY`).
pub fn load(file: &Path, registry: &spec::Registry) -> Result<Loaded, Vec<Diagnostic>> {
    load_with(file, registry, interpolate::Secrets::Read)
}

/// `load`, choosing whether secret files are read (`validate --offline` skips them).
pub fn load_with(
    file: &Path,
    registry: &spec::Registry,
    secrets: interpolate::Secrets,
) -> Result<Loaded, Vec<Diagnostic>> {
    let text = std::fs::read_to_string(file).map_err(|err| {
        vec![Diagnostic::error(Location::new(file, 1, 1), "", format!("cannot read config file: {err}"))]
    })?;
    let mut doc = Document::parse(file, &text).map_err(|d| vec![d])?;
    let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut diagnostics = interpolate_document(&mut doc, &dir, secrets);
    let root = std::mem::take(&mut doc.value);
    let mut parser = parse::SectionParser::new(&doc, registry);
    let sections = parser.parse(root);
    diagnostics.append(&mut parser.diagnostics);
    let mut checker = check::Checker::new(&doc, &dir);
    let config = checker.config(sections);
    let rules = checker.rule_sets(&config);
    diagnostics.append(&mut checker.diagnostics);
    if has_errors(&diagnostics) {
        return Err(diagnostics);
    }
    Ok(Loaded { config, rules, warnings: diagnostics })
}

fn interpolate_document(doc: &mut Document, dir: &Path, secrets: interpolate::Secrets) -> Vec<Diagnostic> {
    let var = |name: &str| std::env::var(name).ok();
    let env = interpolate::Environment {
        var: &var,
        config_dir: dir,
        credentials_dir: std::env::var_os("CREDENTIALS_DIRECTORY").map(PathBuf::from),
        secrets,
    };
    let problems = interpolate::interpolate(&mut doc.value, "", &env);
    problems.into_iter().map(|(path, message)| Diagnostic::error(doc.locate(&path), &path, message)).collect()
}

/// The state database path when the config names none (SPEC §3, §22).
pub fn default_state_path(config_dir: &Path) -> PathBuf {
    state_path_from(config_dir, &|name| std::env::var_os(name))
}

/// Where the service keeps its state (`StateDirectory=edge-mining`), and so where the CLI run
/// by hand on the service's config finds the same database.
const SERVICE_CONFIG_DIR: &str = "/etc/edge-mining";
const SERVICE_STATE: &str = "/var/lib/edge-mining/edge-mining.db";

fn state_path_from(config_dir: &Path, var: &dyn Fn(&str) -> Option<std::ffi::OsString>) -> PathBuf {
    if let Some(dir) = var("STATE_DIRECTORY") {
        // systemd may pass several directories separated by ':'; the first is ours.
        let first = dir.to_string_lossy().split(':').next().unwrap_or_default().to_string();
        return PathBuf::from(first).join("edge-mining.db");
    }
    if config_dir == Path::new(SERVICE_CONFIG_DIR) {
        return PathBuf::from(SERVICE_STATE);
    }
    if let Some(dir) = var("XDG_STATE_HOME") {
        return PathBuf::from(dir).join("edge-mining").join("state.db");
    }
    let home = var("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
    home.join(".local/state/edge-mining/state.db")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cli_on_the_service_config_finds_the_services_database() {
        let env = |name: &str| match name {
            "HOME" => Some("/home/ada".into()),
            _ => None,
        };
        let service = state_path_from(Path::new("/etc/edge-mining"), &env);
        assert_eq!(service, PathBuf::from("/var/lib/edge-mining/edge-mining.db"));
        let mine = state_path_from(Path::new("/home/ada/mining"), &env);
        assert_eq!(mine, PathBuf::from("/home/ada/.local/state/edge-mining/state.db"));
        let under_systemd = |name: &str| (name == "STATE_DIRECTORY").then(|| "/var/lib/edge-mining:/x".into());
        let systemd = state_path_from(Path::new("/etc/edge-mining"), &under_systemd);
        assert_eq!(systemd, service, "the service's own directory, the same file");
    }
}
