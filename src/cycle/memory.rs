//! What the cycle remembers from earlier invocations, loaded once at the start: the
//! simulated world, the HTTP cache and backoff, rule timers, pending intents, the last state
//! change of each miner, sleep starts and observed statuses.

use std::collections::BTreeMap;

use crate::core::context::ControlFacts;
use crate::core::guards::SwitchingFacts;
use crate::core::status::MinerStatus;
use crate::rules::decide::Timers;
use crate::sim::SimWorld;
use crate::state::{CommandStats, Intent, Store};
use crate::transport::fetch::Fetcher;

pub struct Memory {
    pub world: SimWorld,
    /// What devices drew at their lever settings (SPEC §16.2).
    pub learned: crate::core::lever_model::LeverWatts,
    pub fetcher: Fetcher,
    pub timers: BTreeMap<(String, String), Timers>,
    pub intents: BTreeMap<String, Intent>,
    pub last_changes: BTreeMap<String, (String, i64)>,
    pub asleep: BTreeMap<String, i64>,
    /// Until when a manual command holds the rules off each miner.
    pub holds: BTreeMap<String, i64>,
    /// The latest decision row of each miner (and unit), extended while the decision stays the same.
    pub last_decisions: BTreeMap<(String, String), crate::state::DecisionRow>,
    pub observed: BTreeMap<String, (String, i64)>,
    pub stats: BTreeMap<String, CommandStats>,
    /// Each allocation unit's timers and probe (SPEC §17.4).
    pub allocation: BTreeMap<String, crate::core::allocation::AllocationState>,
    /// Home-load samples per series, oldest first (SPEC §18.1).
    pub samples: BTreeMap<String, Vec<crate::core::home_load::Sample>>,
    /// Each climate zone's last `heating_demand`.
    pub demands: BTreeMap<String, bool>,
    /// Each unit's mode setting (SPEC §21).
    pub modes: BTreeMap<String, crate::core::mode::ModeSetting>,
    /// (publisher, command topic) → the payload last read or published there.
    pub mqtt_seen: BTreeMap<(String, String), String>,
    /// Each publisher's discovery topics, as last published.
    pub discovery: BTreeMap<String, Vec<String>>,
}

impl Memory {
    /// `samples_since`: the oldest home-load sample a profile still needs.
    pub fn load(store: &Store, day_start: i64, samples_since: i64) -> rusqlite::Result<Memory> {
        let conn = &store.conn;
        Ok(Memory {
            world: crate::state::load_sim(conn)?,
            learned: crate::state::load_lever_watts(conn)?,
            fetcher: Fetcher::load(conn)?,
            timers: crate::state::load_timers(conn)?,
            intents: crate::state::load_intents(conn)?,
            last_changes: crate::state::load_last_changes(conn)?,
            asleep: crate::state::load_asleep(conn)?,
            holds: crate::state::load_holds(conn)?,
            last_decisions: crate::state::last_decisions(conn)?,
            observed: crate::state::load_observed(conn)?,
            stats: crate::state::all_command_stats(conn, day_start)?,
            allocation: crate::state::load_allocation(conn)?,
            samples: crate::state::load_samples(conn, samples_since)?,
            demands: crate::state::load_demands(conn)?,
            modes: crate::state::load_modes(conn)?,
            mqtt_seen: crate::state::load_mqtt_seen(conn)?,
            discovery: crate::state::load_mqtt_discovery(conn)?,
        })
    }

    /// When the miner entered its current state: the recorded change, else the first cycle
    /// that observed it, else now (a miner seen for the first time counts as just switched,
    /// so nothing is stopped early for `min_on` after the state was lost).
    pub fn state_since(&self, miner: &str, status: MinerStatus, now: i64) -> i64 {
        let matching =
            |entry: Option<&(String, i64)>| entry.filter(|(s, at)| s == status.name() && *at <= now).map(|(_, at)| *at);
        matching(self.last_changes.get(miner)).or_else(|| matching(self.observed.get(miner))).unwrap_or(now)
    }

    /// Whether the miner's pending command is a start (before this cycle's verification).
    pub fn pending_start(&self, miner: &str) -> bool {
        self.intents.get(miner).is_some_and(|intent| intent.command.starts())
    }

    pub fn switching(&self, miner: &str, status: MinerStatus, now: i64) -> SwitchingFacts {
        SwitchingFacts {
            last_change_at: Some(self.state_since(miner, status, now)),
            switches_today: self.stats.get(miner).map_or(0, |s| s.today),
            pending: self.intents.contains_key(miner),
            pending_up: self.intents.get(miner).is_some_and(|intent| {
                intent.command.starts() || intent.command == crate::core::command::CommandKind::SetPowerTarget
            }),
        }
    }

    /// The `control` section of a miner's context.
    pub fn control(&self, miner: &str, status: MinerStatus, now: i64, format: &dyn Fn(i64) -> String) -> ControlFacts {
        let since = self.state_since(miner, status, now);
        let last = self.stats.get(miner).and_then(|s| s.last.clone());
        ControlFacts {
            on_for: (status == MinerStatus::On).then_some(now - since),
            off_for: (status == MinerStatus::Off).then_some(now - since),
            switches_today: self.stats.get(miner).map_or(0, |s| s.today),
            last_action: last.as_ref().map(|(action, _)| action.clone()),
            last_action_at: last.as_ref().map(|(_, at)| format(*at)),
            pending: self.intents.contains_key(miner),
            pending_start: self.pending_start(miner),
        }
    }
}
