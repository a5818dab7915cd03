//! `run`: one control cycle.

use crate::cli::{Cli, Output, RunArgs};
use crate::cycle::{RunOptions, report};
use crate::exit::Failure;

pub fn run(cli: &Cli, args: &RunArgs) -> Result<i32, Failure> {
    let loaded = super::load_config(cli)?;
    let options = RunOptions {
        dry_run: args.dry_run,
        units: args.units.clone(),
        miners: args.miners.clone(),
        now: super::parse_now(cli, &loaded)?,
        metrics_file: args.metrics_file.clone(),
    };
    let outcome = crate::cycle::run(&loaded, &options)?;
    match args.output {
        Output::Json => println!("{}", report::json(&outcome)),
        Output::Text | Output::Yaml if cli.quiet => print!("{}", report::problems(&outcome)),
        Output::Text | Output::Yaml => print!("{}", report::text(&outcome)),
    }
    for error in &outcome.errors {
        log::warn!("{error}");
    }
    Ok(outcome.exit_code)
}
