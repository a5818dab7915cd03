//! Miner status and how it is derived when no status feature answers (SPEC §4.2).

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MinerStatus {
    On,
    Off,
    Starting,
    Stopping,
    Error,
    #[default]
    Unknown,
}

impl MinerStatus {
    pub const ALL: [MinerStatus; 6] = [
        MinerStatus::On,
        MinerStatus::Off,
        MinerStatus::Starting,
        MinerStatus::Stopping,
        MinerStatus::Error,
        MinerStatus::Unknown,
    ];

    pub fn name(self) -> &'static str {
        match self {
            MinerStatus::On => "on",
            MinerStatus::Off => "off",
            MinerStatus::Starting => "starting",
            MinerStatus::Stopping => "stopping",
            MinerStatus::Error => "error",
            MinerStatus::Unknown => "unknown",
        }
    }

    /// Case-insensitive, so contexts written as `ON` or `Error` load.
    pub fn parse(text: &str) -> Option<MinerStatus> {
        let wanted = text.trim().to_ascii_lowercase();
        MinerStatus::ALL.into_iter().find(|status| status.name() == wanted)
    }
}

impl fmt::Display for MinerStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `on` if hashing and (power unknown or above 1 W); `off` if not hashing and power is known
/// and at most 1 W; otherwise `unknown`.
pub fn derive_status(hashrate: Option<f64>, power: Option<f64>) -> MinerStatus {
    match (hashrate, power) {
        (Some(h), None) if h > 0.0 => MinerStatus::On,
        (Some(h), Some(p)) if h > 0.0 && p > 1.0 => MinerStatus::On,
        (Some(h), Some(p)) if h <= 0.0 && p <= 1.0 => MinerStatus::Off,
        _ => MinerStatus::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivation_follows_hashrate_and_power() {
        assert_eq!(derive_status(Some(95.0), Some(3200.0)), MinerStatus::On);
        assert_eq!(derive_status(Some(95.0), None), MinerStatus::On);
        assert_eq!(derive_status(Some(0.0), Some(0.5)), MinerStatus::Off);
        assert_eq!(derive_status(Some(0.0), None), MinerStatus::Unknown);
        assert_eq!(derive_status(None, Some(0.0)), MinerStatus::Unknown);
        assert_eq!(derive_status(Some(0.0), Some(900.0)), MinerStatus::Unknown);
    }

    #[test]
    fn parses_any_case() {
        assert_eq!(MinerStatus::parse("ERROR"), Some(MinerStatus::Error));
        assert_eq!(MinerStatus::parse("sleeping"), None);
    }
}
