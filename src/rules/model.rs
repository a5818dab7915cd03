//! The rule model: rule sets, rules, condition trees, operators and field paths.

pub use crate::core::decision::Decision;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, OnceLock};

use regex::Regex;
use serde_json::Value;

use crate::duration::Span;

/// Which list a rule belongs to: start rules run for idle miners, stop rules for running ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    Start,
    Stop,
}

impl RuleKind {
    pub fn name(self) -> &'static str {
        match self {
            RuleKind::Start => "start",
            RuleKind::Stop => "stop",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub id: Option<String>,
    pub name: String,
    pub conditions: Condition,
    pub priority: i64,
    pub enabled: bool,
    /// Our extension: the conditions must have held this long before the rule fires.
    pub hold_for: Option<Span>,
}

impl Rule {
    /// The key its `for:` timer is stored under (per unit and miner).
    pub fn timer_key(&self, kind: RuleKind) -> String {
        format!("{}:{}", kind.name(), self.id.as_deref().unwrap_or(&self.name))
    }
}

/// The start and stop rules of one unit, each sorted by priority (descending, stable).
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    pub name: Option<String>,
    pub start: Vec<Rule>,
    pub stop: Vec<Rule>,
}

impl RuleSet {
    pub fn new(name: Option<String>, mut start: Vec<Rule>, mut stop: Vec<Rule>) -> RuleSet {
        start.sort_by_key(|rule| std::cmp::Reverse(rule.priority));
        stop.sort_by_key(|rule| std::cmp::Reverse(rule.priority));
        RuleSet { name, start, stop }
    }

    pub fn rules(&self, kind: RuleKind) -> &[Rule] {
        match kind {
            RuleKind::Start => &self.start,
            RuleKind::Stop => &self.stop,
        }
    }

    /// Every field path its rules read (fields and `value_ref`s), with the rule's name.
    pub fn field_paths(&self) -> Vec<(&str, &FieldPath)> {
        fn walk<'a>(rule: &'a str, condition: &'a Condition, out: &mut Vec<(&'a str, &'a FieldPath)>) {
            match condition {
                Condition::Leaf(leaf) => {
                    out.push((rule, &leaf.field));
                    if let Operand::Ref(reference) = &leaf.operand {
                        out.push((rule, reference));
                    }
                }
                Condition::AllOf(all) | Condition::AnyOf(all) => all.iter().for_each(|c| walk(rule, c, out)),
                Condition::Not(inner) => walk(rule, inner, out),
            }
        }
        let mut out = Vec::new();
        for rule in self.start.iter().chain(&self.stop) {
            walk(&rule.name, &rule.conditions, &mut out);
        }
        out
    }
}

#[derive(Debug, Clone)]
pub enum Condition {
    Leaf(Leaf),
    AllOf(Vec<Condition>),
    AnyOf(Vec<Condition>),
    Not(Box<Condition>),
}

#[derive(Debug, Clone)]
pub struct Leaf {
    pub field: FieldPath,
    pub operator: Operator,
    pub operand: Operand,
    /// The pattern of a `regex` leaf with a literal value, compiled once (None: invalid).
    pub pattern: Option<Regex>,
    /// The field or the value_ref is an enumeration (compared case-insensitively).
    pub enumeration: bool,
    /// A literal operand read as a number (as `gt`, `lt`… read it), once, when loaded.
    pub number: Option<f64>,
}

#[derive(Debug, Clone)]
pub enum Operand {
    Value(Value),
    Ref(FieldPath),
}

/// A dot path into the context, split once. Equal paths share an `id`, so an evaluation
/// can resolve each distinct path once per context, however many rules use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    pub text: String,
    pub segments: Vec<String>,
    pub id: usize,
}

static IDS: OnceLock<Mutex<HashMap<String, usize>>> = OnceLock::new();

/// The id of a path text: the same text always gets the same id, in this process.
fn intern(text: &str) -> usize {
    let mut ids = IDS.get_or_init(Mutex::default).lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let next = ids.len();
    *ids.entry(text.to_string()).or_insert(next)
}

/// How many distinct paths this process has seen: ids are below it.
pub fn path_count() -> usize {
    IDS.get().map_or(0, |ids| ids.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).len())
}

impl FieldPath {
    /// Paths are ASCII letters, digits, `_` and `.`, with no empty segment.
    pub fn parse(text: &str) -> Result<FieldPath, String> {
        let valid = !text.is_empty()
            && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
            && text.split('.').all(|segment| !segment.is_empty());
        if !valid {
            return Err(format!("invalid field path `{text}`: use dot-separated names of letters, digits and `_`"));
        }
        Ok(FieldPath {
            text: text.to_string(),
            segments: text.split('.').map(str::to_string).collect(),
            id: intern(text),
        })
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
    In,
    NotIn,
    Contains,
    StartsWith,
    EndsWith,
    Regex,
}

impl Operator {
    pub const ALL: [Operator; 12] = [
        Operator::Eq,
        Operator::Ne,
        Operator::Gt,
        Operator::Gte,
        Operator::Lt,
        Operator::Lte,
        Operator::In,
        Operator::NotIn,
        Operator::Contains,
        Operator::StartsWith,
        Operator::EndsWith,
        Operator::Regex,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Operator::Eq => "eq",
            Operator::Ne => "ne",
            Operator::Gt => "gt",
            Operator::Gte => "gte",
            Operator::Lt => "lt",
            Operator::Lte => "lte",
            Operator::In => "in",
            Operator::NotIn => "not_in",
            Operator::Contains => "contains",
            Operator::StartsWith => "starts_with",
            Operator::EndsWith => "ends_with",
            Operator::Regex => "regex",
        }
    }

    /// Operator names are case-insensitive.
    pub fn parse(text: &str) -> Result<Operator, String> {
        let wanted = text.trim().to_ascii_lowercase();
        Operator::ALL.into_iter().find(|op| op.name() == wanted).ok_or_else(|| {
            let names: Vec<&str> = Operator::ALL.iter().map(|op| op.name()).collect();
            format!("unknown operator `{text}`; expected one of: {}", names.join(", "))
        })
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
