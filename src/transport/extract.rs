//! Picking one value out of a JSON reply with JSONPath (jsonpath-rust), for the generic HTTP
//! controller and energy monitor.

use jsonpath_rust::JsonPath;
use serde_json::Value;

use crate::core::error::InputError;

/// The first value `path` selects (the whole reply when there is no path).
pub fn extract(reply: &Value, path: Option<&str>) -> Result<Value, InputError> {
    let Some(path) = path else { return Ok(reply.clone()) };
    let found = reply.query(path).map_err(|e| InputError::not_configured(format!("invalid JSONPath `{path}`: {e}")))?;
    let first = found.first().map(|v| (*v).clone());
    first.ok_or_else(|| InputError::invalid(format!("JSONPath `{path}` matches nothing in the reply")))
}

/// Whether a JSONPath expression is valid (for `validate`).
pub fn check(path: &str) -> Result<(), String> {
    Value::Null.query(path).map(|_| ()).map_err(|e| format!("invalid JSONPath `{path}`: {e}"))
}

/// A number from a number or a numeric string (devices often send both).
pub fn as_number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        _ => None,
    }
    .filter(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn extracts_first_match_or_says_why() {
        let reply = json!({"data": {"power": "1234.5", "relays": [{"on": true}, {"on": false}]}});
        assert_eq!(extract(&reply, Some("$.data.power")).unwrap(), json!("1234.5"));
        assert_eq!(extract(&reply, Some("$.data.relays[1].on")).unwrap(), json!(false));
        assert!(extract(&reply, Some("$.data.missing")).unwrap_err().message.contains("matches nothing"));
        assert!(check("$.data[").is_err());
        assert!(check("$.data.power").is_ok());
        assert_eq!(as_number(&json!("1234.5")), Some(1234.5));
    }
}
