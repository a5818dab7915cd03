//! `telegram`: messages through the Telegram Bot API, in MarkdownV2, at most 4096 characters.

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use crate::config::secret::Secret;
use crate::config::spec::{ComponentSettings, SettingsCheck, TypeInfo, Typed};
use crate::duration::Span;
use crate::notify::{Event, Notifier, NotifierSettings};
use crate::transport::http::{Request, send};

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TelegramConfig {
    pub bot_token: Option<Secret>,
    #[schemars(with = "serde_json::Value")]
    pub chat_id: serde_yaml::Value,
    /// Default `https://api.telegram.org`.
    pub api_base_url: Option<String>,
    pub repeat_after: Option<Span>,
}

const LIMIT: usize = 4096;
const MARKER: &str = "\n…\\(truncated\\)";

pub const TYPE: Typed<TelegramConfig> = Typed::new(TypeInfo::new(
    "telegram",
    "Messages through the Telegram Bot API.",
    "{id: phone, type: telegram, bot_token_file: bot-token, chat_id: 123456789}",
));

impl ComponentSettings for TelegramConfig {
    fn check(&self, check: &mut SettingsCheck<'_>) {
        if self.bot_token.as_ref().is_none_or(Secret::is_empty) {
            check.error("", "a telegram notifier needs `bot_token` or `bot_token_file`");
        }
    }
}

impl NotifierSettings for TelegramConfig {
    fn build(&self) -> Box<dyn Notifier> {
        Box::new(Telegram::new(self))
    }

    fn repeat_after(&self) -> Option<Span> {
        self.repeat_after
    }
}

pub struct Telegram {
    config: TelegramConfig,
}

impl Telegram {
    pub fn new(config: &TelegramConfig) -> Telegram {
        Telegram { config: config.clone() }
    }
}

/// Escapes every character MarkdownV2 reserves.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if "_*[]()~`>#+-=|{}.!\\".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The message text: bold title, body; cut to the limit with a marker, never mid-escape.
pub fn message_text(event: &Event) -> String {
    let text = format!("*{}*\n{}", escape(&event.title), escape(&event.message));
    if text.chars().count() <= LIMIT {
        return text;
    }
    let keep = LIMIT - MARKER.chars().count();
    let mut cut: String = text.chars().take(keep).collect();
    let trailing = cut.chars().rev().take_while(|c| *c == '\\').count();
    if trailing % 2 == 1 {
        cut.pop();
    }
    cut + MARKER
}

impl Notifier for Telegram {
    fn send(&self, event: &Event, _at: &str, budget: Duration) -> Result<(), String> {
        let token = self.config.bot_token.as_ref().map(|t| t.expose().to_string()).unwrap_or_default();
        let base = self.config.api_base_url.as_deref().unwrap_or("https://api.telegram.org").trim_end_matches('/');
        let chat_id = serde_json::to_value(&self.config.chat_id).unwrap_or_default();
        let body = json!({"chat_id": chat_id, "text": message_text(event), "parse_mode": "MarkdownV2"});
        let request = Request::new("POST", &format!("{base}/bot{token}/sendMessage")).json_body(&body);
        // The token is in the URL: errors name the API, never the URL.
        let response = send(&request, budget).map_err(|e| format!("Telegram API: {e}"))?;
        if response.is_success() { Ok(()) } else { Err(format!("Telegram API answered HTTP {}", response.status)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::EventKind;

    fn event(message: &str) -> Event {
        Event {
            kind: EventKind::Stopped,
            subject: "s19".into(),
            unit: None,
            miner: Some("s19".into()),
            title: "Miner stopped: s19".into(),
            message: message.into(),
        }
    }

    #[test]
    fn escapes_markdown_v2() {
        assert_eq!(
            escape("a_b*c [d](e) 1.5! x-y #1 {z} |w| ~v~ `u` >t +s =r \\"),
            "a\\_b\\*c \\[d\\]\\(e\\) 1\\.5\\! x\\-y \\#1 \\{z\\} \\|w\\| \\~v\\~ \\`u\\` \\>t \\+s \\=r \\\\"
        );
        assert_eq!(message_text(&event("3.2 kW")), "*Miner stopped: s19*\n3\\.2 kW");
    }

    #[test]
    fn long_messages_are_cut_with_a_marker() {
        let text = message_text(&event(&".".repeat(5000)));
        assert_eq!(text.chars().count(), LIMIT.min(text.chars().count()));
        assert!(text.chars().count() <= LIMIT);
        assert!(text.ends_with(MARKER));
        let before_marker = &text[..text.len() - MARKER.len()];
        assert_eq!(before_marker.chars().rev().take_while(|c| *c == '\\').count() % 2, 0, "no dangling escape");
    }
}
