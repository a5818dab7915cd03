//! What a cycle produced: per unit and miner, the decision, its reason and the action taken.
//! Serialises to the stable `--output json` document (SPEC §11).

use serde::Serialize;
use serde_json::Value;

use crate::rules::model::Decision;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonKind {
    Rule,
    Safety,
    Guard,
    /// The unit's allocation (SPEC §17.4): a stop after `stop_after`, a start in `auto` mode.
    Allocation,
    /// The unit's mode (SPEC §21): `off` stops, `hold` holds back.
    Mode,
    /// A command by hand: the command line or the dashboard.
    Manual,
    None,
}

impl ReasonKind {
    pub fn name(self) -> &'static str {
        match self {
            ReasonKind::Rule => "rule",
            ReasonKind::Safety => "safety",
            ReasonKind::Guard => "guard",
            ReasonKind::Allocation => "allocation",
            ReasonKind::Mode => "mode",
            ReasonKind::Manual => "manual",
            ReasonKind::None => "none",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    pub kind: ReasonKind,
    pub name: Option<String>,
}

impl Reason {
    pub fn none() -> Reason {
        Reason { kind: ReasonKind::None, name: None }
    }

    /// In words, for a notification: "rule `Surplus covers the miner`", "safety
    /// `min_battery_soc …`", "manual"; `None` when no rule matched.
    pub fn describe(&self) -> Option<String> {
        match (self.kind, &self.name) {
            (_, None) => None,
            (ReasonKind::None, Some(name)) => Some(name.clone()),
            (kind, Some(name)) => Some(format!("{} `{name}`", kind.name())),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActionOutcome {
    /// `start_mining`, `stop_mining`, `power_on` or `power_off`.
    pub kind: String,
    pub controller: Option<String>,
    pub feature: Option<String>,
    pub ok: bool,
    /// The watts of a power target: those applied, else those asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub watts: Option<f64>,
    /// The write restarts the miner (it counts as a start for the guards).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub restarts: bool,
    /// The write timed out: it may have been applied, and the next read tells (not a failure).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unknown: bool,
    pub error: Option<String>,
}

impl ActionOutcome {
    /// The command failed for sure (a timed-out write is unknown, not failed).
    pub fn failed(&self) -> bool {
        !self.ok && !self.unknown
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct MinerOutcome {
    pub id: String,
    pub status: crate::core::status::MinerStatus,
    pub hash_rate: Option<f64>,
    pub power: Option<f64>,
    /// The power target the firmware holds, and its bounds (SPEC §16).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub power_target: Option<Value>,
    pub decision: Decision,
    pub reason: Reason,
    /// The rule whose decision a guard, safety or the allocation held back (SPEC §22).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_rule: Option<String>,
    pub action: Option<ActionOutcome>,
    pub errors: Vec<String>,
    /// Features a controller advertises that gave no value this cycle.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub features_without_value: Vec<&'static str>,
    /// Each bound readable feature and whether it gave a value (for metrics).
    #[serde(skip)]
    pub feature_up: Vec<(&'static str, bool)>,
    /// The decisional context the rules saw, kept whole only when asked for
    /// (`run --explain`, `context`); what later stages read of it is in `facts`.
    #[serde(skip)]
    pub context: Option<Value>,
    #[serde(skip)]
    pub facts: crate::core::context::ContextFacts,
    /// Rules waiting on `for:`: (name, seconds left), shown in the text report.
    #[serde(skip)]
    pub waiting: Vec<(String, i64)>,
    /// Its share of the unit's budget, with an `allocation:` block (SPEC §17.4).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allocation: Option<crate::core::allocation::Share>,
}

#[derive(Debug, Clone, Serialize)]
pub struct UnitOutcome {
    pub id: String,
    pub energy: Option<Value>,
    pub forecast: Option<Value>,
    pub tracker: Option<Value>,
    /// Revenue rate and energy value per hour, with tariffs (SPEC §19).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub economics: Option<Value>,
    /// The budget and how it is shared, with an `allocation:` block (SPEC §17.4).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allocation: Option<Value>,
    /// `auto`, `hold` or `off` (SPEC §21).
    pub mode: &'static str,
    pub miners: Vec<MinerOutcome>,
    /// The unit-wide part of its miners' economics section (currency, BTC price, hashprice),
    /// for metrics.
    #[serde(skip)]
    pub market: Option<Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// The version of this document's shape.
    pub version: u32,
    pub started_at: String,
    pub finished_at: String,
    pub dry_run: bool,
    pub exit_code: i32,
    pub units: Vec<UnitOutcome>,
    /// Failed inputs and other problems, one line each.
    pub errors: Vec<Problem>,
    /// What is odd but not a failure (a clock that went backwards), one line each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The `for:` timers to persist: (unit, miner, timers). Internal, not printed.
    #[serde(skip)]
    pub timers: Vec<(String, String, crate::rules::decide::Timers)>,
    /// The allocation state of each allocation unit, to persist. Internal, not printed.
    #[serde(skip)]
    pub allocations: crate::cycle::allocate::States,
    /// Home-load samples and thermostats to record. Internal, not printed.
    #[serde(skip)]
    pub observations: crate::cycle::home::Observations,
    /// Every input and whether it was read, for metrics. Internal, not printed.
    #[serde(skip)]
    pub inputs: Vec<InputStatus>,
}

/// One input of the cycle: an energy source, a forecast, a tracker or a miner.
#[derive(Debug, Clone, PartialEq)]
pub struct InputStatus {
    pub kind: &'static str,
    pub id: String,
    pub up: bool,
    /// Seconds since its data was read, when it has data.
    pub age: Option<i64>,
}

/// A problem of the cycle: what it is about (stable across runs, for notification
/// de-duplication), its kind when it is a failed input, and the line people read.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// `energy_source/house`, `tracker/pool`, `miner/rig/asic`…: ids, never ages or instants.
    pub subject: String,
    pub kind: Option<crate::core::error::ErrorKind>,
    pub line: String,
}

impl Problem {
    /// A problem that is not a failed input (a corrupt state file, a miner that cannot act).
    pub fn other(subject: impl Into<String>, line: impl Into<String>) -> Problem {
        Problem { subject: subject.into(), kind: None, line: line.into() }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.line)
    }
}

/// Printed as its line, as the report always did.
impl Serialize for Problem {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.line)
    }
}
