//! Transports: how bytes reach a device or a service, and what a call may cost.
//!
//! The call budget (`Call`) and the errors of the input path live here, below every
//! component kind, so a transport never imports the components that use it.

pub mod btminer;
pub mod cgminer;
pub mod extract;
pub mod fetch;
pub mod framed;
pub mod home_assistant;
pub mod http;
pub mod mqtt;

use std::time::{Duration, Instant};

/// The limits and clock of one call to a device.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    /// The cycle's instant (unix seconds; `--now` drives it).
    pub now: i64,
    /// No call may run past this.
    pub deadline: Instant,
    /// Bound on one request (connect, send, complete reply).
    pub timeout: Duration,
    /// The CGMiner replies this cycle has already read, all at once (`cgminer::prime`).
    pub primed: Option<&'a cgminer::Primed>,
}

impl<'a> Call<'a> {
    /// A call with nothing read ahead.
    pub fn new(now: i64, deadline: Instant, timeout: Duration) -> Call<'static> {
        Call { now, deadline, timeout, primed: None }
    }

    /// The same call, answered first from what was read ahead.
    pub fn with_primed(self, primed: &'a cgminer::Primed) -> Call<'a> {
        Call { primed: Some(primed), ..self }
    }

    /// The same call with a component's own `timeout`, if it sets one.
    pub fn with_timeout(self, timeout: Option<crate::duration::Span>) -> Call<'a> {
        Call { timeout: timeout.map_or(self.timeout, |t| t.0), ..self }
    }

    /// The time a request may take: its timeout, cut short by the deadline.
    pub fn budget(&self) -> Option<Duration> {
        let left = self.deadline.checked_duration_since(Instant::now())?;
        Some(left.min(self.timeout)).filter(|d| !d.is_zero())
    }
}

pub use crate::core::error::{ErrorKind, InputError};

/// A built component with its own `timeout`, applied once, to every call made through it.
pub struct Timed<T> {
    pub inner: T,
    pub timeout: Option<crate::duration::Span>,
}

impl<T> Timed<T> {
    /// The cycle's call with this component's timeout.
    pub fn call<'c>(&self, call: &Call<'c>) -> Call<'c> {
        call.with_timeout(self.timeout)
    }
}
