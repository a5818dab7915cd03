//! Report: the run's outcome as a document, as text for people, as JSON for machines.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

use crate::core::performance::significant;
use crate::cycle::Clock;
use crate::cycle::evaluate::Evaluation;
use crate::cycle::outcome::{ActionOutcome, MinerOutcome, Problem, ReasonKind, RunReport, UnitOutcome};
use crate::exit;

/// Builds the report and its exit code: 1 when any input or command failed, or when the
/// database had to be recreated.
pub fn assemble(clock: &Clock, dry_run: bool, evaluation: Evaluation, recovered_from: Option<&Path>) -> RunReport {
    let mut errors = evaluation.errors;
    if let Some(aside) = recovered_from {
        let line = format!("state database was corrupt: moved to {} and started afresh", aside.display());
        errors.push(Problem::other("state", line));
    }
    let command_failed = evaluation
        .units
        .iter()
        .flat_map(|u| &u.outcome.miners)
        .any(|m| m.action.as_ref().is_some_and(ActionOutcome::failed));
    let exit_code = if errors.is_empty() && !command_failed { exit::OK } else { exit::DEGRADED };
    let finished = clock.now + clock.started.elapsed().as_secs() as i64;
    RunReport {
        version: 1,
        started_at: clock.format(clock.now),
        finished_at: clock.format(finished),
        dry_run,
        exit_code,
        units: evaluation.units.into_iter().map(|evaluated| evaluated.outcome).collect(),
        errors,
        timers: evaluation.timers,
        warnings: Vec::new(),
        allocations: evaluation.allocations,
        observations: evaluation.observations,
        inputs: evaluation.inputs,
    }
}

pub fn json(report: &RunReport) -> String {
    serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

pub fn text(report: &RunReport) -> String {
    let mut out = String::new();
    let dry = if report.dry_run { " (dry run: no commands sent)" } else { "" };
    let _ = writeln!(out, "edge-mining cycle at {}{dry}", report.started_at);
    for unit in &report.units {
        let mode = if unit.mode == "auto" { String::new() } else { format!(" [mode {}]", unit.mode) };
        let _ = writeln!(out, "unit {}{mode}: {}", unit.id, energy_summary(unit));
        if let Some(line) = unit.economics.as_ref().map(economics_line) {
            let _ = writeln!(out, "  {line}");
        }
        if let Some(line) = unit.allocation.as_ref().map(allocation_line) {
            let _ = writeln!(out, "  {line}");
        }
        for miner in &unit.miners {
            let _ = writeln!(out, "  {}", miner_line(miner));
        }
        if unit.miners.is_empty() {
            let _ = writeln!(out, "  (no active miners)");
        }
    }
    for warning in &report.warnings {
        let _ = writeln!(out, "warning: {warning}");
    }
    if !report.errors.is_empty() {
        let _ = writeln!(out, "failed inputs:");
        for error in &report.errors {
            let _ = writeln!(out, "  {error}");
        }
    }
    out
}

/// The report for `-q`: nothing after a clean cycle (cron mails only problems), else the
/// cycle's time, each miner whose command failed and each failed input.
pub fn problems(report: &RunReport) -> String {
    let mut out = String::new();
    if report.exit_code == exit::OK {
        return out;
    }
    let _ = writeln!(out, "edge-mining cycle at {}: exit {}", report.started_at, report.exit_code);
    let failed = |m: &&MinerOutcome| m.action.as_ref().is_some_and(|a| !a.ok) || !m.errors.is_empty();
    for unit in &report.units {
        for miner in unit.miners.iter().filter(failed) {
            let _ = writeln!(out, "  unit {}: {}", unit.id, miner_line(miner));
        }
    }
    for error in &report.errors {
        let _ = writeln!(out, "  {error}");
    }
    out
}

fn energy_summary(unit: &UnitOutcome) -> String {
    let Some(energy) = &unit.energy else { return "no energy reading".into() };
    let watts = |pointer: &str| energy.pointer(pointer).and_then(Value::as_f64).map(|w| format!("{w:.0} W"));
    let mut parts = Vec::new();
    if let Some(p) = watts("/production") {
        parts.push(format!("production {p}"));
    }
    if let Some(c) = watts("/consumption/current_power") {
        parts.push(format!("house {c}"));
    }
    if let Some(s) = watts("/surplus_power") {
        parts.push(format!("surplus {s}"));
    }
    if let Some(soc) = energy.pointer("/battery/state_of_charge").and_then(Value::as_f64) {
        parts.push(format!("battery {soc:.0} %"));
    }
    if let Some(g) = watts("/grid/current_power") {
        parts.push(format!("grid {g}"));
    }
    parts.join(", ")
}

/// `economics: revenue 0.42 EUR/h, energy 0.31 EUR/h`.
fn economics_line(economics: &Value) -> String {
    let currency = economics["currency"].as_str().unwrap_or("");
    let amount = |key: &str| economics[key].as_f64().map_or("-".to_string(), |v| format!("{v:.4} {currency}/h"));
    format!("economics: revenue {}, energy {}", amount("revenue_per_hour"), amount("energy_value_per_hour"))
}

/// `allocation: budget 4240 W, available 4140 W (surplus, priority, rules)`.
fn allocation_line(allocation: &Value) -> String {
    let word = |key: &str| allocation[key].as_str().unwrap_or("-").to_string();
    let settings = format!("{}, {}", word("strategy"), word("mode"));
    match (allocation["budget"].as_f64(), allocation["available"].as_f64()) {
        (Some(budget), Some(available)) => {
            format!("allocation: budget {budget:.0} W, available {available:.0} W ({}, {settings})", word("basis"))
        }
        _ => format!("allocation: no budget this cycle (an energy input is missing) ({settings})"),
    }
}

fn miner_line(miner: &MinerOutcome) -> String {
    let rate = miner.hash_rate.map_or("-".to_string(), |h| format!("{} TH/s", significant(h, 4)));
    let power = miner.power.map_or("-".to_string(), |p| format!("{p:.0} W"));
    let mut line =
        format!("{:<14} {:<9} {:>12} {:>8}  {}", miner.id, miner.status.name(), rate, power, miner.decision.name());
    match (&miner.reason.kind, &miner.reason.name) {
        (ReasonKind::None, _) | (_, None) => line.push_str(" (no rule matched)"),
        (kind, Some(name)) => {
            let _ = write!(line, " ({} `{name}`)", kind.name());
        }
    }
    if let Some(share) = &miner.allocation {
        let _ = write!(line, " [share {:.0} W: {}]", share.share, share.why);
    }
    if let Some(rule) = &miner.held_rule {
        let _ = write!(line, " [held rule `{rule}`]");
    }
    for (rule, left) in &miner.waiting {
        let _ = write!(line, " [rule `{rule}` holds, fires in {left} s]");
    }
    if !miner.features_without_value.is_empty() {
        let _ = write!(line, " [no value this cycle: {}]", miner.features_without_value.join(", "));
    }
    if let Some(action) = &miner.action {
        let via = action.controller.as_deref().unwrap_or("?");
        let error = action.error.as_deref().unwrap_or("");
        let result = match (action.ok, action.unknown) {
            (true, _) => "ok".to_string(),
            (false, true) => format!("outcome unknown ({error}); the next read tells"),
            (false, false) => format!("FAILED: {error}"),
        };
        let _ = write!(line, " -> {} via {via}: {result}", action.kind);
    }
    line
}
