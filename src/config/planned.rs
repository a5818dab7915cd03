//! Config structs of the types whose clients are not built yet.
//!
//! The loader accepts them (so a config written for a later release parses, and an
//! unknown key is still caught) and `validate` reports each use as "not supported yet".
//! When a type is implemented, its struct moves into the file of its client.

use serde::Deserialize;

use crate::config::model::Headers;
use crate::config::secret::Secret;
use crate::duration::Span;

/// A type that takes no keys besides `id` and `type`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramNotifier {
    pub bot_token: Option<Secret>,
    pub chat_id: serde_yaml::Value,
    pub api_base_url: Option<String>,
    pub repeat_after: Option<Span>,
    pub timeout: Option<Span>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookNotifier {
    pub url: String,
    #[serde(default)]
    pub headers: Headers,
    pub repeat_after: Option<Span>,
    pub timeout: Option<Span>,
}
