//! Instants, time zones and the parts of a timestamp that rules read (`timestamp.hour`…).

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};

/// The parts of an RFC 3339 string, taken in its own offset: `year`, …, `weekday` (0 = Monday).
pub fn timestamp_part(text: &str, part: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.len() < 19 || bytes[4] != b'-' || !matches!(bytes[10], b'T' | b't' | b' ') {
        return None;
    }
    // Civil parsing takes the wall-clock parts and ignores the offset; `Z` is UTC itself.
    let local: DateTime = text.trim_end_matches(['Z', 'z']).parse().ok()?;
    Some(match part {
        "year" => i64::from(local.year()),
        "month" => i64::from(local.month()),
        "day" => i64::from(local.day()),
        "hour" => i64::from(local.hour()),
        "minute" => i64::from(local.minute()),
        "second" => i64::from(local.second()),
        "weekday" => i64::from(local.weekday().to_monday_zero_offset()),
        _ => return None,
    })
}

/// Resolves `settings.timezone` (an IANA name) or the host's zone.
pub fn time_zone(name: Option<&str>) -> Result<TimeZone, String> {
    match name {
        Some(name) => TimeZone::get(name)
            .map_err(|_| format!("unknown time zone `{name}` (use an IANA name such as Europe/Rome)")),
        None => Ok(TimeZone::system()),
    }
}

/// The instant in a zone, as RFC 3339 with its offset (no bracketed zone name).
pub fn rfc3339_in(at: Timestamp, zone: &TimeZone) -> String {
    let zoned: Zoned = at.to_zoned(zone.clone());
    zoned.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// Parses `--now` and the timestamps users write: RFC 3339 with an offset.
pub fn parse_instant(text: &str) -> Result<Timestamp, String> {
    text.trim()
        .parse::<Timestamp>()
        .map_err(|err| format!("invalid instant `{text}` ({err}); expected RFC 3339 such as 2026-06-01T14:00:00+02:00"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_taken_in_the_strings_own_offset() {
        let at = "2026-06-01T14:05:09+02:00";
        assert_eq!(timestamp_part(at, "hour"), Some(14));
        assert_eq!(timestamp_part(at, "minute"), Some(5));
        assert_eq!(timestamp_part(at, "second"), Some(9));
        assert_eq!(timestamp_part(at, "weekday"), Some(0), "2026-06-01 is a Monday");
        assert_eq!(timestamp_part("2026-06-06T10:00:00Z", "weekday"), Some(5));
        assert_eq!(timestamp_part(at, "fortnight"), None);
        assert_eq!(timestamp_part("solar", "hour"), None);
    }

    #[test]
    fn formats_with_offset() {
        let zone = time_zone(Some("Europe/Rome")).unwrap();
        let at = parse_instant("2026-06-01T12:00:00Z").unwrap();
        assert_eq!(rfc3339_in(at, &zone), "2026-06-01T14:00:00+02:00");
        assert!(time_zone(Some("Mars/Olympus")).is_err());
    }
}
