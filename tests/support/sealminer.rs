//! SealMiner (bdminer) replies: windows as `MHS(30s)`, boards and fans as `N …` keys, power
//! as `PSU Input Power`. Written from the documented format, not copied from captures.

use serde_json::json;

use crate::support::cgminer::reply;

pub fn sealminer_summary() -> String {
    reply(
        "SUMMARY",
        json!([{"Elapsed": 2481, "MHS(30s)": 220_407_636.0, "MHS(1m)": 220_315_525.0, "MHS(Avg)": 218_701_205.0}]),
    )
}

pub fn sealminer_stats() -> String {
    reply(
        "STATS",
        json!([{"STATS": 0, "ID": "A20", "Model": "A2", "Fan Count": 4, "0 Speed": 3723, "1 Speed": 3723, "2 Speed": 3753,
        "3 Speed": 3723, "Board Count": 3, "0 MHS(Sample)": 73_905_832.0, "0 Temp 0": 55, "0 Temp 1": 52, "0 Temp 2": 70,
        "0 Temp 3": 69, "0 Freq": 349, "1 MHS(Sample)": 73_626_639.0, "1 Temp 0": 58, "1 Temp 2": 70, "1 Freq": 347,
        "2 MHS(Sample)": 72_846_394.0, "2 Temp 0": 56, "2 Temp 2": 71, "2 Freq": 344, "PSU Input Power": 3504,
        "MHS(Rated)": 230_839_407.0, "Power Limit": 3500}]),
    )
}
