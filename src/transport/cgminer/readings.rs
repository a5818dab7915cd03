//! From standard CGMiner replies (`summary`, `devs`, `stats`, `version`) to a reading.
//!
//! Hashrates come in MH/s (`MHS 5s`, `MHS(30s)`, Whatsminer's `HS RT`), GH/s (`GHS 5s`,
//! Antminer and LuxOS) or TH/s and become TH/s. The current hashrate is the shortest
//! *plausible* window: a 5-second spike more than 30 % above a steady 1- or 5-minute window
//! is noise, and the average since start counts only when there is nothing shorter.
//!
//! `stats` entries are read key by key (`fanN`, `chain_acnN`, `temp_chipN`, bdminer's
//! `Board Count`, `N Temp k`, `N Speed`, `PSU Input Power`), wherever they appear.

use std::sync::LazyLock;

use serde_json::Value;

use crate::core::reading::{DeviceInfo, Hashboard, MinerReading};
use crate::transport::cgminer::reply::{field, field_text, first, number, section};

/// Windows, shortest first, with their length in seconds (`av`: since start). `RT` is
/// Whatsminer's real-time rate (`HS RT`, in MH/s).
const WINDOWS: [(&str, u32); 10] = [
    ("5s", 5),
    ("RT", 5),
    ("15s", 15),
    ("30s", 30),
    ("1m", 60),
    ("5m", 300),
    ("15m", 900),
    ("30m", 1800),
    ("av", u32::MAX),
    ("Avg", u32::MAX),
];

/// How a window's key is spelled, in order of preference, with the divisor to TH/s.
const SPELLINGS: [(&str, bool, f64); 6] = [
    ("MHS", false, 1e6),
    ("MHS", true, 1e6),
    ("GHS", false, 1e3),
    ("GHS", true, 1e3),
    ("THS", false, 1.0),
    ("THS", true, 1.0),
];

/// A short window this much above a steady one is a spike, not the current hashrate.
const SPIKE: f64 = 1.3;

/// Which window and spelling a key is: `MHS 5s` → (0, 0), `GHS(5s)` → (0, 3), `HS RT` → (1, 0)
/// (in MH/s, as the first spelling).
fn window_key(key: &str) -> Option<(usize, usize)> {
    if key == "HS RT" {
        return Some((1, 0));
    }
    let (prefix, rest) = (key.get(..3)?, key.get(3..)?);
    let (name, parenthesised) = match rest.strip_prefix('(') {
        Some(inside) => (inside.strip_suffix(')')?, true),
        None => (rest.strip_prefix(' ')?, false),
    };
    let window = WINDOWS.iter().position(|(w, _)| *w == name && *w != "RT")?;
    let spelling = SPELLINGS.iter().position(|(p, paren, _)| *p == prefix && *paren == parenthesised)?;
    Some((window, spelling))
}

/// The current hashrate of a summary, a dev, or a stats entry, in TH/s. The entry's keys
/// are read in one pass; a window spelled several ways takes the first spelling above.
pub fn hashrate_ths(object: &Value) -> Option<f64> {
    let mut rates = [[None::<f64>; SPELLINGS.len()]; WINDOWS.len()];
    for (key, value) in object.as_object()? {
        if let Some((window, spelling)) = window_key(key) {
            rates[window][spelling] = number(Some(value)).map(|v| v / SPELLINGS[spelling].2);
        }
    }
    let mut present = WINDOWS
        .iter()
        .zip(&rates)
        .filter_map(|((_, seconds), spellings)| spellings.iter().find_map(|rate| *rate).map(|ths| (*seconds, ths)));
    let (seconds, shortest) = present.next()?;
    let steady =
        std::iter::once((seconds, shortest)).chain(present).find(|(s, _)| (60..=300).contains(s)).map(|(_, ths)| ths);
    match steady {
        Some(steady) if seconds < 60 && shortest > steady * SPIKE => Some(steady),
        _ => Some(shortest),
    }
}

/// Fills what `summary` tells: hashrate, uptime, blocks, and Whatsminer's extra fields.
pub fn apply_summary(reading: &mut MinerReading, summary_reply: &Value) {
    // Whatsminer's own commands answer `{"STATUS": "S", "Msg": {…}}`.
    let Some(summary) = first(summary_reply, "SUMMARY").or_else(|| summary_reply.get("Msg").filter(|m| m.is_object()))
    else {
        return;
    };
    reading.hashrate = hashrate_ths(summary).map(non_negative);
    reading.uptime = field(summary, "Elapsed").map(|s| s.max(0.0) as u64);
    reading.blocks_found = field(summary, "Found Blocks").map(|b| b.max(0.0) as u64);
    // Whatsminer puts power, its limit, and fan speeds in the summary.
    reading.power = field(summary, "Power").or_else(|| field(summary, "Power_RT")).map(non_negative);
    reading.max_power = field(summary, "Power Limit").filter(|w| *w > 0.0);
    let fans: Vec<f64> = ["Fan Speed In", "Fan Speed Out"].iter().filter_map(|k| field(summary, k)).collect();
    if !fans.is_empty() {
        reading.internal_fans = Some(fans);
    }
    if let Some(factory) = field(summary, "Factory GHS").filter(|g| *g > 0.0) {
        reading.max_hashrate = Some(factory / 1e3);
    }
}

/// Per-board data from `devs`: hashrate, temperature, and Whatsminer's chip temperature and frequency.
pub fn boards_from_devs(devs_reply: &Value) -> Vec<Hashboard> {
    section(devs_reply, "DEVS")
        .iter()
        .enumerate()
        .map(|(position, dev)| Hashboard {
            index: field(dev, "ASC").or_else(|| field(dev, "ID")).map_or(position as u32, |i| i as u32),
            chip_temperature: field(dev, "Chip Temp Max")
                .or_else(|| field(dev, "Chip Temp Avg"))
                .filter(plausible_temperature),
            board_temperature: field(dev, "Temperature").filter(plausible_temperature),
            voltage: None,
            frequency: field(dev, "Chip Frequency").filter(|f| *f > 0.0),
            hash_rate: hashrate_ths(dev).map(non_negative),
            nominal_hash_rate: field(dev, "Nominal MHS").map(|m| m / 1e6),
        })
        .collect()
}

/// Most boards and fans a `stats` reply is read for (a reply claiming more is cut here).
const MOST: usize = 16;

/// The numbered `stats` keys, spelled once per process rather than formatted per miner.
struct StatsKeys {
    /// Antminer, from 1: `fanN`, `chain_acnN`, `chain_rateN`, `temp_chipN`, `temp2_N`,
    /// `temp_pcbN`, `tempN`, `voltageN`, `freqN`.
    fan: Vec<String>,
    chain_acn: Vec<String>,
    chain_rate: Vec<String>,
    temp_chip: Vec<String>,
    temp2: Vec<String>,
    temp_pcb: Vec<String>,
    temp: Vec<String>,
    voltage: Vec<String>,
    freq: Vec<String>,
    /// bdminer, from 0: `N Speed` and each board's keys.
    speed: Vec<String>,
    boards: Vec<BoardKeys>,
}

/// bdminer board `N`: `N Temp k`, `N MHS(window)`, `N Freq`, `N MHS(Ideal)`.
struct BoardKeys {
    temperatures: Vec<String>,
    rates: Vec<String>,
    freq: String,
    ideal: String,
}

static STATS_KEYS: LazyLock<StatsKeys> = LazyLock::new(|| {
    let numbered = |prefix: &str| (1..=MOST).map(|i| format!("{prefix}{i}")).collect();
    StatsKeys {
        fan: numbered("fan"),
        chain_acn: numbered("chain_acn"),
        chain_rate: numbered("chain_rate"),
        temp_chip: numbered("temp_chip"),
        temp2: numbered("temp2_"),
        temp_pcb: numbered("temp_pcb"),
        temp: numbered("temp"),
        voltage: numbered("voltage"),
        freq: numbered("freq"),
        speed: (0..MOST).map(|i| format!("{i} Speed")).collect(),
        boards: (0..MOST)
            .map(|board| BoardKeys {
                temperatures: (0..8).map(|k| format!("{board} Temp {k}")).collect(),
                rates: ["30s", "1m", "5m", "Sample"].iter().map(|w| format!("{board} MHS({w})")).collect(),
                freq: format!("{board} Freq"),
                ideal: format!("{board} MHS(Ideal)"),
            })
            .collect(),
    }
});

/// `stats`, read key by key over every entry: boards (Antminer `chain_*N`, bdminer
/// `N …`), fans, power, the nameplate and the model.
pub fn apply_stats(reading: &mut MinerReading, stats_reply: &Value) {
    let names = &*STATS_KEYS;
    let entries = section(stats_reply, "STATS");
    let raw = |name: &str| entries.iter().find_map(|e| e.get(name));
    let key = |name: &str| entries.iter().find_map(|e| field(e, name));
    let text = |name: &str| entries.iter().find_map(|e| field_text(e, name));
    let model = text("Type").or_else(|| text("Model"));
    let unit_divisor = if text("rate_unit").is_some_and(|u| u.eq_ignore_ascii_case("MH")) { 1e6 } else { 1e3 };
    let present = numbered_keys(entries);
    let fan_names = names.fan.iter().enumerate().filter(|(i, _)| present.fans.has(*i));
    let mut fans: Vec<f64> = fan_names.filter_map(|(_, name)| key(name)).filter(|rpm| *rpm > 0.0).collect();
    let fan_count = key("Fan Count").map_or(0, |n| n.clamp(0.0, MOST as f64) as usize);
    fans.extend(names.speed[..fan_count].iter().filter_map(|name| key(name)).filter(|rpm| *rpm > 0.0));
    if !fans.is_empty() {
        reading.internal_fans = Some(fans);
    }
    let mut boards = antminer_chains(names, &raw, unit_divisor, present.chains);
    if boards.is_empty() {
        let count = key("Board Count").map_or(0, |n| n.clamp(0.0, MOST as f64) as usize);
        boards = bdminer_boards(&names.boards[..count], &key);
    }
    if !boards.is_empty() {
        reading.hashboards = Some(boards);
    }
    if reading.hashrate.is_none() {
        reading.hashrate = entries.iter().find_map(hashrate_ths).map(non_negative);
    }
    if reading.power.is_none() {
        reading.power = key("PSU Input Power").or_else(|| key("chain_power")).map(non_negative);
    }
    let ideal = key("total_rateideal").map(|r| r / unit_divisor).or_else(|| key("MHS(Rated)").map(|m| m / 1e6));
    if let Some(ideal) = ideal.filter(|r| *r > 0.0) {
        reading.max_hashrate = Some(ideal);
    }
    if reading.max_power.is_none() {
        reading.max_power = key("Power Limit").filter(|w| *w > 0.0);
    }
    let info = reading.device_info.get_or_insert_with(DeviceInfo::default);
    info.model = info.model.take().or(model);
    info.hashboard_count = reading.hashboards.as_ref().map(|b| b.len() as u32).or(info.hashboard_count);
    info.fan_count = key("fan_num").or(Some(fan_count as f64).filter(|n| *n > 0.0)).map(|n| n as u32);
    let chip_counts = names.chain_acn.iter().enumerate().filter(|(i, _)| present.chains.has(*i));
    let chips = chip_counts.filter_map(|(_, name)| key(name)).sum::<f64>() as u32;
    info.chip_count = Some(chips).filter(|c| *c > 0).or_else(|| key("Chip Count").map(|c| c as u32));
}

/// A set of the numbers 1 to `MOST`, number `N` as bit `N - 1`.
#[derive(Debug, Clone, Copy, Default)]
struct Numbers(u32);

impl Numbers {
    /// Whether the number at `index` (from 0) is in.
    fn has(self, index: usize) -> bool {
        index < MOST && self.0 & (1 << index) != 0
    }
}

/// The Antminer numbered keys an entry has: `fanN`, and `chain_acnN` or `chain_rateN`.
#[derive(Debug, Default)]
struct NumberedKeys {
    fans: Numbers,
    chains: Numbers,
}

/// One pass over the keys of every entry, so that the numbered keys a miner does not have
/// (most of the `MOST` of each) are not searched for one by one.
fn numbered_keys(entries: &[Value]) -> NumberedKeys {
    let mut found = NumberedKeys::default();
    let number = |rest: &str| rest.parse::<usize>().ok().filter(|n| (1..=MOST).contains(n)).map(|n| 1 << (n - 1));
    for key in entries.iter().filter_map(Value::as_object).flat_map(|entry| entry.keys()) {
        if let Some(bit) = key.strip_prefix("fan").and_then(number) {
            found.fans.0 |= bit;
        } else if let Some(bit) =
            key.strip_prefix("chain_acn").or_else(|| key.strip_prefix("chain_rate")).and_then(number)
        {
            found.chains.0 |= bit;
        }
    }
    found
}

/// Antminer chains `N` (from 1): present when any of their keys is.
fn antminer_chains<'a>(
    names: &StatsKeys,
    raw: &dyn Fn(&str) -> Option<&'a Value>,
    unit_divisor: f64,
    present: Numbers,
) -> Vec<Hashboard> {
    let key = |name: &str| number(raw(name));
    let corners = |name: &str| raw(name).and_then(max_of_corners);
    (0..MOST)
        .filter(|&i| present.has(i))
        .filter(|&i| key(&names.chain_acn[i]).is_some_and(|chips| chips > 0.0) || key(&names.chain_rate[i]).is_some())
        .map(|i| Hashboard {
            index: i as u32,
            chip_temperature: corners(&names.temp_chip[i]).or_else(|| key(&names.temp2[i])),
            board_temperature: corners(&names.temp_pcb[i]).or_else(|| key(&names.temp[i])),
            voltage: key(&names.voltage[i]).filter(|v| *v > 0.0),
            frequency: key(&names.freq[i]).filter(|f| *f > 0.0),
            hash_rate: key(&names.chain_rate[i]).map(|r| non_negative(r / unit_divisor)),
            nominal_hash_rate: None,
        })
        .filter(|board| board.hash_rate.is_some() || board.chip_temperature.is_some())
        .collect()
}

/// bdminer boards `N` (from 0): `N MHS(…)`, `N Temp k`, `N Freq`, `N MHS(Ideal)`.
fn bdminer_boards(boards: &[BoardKeys], key: &dyn Fn(&str) -> Option<f64>) -> Vec<Hashboard> {
    boards
        .iter()
        .enumerate()
        .map(|(board, names)| Hashboard {
            index: board as u32,
            chip_temperature: names
                .temperatures
                .iter()
                .filter_map(|name| key(name))
                .filter(plausible_temperature)
                .reduce(f64::max),
            board_temperature: None,
            voltage: None,
            frequency: key(&names.freq).filter(|f| *f > 0.0),
            hash_rate: names.rates.iter().find_map(|name| key(name)).map(|mhs| non_negative(mhs / 1e6)),
            nominal_hash_rate: key(&names.ideal).map(|m| m / 1e6),
        })
        .collect()
}

/// The maximum of a corner reading: a "78-50-69-70" string or a plain number, zeros
/// (absent sensors) ignored.
fn max_of_corners(value: &Value) -> Option<f64> {
    let text = match value {
        Value::String(text) => text.as_str(),
        other => return number(Some(other)).filter(plausible_temperature),
    };
    let parts = text.split('-').filter_map(|part| part.trim().parse::<f64>().ok());
    parts.filter(plausible_temperature).reduce(f64::max)
}

/// Model and firmware from `version`.
pub fn apply_version(reading: &mut MinerReading, version_reply: &Value) {
    let Some(version) = first(version_reply, "VERSION") else { return };
    let info = reading.device_info.get_or_insert_with(DeviceInfo::default);
    let model =
        field_text(version, "Type").or_else(|| field_text(version, "PROD")).or_else(|| field_text(version, "MODEL"));
    info.model = info.model.take().or(model);
    let (kind, firmware) = ["LUXminer", "BOSer", "BMMiner", "bosminer", "CGMiner", "Miner"]
        .iter()
        .find_map(|key| field_text(version, key).map(|v| (key.to_string(), v)))
        .unzip();
    info.firmware_type = info.firmware_type.take().or(kind);
    info.firmware_version = info.firmware_version.take().or(firmware);
    info.mac_address = info.mac_address.take().or_else(|| field_text(version, "MAC"));
}

fn non_negative(value: f64) -> f64 {
    value.max(0.0)
}

/// Temperatures outside what a board can read are sensor errors (absent), not readings.
pub fn plausible_temperature(celsius: &f64) -> bool {
    *celsius > 0.0 && *celsius < 150.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hashrate_prefers_the_shortest_window_and_normalises_units() {
        assert_eq!(hashrate_ths(&json!({"MHS av": 95e6, "MHS 5s": 90e6})), Some(90.0));
        assert_eq!(hashrate_ths(&json!({"GHS av": 110000.0, "GHS 5s": 110566.89})), Some(110.56689));
        assert_eq!(hashrate_ths(&json!({"GHS av": 1000.0})), Some(1.0));
        assert_eq!(hashrate_ths(&json!({"MHS 1m": "2000000"})), Some(2.0));
        assert_eq!(hashrate_ths(&json!({"Accepted": 1})), None);
    }

    #[test]
    fn a_five_second_spike_over_a_steady_minute_is_not_the_current_hashrate() {
        // GCMiner: 5 s at 20.6 TH/s, the minute at 10.26: a spike (more than 30 % above).
        let summary = json!({"MHS av": 7.97e6, "MHS 5s": 20.6e6, "MHS 1m": 10.26e6, "MHS 5m": 8.78e6});
        assert_eq!(hashrate_ths(&summary), Some(10.26));
        // Within 30 %: the short window is the current one.
        assert_eq!(hashrate_ths(&json!({"MHS 5s": 102.4e6, "MHS 1m": 86.4e6})), Some(102.4));
        // A miner that just stopped reads 0 now, not its last minute.
        assert_eq!(hashrate_ths(&json!({"MHS 5s": 0, "MHS 1m": 86.4e6})), Some(0.0));
    }

    #[test]
    fn whatsminer_real_time_and_bdminer_windows_beat_the_long_average() {
        assert_eq!(hashrate_ths(&json!({"MHS av": 125e6, "HS RT": 0.0})), Some(0.0), "a stopped v2 hashes nothing");
        assert_eq!(hashrate_ths(&json!({"MHS av": 125e6, "HS RT": 124.5e6})), Some(124.5));
        let bdminer = json!({"MHS(30s)": 220.4e6, "MHS(1m)": 220.3e6, "MHS(Avg)": 218.7e6});
        assert_eq!(hashrate_ths(&bdminer), Some(220.4));
        assert_eq!(hashrate_ths(&json!({"THS 5s": 0.95})), Some(0.95));
    }

    #[test]
    fn a_window_takes_its_first_spelling_and_other_keys_are_not_windows() {
        assert_eq!(hashrate_ths(&json!({"GHS 5s": 2000.0, "MHS 5s": 1e6})), Some(1.0), "MHS before GHS");
        assert_eq!(
            hashrate_ths(&json!({"MHS(5s)": 3e6, "MHS 5s": "x"})),
            Some(3.0),
            "an unreadable spelling is absent"
        );
        assert_eq!(hashrate_ths(&json!({"MHS 5": 1e6, "MHS(5s": 1e6, "XHS 5s": 1e6, "MHS RT": 1e6})), None);
    }

    #[test]
    fn bdminer_stats_keys() {
        let stats = json!({"STATS": [{"Model": "A2", "Fan Count": 2, "0 Speed": 3700, "1 Speed": 3750,
            "Board Count": 2, "0 MHS(30s)": 74.0e6, "0 Temp 0": 55, "0 Temp 2": 71, "0 Freq": 349,
            "1 MHS(30s)": 73.5e6, "1 Temp 0": 58, "1 Temp 3": 68, "PSU Input Power": "3504",
            "MHS(30s)": 147.5e6, "MHS(Rated)": 150.0e6, "Power Limit": 3500}]});
        let mut reading = MinerReading::default();
        apply_stats(&mut reading, &stats);
        let boards = reading.hashboards.unwrap();
        assert_eq!(boards.len(), 2);
        assert_eq!(
            (boards[0].hash_rate, boards[0].chip_temperature, boards[0].frequency),
            (Some(74.0), Some(71.0), Some(349.0))
        );
        assert_eq!(boards[1].chip_temperature, Some(68.0));
        assert_eq!(reading.internal_fans, Some(vec![3700.0, 3750.0]));
        assert_eq!((reading.power, reading.hashrate, reading.max_hashrate), (Some(3504.0), Some(147.5), Some(150.0)));
        assert_eq!(reading.device_info.unwrap().model.as_deref(), Some("A2"));
    }

    #[test]
    fn stats_entries_are_read_key_by_key() {
        // No `chain_rate1` and no `fan_num`: the chains and fans are still read.
        let stats = json!({"STATS": [{"Type": "Antminer S19"}, {"fan1": 5000, "fan2": 5100,
            "chain_acn1": 76, "temp_chip1": "70-72-0-69", "chain_acn2": 76, "temp_chip2": 73}]});
        let mut reading = MinerReading::default();
        apply_stats(&mut reading, &stats);
        let boards = reading.hashboards.unwrap();
        assert_eq!(boards.iter().map(|b| b.chip_temperature).collect::<Vec<_>>(), [Some(72.0), Some(73.0)]);
        assert_eq!(reading.internal_fans, Some(vec![5000.0, 5100.0]));
    }

    #[test]
    fn antminer_stats_boards() {
        let stats = json!({"STATS": [{"Type": "Antminer S9"}, {"fan_num": 2, "fan1": 4800, "fan2": 0, "fan3": 5000,
            "rate_unit": "GH", "chain_acn1": 63, "chain_acn2": 63, "chain_acn3": 0,
            "chain_rate1": "4700.5", "chain_rate2": "4600", "temp_chip1": "71-0-68-70", "temp2_2": 66,
            "temp_pcb1": "60-55-0-58", "temp2": 57, "freq1": 650, "freq2": "650", "total_rateideal": 13500.0}]});
        let mut reading = MinerReading::default();
        apply_stats(&mut reading, &stats);
        let boards = reading.hashboards.unwrap();
        assert_eq!(boards.len(), 2);
        assert_eq!(boards[0].chip_temperature, Some(71.0));
        assert_eq!(boards[0].board_temperature, Some(60.0));
        assert_eq!(boards[0].hash_rate, Some(4.7005));
        assert_eq!(boards[1].chip_temperature, Some(66.0));
        assert_eq!(boards[1].board_temperature, Some(57.0));
        assert_eq!(reading.internal_fans, Some(vec![4800.0, 5000.0]));
        assert_eq!(reading.max_hashrate, Some(13.5));
        assert_eq!(reading.device_info.unwrap().model.as_deref(), Some("Antminer S9"));
    }
}
