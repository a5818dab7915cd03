//! A fake CGMiner API server (TCP, ephemeral loopback port) that replays replies per
//! command, records every request, and misbehaves on demand.

use serde_json::json;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the fake answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Reply, a NUL byte, close (cgminer, bmminer).
    NulTerminated,
    /// Reply, a newline, close.
    Newline,
    /// Reply and keep the socket open until the client closes it.
    KeepOpen,
    /// Reply in 7-byte packets, a millisecond apart.
    SmallPackets,
    /// One byte every 100 ms, forever.
    SlowDrip,
    /// Accept, read, never answer.
    Hang,
    /// Close without a byte.
    CloseSilently,
    /// Send garbage that is not JSON.
    Malformed,
    /// Send up to 100 MB (until the client hangs up).
    Oversized,
}

/// One recorded request: the command and its parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub command: String,
    pub parameter: Option<String>,
}

struct State {
    replies: HashMap<String, String>,
    mode: Mode,
    multi: bool,
    latency: Duration,
    log: Vec<Received>,
    /// Commands whose reply is a dropped connection (Avalon `softon`).
    drop_on: Vec<String>,
    /// Commands never answered (a device busy applying a change).
    hang_on: Vec<String>,
}

pub struct FakeCgminer {
    pub port: u16,
    address: std::net::SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

impl FakeCgminer {
    /// Serves `replies` (command → JSON text) on 127.0.0.1.
    pub fn start(replies: &[(&str, String)]) -> FakeCgminer {
        FakeCgminer::start_on("127.0.0.1", replies)
    }

    pub fn start_on(ip: &str, replies: &[(&str, String)]) -> FakeCgminer {
        FakeCgminer::start_at(ip, 0, replies).expect("bind fake cgminer")
    }

    /// On a given address and port (None when it is taken).
    pub fn start_at(ip: &str, port: u16, replies: &[(&str, String)]) -> Option<FakeCgminer> {
        let listener = TcpListener::bind((ip, port)).ok()?;
        let address = listener.local_addr().unwrap();
        let port = address.port();
        let state = Arc::new(Mutex::new(State {
            replies: replies.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
            mode: Mode::NulTerminated,
            multi: true,
            latency: Duration::ZERO,
            log: Vec::new(),
            drop_on: Vec::new(),
            hang_on: Vec::new(),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (thread_state, thread_stop) = (state.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if thread_stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let state = thread_state.clone();
                let stop = thread_stop.clone();
                std::thread::spawn(move || serve(stream, &state, &stop));
            }
        });
        Some(FakeCgminer { port, address, state, stop })
    }

    pub fn set_mode(&self, mode: Mode) {
        self.state.lock().unwrap().mode = mode;
    }

    pub fn set_latency(&self, latency: Duration) {
        self.state.lock().unwrap().latency = latency;
    }

    /// Whether `a+b` multi-commands are understood (some Antminers refuse them).
    pub fn set_multi(&self, multi: bool) {
        self.state.lock().unwrap().multi = multi;
    }

    pub fn set_reply(&self, command: &str, reply: String) {
        self.state.lock().unwrap().replies.insert(command.to_string(), reply);
    }

    /// Never answers `command` (until the client gives up).
    pub fn hang_on(&self, command: &str) {
        self.state.lock().unwrap().hang_on.push(command.to_string());
    }

    pub fn drop_connection_on(&self, command: &str) {
        self.state.lock().unwrap().drop_on.push(command.to_string());
    }

    /// Every request so far.
    pub fn log(&self) -> Vec<Received> {
        self.state.lock().unwrap().log.clone()
    }

    /// The commands received, in order (multi-commands as sent, `a+b`).
    pub fn commands(&self) -> Vec<String> {
        self.log().into_iter().map(|r| r.command).collect()
    }

    /// Requests that change the miner (anything but the read-only commands).
    pub fn writes(&self) -> Vec<Received> {
        const READS: [&str; 17] = [
            "summary",
            "devs",
            "stats",
            "version",
            "pools",
            "devdetails",
            "config",
            "power",
            "fans",
            "status",
            "temps",
            "session",
            "profiles",
            "psu",
            "fan",
            "temperature",
            "mode",
        ];
        self.log().into_iter().filter(|r| !r.command.split('+').all(|c| READS.contains(&c))).collect()
    }
}

impl Drop for FakeCgminer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.address, Duration::from_millis(50));
    }
}

fn serve(mut stream: TcpStream, state: &Mutex<State>, stop: &AtomicBool) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = read_request(&mut stream);
    let Some(received) = parse_request(&request) else { return };
    let (mode, latency, reply, dropped) = {
        let mut state = state.lock().unwrap();
        state.log.push(received.clone());
        let reply = reply_for(&state, &received.command);
        let dropped = state.drop_on.contains(&received.command);
        let hangs = state.hang_on.contains(&received.command);
        (if hangs { Mode::Hang } else { state.mode }, state.latency, reply, dropped)
    };
    if !latency.is_zero() {
        std::thread::sleep(latency);
    }
    if dropped {
        let _ = stream.shutdown(Shutdown::Both);
        return;
    }
    let _ = match mode {
        Mode::NulTerminated => stream.write_all(reply.as_bytes()).and_then(|_| stream.write_all(b"\0")),
        Mode::Newline => stream.write_all(reply.as_bytes()).and_then(|_| stream.write_all(b"\n")),
        Mode::KeepOpen => {
            let _ = stream.write_all(reply.as_bytes());
            let mut sink = [0u8; 64];
            let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
            let _ = stream.read(&mut sink);
            Ok(())
        }
        Mode::SmallPackets => {
            for chunk in reply.as_bytes().chunks(7) {
                let _ = stream.write_all(chunk);
                let _ = stream.flush();
                std::thread::sleep(Duration::from_millis(1));
            }
            stream.write_all(b"\0")
        }
        Mode::SlowDrip => {
            for byte in reply.as_bytes() {
                if stop.load(Ordering::SeqCst) || stream.write_all(&[*byte]).is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            Ok(())
        }
        Mode::Hang => {
            std::thread::sleep(Duration::from_secs(30));
            Ok(())
        }
        Mode::CloseSilently => Ok(()),
        Mode::Malformed => stream.write_all(b"<html><body>502 Bad Gateway</body></html>\0"),
        Mode::Oversized => {
            let block = vec![b'x'; 64 * 1024];
            let mut result = stream.write_all(b"{\"STATUS\":[{\"STATUS\":\"S\"}],\"SUMMARY\":[{\"junk\":\"");
            for _ in 0..1600 {
                if result.is_err() {
                    break;
                }
                result = stream.write_all(&block);
            }
            result
        }
    };
    let _ = stream.shutdown(Shutdown::Write);
}

fn read_request(stream: &mut TcpStream) -> Vec<u8> {
    let mut request = Vec::new();
    let mut chunk = [0u8; 1024];
    while let Ok(n) = stream.read(&mut chunk) {
        if n == 0 {
            break;
        }
        request.extend_from_slice(&chunk[..n]);
        // The request line ends with a newline; reading it all means closing sends FIN, not RST.
        if request.ends_with(b"\n") && serde_json::from_slice::<serde_json::Value>(request.trim_ascii()).is_ok() {
            break;
        }
    }
    request
}

fn parse_request(bytes: &[u8]) -> Option<Received> {
    let value: serde_json::Value = serde_json::from_slice(bytes.trim_ascii()).ok()?;
    Some(Received {
        command: value.get("command")?.as_str()?.to_string(),
        parameter: value.get("parameter").and_then(|p| p.as_str()).map(str::to_string),
    })
}

const INVALID: &str =
    r#"{"STATUS":[{"STATUS":"E","When":1,"Code":14,"Msg":"Invalid command","Description":"fake"}],"id":1}"#;

fn reply_for(state: &State, command: &str) -> String {
    if command.contains('+') {
        if !state.multi {
            return INVALID.to_string();
        }
        let parts: Vec<String> = command
            .split('+')
            .map(|part| {
                let reply = state.replies.get(part).cloned().unwrap_or_else(|| INVALID.to_string());
                format!("\"{part}\":[{reply}]")
            })
            .collect();
        return format!("{{{},\"id\":1}}", parts.join(","));
    }
    state.replies.get(command).cloned().unwrap_or_else(|| INVALID.to_string())
}

/// A reply with a success STATUS and one section.
pub fn reply(section: &str, entries: serde_json::Value) -> String {
    serde_json::json!({
        "STATUS": [{"STATUS": "S", "When": 1760000000, "Code": 11, "Msg": section, "Description": "fake cgminer"}],
        section: entries,
        "id": 1
    })
    .to_string()
}

/// A bare success reply (for control commands).
pub fn ok(message: &str) -> String {
    serde_json::json!({"STATUS": [{"STATUS": "S", "When": 1760000000, "Code": 118, "Msg": message, "Description": "fake"}], "id": 1}).to_string()
}

/// A generic cgminer 4.x summary in MH/s.
pub fn cgminer_summary(mhs_5s: f64) -> String {
    reply(
        "SUMMARY",
        json!([{"Elapsed": 7200, "MHS av": mhs_5s * 0.98, "MHS 5s": mhs_5s, "MHS 1m": mhs_5s * 1.01,
        "Found Blocks": 1, "Accepted": 5120, "Rejected": 3, "Hardware Errors": 12}]),
    )
}

/// Three boards, each a third of the total, with temperatures.
pub fn cgminer_devs(mhs_total: f64, temps: [f64; 3]) -> String {
    let devs: Vec<_> = temps
        .iter()
        .enumerate()
        .map(|(i, t)| json!({"ASC": i, "Name": "BTM", "Enabled": "Y", "Status": "Alive", "Temperature": t, "MHS 5s": mhs_total / 3.0, "MHS av": mhs_total / 3.0}))
        .collect();
    reply("DEVS", json!(devs))
}

pub fn cgminer_version(model: &str) -> String {
    reply("VERSION", json!([{"CGMiner": "4.11.1", "API": "3.7", "Type": model}]))
}
