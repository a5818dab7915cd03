//! The legacy GraphQL API of Braiins OS builds before the REST API (21.09-era BOS+):
//! `POST /graphql`, a login mutation that sets a `session_id` cookie, the autotuning power
//! target and its bounds from `bosminer.metadata`, and `updateAutotuning` to set it live.

use serde_json::{Value, json};

use crate::devices::{Applied, PowerTarget};
use crate::transport::http::{Request, send};
use crate::transport::{Call, InputError};

const LOGIN: &str = "mutation ($username: String!, $password: String!) { auth { login(username: $username, password: $password) { ... on VoidResult { void } ... on AuthError { message } } } }";

const TARGET: &str = "{ bosminer { config { ... on BosminerConfig { autotuning { mode powerTarget } } } info { summary { power { limitW } } } metadata { autotuning { powerTarget { default min max } } } } }";

const SET_TARGET: &str = "mutation ($limit: Int!) { bosminer { config { updateAutotuning(input: {powerTarget: $limit}, apply: true) { ... on AutotuningOut { autotuning { powerTarget } } ... on AutotuningError { message } } } } }";

/// One miner's GraphQL endpoint and its credentials.
pub struct Graphql<'a> {
    pub url: String,
    pub username: &'a str,
    pub password: &'a str,
}

impl Graphql<'_> {
    /// Posts one query; the reply's `data`, or the first of its `errors` as a refusal.
    fn post(&self, query: &str, variables: Value, session: Option<&str>, call: &Call) -> Result<Reply, InputError> {
        let mut request = Request::new("POST", &self.url).json_body(&json!({"query": query, "variables": variables}));
        if let Some(session) = session {
            request = request.header("Cookie", format!("session_id={session}"));
        }
        let budget = call.budget().ok_or_else(InputError::deadline)?;
        let response = send(&request, budget).map_err(|e| InputError::from(e).context("Braiins OS GraphQL"))?;
        match response.status {
            200..=299 => {}
            404 => {
                return Err(InputError::not_configured(
                    "this Braiins OS build has neither the REST API nor GraphQL: no power target",
                ));
            }
            401 | 403 => return Err(InputError::auth("Braiins OS GraphQL refused the session (check the password)")),
            status => return Err(InputError::refused(format!("Braiins OS GraphQL: HTTP {status}"))),
        }
        let body = response.json().map_err(|e| InputError::invalid(format!("Braiins OS GraphQL: {e}")))?;
        if let Some(message) = body.pointer("/errors/0/message").and_then(Value::as_str) {
            return Err(InputError::refused(format!("Braiins OS GraphQL: {message}")));
        }
        let cookie = response.header("Set-Cookie").and_then(session_of).map(str::to_string);
        Ok(Reply { data: body.get("data").cloned().unwrap_or(Value::Null), cookie })
    }

    /// Logs in; the session cookie to send with the next requests.
    fn login(&self, call: &Call) -> Result<String, InputError> {
        let variables = json!({"username": self.username, "password": self.password});
        let reply = self.post(LOGIN, variables, None, call)?;
        if let Some(message) = reply.data.pointer("/auth/login/message").and_then(Value::as_str) {
            return Err(InputError::auth(format!("Braiins OS GraphQL login: {message} (check username and password)")));
        }
        reply.cookie.ok_or_else(|| InputError::invalid("Braiins OS GraphQL login set no session_id cookie"))
    }

    /// The configured target (or the live limit while it scales) and its bounds.
    pub fn target(&self, call: &Call) -> Result<PowerTarget, InputError> {
        let session = self.login(call)?;
        let data = self.post(TARGET, json!({}), Some(&session), call)?.data;
        let number = |pointer: &str| data.pointer(pointer).and_then(Value::as_f64);
        let configured = number("/bosminer/config/autotuning/powerTarget");
        Ok(PowerTarget {
            watts: number("/bosminer/info/summary/power/limitW").or(configured),
            min: number("/bosminer/metadata/autotuning/powerTarget/min"),
            max: number("/bosminer/metadata/autotuning/powerTarget/max"),
            ..PowerTarget::default()
        })
    }

    /// `updateAutotuning(input: {powerTarget}, apply: true)`: applied live.
    pub fn set_target(&self, watts: f64, call: &Call) -> Result<Applied, InputError> {
        let session = self.login(call)?;
        let limit = watts.round() as i64;
        let data = self.post(SET_TARGET, json!({"limit": limit}), Some(&session), call)?.data;
        let result = data.pointer("/bosminer/config/updateAutotuning").cloned().unwrap_or(Value::Null);
        if let Some(message) = result.get("message").and_then(Value::as_str) {
            return Err(InputError::refused(format!("Braiins OS refused the power target {limit} W: {message}")));
        }
        let echoed = result.pointer("/autotuning/powerTarget").and_then(Value::as_f64);
        Ok(Applied { watts: echoed.unwrap_or(limit as f64), lever: None, restarts: false })
    }
}

struct Reply {
    data: Value,
    cookie: Option<String>,
}

/// The `session_id` of a `Set-Cookie` header.
fn session_of(header: &str) -> Option<&str> {
    header.split(';').find_map(|part| part.trim().strip_prefix("session_id=")).filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_session_comes_from_its_cookie() {
        assert_eq!(super::session_of("session_id=abc; Path=/; HttpOnly"), Some("abc"));
        assert_eq!(super::session_of("theme=dark; session_id=x1"), Some("x1"));
        assert_eq!(super::session_of("session_id=; Path=/"), None);
    }
}
