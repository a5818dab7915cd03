//! Power targets verified across invocations (SPEC §16.4), once per controller type whose
//! fake can follow a write or not: a target the miner does not follow is re-sent once, then
//! reported not effective; one it follows is verified and left alone. Each run is the built
//! binary against one state file with `--now`.

use serde_json::json;

use super::power_targets::{at, sandbox};
use crate::support::cgminer::FakeCgminer;
use crate::support::{Sandbox, miner};

/// The walk every type goes through. `request` is the watts asked for, `lever` the watts the
/// firmware's lever stands for (the request when it takes watts), `wait` how long the target
/// is given (`verify_after`, or `restart_time` for a write that restarts the miner).
/// `follow(false)` makes the fake ignore the writes it accepts, `follow(true)` follow them;
/// `sent()` counts the target writes it received. Returns the errors of the cycle that gave up.
fn verified_across_invocations(
    sandbox: &Sandbox,
    (request, lever): (&str, f64),
    wait: i64,
    follow: &dyn Fn(bool),
    sent: &dyn Fn() -> usize,
) -> String {
    follow(false);
    let before = sent();
    let set = sandbox.run(&["miner", "power", "rig", request, "--now", &at(0)]);
    assert_eq!(set.code, 0, "{}{}", set.stdout, set.stderr);
    assert_eq!(sent(), before + 1, "one target write: {}", set.stdout);
    // Given its time and not followed: re-sent once.
    let (run, report) = sandbox.cycle(&at(wait), &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(miner(&report, "rig")["action"]["kind"], "set_power_target", "{report}");
    assert_eq!(miner(&report, "rig")["reason"]["name"], "retry: not effective");
    assert_eq!(sent(), before + 2);
    // Still not followed after the retry: reported, the run degraded, nothing more sent.
    let (run, report) = sandbox.cycle(&at(2 * wait), &[]);
    assert_eq!(run.code, 1, "not effective is a degraded cycle: {}", run.stdout);
    let errors = report["errors"].to_string();
    assert!(errors.contains(&format!("power target {lever} W not effective")), "{errors}");
    assert_eq!(sent(), before + 2, "given up: no third write");
    // A target the miner follows: verified, nothing re-sent, and the cycles stay clean.
    follow(true);
    let again = sandbox.run(&["miner", "power", "rig", request, "--now", &at(2 * wait + 60)]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    assert_eq!(sent(), before + 3);
    for offset in [3 * wait + 60, 4 * wait + 60] {
        let (run, report) = sandbox.cycle(&at(offset), &[]);
        assert_eq!(run.code, 0, "+{offset}: {}{}", run.stdout, run.stderr);
        assert!(miner(&report, "rig")["action"].is_null(), "+{offset}: verified: {report}");
    }
    assert_eq!(sent(), before + 3);
    errors
}

#[test]
fn avalon_work_levels_are_verified_across_invocations() {
    // The level the miner reports and the PSU's watts in `PS[4]`.
    let stats = |level: u32, watts: f64| {
        let mm = format!(
            "Ver[Q-1] SYSTEMSTATU[Work: In Work, Hash Board: 1] TMax[70] GHSspd[88000] PS[0 1214 1316 242 {watts} 1320 3504] WORKMODE[1] WORKLEVEL[{level}]"
        );
        crate::support::cgminer::reply("STATS", json!([{"STATS": 0, "ID": "AVA100", "MM ID0:Summary": mm}]))
    };
    let fake = FakeCgminer::start(&[
        ("summary", crate::support::replies::avalon_summary(88_000_000.0)),
        ("stats", stats(2, 1590.0)),
        ("ascset", crate::support::cgminer::ok("ASC 0 set OK")),
    ]);
    let controllers = format!(
        "  - {{id: c, type: avalon, host: 127.0.0.1, port: {}, levels: {{0: 800, 1: 1200, 2: 1600}}}}\n",
        fake.port
    );
    let sandbox = sandbox(&controllers, "c", "", "");
    let follow = |yes: bool| fake.set_reply("stats", if yes { stats(1, 1195.0) } else { stats(2, 1590.0) });
    let sent = || fake.writes().iter().filter(|w| w.parameter.as_deref() == Some("0,worklevel,set,1")).count();
    let errors = verified_across_invocations(&sandbox, ("1400", 1200.0), 200, &follow, &sent);
    assert!(errors.contains("(measured 1590 W)"), "{errors}");
}

#[test]
fn vnish_presets_are_verified_across_invocations() {
    let fake = crate::support::vnish::FakeVnish::start();
    let controllers = format!(
        "  - {{id: c, type: vnish, url: \"{}\", password: {}}}\n",
        fake.http.url(),
        crate::support::vnish::PASSWORD
    );
    let sandbox = sandbox(&controllers, "c", "", "");
    let follow = |yes: bool| fake.set_power(if yes { 2410.0 } else { 3050.0 });
    let sent = || fake.http.log().iter().filter(|r| r.method == "POST" && r.url == "/api/v1/settings").count();
    verified_across_invocations(&sandbox, ("2900", 2400.0), 200, &follow, &sent);
}

#[test]
fn epic_tune_targets_are_verified_across_invocations() {
    let fake = crate::support::epic::FakeEpic::start();
    let controllers = format!(
        "  - {{id: c, type: epic, host: 127.0.0.1, port: {}, password: {}}}\n",
        fake.http.port,
        crate::support::epic::PASSWORD
    );
    let sandbox = sandbox(&controllers, "c", "", "");
    let follow = |yes: bool| fake.set_power(if yes { 2190.0 } else { 2870.5 });
    let sent = || fake.http.log().iter().filter(|r| r.url == "/perpetualtune/algo").count();
    verified_across_invocations(&sandbox, ("2200", 2200.0), 200, &follow, &sent);
}

/// Stock Antminer firmware reports no power: the mode the miner reads back is the evidence.
#[test]
fn stock_antminer_modes_are_verified_across_invocations() {
    let fake = FakeCgminer::start(&[
        ("summary", crate::support::replies::antminer_summary(100_500.0)),
        ("stats", crate::support::replies::antminer_stats()),
    ]);
    let web = crate::support::antminer::FakeAntminerWeb::start("0");
    let controllers = format!(
        "  - {{id: c, type: antminer, host: 127.0.0.1, port: {}, web_url: \"{}\", password: root, low_power_watts: 2300}}\n",
        fake.port,
        web.url()
    );
    let sandbox = sandbox(&controllers, "c", "", "");
    let follow = |yes: bool| web.ignore_writes(!yes);
    let sent = || {
        let log = web.http.log();
        log.iter().filter(|r| r.url.ends_with("set_miner_conf.cgi") && r.header("Authorization").is_some()).count()
    };
    let errors = verified_across_invocations(&sandbox, ("3000", 2300.0), 200, &follow, &sent);
    assert!(errors.contains("(the firmware holds 3250 W)"), "the evidence, with no power reading: {errors}");
    assert_eq!(web.conf()["miner-mode"], 3, "low power in the end");
    let history = sandbox.run(&["history", "--output", "json", "--now", &at(2000)]);
    assert!(history.stdout.contains("target not effective"), "{}", history.stdout);
}

/// A Whatsminer power limit restarts the miner: it is given `restart_time` (10 min), not
/// `verify_after`, before it is judged.
#[test]
fn whatsminer_power_limits_are_verified_across_invocations() {
    use crate::support::whatsminer::{FakeWhatsminerV2Writer, V2_PASSWORD};
    let writer = FakeWhatsminerV2Writer::start();
    let controllers = format!(
        "  - {{id: c, type: whatsminer, host: 127.0.0.1, port: {}, api: v2, password: {V2_PASSWORD}}}\n",
        writer.port
    );
    let sandbox = sandbox(&controllers, "c", "", "");
    let follow = |yes: bool| writer.set_power(if yes { 2790.0 } else { 3200.0 });
    let sent = || writer.commands().iter().filter(|c| c["cmd"] == "adjust_power_limit").count();
    verified_across_invocations(&sandbox, ("2800", 2800.0), 660, &follow, &sent);
}

#[test]
fn bitaxe_frequencies_are_verified_across_invocations() {
    let fake = crate::support::bitaxe::FakeBitaxe::start();
    let sandbox = sandbox(&format!("  - {{id: c, type: bitaxe, url: \"{}\"}}\n", fake.url()), "c", "", "");
    let follow = |yes: bool| fake.ignore_writes(!yes);
    let sent = || fake.http.log().iter().filter(|r| r.method == "PATCH").count();
    // 12 W: 400 MHz, which the reading at 525 MHz scales to 11.4 W.
    verified_across_invocations(&sandbox, ("12", 11.4), 200, &follow, &sent);
    assert_eq!(fake.frequency(), 400.0);
}

/// A Braiins OS build without REST: its GraphQL target, verified on the target the firmware
/// reports (its 4028 API reports no power).
#[test]
fn braiins_os_graphql_targets_are_verified_across_invocations() {
    use crate::support::braiins_os::{FakeBraiinsGraphql, GRAPHQL_PASSWORD};
    let bos = FakeBraiinsGraphql::start(1200.0, 3300.0, 3000.0);
    let cgminer = FakeCgminer::start(&[("summary", crate::support::cgminer::cgminer_summary(100_000_000.0))]);
    let controllers = format!(
        "  - {{id: c, type: braiins_os, host: 127.0.0.1, port: {}, web_url: \"{}\", password: {GRAPHQL_PASSWORD}}}\n",
        cgminer.port,
        bos.http.url()
    );
    let sandbox = sandbox(&controllers, "c", "", "");
    let follow = |yes: bool| bos.ignore_writes(!yes);
    let sent = || bos.writes().len();
    let errors = verified_across_invocations(&sandbox, ("2200", 2200.0), 200, &follow, &sent);
    assert!(errors.contains("(the firmware holds 3000 W)"), "{errors}");
    assert_eq!(bos.target(), 2200.0);
}

/// SPEC §16.2: a Bitaxe's watts at each frequency are learned from its own readings and kept
/// in the state file, so a later run chooses by what it drew there rather than by scaling
/// one reading (its power is not linear in frequency). Runs with `--now`, one state file.
#[test]
fn a_bitaxe_learns_what_it_draws_at_each_frequency_across_invocations() {
    let fake = crate::support::bitaxe::FakeBitaxe::start();
    let sandbox = sandbox(&format!("  - {{id: c, type: bitaxe, url: \"{}\"}}\n", fake.url()), "c", "", "");
    let bounds = |now: i64| {
        let run = sandbox.run(&["context", "--miner", "rig", "--now", &at(now)]);
        serde_json::from_str::<serde_json::Value>(&run.stdout).unwrap()["miner_state"]["power_target_bounds"].clone()
    };
    // At 525 MHz, 15 W: nothing learned yet, 400 MHz is scaled to 11.4 W.
    assert_eq!(bounds(0), json!({"min": 11.4, "max": 15.0}));
    let (run, _) = sandbox.cycle(&at(10), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        sandbox.run(&["miner", "power", "rig", "12", "--now", &at(20)]).stdout.contains("the nearest lever: 11.4 W")
    );
    assert_eq!(fake.frequency(), 400.0);
    // The next run reads 10.6 W at 400 MHz and keeps it.
    let (run, _) = sandbox.cycle(&at(300), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Scaling this 400 MHz reading alone would put 525 MHz at 13.9 W; the model remembers 15.
    assert_eq!(bounds(310), json!({"min": 10.6, "max": 15.0}), "learned, from the state file");
    // 14.5 W: scaled from 400 MHz, 525 MHz (13.9 W) would be chosen and draw 15 W; the model
    // knows 525 MHz is 15 W and takes 490 MHz, scaled from its nearest seen point (525).
    let set = sandbox.run(&["miner", "power", "rig", "14.5", "--now", &at(320)]);
    assert!(set.stdout.contains("the nearest lever: 14 W"), "{}", set.stdout);
    assert_eq!(fake.frequency(), 490.0);
    let (run, _) = sandbox.cycle(&at(600), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let state = sandbox.run(&["state", "show", "--now", &at(610)]);
    let rows = state.stdout.lines().find(|l| l.trim_start().starts_with("lever_watts")).unwrap_or_default();
    assert!(rows.ends_with(" 3 row(s)"), "525, 400 and 490 MHz: {}", state.stdout);
    assert_eq!(bounds(620)["min"], 10.6);
}
