//! Condition evaluation over a context (a JSON tree), with Edge Mining's exact semantics.
//!
//! Pure: no I/O, no clock. A missing field, a missing `value_ref`, or any type mismatch
//! makes a leaf false; nothing aborts evaluation.

use std::borrow::Cow;

use regex::Regex;
use serde_json::Value;

use crate::rules::model::{Condition, FieldPath, Leaf, Operand, Operator};

/// Fields whose values are enumerations: compared case-insensitively by every operator.
pub const ENUM_FIELDS: [&str; 3] =
    ["miner_state.status", "energy_source.type", "mining_performance.payout_schedule.frequency"];

/// Evaluates a condition tree; `all_of`/`any_of` short-circuit.
pub fn holds(condition: &Condition, context: &Value) -> bool {
    match condition {
        Condition::Leaf(leaf) => leaf_holds(leaf, context),
        Condition::AllOf(children) => children.iter().all(|child| holds(child, context)),
        Condition::AnyOf(children) => children.iter().any(|child| holds(child, context)),
        Condition::Not(child) => !holds(child, context),
    }
}

pub fn leaf_holds(leaf: &Leaf, context: &Value) -> bool {
    let Some(field) = resolve(context, &leaf.field) else { return false };
    let operand = match &leaf.operand {
        Operand::Value(value) => Cow::Borrowed(value),
        Operand::Ref(path) => match resolve(context, path) {
            Some(value) => value,
            None => return false,
        },
    };
    let is_enum = is_enum_field(&leaf.field) || matches!(&leaf.operand, Operand::Ref(p) if is_enum_field(p));
    let (field, operand) = if is_enum { (lowercased(&field), lowercased(&operand)) } else { (field, operand) };
    match (leaf.operator, &leaf.pattern, &leaf.operand) {
        (Operator::Regex, Some(pattern), Operand::Value(_)) if !is_enum => matches_at_start(pattern, &text(&field)),
        _ => apply(leaf.operator, &field, &operand),
    }
}

fn is_enum_field(path: &FieldPath) -> bool {
    ENUM_FIELDS.contains(&path.text.as_str())
}

/// Follows a dot path: map keys, list indices, and the parts of an RFC 3339 timestamp string.
pub fn resolve<'a>(context: &'a Value, path: &FieldPath) -> Option<Cow<'a, Value>> {
    let mut current: Cow<'a, Value> = Cow::Borrowed(context);
    for segment in &path.segments {
        current = match current {
            Cow::Borrowed(value) => step(value, segment)?,
            Cow::Owned(value) => Cow::Owned(step(&value, segment)?.into_owned()),
        };
    }
    (!current.is_null()).then_some(current)
}

fn step<'a>(value: &'a Value, segment: &str) -> Option<Cow<'a, Value>> {
    match value {
        Value::Object(map) => map.get(segment).filter(|v| !v.is_null()).map(Cow::Borrowed),
        Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)).map(Cow::Borrowed),
        Value::String(text) => crate::core::time::timestamp_part(text, segment).map(|n| Cow::Owned(Value::from(n))),
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
        Operator::Gt => compare(field, value, |a, b| a > b),
        Operator::Gte => compare(field, value, |a, b| a >= b),
        Operator::Lt => compare(field, value, |a, b| a < b),
        Operator::Lte => compare(field, value, |a, b| a <= b),
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
