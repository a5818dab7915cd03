//! Loading rule files: Edge Mining policy files and rule-list files, with validation that
//! names the file, the line and the rule.

use std::path::Path;

use serde_json::Value as Json;

use crate::core::schema::{PathCheck, check_path};
use crate::diag::Diagnostic;
use crate::duration::Span;
use crate::rules::model::{Condition, FieldPath, Leaf, Operand, Operator, Rule};
use crate::yaml::{Document, Value, index_path, key_path};

const POLICY_KEYS: [&str; 6] = ["id", "name", "description", "metadata", "start_rules", "stop_rules"];
const RULE_KEYS: [&str; 7] = ["id", "name", "description", "conditions", "priority", "enabled", "for"];
const LEAF_KEYS: [&str; 4] = ["field", "operator", "value", "value_ref"];
const GROUP_KEYS: [&str; 3] = ["all_of", "any_of", "not_"];

/// The two file shapes Edge Mining uses.
#[derive(Debug, Clone)]
pub enum RuleFile {
    Policy { name: String, start: Vec<Rule>, stop: Vec<Rule> },
    List(Vec<Rule>),
}

/// Reads and parses a rule file. Errors and warnings come back together; the file is
/// usable only when none of them is an error.
pub fn load_file(file: &Path) -> (Option<RuleFile>, Vec<Diagnostic>) {
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(err) => {
            let location = crate::diag::Location::new(file, 1, 1);
            return (None, vec![Diagnostic::error(location, "", format!("cannot read rule file: {err}"))]);
        }
    };
    parse_text(file, &text)
}

pub fn parse_document(doc: &Document) -> (Option<RuleFile>, Vec<Diagnostic>) {
    let mut loader = Loader { doc, diagnostics: Vec::new(), rule: String::new() };
    let file = loader.file(&doc.value);
    let ok = !crate::diag::has_errors(&loader.diagnostics);
    (file.filter(|_| ok), loader.diagnostics)
}

/// Parses one condition tree from YAML text (for tools and tests); errors carry positions.
pub fn parse_condition(text: &str) -> Result<Condition, Vec<Diagnostic>> {
    let doc = Document::parse(Path::new("<condition>"), text).map_err(|d| vec![d])?;
    let mut loader = Loader { doc: &doc, diagnostics: Vec::new(), rule: String::new() };
    let condition = loader.condition(&doc.value, "", true);
    let errors: Vec<Diagnostic> = loader.diagnostics.into_iter().filter(Diagnostic::is_error).collect();
    match condition {
        Some(condition) if errors.is_empty() => Ok(condition),
        _ => Err(errors),
    }
}

/// Parses a rule file's text as if read from `file`.
pub fn parse_text(file: &Path, text: &str) -> (Option<RuleFile>, Vec<Diagnostic>) {
    match Document::parse(file, text) {
        Ok(doc) => parse_document(&doc),
        Err(diag) => (None, vec![diag]),
    }
}

struct Loader<'a> {
    doc: &'a Document,
    diagnostics: Vec<Diagnostic>,
    /// The rule being read, named in every message about it.
    rule: String,
}

impl Loader<'_> {
    fn error(&mut self, path: &str, message: impl Into<String>) {
        let message = self.with_rule(message.into());
        self.diagnostics.push(Diagnostic::error(self.doc.locate(path), path, message));
    }

    fn warning(&mut self, path: &str, message: impl Into<String>) {
        let message = self.with_rule(message.into());
        self.diagnostics.push(Diagnostic::warning(self.doc.locate(path), path, message));
    }

    fn with_rule(&self, message: String) -> String {
        if self.rule.is_empty() { message } else { format!("rule `{}`: {message}", self.rule) }
    }

    fn file(&mut self, root: &Value) -> Option<RuleFile> {
        let Some(map) = root.as_mapping() else {
            self.error("", "a rule file must be a mapping with `rules:` or `start_rules:`/`stop_rules:`");
            return None;
        };
        if map.contains_key("rules") {
            self.warn_unknown_keys(root, "", &["rules"], "Edge Mining ignores it");
            return Some(RuleFile::List(self.rule_list(root, "rules")));
        }
        if !map.contains_key("start_rules") && !map.contains_key("stop_rules") && !map.contains_key("name") {
            self.error(
                "",
                "not a rule file: expected `rules:` (a rule list) or a policy with `start_rules`/`stop_rules`",
            );
            return None;
        }
        self.warn_unknown_keys(root, "", &POLICY_KEYS, "Edge Mining ignores it");
        let name = match root.get("name").and_then(Value::as_str).map(str::trim) {
            Some(name) if !name.is_empty() => name.to_string(),
            _ => {
                self.error("name", "a policy needs a non-empty `name`");
                String::new()
            }
        };
        let start = self.rule_list(root, "start_rules");
        let stop = self.rule_list(root, "stop_rules");
        self.check_unique_ids(start.iter().chain(&stop));
        Some(RuleFile::Policy { name, start, stop })
    }

    fn warn_unknown_keys(&mut self, value: &Value, path: &str, known: &[&str], why: &str) {
        let Some(map) = value.as_mapping() else { return };
        for key in map.keys().filter_map(Value::as_str) {
            if !known.contains(&key) {
                self.warning(
                    &key_path(path, key),
                    format!("unknown key `{key}` ({why}); known keys: {}", known.join(", ")),
                );
            }
        }
    }

    fn rule_list(&mut self, root: &Value, key: &str) -> Vec<Rule> {
        let Some(value) = root.get(key) else { return Vec::new() };
        if value.is_null() {
            return Vec::new();
        }
        let Some(items) = value.as_sequence() else {
            self.error(key, "expected a list of rules");
            return Vec::new();
        };
        let mut rules = Vec::new();
        for (index, item) in items.iter().enumerate() {
            if let Some(rule) = self.rule(item, &index_path(key, index)) {
                rules.push(rule);
            }
            self.rule.clear();
        }
        if key == "rules" {
            self.check_unique_ids(rules.iter());
        }
        rules
    }

    fn check_unique_ids<'r>(&mut self, rules: impl Iterator<Item = &'r Rule>) {
        let mut seen: Vec<&str> = Vec::new();
        for rule in rules {
            if let Some(id) = rule.id.as_deref() {
                if seen.contains(&id) {
                    self.error("", format!("rule id `{id}` is used twice (rule `{}`)", rule.name));
                }
                seen.push(id);
            }
        }
    }

    fn rule(&mut self, value: &Value, path: &str) -> Option<Rule> {
        if value.as_mapping().is_none() {
            self.error(path, "expected a rule (a mapping with `name` and `conditions`)");
            return None;
        }
        let name = value.get("name").and_then(Value::as_str).map(str::trim).unwrap_or_default().to_string();
        self.rule = if name.is_empty() { format!("#{}", path) } else { name.clone() };
        if name.is_empty() {
            self.error(path, "a rule needs a non-empty `name`");
        }
        self.warn_unknown_keys(value, path, &RULE_KEYS, "Edge Mining ignores it");
        let id = match value.get("id") {
            None | Some(Value::Null) => None,
            Some(Value::String(id)) if id.trim().is_empty() => None,
            Some(Value::String(id)) => Some(id.trim().to_string()),
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(_) => {
                self.error(&key_path(path, "id"), "expected a string");
                None
            }
        };
        let priority = self.priority(value, path);
        let enabled = self.enabled(value, path);
        let hold_for = self.hold_for(value, path);
        let conditions = match value.get("conditions") {
            Some(conditions) => self.condition(conditions, &key_path(path, "conditions"), true),
            None => {
                self.error(path, "a rule needs `conditions`");
                None
            }
        };
        Some(Rule { id, name, conditions: conditions?, priority: priority?, enabled: enabled?, hold_for: hold_for? })
    }

    fn priority(&mut self, value: &Value, path: &str) -> Option<i64> {
        match value.get("priority") {
            None | Some(Value::Null) => Some(0),
            Some(Value::Number(n)) if n.is_i64() => n.as_i64(),
            Some(_) => {
                self.error(&key_path(path, "priority"), "expected an integer");
                None
            }
        }
    }

    fn enabled(&mut self, value: &Value, path: &str) -> Option<bool> {
        match value.get("enabled") {
            None | Some(Value::Null) => Some(true),
            Some(Value::Bool(enabled)) => Some(*enabled),
            Some(_) => {
                self.error(&key_path(path, "enabled"), "expected true or false");
                None
            }
        }
    }

    fn hold_for(&mut self, value: &Value, path: &str) -> Option<Option<Span>> {
        let Some(raw) = value.get("for") else { return Some(None) };
        match serde_yaml::from_value::<Span>(raw.clone()) {
            Ok(span) => Some(Some(span)),
            Err(err) => {
                self.error(&key_path(path, "for"), err.to_string());
                None
            }
        }
    }

    /// A node: a group (exactly one of all_of / any_of / not_) or a leaf.
    fn condition(&mut self, value: &Value, path: &str, top: bool) -> Option<Condition> {
        let Some(map) = value.as_mapping() else {
            self.error(path, "unsupported condition type: expected conditions to be a dict (a leaf or a group)");
            return None;
        };
        let groups: Vec<&str> = GROUP_KEYS.iter().copied().filter(|key| map.contains_key(*key)).collect();
        if groups.len() > 1 {
            self.error(path, format!("a condition has exactly one group key; found {}", groups.join(", ")));
            return None;
        }
        if let Some(&group) = groups.first() {
            let known: Vec<&str> = vec![group];
            self.warn_unknown_keys(value, path, &known, "ignored in a group");
            return self.group(group, &map[group], &key_path(path, group));
        }
        if LEAF_KEYS.iter().any(|key| map.contains_key(*key)) {
            self.warn_unknown_keys(value, path, &LEAF_KEYS, "ignored in a leaf");
            return self.leaf(value, path).map(Condition::Leaf);
        }
        let _ = top;
        self.error(
            path,
            "invalid conditions format: expected `field`/`operator`/`value`, or one of all_of, any_of, not_",
        );
        None
    }

    fn group(&mut self, group: &str, value: &Value, path: &str) -> Option<Condition> {
        if group == "not_" {
            let child = self.condition(value, path, false)?;
            if may_be_missing(&child) {
                self.warning(path, "`not_` is true when its field is missing (Edge Mining semantics)");
            }
            return Some(Condition::Not(Box::new(child)));
        }
        let Some(items) = value.as_sequence().filter(|items| !items.is_empty()) else {
            self.error(path, format!("`{group}` needs a non-empty list of conditions"));
            return None;
        };
        let mut children = Vec::new();
        for (index, item) in items.iter().enumerate() {
            children.push(self.condition(item, &index_path(path, index), false));
        }
        let children: Option<Vec<Condition>> = children.into_iter().collect();
        Some(if group == "all_of" { Condition::AllOf(children?) } else { Condition::AnyOf(children?) })
    }

    fn leaf(&mut self, value: &Value, path: &str) -> Option<Leaf> {
        let field = self.field_path(value.get("field"), &key_path(path, "field"), "field");
        let operator = match value.get("operator").and_then(Value::as_str) {
            Some(name) => Operator::parse(name).map_err(|e| self.error(&key_path(path, "operator"), e)).ok(),
            None => {
                self.error(path, "a leaf needs `operator`");
                None
            }
        };
        let given = |key| value.get(key).filter(|v| !v.is_null());
        let operand = match (given("value"), given("value_ref")) {
            (Some(_), Some(_)) => {
                self.error(path, "give exactly one of `value` and `value_ref`, not both");
                None
            }
            (None, None) => {
                self.error(path, "a leaf needs `value` or `value_ref`");
                None
            }
            (Some(literal), None) => self.literal(literal, &key_path(path, "value")).map(Operand::Value),
            (None, Some(reference)) => {
                self.field_path(Some(reference), &key_path(path, "value_ref"), "value_ref").map(Operand::Ref)
            }
        };
        let (field, operator, operand) = (field?, operator?, operand?);
        let pattern = self.pattern(operator, &operand, path);
        let enumeration = crate::rules::eval::is_enumeration(&field, &operand);
        let number = match &operand {
            Operand::Value(value) => crate::rules::eval::as_f64(value),
            Operand::Ref(_) => None,
        };
        Some(Leaf { field, operator, operand, pattern, enumeration, number })
    }

    fn field_path(&mut self, value: Option<&Value>, path: &str, key: &str) -> Option<FieldPath> {
        let Some(text) = value.and_then(Value::as_str) else {
            self.error(path, format!("`{key}` must be a dot path such as energy_state.production"));
            return None;
        };
        let field = FieldPath::parse(text).map_err(|e| self.error(path, e)).ok()?;
        match check_path(text) {
            PathCheck::Known => {}
            PathCheck::Unknown { valid_prefix, expected } => {
                let place =
                    if valid_prefix.is_empty() { "the context".to_string() } else { format!("`{valid_prefix}`") };
                self.error(path, format!("`{text}` cannot exist in the context; {place} has: {}", expected.join(", ")));
                return None;
            }
        }
        Some(field)
    }

    /// A value is a number, string, boolean, or a flat list of those.
    fn literal(&mut self, value: &Value, path: &str) -> Option<Json> {
        let scalar = |v: &Value| matches!(v, Value::Number(_) | Value::String(_) | Value::Bool(_));
        let ok = match value {
            Value::Sequence(items) => items.iter().all(scalar),
            other => scalar(other),
        };
        if !ok {
            self.error(path, "`value` must be a number, string, boolean or a flat list of those");
            return None;
        }
        serde_json::to_value(value).map_err(|e| self.error(path, e.to_string())).ok()
    }

    fn pattern(&mut self, operator: Operator, operand: &Operand, path: &str) -> Option<regex::Regex> {
        let (Operator::Regex, Operand::Value(value)) = (operator, operand) else { return None };
        let text = crate::rules::eval::text(value);
        match regex::Regex::new(&text) {
            Ok(pattern) => Some(pattern),
            Err(err) => {
                self.error(&key_path(path, "value"), format!("invalid regular expression: {err}"));
                None
            }
        }
    }
}

/// Whether a condition reads a field a context may lack (every context has `timestamp`).
fn may_be_missing(condition: &Condition) -> bool {
    match condition {
        Condition::Leaf(leaf) => {
            leaf.field.segments.first().is_none_or(|root| root != "timestamp")
                || matches!(leaf.operand, Operand::Ref(_))
        }
        Condition::AllOf(all) | Condition::AnyOf(all) => all.iter().any(may_be_missing),
        Condition::Not(inner) => may_be_missing(inner),
    }
}
