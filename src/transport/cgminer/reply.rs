//! Reading CGMiner replies: the STATUS verdict in both shapes, sections by name, and the
//! numbers firmwares send as numbers or numeric strings.

use serde_json::Value;

/// Checks `STATUS`: an array (`[{"STATUS":"S",…}]`) or, on Whatsminer's own commands, a flat
/// string. `S` and `I` are success; `W`, `E`, `F` carry the firmware's message.
pub fn check_status(reply: &Value) -> Result<(), String> {
    let status = reply.get("STATUS").or_else(|| reply.get("status"));
    let (letter, message) = match status {
        Some(Value::Array(items)) => {
            let first = items.first();
            let letter = first.and_then(|s| s.get("STATUS")).and_then(Value::as_str).unwrap_or("");
            let message = first.and_then(|s| s.get("Msg")).map(text).unwrap_or_default();
            (letter.to_string(), message)
        }
        Some(Value::String(letter)) => (letter.clone(), reply.get("Msg").map(text).unwrap_or_default()),
        _ => return Err("the reply has no STATUS".into()),
    };
    match letter.as_str() {
        "S" | "I" => Ok(()),
        other => Err(format!("the miner answered {other}: {message}")),
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A section (`SUMMARY`, `DEVS`, `STATS`…) by case-insensitive name.
pub fn section<'a>(reply: &'a Value, name: &str) -> &'a [Value] {
    reply
        .as_object()
        .and_then(|map| map.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)))
        .and_then(|(_, value)| value.as_array())
        .map_or(&[], Vec::as_slice)
}

/// The first entry of a section.
pub fn first<'a>(reply: &'a Value, name: &str) -> Option<&'a Value> {
    section(reply, name).first()
}

/// A finite number from a number or a numeric string, with or without a unit suffix
/// (`"58.94W"`, `"4052.00 RPM"`, `"75 °C"`); NaN, infinities and other text are absent.
pub fn number(value: Option<&Value>) -> Option<f64> {
    let number = match value? {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => with_unit(s.trim().trim_matches('\''))?,
        _ => return None,
    };
    number.is_finite().then_some(number)
}

/// `12.5`, or `12.5` followed by a unit made of letters, `%`, `°` and `/` only.
fn with_unit(text: &str) -> Option<f64> {
    if let Ok(number) = text.parse() {
        return Some(number);
    }
    let end = numeric_prefix(text);
    let unit = text[end..].trim();
    let is_unit = !unit.is_empty() && unit.chars().all(|c| c.is_alphabetic() || matches!(c, '%' | '°' | '/' | ' '));
    if end == 0 || !is_unit {
        return None;
    }
    text[..end].trim().parse().ok()
}

/// The length of the leading `-12.5` of a text (sign, digits, one point; no exponent).
fn numeric_prefix(text: &str) -> usize {
    let mut seen_point = false;
    let mut end = 0;
    for (index, c) in text.char_indices() {
        match c {
            '-' | '+' if index == 0 => {}
            '.' if !seen_point => seen_point = true,
            c if c.is_ascii_digit() => {}
            _ => break,
        }
        end = index + c.len_utf8();
    }
    end
}

/// A field of an object as a number.
pub fn field(object: &Value, key: &str) -> Option<f64> {
    number(object.get(key))
}

/// A field of an object as text (strings as they are; quotes some firmwares add removed).
pub fn field_text(object: &Value, key: &str) -> Option<String> {
    match object.get(key)? {
        Value::String(s) => Some(s.trim().trim_matches('\'').to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn both_status_shapes() {
        assert!(check_status(&json!({"STATUS": [{"STATUS": "S", "Msg": "Summary"}]})).is_ok());
        assert!(check_status(&json!({"STATUS": [{"STATUS": "I", "Msg": "ASC 0 set info"}]})).is_ok());
        assert!(check_status(&json!({"STATUS": "S", "Msg": {"btmineroff": "false"}})).is_ok());
        let err = check_status(&json!({"STATUS": [{"STATUS": "E", "Msg": "Invalid command"}]})).unwrap_err();
        assert!(err.contains("Invalid command"));
        assert!(check_status(&json!({"STATUS": "E", "Msg": "invalid cmd"})).is_err());
        assert!(check_status(&json!({"SUMMARY": []})).is_err());
    }

    #[test]
    fn numbers_from_strings_and_nothing_from_nonsense() {
        assert_eq!(number(Some(&json!("37603.30"))), Some(37603.3));
        assert_eq!(number(Some(&json!(12))), Some(12.0));
        assert_eq!(number(Some(&json!("inf"))), None);
        assert_eq!(number(Some(&json!(null))), None);
        assert_eq!(field_text(&json!({"v": "'20210322.22.REL'"}), "v").as_deref(), Some("20210322.22.REL"));
    }

    #[test]
    fn numbers_with_a_unit_suffix() {
        assert_eq!(number(Some(&json!("58.94W"))), Some(58.94));
        assert_eq!(number(Some(&json!("4052.00 RPM"))), Some(4052.0));
        assert_eq!(number(Some(&json!("3250 W"))), Some(3250.0));
        assert_eq!(number(Some(&json!("72 °C"))), Some(72.0));
        assert_eq!(number(Some(&json!("-3.5%"))), Some(-3.5));
        assert_eq!(number(Some(&json!("78-50-69-70"))), None, "corner strings are not one number");
        assert_eq!(number(Some(&json!("W"))), None);
        assert_eq!(number(Some(&json!("12 W 3"))), None);
    }
}
