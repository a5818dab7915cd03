//! The CGMiner API (TCP 4028): the one transport every CGMiner-family controller uses, the
//! reply repairs, and the parsing of the standard replies into readings.

pub mod batch;
pub mod readings;
pub mod repair;
pub mod reply;
pub mod transport;

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;

use crate::transport::{Call, InputError};
use transport::{TransportError, exchange, request_line};

/// The replies of a multi-command, each in its single-command shape, by command.
pub type Replies = BTreeMap<String, Value>;

/// Why a multi-command read gave nothing.
pub enum Multi {
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
            let primed = call.primed.and_then(|primed| primed.take(self, &all));
            match primed.unwrap_or_else(|| self.multi(&all, call)) {
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

    fn multi(&self, commands: &[&str], call: &Call) -> Result<Replies, Multi> {
        let reply = self.exchange(&commands.join("+"), None, call);
        self.split(&reply, commands)
    }

    /// A multi-command's reply cut into its parts, or why it cannot be.
    fn split(&self, reply: &Result<Vec<u8>, TransportError>, commands: &[&str]) -> Result<Replies, Multi> {
        let reply = match reply {
            Ok(reply) => reply,
            Err(error @ (TransportError::Timeout | TransportError::Connect(_))) => {
                let joined = commands.join("+");
                return Err(Multi::Unreachable(
                    InputError::from(error.clone()).context(format_args!("{}:{} `{joined}`", self.host, self.port)),
                ));
            }
            Err(_) => return Err(Multi::Refused),
        };
        let mut value = repair::parse(reply).map_err(|_| Multi::Refused)?;
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

/// The one multi-command that reads all a monitor reads, when it needs nothing else: what the
/// cycle sends to every such miner at once, before the monitors run (`prime`).
pub struct Opening<'a> {
    pub client: &'a Client,
    pub commands: Vec<&'static str>,
    /// The time the exchange may take (the controller's timeout, cut by the deadline).
    pub budget: Duration,
}

/// The multi-command replies of a cycle read ahead by `prime`, each taken once by the
/// `Client::read` that would have asked for it.
#[derive(Default)]
pub struct Primed {
    replies: HashMap<Exchange, Mutex<Option<Result<Replies, Multi>>>>,
}

/// Which exchange a reply answers: host, port and the joined commands.
type Exchange = (String, u16, String);

fn exchange_of(client: &Client, commands: &[&str]) -> Exchange {
    (client.host.clone(), client.port, commands.join("+"))
}

impl std::fmt::Debug for Primed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Primed({} replies)", self.replies.len())
    }
}

impl Primed {
    /// The outcome read ahead for these commands to this client, if there is one.
    fn take(&self, client: &Client, commands: &[&str]) -> Option<Result<Replies, Multi>> {
        self.replies.get(&exchange_of(client, commands))?.lock().ok()?.take()
    }

    /// Whether this opening's reply was read ahead and is not a refusal of the multi-command:
    /// its monitor then needs no connection of its own.
    pub fn ready(&self, opening: &Opening) -> bool {
        let outcome = self.replies.get(&exchange_of(opening.client, &opening.commands));
        outcome.and_then(|o| o.lock().ok()).is_some_and(|o| !matches!(*o, Some(Err(Multi::Refused)) | None))
    }

    pub fn is_empty(&self) -> bool {
        self.replies.is_empty()
    }
}

/// Sends every opening at once over one poll loop (`batch`), at most `in_flight` open at a
/// time, then cuts the replies into parts on `workers` threads (`Primed::ready` tells which
/// monitors need no connection of their own). Openings to a host name rather than an address
/// are left out: resolving names one by one would hold up the loop.
pub fn prime(openings: &[Opening], in_flight: usize, workers: usize, deadline: std::time::Instant) -> Primed {
    let (indices, requests): (Vec<usize>, Vec<batch::Request>) = openings
        .iter()
        .enumerate()
        .filter_map(|(index, opening)| {
            let ip: std::net::IpAddr = opening.client.host.parse().ok()?;
            let line = request_line(&opening.commands.join("+"), None);
            let address = std::net::SocketAddr::new(ip, opening.client.port);
            Some((index, batch::Request { address, line, budget: opening.budget }))
        })
        .unzip();
    let replies: Vec<_> = batch::exchange_all(&requests, in_flight, deadline).into_iter().zip(indices).collect();
    let outcomes = crate::parallel::map(&replies, workers, |(reply, index)| {
        let opening = &openings[*index];
        (*index, opening.client.split(reply, &opening.commands))
    });
    let mut primed = Primed::default();
    for (index, outcome) in outcomes {
        let opening = &openings[index];
        primed.replies.insert(exchange_of(opening.client, &opening.commands), Mutex::new(Some(outcome)));
    }
    primed
}
