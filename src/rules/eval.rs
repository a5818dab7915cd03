//! Condition evaluation over a context (a JSON tree), with Edge Mining's exact semantics.
//!
//! Pure: no I/O, no clock. A missing field, a missing `value_ref`, or any type mismatch
//! makes a leaf false; nothing aborts evaluation.

use std::borrow::Cow;
use std::cell::OnceCell;

use regex::Regex;
use serde_json::Value;

use crate::rules::model::{Condition, FieldPath, Leaf, Operand, Operator, path_count};

/// Fields whose values are enumerations: compared case-insensitively by every operator.
pub const ENUM_FIELDS: [&str; 3] =
    ["miner_state.status", "energy_source.type", "mining_performance.payout_schedule.frequency"];

/// Evaluates a condition tree; `all_of`/`any_of` short-circuit.
pub fn holds(condition: &Condition, context: &Value) -> bool {
    Evaluator::new(context).holds(condition)
}

pub fn leaf_holds(leaf: &Leaf, context: &Value) -> bool {
    Evaluator::new(context).leaf_holds(leaf)
}

/// Evaluates conditions against one context, resolving each distinct field path once (and
/// reading it as a number once), however many rules use it.
pub struct Evaluator<'a> {
    context: &'a Value,
    /// By path id; paths interned after this evaluator was made are resolved each time.
    slots: Vec<OnceCell<Slot<'a>>>,
}

/// A resolved path: its value (absent when missing or null) and, on first use, its number.
struct Slot<'a> {
    value: Option<Cow<'a, Value>>,
    number: OnceCell<Option<f64>>,
}

impl Slot<'_> {
    fn number(&self) -> Option<f64> {
        *self.number.get_or_init(|| self.value.as_deref().and_then(as_f64))
    }
}

impl<'a> Evaluator<'a> {
    pub fn new(context: &'a Value) -> Evaluator<'a> {
        Evaluator { context, slots: (0..path_count()).map(|_| OnceCell::new()).collect() }
    }

    fn slot(&self, path: &FieldPath) -> Option<&Slot<'a>> {
        let cell = self.slots.get(path.id)?;
        Some(cell.get_or_init(|| Slot { value: resolve(self.context, path), number: OnceCell::new() }))
    }

    pub fn holds(&self, condition: &Condition) -> bool {
        match condition {
            Condition::Leaf(leaf) => self.leaf_holds(leaf),
            Condition::AllOf(children) => children.iter().all(|child| self.child_holds(child)),
            Condition::AnyOf(children) => children.iter().any(|child| self.child_holds(child)),
            Condition::Not(child) => !self.child_holds(child),
        }
    }

    /// A leaf without a recursive call (most children are leaves; the recursion's frame
    /// cost as much as the comparison).
    #[inline(always)]
    fn child_holds(&self, condition: &Condition) -> bool {
        match condition {
            Condition::Leaf(leaf) => self.leaf_holds(leaf),
            other => self.holds(other),
        }
    }

    /// A leaf: a missing field or `value_ref` is false; `gt`/`gte`/`lt`/`lte` compare the
    /// numbers read once per path; every other operator goes through `compare_leaf`.
    pub fn leaf_holds(&self, leaf: &Leaf) -> bool {
        let Some(field) = self.slot(&leaf.field) else { return self.resolving_each_time(leaf) };
        let Some(field_value) = field.value.as_deref() else { return false };
        let ordered = ordering(leaf.operator);
        match &leaf.operand {
            Operand::Value(operand) => match ordered {
                Some(order) => field.number().zip(leaf.number).is_some_and(|(a, b)| order(a, b)),
                None => compare_leaf(leaf, Cow::Borrowed(field_value), Cow::Borrowed(operand)),
            },
            Operand::Ref(path) => {
                let Some(other) = self.slot(path) else { return self.resolving_each_time(leaf) };
                let Some(other_value) = other.value.as_deref() else { return false };
                match ordered {
                    Some(order) => field.number().zip(other.number()).is_some_and(|(a, b)| order(a, b)),
                    None => compare_leaf(leaf, Cow::Borrowed(field_value), Cow::Borrowed(other_value)),
                }
            }
        }
    }

    /// A leaf over a path this evaluator has no slot for.
    fn resolving_each_time(&self, leaf: &Leaf) -> bool {
        let Some(field) = resolve(self.context, &leaf.field) else { return false };
        let operand = match &leaf.operand {
            Operand::Value(value) => Cow::Borrowed(value),
            Operand::Ref(path) => match resolve(self.context, path) {
                Some(value) => value,
                None => return false,
            },
        };
        compare_leaf(leaf, field, operand)
    }
}

/// The numeric comparison of an ordering operator.
fn ordering(operator: Operator) -> Option<fn(f64, f64) -> bool> {
    match operator {
        Operator::Gt => Some(|a, b| a > b),
        Operator::Gte => Some(|a, b| a >= b),
        Operator::Lt => Some(|a, b| a < b),
        Operator::Lte => Some(|a, b| a <= b),
        _ => None,
    }
}

fn compare_leaf(leaf: &Leaf, field: Cow<'_, Value>, operand: Cow<'_, Value>) -> bool {
    let is_enum = leaf.enumeration;
    if is_enum && let Some(verdict) = enum_fast_path(leaf.operator, &field, &operand) {
        return verdict;
    }
    let (field, operand) = if is_enum { (lowercased(&field), lowercased(&operand)) } else { (field, operand) };
    match (leaf.operator, &leaf.pattern, &leaf.operand) {
        (Operator::Regex, Some(pattern), Operand::Value(_)) if !is_enum => matches_at_start(pattern, &text(&field)),
        _ => apply(leaf.operator, &field, &operand),
    }
}

/// Whether a leaf compares enumerations (decided once, when the rule is loaded).
pub fn is_enumeration(field: &FieldPath, operand: &Operand) -> bool {
    let is_enum = |path: &FieldPath| {
        ENUM_FIELDS.contains(&path.text.as_str())
            || (path.text.starts_with("home_load.devices.") && path.text.ends_with(".device_category"))
    };
    is_enum(field) || matches!(operand, Operand::Ref(p) if is_enum(p))
}

/// Follows a dot path: map keys, list indices, and the parts of an RFC 3339 timestamp string.
pub fn resolve<'a>(context: &'a Value, path: &FieldPath) -> Option<Cow<'a, Value>> {
    let mut current = context;
    let last = path.segments.len().saturating_sub(1);
    for (index, segment) in path.segments.iter().enumerate() {
        current = match current {
            Value::Object(map) => map.get(segment.as_str())?,
            Value::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
            Value::String(text) if index == last => {
                return crate::core::time::timestamp_part(text, segment).map(|n| Cow::Owned(Value::from(n)));
            }
            _ => return None,
        };
    }
    (!current.is_null()).then_some(Cow::Borrowed(current))
}

/// Equality and membership of enumeration strings, case-insensitively, without allocating.
fn enum_fast_path(operator: Operator, field: &Value, operand: &Value) -> Option<bool> {
    let field = field.as_str()?;
    let member =
        |items: &[Value]| items.iter().any(|item| item.as_str().is_some_and(|s| s.eq_ignore_ascii_case(field)));
    match (operator, operand) {
        (Operator::Eq, Value::String(v)) => Some(v.eq_ignore_ascii_case(field)),
        (Operator::Ne, Value::String(v)) => Some(!v.eq_ignore_ascii_case(field)),
        (Operator::In, Value::Array(items)) => Some(member(items)),
        (Operator::NotIn, Value::Array(items)) => Some(!member(items)),
        _ => None,
    }
}

fn lowercased(value: &Value) -> Cow<'_, Value> {
    match value {
        Value::String(text) => Cow::Owned(Value::String(text.to_lowercase())),
        Value::Array(items) => Cow::Owned(Value::Array(items.iter().map(|v| lowercased(v).into_owned()).collect())),
        other => Cow::Borrowed(other),
    }
}

/// Applies an operator to a resolved field value F and comparison value V.
pub fn apply(operator: Operator, field: &Value, value: &Value) -> bool {
    match operator {
        Operator::Eq => equal(field, value),
        Operator::Ne => !equal(field, value),
        Operator::Gt | Operator::Gte | Operator::Lt | Operator::Lte => {
            ordering(operator).is_some_and(|order| compare(field, value, order))
        }
        Operator::In => membership(field, value).unwrap_or(false),
        Operator::NotIn => membership(field, value).is_some_and(|found| !found),
        Operator::Contains => text(field).contains(text(value).as_ref()),
        Operator::StartsWith => text(field).starts_with(text(value).as_ref()),
        Operator::EndsWith => text(field).ends_with(text(value).as_ref()),
        Operator::Regex => Regex::new(&text(value)).is_ok_and(|pattern| matches_at_start(&pattern, &text(field))),
    }
}

/// Equality without coercion between types; integers and floats compare numerically.
pub fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| equal(a, b)),
        _ => a == b,
    }
}

fn compare(a: &Value, b: &Value, op: fn(f64, f64) -> bool) -> bool {
    match (as_f64(a), as_f64(b)) {
        (Some(a), Some(b)) => op(a, b),
        _ => false,
    }
}

/// Float conversion as Python's `float()`: numbers, numeric strings, booleans as 1/0.
pub fn as_f64(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        Value::String(s) => parse_float(s.trim()),
        _ => None,
    }
}

fn parse_float(text: &str) -> Option<f64> {
    let lower = text.to_ascii_lowercase();
    match lower.trim_start_matches(['+', '-']) {
        "inf" | "infinity" | "nan" => lower.parse().ok(),
        _ if text.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-' | '_')) => {
            text.replace('_', "").parse().ok()
        }
        _ => None,
    }
}

/// `Some(found)` for a list or a string-in-string test; `None` for a type mismatch.
fn membership(field: &Value, value: &Value) -> Option<bool> {
    match (field, value) {
        (_, Value::Array(items)) => Some(items.iter().any(|item| equal(field, item))),
        (Value::String(f), Value::String(v)) => Some(v.contains(f.as_str())),
        _ => None,
    }
}

/// text(): strings as they are, numbers as written, anything else as JSON.
pub fn text(value: &Value) -> Cow<'_, str> {
    match value {
        Value::String(s) => Cow::Borrowed(s),
        other => Cow::Owned(other.to_string()),
    }
}

/// Python `re.match`: a match that begins at the first character.
fn matches_at_start(pattern: &Regex, text: &str) -> bool {
    pattern.find(text).is_some_and(|m| m.start() == 0)
}

/// Why a condition holds or not, one line per leaf, for `rules test` failure output.
pub fn explain(condition: &Condition, context: &Value, depth: usize, out: &mut Vec<String>) {
    let indent = "  ".repeat(depth);
    let verdict = |held: bool| if held { "true" } else { "false" };
    match condition {
        Condition::Leaf(leaf) => {
            let field = resolve(context, &leaf.field).map_or("missing".to_string(), |v| v.to_string());
            let operand = match &leaf.operand {
                Operand::Value(v) => v.to_string(),
                Operand::Ref(path) => {
                    format!("{path} (= {})", resolve(context, path).map_or("missing".to_string(), |v| v.to_string()))
                }
            };
            out.push(format!(
                "{indent}{} {} {operand}: {} (field is {field})",
                leaf.field,
                leaf.operator,
                verdict(leaf_holds(leaf, context))
            ));
        }
        Condition::AllOf(children) | Condition::AnyOf(children) => {
            let name = if matches!(condition, Condition::AllOf(_)) { "all_of" } else { "any_of" };
            out.push(format!("{indent}{name}: {}", verdict(holds(condition, context))));
            for child in children {
                explain(child, context, depth + 1, out);
            }
        }
        Condition::Not(child) => {
            out.push(format!("{indent}not_: {}", verdict(holds(condition, context))));
            explain(child, context, depth + 1, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::load::parse_condition;
    use serde_json::json;

    /// One evaluator reads a path once and serves every leaf over it: numbers, numeric
    /// strings and booleans order as Python's `float()` reads them; text does not order.
    #[test]
    fn a_path_read_once_serves_every_operator() {
        let context = json!({"energy_state": {"production": "12.5", "grid": true, "consumption": 12.5}, "miner_state": {"status": "off"}});
        let evaluator = Evaluator::new(&context);
        let check = |yaml: &str| evaluator.holds(&parse_condition(yaml).expect("condition"));
        assert!(check("{field: energy_state.production, operator: gt, value: 12}"));
        assert!(check("{field: energy_state.production, operator: lte, value: 12.5}"));
        assert!(!check("{field: energy_state.production, operator: lt, value: 12.5}"));
        assert!(check("{field: energy_state.production, operator: eq, value: '12.5'}"), "eq compares the string");
        assert!(!check("{field: energy_state.production, operator: eq, value: 12.5}"), "without coercion");
        assert!(check("{field: energy_state.grid, operator: gte, value: 1}"));
        assert!(!check("{field: miner_state.status, operator: gt, value: 0}"));
        assert!(!check("{field: miner_state.status, operator: lt, value: 0}"));
        assert!(check("{field: energy_state.consumption, operator: gte, value_ref: energy_state.production}"));
        assert!(!check("{field: energy_state.battery.state_of_charge, operator: lt, value: 1}"));
        assert!(!check(
            "{field: energy_state.consumption, operator: lt, value_ref: energy_state.battery.state_of_charge}"
        ));
    }
}
