//! Why an input failed (a device, a sensor, a pool, a forecast), as a kind the cycle can
//! match on and words for a person. Instants stay instants until the edge renders them in
//! the configured zone.

use jiff::Timestamp;

/// What kind of failure it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Credentials refused (HTTP 401/403, a rejected token): no retry will help.
    Authentication,
    /// Not asked: backing off after rate limits or errors until this instant.
    Backoff { until: Timestamp },
    /// Asked too recently (a `min_interval`).
    Spacing,
    /// No complete answer in time.
    Timeout,
    /// Nothing answered at the address.
    Unreachable,
    /// An answer that is not what the protocol says (bad JSON, wrong shape, missing values).
    InvalidReply,
    /// The device understood and said no, with its reason in the message.
    Refused,
    /// The source says it has no value now (a sensor `unavailable`).
    Unavailable,
    /// The cycle's deadline came before the request could be made.
    Deadline,
    /// The configuration does not allow the request (a role or entity not configured).
    NotConfigured,
}

/// A failed input: its kind and what happened, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub kind: ErrorKind,
    /// What happened; for a backoff, why it started (`HTTP 429`).
    pub message: String,
}

impl InputError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> InputError {
        InputError { kind, message: message.into() }
    }

    pub fn invalid(message: impl Into<String>) -> InputError {
        InputError::new(ErrorKind::InvalidReply, message)
    }

    pub fn auth(message: impl Into<String>) -> InputError {
        InputError::new(ErrorKind::Authentication, message)
    }

    pub fn refused(message: impl Into<String>) -> InputError {
        InputError::new(ErrorKind::Refused, message)
    }

    pub fn not_configured(message: impl Into<String>) -> InputError {
        InputError::new(ErrorKind::NotConfigured, message)
    }

    /// The deadline came first.
    pub fn deadline() -> InputError {
        InputError::new(ErrorKind::Deadline, "cycle deadline reached before the request")
    }

    /// The same error with a place before its message (`Shelly: …`).
    pub fn context(self, place: impl std::fmt::Display) -> InputError {
        InputError { message: format!("{place}: {}", self.message), ..self }
    }

    /// The error in words, instants rendered by `instant` (the configured zone).
    pub fn render(&self, instant: &dyn Fn(Timestamp) -> String) -> String {
        match self.kind {
            ErrorKind::Backoff { until } => format!("backing off until {} after {}", instant(until), self.message),
            ErrorKind::Authentication if !self.message.contains("authentication") => {
                format!("authentication error: {}", self.message)
            }
            _ => self.message.clone(),
        }
    }
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render(&|t| t.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backoff_renders_its_instant_as_the_edge_says() {
        let until = Timestamp::from_second(1_782_036_600).unwrap();
        let error = InputError::new(ErrorKind::Backoff { until }, "HTTP 429");
        assert_eq!(error.to_string(), "backing off until 2026-06-21T10:10:00Z after HTTP 429");
        let zone = jiff::tz::TimeZone::get("Europe/Rome").unwrap();
        let local = error.render(&|t| t.to_zoned(zone.clone()).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string());
        assert_eq!(local, "backing off until 2026-06-21T12:10:00+02:00 after HTTP 429");
    }
}
