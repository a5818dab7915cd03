//! HTTP: the one module that talks HTTP, with the limits every request needs (SPEC §4.4, §15).
//!
//! Every request has a bounded timeout covering the whole exchange, bypasses proxies (LAN
//! devices must not go through one), keeps 4xx/5xx responses with their headers (Retry-After
//! is needed), and caps bodies at 1 MiB. Certificates are verified unless a service says
//! `insecure: true`.

use std::sync::OnceLock;
use std::time::Duration;

use md5::{Digest, Md5};
use ureq::RequestExt;
use ureq::tls::TlsConfig;

/// Largest body read from any device or service.
pub const BODY_LIMIT: u64 = 1024 * 1024;

/// A request to send.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    pub insecure: bool,
}

impl Request {
    pub fn get(url: &str) -> Request {
        Request { method: "GET".into(), url: url.into(), headers: Vec::new(), body: None, insecure: false }
    }

    pub fn new(method: &str, url: &str) -> Request {
        Request { method: method.to_ascii_uppercase(), ..Request::get(url) }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Request {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn json_body(mut self, body: &serde_json::Value) -> Request {
        self.body = Some(body.to_string().into_bytes());
        self.header("Content-Type", "application/json")
    }

    pub fn insecure(mut self, insecure: bool) -> Request {
        self.insecure = insecure;
        self
    }
}

/// A response, whatever its status.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as JSON; an HTML error page or garbage is named as such.
    pub fn json(&self) -> Result<serde_json::Value, String> {
        serde_json::from_slice(&self.body).map_err(|err| {
            let start = String::from_utf8_lossy(&self.body[..self.body.len().min(200)]).trim_start().to_lowercase();
            if start.starts_with("<!doctype html") || start.starts_with("<html") {
                "the reply is an HTML page, not JSON".to_string()
            } else {
                format!("the reply is not valid JSON ({err})")
            }
        })
    }
}

/// Why a request failed before any response arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    Timeout(String),
    Connection(String),
    TooLarge,
    Other(String),
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HttpError::Timeout(m) => write!(f, "timed out ({m})"),
            HttpError::Connection(m) => write!(f, "connection failed ({m})"),
            HttpError::TooLarge => write!(f, "the reply is larger than 1 MiB"),
            HttpError::Other(m) => f.write_str(m),
        }
    }
}

impl From<HttpError> for crate::core::error::InputError {
    fn from(error: HttpError) -> Self {
        use crate::core::error::{ErrorKind, InputError};
        let kind = match &error {
            HttpError::Timeout(_) => ErrorKind::Timeout,
            HttpError::Connection(_) => ErrorKind::Unreachable,
            HttpError::TooLarge | HttpError::Other(_) => ErrorKind::InvalidReply,
        };
        InputError::new(kind, error.to_string())
    }
}

fn agent(insecure: bool) -> &'static ureq::Agent {
    static SECURE: OnceLock<ureq::Agent> = OnceLock::new();
    static INSECURE: OnceLock<ureq::Agent> = OnceLock::new();
    let cell = if insecure { &INSECURE } else { &SECURE };
    cell.get_or_init(|| {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .max_redirects(0)
            .tls_config(TlsConfig::builder().disable_verification(insecure).build())
            .user_agent(concat!("edge-mining/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent()
    })
}

/// Sends a request; `budget` bounds the whole exchange (connect, send, full body).
pub fn send(request: &Request, budget: Duration) -> Result<Response, HttpError> {
    let mut builder = ureq::http::Request::builder().method(request.method.as_str()).uri(request.url.as_str());
    for (name, value) in &request.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let built = builder
        .body(request.body.clone().unwrap_or_default())
        .map_err(|e| HttpError::Other(format!("invalid request: {e}")))?;
    let result = built.with_agent(agent(request.insecure)).configure().timeout_global(Some(budget)).run();
    let mut response = result.map_err(classify)?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str().to_string(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
        .collect();
    let body = response.body_mut().with_config().limit(BODY_LIMIT).read_to_vec().map_err(classify)?;
    Ok(Response { status, headers, body })
}

/// Sends and expects a 2xx JSON reply; any other outcome is a message naming the URL.
pub fn fetch_json(request: &Request, budget: Duration) -> Result<serde_json::Value, crate::core::error::InputError> {
    use crate::core::error::InputError;
    let place = format!("{} {}", request.method, redact(&request.url));
    let response = send(request, budget).map_err(|e| InputError::from(e).context(&place))?;
    match response.status {
        200..=299 => response.json().map_err(|e| InputError::invalid(format!("{place}: {e}"))),
        401 | 403 => Err(InputError::auth(format!("{place}: HTTP {} (check the credentials)", response.status))),
        status => Err(InputError::refused(format!("{place}: HTTP {status}"))),
    }
}

/// A URL for messages: any `user:password@` and query string are dropped.
pub fn redact(url: &str) -> String {
    let without_query = url.split('?').next().unwrap_or(url);
    match without_query.split_once("://") {
        Some((scheme, rest)) => {
            let host_and_path =
                rest.split_once('@').filter(|(auth, _)| !auth.contains('/')).map_or(rest, |(_, after)| after);
            format!("{scheme}://{host_and_path}")
        }
        None => without_query.to_string(),
    }
}

fn classify(err: ureq::Error) -> HttpError {
    match err {
        ureq::Error::Timeout(t) => HttpError::Timeout(t.to_string()),
        ureq::Error::BodyExceedsLimit(_) => HttpError::TooLarge,
        ureq::Error::Io(e)
            if e.kind() == std::io::ErrorKind::TimedOut || e.kind() == std::io::ErrorKind::WouldBlock =>
        {
            HttpError::Timeout(e.to_string())
        }
        ureq::Error::Io(e) => HttpError::Connection(e.to_string()),
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => HttpError::Connection(err.to_string()),
        other if other.to_string().contains("limit") => HttpError::TooLarge,
        other => HttpError::Other(other.to_string()),
    }
}

/// Sends with HTTP digest authentication (RFC 2617, MD5, qop=auth), as Antminer CGI wants:
/// a first request learns the challenge, the second answers it.
pub fn send_digest(request: &Request, user: &str, password: &str, budget: Duration) -> Result<Response, HttpError> {
    let started = std::time::Instant::now();
    let first = send(request, budget)?;
    if first.status != 401 {
        return Ok(first);
    }
    let Some(challenge) = first.header("www-authenticate").filter(|c| c.to_ascii_lowercase().starts_with("digest"))
    else {
        return Ok(first);
    };
    let left = budget.saturating_sub(started.elapsed());
    let path = path_of(&request.url);
    let authorization = digest_authorization(challenge, &request.method, &path, user, password, &cnonce());
    send(&request.clone().header("Authorization", authorization), left)
}

fn path_of(url: &str) -> String {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    after_scheme.find('/').map_or("/".to_string(), |i| after_scheme[i..].to_string())
}

fn cnonce() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{:016x}", nanos as u64 ^ u64::from(std::process::id()))
}

fn md5_hex(text: &str) -> String {
    Md5::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256_hex(text: &str) -> String {
    sha2::Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The `Authorization` header answering a digest challenge.
pub fn digest_authorization(
    challenge: &str,
    method: &str,
    uri: &str,
    user: &str,
    password: &str,
    cnonce: &str,
) -> String {
    let field = |name: &str| -> Option<String> {
        let lower = challenge.to_ascii_lowercase();
        let at = lower.find(&format!("{name}="))? + name.len() + 1;
        let rest = &challenge[at..];
        Some(match rest.strip_prefix('"') {
            Some(quoted) => quoted.split('"').next().unwrap_or_default().to_string(),
            None => rest.split(',').next().unwrap_or_default().trim().to_string(),
        })
    };
    let realm = field("realm").unwrap_or_default();
    let nonce = field("nonce").unwrap_or_default();
    let qop = field("qop").filter(|q| q.split(',').any(|v| v.trim() == "auth"));
    // MD5 (Antminer) or SHA-256 (Shelly Gen2+, RFC 7616).
    let algorithm = field("algorithm").unwrap_or_else(|| "MD5".into());
    let hash: fn(&str) -> String = if algorithm.eq_ignore_ascii_case("SHA-256") { sha256_hex } else { md5_hex };
    let ha1 = hash(&format!("{user}:{realm}:{password}"));
    let ha2 = hash(&format!("{method}:{uri}"));
    let mut header = format!(
        "Digest username=\"{user}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", algorithm={algorithm}"
    );
    match qop {
        Some(_) => {
            let response = hash(&format!("{ha1}:{nonce}:00000001:{cnonce}:auth:{ha2}"));
            header.push_str(&format!(", qop=auth, nc=00000001, cnonce=\"{cnonce}\", response=\"{response}\""));
        }
        None => header.push_str(&format!(", response=\"{}\"", hash(&format!("{ha1}:{nonce}:{ha2}")))),
    }
    if let Some(opaque) = field("opaque") {
        header.push_str(&format!(", opaque=\"{opaque}\""));
    }
    header
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_matches_the_rfc_2617_example() {
        let challenge = r#"Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41""#;
        let header = digest_authorization(challenge, "GET", "/dir/index.html", "Mufasa", "Circle Of Life", "0a4f113b");
        assert!(header.contains(r#"response="6629fae49393a05397450978507c4ef1""#), "{header}");
        assert!(header.contains("qop=auth, nc=00000001"));
        assert!(header.contains(r#"opaque="5ccc069c403ebaf9f0171e9517f40e41""#));
    }

    #[test]
    fn paths_of_urls() {
        assert_eq!(path_of("http://10.0.0.2/cgi-bin/get_miner_conf.cgi"), "/cgi-bin/get_miner_conf.cgi");
        assert_eq!(path_of("http://10.0.0.2"), "/");
    }

    #[test]
    fn redaction() {
        assert_eq!(redact("http://admin:pw@10.0.0.2/rpc?token=x"), "http://10.0.0.2/rpc");
        assert_eq!(redact("https://pool.example/api/v1/x"), "https://pool.example/api/v1/x");
    }

    #[test]
    fn html_is_named() {
        let response =
            Response { status: 502, headers: vec![], body: b"<!DOCTYPE html><html>Bad gateway</html>".to_vec() };
        assert_eq!(response.json().unwrap_err(), "the reply is an HTML page, not JSON");
    }
}
