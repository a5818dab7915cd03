//! Staggered starts (SPEC §17.1): miners sharing an energy budget start one at a time, and
//! each miner's rules see the surplus its unit's other miners leave (`surplus_for_miner`).

use serde_json::Value;

use crate::support::{Sandbox, miner};

fn at(time: &str) -> String {
    format!("2026-06-21T{time}:00+02:00")
}

/// The example (4240 W of surplus at noon) with a second S19 listed before the Bitaxe.
fn two_s19s_and_a_bitaxe() -> Sandbox {
    let sandbox = Sandbox::new();
    sandbox.example();
    sandbox.edit_config(|config| {
        config
            .replace("  - {id: bitaxe-sim,", "  - {id: s19b-sim, type: simulated, boot_time: 2m}\n  - {id: bitaxe-sim,")
            .replacen(
                "\n  - id: bitaxe\n",
                "\n  - {id: s19b, power_max: 3250, hashrate_max: 95, controllers: [s19b-sim]}\n  - id: bitaxe\n",
                1,
            )
            .replacen("miners: [s19, bitaxe]", "miners: [s19, s19b, bitaxe]", 1)
    });
    sandbox
}

fn reason(report: &Value, id: &str) -> (String, String) {
    let reason = &miner(report, id)["reason"];
    (reason["kind"].as_str().unwrap_or_default().into(), reason["name"].as_str().unwrap_or_default().into())
}

#[test]
fn two_s19s_and_a_bitaxe_on_4240_watts_start_one_at_a_time_and_never_both_s19s() {
    let sandbox = two_s19s_and_a_bitaxe();

    // Noon: the first S19 starts; the second sees what the first leaves and does not want
    // to; the Bitaxe wants to but waits for the S19's start.
    let (run, report) = sandbox.cycle(&at("12:00"), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(miner(&report, "s19")["action"]["kind"], "start_mining");
    assert_eq!(miner(&report, "s19b")["decision"], "maintain_state");
    assert_eq!(reason(&report, "s19b").0, "none", "no rule matches: {:?}", reason(&report, "s19b"));
    assert_eq!(reason(&report, "bitaxe"), ("guard".into(), "stagger".into()));
    assert!(miner(&report, "bitaxe")["action"].is_null());

    // A minute on, the S19 still boots and its start is not verified: the Bitaxe still waits.
    let (run, report) = sandbox.cycle(&at("12:01"), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(reason(&report, "bitaxe"), ("guard".into(), "stagger".into()));
    assert!(miner(&report, "s19b")["action"].is_null());

    // Verified on: the Bitaxe's turn. The second S19 still does not start.
    let (run, report) = sandbox.cycle(&at("12:05"), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(miner(&report, "s19")["status"], "on");
    assert_eq!(miner(&report, "bitaxe")["action"]["kind"], "start_mining");
    assert!(miner(&report, "s19b")["action"].is_null());

    let (run, report) = sandbox.cycle(&at("12:10"), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(miner(&report, "s19b")["status"], "off", "two S19s on 4240 W would import");
    assert!(miner(&report, "s19b")["action"].is_null());
    let history = sandbox.run(&["history", "--output", "json", "--now", &at("13:00")]);
    let rows: Vec<Value> = serde_json::from_str(&history.stdout).unwrap();
    let started: Vec<&str> = rows.iter().filter_map(|r| r["miner"].as_str()).collect();
    assert_eq!(started.len(), 2, "{rows:?}");
    assert!(!started.contains(&"s19b"), "{rows:?}");
}

#[test]
fn surplus_for_miner_subtracts_the_other_miners_on_while_surplus_power_does_not() {
    let sandbox = two_s19s_and_a_bitaxe();
    for time in ["12:00", "12:05"] {
        let (run, _) = sandbox.cycle(&at(time), &[]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    let (_, report) = sandbox.cycle(&at("12:10"), &[]);
    let s19_power = miner(&report, "s19")["power"].as_f64().unwrap();
    let bitaxe_power = miner(&report, "bitaxe")["power"].as_f64().unwrap();
    assert!(s19_power > 3000.0 && bitaxe_power > 5.0, "{s19_power} {bitaxe_power}");

    let context = |id: &str| -> Value {
        let run = sandbox.run(&["context", "--miner", id, "--now", &at("12:10")]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        serde_json::from_str(&run.stdout).unwrap()
    };
    let s19b = context("s19b");
    let energy = &s19b["energy_state"];
    let surplus = energy["surplus_power"].as_f64().unwrap();
    let for_miner = energy["surplus_for_miner"].as_f64().unwrap();
    assert!((for_miner - (surplus - s19_power - bitaxe_power)).abs() < 1.0, "{energy}");
    // The S19 itself sees the surplus less only the Bitaxe.
    let s19 = context("s19");
    let for_s19 = s19["energy_state"]["surplus_for_miner"].as_f64().unwrap();
    let surplus_now = s19["energy_state"]["surplus_power"].as_f64().unwrap();
    assert!((for_s19 - (surplus_now - bitaxe_power)).abs() < 1.0, "{}", s19["energy_state"]);
}

#[test]
fn max_starts_per_cycle_zero_starts_every_miner_the_rules_start_and_stops_are_never_staggered() {
    let sandbox = Sandbox::new();
    sandbox.example();
    sandbox.edit_config(|config| {
        config.replacen(
            "\n    policy: rules/solar-policy.yaml\n",
            "\n    policy: rules/solar-policy.yaml\n    guards: {max_starts_per_cycle: 0}\n",
            1,
        )
    });
    let (run, report) = sandbox.cycle(&at("12:00"), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(miner(&report, "s19")["action"]["kind"], "start_mining");
    assert_eq!(miner(&report, "bitaxe")["action"]["kind"], "start_mining");

    // Both on, then both stopped in one cycle by a safety limit: stops are not staggered.
    sandbox.cycle(&at("12:05"), &[]);
    sandbox.edit_config(|config| config.replace("min_battery_soc: 20", "min_battery_soc: 99"));
    let (run, report) = sandbox.cycle(&at("12:10"), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(miner(&report, "s19")["action"]["kind"], "stop_mining");
    assert_eq!(miner(&report, "bitaxe")["action"]["kind"], "stop_mining");
}

#[test]
fn a_run_naming_one_miner_reads_the_others_and_commands_only_it() {
    let sandbox = two_s19s_and_a_bitaxe();
    let (run, _) = sandbox.cycle(&at("12:00"), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);

    // With the first S19 on, a run for the second alone still sees what the first takes.
    let (run, report) = sandbox.cycle(&at("12:05"), &["--miner", "s19b"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(miner(&report, "s19")["status"], "on");
    assert!(miner(&report, "s19b")["action"].is_null(), "{}", miner(&report, "s19b"));
    // The Bitaxe would start now, but this run may command only the second S19.
    assert_eq!(reason(&report, "bitaxe"), ("guard".into(), "not named by --miner".into()));
    assert!(miner(&report, "bitaxe")["action"].is_null());

    let (run, report) = sandbox.cycle(&at("12:06"), &["--miner", "bitaxe"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(miner(&report, "bitaxe")["action"]["kind"], "start_mining");
}
