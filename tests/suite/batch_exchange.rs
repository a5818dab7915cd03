//! The CGMiner poll loop (`transport::cgminer::batch`) against fake miners on loopback: it
//! ends every reply as the blocking exchange does, keeps each reply with its request, and the
//! replies it reads ahead (`prime`) are what `Client::read` uses, once.

use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};

use crate::support::cgminer::{FakeCgminer, Mode};
use crate::support::replies;
use edge_mining::transport::Call;
use edge_mining::transport::cgminer::batch::{Request, exchange_all};
use edge_mining::transport::cgminer::transport::{TransportError, exchange, request_line};
use edge_mining::transport::cgminer::{Client, Opening, prime};

fn standard_fake(model: &str) -> FakeCgminer {
    FakeCgminer::start(&[
        ("summary", replies::cgminer_summary(95_000_000.0)),
        ("devs", replies::cgminer_devs(95_000_000.0, [60.0, 61.0, 62.0])),
        ("stats", replies::antminer_stats()),
        ("version", replies::cgminer_version(model)),
    ])
}

fn request(port: u16, command: &str, budget: Duration) -> Request {
    Request { address: SocketAddr::from(([127, 0, 0, 1], port)), line: request_line(command, None), budget }
}

/// The same variant, and for replies the same bytes (error messages may word a cause apart).
fn same(batch: &Result<Vec<u8>, TransportError>, blocking: &Result<Vec<u8>, TransportError>) -> bool {
    match (batch, blocking) {
        (Ok(a), Ok(b)) => a == b,
        (Err(a), Err(b)) => std::mem::discriminant(a) == std::mem::discriminant(b),
        _ => false,
    }
}

#[test]
fn the_poll_loop_ends_every_reply_as_the_blocking_exchange_does() {
    let modes = [
        Mode::NulTerminated,
        Mode::Newline,
        Mode::KeepOpen,
        Mode::SmallPackets,
        Mode::SlowDrip,
        Mode::Hang,
        Mode::CloseSilently,
        Mode::Malformed,
        Mode::Oversized,
    ];
    let fakes: Vec<FakeCgminer> = modes
        .iter()
        .map(|mode| {
            let fake = standard_fake("S19");
            fake.set_mode(*mode);
            fake
        })
        .collect();
    // A port nobody listens on: the connection is refused.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let budget = Duration::from_millis(800);
    let mut requests: Vec<Request> = fakes.iter().map(|f| request(f.port, "summary", budget)).collect();
    requests.push(request(closed, "summary", budget));

    let started = Instant::now();
    let batch = exchange_all(&requests, 64, Instant::now() + Duration::from_secs(10));
    let took = started.elapsed();
    assert_eq!(batch.len(), requests.len());
    assert!(took < budget * 2, "the exchanges ran at once, each within its budget: {took:?}");

    let line = request_line("summary", None);
    for (index, mode) in modes.iter().enumerate() {
        let blocking = exchange("127.0.0.1", fakes[index].port, &line, budget);
        assert!(same(&batch[index], &blocking), "{mode:?}: poll loop {:?}, blocking {blocking:?}", batch[index]);
    }
    assert!(matches!(batch[0], Ok(ref reply) if reply.starts_with(b"{\"STATUS\"")), "{:?}", batch[0]);
    assert_eq!(batch[4], Err(TransportError::Timeout), "a drip never completes");
    assert_eq!(batch[5], Err(TransportError::Timeout));
    assert_eq!(batch[6], Err(TransportError::Empty));
    assert_eq!(batch[8], Err(TransportError::TooLarge));
    assert!(matches!(batch[9], Err(TransportError::Connect(_))), "{:?}", batch[9]);
    for fake in &fakes[..4] {
        assert_eq!(fake.commands(), ["summary", "summary"], "one whole request from each path");
    }
}

#[test]
fn more_exchanges_than_may_be_in_flight_each_get_their_own_reply() {
    let fakes: Vec<FakeCgminer> = (0..24).map(|i| standard_fake(&format!("Rig {i}"))).collect();
    for fake in &fakes {
        fake.set_latency(Duration::from_millis(20));
    }
    let requests: Vec<Request> = fakes.iter().map(|f| request(f.port, "version", Duration::from_secs(5))).collect();
    let replies = exchange_all(&requests, 5, Instant::now() + Duration::from_secs(10));
    for (index, reply) in replies.iter().enumerate() {
        let text = String::from_utf8(reply.clone().unwrap()).unwrap();
        assert!(text.contains(&format!("\"Rig {index}\"")), "reply {index} is its own miner's: {text}");
    }
    for fake in &fakes {
        assert_eq!(fake.commands(), ["version"]);
    }
}

fn call() -> Call<'static> {
    Call::new(1_760_000_000, Instant::now() + Duration::from_secs(10), Duration::from_secs(5))
}

fn opening(client: &Client) -> Opening<'_> {
    Opening { client, commands: vec!["summary", "devs", "stats", "version"], budget: Duration::from_secs(5) }
}

#[test]
fn a_reply_read_ahead_serves_one_read_and_only_one() {
    let fake = standard_fake("S19 primed");
    let client = Client::new("127.0.0.1", fake.port);
    let primed = prime(&[opening(&client)], 16, 2, Instant::now() + Duration::from_secs(10));
    assert!(primed.ready(&opening(&client)));
    assert_eq!(fake.commands(), ["summary+devs+stats+version"], "one multi-command, sent ahead");

    let call = call().with_primed(&primed);
    let replies = client.read(&["summary"], &["devs", "stats", "version"], &call).unwrap();
    assert_eq!(replies.len(), 4);
    assert!(replies["version"].to_string().contains("S19 primed"));
    assert_eq!(fake.commands().len(), 1, "the read was answered from what was read ahead");

    client.read(&["summary"], &["devs", "stats", "version"], &call).unwrap();
    assert_eq!(fake.commands().len(), 2, "a second read asks the miner again");
}

#[test]
fn a_firmware_that_refuses_multi_commands_is_left_to_single_reads() {
    let fake = standard_fake("Old");
    fake.set_multi(false);
    let client = Client::new("127.0.0.1", fake.port);
    let primed = prime(&[opening(&client)], 16, 2, Instant::now() + Duration::from_secs(10));
    assert!(!primed.ready(&opening(&client)), "a refusal needs single reads");
    let replies = client.read(&["summary"], &["devs", "stats", "version"], &call().with_primed(&primed)).unwrap();
    assert_eq!(replies.len(), 4);
    let commands = fake.commands();
    assert_eq!(commands[0], "summary+devs+stats+version");
    assert_eq!(&commands[1..], ["summary", "devs", "stats", "version"], "then one by one");
}

#[test]
fn a_host_name_is_not_read_ahead() {
    let fake = standard_fake("Named");
    let client = Client::new("localhost", fake.port);
    let primed = prime(&[opening(&client)], 16, 2, Instant::now() + Duration::from_secs(10));
    assert!(!primed.ready(&opening(&client)));
    assert!(primed.is_empty());
    assert!(fake.commands().is_empty());
}

/// A fleet larger than `concurrency`, read in waves through the built binary, twice against
/// one state file: each miner is asked once per run, the one that refuses multi-commands is
/// asked command by command, and the one that never answers is named and left alone.
#[test]
fn a_fleet_larger_than_concurrency_is_read_in_waves_run_after_run() {
    let fakes: Vec<FakeCgminer> = (0..10).map(|i| standard_fake(&format!("Rig {i}"))).collect();
    fakes[3].set_multi(false);
    fakes[7].set_mode(Mode::Hang);
    let mut controllers = String::new();
    let mut miners = String::new();
    for (index, fake) in fakes.iter().enumerate() {
        controllers.push_str(&format!("  - {{id: api{index}, type: cgminer, host: 127.0.0.1, port: {}}}\n", fake.port));
        miners.push_str(&format!("  - {{id: m{index}, controllers: [api{index}]}}\n"));
    }
    let ids: Vec<String> = (0..fakes.len()).map(|i| format!("m{i}")).collect();
    let sandbox = crate::support::Sandbox::new();
    sandbox.write(
        "policy.yaml",
        "rules:\n  - name: sunny\n    conditions: {field: energy_state.production, operator: gt, value: 1000}\n",
    );
    sandbox.config(&format!(
        "version: 1\nstate: state.db\nsettings: {{concurrency: 4, timeout: 1s, deadline: 10s}}\nenergy_sources:\n  - {{id: roof, type: solar, monitor: {{type: simulated}}}}\ncontrollers:\n{controllers}miners:\n{miners}units:\n  - {{id: farm, energy_source: roof, miners: [{}], rules: {{start: [policy.yaml]}}}}\n",
        ids.join(", ")
    ));
    for (run_index, now) in ["2026-06-21T12:00:00+02:00", "2026-06-21T12:05:00+02:00"].iter().enumerate() {
        let (run, report) = sandbox.cycle(now, &["--dry-run"]);
        assert_eq!(run.code, 1, "degraded by the silent miner: {}", run.stderr);
        for (index, fake) in fakes.iter().enumerate() {
            let entry = crate::support::miner(&report, &format!("m{index}"));
            let runs = run_index + 1;
            match index {
                7 => {
                    assert_eq!(entry["reason"]["name"], "miner unreadable", "{entry}");
                    assert_eq!(fake.commands().len(), runs, "asked once a run, not again one by one");
                }
                3 => {
                    assert_eq!(entry["status"], "on", "{entry}");
                    assert_eq!(fake.commands().len(), 5 * runs, "the multi-command, then four single ones");
                }
                _ => {
                    assert_eq!(entry["status"], "on", "m{index}: {entry}");
                    assert_eq!(fake.commands(), vec!["summary+devs+stats+version"; runs], "m{index}");
                }
            }
            assert!(fake.writes().is_empty(), "a dry run sends no command");
        }
        assert!(report["errors"].to_string().contains("api7"), "{}", report["errors"]);
    }
}
