//! A unit's mode (SPEC §21, §24): `auto` lets rules and allocation act, `hold` sends no
//! automatic command (safety still stops), `off` stops the unit's miners and keeps them off.
//! Set from the command line or a Home Assistant command topic, optionally for a while.

/// What a unit may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnitMode {
    #[default]
    Auto,
    Hold,
    Off,
}

impl UnitMode {
    pub const ALL: [UnitMode; 3] = [UnitMode::Auto, UnitMode::Hold, UnitMode::Off];

    pub fn name(self) -> &'static str {
        match self {
            UnitMode::Auto => "auto",
            UnitMode::Hold => "hold",
            UnitMode::Off => "off",
        }
    }

    /// `auto`, `hold` or `off`, as typed or as Home Assistant's select sends it.
    pub fn parse(text: &str) -> Option<UnitMode> {
        UnitMode::ALL.into_iter().find(|m| m.name().eq_ignore_ascii_case(text.trim()))
    }
}

/// A mode as set: when, and until when (None: until changed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModeSetting {
    pub mode: UnitMode,
    pub at: i64,
    pub until: Option<i64>,
}

impl ModeSetting {
    /// The mode in force at `now`: `auto` once a timed setting has run out.
    pub fn at(setting: Option<&ModeSetting>, now: i64) -> UnitMode {
        match setting {
            Some(s) if s.until.is_none_or(|until| now < until) => s.mode,
            _ => UnitMode::Auto,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_and_timed_ones_run_out() {
        assert_eq!(UnitMode::parse(" Hold "), Some(UnitMode::Hold));
        assert_eq!(UnitMode::parse("pause"), None);
        let hold = ModeSetting { mode: UnitMode::Hold, at: 100, until: Some(200) };
        assert_eq!(ModeSetting::at(Some(&hold), 150), UnitMode::Hold);
        assert_eq!(ModeSetting::at(Some(&hold), 200), UnitMode::Auto);
        let off = ModeSetting { mode: UnitMode::Off, at: 100, until: None };
        assert_eq!(ModeSetting::at(Some(&off), 1_000_000), UnitMode::Off);
        assert_eq!(ModeSetting::at(None, 0), UnitMode::Auto);
    }
}
