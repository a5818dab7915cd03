//! `home_assistant`: a Home Assistant instance, reached through its REST API with a
//! long-lived access token.

use serde::Deserialize;

use crate::config::secret::Secret;
use crate::config::spec::{ComponentSettings, SettingsCheck, TypeInfo, Typed};
use crate::duration::Span;
use crate::transport::home_assistant::Client;

pub const TYPE: Typed<HomeAssistantService> = Typed::new(TypeInfo::new(
    "home_assistant",
    "A Home Assistant instance (REST API, long-lived access token).",
    "{id: ha, type: home_assistant, url: \"http://homeassistant.local:8123\", token_file: ha-token}",
));

/// A `services:` entry of type `home_assistant`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HomeAssistantService {
    /// e.g. `http://homeassistant.local:8123`
    pub url: String,
    /// A long-lived access token (Profile → Security in Home Assistant).
    pub token: Option<Secret>,
    /// Accept a self-signed certificate on the LAN.
    #[serde(default)]
    pub insecure: bool,
}

impl HomeAssistantService {
    /// A client of this service, with the component's `timeout`.
    pub fn client(&self, timeout: Option<Span>) -> Client {
        let token = self.token.as_ref().map(Secret::expose).unwrap_or_default();
        Client::new(&self.url, token, self.insecure, timeout)
    }
}

impl ComponentSettings for HomeAssistantService {
    fn check(&self, check: &mut SettingsCheck<'_>) {
        if self.token.as_ref().is_none_or(Secret::is_empty) {
            check.error("", "a home_assistant service needs `token` or `token_file`");
        }
    }
}
