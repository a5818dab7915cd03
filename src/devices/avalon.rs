//! `avalon`: Canaan Avalon (cgminer 4.11: Avalon Q, Nano, Mini, A-series) on 4028.
//!
//! `stats` packs its data into one bracketed `Key[value]` string (`MM ID0`), parsed here.
//! Control is `ascset` softoff/softon; softon often closes the socket without a reply,
//! which is success.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::config::spec::{Address, ComponentSettings, TypeInfo, Typed};
use crate::core::feature::FeatureType;
use crate::core::reading::{Hashboard, MinerReading};
use crate::core::status::MinerStatus;
use crate::devices::cgminer::{CgminerConfig, features_with, hashing_status, read_standard};
use crate::devices::{Build, Controller, ControllerSettings, MiningControl, Monitor};
use crate::transport::cgminer::Client;
use crate::transport::cgminer::reply::section;
use crate::transport::cgminer::transport::TransportError;
use crate::transport::{Call, InputError};

pub const TYPE: Typed<AvalonConfig> = Typed::new(
    TypeInfo::new(
        "avalon",
        "Canaan Avalon (Nano, Q, Mini) on port 4028, with softoff/softon.",
        "{id: avalon-q, type: avalon, host: 192.168.1.42}",
    )
    .miner(Address::Host),
);

/// Keys of the `avalon` type.
#[derive(Debug, Clone, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AvalonConfig {
    /// The miner's address (name or IP).
    pub host: String,
    /// The CGMiner API port.
    #[serde(default = "crate::devices::cgminer::default_port")]
    pub port: u16,
    /// The watts of each work level (`{0: 800, 1: 1200, 2: 1600}`): the levels become power
    /// targets, set with `ascset 0,worklevel,set,<level>`.
    #[serde(default)]
    pub levels: BTreeMap<u8, f64>,
}

impl ComponentSettings for AvalonConfig {
    fn features(&self) -> Vec<FeatureType> {
        use FeatureType::*;
        let mut features = features_with(&[MiningControl, PowerMonitoring, MaxPowerDetection]);
        if !self.levels.is_empty() {
            features.push(PowerTargetControl);
        }
        features
    }
}

impl ControllerSettings for AvalonConfig {
    fn build<'a>(&'a self, _: &Build<'a>) -> Option<Box<dyn Controller + 'a>> {
        let cgminer = CgminerConfig { host: self.host.clone(), port: self.port };
        let mut avalon = Avalon::new(&cgminer);
        avalon.levels = self.levels.iter().map(|(level, watts)| (level.to_string(), *watts)).collect();
        Some(Box::new(avalon))
    }
}

pub struct Avalon {
    client: Client,
    /// (work level, watts) when levels stand for power targets.
    levels: Vec<(String, f64)>,
}

impl Avalon {
    pub fn new(config: &CgminerConfig) -> Avalon {
        Avalon { client: Client::new(&config.host, config.port), levels: Vec::new() }
    }

    /// `ascset 0,worklevel,set,<level>`: answered `S`, "ASC 0 set OK".
    fn set_level(&self, level: &str, call: &Call) -> Result<(), InputError> {
        let reply = self.client.command("ascset", Some(&format!("0,worklevel,set,{level}")), call)?;
        crate::transport::cgminer::reply::check_status(&reply)
            .map_err(|e| InputError::refused(format!("worklevel: {e}")))
    }

    fn ascset(&self, action: &str, call: &Call) -> Result<(), InputError> {
        let parameter = format!("0,{action},1:{}", call.now);
        match self.client.exchange("ascset", Some(&parameter), call) {
            Ok(reply) => {
                let value = crate::transport::cgminer::repair::parse(&reply).map_err(InputError::invalid)?;
                crate::transport::cgminer::reply::check_status(&value)
                    .map_err(|e| InputError::refused(format!("ascset {action}: {e}")))
            }
            Err(TransportError::Empty) | Err(TransportError::Io(_)) if action == "softon" => Ok(()),
            Err(err) => Err(InputError::from(err).context(format_args!("ascset {action}"))),
        }
    }
}

/// Parses `Key[value] Key[value]…` (values may hold spaces, never `]`).
pub fn parse_bracketed(text: &str) -> BTreeMap<String, String> {
    let mut fields = BTreeMap::new();
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let key = rest[..open].rsplit([' ', '{', ',']).next().unwrap_or_default().trim().to_string();
        let Some(close) = rest[open..].find(']') else { break };
        let value = rest[open + 1..open + close].trim().to_string();
        if !key.is_empty() {
            fields.insert(key, value);
        }
        rest = &rest[open + close + 1..];
    }
    fields
}

/// The `MM ID0…` string of a stats reply, wherever the firmware put it.
fn mm_fields(stats: &Value) -> BTreeMap<String, String> {
    section(stats, "STATS")
        .iter()
        .filter_map(Value::as_object)
        .flat_map(|entry| entry.iter())
        .filter(|(key, _)| key.starts_with("MM ID"))
        .filter_map(|(_, value)| value.as_str())
        .map(parse_bracketed)
        .next()
        .unwrap_or_default()
}

fn number(fields: &BTreeMap<String, String>, key: &str) -> Option<f64> {
    numbers(fields, key).first().copied()
}

/// Every number of a `Key[a b c]` field (`PS`, `MGHS`, `MTmax`…).
fn numbers(fields: &BTreeMap<String, String>, key: &str) -> Vec<f64> {
    let Some(value) = fields.get(key) else { return Vec::new() };
    value
        .split_whitespace()
        .filter_map(|v| v.trim_end_matches('%').parse::<f64>().ok())
        .filter(|v| v.is_finite())
        .collect()
}

/// Power at the wall (`WALLPOWER`), else the hashboards' (`PS[err Vctrl Vhash A W …]`, the fifth).
fn power(fields: &BTreeMap<String, String>) -> Option<f64> {
    let wall = number(fields, "WALLPOWER").filter(|w| *w > 0.0);
    // A zero there is a field the model does not fill (an Avalon Q), not a miner drawing nothing.
    wall.or_else(|| numbers(fields, "PS").get(4).copied()).filter(|w| *w > 0.0)
}

/// A-series boards (`MGHS`, `MTmax` per board), else the one board of a Q or a Nano.
fn boards(fields: &BTreeMap<String, String>) -> Vec<Hashboard> {
    let per_board = numbers(fields, "MGHS");
    if per_board.len() > 1 {
        let chip_max = numbers(fields, "MTmax");
        return per_board
            .iter()
            .enumerate()
            .map(|(index, ghs)| Hashboard {
                index: index as u32,
                chip_temperature: chip_max.get(index).copied().filter(|t| *t > 0.0),
                hash_rate: Some(ghs.max(0.0) / 1e3),
                frequency: number(fields, "Freq").filter(|f| *f > 0.0),
                ..Hashboard::default()
            })
            .collect();
    }
    vec![Hashboard {
        index: 0,
        chip_temperature: number(fields, "TMax").filter(|t| *t > 0.0),
        board_temperature: number(fields, "HBOTemp").filter(|t| *t > 0.0),
        voltage: None,
        frequency: number(fields, "Freq").filter(|f| *f > 0.0),
        hash_rate: number(fields, "GHSspd").map(|g| g / 1e3),
        nominal_hash_rate: None,
    }]
}

/// Soft-off (`SoftOFF` set, or `SYSTEMSTATU` saying idle) means the owner paused it.
fn soft_off(fields: &BTreeMap<String, String>) -> bool {
    let idle = fields.get("SYSTEMSTATU").is_some_and(|s| s.to_ascii_lowercase().contains("idle"));
    idle || number(fields, "SoftOFF").is_some_and(|v| v > 0.0)
}

impl Monitor for Avalon {
    fn read(&self, _wanted: &[FeatureType], call: &Call) -> Result<MinerReading, InputError> {
        let (mut reading, replies) = read_standard(&self.client, &[], call)?;
        let fields = replies.get("stats").map(mm_fields).unwrap_or_default();
        let fans: Vec<f64> = (1..=4).filter_map(|i| number(&fields, &format!("Fan{i}"))).collect();
        if !fans.is_empty() {
            reading.internal_fans = Some(fans);
        }
        if !fields.is_empty() {
            reading.hashboards = Some(boards(&fields));
            reading.power = reading.power.or_else(|| power(&fields));
            reading.max_power = reading.max_power.or_else(|| number(&fields, "MPO").filter(|w| *w > 0.0));
        }
        reading.status = Some(if soft_off(&fields) { MinerStatus::Off } else { hashing_status(&reading) });
        Ok(reading)
    }

    fn opening(&self, budget: std::time::Duration) -> Option<crate::transport::cgminer::Opening<'_>> {
        Some(crate::devices::cgminer::standard_opening(&self.client, &[], budget))
    }
}

impl crate::devices::PowerTargetControl for Avalon {
    /// The configured watts of the `WORKLEVEL` the miner reports.
    fn target(&self, call: &Call) -> Result<crate::devices::PowerTarget, InputError> {
        let stats = self.client.command("stats", None, call)?;
        let level = number(&mm_fields(&stats), "WORKLEVEL").map(|l| (l as u32).to_string());
        let watts = self.levels.iter().find(|(l, _)| Some(l) == level.as_ref()).map(|(_, w)| *w);
        let min = self.levels.iter().map(|(_, w)| *w).reduce(f64::min);
        let max = self.levels.iter().map(|(_, w)| *w).reduce(f64::max);
        Ok(crate::devices::PowerTarget { watts, min, max, ..Default::default() })
    }

    /// The highest level whose watts are at or below the request.
    fn set_target(&self, watts: f64, call: &Call) -> Result<crate::devices::Applied, InputError> {
        let (level, applied) = crate::devices::lever_at_or_below(&self.levels, watts)
            .cloned()
            .ok_or_else(|| InputError::not_configured("no `levels`: the work levels stand for no power target"))?;
        self.set_level(&level, call)?;
        Ok(crate::devices::Applied { watts: applied, lever: Some(format!("work level {level}")), restarts: false })
    }
}

impl MiningControl for Avalon {
    fn start_mining(&self, call: &Call) -> Result<(), InputError> {
        self.ascset("softon", call)
    }

    fn stop_mining(&self, call: &Call) -> Result<(), InputError> {
        self.ascset("softoff", call)
    }
}

impl Controller for Avalon {
    fn monitor(&self) -> Option<&dyn Monitor> {
        Some(self)
    }
    fn power_target(&self) -> Option<&dyn crate::devices::PowerTargetControl> {
        (!self.levels.is_empty()).then_some(self as &dyn crate::devices::PowerTargetControl)
    }
    fn mining_control(&self) -> Option<&dyn MiningControl> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bracketed_fields() {
        let fields = parse_bracketed(
            "Ver[Q-1] SYSTEMSTATU[Work: In Idle, Hash Board: 1] TMax[71] Fan1[3000] PS[0 1222 4] GHSspd[55000.5]",
        );
        assert_eq!(fields["Ver"], "Q-1");
        assert_eq!(fields["SYSTEMSTATU"], "Work: In Idle, Hash Board: 1");
        assert_eq!(number(&fields, "TMax"), Some(71.0));
        assert_eq!(number(&fields, "PS"), Some(0.0));
        assert!(soft_off(&fields));
        let working = parse_bracketed("SYSTEMSTATU[Work: In Work, Hash Board: 1] SoftOFF[0]");
        assert!(!soft_off(&working));
    }

    #[test]
    fn a_series_power_and_boards() {
        let fields = parse_bracketed(
            "SYSTEMSTATU[Work: In Work, Hash Board: 3 ] TMax[77] PS[0 1214 1316 242 3189 1320 3504] MGHS[26907.01 26025.06 26724.56] MTmax[77 77 76] MTavg[66 65 64] MPO[3200] Freq[502.41]",
        );
        assert_eq!(power(&fields), Some(3189.0));
        let boards = boards(&fields);
        assert_eq!(boards.len(), 3);
        assert_eq!(boards[1].hash_rate, Some(26.02506));
        assert_eq!(boards.iter().map(|b| b.chip_temperature).collect::<Vec<_>>(), [Some(77.0), Some(77.0), Some(76.0)]);
        let with_wall = parse_bracketed("PS[0 1214 1316 242 3189] WALLPOWER[3410]");
        assert_eq!(power(&with_wall), Some(3410.0));
    }
}
