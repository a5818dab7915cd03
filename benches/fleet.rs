//! The SPEC §13 benchmark: `cargo bench --bench fleet`. Each figure is printed beside its
//! target. Fake miners are the ones the tests use (tests/support), on loopback.

// The same fakes as the tests; the benchmark uses a few of them.
#[allow(dead_code, unused_imports)]
#[path = "../tests/support/mod.rs"]
mod support;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use support::cgminer::{FakeCgminer, Mode};
use support::replies;

const TIMEOUT_SECONDS: f64 = 5.0;

/// One run of the binary as a process of its own.
#[derive(Debug, Clone, Copy)]
struct Measured {
    wall: Duration,
    /// User + system CPU of the child alone.
    cpu: Duration,
    /// The child's own peak RSS, KiB.
    rss: u64,
    code: i32,
}

/// Runs the binary once, through a helper (this benchmark again, `--measure-child`) that
/// forks it and reaps it with `wait4`. Peak RSS is kept per process and carried over `exec`:
/// a child spawned straight from this process, large once it has held a thousand rule
/// contexts, would report this process's peak. The helper is small, so the figure is the
/// product's own.
fn measure(dir: &Path, binary: &str, args: &[&str]) -> Measured {
    let output = Command::new(std::env::current_exe().expect("the benchmark's own path"))
        .arg("--measure-child")
        .arg(dir)
        .arg(binary)
        .args(args)
        .output()
        .expect("spawn the measuring helper");
    let text = String::from_utf8_lossy(&output.stdout);
    let figures: Vec<i64> = text.split_whitespace().map(|f| f.parse().expect("a figure")).collect();
    let [wall, cpu, rss, code] = figures[..] else { panic!("the measuring helper printed {text:?}") };
    let micros = |us: i64| Duration::from_micros(us as u64);
    Measured { wall: micros(wall), cpu: micros(cpu), rss: rss as u64, code: code as i32 }
}

/// The helper's side: `--measure-child DIR BINARY ARGS…` runs BINARY in DIR and prints its
/// wall time and CPU (µs), peak RSS (KiB) and exit code.
#[allow(clippy::zombie_processes)]
fn measure_child(dir: &str, binary: &str, args: &[String]) {
    use std::os::unix::process::CommandExt;
    let mut command = Command::new(binary);
    command.current_dir(dir).args(args).stdout(Stdio::null()).stderr(Stdio::null());
    // SAFETY: an empty hook; having one makes the standard library fork rather than share
    // this helper's memory with the child (vfork), whose peak RSS would then include ours.
    unsafe { command.pre_exec(|| Ok(())) };
    let started = Instant::now();
    let child = command.spawn().expect("spawn the product");
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 on our own child with valid out-pointers.
    unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let wall = started.elapsed().as_micros();
    let micros = |t: libc::timeval| t.tv_sec * 1_000_000 + t.tv_usec;
    let code = if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { -1 };
    let cpu = micros(usage.ru_utime) + micros(usage.ru_stime);
    println!("{wall} {cpu} {} {code}", usage.ru_maxrss);
}

/// The median of `runs` runs, figure by figure (a shared machine disturbs single runs).
fn median(dir: &Path, args: &[&str], runs: usize) -> Measured {
    median_of(dir, env!("CARGO_BIN_EXE_edge-mining"), args, runs)
}

/// The median of `runs` runs of any program (the peer, beside the product).
fn median_of(dir: &Path, binary: &str, args: &[&str], runs: usize) -> Measured {
    let all: Vec<Measured> = (0..runs).map(|_| measure(dir, binary, args)).collect();
    let middle = |mut values: Vec<Duration>| {
        values.sort();
        values[values.len() / 2]
    };
    let mut rss: Vec<u64> = all.iter().map(|m| m.rss).collect();
    rss.sort();
    Measured {
        wall: middle(all.iter().map(|m| m.wall).collect()),
        cpu: middle(all.iter().map(|m| m.cpu).collect()),
        rss: rss[rss.len() / 2],
        code: all[0].code,
    }
}

fn row(what: &str, figure: String, target: &str, met: bool) {
    println!("{what:<52} {figure:>24}   target {target:<22} {}", if met { "met" } else { "NOT MET" });
}

fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn fleet_config(dir: &Path, ports: &[u16]) {
    let mut text = String::from(
        "version: 1\nstate: state.db\nenergy_sources:\n  - {id: site, type: solar, monitor: {type: simulated}}\ncontrollers:\n",
    );
    for (i, port) in ports.iter().enumerate() {
        text.push_str(&format!("  - {{id: c{i}, type: cgminer, host: 127.0.0.1, port: {port}}}\n"));
    }
    text.push_str("miners:\n");
    for i in 0..ports.len() {
        text.push_str(&format!("  - {{id: m{i}, controllers: [c{i}]}}\n"));
    }
    let ids: Vec<String> = (0..ports.len()).map(|i| format!("m{i}")).collect();
    text.push_str(&format!(
        "units:\n  - {{id: farm, energy_source: site, miners: [{}], policy: policy.yaml}}\n",
        ids.join(", ")
    ));
    std::fs::write(dir.join("config.yaml"), text).unwrap();
    std::fs::write(dir.join("policy.yaml"), "name: farm\nstart_rules:\n  - name: sunny\n    conditions: {field: energy_state.production, operator: gt, value: 1000}\nstop_rules:\n  - name: dark\n    conditions: {field: energy_state.production, operator: lt, value: 100}\n").unwrap();
}

/// Serves a fleet of fake miners in this process: `--serve-fleet SIZE HANGING` prints their
/// ports, one a line, then `ready`, and serves until its standard input closes.
fn serve_fleet(size: usize, hanging: usize) {
    let fakes: Vec<FakeCgminer> = (0..size)
        .map(|i| {
            let fake = FakeCgminer::start(&[
                ("summary", replies::cgminer_summary(95_000_000.0)),
                ("devs", replies::cgminer_devs(95_000_000.0, [60.0, 61.0, 62.0])),
                ("stats", replies::antminer_stats()),
                ("version", replies::cgminer_version("Fleet S19")),
            ]);
            fake.set_latency(Duration::from_millis(50));
            if i < hanging {
                fake.set_mode(Mode::Hang);
            }
            fake
        })
        .collect();
    let mut out = std::io::stdout().lock();
    for fake in &fakes {
        writeln!(out, "{}", fake.port).expect("stdout");
    }
    writeln!(out, "ready").expect("stdout");
    out.flush().expect("stdout");
    drop(out);
    let mut sink = String::new();
    while std::io::stdin().read_line(&mut sink).is_ok_and(|n| n > 0) {}
}

/// A fleet of fake miners in a process of its own, so that its CPU is neither counted as the
/// product's nor taken from the product's threads inside this process. Closing its input ends it.
struct Fleet {
    process: Child,
    input: Option<ChildStdin>,
    ports: Vec<u16>,
}

impl Fleet {
    fn start(size: usize, hanging: usize) -> Fleet {
        let mut process = Command::new(std::env::current_exe().expect("the benchmark's own path"))
            .args(["--serve-fleet", &size.to_string(), &hanging.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn the fake fleet");
        let input = process.stdin.take();
        let output = BufReader::new(process.stdout.take().expect("the fleet's output"));
        let ports = output
            .lines()
            .map(|line| line.expect("the fleet's output"))
            .take_while(|line| line != "ready")
            .map(|line| line.parse().expect("a port"))
            .collect();
        Fleet { process, input, ports }
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        drop(self.input.take());
        let _ = self.process.wait();
    }
}

/// `cargo bench --bench fleet -- rules` runs only the figures whose key is given.
fn wanted(key: &str) -> bool {
    let filters: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    filters.is_empty() || filters.iter().any(|f| key.contains(f.as_str()))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--serve-fleet") {
        let number = |i: usize| args.get(at + i).and_then(|a| a.parse().ok()).expect("--serve-fleet SIZE HANGING");
        serve_fleet(number(1), number(2));
        return;
    }
    if let Some(at) = args.iter().position(|a| a == "--measure-child") {
        measure_child(&args[at + 1], &args[at + 2], &args[at + 3..]);
        return;
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "edge-mining benchmark, release build, {cores} cores; medians of several runs, each a process of its own\n"
    );
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));

    if wanted("startup example") {
        startup_and_example(repo);
    }
    if wanted("fleet") {
        fleets();
    }
    if wanted("rules") {
        let wall = rule_evaluation();
        row("1,000 rules x 1,000 contexts", ms(wall), "< 50 ms", wall < Duration::from_millis(50));
    }
    if wanted("allocation") {
        for strategy in ["efficiency", "equal"] {
            let wall = allocation_of_a_large_unit(strategy);
            let what = format!("allocating a 1,000-miner unit ({strategy})");
            row(&what, ms(wall), "< 5 ms", wall < Duration::from_millis(5));
        }
    }
    if wanted("simulate") {
        let wall = simulated_day(repo);
        row(
            "simulate a day of a 5-miner home (2-minute steps)",
            ms(wall),
            "< 500 ms",
            wall < Duration::from_millis(500),
        );
    }
    if wanted("state") {
        let (bytes, cycles_per_second) = state_growth();
        let met = bytes < 20_000_000;
        row(
            "state after 10,000 cycles of a 10-miner site and a home",
            format!("{:.2} MB ({cycles_per_second:.0} cycles/s)", bytes as f64 / 1e6),
            "< 20 MB",
            met,
        );
    }
}

fn startup_and_example(repo: &Path) {
    let empty = tempfile::tempdir().unwrap();
    std::fs::write(empty.path().join("config.yaml"), "version: 1\nstate: state.db\n").unwrap();
    let Measured { wall, rss, .. } = median(empty.path(), &["run", "-c", "config.yaml"], 11);
    row(
        "startup: config parse, database open, lock",
        format!("{} {}", ms(wall), mib(rss)),
        "small",
        wall < Duration::from_millis(10),
    );

    let example = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(example.path().join("rules")).unwrap();
    std::fs::copy(repo.join("rules/solar-policy.yaml"), example.path().join("rules/solar-policy.yaml")).unwrap();
    std::fs::copy(repo.join("config.example.yaml"), example.path().join("config.yaml")).unwrap();
    let Measured { wall, rss, code, .. } =
        median(example.path(), &["run", "-c", "config.yaml", "--now", "2026-06-21T12:00:00+02:00"], 11);
    assert_eq!(code, 0);
    let met = wall < Duration::from_millis(10) && rss < 12 * 1024;
    row("run on config.example.yaml (simulated)", format!("{} {}", ms(wall), mib(rss)), "< 10 ms, < 12 MiB", met);
}

/// `simulate --day` of the example home with three more miners: 720 cycles of 5 miners.
fn simulated_day(repo: &Path) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("rules")).unwrap();
    std::fs::copy(repo.join("rules/solar-policy.yaml"), dir.path().join("rules/solar-policy.yaml")).unwrap();
    let example = std::fs::read_to_string(repo.join("config.example.yaml")).unwrap();
    let config = example
        .replace(
            "  - {id: bitaxe-sim, type: simulated, boot_time: 30s}\n",
            "  - {id: bitaxe-sim, type: simulated, boot_time: 30s}\n  - {id: s9-sim, type: simulated}\n  - {id: avalon-sim, type: simulated}\n  - {id: axe2-sim, type: simulated}\n",
        )
        .replace(
            "    controllers: [bitaxe-sim]\n",
            "    controllers: [bitaxe-sim]\n  - {id: s9, power_max: 1300, hashrate_max: 13, controllers: [s9-sim]}\n  - {id: avalon, power_max: 800, hashrate_max: 6, controllers: [avalon-sim]}\n  - {id: axe2, power_max: 20, hashrate_max: 1, controllers: [axe2-sim]}\n",
        )
        .replace("miners: [s19, bitaxe]", "miners: [s19, bitaxe, s9, avalon, axe2]");
    std::fs::write(dir.path().join("config.yaml"), config).unwrap();
    let Measured { wall, code, .. } = median(dir.path(), &["simulate", "-c", "config.yaml", "--day", "2026-06-21"], 3);
    assert_eq!(code, 0);
    wall
}

fn fleets() {
    let fakes = Fleet::start(1000, 0);
    let dir = tempfile::tempdir().unwrap();
    fleet_config(dir.path(), &fakes.ports);
    let thousand = median(dir.path(), &["run", "--dry-run", "-c", "config.yaml"], 5);
    let Measured { wall, cpu, rss, code } = thousand;
    assert_eq!(code, 0, "every fake miner answers");
    let met = wall < Duration::from_millis(350) && cpu < Duration::from_millis(150) && rss < 48 * 1024;
    let figure = format!("{}, CPU {}, {}", ms(wall), ms(cpu), mib(rss));
    row("1,000 miners at 50 ms: run --dry-run", figure, "< 350 ms, CPU < 150 ms, < 48 MiB", met);
    peer(dir.path(), &fakes.ports, thousand);
    drop(fakes);

    let fakes = Fleet::start(1000, 100);
    let dir = tempfile::tempdir().unwrap();
    fleet_config(dir.path(), &fakes.ports);
    let Measured { wall, rss, code, .. } = median(dir.path(), &["run", "--dry-run", "-c", "config.yaml"], 3);
    assert_eq!(code, 1, "the hanging ones are failed inputs");
    let met = wall.as_secs_f64() < TIMEOUT_SECONDS + 0.25;
    row("1,000 miners, 100 never replying", format!("{} {}", ms(wall), mib(rss)), "< timeout + 0.25 s = 5.25 s", met);

    // 10,000 miners from four fake processes of 2,500 each.
    let fleets: Vec<Fleet> = (0..4).map(|_| Fleet::start(2500, 0)).collect();
    let ports: Vec<u16> = fleets.iter().flat_map(|f| f.ports.iter().copied()).collect();
    let dir = tempfile::tempdir().unwrap();
    fleet_config(dir.path(), &ports);
    let Measured { wall, cpu, rss, code } = median(dir.path(), &["run", "--dry-run", "-c", "config.yaml"], 3);
    assert_eq!(code, 0, "every fake miner answers");
    let per_miner = |cpu: Duration, miners: u32| cpu.as_secs_f64() / f64::from(miners) * 1e6;
    let ratio = per_miner(cpu, 10_000) / per_miner(thousand.cpu, 1000);
    let met = wall < Duration::from_millis(2500) && rss < 160 * 1024 && ratio <= 1.2;
    let figure = format!("{}, CPU {}, {}, {ratio:.2}x", ms(wall), ms(cpu), mib(rss));
    row("10,000 miners (CPU per miner vs 1,000)", figure, "< 2.5 s, < 160 MiB, <= 1.2x", met);
}

/// pyasic (SPEC §13's peer) reading the same four commands from the same fleet, when
/// `PYASIC_PYTHON` (or `python3`) can import it; see benches/pyasic_fleet.py for the venv.
fn peer(dir: &Path, ports: &[u16], product: Measured) {
    let python = std::env::var("PYASIC_PYTHON").unwrap_or_else(|_| "python3".into());
    let importable = Command::new(&python)
        .args(["-c", "import pyasic"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !importable {
        println!(
            "{:<52} {:>24}   (set PYASIC_PYTHON; see benches/pyasic_fleet.py)",
            "pyasic on the same fleet", "not installed"
        );
        return;
    }
    let listed = dir.join("ports.txt");
    std::fs::write(&listed, ports.iter().map(|p| format!("{p}\n")).collect::<String>()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/pyasic_fleet.py");
    let Measured { wall, cpu, rss, code } =
        median_of(dir, &python, &[script.to_str().expect("a UTF-8 path"), listed.to_str().expect("a UTF-8 path")], 3);
    assert_eq!(code, 0, "pyasic read every fake miner");
    let ratio = wall.as_secs_f64() / product.wall.as_secs_f64();
    let figure = format!("{}, CPU {}, {}", ms(wall), ms(cpu), mib(rss));
    println!(
        "{:<52} {figure:>24}   the product's whole run is {ratio:.1}x faster",
        "pyasic reading the same 1,000 (whole process)"
    );
}

/// Every context against every rule: no rule matches, so all 1,000 are evaluated each time.
fn rule_evaluation() -> Duration {
    use edge_mining::rules::load::{RuleFile, parse_text};
    let mut text = String::from("rules:\n");
    for i in 0..1000 {
        text.push_str(&format!(
            "  - name: rule {i}\n    priority: {}\n    conditions:\n      all_of:\n        - {{field: energy_state.production, operator: gt, value: {}}}\n        - any_of:\n            - {{field: energy_state.battery.state_of_charge, operator: gte, value: 101}}\n            - {{field: miner_state.status, operator: eq, value: ERROR}}\n        - not_: {{field: timestamp.hour, operator: in, value: [25, 26]}}\n",
            i % 17,
            i * 3
        ));
    }
    let Some(RuleFile::List(rules)) = parse_text(Path::new("bench.yaml"), &text).0 else { panic!("rules") };
    let set = edge_mining::rules::model::RuleSet::new(None, rules, vec![]);
    let contexts: Vec<serde_json::Value> = (0..1000)
        .map(|i| {
            let mut context = serde_json::json!({"timestamp": "2026-06-21T12:00:00+02:00",
                "energy_state": {"production": 4000 + i, "battery": {"state_of_charge": i % 100}},
                "miner_state": {"status": "off"}, "miner": {"id": format!("m{i}"), "power_max": 3250}});
            edge_mining::core::context::complete(&mut context);
            context
        })
        .collect();
    let timers = edge_mining::rules::decide::Timers::new();
    let round = || {
        let started = Instant::now();
        let mut decided = 0;
        for context in &contexts {
            let status = edge_mining::core::status::MinerStatus::Off;
            decided +=
                usize::from(edge_mining::rules::decide::decide(&set, context, status, 0, &timers).rule.is_some());
        }
        assert_eq!(decided, 0);
        started.elapsed()
    };
    (0..5).map(|_| round()).min().expect("rounds")
}

/// SPEC §17: the pure allocation of one unit of 1,000 miners (half running, a mix of
/// adjustable and fixed-power), with its three share-outs, best of 20 rounds.
fn allocation_of_a_large_unit(strategy: &str) -> Duration {
    use edge_mining::core::allocation::{AllocationState, Balance, Candidate, allocate, budget};
    let settings =
        serde_yaml::from_str(&format!("{{strategy: {strategy}, start_after: 0s}}")).expect("allocation settings");
    let candidates: Vec<Candidate> = (0..1000)
        .map(|i| {
            let adjustable = i % 3 != 0;
            let running = i % 2 == 0;
            let max = 3000.0 + f64::from(i % 7) * 100.0;
            Candidate {
                id: format!("m{i}"),
                running,
                measured: running.then_some(max * 0.8),
                target: (adjustable && running).then_some(max * 0.8),
                min: if adjustable { 1300.0 } else { max },
                max,
                adjustable,
                efficiency: Some(20.0 + f64::from(i % 13)),
                may_raise: true,
            }
        })
        .collect();
    let drawn: f64 = candidates.iter().filter_map(|c| c.measured).sum();
    let balance = Balance { miners_power: drawn, grid: Some(-400_000.0), ..Balance::default() };
    let budget = budget(&settings, &balance).expect("a budget");
    let mut state = AllocationState::default();
    let round = |state: &mut AllocationState, now: i64| {
        let started = Instant::now();
        let shares = allocate(&settings, Some(&budget), &candidates, state, now);
        let elapsed = started.elapsed();
        assert_eq!(shares.shares.len(), candidates.len());
        *state = shares.state;
        elapsed
    };
    (0..20).map(|i| round(&mut state, i * 300)).min().expect("rounds")
}

/// 10,000 cycles, 15 minutes apart (104 days, past the 90-day retention), in process.
fn state_growth() -> (u64, f64) {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from(
        "version: 1\nstate: state.db\nsettings: {timezone: Europe/Rome, latitude: 45.46, longitude: 9.19}\nenergy_sources:\n  - {id: roof, type: solar, nominal_power_max: 40000, storage_capacity: 20000, monitor: {type: simulated}}\ncontrollers:\n",
    );
    for i in 0..10 {
        text.push_str(&format!("  - {{id: c{i}, type: simulated}}\n"));
    }
    text.push_str("miners:\n");
    for i in 0..10 {
        text.push_str(&format!("  - {{id: m{i}, power_max: 3000, controllers: [c{i}]}}\n"));
    }
    // A house-load profile with two appliances and a room: their samples are pruned too.
    text.push_str("home_loads:\n  - {id: house, devices: [{name: boiler, category: controllable, simulated: 1500}, {name: pump, category: seasonal, simulated: 400}]}\nclimate_zones:\n  - {name: room, monitor: {type: simulated, temperature: 20.0}, target: 21}\n");
    text.push_str("trackers:\n  - {id: pool, type: simulated}\nunits:\n  - {id: site, energy_source: roof, tracker: pool, miners: [m0, m1, m2, m3, m4, m5, m6, m7, m8, m9], policy: policy.yaml, guards: {min_on: 15m}, home_loads: house, climate_zones: [room]}\n");
    std::fs::write(dir.path().join("config.yaml"), text).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/solar-policy.yaml"),
        dir.path().join("policy.yaml"),
    )
    .unwrap();
    let loaded =
        edge_mining::config::load(&dir.path().join("config.yaml"), &edge_mining::registry::REGISTRY).expect("config");
    let start = 1_780_000_000i64;
    let started = Instant::now();
    for cycle in 0..10_000 {
        let now = jiff::Timestamp::from_second(start + cycle * 900).unwrap();
        let options = edge_mining::cycle::RunOptions { now: Some(now), ..Default::default() };
        edge_mining::cycle::run(&loaded, &options).expect("cycle");
    }
    let per_second = 10_000.0 / started.elapsed().as_secs_f64();
    let size = |name: &str| std::fs::metadata(dir.path().join(name)).map_or(0, |m| m.len());
    (size("state.db") + size("state.db-wal"), per_second)
}
