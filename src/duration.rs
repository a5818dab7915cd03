//! Durations as users write them in config and rule files: `90s`, `15m`, `2h`, `90d`.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A non-negative duration parsed from a human string (or a plain number of seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Span(pub Duration);

impl Span {
    pub const fn secs(seconds: u64) -> Span {
        Span(Duration::from_secs(seconds))
    }

    pub fn as_secs_f64(&self) -> f64 {
        self.0.as_secs_f64()
    }

    pub fn as_secs_i64(&self) -> i64 {
        i64::try_from(self.0.as_secs()).unwrap_or(i64::MAX)
    }

    pub fn parse(text: &str) -> Result<Span, String> {
        humantime::parse_duration(text.trim())
            .map(Span)
            .map_err(|err| format!("invalid duration `{text}` ({err}); write it like `90s`, `15m` or `2h`"))
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", humantime::format_duration(self.0))
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Span, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Seconds(u64),
            Text(String),
        }
        match Raw::deserialize(deserializer)
            .map_err(|_| serde::de::Error::custom("expected a duration such as `90s`, `15m` or `2h`"))?
        {
            Raw::Seconds(seconds) => Ok(Span::secs(seconds)),
            Raw::Text(text) => Span::parse(&text).map_err(serde::de::Error::custom),
        }
    }
}

impl Serialize for Span {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

impl schemars::JsonSchema for Span {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A duration such as `90s`, `15m`, `2h`, `7d`, or a number of seconds.",
            "anyOf": [
                {"type": "string", "pattern": "^\\s*[0-9]+(\\.[0-9]+)?\\s*[a-zA-Zµ]+(\\s*[0-9]+\\s*[a-zA-Zµ]+)*\\s*$"},
                {"type": "integer", "minimum": 0}
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_human_durations() {
        assert_eq!(Span::parse("90s").unwrap(), Span::secs(90));
        assert_eq!(Span::parse("15m").unwrap(), Span::secs(900));
        assert_eq!(Span::parse("2h").unwrap(), Span::secs(7200));
        assert_eq!(Span::parse("90d").unwrap(), Span::secs(90 * 86400));
        assert!(Span::parse("soon").is_err());
    }

    #[test]
    fn deserializes_numbers_as_seconds() {
        let span: Span = serde_yaml::from_str("30").unwrap();
        assert_eq!(span, Span::secs(30));
        let span: Span = serde_yaml::from_str("\"1m\"").unwrap();
        assert_eq!(span, Span::secs(60));
    }
}
