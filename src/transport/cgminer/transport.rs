//! The CGMiner API transport (TCP 4028): one request per connection, one reply.
//!
//! The reply ends at a NUL byte, at EOF, or when the bytes read so far form a complete JSON
//! value (some firmwares keep the socket open). The whole exchange is bounded by one budget,
//! so a device that drips a byte a second is cut off, and replies are capped at 1 MiB.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// Largest reply accepted.
pub const REPLY_LIMIT: usize = 1024 * 1024;

/// The most read from a socket at once.
pub(crate) const READ_CHUNK: usize = 16 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportError {
    Connect(String),
    Timeout,
    /// The device closed the connection without a byte (Avalon `softon` does this on success).
    Empty,
    TooLarge,
    Io(String),
}

impl From<TransportError> for crate::core::error::InputError {
    fn from(error: TransportError) -> Self {
        use crate::core::error::{ErrorKind, InputError};
        let kind = match &error {
            TransportError::Connect(_) => ErrorKind::Unreachable,
            TransportError::Timeout => ErrorKind::Timeout,
            TransportError::Empty | TransportError::TooLarge | TransportError::Io(_) => ErrorKind::InvalidReply,
        };
        InputError::new(kind, error.to_string())
    }
}

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransportError::Connect(m) => write!(f, "cannot connect ({m})"),
            TransportError::Timeout => f.write_str("no complete reply in time"),
            TransportError::Empty => f.write_str("the connection closed without a reply"),
            TransportError::TooLarge => f.write_str("the reply is larger than 1 MiB"),
            TransportError::Io(m) => write!(f, "connection error ({m})"),
        }
    }
}

/// The JSON request line: `{"command":"summary"}` or with a string parameter.
pub fn request_line(command: &str, parameter: Option<&str>) -> String {
    let mut request = serde_json::json!({ "command": command });
    if let Some(parameter) = parameter {
        request["parameter"] = serde_json::Value::String(parameter.to_string());
    }
    request.to_string()
}

/// Sends `line` to `host:port` and returns the raw reply, trailing NUL and whitespace removed.
pub fn exchange(host: &str, port: u16, line: &str, budget: Duration) -> Result<Vec<u8>, TransportError> {
    let deadline = Instant::now() + budget;
    let mut stream = connect(host, port, budget)?;
    stream.set_nodelay(true).ok();
    stream.set_write_timeout(Some(budget)).map_err(io)?;
    stream.write_all(line.as_bytes()).map_err(io)?;
    stream.write_all(b"\n").map_err(io)?;
    read_reply(&mut stream, deadline)
}

pub(crate) fn connect(host: &str, port: u16, budget: Duration) -> Result<TcpStream, TransportError> {
    let addresses = (host, port).to_socket_addrs().map_err(|e| TransportError::Connect(e.to_string()))?;
    let mut last = TransportError::Connect(format!("{host} has no address"));
    for address in addresses {
        match TcpStream::connect_timeout(&address, budget) {
            Ok(stream) => return Ok(stream),
            Err(e) if e.kind() == ErrorKind::TimedOut => last = TransportError::Timeout,
            Err(e) => last = TransportError::Connect(e.to_string()),
        }
    }
    Err(last)
}

fn read_reply(stream: &mut TcpStream, deadline: Instant) -> Result<Vec<u8>, TransportError> {
    let mut reply = ReplyBuffer::default();
    let mut chunk = [0u8; READ_CHUNK];
    loop {
        let left =
            deadline.checked_duration_since(Instant::now()).filter(|d| !d.is_zero()).ok_or(TransportError::Timeout)?;
        stream.set_read_timeout(Some(left)).map_err(io)?;
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) if reply.push(&chunk[..n])? => break,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(TransportError::Timeout);
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(io(e)),
        }
    }
    reply.finish()
}

/// The bytes of one reply as they arrive, and the rule of when it is complete: at a NUL, at
/// EOF (the caller's), or once it forms a whole JSON value. Both the blocking exchange and the
/// poll loop of `batch` use it, so a reply ends the same way on either path.
#[derive(Debug, Default)]
pub(crate) struct ReplyBuffer {
    bytes: Vec<u8>,
}

impl ReplyBuffer {
    /// Adds freshly read bytes; true when the reply is complete.
    pub(crate) fn push(&mut self, fresh: &[u8]) -> Result<bool, TransportError> {
        if let Some(nul) = fresh.iter().position(|b| *b == 0) {
            self.bytes.extend_from_slice(&fresh[..nul]);
            return Ok(true);
        }
        self.bytes.extend_from_slice(fresh);
        if self.bytes.len() > REPLY_LIMIT {
            return Err(TransportError::TooLarge);
        }
        Ok(looks_complete(&self.bytes))
    }

    /// The reply with its trailing whitespace removed; a reply of nothing is `Empty`.
    pub(crate) fn finish(mut self) -> Result<Vec<u8>, TransportError> {
        let end = self.bytes.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(0, |i| i + 1);
        self.bytes.truncate(end);
        if self.bytes.is_empty() {
            return Err(TransportError::Empty);
        }
        Ok(self.bytes)
    }
}

/// A reply that ends a JSON object or array and parses is complete, even if the socket stays open.
fn looks_complete(reply: &[u8]) -> bool {
    let trimmed = reply.iter().rposition(|b| !b.is_ascii_whitespace()).map(|i| reply[i]);
    matches!(trimmed, Some(b'}') | Some(b']')) && serde_json::from_slice::<serde::de::IgnoredAny>(reply).is_ok()
}

pub(crate) fn io(err: std::io::Error) -> TransportError {
    match err.kind() {
        ErrorKind::WouldBlock | ErrorKind::TimedOut => TransportError::Timeout,
        _ => TransportError::Io(err.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines() {
        assert_eq!(request_line("summary", None), r#"{"command":"summary"}"#);
        assert_eq!(
            request_line("ascset", Some("0,softoff,1:0")),
            r#"{"command":"ascset","parameter":"0,softoff,1:0"}"#
        );
    }

    #[test]
    fn completeness() {
        assert!(looks_complete(b"{\"a\":1}\n"));
        assert!(!looks_complete(b"{\"a\":"));
        assert!(!looks_complete(b"{\"a\":1,}"), "invalid JSON waits for EOF or NUL");
    }
}
