//! Compatibility with real firmware: the captures in `../shared/fixtures` (when that folder
//! exists beside the project) are served by the fake and read by our controllers, and the
//! values a person reads off those files come out.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::support::cgminer::FakeCgminer;
use edge_mining::core::reading::MinerReading;
use edge_mining::core::status::MinerStatus;
use edge_mining::devices::Monitor;
use edge_mining::transport::Call;

/// The captures; these tests are ignored by default and run where the folder is (CI).
fn fixtures() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures");
    assert!(dir.is_dir(), "{} is absent: run these tests where the captures are", dir.display());
    dir
}

fn file(dir: &Path, path: &str) -> String {
    std::fs::read_to_string(dir.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn serve(dir: &Path, folder: &str, commands: &[(&str, &str)]) -> FakeCgminer {
    let replies: Vec<(&str, String)> =
        commands.iter().map(|(cmd, name)| (*cmd, file(dir, &format!("{folder}/{name}")))).collect();
    FakeCgminer::start(&replies)
}

fn call() -> Call<'static> {
    Call::new(1_760_000_000, Instant::now() + Duration::from_secs(10), Duration::from_secs(5))
}

fn read(monitor: &dyn Monitor) -> MinerReading {
    monitor.read(&[], &call()).expect("read")
}

fn close(value: Option<f64>, expected: f64) {
    let value = value.expect("a value");
    assert!((value - expected).abs() < 1e-3, "{value} != {expected}");
}

#[test]
#[ignore = "needs ../shared/fixtures beside the checkout (CI has it)"]
fn antminer_stock_capture() {
    let dir = fixtures();
    let fake = serve(
        &dir,
        "antminer-stock-v2020",
        &[("summary", "summary.json"), ("stats", "stats.json"), ("version", "version.json"), ("devs", "devs.json")],
    );
    let controller = edge_mining::devices::cgminer::Cgminer::new(
        &serde_yaml::from_str(&format!("{{host: 127.0.0.1, port: {}}}", fake.port)).unwrap(),
    );
    let reading = read(&controller);
    close(reading.hashrate, 110.56689);
    assert_eq!(reading.status, Some(MinerStatus::On));
    assert_eq!(reading.uptime, Some(50474));
    assert_eq!(reading.internal_fans, Some(vec![6000.0, 5880.0, 5040.0, 5040.0]));
    let boards = reading.hashboards.expect("boards");
    assert_eq!(boards.len(), 3);
    close(boards[0].chip_temperature, 78.0);
    close(boards[0].hash_rate, 37.6033);
    close(boards[2].frequency, 525.0);
    assert_eq!(reading.device_info.unwrap().model.as_deref(), Some("Antminer S19 Pro"));
}

#[test]
#[ignore = "needs ../shared/fixtures beside the checkout (CI has it)"]
fn luxos_capture() {
    let dir = fixtures();
    let fake = serve(
        &dir,
        "luxos-s19kpro",
        &[
            ("summary", "summary.json"),
            ("stats", "stats.json"),
            ("version", "version.json"),
            ("devs", "devs.json"),
            ("config", "config.json"),
            ("power", "power.json"),
            ("fans", "fans.json"),
        ],
    );
    let controller = edge_mining::devices::luxos::Luxos::new(
        &serde_yaml::from_str(&format!("{{host: 127.0.0.1, port: {}}}", fake.port)).unwrap(),
    );
    let reading = read(&controller);
    close(reading.hashrate, 59.75606);
    close(reading.power, 1051.0);
    assert_eq!(reading.status, Some(MinerStatus::On), "CurtailMode None");
    assert_eq!(reading.internal_fans, Some(vec![1920.0, 1920.0, 2340.0, 2340.0]));
    let info = reading.device_info.unwrap();
    assert_eq!(info.model.as_deref(), Some("Antminer S19k Pro"));
    assert_eq!(info.hostname.as_deref(), Some("UrlacherS19k"));
    close(reading.max_hashrate, 121.8);
}

#[test]
#[ignore = "needs ../shared/fixtures beside the checkout (CI has it)"]
fn whatsminer_capture() {
    let dir = fixtures();
    let fake = serve(
        &dir,
        "whatsminer-api-v1",
        &[("summary", "summary.json"), ("devs", "devs.json"), ("status", "status.json")],
    );
    let controller = edge_mining::devices::whatsminer::Whatsminer::new(
        &serde_yaml::from_str(&format!("{{host: 127.0.0.1, port: {}}}", fake.port)).unwrap(),
    );
    let reading = read(&controller);
    close(reading.hashrate, 70.66811452);
    close(reading.power, 3417.0);
    close(reading.max_power, 3500.0);
    assert_eq!(reading.internal_fans, Some(vec![6450.0, 6480.0]));
    assert_eq!(reading.status, Some(MinerStatus::On), "btmineroff false");
    let boards = reading.hashboards.unwrap();
    close(boards[0].chip_temperature, 90.0);
    close(boards[0].frequency, 650.0);
    close(reading.max_hashrate, 68.796);
}

#[test]
#[ignore = "needs ../shared/fixtures beside the checkout (CI has it)"]
fn avalon_q_capture_is_idle() {
    let dir = fixtures();
    let fake = serve(
        &dir,
        "avalon-q",
        &[("summary", "summary.json"), ("stats", "stats.json"), ("version", "version.json"), ("devs", "devs.json")],
    );
    let controller = edge_mining::devices::avalon::Avalon::new(
        &serde_yaml::from_str(&format!("{{host: 127.0.0.1, port: {}}}", fake.port)).unwrap(),
    );
    let reading = read(&controller);
    assert_eq!(reading.status, Some(MinerStatus::Off), "SYSTEMSTATU says In Idle, SoftOFF is set");
    close(reading.hashrate, 0.0);
    assert_eq!(reading.internal_fans, Some(vec![0.0, 0.0, 0.0, 0.0]));
    assert_eq!(reading.device_info.unwrap().model.as_deref(), Some("Avalon Q"));
    let softoff =
        edge_mining::transport::cgminer::repair::parse(file(&dir, "avalon-q/ascset_softoff.json").as_bytes()).unwrap();
    assert!(edge_mining::transport::cgminer::reply::check_status(&softoff).is_ok(), "an `I` status is success");
}

#[test]
#[ignore = "needs ../shared/fixtures beside the checkout (CI has it)"]
fn bitaxe_capture() {
    let dir = fixtures();
    let info: serde_json::Value = serde_json::from_str(&file(&dir, "bitaxe-supra-axeos/system_info.json")).unwrap();
    let reading = edge_mining::devices::bitaxe::reading_of(&info).unwrap();
    close(reading.hashrate, 1.0);
    close(reading.power, 2.65);
    assert_eq!(reading.internal_fans, Some(vec![3517.0]));
    let board = &reading.hashboards.as_ref().unwrap()[0];
    close(board.chip_temperature, 59.875);
    close(board.board_temperature, 78.0);
    close(board.voltage, 1.172);
    close(board.frequency, 490.0);
    assert_eq!(reading.uptime, Some(4));
}

#[test]
#[ignore = "needs ../shared/fixtures beside the checkout (CI has it)"]
fn braiins_os_rest_capture() {
    let dir = fixtures();
    let json = |name: &str| {
        serde_json::from_str::<serde_json::Value>(&file(&dir, &format!("braiins-os-25.07-rest/{name}"))).unwrap()
    };
    let reading = edge_mining::devices::braiins_os::rest_reading(
        &json("miner_details.json"),
        &json("miner_stats.json"),
        Some(&json("miner_hw_hashboards.json")),
        Some(&json("cooling_state.json")),
        Some(&json("performance_tuner_state.json")),
    );
    close(reading.hashrate, 141.46356540072063);
    close(reading.power, 3137.0);
    close(reading.max_power, 3031.0);
    assert_eq!(reading.status, Some(MinerStatus::On));
    assert_eq!(reading.internal_fans, Some(vec![5904.0, 5874.0, 5874.0, 5904.0]));
    let boards = reading.hashboards.unwrap();
    assert_eq!(boards.len(), 3);
    close(boards[0].chip_temperature, 70.5);
    close(boards[0].board_temperature, 55.5);
    close(boards[0].frequency, 486.704545);
    assert_eq!(reading.device_info.unwrap().model.as_deref(), Some("Antminer S19 XP"));
}

#[test]
#[ignore = "needs ../shared/fixtures beside the checkout (CI has it)"]
fn braiins_os_4028_version_capture_parses() {
    let dir = fixtures();
    let value =
        edge_mining::transport::cgminer::repair::parse(file(&dir, "braiins-os-25.05/version.json").as_bytes()).unwrap();
    let mut reading = MinerReading::default();
    edge_mining::transport::cgminer::readings::apply_version(&mut reading, &value);
    assert_eq!(reading.device_info.unwrap().firmware_type.as_deref(), Some("BOSer"));
}
