//! `luxos`: LuxOS (LUXminer) on 4028, with `power`, `temps`, `fans` and `config`.
//!
//! Control is `curtail` sleep/wakeup, a privileged command that needs a session: the
//! active one is reused (`session`), and `logon` is called only when there is none.

use serde::Deserialize;

use crate::config::secret::Secret;
use crate::config::spec::{Address, ComponentSettings, TypeInfo, Typed};
use crate::core::feature::FeatureType;
use crate::core::reading::MinerReading;
use crate::core::status::MinerStatus;
use crate::devices::cgminer::{default_port, features_with, hashing_status, read_standard};
use crate::devices::{Build, Controller, ControllerSettings, MiningControl, Monitor};
use crate::transport::cgminer::Client;
use crate::transport::cgminer::reply::{field, field_text, first, section};
use crate::transport::{Call, ErrorKind, InputError};

pub const TYPE: Typed<LuxosConfig> = Typed::new(
    TypeInfo::new(
        "luxos",
        "LuxOS (LUXminer) on port 4028, with curtail sleep/wakeup through a session.",
        "{id: s19k-lux, type: luxos, host: 192.168.1.43}",
    )
    .miner(Address::Host),
);

impl ComponentSettings for LuxosConfig {
    fn features(&self) -> Vec<FeatureType> {
        use FeatureType::*;
        features_with(&[MiningControl, PowerMonitoring, MaxHashrateDetection, PowerTargetControl])
    }
}

impl ControllerSettings for LuxosConfig {
    fn build<'a>(&'a self, _: &Build<'a>) -> Option<Box<dyn Controller + 'a>> {
        Some(Box::new(Luxos::new(self)))
    }
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LuxosConfig {
    pub host: String,
    #[serde(default = "default_port")]
    pub port: u16,
    /// Kept for firmwares whose `logon` takes credentials; LuxOS itself takes none.
    pub username: Option<String>,
    pub password: Option<Secret>,
}

pub struct Luxos {
    client: Client,
}

impl Luxos {
    pub fn new(config: &LuxosConfig) -> Luxos {
        Luxos { client: Client::new(&config.host, config.port) }
    }

    /// The active session id, or a new one from `logon`.
    fn session(&self, call: &Call) -> Result<String, InputError> {
        let session_id = |reply: &serde_json::Value| {
            first(reply, "SESSION").and_then(|s| field_text(s, "SessionID")).filter(|id| !id.is_empty())
        };
        let current = self.client.command("session", None, call)?;
        if let Some(id) = session_id(&current) {
            return Ok(id);
        }
        let logon = self.client.command("logon", None, call)?;
        session_id(&logon).ok_or_else(|| InputError::invalid("LuxOS `logon` returned no session id"))
    }

    fn curtail(&self, action: &str, call: &Call) -> Result<(), InputError> {
        let session = self.session(call)?;
        self.client.command("curtail", Some(&format!("{session},{action}")), call).map(|_| ())
    }
}

/// The commands `read` sends beside the standard ones.
const READ_EXTRA: [&str; 3] = ["config", "power", "fans"];

impl Monitor for Luxos {
    fn read(&self, _wanted: &[FeatureType], call: &Call) -> Result<MinerReading, InputError> {
        let (mut reading, replies) = read_standard(&self.client, &READ_EXTRA, call)?;
        reading.power =
            replies.get("power").and_then(|p| first(p, "POWER")).and_then(|p| field(p, "Watts")).filter(|w| *w >= 0.0);
        let fans: Vec<f64> = replies
            .get("fans")
            .map(|f| section(f, "FANS").iter().filter_map(|fan| field(fan, "RPM")).collect())
            .unwrap_or_default();
        if !fans.is_empty() {
            reading.internal_fans = Some(fans);
        }
        let config = replies.get("config").and_then(|c| first(c, "CONFIG"));
        if let Some(config) = config {
            let info = reading.device_info.get_or_insert_with(Default::default);
            info.model = field_text(config, "Model").or(info.model.take());
            info.serial_number = field_text(config, "SerialNumber");
            info.mac_address = field_text(config, "MACAddr");
            info.hostname = field_text(config, "Hostname");
            info.firmware_type = Some("LuxOS".into());
            reading.max_hashrate = field(config, "NameplateTHS").or(reading.max_hashrate);
        }
        let curtailed =
            config.and_then(|c| field_text(c, "CurtailMode")).is_some_and(|mode| !mode.eq_ignore_ascii_case("none"));
        reading.status = Some(if curtailed { MinerStatus::Off } else { hashing_status(&reading) });
        Ok(reading)
    }

    fn opening(&self, budget: std::time::Duration) -> Option<crate::transport::cgminer::Opening<'_>> {
        Some(crate::devices::cgminer::standard_opening(&self.client, &READ_EXTRA, budget))
    }
}

/// LuxOS's profiles (name, watts), the current one, and whether ATM runs.
struct Profiles {
    levels: Vec<(String, f64)>,
    current: Option<String>,
    atm: bool,
    /// `IsTuning`: the autotuner is still working on the profile.
    tuning: bool,
}

impl Luxos {
    /// Every profile with its watts, and the current one's name with whether ATM runs.
    fn profiles(&self, call: &Call) -> Result<Profiles, InputError> {
        // A build that refuses `profiles` has no power targets (not a failed input).
        let profiles = self.client.command("profiles", None, call).map_err(|e| match e.kind {
            ErrorKind::Refused => InputError::not_configured(format!("LuxOS has no profiles: {}", e.message)),
            _ => e,
        })?;
        let levels: Vec<(String, f64)> = section(&profiles, "PROFILES")
            .iter()
            .filter_map(|p| Some((field_text(p, "Profile Name")?, field(p, "Watts").filter(|w| *w > 0.0)?)))
            .collect();
        let config = self.client.command("config", None, call)?;
        let config = first(&config, "CONFIG");
        let current = config.and_then(|c| field_text(c, "Profile"));
        let flag = |key: &str| match config.and_then(|c| c.get(key)) {
            Some(serde_json::Value::Bool(on)) => *on,
            Some(serde_json::Value::String(text)) => text.eq_ignore_ascii_case("true"),
            _ => false,
        };
        Ok(Profiles { levels, current, atm: flag("IsAtmEnabled"), tuning: flag("IsTuning") })
    }
}

impl crate::devices::PowerTargetControl for Luxos {
    /// The watts of the profile in `config`, bounded by the profile list.
    fn target(&self, call: &Call) -> Result<crate::devices::PowerTarget, InputError> {
        let Profiles { levels, current, tuning, .. } = self.profiles(call)?;
        let watts = levels.iter().find(|(name, _)| Some(name) == current.as_ref()).map(|(_, w)| *w);
        let min = levels.iter().map(|(_, w)| *w).reduce(f64::min);
        let max = levels.iter().map(|(_, w)| *w).reduce(f64::max);
        Ok(crate::devices::PowerTarget { watts, min, max, settling: tuning, lever: None })
    }

    /// `profileset <session>,<profile>` with the highest profile at or below the request.
    /// LuxOS refuses profile changes while ATM runs: ATM is paused around the change and
    /// re-enabled even when the change fails.
    fn set_target(&self, watts: f64, call: &Call) -> Result<crate::devices::Applied, InputError> {
        let Profiles { levels, atm, .. } = self.profiles(call)?;
        let (profile, applied) = crate::devices::lever_at_or_below(&levels, watts)
            .cloned()
            .ok_or_else(|| InputError::refused("LuxOS lists no profile with watts"))?;
        let session = self.session(call)?;
        if atm {
            self.client.command("atmset", Some(&format!("{session},enabled=false")), call)?;
        }
        let set = self.client.command("profileset", Some(&format!("{session},{profile}")), call);
        if atm {
            self.client.command("atmset", Some(&format!("{session},enabled=true")), call)?;
        }
        set?;
        Ok(crate::devices::Applied { watts: applied, lever: Some(format!("profile {profile}")), restarts: false })
    }

    fn thermal_management(&self, call: &Call) -> Result<Option<bool>, InputError> {
        Ok(Some(self.profiles(call)?.atm))
    }

    fn restore_thermal_management(&self, call: &Call) -> Result<(), InputError> {
        let session = self.session(call)?;
        self.client.command("atmset", Some(&format!("{session},enabled=true")), call).map(|_| ())
    }
}

impl MiningControl for Luxos {
    fn start_mining(&self, call: &Call) -> Result<(), InputError> {
        self.curtail("wakeup", call)
    }

    fn stop_mining(&self, call: &Call) -> Result<(), InputError> {
        self.curtail("sleep", call)
    }
}

impl Controller for Luxos {
    fn monitor(&self) -> Option<&dyn Monitor> {
        Some(self)
    }
    fn power_target(&self) -> Option<&dyn crate::devices::PowerTargetControl> {
        Some(self)
    }
    fn mining_control(&self) -> Option<&dyn MiningControl> {
        Some(self)
    }
}
