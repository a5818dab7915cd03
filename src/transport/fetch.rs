//! Cached, rate-limit-aware HTTP GETs for pools and forecast services (SPEC §6.2–6.3).
//!
//! The cache and each host's backoff live in the state database: they are loaded before a
//! cycle polls and saved after, so every later invocation honours them. The program never
//! sleeps through a backoff; while a host may not be asked, or when asking fails, the last
//! good reply is served if it is younger than `max_stale`, flagged stale.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::Connection;
use serde_json::Value;

use crate::state::{CachedReply, HostBackoff, load_backoff, load_cache, save_backoff, save_cache};
use crate::transport::Call;
use crate::transport::http::{HttpError, Request, Response, redact, send};

/// First backoff step, and the longest backoff.
const BACKOFF_BASE: f64 = 5.0;
const BACKOFF_CAP: i64 = 30 * 60;

/// How one kind of data may be fetched.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Seconds a cached reply is used without asking.
    pub ttl: i64,
    /// Spacing between requests to the same host, within and across cycles.
    pub min_interval: Duration,
    /// Oldest reply still served when the host cannot be asked.
    pub max_stale: i64,
}

/// A reply, from the host or the cache.
#[derive(Debug, Clone, PartialEq)]
pub struct Fetched {
    pub value: Value,
    /// Unix seconds when the host sent it.
    pub fetched_at: i64,
    /// True when it was served because the host could not be asked or failed.
    pub stale: bool,
}

/// Why a fresh reply could not be had.
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    /// Backing off (after 429 or errors) until this instant.
    Backoff { until: i64, reason: String },
    /// `min_interval` has not passed since the last request.
    Spacing,
    /// 401/403: the credentials are wrong; no backoff.
    Auth(String),
    /// Anything else: server error, timeout, garbage.
    Failed(String),
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Backoff { until, reason } => match crate::core::time::instant(*until) {
                Ok(instant) => write!(f, "backing off until {instant} after {reason}"),
                Err(_) => write!(f, "backing off after {reason}"),
            },
            Problem::Spacing => f.write_str("asked too recently (min_interval)"),
            Problem::Auth(m) => write!(f, "authentication error: {m}"),
            Problem::Failed(m) => f.write_str(m),
        }
    }
}

impl From<Problem> for crate::core::error::InputError {
    fn from(problem: Problem) -> Self {
        use crate::core::error::{ErrorKind, InputError};
        match problem {
            Problem::Backoff { until, reason } => match crate::core::time::instant(until) {
                Ok(until) => InputError::new(ErrorKind::Backoff { until }, reason),
                Err(error) => error.context("the backoff instant in the state database"),
            },
            Problem::Spacing => InputError::new(ErrorKind::Spacing, "asked too recently (min_interval)"),
            Problem::Auth(message) => InputError::auth(message),
            Problem::Failed(message) => InputError::invalid(message),
        }
    }
}

/// What a fetch produced: a reply (maybe stale), and the problem if a fresh one failed.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub fetched: Option<Fetched>,
    pub problem: Option<Problem>,
}

#[derive(Default)]
pub struct Fetcher {
    cache: Mutex<BTreeMap<String, CachedReply>>,
    backoff: Mutex<BTreeMap<String, HostBackoff>>,
    dirty_keys: Mutex<BTreeSet<String>>,
    dirty_hosts: Mutex<BTreeSet<String>>,
    /// Per host, the instant of this process's last request (spacing within a cycle).
    spacing: Mutex<BTreeMap<String, Arc<Mutex<Option<Instant>>>>>,
    /// Ask even when the cache is fresh (`tracker test`); backoff still holds.
    fresh: bool,
}

impl Fetcher {
    pub fn load(conn: &Connection) -> rusqlite::Result<Fetcher> {
        Ok(Fetcher {
            cache: Mutex::new(load_cache(conn)?),
            backoff: Mutex::new(load_backoff(conn)?),
            ..Fetcher::default()
        })
    }

    /// Writes what changed during the cycle.
    pub fn save(&self, conn: &Connection) -> rusqlite::Result<()> {
        let cache = self.cache.lock().map_err(poisoned)?;
        for key in self.dirty_keys.lock().map_err(poisoned)?.iter() {
            if let Some(reply) = cache.get(key) {
                save_cache(conn, key, reply)?;
            }
        }
        let backoff = self.backoff.lock().map_err(poisoned)?;
        for host in self.dirty_hosts.lock().map_err(poisoned)?.iter() {
            if let Some(state) = backoff.get(host) {
                save_backoff(conn, host, state)?;
            }
        }
        Ok(())
    }

    /// A fetcher that asks even when the cache is fresh.
    pub fn always_fresh(self) -> Fetcher {
        Fetcher { fresh: true, ..self }
    }

    /// The host's backoff as it stands (for reports and `state show`).
    pub fn backoff_of(&self, url: &str) -> Option<HostBackoff> {
        self.backoff.lock().ok()?.get(&host_of(url)).cloned()
    }

    /// Gets `request`; its URL is the cache key (pass `get_keyed` a key when the URL holds a secret).
    pub fn get(&self, request: &Request, policy: &Policy, call: &Call) -> Outcome {
        let key = redact(&request.url) + &query_of(&request.url);
        self.get_keyed(request, &key, policy, call)
    }

    /// Gets `request`, cached under `key`.
    pub fn get_keyed(&self, request: &Request, key: &str, policy: &Policy, call: &Call) -> Outcome {
        let now = call.now;
        let key = key.to_string();
        let host = host_of(&request.url);
        let cached = self.cache.lock().ok().and_then(|c| c.get(&key).cloned());
        if let Some(cached) = cached.as_ref().filter(|c| !self.fresh && (0..policy.ttl).contains(&(now - c.fetched_at)))
            && let Ok(value) = serde_json::from_slice(&cached.body)
        {
            return Outcome {
                fetched: Some(Fetched { value, fetched_at: cached.fetched_at, stale: false }),
                problem: None,
            };
        }
        let stale = |problem: Problem| Outcome {
            fetched: stale_copy(cached.as_ref(), now, policy.max_stale),
            problem: Some(problem),
        };
        let state = self.backoff.lock().ok().and_then(|b| b.get(&host).cloned()).unwrap_or_default();
        if state.next_allowed_at > now {
            let reason = state.reason.clone().unwrap_or_else(|| "errors".into());
            return stale(Problem::Backoff { until: state.next_allowed_at, reason });
        }
        let spacing = policy.min_interval.as_secs() as i64;
        if spacing > 0
            && state.last_request_at.is_some_and(|last| last <= now && now - last < spacing)
            && !self.asked_this_cycle(&host)
        {
            return stale(Problem::Spacing);
        }
        let Some(budget) = self.wait_for_turn(&host, policy.min_interval, call) else {
            return stale(Problem::Failed("no time left in the cycle to ask".into()));
        };
        let result = send(request, budget);
        match self.settle(&host, &key, result, now) {
            Ok(fetched) => Outcome { fetched: Some(fetched), problem: None },
            Err(problem) => stale(problem),
        }
    }

    /// For a service reached by another protocol (an MQTT broker, keyed `mqtt://host:port`):
    /// until when it is backed off after its failures (§6.3), and why.
    pub fn backed_off(&self, host: &str, now: i64) -> Option<(i64, String)> {
        let state = self.backoff.lock().ok()?.get(host).cloned()?;
        (state.next_allowed_at > now).then(|| (state.next_allowed_at, state.reason.unwrap_or_else(|| "errors".into())))
    }

    /// Records such a service's outcome: a success resets its counters, a failure backs it
    /// off, refused credentials do not (they are reported every cycle until fixed).
    pub fn settle_other(&self, host: &str, now: i64, failure: Option<&crate::core::error::InputError>) {
        let Ok(mut backoffs) = self.backoff.lock() else { return };
        let state = backoffs.entry(host.to_string()).or_default();
        match failure {
            None => *state = HostBackoff { last_request_at: Some(now), ..HostBackoff::default() },
            Some(error) if error.kind == crate::core::error::ErrorKind::Authentication => {}
            Some(error) => {
                state.last_request_at = Some(now);
                back_off(state, now, None, &error.message, false);
            }
        }
        self.mark_host(host);
    }

    fn asked_this_cycle(&self, host: &str) -> bool {
        self.spacing
            .lock()
            .ok()
            .and_then(|s| s.get(host).cloned())
            .is_some_and(|slot| slot.lock().is_ok_and(|last| last.is_some()))
    }

    /// Within a cycle, requests to one host go one after another, `min_interval` apart.
    fn wait_for_turn(&self, host: &str, min_interval: Duration, call: &Call) -> Option<Duration> {
        let slot = self.spacing.lock().ok()?.entry(host.to_string()).or_default().clone();
        let mut last = slot.lock().ok()?;
        if let Some(previous) = *last {
            let wait = min_interval.saturating_sub(previous.elapsed());
            if call.deadline.checked_duration_since(Instant::now())? <= wait {
                return None;
            }
            std::thread::sleep(wait);
        }
        *last = Some(Instant::now());
        call.budget()
    }

    /// Records the outcome of a request: cache and counters.
    fn settle(&self, host: &str, key: &str, result: Result<Response, HttpError>, now: i64) -> Result<Fetched, Problem> {
        let mut backoffs = self.backoff.lock().map_err(|_| Problem::Failed("internal lock poisoned".into()))?;
        let state = backoffs.entry(host.to_string()).or_default();
        state.last_request_at = Some(now);
        self.mark_host(host);
        let response = match result {
            Ok(response) => response,
            Err(err) => return Err(back_off(state, now, None, &err.to_string(), false)),
        };
        match response.status {
            200..=299 => match response.json() {
                Ok(value) => {
                    *state = HostBackoff { last_request_at: Some(now), ..HostBackoff::default() };
                    if let Ok(mut cache) = self.cache.lock() {
                        cache.insert(key.to_string(), CachedReply { fetched_at: now, body: response.body });
                        self.mark_key(key);
                    }
                    Ok(Fetched { value, fetched_at: now, stale: false })
                }
                Err(message) => Err(back_off(state, now, None, &message, false)),
            },
            429 => {
                let retry_after = response.header("retry-after").and_then(|v| retry_after_seconds(v, now));
                Err(back_off(state, now, retry_after, "HTTP 429 (rate limited)", true))
            }
            401 | 403 => Err(Problem::Auth(format!("HTTP {} from {host}", response.status))),
            500..=599 => Err(back_off(state, now, None, &format!("HTTP {}", response.status), false)),
            status => Err(Problem::Failed(format!("HTTP {status} from {host}"))),
        }
    }

    fn mark_host(&self, host: &str) {
        if let Ok(mut dirty) = self.dirty_hosts.lock() {
            dirty.insert(host.to_string());
        }
    }

    fn mark_key(&self, key: &str) {
        if let Ok(mut dirty) = self.dirty_keys.lock() {
            dirty.insert(key.to_string());
        }
    }
}

fn poisoned<T>(_: T) -> rusqlite::Error {
    rusqlite::Error::InvalidQuery
}

/// The cached reply, flagged stale, if it is not older than `max_stale`.
fn stale_copy(cached: Option<&CachedReply>, now: i64, max_stale: i64) -> Option<Fetched> {
    let cached = cached?;
    let age = (now - cached.fetched_at).max(0);
    if age > max_stale {
        return None;
    }
    let value = serde_json::from_slice(&cached.body).ok()?;
    Some(Fetched { value, fetched_at: cached.fetched_at, stale: true })
}

/// `next_allowed_at = now + max(base × 2^(n−1) × jitter, Retry-After)`, capped; each kind
/// of failure with its own counter.
fn back_off(state: &mut HostBackoff, now: i64, retry_after: Option<i64>, reason: &str, rate_limited: bool) -> Problem {
    let failures = if rate_limited {
        state.rate_limited += 1;
        state.rate_limited
    } else {
        state.errors += 1;
        state.errors
    };
    let delay = backoff_delay(failures, jitter(now, failures)).max(retry_after.unwrap_or(0)).min(BACKOFF_CAP);
    state.next_allowed_at = now + delay;
    state.reason = Some(reason.to_string());
    Problem::Backoff { until: state.next_allowed_at, reason: reason.to_string() }
}

pub fn backoff_delay(failures: u32, jitter: f64) -> i64 {
    let exponent = failures.saturating_sub(1).min(20) as i32;
    ((BACKOFF_BASE * 2f64.powi(exponent) * jitter).round() as i64).clamp(1, BACKOFF_CAP)
}

/// A factor in 0.8–1.2 that differs between hosts' attempts.
fn jitter(now: i64, failures: u32) -> f64 {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    0.8 + 0.4 * crate::sim::noise(now as u64 ^ u64::from(nanos) ^ u64::from(failures))
}

/// `Retry-After` as seconds from now: a number of seconds or an HTTP date.
pub fn retry_after_seconds(value: &str, now: i64) -> Option<i64> {
    if let Ok(seconds) = value.trim().parse::<i64>() {
        return Some(seconds.max(0));
    }
    let at = jiff::fmt::rfc2822::DateTimeParser::new().parse_timestamp(value.trim()).ok()?;
    Some((at.as_second() - now).max(0))
}

/// `scheme://host:port` of a URL: backoff is per host.
pub fn host_of(url: &str) -> String {
    let redacted = redact(url);
    let (scheme, rest) = redacted.split_once("://").unwrap_or(("", &redacted));
    format!("{scheme}://{}", rest.split('/').next().unwrap_or_default())
}

/// The query string, kept in cache keys (it selects the data); secrets never go there.
fn query_of(url: &str) -> String {
    url.split_once('?').map(|(_, q)| format!("?{q}")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff_delay(1, 1.0), 5);
        assert_eq!(backoff_delay(2, 1.0), 10);
        assert_eq!(backoff_delay(4, 1.0), 40);
        assert_eq!(backoff_delay(30, 1.2), BACKOFF_CAP);
        assert_eq!(backoff_delay(1, 0.8), 4);
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        assert_eq!(retry_after_seconds("600", 0), Some(600));
        let now = crate::core::time::parse_instant("2026-06-21T12:00:00Z").unwrap().as_second();
        assert_eq!(retry_after_seconds("Sun, 21 Jun 2026 12:10:00 GMT", now), Some(600));
        assert_eq!(retry_after_seconds("Sun, 21 Jun 2026 11:00:00 GMT", now), Some(0));
        assert_eq!(retry_after_seconds("soon", now), None);
    }

    #[test]
    fn hosts_and_keys() {
        assert_eq!(host_of("https://api.ocean.xyz/v1/user_hashrate/bc1q"), "https://api.ocean.xyz");
        assert_eq!(host_of("http://127.0.0.1:8080/x?y=1"), "http://127.0.0.1:8080");
    }

    #[test]
    fn backoff_keeps_separate_counters() {
        let mut state = HostBackoff::default();
        back_off(&mut state, 1000, Some(600), "HTTP 429", true);
        assert_eq!((state.rate_limited, state.errors, state.next_allowed_at), (1, 0, 1600));
        back_off(&mut state, 2000, None, "HTTP 503", false);
        assert_eq!((state.rate_limited, state.errors), (1, 1));
        assert!((2004..=2006).contains(&state.next_allowed_at));
    }
}
