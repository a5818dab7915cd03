//! Instants, time zones and the parts of a timestamp that rules read (`timestamp.hour`…).

use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};

/// The instant `seconds` after the Unix epoch; an error naming the value when it is out of
/// range (never 1970 in its place).
pub fn instant(seconds: i64) -> Result<Timestamp, crate::core::error::InputError> {
    Timestamp::from_second(seconds)
        .map_err(|_| crate::core::error::InputError::invalid(format!("{seconds} is not a valid Unix time")))
}

/// The parts of an RFC 3339 string, taken in its own offset: `year`, …, `weekday` (0 = Monday).
///
/// Read straight from the fixed positions of `YYYY-MM-DDTHH:MM:SS`: rules ask for these
/// parts for every miner and every rule, so this must be cheap.
pub fn timestamp_part(text: &str, part: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.len() < 19
        || bytes[4] != b'-'
        || bytes[7] != b'-'
        || !matches!(bytes[10], b'T' | b't' | b' ')
        || bytes[13] != b':'
    {
        return None;
    }
    let digits = |from: usize, to: usize| -> Option<i64> {
        bytes[from..to].iter().try_fold(0i64, |n, b| b.is_ascii_digit().then(|| n * 10 + i64::from(b - b'0')))
    };
    let (year, month, day) = (digits(0, 4)?, digits(5, 7)?, digits(8, 10)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    Some(match part {
        "year" => year,
        "month" => month,
        "day" => day,
        "hour" => digits(11, 13)?,
        "minute" => digits(14, 16)?,
        "second" => digits(17, 19)?,
        "weekday" => (days_from_civil(year, month, day) + 3).rem_euclid(7),
        _ => return None,
    })
}

/// Days since 1970-01-01 of a proleptic Gregorian date (1970-01-01 was a Thursday).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Resolves `settings.timezone` (an IANA name) or the host's zone.
pub fn time_zone(name: Option<&str>) -> Result<TimeZone, String> {
    match name {
        Some(name) => tzif_file(name)
            .or_else(|| TimeZone::get(name).ok())
            .ok_or_else(|| format!("unknown time zone `{name}` (use an IANA name such as Europe/Rome)")),
        None => Ok(TimeZone::system()),
    }
}

/// The zone from its own file in the system's zoneinfo (`$TZDIR`, else /usr/share/zoneinfo),
/// spelled exactly. jiff's database would first list the whole directory (a third of a small
/// run); a name spelled otherwise, or a system without the files, is left to it.
fn tzif_file(name: &str) -> Option<TimeZone> {
    let dir = std::env::var_os("TZDIR").map_or_else(|| "/usr/share/zoneinfo".into(), std::path::PathBuf::from);
    tzif_file_in(&dir, name)
}

fn tzif_file_in(dir: &std::path::Path, name: &str) -> Option<TimeZone> {
    let plain = |part: &str| !part.is_empty() && part != "." && part != "..";
    if name.starts_with('/') || !name.split('/').all(plain) {
        return None;
    }
    let bytes = std::fs::read(dir.join(name)).ok()?;
    TimeZone::tzif(name, &bytes).ok()
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

/// An instant with its offset (RFC 3339), or a local date and time (`2026-06-21T12:00`,
/// `2026-06-21 12:00:00`) taken in `zone`; a local time that a DST change skips or repeats
/// takes the earlier offset.
pub fn parse_instant_in(text: &str, zone: &TimeZone) -> Result<Timestamp, String> {
    let text = text.trim();
    if let Ok(instant) = text.parse::<Timestamp>() {
        return Ok(instant);
    }
    let local = text.parse::<jiff::civil::DateTime>().map_err(|_| {
        format!("invalid instant `{text}`; expected RFC 3339 such as 2026-06-01T14:00:00+02:00, or a local time such as 2026-06-01T14:00 in the configured zone")
    })?;
    local
        .to_zoned(zone.clone())
        .map(|zoned| zoned.timestamp())
        .map_err(|err| format!("invalid local time `{text}`: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_local_time_is_taken_in_the_zone_and_an_offset_wins() {
        let rome = TimeZone::get("Europe/Rome").unwrap();
        let summer = parse_instant_in("2026-06-21T12:00", &rome).unwrap();
        assert_eq!(summer, "2026-06-21T10:00:00Z".parse::<Timestamp>().unwrap());
        let winter = parse_instant_in("2026-12-01 08:30:00", &rome).unwrap();
        assert_eq!(winter, "2026-12-01T07:30:00Z".parse::<Timestamp>().unwrap());
        let explicit = parse_instant_in("2026-06-21T12:00:00+00:00", &rome).unwrap();
        assert_eq!(explicit, "2026-06-21T12:00:00Z".parse::<Timestamp>().unwrap());
        assert!(parse_instant_in("noon", &rome).unwrap_err().contains("local time"));
    }

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
        assert_eq!(timestamp_part("2026-13-01T00:00:00Z", "hour"), None);
        for (date, weekday) in [
            ("2000-01-01T00:00:00Z", 5),
            ("2024-02-29T00:00:00Z", 3),
            ("1970-01-01T00:00:00Z", 3),
            ("2026-11-22T07:00:00Z", 6),
        ] {
            assert_eq!(timestamp_part(date, "weekday"), Some(weekday), "{date}");
        }
    }

    #[test]
    fn formats_with_offset() {
        let zone = time_zone(Some("Europe/Rome")).unwrap();
        let at = parse_instant("2026-06-01T12:00:00Z").unwrap();
        assert_eq!(rfc3339_in(at, &zone), "2026-06-01T14:00:00+02:00");
        assert!(time_zone(Some("Mars/Olympus")).is_err());
    }

    #[test]
    fn a_zone_file_is_read_only_by_a_plain_name() {
        for name in ["../../etc/passwd", "/etc/localtime", "Europe/../../etc/hostname", "", "Europe//Rome"] {
            assert!(tzif_file(name).is_none(), "{name:?}");
        }
        assert!(time_zone(Some("../../etc/passwd")).is_err());
        // The zoneinfo that `formats_with_offset` resolves through jiff is read here directly.
        let zone = tzif_file_in(std::path::Path::new("/usr/share/zoneinfo"), "Europe/Rome").expect("Europe/Rome");
        assert_eq!(zone.iana_name(), Some("Europe/Rome"));
    }
}
