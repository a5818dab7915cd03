//! Offline rule tools: `rules eval` (one context file) and `rules test` (a file of cases).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::core::context::complete;
use crate::core::status::MinerStatus;
use crate::diag::Diagnostic;
use crate::duration::Span;
use crate::rules::decide::{Timers, Verdict, applicable, decide};
use crate::rules::eval::explain;
use crate::rules::model::{Decision, RuleSet};
use crate::rules::{RuleSource, load_rule_set};
use crate::yaml::Document;

/// Reads a context file (JSON or YAML) and completes its derived fields.
pub fn read_context(file: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: cannot read: {e}", file.display()))?;
    let doc = Document::parse(file, &text).map_err(|d| d.to_string())?;
    let mut context = serde_json::to_value(&doc.value).map_err(|e| format!("{}: {e}", file.display()))?;
    if !context.is_object() {
        return Err(format!("{}: a context must be a mapping", file.display()));
    }
    complete(&mut context);
    Ok(context)
}

/// The status a context declares (`miner_state.status`), `unknown` when absent.
pub fn context_status(context: &Value) -> MinerStatus {
    context
        .pointer("/miner_state/status")
        .and_then(Value::as_str)
        .and_then(MinerStatus::parse)
        .unwrap_or(MinerStatus::Unknown)
}

/// Offline, a rule's `for:` counts as held for `held` (default: long enough for any rule).
pub fn offline_verdict(rules: &RuleSet, context: &Value, held: Option<Span>) -> Verdict {
    const NOW: i64 = 4_000_000_000;
    let since = NOW - held.map_or(NOW, |span| span.as_secs_i64());
    let mut timers = Timers::new();
    for (kind, list) in
        [(crate::rules::model::RuleKind::Start, &rules.start), (crate::rules::model::RuleKind::Stop, &rules.stop)]
    {
        for rule in list {
            timers.insert(rule.timer_key(kind), since);
        }
    }
    decide(rules, context, context_status(context), NOW, &timers)
}

/// One case of a `rules test` file.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    context: serde_yaml::Value,
    expect: String,
    expect_rule: Option<String>,
    held_for: Option<Span>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TestFile {
    policy: Option<PathBuf>,
    rules: Option<crate::rules::RuleFiles>,
    tests: Vec<Case>,
}

/// What running one test file produced.
pub struct TestReport {
    pub passed: usize,
    pub failed: usize,
    pub output: String,
}

/// Runs every case of a test file; problems loading it are failures with their position.
pub fn run_test_file(file: &Path) -> TestReport {
    let mut report = TestReport { passed: 0, failed: 0, output: String::new() };
    match load_test_file(file) {
        Ok((rules, cases)) => {
            for case in cases {
                run_case(&rules, &case, &mut report);
            }
        }
        Err(problems) => {
            report.failed += 1;
            for problem in problems {
                let _ = writeln!(report.output, "{problem}");
            }
        }
    }
    report
}

fn load_test_file(file: &Path) -> Result<(RuleSet, Vec<Case>), Vec<String>> {
    let text = std::fs::read_to_string(file).map_err(|e| vec![format!("{}: cannot read: {e}", file.display())])?;
    let doc = Document::parse(file, &text).map_err(|d| vec![d.to_string()])?;
    let parsed: TestFile = serde_path_to_error::deserialize(doc.value.clone()).map_err(|err| {
        let path = err.path().to_string();
        vec![format!("{}: error: {path}: {}", doc.locate(&path), err.inner())]
    })?;
    let base = file.parent().unwrap_or(Path::new("."));
    let source: RuleSource = match crate::rules::rule_source(parsed.policy.as_deref(), parsed.rules.as_ref(), base) {
        Ok(Some(source)) => source,
        Ok(None) => return Err(vec![format!("{}: error: give `policy` or `rules` to test", file.display())]),
        Err(message) => return Err(vec![format!("{}: error: {message}", file.display())]),
    };
    let (rules, diagnostics) = load_rule_set(&source);
    let errors: Vec<String> = diagnostics.iter().filter(|d| d.is_error()).map(Diagnostic::to_string).collect();
    match rules {
        Some(rules) if errors.is_empty() => Ok((rules, parsed.tests)),
        _ => Err(errors),
    }
}

fn run_case(rules: &RuleSet, case: &Case, report: &mut TestReport) {
    let Some(expected) = Decision::parse(&case.expect) else {
        report.failed += 1;
        let _ =
            writeln!(report.output, "FAIL {}: `expect` must be start_mining, stop_mining or maintain_state", case.name);
        return;
    };
    let mut context = match serde_json::to_value(&case.context) {
        Ok(context @ Value::Object(_)) => context,
        _ => {
            report.failed += 1;
            let _ = writeln!(report.output, "FAIL {}: `context` must be a mapping", case.name);
            return;
        }
    };
    complete(&mut context);
    let verdict = offline_verdict(rules, &context, case.held_for);
    let rule_ok = case.expect_rule.is_none() || case.expect_rule == verdict.rule;
    if verdict.decision == expected && rule_ok {
        report.passed += 1;
        let _ = writeln!(report.output, "ok   {}", case.name);
        return;
    }
    report.failed += 1;
    let _ = writeln!(report.output, "{}", describe_failure(rules, case, expected, &verdict, &context));
}

/// A rule and why each of its leaves holds or not, with the value it saw, indented by `depth`.
pub fn explain_rule(rule: &crate::rules::model::Rule, context: &Value, depth: usize) -> String {
    let mut lines = Vec::new();
    explain(&rule.conditions, context, depth + 1, &mut lines);
    let indent = "  ".repeat(depth);
    let disabled = if rule.enabled { "" } else { ", disabled" };
    format!("{indent}rule `{}` (priority {}{disabled}):\n{}", rule.name, rule.priority, lines.join("\n"))
}

/// Every rule a miner's context is judged by (its status picks start or stop rules), each
/// with its leaves: what `run --explain` prints under the miner.
pub fn explain_rules(rules: &RuleSet, context: &Value) -> String {
    let status = context_status(context);
    let Some(kind) = applicable(status) else {
        return format!("  {} : no rule is evaluated while starting or stopping", status.name());
    };
    let considered = rules.rules(kind);
    if considered.is_empty() {
        return format!("  no {} rules", kind.name());
    }
    let explained: Vec<String> = considered.iter().map(|rule| explain_rule(rule, context, 2)).collect();
    format!("  {} rules, highest priority first:\n{}", kind.name(), explained.join("\n"))
}

fn describe_failure(rules: &RuleSet, case: &Case, expected: Decision, verdict: &Verdict, context: &Value) -> String {
    let with_rule = |decision: Decision, rule: Option<&str>| match rule {
        Some(rule) => format!("{} (rule `{rule}`)", decision.name()),
        None => format!("{} (no rule matched)", decision.name()),
    };
    let status = context_status(context);
    let mut out = format!(
        "FAIL {}\n  expected: {}\n  got:      {}\n  miner status: {status}",
        case.name,
        with_rule(expected, case.expect_rule.as_deref()),
        with_rule(verdict.decision, verdict.rule.as_deref()),
    );
    match applicable(status) {
        None => out.push_str(" (starting/stopping: no rule is evaluated)"),
        Some(kind) => {
            let _ = write!(out, " ({} rules evaluated)", kind.name());
            for rule in rules.rules(kind).iter().filter(|rule| {
                Some(rule.name.as_str()) == case.expect_rule.as_deref() || Some(&rule.name) == verdict.rule.as_ref()
            }) {
                let _ = write!(out, "\n{}", explain_rule(rule, context, 1));
            }
        }
    }
    out
}
