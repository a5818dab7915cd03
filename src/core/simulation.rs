//! The accounting of a simulated day (SPEC §20): each step's powers turned into energies,
//! the miners' energy split by origin (PV direct, battery, grid), and the totals in energy
//! and money. Pure: the simulation driver hands it what each cycle's report said.

use serde::Serialize;

/// One row of an energy trace: what the roof made and the house used at `at` (W).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TracePoint {
    pub at: i64,
    pub production: f64,
    /// The house without the miners.
    pub consumption: f64,
    pub battery_soc: Option<f64>,
    /// What the grid meter said, for comparison only.
    pub grid: Option<f64>,
    pub import_price: Option<f64>,
    pub feed_in_price: Option<f64>,
}

/// A trace, in time order; each row holds until the next.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Trace {
    pub points: Vec<TracePoint>,
}

impl Trace {
    /// The row in force at `at` (the last at or before it; the first before the trace).
    pub fn at(&self, at: i64) -> Option<&TracePoint> {
        let index = self.points.partition_point(|p| p.at <= at);
        self.points.get(index.saturating_sub(1))
    }
}

/// One step of the simulation: the powers its cycle saw (W; grid > 0 imports, battery > 0
/// charges), held for `seconds`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub at: i64,
    #[serde(skip)]
    pub seconds: f64,
    pub production: f64,
    pub house: f64,
    /// Each miner's (id, W, TH/s).
    pub miners: Vec<(String, f64, f64)>,
    pub grid: f64,
    pub battery: f64,
    pub soc: Option<f64>,
    /// Price of a kWh bought and sold at this step, in the tariff's currency.
    #[serde(skip)]
    pub prices: (Option<f64>, Option<f64>),
}

impl Step {
    pub fn miners_power(&self) -> f64 {
        self.miners.iter().map(|(_, w, _)| w).sum()
    }

    /// PV + import + discharge − (house + miners + export + charge), W: zero when the
    /// step's powers balance.
    pub fn imbalance(&self) -> f64 {
        self.production + self.grid - self.battery - self.house - self.miners_power()
    }

    /// Where the miners' power came from, W: (PV direct, battery, grid). The house is served
    /// first, then the miners from what the roof has left, then from the battery, then the grid.
    pub fn origins(&self) -> (f64, f64, f64) {
        let miners = self.miners_power();
        let pv_left = (self.production - self.house).max(0.0);
        let pv = miners.min(pv_left);
        let discharge = (-self.battery).max(0.0);
        let battery = (miners - pv).min(discharge).max(0.0);
        (pv, battery, (miners - pv - battery).max(0.0))
    }
}

/// Energy in kWh and money in the tariff's currency over a simulated span.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Totals {
    pub production_kwh: f64,
    pub house_kwh: f64,
    pub miners_kwh: f64,
    pub import_kwh: f64,
    pub export_kwh: f64,
    pub battery_charge_kwh: f64,
    pub battery_discharge_kwh: f64,
    /// The miners' energy by origin.
    pub miners_from_pv_kwh: f64,
    pub miners_from_battery_kwh: f64,
    pub miners_from_grid_kwh: f64,
    /// Terahash-hours produced.
    pub th_hours: f64,
    pub sats: Option<f64>,
    /// What the miners' grid energy cost.
    pub grid_cost: Option<f64>,
    /// What the PV and battery energy the miners used would have earned fed in.
    pub feed_in_forgone: Option<f64>,
    /// The sats in the currency (with a BTC price), less the grid cost and the feed-in forgone.
    pub net: Option<f64>,
}

/// Each miner's switches, time mining and energy.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MinerTotals {
    pub starts: u32,
    pub stops: u32,
    pub target_changes: u32,
    pub hours_mining: f64,
    pub kwh: f64,
    pub th_hours: f64,
}

/// What is known of the market: sat per TH per day, and the BTC price in the tariff's currency.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Prices {
    pub hashprice: Option<f64>,
    pub btc_price: Option<f64>,
}

/// Adds a step to the totals.
pub fn account(totals: &mut Totals, step: &Step) {
    let hours = step.seconds / 3600.0;
    let kwh = |watts: f64| watts * hours / 1000.0;
    let (pv, battery, grid) = step.origins();
    totals.production_kwh += kwh(step.production);
    totals.house_kwh += kwh(step.house);
    totals.miners_kwh += kwh(step.miners_power());
    totals.import_kwh += kwh(step.grid.max(0.0));
    totals.export_kwh += kwh((-step.grid).max(0.0));
    totals.battery_charge_kwh += kwh(step.battery.max(0.0));
    totals.battery_discharge_kwh += kwh((-step.battery).max(0.0));
    totals.miners_from_pv_kwh += kwh(pv);
    totals.miners_from_battery_kwh += kwh(battery);
    totals.miners_from_grid_kwh += kwh(grid);
    totals.th_hours += step.miners.iter().map(|(_, _, th)| th).sum::<f64>() * hours;
    let (import_price, feed_in_price) = step.prices;
    add(&mut totals.grid_cost, import_price.map(|p| kwh(grid) * p));
    add(&mut totals.feed_in_forgone, feed_in_price.map(|p| kwh(pv + battery) * p));
}

fn add(total: &mut Option<f64>, value: Option<f64>) {
    if let Some(value) = value {
        *total = Some(total.unwrap_or(0.0) + value);
    }
}

/// Sats from the hash produced, and the net in the currency, once every step is counted.
pub fn settle(totals: &mut Totals, prices: Prices) {
    totals.sats = prices.hashprice.map(|sat_per_th_day| totals.th_hours / 24.0 * sat_per_th_day);
    let revenue = totals.sats.zip(prices.btc_price).map(|(sats, btc)| sats / 1e8 * btc);
    totals.net = revenue.map(|r| r - totals.grid_cost.unwrap_or(0.0) - totals.feed_in_forgone.unwrap_or(0.0));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(production: f64, house: f64, miners: f64, grid: f64, battery: f64) -> Step {
        Step {
            at: 0,
            seconds: 3600.0,
            production,
            house,
            miners: vec![("m".into(), miners, miners / 30.0)],
            grid,
            battery,
            soc: None,
            prices: (Some(0.30), Some(0.08)),
        }
    }

    #[test]
    fn the_miners_take_the_roof_after_the_house_then_the_battery_then_the_grid() {
        // 3 kW of PV, 1 kW house, 4 kW miners: 2 from PV, 1.5 from the battery, 0.5 imported.
        let s = step(3000.0, 1000.0, 4000.0, 500.0, -1500.0);
        assert_eq!(s.imbalance(), 0.0);
        assert_eq!(s.origins(), (2000.0, 1500.0, 500.0));
        let mut totals = Totals::default();
        account(&mut totals, &s);
        assert!((totals.grid_cost.unwrap() - 0.15).abs() < 1e-9, "0.5 kWh at 0.30");
        assert!((totals.feed_in_forgone.unwrap() - 0.28).abs() < 1e-9, "3.5 kWh at 0.08");
        settle(&mut totals, Prices { hashprice: Some(48_000.0), btc_price: Some(60_000.0) });
        let sats = 4000.0 / 30.0 / 24.0 * 48_000.0;
        assert!((totals.sats.unwrap() - sats).abs() < 1e-6);
        assert!((totals.net.unwrap() - (sats / 1e8 * 60_000.0 - 0.43)).abs() < 1e-9);
    }

    #[test]
    fn export_and_charge_leave_the_miners_on_pv_alone() {
        let s = step(6000.0, 500.0, 3000.0, -1500.0, 1000.0);
        assert_eq!(s.imbalance(), 0.0);
        assert_eq!(s.origins(), (3000.0, 0.0, 0.0));
    }

    #[test]
    fn a_trace_row_holds_until_the_next() {
        let point = |at| TracePoint {
            at,
            production: at as f64,
            consumption: 0.0,
            battery_soc: None,
            grid: None,
            import_price: None,
            feed_in_price: None,
        };
        let trace = Trace { points: vec![point(100), point(200)] };
        assert_eq!(trace.at(50).map(|p| p.at), Some(100));
        assert_eq!(trace.at(150).map(|p| p.at), Some(100));
        assert_eq!(trace.at(200).map(|p| p.at), Some(200));
        assert_eq!(trace.at(999).map(|p| p.at), Some(200));
    }
}
