//! The rule engine (SPEC §7): loading Edge Mining policy and rule-list files, evaluating
//! conditions, deciding per miner, and the offline `rules eval` / `rules test` tools.

pub mod decide;
pub mod eval;
pub mod load;
pub mod model;
pub mod testing;

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::diag::{Diagnostic, Location};
use crate::rules::load::{RuleFile, load_file};
use crate::rules::model::{Rule, RuleSet};

/// A unit's rule files (`rules:`), as opposed to one `policy` file.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleFiles {
    #[serde(default)]
    pub start: Vec<String>,
    #[serde(default)]
    pub stop: Vec<String>,
}

/// Where a unit's rules come from, resolved to files.
#[derive(Debug, Clone)]
pub enum RuleSource {
    Policy(PathBuf),
    Lists { start: Vec<PathBuf>, stop: Vec<PathBuf> },
}

/// Loads a rule source into a rule set, returning every diagnostic (warnings included).
pub fn load_rule_set(source: &RuleSource) -> (Option<RuleSet>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let set = match source {
        RuleSource::Policy(file) => match load_file(file) {
            (Some(RuleFile::Policy { name, start, stop }), found) => {
                diagnostics.extend(found);
                Some(RuleSet::new(Some(name), start, stop))
            }
            (Some(RuleFile::List(_)), found) => {
                diagnostics.extend(found);
                diagnostics.push(Diagnostic::error(
                    Location::new(file, 1, 1),
                    "",
                    "expected a policy file (`start_rules`/`stop_rules`), found a rule list; use `rules: {start: [...], stop: [...]}` in the unit",
                ));
                None
            }
            (None, found) => {
                diagnostics.extend(found);
                None
            }
        },
        RuleSource::Lists { start, stop } => {
            let start = rules_of_lists(start, &mut diagnostics);
            let stop = rules_of_lists(stop, &mut diagnostics);
            Some(RuleSet::new(None, start, stop))
        }
    };
    let ok = !crate::diag::has_errors(&diagnostics);
    (set.filter(|_| ok), diagnostics)
}

fn rules_of_lists(files: &[PathBuf], diagnostics: &mut Vec<Diagnostic>) -> Vec<Rule> {
    let mut rules = Vec::new();
    for file in files {
        let (loaded, found) = load_file(file);
        diagnostics.extend(found);
        match loaded {
            Some(RuleFile::List(list)) => rules.extend(list),
            Some(RuleFile::Policy { .. }) => diagnostics.push(Diagnostic::error(
                Location::new(file, 1, 1),
                "",
                "expected a rule-list file (`rules:`), found a policy; name it with `policy:` in the unit",
            )),
            None => {}
        }
    }
    rules
}

/// A rule source from a `policy` file or `rules` lists (as in a unit or a test file), with
/// globs expanded relative to `base`.
pub fn rule_source(
    policy: Option<&Path>,
    rules: Option<&RuleFiles>,
    base: &Path,
) -> Result<Option<RuleSource>, String> {
    match (policy, rules) {
        (Some(_), Some(_)) => Err("give either `policy` or `rules`, not both".to_string()),
        (None, None) => Ok(None),
        (Some(policy), None) => Ok(Some(RuleSource::Policy(base.join(policy)))),
        (None, Some(lists)) => {
            let expand = |patterns: &[String]| -> Result<Vec<PathBuf>, String> {
                let mut files = Vec::new();
                for pattern in patterns {
                    files.extend(crate::paths::expand_glob(base, pattern)?);
                }
                Ok(files)
            };
            Ok(Some(RuleSource::Lists { start: expand(&lists.start)?, stop: expand(&lists.stop)? }))
        }
    }
}
