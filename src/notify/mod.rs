//! Notifications (SPEC §9): events of a cycle sent to Telegram or a webhook, at most once per
//! event and subject per `repeat_after` (remembered in the state database), and never able
//! to fail the cycle's control work.

pub mod telegram;
pub mod webhook;

use std::time::Duration;

use crate::config::model::{Config, NotifierKind};
use crate::state::{Store, last_notified, mark_notified};
use crate::transport::Call;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Started,
    Stopped,
    CommandFailed,
    NotEffective,
    InputUnavailable,
    AuthenticationError,
}

impl EventKind {
    pub fn name(self) -> &'static str {
        match self {
            EventKind::Started => "miner_started",
            EventKind::Stopped => "miner_stopped",
            EventKind::CommandFailed => "command_failed",
            EventKind::NotEffective => "command_not_effective",
            EventKind::InputUnavailable => "input_unavailable",
            EventKind::AuthenticationError => "authentication_error",
        }
    }
}

/// Something worth telling a person.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub kind: EventKind,
    /// What it is about (a miner, an input): de-duplication is per kind and subject.
    pub subject: String,
    pub unit: Option<String>,
    pub miner: Option<String>,
    pub title: String,
    pub message: String,
}

/// A way to reach a person.
pub trait Notifier {
    fn send(&self, event: &Event, at: &str, budget: Duration) -> Result<(), String>;
}

/// A configured notifier with its id and repeat interval.
pub struct Configured {
    pub id: String,
    pub repeat_after: i64,
    pub notifier: Box<dyn Notifier>,
}

const DEFAULT_REPEAT: i64 = 6 * 3600;

pub fn build(config: &Config) -> Vec<Configured> {
    config
        .notifiers
        .iter()
        .map(|n| {
            let (repeat_after, notifier): (Option<crate::duration::Span>, Box<dyn Notifier>) = match &n.kind {
                NotifierKind::Telegram(settings) => {
                    (settings.repeat_after, Box::new(telegram::Telegram::new(settings)))
                }
                NotifierKind::Webhook(settings) => (settings.repeat_after, Box::new(webhook::Webhook::new(settings))),
            };
            Configured {
                id: n.id.clone(),
                repeat_after: repeat_after.map_or(DEFAULT_REPEAT, |s| s.as_secs_i64()),
                notifier,
            }
        })
        .collect()
}

/// Sends each event to the notifiers of its units, skipping what was sent within
/// `repeat_after`. Returns warnings; failures never propagate.
pub fn deliver(
    store: &mut Store,
    notifiers: &[Configured],
    events: &[(Event, Vec<String>)],
    call: &Call,
    format: &dyn Fn(i64) -> String,
) -> Vec<String> {
    let mut warnings = Vec::new();
    let at = format(call.now);
    for (event, targets) in events {
        for configured in notifiers.iter().filter(|n| targets.contains(&n.id)) {
            let last = last_notified(&store.conn, &configured.id, event.kind.name(), &event.subject).ok().flatten();
            if last.is_some_and(|sent| sent <= call.now && call.now - sent < configured.repeat_after) {
                continue;
            }
            let Some(budget) = call.budget() else {
                warnings.push(format!("notifier `{}`: no time left in the cycle", configured.id));
                break;
            };
            match configured.notifier.send(event, &at, budget) {
                Ok(()) => {
                    if let Err(e) = store
                        .transaction(|c| mark_notified(c, &configured.id, event.kind.name(), &event.subject, call.now))
                    {
                        warnings.push(format!("notifier `{}`: {e}", configured.id));
                    }
                }
                Err(message) => warnings.push(format!("notifier `{}`: {message}", configured.id)),
            }
        }
    }
    warnings
}
