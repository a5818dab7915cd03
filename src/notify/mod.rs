//! Notifications (SPEC §9): events of a cycle sent to Telegram or a webhook, at most once per
//! event and subject per `repeat_after` (remembered in the state database), and never able
//! to fail the cycle's control work. Each notifier type is one file and one line in `TYPES`.

pub mod telegram;
pub mod webhook;

use std::time::Duration;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use crate::config::model::Config;
use crate::config::spec::{ComponentSettings, ComponentType, Typed};
use crate::duration::Span;
use crate::state::{Store, last_notified, mark_notified};
use crate::transport::Call;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Started,
    Stopped,
    CommandFailed,
    NotEffective,
    /// A power target the miner did not follow, even after a retry.
    TargetNotEffective,
    InputUnavailable,
    AuthenticationError,
    /// Sent by `notifier test ID`, to see that messages arrive.
    Test,
}

impl EventKind {
    pub fn name(self) -> &'static str {
        match self {
            EventKind::Started => "miner_started",
            EventKind::Stopped => "miner_stopped",
            EventKind::CommandFailed => "command_failed",
            EventKind::NotEffective => "command_not_effective",
            EventKind::TargetNotEffective => "target_not_effective",
            EventKind::InputUnavailable => "input_unavailable",
            EventKind::AuthenticationError => "authentication_error",
            EventKind::Test => "test",
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

/// Every notifier type, in the order `types` and the schema list them.
pub const TYPES: &[&dyn NotifierType] = &[&telegram::TYPE, &webhook::TYPE];

/// A notifier type: what the loader needs, plus how to build a notifier.
pub trait NotifierType: ComponentType {
    /// The notifier and its `repeat_after`.
    fn build(&self, settings: &dyn ComponentSettings) -> Option<(Box<dyn Notifier>, Option<Span>)>;
}

/// The settings struct of a notifier type.
pub trait NotifierSettings: ComponentSettings + DeserializeOwned + JsonSchema {
    fn build(&self) -> Box<dyn Notifier>;
    /// How long an event and subject stay quiet after being sent.
    fn repeat_after(&self) -> Option<Span>;
}

impl<S: NotifierSettings> NotifierType for Typed<S> {
    fn build(&self, settings: &dyn ComponentSettings) -> Option<(Box<dyn Notifier>, Option<Span>)> {
        let settings = settings.downcast::<S>()?;
        Some((settings.build(), settings.repeat_after()))
    }
}

/// A configured notifier with its id, repeat interval and own `timeout`.
pub struct Configured {
    pub id: String,
    pub repeat_after: i64,
    pub timeout: Option<Span>,
    pub notifier: Box<dyn Notifier>,
}

const DEFAULT_REPEAT: i64 = 6 * 3600;

pub fn build(config: &Config) -> Vec<Configured> {
    let mut built = Vec::new();
    for notifier in &config.notifiers {
        let Some(kind) = TYPES.iter().find(|t| t.info().name == notifier.type_name) else { continue };
        let Some((sender, repeat_after)) = kind.build(notifier.settings.as_ref()) else { continue };
        built.push(Configured {
            id: notifier.id.clone(),
            repeat_after: repeat_after.map_or(DEFAULT_REPEAT, |s| s.as_secs_i64()),
            timeout: notifier.timeout,
            notifier: sender,
        });
    }
    built
}

/// Sends a test message through one notifier, now (no de-duplication): what `notifier test`
/// reports.
pub fn send_test(configured: &Configured, call: &Call, at: &str) -> Result<(), String> {
    let event = Event {
        kind: EventKind::Test,
        subject: "test".into(),
        unit: None,
        miner: None,
        title: "edge-mining test message".into(),
        message: format!("Notifier {} works: edge-mining's messages will arrive here.", configured.id),
    };
    let budget = call.with_timeout(configured.timeout).budget().ok_or("no time left before the deadline")?;
    configured.notifier.send(&event, at, budget)
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
            let Some(budget) = call.with_timeout(configured.timeout).budget() else {
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
