//! Avalon replies: the bracketed `MM ID0` string in `stats`.
//! Written from the documented formats, not copied from captures.

use crate::support::cgminer::reply;
use serde_json::json;

/// Avalon: the bracketed `MM ID0` string in `stats`.
pub fn avalon_stats(working: bool) -> String {
    let state = if working { "Work: In Work, Hash Board: 1" } else { "Work: In Idle, Hash Board: 1" };
    let soft_off = if working { 0 } else { 3 };
    let ghs = if working { 88000.0 } else { 0.0 };
    let mm = format!(
        "Ver[Q-25050101] SYSTEMSTATU[{state}] Elapsed[5000] ITemp[24] HBITemp[30] HBOTemp[52] TMax[71] TAvg[64] Fan1[2700] Fan2[2710] Fan3[2690] Fan4[2705] SoftOFF[{soft_off}] GHSspd[{ghs:.2}] Freq[310.5] WORKMODE[1]"
    );
    reply("STATS", json!([{"STATS": 0, "ID": "AVA100", "Elapsed": 5000, "MM ID0:Summary": mm}]))
}

pub fn avalon_summary(mhs_5s: f64) -> String {
    reply(
        "SUMMARY",
        json!([{"Elapsed": 5000, "MHS 5s": mhs_5s, "MHS 1m": mhs_5s, "MHS av": 85000000.0, "Found Blocks": 0}]),
    )
}

/// An Avalon A-series (A1246) `stats`: three boards in `MGHS`/`MTmax`, power in `PS[4]`.
pub fn avalon_a_stats() -> String {
    let mm = "Ver[1246-83-21072802] SYSTEMSTATU[Work: In Work, Hash Board: 3 ] Elapsed[24684] Temp[30] TMax[77] TAvg[65] Fan1[5344] Fan2[5392] Fan3[5349] Fan4[5309] PS[0 1214 1316 242 3189 1320 3504] GHSspd[81072.68] GHSavg[79656.63] Freq[502.41] MGHS[26907.01 26025.06 26724.56] MTmax[77 77 76] MTavg[66 65 64] SoftOFF[0] MPO[3200]";
    reply("STATS", json!([{"STATS": 0, "ID": "AVA100", "Elapsed": 24684, "MM Count": 1, "MM ID0": mm}]))
}
