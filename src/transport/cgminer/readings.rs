//! From standard CGMiner replies (`summary`, `devs`, `stats`, `version`) to a reading.
//!
//! Hashrates come in MH/s (`MHS 5s`) or GH/s (`GHS 5s`, Antminer and LuxOS) and become
//! TH/s; the current hashrate is the shortest window present, the average since start
//! only when there is none.

use serde_json::Value;

use crate::core::reading::{DeviceInfo, Hashboard, MinerReading};
use crate::transport::cgminer::reply::{field, field_text, first, section};

const WINDOWS: [&str; 7] = ["5s", "15s", "1m", "5m", "15m", "30m", "av"];

/// The current hashrate of a summary, a dev, or a stats entry, in TH/s.
pub fn hashrate_ths(object: &Value) -> Option<f64> {
    WINDOWS.iter().find_map(|window| {
        let mhs = field(object, &format!("MHS {window}")).map(|v| v / 1e6);
        mhs.or_else(|| field(object, &format!("GHS {window}")).map(|v| v / 1e3))
    })
}

/// Fills what `summary` tells: hashrate, uptime, blocks, and Whatsminer's extra fields.
pub fn apply_summary(reading: &mut MinerReading, summary_reply: &Value) {
    let Some(summary) = first(summary_reply, "SUMMARY") else { return };
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

/// Antminer-style `stats` (the entry with `chain_rate*`): boards, fans, and the model.
pub fn apply_stats(reading: &mut MinerReading, stats_reply: &Value) {
    let entries = section(stats_reply, "STATS");
    let model = entries.iter().find_map(|e| field_text(e, "Type"));
    let Some(data) = entries.iter().find(|e| e.get("chain_rate1").is_some() || e.get("fan_num").is_some()) else {
        if let Some(model) = model {
            reading.device_info.get_or_insert_with(DeviceInfo::default).model = Some(model);
        }
        return;
    };
    let fans: Vec<f64> = (1..=8).filter_map(|i| field(data, &format!("fan{i}"))).filter(|rpm| *rpm > 0.0).collect();
    if !fans.is_empty() {
        reading.internal_fans = Some(fans);
    }
    let unit_divisor =
        if field_text(data, "rate_unit").is_some_and(|u| u.eq_ignore_ascii_case("MH")) { 1e6 } else { 1e3 };
    let boards: Vec<Hashboard> = (1..=16)
        .filter(|i| field(data, &format!("chain_acn{i}")).is_some_and(|chips| chips > 0.0))
        .map(|i| Hashboard {
            index: i - 1,
            chip_temperature: max_of_dashes(data, &format!("temp_chip{i}"))
                .or_else(|| field(data, &format!("temp2_{i}"))),
            board_temperature: max_of_dashes(data, &format!("temp_pcb{i}"))
                .or_else(|| field(data, &format!("temp{i}"))),
            voltage: field(data, &format!("voltage{i}")).filter(|v| *v > 0.0),
            frequency: field(data, &format!("freq{i}")).filter(|f| *f > 0.0),
            hash_rate: field(data, &format!("chain_rate{i}")).map(|r| non_negative(r / unit_divisor)),
            nominal_hash_rate: None,
        })
        .collect();
    if !boards.is_empty() {
        reading.hashboards = Some(boards);
    }
    if let Some(ideal) = field(data, "total_rateideal").filter(|r| *r > 0.0) {
        reading.max_hashrate = Some(ideal / unit_divisor);
    }
    let info = reading.device_info.get_or_insert_with(DeviceInfo::default);
    info.model = info.model.take().or(model);
    info.hashboard_count = reading.hashboards.as_ref().map(|b| b.len() as u32);
    info.fan_count = field(data, "fan_num").map(|n| n as u32);
    info.chip_count =
        Some((1..=16).filter_map(|i| field(data, &format!("chain_acn{i}"))).sum::<f64>() as u32).filter(|c| *c > 0);
}

/// The maximum of a "78-50-69-70" corner string, zeros (absent sensors) ignored.
fn max_of_dashes(object: &Value, key: &str) -> Option<f64> {
    let text = field_text(object, key)?;
    text.split('-').filter_map(|part| part.trim().parse::<f64>().ok()).filter(|t| *t > 0.0).reduce(f64::max)
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
