//! The shape of the decisional context (SPEC §8), used to reject rule field paths that
//! cannot exist (a typo such as `energy_state.battery.soc`).

use std::collections::BTreeMap;
use std::sync::OnceLock;

/// Every leaf of the context. `#` stands for a list index, `*` for any map key; a leaf
/// ending in `timestamp` or `_at` also has the parts `year`…`weekday`.
const PATHS: &[&str] = &[
    "timestamp",
    "energy_source.id",
    "energy_source.name",
    "energy_source.type",
    "energy_source.nominal_power_max",
    "energy_source.storage.nominal_capacity",
    "energy_state.production",
    "energy_state.consumption.current_power",
    "energy_state.battery.state_of_charge",
    "energy_state.battery.remaining_capacity",
    "energy_state.battery.current_power",
    "energy_state.battery.charging_power",
    "energy_state.battery.discharging_power",
    "energy_state.grid.current_power",
    "energy_state.grid.importing_power",
    "energy_state.grid.exporting_power",
    "energy_state.surplus_power",
    "energy_state.surplus_for_miner",
    "energy_state.age",
    "energy_state.timestamp",
    "forecast.next_hour_power",
    "forecast.avg_next_4_hours_power",
    "forecast.next_hour_energy",
    "forecast.age",
    "forecast.timestamp",
    "sun.elevation",
    "sun.azimuth",
    "sun.is_day",
    "sun.minutes_to_sunset",
    "sun.minutes_since_sunrise",
    "miner.id",
    "miner.name",
    "miner.model",
    "miner.power_max",
    "miner.hashrate_max",
    "miner.active",
    "miner_state.status",
    "miner_state.hash_rate.value",
    "miner_state.hash_rate.unit",
    "miner_state.power_consumption",
    "miner_state.inlet_temperature.value",
    "miner_state.outlet_temperature.value",
    "miner_state.internal_fan_speed.#",
    "miner_state.external_fan_speed.value",
    "miner_state.hashboards.#.index",
    "miner_state.hashboards.#.chip_temperature",
    "miner_state.hashboards.#.board_temperature",
    "miner_state.hashboards.#.voltage",
    "miner_state.hashboards.#.frequency",
    "miner_state.hashboards.#.hash_rate",
    "miner_state.hashboards.#.nominal_hash_rate",
    "miner_state.max_chip_temperature.value",
    "miner_state.avg_chip_temperature.value",
    "miner_state.max_board_temperature.value",
    "miner_state.avg_board_temperature.value",
    "miner_state.blocks_found",
    "miner_state.system_uptime",
    "miner_state.sources.*",
    "miner_state.efficiency",
    "miner_state.power_target",
    "miner_state.power_target_bounds.min",
    "miner_state.power_target_bounds.max",
    "miner.power_min",
    "economics.currency",
    "economics.btc_price",
    "economics.hashprice.network",
    "economics.hashprice.pool",
    "economics.import_price",
    "economics.feed_in_price",
    "economics.revenue_per_kwh",
    "economics.revenue_per_kwh_sat",
    "economics.margin_vs_feed_in",
    "economics.margin_vs_import",
    "economics.breakeven_price",
    "economics.stale",
    "economics.age",
    "mining_performance.current_hashrate.value",
    "mining_performance.current_hashrate.unit",
    "mining_performance.pool_stats.current_hashrate.value",
    "mining_performance.pool_stats.current_hashrate.unit",
    "mining_performance.pool_stats.average_hashrate_24h.value",
    "mining_performance.pool_stats.average_hashrate_24h.unit",
    "mining_performance.pool_stats.average_hashrate_7d.value",
    "mining_performance.pool_stats.average_hashrate_7d.unit",
    "mining_performance.pool_stats.unpaid_balance",
    "mining_performance.pool_stats.estimated_next_payout",
    "mining_performance.pool_stats.timestamp",
    "mining_performance.pool_stats.workers.#.worker_name",
    "mining_performance.pool_stats.workers.#.hashrate.value",
    "mining_performance.pool_stats.workers.#.hashrate.unit",
    "mining_performance.pool_stats.workers.#.last_share_at",
    "mining_performance.pool_stats.workers.#.valid_shares",
    "mining_performance.pool_stats.workers.#.stale_shares",
    "mining_performance.pool_stats.workers.#.rejected_shares",
    "mining_performance.payout_schedule.frequency",
    "mining_performance.payout_schedule.threshold",
    "mining_performance.payout_schedule.next_payout_at",
    "mining_performance.timestamp",
    "mining_performance.stale",
    "mining_performance.age",
    "mining_performance.tracker",
    "mining_performance.worker.worker_name",
    "mining_performance.worker.hashrate.value",
    "mining_performance.worker.hashrate.unit",
    "mining_performance.worker.last_share_at",
    "mining_performance.worker.valid_shares",
    "mining_performance.worker.stale_shares",
    "mining_performance.worker.rejected_shares",
    "control.on_for",
    "control.off_for",
    "control.switches_today",
    "control.last_action",
    "control.last_action_at",
    "control.pending",
    "allocation.budget",
    "allocation.available",
    "allocation.basis",
    "allocation.mode",
    "allocation.strategy",
    "allocation.share",
];

/// The `home_load` and `climate` leaves (SPEC §18), `*` for a device or zone name.
fn home_paths() -> Vec<String> {
    use crate::core::home_load::{FORECAST_WINDOWS, HISTORY_WINDOWS};
    let aggregates = ["total_energy", "avg_energy", "avg_power", "peak_power"];
    let mut paths = Vec::new();
    let mut series = |prefix: &str, windows: &[(&str, i64)]| {
        for aggregate in aggregates {
            paths.push(format!("{prefix}.{aggregate}"));
            paths.extend(windows.iter().map(|(window, _)| format!("{prefix}.{window}.{aggregate}")));
        }
    };
    series("home_load.total_history", &HISTORY_WINDOWS);
    series("home_load.total_forecast", &FORECAST_WINDOWS);
    series("home_load.devices.*.history", &HISTORY_WINDOWS);
    series("home_load.devices.*.forecast", &FORECAST_WINDOWS);
    paths.push("home_load.devices.*.device_category".into());
    for field in ["temperature_celsius", "humidity", "target_temperature", "hysteresis_celsius", "heating_demand"] {
        paths.push(format!("climate.zones.*.{field}"));
    }
    paths.extend(["min", "avg", "max"].map(|which| format!("climate.{which}_temperature")));
    paths
}

const TIMESTAMP_PARTS: [&str; 7] = ["year", "month", "day", "hour", "minute", "second", "weekday"];

#[derive(Default)]
struct Node {
    children: BTreeMap<String, Node>,
}

fn tree() -> &'static Node {
    static TREE: OnceLock<Node> = OnceLock::new();
    TREE.get_or_init(|| {
        let mut root = Node::default();
        let home = home_paths();
        for path in PATHS.iter().copied().chain(home.iter().map(String::as_str)) {
            let mut node = &mut root;
            for segment in path.split('.') {
                node = node.children.entry(segment.to_string()).or_default();
            }
            if path.ends_with("timestamp") || path.ends_with("_at") {
                for part in TIMESTAMP_PARTS {
                    node.children.entry(part.to_string()).or_default();
                }
            }
        }
        root
    })
}

/// How a rule's field path relates to the context schema.
#[derive(Debug, PartialEq, Eq)]
pub enum PathCheck {
    Known,
    /// Cannot exist; carries the longest valid prefix and what could follow it.
    Unknown {
        valid_prefix: String,
        expected: Vec<String>,
    },
}

pub fn check_path(path: &str) -> PathCheck {
    let segments: Vec<&str> = path.split('.').collect();
    let mut node = tree();
    for (depth, segment) in segments.iter().enumerate() {
        let next = node.children.get(*segment).or_else(|| {
            let is_index = segment.chars().all(|c| c.is_ascii_digit());
            node.children.get(if is_index { "#" } else { "*" }).or_else(|| node.children.get("*"))
        });
        match next {
            Some(child) => node = child,
            None => {
                return PathCheck::Unknown {
                    valid_prefix: segments[..depth].join("."),
                    expected: node.children.keys().cloned().collect(),
                };
            }
        }
    }
    PathCheck::Known
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_paths_and_objects_pass() {
        for path in [
            "energy_state.battery.state_of_charge",
            "energy_state.battery",
            "timestamp.weekday",
            "miner_state.hashboards.0.chip_temperature",
            "miner_state.sources.hash_rate",
            "mining_performance.pool_stats.workers.3.hashrate.value",
            "mining_performance.payout_schedule.next_payout_at.hour",
        ] {
            assert_eq!(check_path(path), PathCheck::Known, "{path}");
        }
    }

    #[test]
    fn typos_are_unknown_with_suggestions() {
        match check_path("energy_state.battery.soc") {
            PathCheck::Unknown { valid_prefix, expected } => {
                assert_eq!(valid_prefix, "energy_state.battery");
                assert!(expected.contains(&"state_of_charge".to_string()));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(check_path("miner_state.hashboards.x.voltage"), PathCheck::Unknown { .. }));
        assert_eq!(check_path("home_load.total_forecast.next_2h.avg_power"), PathCheck::Known);
        assert_eq!(check_path("home_load.devices.boiler.forecast.next_1h.peak_power"), PathCheck::Known);
        assert_eq!(check_path("climate.zones.bedroom.temperature_celsius"), PathCheck::Known);
        assert!(matches!(check_path("home_load.total_history.next_2h.avg_power"), PathCheck::Unknown { .. }));
    }
}
