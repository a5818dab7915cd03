//! The CGMiner API (TCP 4028): the one transport every CGMiner-family controller uses, the
//! reply repairs, and the parsing of the standard replies into readings.

pub mod readings;
pub mod repair;
pub mod reply;
pub mod transport;

use std::collections::BTreeMap;

use serde_json::Value;

use crate::transport::{Call, InputError};
use transport::{TransportError, exchange, request_line};

/// Why a multi-command read gave nothing.
enum Multi {
    /// The miner did not answer: single commands would not fare better.
    Unreachable(InputError),
    /// The firmware does not do multi-commands (or garbled the reply): ask one by one.
    Refused,
}

/// A miner's CGMiner API endpoint.
#[derive(Debug, Clone)]
pub struct Client {
    pub host: String,
    pub port: u16,
}

impl Client {
    pub fn new(host: &str, port: u16) -> Client {
        Client { host: host.to_string(), port }
    }

    /// One command, its reply parsed and its STATUS checked.
    pub fn command(&self, command: &str, parameter: Option<&str>, call: &Call) -> Result<Value, InputError> {
        let reply = self.raw(command, parameter, call)?;
        let value = repair::parse(&reply).map_err(|e| InputError::invalid(format!("`{command}`: {e}")))?;
        reply::check_status(&value).map_err(|e| InputError::refused(format!("`{command}`: {e}")))?;
        Ok(value)
    }

    /// The raw reply bytes (for commands whose success may be a closed socket).
    pub fn raw(&self, command: &str, parameter: Option<&str>, call: &Call) -> Result<Vec<u8>, InputError> {
        let budget = call.budget().ok_or_else(InputError::deadline)?;
        exchange(&self.host, self.port, &request_line(command, parameter), budget)
            .map_err(|e| InputError::from(e).context(format_args!("{}:{} `{command}`", self.host, self.port)))
    }

    /// Like `raw`, but keeps the transport error for callers that interpret it.
    pub fn exchange(&self, command: &str, parameter: Option<&str>, call: &Call) -> Result<Vec<u8>, TransportError> {
        let budget = call.budget().ok_or(TransportError::Timeout)?;
        exchange(&self.host, self.port, &request_line(command, parameter), budget)
    }

    /// Read-only commands: one `a+b+c` request where the firmware allows it, else one
    /// connection per command. Each reply comes back in its single-command shape. A failing
    /// `required` command fails the read; a failing `optional` one is left out.
    pub fn read(
        &self,
        required: &[&str],
        optional: &[&str],
        call: &Call,
    ) -> Result<BTreeMap<String, Value>, InputError> {
        let all: Vec<&str> = required.iter().chain(optional).copied().collect();
        if all.len() > 1 {
            match self.multi(&all, call) {
                Ok(replies) => return Ok(replies),
                // A miner that does not answer will not answer single commands either.
                Err(Multi::Unreachable(error)) => return Err(error),
                Err(Multi::Refused) => {}
            }
        }
        let mut replies = BTreeMap::new();
        for command in required {
            replies.insert(command.to_string(), self.command(command, None, call)?);
        }
        for command in optional {
            if let Ok(reply) = self.command(command, None, call) {
                replies.insert(command.to_string(), reply);
            }
        }
        Ok(replies)
    }

    fn multi(&self, commands: &[&str], call: &Call) -> Result<BTreeMap<String, Value>, Multi> {
        let joined = commands.join("+");
        let reply = match self.exchange(&joined, None, call) {
            Ok(reply) => reply,
            Err(error @ (TransportError::Timeout | TransportError::Connect(_))) => {
                return Err(Multi::Unreachable(
                    InputError::from(error).context(format_args!("{}:{} `{joined}`", self.host, self.port)),
                ));
            }
            Err(_) => return Err(Multi::Refused),
        };
        let mut value = repair::parse(&reply).map_err(|_| Multi::Refused)?;
        let mut replies = BTreeMap::new();
        for command in commands {
            // Each part is moved out of the whole reply, not copied.
            let part = match value.get_mut(*command).map(Value::take) {
                Some(Value::Array(parts)) => parts.into_iter().next(),
                _ => None,
            }
            .ok_or(Multi::Refused)?;
            reply::check_status(&part).map_err(|_| Multi::Refused)?;
            replies.insert(command.to_string(), part);
        }
        Ok(replies)
    }
}
