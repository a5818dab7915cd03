//! Length-prefixed JSON over TCP, as Whatsminer's API v3 speaks it (port 4433): every
//! request and every reply is a 4-byte little-endian length, then that many bytes of JSON.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::core::error::{ErrorKind, InputError};
use crate::transport::cgminer::transport::{REPLY_LIMIT, TransportError, connect, io};

/// Sends one request and returns its reply, checked: `code` 0 is success, anything else is
/// the firmware's refusal with its message.
pub fn exchange(host: &str, port: u16, request: &Value, budget: Duration) -> Result<Value, InputError> {
    let place = format!("{host}:{port} `{}`", request.get("cmd").and_then(Value::as_str).unwrap_or("?"));
    let bytes =
        send(host, port, request.to_string().as_bytes(), budget).map_err(|e| InputError::from(e).context(&place))?;
    let reply: Value =
        serde_json::from_slice(&bytes).map_err(|e| InputError::invalid(format!("{place}: not JSON ({e})")))?;
    match reply.get("code").and_then(Value::as_i64) {
        Some(0) => Ok(reply),
        Some(code) => {
            let message = reply.get("msg").map(|m| m.to_string()).unwrap_or_default();
            Err(InputError::refused(format!("{place}: code {code} {message}")))
        }
        None => Err(InputError::new(ErrorKind::InvalidReply, format!("{place}: the reply has no `code`"))),
    }
}

fn send(host: &str, port: u16, body: &[u8], budget: Duration) -> Result<Vec<u8>, TransportError> {
    let deadline = Instant::now() + budget;
    let mut stream = connect(host, port, budget)?;
    stream.set_write_timeout(Some(budget)).map_err(io)?;
    let length = u32::try_from(body.len()).map_err(|_| TransportError::TooLarge)?;
    stream.write_all(&length.to_le_bytes()).map_err(io)?;
    stream.write_all(body).map_err(io)?;
    let mut header = [0u8; 4];
    read_exact(&mut stream, &mut header, deadline)?;
    let length = u32::from_le_bytes(header) as usize;
    if length > REPLY_LIMIT {
        return Err(TransportError::TooLarge);
    }
    if length == 0 {
        return Err(TransportError::Empty);
    }
    let mut reply = vec![0u8; length];
    read_exact(&mut stream, &mut reply, deadline)?;
    Ok(reply)
}

fn read_exact(stream: &mut std::net::TcpStream, buffer: &mut [u8], deadline: Instant) -> Result<(), TransportError> {
    let left =
        deadline.checked_duration_since(Instant::now()).filter(|d| !d.is_zero()).ok_or(TransportError::Timeout)?;
    stream.set_read_timeout(Some(left)).map_err(io)?;
    stream.read_exact(buffer).map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => TransportError::Empty,
        _ => io(e),
    })
}
