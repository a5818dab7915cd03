//! Pool trackers across invocations: cache, Retry-After, backoff, stale-while-error, auth.

use crate::support;

use crate::support::Sandbox;
use crate::support::pool::{FakePool, PoolMode};
use serde_json::Value;

const T0: i64 = 1_782_036_000; // 2026-06-21T10:00:00Z

fn at(offset: i64) -> String {
    jiff::Timestamp::from_second(T0 + offset).unwrap().to_string()
}

fn sandbox(tracker: &str) -> Sandbox {
    let sandbox = Sandbox::new();
    sandbox.write("policy.yaml", "name: p\nstart_rules: []\nstop_rules: []\n");
    sandbox.config(&format!(
        "version: 1\nstate: state.db\nsettings: {{timeout: 2s}}\nenergy_sources:\n  - {{id: roof, type: solar, monitor: {{type: simulated}}}}\ncontrollers:\n  - {{id: sim, type: simulated}}\nminers:\n  - {{id: s19, worker: garage-s19, power_max: 3250, hashrate_max: 95, controllers: [sim]}}\ntrackers:\n{tracker}\nunits:\n  - {{id: home, energy_source: roof, tracker: pool, miners: [s19], policy: policy.yaml}}\n"
    ));
    sandbox
}

fn ocean(pool: &FakePool) -> Sandbox {
    sandbox(&format!(
        "  - {{id: pool, type: ocean, bitcoin_address: bc1qtestaddress, api_base_url: \"{}\"}}",
        pool.url()
    ))
}

fn performance(sandbox: &Sandbox, offset: i64) -> (i32, Value, String) {
    let run = sandbox.run(&["context", "--miner", "s19", "--now", &at(offset)]);
    let context: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout));
    (run.code, context["mining_performance"].clone(), run.stderr)
}

#[test]
fn ocean_values_reach_the_context_in_terahashes_and_satoshi() {
    let pool = FakePool::start();
    let sandbox = ocean(&pool);
    let (code, perf, stderr) = performance(&sandbox, 0);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(perf["current_hashrate"]["value"], 95.0);
    assert_eq!(perf["current_hashrate"]["unit"], "TH/s");
    assert_eq!(perf["pool_stats"]["average_hashrate_24h"]["value"], 90.0);
    assert_eq!(perf["pool_stats"]["average_hashrate_7d"]["value"], 88.0);
    assert_eq!(perf["pool_stats"]["unpaid_balance"], 123456);
    assert_eq!(perf["pool_stats"]["estimated_next_payout"], 4321);
    assert_eq!(perf["payout_schedule"]["frequency"], "per_block");
    assert_eq!(perf["worker"]["worker_name"], "garage-s19", "the miner's own worker: {perf}");
    assert_eq!(perf["stale"], false);
    assert_eq!(perf["tracker"], "pool");
}

#[test]
fn a_second_run_inside_the_ttl_makes_no_request() {
    let pool = FakePool::start();
    let sandbox = ocean(&pool);
    performance(&sandbox, 0);
    let after_first = pool.count();
    assert!(after_first >= 3);
    let (code, perf, _) = performance(&sandbox, 30);
    assert_eq!(code, 0);
    assert_eq!(pool.count(), after_first, "inside every TTL: no request");
    assert_eq!(perf["stale"], false);
    assert_eq!(perf["age"], 30);
}

#[test]
fn retry_after_600_holds_every_later_run_off_that_host() {
    let pool = FakePool::start();
    let sandbox = ocean(&pool);
    performance(&sandbox, 0);
    pool.set_mode(PoolMode::RateLimited(Some("600".into())));
    let (code, perf, stderr) = performance(&sandbox, 120);
    assert_eq!(code, 1, "a rate limit is a failed input");
    assert!(stderr.contains("HTTP 429"), "{stderr}");
    assert_eq!(perf["stale"], true, "the cached value is served, flagged stale");
    assert_eq!(perf["age"], 120);
    assert_eq!(perf["current_hashrate"]["value"], 95.0);
    let after_429 = pool.count();
    for offset in [300, 500, 719] {
        let (_, perf, stderr) = performance(&sandbox, offset);
        assert_eq!(pool.count(), after_429, "no request at +{offset}s: {stderr}");
        assert_eq!(perf["stale"], true);
    }
    pool.set_mode(PoolMode::Ok);
    let (code, perf, _) = performance(&sandbox, 721);
    assert_eq!(code, 0);
    assert!(pool.count() > after_429, "allowed again after 600 s");
    assert_eq!(perf["stale"], false);
    let show = sandbox.run(&["state", "show"]);
    assert!(show.stdout.contains("backoff"), "{}", show.stdout);
    // A success resets the counter: a new 429 backs off from the base again, not doubled.
    pool.set_mode(PoolMode::RateLimited(None));
    performance(&sandbox, 1000);
    let before = pool.count();
    pool.set_mode(PoolMode::Ok);
    performance(&sandbox, 1007);
    assert!(pool.count() > before, "the base backoff (about 5 s) has passed");
}

#[test]
fn retry_after_as_an_http_date() {
    let pool = FakePool::start();
    let sandbox = ocean(&pool);
    pool.set_mode(PoolMode::RateLimited(Some("Sun, 21 Jun 2026 10:20:00 GMT".into())));
    performance(&sandbox, 0);
    let after = pool.count();
    pool.set_mode(PoolMode::Ok);
    performance(&sandbox, 1190);
    assert_eq!(pool.count(), after, "until 10:20 UTC");
    performance(&sandbox, 1201);
    assert!(pool.count() > after);
}

#[test]
fn with_nothing_cached_the_snapshot_is_absent_and_the_report_says_why() {
    let pool = FakePool::start();
    let sandbox = ocean(&pool);
    pool.set_mode(PoolMode::ServerError);
    let (code, perf, stderr) = performance(&sandbox, 0);
    assert_eq!(code, 1);
    assert!(perf.is_null(), "{perf}");
    assert!(
        stderr.contains("tracker `pool`") && stderr.contains("HTTP 503") && stderr.contains("no pool data"),
        "{stderr}"
    );
    let (run, report) = sandbox.cycle(&at(10), &["--dry-run"]);
    assert_eq!(run.code, 1);
    let errors = report["errors"].to_string();
    assert!(errors.contains("backing off"), "{errors}");
}

#[test]
fn html_slow_and_garbage_replies_are_failures_not_crashes() {
    for mode in [PoolMode::Html, PoolMode::Garbage, PoolMode::Slow(std::time::Duration::from_secs(4))] {
        let pool = FakePool::start();
        let sandbox = ocean(&pool);
        pool.set_mode(mode.clone());
        let started = std::time::Instant::now();
        let (code, perf, stderr) = performance(&sandbox, 0);
        assert!(started.elapsed().as_secs() < 4, "{mode:?} bounded by the 2 s timeout");
        assert_eq!(code, 1, "{mode:?}: {stderr}");
        assert!(perf.is_null());
    }
}

#[test]
fn braiins_sends_its_token_and_never_shows_it() {
    let pool = FakePool::start();
    let sandbox = sandbox(&format!(
        "  - {{id: pool, type: braiins_pool, api_token: tok-SECRET-9f8e, api_base_url: \"{}\", min_interval: 1s}}",
        pool.url()
    ));
    let (code, perf, stderr) = performance(&sandbox, 0);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(perf["current_hashrate"]["value"], 95.0);
    assert_eq!(perf["pool_stats"]["average_hashrate_24h"]["value"], 90.0);
    assert_eq!(perf["pool_stats"]["unpaid_balance"], 250000);
    assert_eq!(perf["pool_stats"]["estimated_next_payout"], 12345);
    assert_eq!(perf["payout_schedule"]["frequency"], "daily");
    assert_eq!(perf["worker"]["worker_name"], "me.garage-s19");
    assert!(pool.http.log().iter().all(|r| r.header("Pool-Auth-Token") == Some("tok-SECRET-9f8e")));
    let (run, _) = sandbox.cycle(&at(600), &["-vv"]);
    let database = std::fs::read(sandbox.state()).unwrap();
    let wal = std::fs::read(sandbox.path("state.db-wal")).unwrap_or_default();
    for haystack in [run.stdout.as_bytes(), run.stderr.as_bytes(), &database, &wal] {
        assert!(!haystack.windows(15).any(|w| w == b"tok-SECRET-9f8e"), "the token leaked");
    }
}

#[test]
fn an_authentication_error_does_not_back_off_and_is_reported_every_cycle() {
    let pool = FakePool::start();
    let sandbox =
        sandbox(&format!("  - {{id: pool, type: braiins_pool, api_token: wrong, api_base_url: \"{}\"}}", pool.url()));
    pool.set_mode(PoolMode::Unauthorized);
    let (code, _, stderr) = performance(&sandbox, 0);
    assert_eq!(code, 1);
    assert!(stderr.contains("authentication error"), "{stderr}");
    let first = pool.count();
    let (_, _, stderr) = performance(&sandbox, 10);
    assert!(stderr.contains("authentication error"));
    assert!(pool.count() > first, "no backoff after 401");
}

#[test]
fn tracker_commands() {
    let pool = FakePool::start();
    let sandbox = ocean(&pool);
    let stats = sandbox.run(&["tracker", "stats", "pool", "--now", &at(0)]);
    assert_eq!(stats.code, 0, "{}", stats.stderr);
    assert!(stats.stdout.contains("95"), "{}", stats.stdout);
    let workers = sandbox.run(&["tracker", "workers", "pool", "--now", &at(0)]);
    assert!(workers.stdout.contains("garage-s19"), "{}", workers.stdout);
    let rewards = sandbox.run(&["tracker", "rewards", "pool", "--limit", "5", "--now", &at(0)]);
    assert!(rewards.stdout.contains("150000"), "{}", rewards.stdout);
    let payout = sandbox.run(&["tracker", "payout", "pool"]);
    assert!(payout.stdout.contains("per_block"), "{}", payout.stdout);
    let before = pool.count();
    let test = sandbox.run(&["tracker", "test", "pool", "--now", &at(5)]);
    assert_eq!(test.code, 0, "{}", test.stderr);
    assert!(pool.count() > before, "test makes a real request even inside the TTL");
    assert!(test.stdout.contains("ok"), "{}", test.stdout);
    pool.set_mode(PoolMode::ServerError);
    let failing = sandbox.run(&["tracker", "test", "pool", "--now", &at(6)]);
    assert_eq!(failing.code, 1);
    assert!(
        failing.stdout.contains("HTTP 503") || failing.stderr.contains("HTTP 503"),
        "{} {}",
        failing.stdout,
        failing.stderr
    );
}

#[test]
fn the_mining_performance_example_rules_fire_on_pool_data() {
    let pool = FakePool::start();
    let sandbox = ocean(&pool);
    let rules = std::fs::read_to_string(support::repo("rules/stop/mining-performance.yaml")).unwrap();
    sandbox.write("stop.yaml", &rules);
    let config = std::fs::read_to_string(sandbox.path("config.yaml")).unwrap();
    sandbox.config(&config.replace("policy: policy.yaml", "rules: {stop: [stop.yaml]}"));
    assert_eq!(sandbox.run(&["miner", "start", "s19", "--now", &at(0)]).code, 0);

    // The pool saw 80 TH/s over the day but sees almost nothing now: held for 10 minutes, stop.
    pool.set_numbers(0.5, 80.0, 85.0);
    let (_, first) = sandbox.cycle(&at(600), &[]);
    let s19 = support::miner(&first, "s19");
    assert_eq!(s19["status"], "on");
    assert_eq!(s19["decision"], "maintain_state", "the rule's for: 10m has just started");
    let (_, second) = sandbox.cycle(&at(1300), &[]);
    let s19 = support::miner(&second, "s19");
    assert_eq!(s19["decision"], "stop_mining", "{s19}");
    assert_eq!(s19["reason"]["name"], "Hashrate drop against the 24 h average");
    assert_eq!(s19["action"]["ok"], true);

    // A collapsed weekly trend stops a running miner at once.
    assert_eq!(sandbox.run(&["miner", "start", "s19", "--now", &at(2000)]).code, 0);
    pool.set_numbers(12.0, 12.0, 15.0);
    let (_, report) = sandbox.cycle(&at(2400), &[]);
    let s19 = support::miner(&report, "s19");
    assert_eq!(s19["reason"]["name"], "Weak weekly trend", "{s19}");
}

/// A backoff names its end as a time in the configured zone, never as a Unix second.
#[test]
fn a_backoff_reads_as_a_time_in_the_configured_zone() {
    let pool = FakePool::start();
    let sandbox = ocean(&pool);
    let config = std::fs::read_to_string(sandbox.path("config.yaml")).unwrap();
    sandbox.config(&config.replace("settings: {timeout: 2s}", "settings: {timeout: 2s, timezone: Europe/Rome}"));
    pool.set_mode(PoolMode::RateLimited(Some("Sun, 21 Jun 2026 10:20:00 GMT".into())));
    performance(&sandbox, 0);
    let (_, _, stderr) = performance(&sandbox, 60);
    assert!(stderr.contains("backing off until 2026-06-21T12:20:00+02:00 after HTTP 429"), "{stderr}");
    assert!(!stderr.contains(&(T0 + 1200).to_string()), "{stderr}");
}
