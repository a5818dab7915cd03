//! A fake HTTP server (tiny_http on an ephemeral loopback port) whose answers come from a
//! handler, recording every request so tests can assert exactly what was sent.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// What the handler answers.
pub enum Answer {
    Json(u16, serde_json::Value),
    Text(u16, String, Vec<(String, String)>),
    /// Sleep this long before answering 200 with an empty JSON object.
    Hang(Duration),
}

pub fn json(value: serde_json::Value) -> Answer {
    Answer::Json(200, value)
}

pub fn status(code: u16) -> Answer {
    Answer::Text(code, String::new(), Vec::new())
}

type Handler = dyn Fn(&Recorded) -> Answer + Send + Sync;

pub struct FakeHttp {
    pub port: u16,
    log: Arc<Mutex<Vec<Recorded>>>,
    stop: Arc<AtomicBool>,
    server: Arc<tiny_http::Server>,
}

impl FakeHttp {
    pub fn start(handler: impl Fn(&Recorded) -> Answer + Send + Sync + 'static) -> FakeHttp {
        FakeHttp::start_on("127.0.0.1", handler)
    }

    pub fn start_on(ip: &str, handler: impl Fn(&Recorded) -> Answer + Send + Sync + 'static) -> FakeHttp {
        FakeHttp::start_at(ip, 0, handler).expect("bind fake http")
    }

    /// On a given port (None when it is taken), for fakes that must share a port number.
    pub fn start_at(
        ip: &str,
        port: u16,
        handler: impl Fn(&Recorded) -> Answer + Send + Sync + 'static,
    ) -> Option<FakeHttp> {
        let server = Arc::new(tiny_http::Server::http(format!("{ip}:{port}")).ok()?);
        let port = server.server_addr().to_ip().expect("ip").port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Mutex<Arc<Handler>>> = Arc::new(Mutex::new(Arc::new(handler)));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, l, h, st) = (server.clone(), log.clone(), handler.clone(), stop.clone());
        std::thread::spawn(move || {
            while !st.load(Ordering::SeqCst) {
                let Ok(Some(request)) = s.recv_timeout(Duration::from_millis(50)) else { continue };
                let (l, h) = (l.clone(), h.clone());
                std::thread::spawn(move || respond(request, &l, &h));
            }
        });
        Some(FakeHttp { port, log, stop, server })
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> Vec<Recorded> {
        self.log.lock().unwrap().clone()
    }

    /// "METHOD /path" of every request.
    pub fn requests(&self) -> Vec<String> {
        self.log().iter().map(|r| format!("{} {}", r.method, r.url)).collect()
    }
}

impl Drop for FakeHttp {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.server.unblock();
    }
}

fn respond(mut request: tiny_http::Request, log: &Mutex<Vec<Recorded>>, handler: &Mutex<Arc<Handler>>) {
    let mut body = String::new();
    let _ = request.as_reader().read_to_string(&mut body);
    let recorded = Recorded {
        method: request.method().to_string(),
        url: request.url().to_string(),
        headers: request.headers().iter().map(|h| (h.field.to_string(), h.value.to_string())).collect(),
        body,
    };
    log.lock().unwrap().push(recorded.clone());
    let handler = handler.lock().unwrap().clone();
    let answer = handler(&recorded);
    let (code, text, headers) = match answer {
        Answer::Json(code, value) => {
            (code, value.to_string(), vec![("Content-Type".to_string(), "application/json".to_string())])
        }
        Answer::Text(code, text, headers) => (code, text, headers),
        Answer::Hang(duration) => {
            std::thread::sleep(duration);
            (200, "{}".to_string(), Vec::new())
        }
    };
    let mut response = tiny_http::Response::from_string(text).with_status_code(code);
    for (name, value) in headers {
        if let Ok(header) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            response.add_header(header);
        }
    }
    let _ = request.respond(response);
}
