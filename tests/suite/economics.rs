//! Economics (SPEC §19) against a mempool fake and a Home Assistant price sensor: the
//! figures equal hand-computed ones, schedules follow local time across DST, and a market
//! that rate-limits is left alone until its `Retry-After` while its data is served stale.

use serde_json::Value;

use crate::support::cgminer::FakeCgminer;
use crate::support::home_assistant::{FakeHomeAssistant, TOKEN};
use crate::support::mempool::FakeMempool;
use crate::support::pool::PoolMode;
use crate::support::{Sandbox, replies};

const T0: i64 = 1_782_036_000; // 2026-06-21T10:00:00Z

fn at(offset: i64) -> String {
    jiff::Timestamp::from_second(T0 + offset).unwrap().to_string()
}

/// A LuxOS miner (139.8 TH/s at 3210 W) in a unit with `tariffs` and the mempool market.
fn sandbox(mempool: &FakeMempool, lux: &FakeCgminer, tariffs: &str, extra: &str) -> Sandbox {
    let sandbox = Sandbox::new();
    sandbox.write(
        "policy.yaml",
        "name: economic\nstart_rules:\n  - name: beats feed-in\n    conditions: {field: economics.margin_vs_feed_in, operator: gt, value: -1}\nstop_rules: []\n",
    );
    sandbox.config(&format!(
        "version: 1\nstate: state.db\nsettings: {{timezone: Europe/Rome, timeout: 2s}}\n{extra}tariffs:\n{tariffs}market: {{type: mempool, api_base_url: \"{}\"}}\nenergy_sources:\n  - {{id: roof, type: solar, monitor: {{type: simulated}}}}\ncontrollers:\n  - {{id: lux, type: luxos, host: 127.0.0.1, port: {}}}\nminers:\n  - {{id: rig, power_max: 3300, controllers: [lux]}}\nunits:\n  - {{id: home, energy_source: roof, miners: [rig], policy: policy.yaml}}\n",
        mempool.url(),
        lux.port
    ));
    sandbox
}

fn luxos() -> FakeCgminer {
    FakeCgminer::start(&[
        ("summary", replies::luxos_summary(139_800.0)),
        ("stats", replies::antminer_stats()),
        ("power", replies::luxos_power(3210.0)),
        ("fans", replies::luxos_fans()),
        ("config", replies::luxos_config("Sleep")),
    ])
}

fn economics(sandbox: &Sandbox, now: &str) -> (Value, String) {
    let run = sandbox.run(&["context", "--miner", "rig", "--now", now]);
    let context: Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr));
    (context["economics"].clone(), run.stderr)
}

fn close(value: &Value, expected: f64) {
    let got = value.as_f64().unwrap_or_else(|| panic!("not a number: {value}"));
    assert!((got - expected).abs() <= expected.abs() * 1e-4 + 1e-9, "{got} is not {expected}");
}

#[test]
fn hashprice_revenue_and_margins_equal_the_hand_computed_values() {
    let mempool = FakeMempool::start();
    let lux = luxos();
    let ha = FakeHomeAssistant::start();
    ha.set("sensor.feed_in_price", "0.08", Some("EUR/kWh"));
    let services = format!("services:\n  - {{id: ha, type: home_assistant, url: \"{}\", token: {TOKEN}}}\n", ha.url());
    let tariffs = "  currency: EUR\n  import: 0.30\n  feed_in: {service: ha, entity: sensor.feed_in_price}\n";
    let sandbox = sandbox(&mempool, &lux, tariffs, &services);
    let (economics, stderr) = economics(&sandbox, &at(0));
    // Network hashprice: 45 600 000 000 sat over 144 blocks (a day) ÷ (8e20 H/s ÷ 1e12 = 8e8 TH/s)
    //   = 57 sat/TH/day.
    close(&economics["hashprice"]["network"], 57.0);
    // Efficiency: 3210 W ÷ 139.8 TH/s = 22.961373 J/TH; a TH/s for a day uses 22.961373 × 0.024
    //   = 0.551073 kWh; revenue = 57 ÷ 0.551073 = 103.4345 sat/kWh.
    let efficiency = 3210.0 / 139.8;
    let sat_per_kwh = 57.0 / (efficiency * 0.024);
    close(&economics["revenue_per_kwh_sat"], sat_per_kwh);
    // At 92 000 EUR/BTC: 103.4345 × 92 000 ÷ 1e8 = 0.0951597 EUR/kWh, the breakeven price too.
    let per_kwh = sat_per_kwh * 92_000.0 / 1e8;
    close(&economics["revenue_per_kwh"], per_kwh);
    close(&economics["breakeven_price"], per_kwh);
    // Margins: − 0.08 feed-in (the Home Assistant sensor) = 0.0151597; − 0.30 import = −0.2048403.
    close(&economics["margin_vs_feed_in"], per_kwh - 0.08);
    close(&economics["margin_vs_import"], per_kwh - 0.30);
    close(&economics["feed_in_price"], 0.08);
    close(&economics["btc_price"], 92_000.0);
    assert_eq!(economics["currency"], "EUR");
    assert_eq!(economics["stale"], false, "{stderr}");
    // The report: revenue 139.8 TH/s × 57 sat/TH/day ÷ 24 = 332.025 sat/h × 92 000 / 1e8
    //   = 0.3054630 EUR/h;
    // energy 3.21 kW × 0.08 EUR/kWh = 0.2568 EUR/h.
    let (run, report) = sandbox.cycle(&at(60), &["--dry-run"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let unit = &report["units"][0]["economics"];
    close(&unit["revenue_per_hour"], 139.8 * 57.0 / 24.0 * 92_000.0 / 1e8);
    close(&unit["energy_value_per_hour"], 3.21 * 0.08);
    let metrics = sandbox.path("edge-mining.prom");
    let text = sandbox.run(&["run", "--dry-run", "--now", &at(120), "--metrics-file", metrics.to_str().unwrap()]);
    assert!(text.stdout.contains("economics: revenue 0.3055 EUR/h, energy 0.2568 EUR/h"), "{}", text.stdout);
    let metrics = std::fs::read_to_string(metrics).unwrap();
    let sample = |name: &str| -> f64 {
        let line = metrics.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("no {name} in {metrics}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    close(&serde_json::json!(sample("edge_mining_miner_revenue_per_kwh{")), per_kwh);
    let revenue = metrics.lines().find(|l| l.starts_with("edge_mining_miner_revenue_per_kwh{")).unwrap();
    assert!(revenue.contains("currency=\"EUR\""), "the tariff currency labels each miner's revenue: {revenue}");
    close(&serde_json::json!(sample("edge_mining_market_btc_price{")), 92_000.0);
    close(&serde_json::json!(sample("edge_mining_hashprice_sat_per_th_day{source=\"network\"}")), 57.0);
}

#[test]
fn a_schedule_tariff_switches_at_its_local_boundary_across_a_dst_change() {
    let mempool = FakeMempool::start();
    let lux = luxos();
    let tariffs = "  currency: EUR\n  import: [{from: \"07:00\", to: \"23:00\", price: 0.32}, {price: 0.22}]\n";
    let sandbox = sandbox(&mempool, &lux, tariffs, "");
    // The day before the spring change, 07:00 is 06:00 UTC (CET, +01:00).
    assert_eq!(economics(&sandbox, "2026-03-28T06:59:59+01:00").0["import_price"], 0.22);
    assert_eq!(economics(&sandbox, "2026-03-28T07:00:00+01:00").0["import_price"], 0.32);
    // The day after, 07:00 is 05:00 UTC (CEST, +02:00): the slot follows the wall clock.
    assert_eq!(economics(&sandbox, "2026-03-29T04:59:59Z").0["import_price"], 0.22, "06:59:59 CEST");
    assert_eq!(economics(&sandbox, "2026-03-29T05:00:00Z").0["import_price"], 0.32, "07:00 CEST");
    assert_eq!(economics(&sandbox, "2026-03-29T21:00:00Z").0["import_price"], 0.22, "23:00 CEST");
}

#[test]
fn a_rate_limited_market_is_left_alone_until_retry_after_and_served_stale() {
    let mempool = FakeMempool::start();
    let lux = luxos();
    let sandbox = sandbox(&mempool, &lux, "  currency: EUR\n  import: 0.30\n  feed_in: 0.08\n", "");
    let (fresh, _) = economics(&sandbox, &at(0));
    assert_eq!((fresh["stale"].clone(), mempool.count()), (Value::Bool(false), 3));
    // After 31 minutes everything is due again, and the host answers 429 for ten minutes.
    mempool.set_mode(PoolMode::RateLimited(Some("600".into())));
    let (stale, stderr) = economics(&sandbox, &at(31 * 60));
    let asked = mempool.count();
    assert!(asked > 3, "it asked once");
    assert_eq!(stale["stale"], true, "{stale}");
    close(&stale["hashprice"]["network"], 57.0);
    assert!(stderr.contains("market") && stderr.contains("backing off until"), "{stderr}");
    for minutes in [33, 36, 40] {
        let (again, _) = economics(&sandbox, &at(minutes * 60));
        assert_eq!(again["stale"], true);
        assert_eq!(mempool.count(), asked, "nothing is sent before Retry-After (minute {minutes})");
    }
    mempool.set_mode(PoolMode::Ok);
    let (recovered, _) = economics(&sandbox, &at(42 * 60));
    assert!(mempool.count() > asked, "asked again after Retry-After");
    assert_eq!(recovered["stale"], false);
}

#[test]
fn with_no_market_data_rules_over_economics_are_false() {
    let mempool = FakeMempool::start();
    mempool.set_mode(PoolMode::RateLimited(Some("600".into())));
    let lux = luxos();
    let sandbox = sandbox(&mempool, &lux, "  currency: EUR\n  import: 0.30\n  feed_in: 0.08\n", "");
    let (economics, stderr) = economics(&sandbox, &at(0));
    assert!(economics.get("margin_vs_feed_in").is_none() && economics.get("btc_price").is_none(), "{economics}");
    assert!(stderr.contains("no market data"), "{stderr}");
    let (run, report) = sandbox.cycle(&at(60), &["--dry-run"]);
    assert_eq!(run.code, 1, "a failed input");
    let miner = crate::support::miner(&report, "rig");
    assert_eq!(miner["decision"], "maintain_state", "`margin_vs_feed_in gt -1` is false over absent data: {miner}");
    // With the market back, the same rule starts the (curtailed) miner.
    mempool.set_mode(PoolMode::Ok);
    let (_, report) = sandbox.cycle(&at(15 * 60), &["--dry-run"]);
    assert_eq!(crate::support::miner(&report, "rig")["decision"], "start_mining");
}

/// A pool that estimates a day's reward (Braiins Pool) gives its own hashprice, used while
/// fresh: `estimated_reward` 0.00012345 BTC = 12 345 sat for 90 TH/s over 24 h
/// = 137.1667 sat/TH/day.
#[test]
fn a_fresh_pool_estimate_is_the_hashprice() {
    let mempool = FakeMempool::start();
    let pool = crate::support::pool::FakePool::start();
    let lux = luxos();
    let sandbox = sandbox(&mempool, &lux, "  currency: EUR\n  feed_in: 0.08\n", "");
    let config = std::fs::read_to_string(sandbox.path("config.yaml")).unwrap();
    let tracker = format!(
        "trackers:\n  - {{id: pool, type: braiins_pool, api_token: tok, api_base_url: \"{}\", min_interval: 0s}}\nunits:\n",
        pool.url()
    );
    sandbox.config(
        &config.replace("units:\n", &tracker).replace("energy_source: roof,", "energy_source: roof, tracker: pool,"),
    );
    let (economics, stderr) = economics(&sandbox, &at(0));
    close(&economics["hashprice"]["pool"], 12_345.0 / 90.0);
    close(&economics["hashprice"]["network"], 57.0);
    // Revenue from the pool's figure: 137.1667 ÷ (22.961373 × 0.024) = 248.91 sat/kWh.
    close(&economics["revenue_per_kwh_sat"], 12_345.0 / 90.0 / (3210.0 / 139.8 * 0.024));
    assert!(!stderr.contains("failed"), "{stderr}");
}
