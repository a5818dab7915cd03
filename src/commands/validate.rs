//! `validate`: load the config and every rule file; no network, no state writes.

use crate::cli::Cli;
use crate::config::interpolate::Secrets;
use crate::exit::{self, Failure};

pub fn validate(cli: &Cli, offline: bool) -> Result<i32, Failure> {
    let path = super::config_path(cli)?;
    let secrets = if offline { Secrets::Skip } else { Secrets::Read };
    match crate::config::load_with(&path, &crate::registry::REGISTRY, secrets) {
        Ok(loaded) => {
            for warning in &loaded.warnings {
                println!("{warning}");
            }
            let rules: usize = loaded.rules.iter().map(|(_, set)| set.start.len() + set.stop.len()).sum();
            println!(
                "{}: valid ({} miner(s), {} unit(s), {rules} rule(s), {} warning(s))",
                path.display(),
                loaded.config.miners.len(),
                loaded.config.units.len(),
                loaded.warnings.len()
            );
            Ok(exit::OK)
        }
        Err(problems) => {
            for problem in &problems {
                println!("{problem}");
            }
            let errors = problems.iter().filter(|p| p.is_error()).count();
            println!("{}: invalid ({errors} error(s))", path.display());
            Ok(exit::CONFIG)
        }
    }
}
