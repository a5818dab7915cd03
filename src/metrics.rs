//! Prometheus text-format metrics of a cycle (node_exporter's textfile collector), written
//! atomically: a temporary file beside the target, then a rename.

use std::fmt::Write as _;
use std::path::Path;

use crate::core::status::MinerStatus;
use crate::cycle::outcome::RunReport;
use crate::rules::model::Decision;

/// Reads one number off a miner's line of the report.
type MinerValue = fn(&crate::cycle::outcome::MinerOutcome) -> Option<f64>;

/// What a metrics file says beyond the report.
pub struct Timing {
    pub now: i64,
    pub duration_seconds: f64,
    /// The last cycle that exited 0 (this one, if it did).
    pub last_success: Option<i64>,
}

struct Family<'a> {
    out: &'a mut String,
}

impl Family<'_> {
    fn header(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{}\"", escape(v))).collect();
        let labels = if labels.is_empty() { String::new() } else { format!("{{{}}}", labels.join(",")) };
        let _ = writeln!(self.out, "{name}{labels} {}", number(value));
    }
}

fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf".into() } else { "-Inf".into() }
    } else {
        format!("{value}")
    }
}

pub fn render(report: &RunReport, timing: &Timing) -> String {
    let mut out = String::new();
    let mut f = Family { out: &mut out };
    let miners: Vec<(&str, &crate::cycle::outcome::MinerOutcome)> =
        report.units.iter().flat_map(|u| u.miners.iter().map(move |m| (u.id.as_str(), m))).collect();

    f.header("edge_mining_miner_up", "gauge", "1 when the miner was read this cycle.");
    for (unit, miner) in &miners {
        let up = miner.errors.is_empty() && miner.status != MinerStatus::Unknown;
        f.sample("edge_mining_miner_up", &[("unit", unit), ("miner", &miner.id)], f64::from(u8::from(up)));
    }
    f.header("edge_mining_miner_status", "gauge", "1 for the miner's current status.");
    for (unit, miner) in &miners {
        for status in MinerStatus::ALL {
            let value = f64::from(u8::from(miner.status == status));
            f.sample(
                "edge_mining_miner_status",
                &[("unit", unit), ("miner", &miner.id), ("status", status.name())],
                value,
            );
        }
    }
    f.header(
        "edge_mining_miner_feature_up",
        "gauge",
        "1 when the feature gave a value this cycle, 0 when its controller answered without it or failed.",
    );
    for (unit, miner) in &miners {
        for (feature, up) in &miner.feature_up {
            let labels = [("unit", *unit), ("miner", miner.id.as_str()), ("feature", feature)];
            f.sample("edge_mining_miner_feature_up", &labels, f64::from(u8::from(*up)));
        }
    }
    f.header("edge_mining_unit_budget_watts", "gauge", "The unit's allocation budget before its reserve, W.");
    for unit in &report.units {
        if let Some(budget) = unit.allocation.as_ref().and_then(|a| a["budget"].as_f64()) {
            f.sample("edge_mining_unit_budget_watts", &[("unit", &unit.id)], budget);
        }
    }
    let gauges: [(&str, &str, MinerValue); 5] = [
        ("edge_mining_miner_share_watts", "The miner's share of its unit's budget, W.", |m| {
            m.allocation.as_ref().map(|share| share.share)
        }),
        ("edge_mining_miner_power_target_watts", "The power target the firmware holds, W.", |m| m.facts.power_target),
        ("edge_mining_miner_hashrate_terahashes", "Hashrate reported by the miner, TH/s.", |m| m.hash_rate),
        ("edge_mining_miner_power_watts", "Power drawn by the miner, W.", |m| m.power),
        ("edge_mining_miner_chip_temperature_celsius", "Hottest chip of the miner, °C.", |m| m.facts.chip_temperature),
    ];
    for (name, help, value) in gauges {
        f.header(name, "gauge", help);
        for (unit, miner) in &miners {
            if let Some(v) = value(miner) {
                f.sample(name, &[("unit", unit), ("miner", &miner.id)], v);
            }
        }
    }
    f.header(
        "edge_mining_miner_revenue_per_kwh",
        "gauge",
        "What a kWh earns mined by this miner, in the tariff currency.",
    );
    for unit in &report.units {
        let currency = unit.market.as_ref().and_then(|e| e["currency"].as_str()).unwrap_or("");
        for miner in &unit.miners {
            if let Some(revenue) = miner.facts.revenue_per_kwh {
                let labels = [("unit", unit.id.as_str()), ("miner", &miner.id), ("currency", currency)];
                f.sample("edge_mining_miner_revenue_per_kwh", &labels, revenue);
            }
        }
    }
    let economics = report.units.iter().filter_map(|u| u.market.as_ref()).find(|e| e.is_object());
    f.header("edge_mining_market_btc_price", "gauge", "The BTC price in the tariff currency.");
    if let Some(price) = economics.and_then(|e| e["btc_price"].as_f64()) {
        f.sample(
            "edge_mining_market_btc_price",
            &[("currency", economics.and_then(|e| e["currency"].as_str()).unwrap_or(""))],
            price,
        );
    }
    f.header("edge_mining_hashprice_sat_per_th_day", "gauge", "Hashprice, sat/TH/day, from the network and the pool.");
    for source in ["network", "pool"] {
        if let Some(hashprice) = economics.and_then(|e| e["hashprice"][source].as_f64()) {
            f.sample("edge_mining_hashprice_sat_per_th_day", &[("source", source)], hashprice);
        }
    }
    f.header("edge_mining_miner_decision", "gauge", "1 for the decision taken for the miner this cycle.");
    for (unit, miner) in &miners {
        for decision in [Decision::StartMining, Decision::StopMining, Decision::MaintainState] {
            let value = f64::from(u8::from(miner.decision == decision));
            f.sample(
                "edge_mining_miner_decision",
                &[("unit", unit), ("miner", &miner.id), ("decision", decision.name())],
                value,
            );
        }
    }
    f.header(
        "edge_mining_input_up",
        "gauge",
        "1 when the input (energy, forecast, tracker, miner) was read this cycle.",
    );
    for input in &report.inputs {
        f.sample("edge_mining_input_up", &[("kind", input.kind), ("id", &input.id)], f64::from(u8::from(input.up)));
    }
    f.header("edge_mining_input_age_seconds", "gauge", "Age of the input's data, s.");
    for input in &report.inputs {
        if let Some(age) = input.age {
            f.sample("edge_mining_input_age_seconds", &[("kind", input.kind), ("id", &input.id)], age as f64);
        }
    }
    let actions: Vec<_> = miners.iter().filter_map(|(_, m)| m.action.as_ref()).collect();
    let single: [(&str, &str, f64); 6] = [
        ("edge_mining_commands_sent", "Commands sent in the last cycle.", actions.len() as f64),
        (
            "edge_mining_commands_failed",
            "Commands that failed in the last cycle.",
            actions.iter().filter(|a| a.failed()).count() as f64,
        ),
        ("edge_mining_cycle_duration_seconds", "Wall time of the last cycle, s.", timing.duration_seconds),
        ("edge_mining_last_run_timestamp_seconds", "When the last cycle ran, unix seconds.", timing.now as f64),
        (
            "edge_mining_last_success_timestamp_seconds",
            "When a cycle last exited 0, unix seconds.",
            timing.last_success.unwrap_or(0) as f64,
        ),
        ("edge_mining_exit_code", "Exit code of the last cycle.", f64::from(report.exit_code)),
    ];
    for (name, help, value) in single {
        f.header(name, "gauge", help);
        f.sample(name, &[], value);
    }
    out
}

/// Writes `text` to `path` through a temporary file and a rename, so a scraper never reads half.
pub fn write_atomically(path: &Path, text: &str) -> Result<(), String> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "metrics".into());
    let temporary = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&temporary, text).map_err(|e| format!("cannot write {}: {e}", temporary.display()))?;
    // Readable by node_exporter whatever the umask (metrics carry no secret).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&temporary, std::fs::Permissions::from_mode(0o644));
    }
    std::fs::rename(&temporary, path).map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        format!("cannot move metrics into {}: {e}", path.display())
    })
}
