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
        keep_contexts: args.explain && args.output == Output::Text,
    };
    let outcome = crate::cycle::run(&loaded, &options)?;
    match args.output {
        Output::Json => println!("{}", report::json(&outcome)),
        Output::Yaml => super::print_structured(Output::Yaml, &outcome),
        Output::Text if cli.quiet => print!("{}", report::problems(&outcome)),
        Output::Text => print!("{}", report::text(&outcome)),
    }
    if args.explain && args.output == Output::Text {
        print!("{}", explanation(&loaded, &outcome));
    }
    for error in &outcome.errors {
        log::warn!("{error}");
    }
    let code = outcome.exit_code;
    // The process ends here: its memory goes back to the system at once, so the report and
    // the config (a farm's are large trees) are not freed one allocation at a time.
    std::mem::forget(outcome);
    std::mem::forget(loaded);
    Ok(code)
}

/// `--explain`: under each miner, its decision and reason, then every rule it was judged by.
fn explanation(loaded: &crate::config::Loaded, outcome: &crate::cycle::outcome::RunReport) -> String {
    let empty = crate::rules::model::RuleSet::default();
    let mut out = String::from("explanation:\n");
    for unit in &outcome.units {
        let rules = loaded.rules.iter().find(|(id, _)| id == &unit.id).map_or(&empty, |(_, set)| set);
        for miner in &unit.miners {
            let why = miner.reason.describe().unwrap_or_else(|| "no rule matched".to_string());
            let held = miner.held_rule.as_ref().map_or(String::new(), |rule| format!(", holding rule `{rule}`"));
            out.push_str(&format!("miner {} (unit {}): {} ({why}{held})\n", miner.id, unit.id, miner.decision.name()));
            if let (Some(share), Some(allocation)) = (&miner.allocation, &unit.allocation) {
                let budget = allocation["available"].as_f64().map_or("no budget".into(), |w| format!("{w:.0} W"));
                out.push_str(&format!("  allocation: share {:.0} W of {budget}: {}\n", share.share, share.why));
            }
            if let Some(context) = &miner.context {
                out.push_str(&crate::rules::testing::explain_rules(rules, context));
            }
            out.push('\n');
        }
    }
    out
}
