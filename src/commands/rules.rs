//! `rules eval` and `rules test`: the rule engine offline, for GitOps CI.

use serde_json::json;

use crate::cli::{Output, RulesCommand, RulesEvalArgs};
use crate::exit::{self, Failure};
use crate::rules::testing::{context_status, offline_verdict, read_context, run_test_file};
use crate::rules::{RuleSource, load_rule_set};

pub fn rules(command: &RulesCommand) -> Result<i32, Failure> {
    match command {
        RulesCommand::Eval(args) => eval(args),
        RulesCommand::Test { files } => test(files),
    }
}

fn eval(args: &RulesEvalArgs) -> Result<i32, Failure> {
    let source = match &args.policy {
        Some(policy) => RuleSource::Policy(policy.clone()),
        None if args.start.is_empty() && args.stop.is_empty() => {
            return Err(Failure::new(exit::USAGE, "give --policy FILE, or --start/--stop rule-list files"));
        }
        None => RuleSource::Lists { start: args.start.clone(), stop: args.stop.clone() },
    };
    let (rules, diagnostics) = load_rule_set(&source);
    for diagnostic in &diagnostics {
        eprintln!("{diagnostic}");
    }
    let Some(rules) = rules else {
        return Err(Failure::new(exit::CONFIG, "the rule files are invalid"));
    };
    let context = read_context(&args.context).map_err(|m| Failure::new(exit::USAGE, m))?;
    let verdict = offline_verdict(&rules, &context, None);
    let status = context_status(&context);
    match args.output {
        Output::Json | Output::Yaml => {
            let document = json!({"decision": verdict.decision.name(), "rule": verdict.rule, "status": status.name()});
            super::print_structured(args.output, &document);
        }
        Output::Text => {
            let rule = verdict.rule.map_or("no rule matched".to_string(), |r| format!("rule `{r}`"));
            println!("{} ({rule}; miner status {status})", verdict.decision.name());
            if args.explain {
                print!("{}", crate::rules::testing::explain_rules(&rules, &context));
            }
        }
    }
    Ok(exit::OK)
}

fn test(files: &[std::path::PathBuf]) -> Result<i32, Failure> {
    let (mut passed, mut failed) = (0, 0);
    for file in files {
        println!("{}", file.display());
        let report = run_test_file(file);
        for line in report.output.lines() {
            println!("  {line}");
        }
        passed += report.passed;
        failed += report.failed;
    }
    println!("{passed} passed, {failed} failed");
    Ok(if failed == 0 { exit::OK } else { exit::DEGRADED })
}
