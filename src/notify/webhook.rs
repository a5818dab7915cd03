//! `webhook`: a JSON POST (`{title, message, unit, miner, event, at}`) that ntfy, Gotify,
//! Home Assistant webhooks and Discord-compatible relays accept.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use crate::config::spec::{ComponentSettings, TypeInfo, Typed};
use crate::duration::Span;
use crate::notify::{Event, Notifier, NotifierSettings};
use crate::transport::http::{Request, redact, send};

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    pub url: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub repeat_after: Option<Span>,
}

pub const TYPE: Typed<WebhookConfig> = Typed::new(TypeInfo::new(
    "webhook",
    "A JSON POST that ntfy, Gotify, Home Assistant webhooks and Discord-compatible relays accept.",
    "{id: ntfy, type: webhook, url: \"https://ntfy.example/miners\"}",
));

impl ComponentSettings for WebhookConfig {}

impl NotifierSettings for WebhookConfig {
    fn build(&self) -> Box<dyn Notifier> {
        Box::new(Webhook::new(self))
    }

    fn repeat_after(&self) -> Option<Span> {
        self.repeat_after
    }
}

pub struct Webhook {
    config: WebhookConfig,
}

impl Webhook {
    pub fn new(config: &WebhookConfig) -> Webhook {
        Webhook { config: config.clone() }
    }
}

impl Notifier for Webhook {
    fn send(&self, event: &Event, at: &str, budget: Duration) -> Result<(), String> {
        let body = json!({"title": event.title, "message": event.message, "unit": event.unit, "miner": event.miner,
                          "event": event.kind.name(), "at": at});
        let mut request = Request::new("POST", &self.config.url).json_body(&body);
        for (name, value) in &self.config.headers {
            request = request.header(name, value.clone());
        }
        let url = redact(&self.config.url);
        let response = send(&request, budget).map_err(|e| format!("webhook {url}: {e}"))?;
        if response.is_success() { Ok(()) } else { Err(format!("webhook {url} answered HTTP {}", response.status)) }
    }
}
