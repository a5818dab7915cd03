//! Typed reads and writes of the state tables. Every statement binds its parameters.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, params};

use crate::core::allocation::AllocationState;
use crate::core::command::CommandKind;
use crate::core::home_load::Sample;

use crate::rules::decide::Timers;
use crate::sim::{Phase, SimBattery, SimDevice, SimWorld};

pub fn load_sim(conn: &Connection) -> rusqlite::Result<SimWorld> {
    let mut devices = BTreeMap::new();
    let mut statement =
        conn.prepare_cached("SELECT id, phase, since, settles_at, relay_on, target, target_since FROM sim_device")?;
    let rows = statement.query_map([], |r| {
        let phase = Phase::parse(&r.get::<_, String>(1)?).unwrap_or(Phase::Off);
        let device = SimDevice {
            phase,
            since: r.get(2)?,
            settles_at: r.get(3)?,
            relay_on: r.get(4)?,
            target: r.get::<_, Option<f64>>(5)?.filter(|w| w.is_finite()),
            target_since: r.get(6)?,
        };
        Ok((r.get::<_, String>(0)?, device))
    })?;
    for row in rows {
        let (id, device) = row?;
        devices.insert(id, device);
    }
    let mut batteries = BTreeMap::new();
    let mut statement = conn.prepare_cached("SELECT source, soc, at FROM sim_battery")?;
    for row in statement.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, f64>(1)?, r.get::<_, i64>(2)?)))? {
        let (source, soc, at) = row?;
        let soc = if soc.is_finite() { soc.clamp(0.0, 100.0) } else { 50.0 };
        batteries.insert(source, SimBattery { soc, at });
    }
    Ok(SimWorld::new(devices, batteries))
}

pub fn save_sim(conn: &Connection, world: &SimWorld) -> rusqlite::Result<()> {
    let mut device = conn.prepare_cached(
        "INSERT INTO sim_device (id, phase, since, settles_at, relay_on, target, target_since) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (id) DO UPDATE SET phase = ?2, since = ?3, settles_at = ?4, relay_on = ?5, target = ?6, target_since = ?7",
    )?;
    for (id, state) in world.devices() {
        let row = params![
            id,
            state.phase.name(),
            state.since,
            state.settles_at,
            state.relay_on,
            state.target,
            state.target_since
        ];
        device.execute(row)?;
    }
    let mut battery = conn.prepare_cached(
        "INSERT INTO sim_battery (source, soc, at) VALUES (?1, ?2, ?3)
         ON CONFLICT (source) DO UPDATE SET soc = ?2, at = ?3",
    )?;
    for (source, state) in world.batteries() {
        battery.execute(params![source, state.soc, state.at])?;
    }
    Ok(())
}

/// Every `for:` timer, by (unit, miner).
pub fn load_timers(conn: &Connection) -> rusqlite::Result<BTreeMap<(String, String), Timers>> {
    let mut timers: BTreeMap<(String, String), Timers> = BTreeMap::new();
    let mut statement = conn.prepare_cached("SELECT unit, miner, rule, since FROM rule_timer")?;
    let rows = statement.query_map([], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)?))
    })?;
    for row in rows {
        let (unit, miner, rule, since) = row?;
        timers.entry((unit, miner)).or_default().insert(rule, since);
    }
    Ok(timers)
}

/// Each allocation unit's state. A row that does not parse is reported and dropped: its
/// timers restart, nothing else is lost.
pub fn load_allocation(conn: &Connection) -> rusqlite::Result<BTreeMap<String, AllocationState>> {
    let mut statement = conn.prepare_cached("SELECT unit, state FROM allocation_state")?;
    let rows = statement.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    let mut states = BTreeMap::new();
    for row in rows {
        let (unit, text) = row?;
        match serde_json::from_str(&text) {
            Ok(state) => drop(states.insert(unit, state)),
            Err(error) => {
                log::warn!("state: the allocation state of unit `{unit}` is unreadable ({error}); its timers restart")
            }
        }
    }
    Ok(states)
}

pub fn save_allocation(conn: &Connection, unit: &str, state: &AllocationState) -> rusqlite::Result<()> {
    let text = serde_json::to_string(state).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    conn.prepare_cached(
        "INSERT INTO allocation_state (unit, state) VALUES (?1, ?2) ON CONFLICT (unit) DO UPDATE SET state = ?2",
    )?
    .execute(params![unit, text])?;
    Ok(())
}

/// Every home-load sample taken since `since`, per series, oldest first.
pub fn load_samples(conn: &Connection, since: i64) -> rusqlite::Result<BTreeMap<String, Vec<Sample>>> {
    let mut statement =
        conn.prepare_cached("SELECT series, at, watts FROM load_sample WHERE at >= ?1 ORDER BY series, at")?;
    let rows = statement
        .query_map(params![since], |r| Ok((r.get::<_, String>(0)?, Sample { at: r.get(1)?, watts: r.get(2)? })))?;
    let mut samples: BTreeMap<String, Vec<Sample>> = BTreeMap::new();
    for row in rows {
        let (series, sample) = row?;
        samples.entry(series).or_default().push(sample);
    }
    Ok(samples)
}

pub fn save_sample(conn: &Connection, series: &str, sample: Sample) -> rusqlite::Result<()> {
    conn.prepare_cached("INSERT OR REPLACE INTO load_sample (series, at, watts) VALUES (?1, ?2, ?3)")?
        .execute(params![series, sample.at, sample.watts])?;
    Ok(())
}

/// SPEC §24: samples older than `before` (an hour boundary) are kept hourly: each hour that
/// still has raw samples becomes one sample at its start, their mean.
pub fn compact_samples(conn: &Connection, before: i64) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO load_sample (series, at, watts)
         SELECT series, (at / 3600) * 3600 AS hour, AVG(watts) FROM load_sample
         WHERE at < ?1 GROUP BY series, hour HAVING SUM(at % 3600 != 0) > 0",
    )?
    .execute(params![before])?;
    conn.prepare_cached("DELETE FROM load_sample WHERE at < ?1 AND at % 3600 != 0")?.execute(params![before])?;
    Ok(())
}

pub fn prune_samples(conn: &Connection, before: i64) -> rusqlite::Result<usize> {
    conn.prepare_cached("DELETE FROM load_sample WHERE at < ?1")?.execute(params![before])
}

/// Each climate zone's last `heating_demand`.
pub fn load_demands(conn: &Connection) -> rusqlite::Result<BTreeMap<String, bool>> {
    let mut statement = conn.prepare_cached("SELECT zone, demand FROM heating_demand")?;
    let rows = statement.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, bool>(1)?)))?;
    rows.collect()
}

pub fn save_demand(conn: &Connection, zone: &str, demand: bool, at: i64) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO heating_demand (zone, demand, at) VALUES (?1, ?2, ?3) ON CONFLICT (zone) DO UPDATE SET demand = ?2, at = ?3",
    )?
    .execute(params![zone, demand, at])?;
    Ok(())
}

/// Every controller's learned watts per lever setting, settings in order.
pub fn load_lever_watts(conn: &Connection) -> rusqlite::Result<crate::core::lever_model::LeverWatts> {
    let mut statement = conn
        .prepare_cached("SELECT controller, setting, watts, samples FROM lever_watts ORDER BY controller, setting")?;
    let rows = statement.query_map([], |r| {
        let learned = crate::core::lever_model::Learned { watts: r.get(2)?, samples: r.get(3)? };
        Ok((r.get::<_, String>(0)?, r.get::<_, f64>(1)?, learned))
    })?;
    let mut model = crate::core::lever_model::LeverWatts::new();
    for row in rows {
        let (controller, setting, learned) = row?;
        model.entry(controller).or_default().push((setting, learned));
    }
    Ok(model)
}

/// One more reading of what `controller` draws at `setting`, averaged into what was learned.
pub fn learn_lever_watts(
    conn: &Connection,
    controller: &str,
    setting: f64,
    watts: f64,
    at: i64,
) -> rusqlite::Result<()> {
    let previous = conn
        .prepare_cached("SELECT watts, samples FROM lever_watts WHERE controller = ?1 AND setting = ?2")?
        .query_row(params![controller, setting], |r| {
            Ok(crate::core::lever_model::Learned { watts: r.get(0)?, samples: r.get(1)? })
        })
        .optional()?;
    let learned = crate::core::lever_model::learn(previous, watts);
    conn.prepare_cached(
        "INSERT OR REPLACE INTO lever_watts (controller, setting, watts, samples, at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![controller, setting, learned.watts, learned.samples, at])?;
    Ok(())
}

/// One cycle's inputs of an energy source, W and %.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct EnergyRow {
    pub production: Option<f64>,
    pub consumption: Option<f64>,
    pub grid: Option<f64>,
    pub battery_soc: Option<f64>,
    pub battery_power: Option<f64>,
}

pub fn save_energy_trace(conn: &Connection, source: &str, at: i64, row: &EnergyRow) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO energy_trace (source, at, production, consumption, grid, battery_soc, battery_power)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        source,
        at,
        row.production,
        row.consumption,
        row.grid,
        row.battery_soc,
        row.battery_power
    ])?;
    Ok(())
}

pub fn save_miner_trace(
    conn: &Connection,
    miner: &str,
    at: i64,
    power: Option<f64>,
    hashrate: Option<f64>,
) -> rusqlite::Result<()> {
    conn.prepare_cached("INSERT OR REPLACE INTO miner_trace (miner, at, power, hashrate) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![miner, at, power, hashrate])?;
    Ok(())
}

/// A source's trace in `[from, to)`, oldest first.
pub fn load_energy_trace(
    conn: &Connection,
    source: &str,
    from: i64,
    to: i64,
) -> rusqlite::Result<Vec<(i64, EnergyRow)>> {
    let mut statement = conn.prepare_cached(
        "SELECT at, production, consumption, grid, battery_soc, battery_power FROM energy_trace
         WHERE source = ?1 AND at >= ?2 AND at < ?3 ORDER BY at",
    )?;
    let rows = statement.query_map(params![source, from, to], |r| {
        let row = EnergyRow {
            production: r.get(1)?,
            consumption: r.get(2)?,
            grid: r.get(3)?,
            battery_soc: r.get(4)?,
            battery_power: r.get(5)?,
        };
        Ok((r.get(0)?, row))
    })?;
    rows.collect()
}

/// The summed measured power of `miners` at each instant of `[from, to)`.
pub fn load_miners_power(
    conn: &Connection,
    miners: &[String],
    from: i64,
    to: i64,
) -> rusqlite::Result<BTreeMap<i64, f64>> {
    let mut statement =
        conn.prepare_cached("SELECT at, power FROM miner_trace WHERE miner = ?1 AND at >= ?2 AND at < ?3")?;
    let mut sums = BTreeMap::new();
    for miner in miners {
        for row in
            statement.query_map(params![miner, from, to], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Option<f64>>(1)?)))?
        {
            let (at, power) = row?;
            *sums.entry(at).or_insert(0.0) += power.unwrap_or(0.0);
        }
    }
    Ok(sums)
}

/// Traces older than `before` (an hour boundary) are kept hourly, their means; older than
/// `prune_before` not at all.
pub fn compact_traces(conn: &Connection, before: i64, prune_before: i64) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO energy_trace (source, at, production, consumption, grid, battery_soc, battery_power)
         SELECT source, (at / 3600) * 3600 AS hour, AVG(production), AVG(consumption), AVG(grid), AVG(battery_soc),
                AVG(battery_power)
         FROM energy_trace WHERE at < ?1 GROUP BY source, hour HAVING SUM(at % 3600 != 0) > 0",
    )?
    .execute(params![before])?;
    conn.prepare_cached("DELETE FROM energy_trace WHERE (at < ?1 AND at % 3600 != 0) OR at < ?2")?
        .execute(params![before, prune_before])?;
    conn.prepare_cached(
        "INSERT OR REPLACE INTO miner_trace (miner, at, power, hashrate)
         SELECT miner, (at / 3600) * 3600 AS hour, AVG(power), AVG(hashrate)
         FROM miner_trace WHERE at < ?1 GROUP BY miner, hour HAVING SUM(at % 3600 != 0) > 0",
    )?
    .execute(params![before])?;
    conn.prepare_cached("DELETE FROM miner_trace WHERE (at < ?1 AND at % 3600 != 0) OR at < ?2")?
        .execute(params![before, prune_before])?;
    Ok(())
}

/// Each unit's mode setting.
pub fn load_modes(conn: &Connection) -> rusqlite::Result<BTreeMap<String, crate::core::mode::ModeSetting>> {
    let mut statement = conn.prepare_cached("SELECT unit, mode, at, until FROM unit_mode")?;
    let rows = statement.query_map([], |r| {
        let mode = crate::core::mode::UnitMode::parse(&r.get::<_, String>(1)?).unwrap_or_default();
        Ok((r.get::<_, String>(0)?, crate::core::mode::ModeSetting { mode, at: r.get(2)?, until: r.get(3)? }))
    })?;
    rows.collect()
}

pub fn save_mode(conn: &Connection, unit: &str, setting: &crate::core::mode::ModeSetting) -> rusqlite::Result<()> {
    conn.prepare_cached("INSERT OR REPLACE INTO unit_mode (unit, mode, at, until) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![unit, setting.mode.name(), setting.at, setting.until])?;
    Ok(())
}

/// (publisher, topic) → the command payload last read or published there.
pub fn load_mqtt_seen(conn: &Connection) -> rusqlite::Result<BTreeMap<(String, String), String>> {
    let mut statement = conn.prepare_cached("SELECT publisher, topic, payload FROM mqtt_seen")?;
    let rows = statement.query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))?;
    rows.collect()
}

pub fn save_mqtt_seen(conn: &Connection, publisher: &str, topic: &str, payload: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("INSERT OR REPLACE INTO mqtt_seen (publisher, topic, payload) VALUES (?1, ?2, ?3)")?
        .execute(params![publisher, topic, payload])?;
    Ok(())
}

/// Each publisher's discovery topics, as last published.
pub fn load_mqtt_discovery(conn: &Connection) -> rusqlite::Result<BTreeMap<String, Vec<String>>> {
    let mut statement = conn.prepare_cached("SELECT publisher, topic FROM mqtt_discovery ORDER BY publisher, topic")?;
    let rows = statement.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    let mut topics: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in rows {
        let (publisher, topic) = row?;
        topics.entry(publisher).or_default().push(topic);
    }
    Ok(topics)
}

/// Replaces the discovery topics a publisher has published.
pub fn save_mqtt_discovery(conn: &Connection, publisher: &str, topics: &[String]) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM mqtt_discovery WHERE publisher = ?1")?.execute(params![publisher])?;
    let mut insert = conn.prepare_cached("INSERT OR IGNORE INTO mqtt_discovery (publisher, topic) VALUES (?1, ?2)")?;
    for topic in topics {
        insert.execute(params![publisher, topic])?;
    }
    Ok(())
}

/// Controllers whose thermal management a target write paused and may not have restored:
/// (controller, miner, since).
pub fn load_thermal_restores(conn: &Connection) -> rusqlite::Result<Vec<(String, String, i64)>> {
    let mut statement = conn.prepare_cached("SELECT controller, miner, since FROM thermal_restore")?;
    let rows = statement.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    rows.collect()
}

pub fn set_thermal_restore(
    conn: &Connection,
    controller: &str,
    miner: &str,
    since: Option<i64>,
) -> rusqlite::Result<()> {
    match since {
        Some(since) => conn
            .prepare_cached("INSERT OR REPLACE INTO thermal_restore (controller, miner, since) VALUES (?1, ?2, ?3)")?
            .execute(params![controller, miner, since])?,
        None => {
            conn.prepare_cached("DELETE FROM thermal_restore WHERE controller = ?1")?.execute(params![controller])?
        }
    };
    Ok(())
}

/// Replaces a miner's timers in a unit with `timers`.
pub fn save_timers(conn: &Connection, unit: &str, miner: &str, timers: &Timers) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM rule_timer WHERE unit = ?1 AND miner = ?2")?.execute(params![unit, miner])?;
    let mut insert =
        conn.prepare_cached("INSERT INTO rule_timer (unit, miner, rule, since) VALUES (?1, ?2, ?3, ?4)")?;
    for (rule, since) in timers {
        insert.execute(params![unit, miner, rule, since])?;
    }
    Ok(())
}

/// One row of the action log.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ActionRow {
    pub at: i64,
    pub unit: Option<String>,
    pub miner: String,
    pub decision: String,
    pub reason_kind: String,
    pub reason_name: Option<String>,
    pub action: String,
    pub controller: Option<String>,
    pub feature: Option<String>,
    pub manual: bool,
    /// A retry or escalation of an earlier command (not a new switch).
    pub follow_up: bool,
    /// The watts of a power target.
    pub watts: Option<f64>,
    /// None while the command is in flight (a crash leaves it so: sent, outcome unknown).
    pub ok: Option<bool>,
    pub error: Option<String>,
}

/// Records a command before it is sent; returns its row id.
pub fn insert_action(conn: &Connection, row: &ActionRow) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "INSERT INTO action (at, unit, miner, decision, reason_kind, reason_name, action, controller, feature, manual, ok, error, follow_up, watts)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?
    .execute(params![
        row.at,
        row.unit,
        row.miner,
        row.decision,
        row.reason_kind,
        row.reason_name,
        row.action,
        row.controller,
        row.feature,
        row.manual,
        row.ok,
        row.error,
        row.follow_up,
        row.watts
    ])?;
    Ok(conn.last_insert_rowid())
}

/// Stores a sent command's outcome.
/// The watts a firmware applied for a power target (its lever's), and whether the write
/// restarts the miner, on the command's row.
pub fn set_action_watts(conn: &Connection, id: i64, watts: f64, restarts: bool) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE action SET watts = ?2, restarts = ?3 WHERE id = ?1")?
        .execute(params![id, watts, restarts])?;
    Ok(())
}

pub fn finish_action(conn: &Connection, id: i64, ok: Option<bool>, error: Option<&str>) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE action SET ok = ?2, error = ?3 WHERE id = ?1")?.execute(params![id, ok, error])?;
    Ok(())
}

/// The action log since `since` (unix seconds), oldest first, optionally for one miner.
pub fn history(conn: &Connection, since: i64, miner: Option<&str>) -> rusqlite::Result<Vec<ActionRow>> {
    let mut statement = conn.prepare_cached(
        "SELECT at, unit, miner, decision, reason_kind, reason_name, action, controller, feature, manual, ok, error, follow_up, watts
         FROM action WHERE at >= ?1 AND (?2 IS NULL OR miner = ?2) ORDER BY at, id",
    )?;
    let rows = statement.query_map(params![since, miner], |r| {
        Ok(ActionRow {
            at: r.get(0)?,
            unit: r.get(1)?,
            miner: r.get(2)?,
            decision: r.get(3)?,
            reason_kind: r.get(4)?,
            reason_name: r.get(5)?,
            action: r.get(6)?,
            controller: r.get(7)?,
            feature: r.get(8)?,
            manual: r.get(9)?,
            ok: r.get(10)?,
            error: r.get(11)?,
            follow_up: r.get(12)?,
            watts: r.get(13)?,
        })
    })?;
    rows.collect()
}

/// The last observed status of each miner and since when (unix seconds).
pub fn load_observed(conn: &Connection) -> rusqlite::Result<BTreeMap<String, (String, i64)>> {
    let mut statement = conn.prepare_cached("SELECT miner, status, since FROM observed")?;
    let rows =
        statement.query_map([], |r| Ok((r.get::<_, String>(0)?, (r.get::<_, String>(1)?, r.get::<_, i64>(2)?))))?;
    rows.collect()
}

/// Remembers a miner's status; `since` only moves when the status changes.
pub fn observe(conn: &Connection, miner: &str, status: &str, now: i64) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO observed (miner, status, since) VALUES (?1, ?2, ?3)
         ON CONFLICT (miner) DO UPDATE SET since = CASE WHEN status = ?2 THEN since ELSE ?3 END, status = ?2",
    )?
    .execute(params![miner, status, now])?;
    Ok(())
}

/// The actions that count as switches: successful, not follow-ups, and not power targets
/// unless the write restarted the miner (SPEC §24).
const SWITCHES: &str = "ok = 1 AND follow_up = 0 AND (action != 'set_power_target' OR restarts = 1)";

/// Per miner: successful commands since `day_start`, and the last command (action, at).
pub struct CommandStats {
    pub today: u32,
    pub last: Option<(String, i64)>,
}

pub fn command_stats(conn: &Connection, miner: &str, day_start: i64) -> rusqlite::Result<CommandStats> {
    let today: u32 = conn
        .prepare_cached(&format!("SELECT COUNT(*) FROM action WHERE miner = ?1 AND at >= ?2 AND {SWITCHES}"))?
        .query_row(params![miner, day_start], |r| r.get(0))?;
    let last = conn
        .prepare_cached("SELECT action, at FROM action WHERE miner = ?1 AND ok = 1 ORDER BY at DESC, id DESC LIMIT 1")?
        .query_row(params![miner], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .optional()?;
    Ok(CommandStats { today, last })
}

/// `command_stats` of every miner at once (two queries, whatever the fleet size).
pub fn all_command_stats(conn: &Connection, day_start: i64) -> rusqlite::Result<BTreeMap<String, CommandStats>> {
    let mut stats: BTreeMap<String, CommandStats> = BTreeMap::new();
    let mut today = conn
        .prepare_cached(&format!("SELECT miner, COUNT(*) FROM action WHERE at >= ?1 AND {SWITCHES} GROUP BY miner"))?;
    for row in today.query_map(params![day_start], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u32>(1)?)))? {
        let (miner, count) = row?;
        stats.entry(miner).or_insert(CommandStats { today: 0, last: None }).today = count;
    }
    let mut last = conn.prepare_cached("SELECT miner, action, MAX(at) FROM action WHERE ok = 1 GROUP BY miner")?;
    for row in last.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)))? {
        let (miner, action, at) = row?;
        stats.entry(miner).or_insert(CommandStats { today: 0, last: None }).last = Some((action, at));
    }
    Ok(stats)
}

pub fn begin_run(conn: &Connection, started_at: i64, dry_run: bool) -> rusqlite::Result<i64> {
    conn.prepare_cached("INSERT INTO run (started_at, dry_run) VALUES (?1, ?2)")?
        .execute(params![started_at, dry_run])?;
    Ok(conn.last_insert_rowid())
}

/// The instant of the latest cycle recorded, whatever its outcome.
pub fn latest_run(conn: &Connection) -> rusqlite::Result<Option<i64>> {
    conn.query_row("SELECT MAX(started_at) FROM run", [], |r| r.get(0))
}

/// When the run before `run_id` started (unix seconds).
pub fn previous_run_at(conn: &Connection, run_id: i64) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached("SELECT started_at FROM run WHERE id < ?1 ORDER BY id DESC LIMIT 1")?
        .query_row(params![run_id], |r| r.get(0))
        .optional()
}

/// When a run last exited 0 (unix seconds).
pub fn last_success(conn: &Connection) -> rusqlite::Result<Option<i64>> {
    conn.query_row("SELECT MAX(started_at) FROM run WHERE exit_code = 0", [], |r| r.get(0))
}

pub struct RunSummary {
    pub finished_at: i64,
    pub exit_code: i32,
    pub miners: usize,
    pub commands: usize,
    pub failures: usize,
}

pub fn finish_run(conn: &Connection, id: i64, summary: &RunSummary) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE run SET finished_at = ?2, exit_code = ?3, miners = ?4, commands = ?5, failures = ?6 WHERE id = ?1",
    )?
    .execute(params![
        id,
        summary.finished_at,
        summary.exit_code,
        summary.miners as i64,
        summary.commands as i64,
        summary.failures as i64
    ])?;
    Ok(())
}

/// Deletes history older than `before` (unix seconds).
pub fn prune(conn: &Connection, before: i64) -> rusqlite::Result<usize> {
    let actions = conn.prepare_cached("DELETE FROM action WHERE at < ?1")?.execute(params![before])?;
    let runs = conn.prepare_cached("DELETE FROM run WHERE started_at < ?1")?.execute(params![before])?;
    let decisions = conn.prepare_cached("DELETE FROM decision_log WHERE until < ?1")?.execute(params![before])?;
    Ok(actions + runs + decisions)
}

/// Row counts per table, for `state show`.
pub fn table_counts(conn: &Connection) -> rusqlite::Result<Vec<(String, i64)>> {
    let tables = [
        "action",
        "run",
        "rule_timer",
        "observed",
        "intent",
        "last_change",
        "asleep",
        "manual_hold",
        "decision_log",
        "allocation_state",
        "load_sample",
        "heating_demand",
        "thermal_restore",
        "lever_watts",
        "unit_mode",
        "mqtt_seen",
        "mqtt_discovery",
        "energy_trace",
        "miner_trace",
        "notification",
        "sim_device",
        "sim_battery",
        "http_cache",
        "backoff",
    ];
    tables
        .iter()
        .map(|table| {
            let count: i64 = conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))?;
            Ok((table.to_string(), count))
        })
        .collect()
}

/// Empties the named tables (names come from our own list, never from input).
pub fn clear_tables(conn: &Connection, tables: &[&'static str]) -> rusqlite::Result<usize> {
    let mut removed = 0;
    for table in tables {
        removed += conn.execute(&format!("DELETE FROM {table}"), [])?;
    }
    Ok(removed)
}

/// The last few runs, newest first: (started_at, finished_at, exit_code, dry_run, commands, failures).
pub type RunRow = (i64, Option<i64>, Option<i32>, bool, i64, i64);

pub fn recent_runs(conn: &Connection, limit: usize) -> rusqlite::Result<Vec<RunRow>> {
    let mut statement = conn.prepare_cached(
        "SELECT started_at, finished_at, exit_code, dry_run, commands, failures FROM run ORDER BY id DESC LIMIT ?1",
    )?;
    let rows = statement
        .query_map(params![limit as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))?;
    rows.collect()
}

/// A cached HTTP reply (by request key) and when it was fetched.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedReply {
    pub fetched_at: i64,
    pub body: Vec<u8>,
}

/// A host's backoff: consecutive 429s and server errors, when it may be asked again, when
/// it was last asked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostBackoff {
    pub rate_limited: u32,
    pub errors: u32,
    pub next_allowed_at: i64,
    pub reason: Option<String>,
    pub last_request_at: Option<i64>,
}

pub fn load_cache(conn: &Connection) -> rusqlite::Result<BTreeMap<String, CachedReply>> {
    let mut statement = conn.prepare_cached("SELECT url, fetched_at, body FROM http_cache")?;
    let rows = statement
        .query_map([], |r| Ok((r.get::<_, String>(0)?, CachedReply { fetched_at: r.get(1)?, body: r.get(2)? })))?;
    rows.collect()
}

pub fn load_backoff(conn: &Connection) -> rusqlite::Result<BTreeMap<String, HostBackoff>> {
    let mut statement =
        conn.prepare_cached("SELECT host, failures, errors, next_allowed_at, reason, last_request_at FROM backoff")?;
    let rows = statement.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            HostBackoff {
                rate_limited: r.get(1)?,
                errors: r.get(2)?,
                next_allowed_at: r.get(3)?,
                reason: r.get(4)?,
                last_request_at: r.get(5)?,
            },
        ))
    })?;
    rows.collect()
}

pub fn save_cache(conn: &Connection, key: &str, reply: &CachedReply) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO http_cache (url, fetched_at, body) VALUES (?1, ?2, ?3)
         ON CONFLICT (url) DO UPDATE SET fetched_at = ?2, body = ?3",
    )?
    .execute(params![key, reply.fetched_at, reply.body])?;
    Ok(())
}

pub fn save_backoff(conn: &Connection, host: &str, backoff: &HostBackoff) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO backoff (host, failures, errors, next_allowed_at, reason, last_request_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (host) DO UPDATE SET failures = ?2, errors = ?3, next_allowed_at = ?4, reason = ?5, last_request_at = ?6",
    )?
    .execute(params![host, backoff.rate_limited, backoff.errors, backoff.next_allowed_at, backoff.reason, backoff.last_request_at])?;
    Ok(())
}

/// A command sent and not yet verified (SPEC §4.3).
#[derive(Debug, Clone, PartialEq)]
pub struct Intent {
    pub miner: String,
    pub unit: Option<String>,
    /// `on`, `off`, `powered` or `unpowered`.
    pub target: String,
    /// The command sent, and its controller.
    pub command: CommandKind,
    pub controller: String,
    pub at: i64,
    pub attempts: u32,
    pub escalated: bool,
    /// The watts a power target intent should reach (the lever's, where the firmware chose one).
    pub watts: Option<f64>,
    /// The write restarts the miner: it is verified after `guards.restart_time`.
    pub restarts: bool,
}

/// A command kind stored by name; an unknown name is an error naming the column, not a guess.
fn command_kind(row: &rusqlite::Row, index: usize) -> rusqlite::Result<CommandKind> {
    let name: String = row.get(index)?;
    CommandKind::parse(&name).ok_or_else(|| {
        let message = format!("intent.command holds `{name}`, which is no command this build knows");
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, message.into())
    })
}

pub fn load_intents(conn: &Connection) -> rusqlite::Result<BTreeMap<String, Intent>> {
    let mut statement = conn.prepare_cached(
        "SELECT miner, unit, target, command, controller, at, attempts, escalated, watts, restarts FROM intent",
    )?;
    let rows = statement.query_map([], |r| {
        let intent = Intent {
            miner: r.get(0)?,
            unit: r.get(1)?,
            target: r.get(2)?,
            command: command_kind(r, 3)?,
            controller: r.get(4)?,
            at: r.get(5)?,
            attempts: r.get(6)?,
            escalated: r.get(7)?,
            watts: r.get(8)?,
            restarts: r.get(9)?,
        };
        Ok((intent.miner.clone(), intent))
    })?;
    rows.collect()
}

pub fn save_intent(conn: &Connection, intent: &Intent) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO intent (miner, unit, target, command, controller, at, attempts, escalated, watts, restarts) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (miner) DO UPDATE SET unit = ?2, target = ?3, command = ?4, controller = ?5, at = ?6, attempts = ?7, escalated = ?8, watts = ?9, restarts = ?10",
    )?
    .execute(params![
        intent.miner,
        intent.unit,
        intent.target,
        intent.command.name(),
        intent.controller,
        intent.at,
        intent.attempts,
        intent.escalated,
        intent.watts,
        intent.restarts
    ])?;
    Ok(())
}

pub fn clear_intent(conn: &Connection, miner: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM intent WHERE miner = ?1")?.execute(params![miner])?;
    Ok(())
}

/// The last state change of each miner: (status, at).
pub fn load_last_changes(conn: &Connection) -> rusqlite::Result<BTreeMap<String, (String, i64)>> {
    let mut statement = conn.prepare_cached("SELECT miner, status, at FROM last_change")?;
    let rows =
        statement.query_map([], |r| Ok((r.get::<_, String>(0)?, (r.get::<_, String>(1)?, r.get::<_, i64>(2)?))))?;
    rows.collect()
}

pub fn save_last_change(conn: &Connection, miner: &str, status: &str, at: i64) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO last_change (miner, status, at) VALUES (?1, ?2, ?3) ON CONFLICT (miner) DO UPDATE SET status = ?2, at = ?3",
    )?
    .execute(params![miner, status, at])?;
    Ok(())
}

/// One stretch of identical decisions about a miner (`history --decisions`).
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionRow {
    pub id: i64,
    pub miner: String,
    pub unit: String,
    pub at: i64,
    pub until: i64,
    pub status: String,
    pub decision: String,
    pub reason_kind: String,
    pub reason_name: Option<String>,
}

impl DecisionRow {
    /// Whether `other` says the same (so this row is extended rather than a new one added).
    pub fn same_as(&self, other: &DecisionRow) -> bool {
        (&self.unit, &self.status, &self.decision, &self.reason_kind, &self.reason_name)
            == (&other.unit, &other.status, &other.decision, &other.reason_kind, &other.reason_name)
    }
}

fn decision_row(r: &rusqlite::Row) -> rusqlite::Result<DecisionRow> {
    Ok(DecisionRow {
        id: r.get(0)?,
        miner: r.get(1)?,
        unit: r.get(2)?,
        at: r.get(3)?,
        until: r.get(4)?,
        status: r.get(5)?,
        decision: r.get(6)?,
        reason_kind: r.get(7)?,
        reason_name: r.get(8)?,
    })
}

const DECISION_COLUMNS: &str = "id, miner, unit, at, until, status, decision, reason_kind, reason_name";

/// The latest decision row of each miner in each unit.
pub fn last_decisions(conn: &Connection) -> rusqlite::Result<BTreeMap<(String, String), DecisionRow>> {
    let sql = format!(
        "SELECT {DECISION_COLUMNS} FROM decision_log WHERE id IN (SELECT MAX(id) FROM decision_log GROUP BY miner, unit)"
    );
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map([], decision_row)?;
    rows.map(|row| row.map(|row| ((row.miner.clone(), row.unit.clone()), row))).collect()
}

/// Extends the miner's last row to `row.until` when it says the same, else adds `row`.
pub fn log_decision(conn: &Connection, last: Option<&DecisionRow>, row: &DecisionRow) -> rusqlite::Result<()> {
    match last.filter(|last| last.same_as(row)) {
        Some(last) => {
            conn.prepare_cached("UPDATE decision_log SET until = ?2 WHERE id = ?1")?.execute(params![last.id, row.until])?
        }
        None => conn
            .prepare_cached(
                "INSERT INTO decision_log (miner, unit, at, until, status, decision, reason_kind, reason_name) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![row.miner, row.unit, row.at, row.until, row.status, row.decision, row.reason_kind, row.reason_name])?,
    };
    Ok(())
}

/// The decision rows that reach past `since`, oldest first, optionally for one miner.
pub fn decision_history(conn: &Connection, since: i64, miner: Option<&str>) -> rusqlite::Result<Vec<DecisionRow>> {
    let sql = format!(
        "SELECT {DECISION_COLUMNS} FROM decision_log WHERE until >= ?1 AND (?2 IS NULL OR miner = ?2) ORDER BY at, id"
    );
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map(params![since, miner], decision_row)?;
    rows.collect()
}

/// Until when each miner's manual command holds the rules off (`miner start|stop --hold`).
pub fn load_holds(conn: &Connection) -> rusqlite::Result<BTreeMap<String, i64>> {
    let mut statement = conn.prepare_cached("SELECT miner, until FROM manual_hold")?;
    let rows = statement.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    rows.collect()
}

/// Holds the rules off `miner` until `until`; a later manual command without `--hold` ends it.
pub fn set_hold(conn: &Connection, miner: &str, until: Option<i64>) -> rusqlite::Result<()> {
    match until {
        Some(until) => conn
            .prepare_cached(
                "INSERT INTO manual_hold (miner, until) VALUES (?1, ?2) ON CONFLICT (miner) DO UPDATE SET until = ?2",
            )?
            .execute(params![miner, until])?,
        None => conn.prepare_cached("DELETE FROM manual_hold WHERE miner = ?1")?.execute(params![miner])?,
    };
    Ok(())
}

pub fn load_asleep(conn: &Connection) -> rusqlite::Result<BTreeMap<String, i64>> {
    let mut statement = conn.prepare_cached("SELECT miner, since FROM asleep")?;
    let rows = statement.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    rows.collect()
}

pub fn set_asleep(conn: &Connection, miner: &str, since: Option<i64>) -> rusqlite::Result<()> {
    match since {
        Some(since) => conn
            .prepare_cached("INSERT INTO asleep (miner, since) VALUES (?1, ?2) ON CONFLICT (miner) DO NOTHING")?
            .execute(params![miner, since])?,
        None => conn.prepare_cached("DELETE FROM asleep WHERE miner = ?1")?.execute(params![miner])?,
    };
    Ok(())
}

/// When a notifier last sent an event about a subject.
pub fn last_notified(conn: &Connection, notifier: &str, event: &str, subject: &str) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached("SELECT sent_at FROM notification WHERE notifier = ?1 AND event = ?2 AND subject = ?3")?
        .query_row(params![notifier, event, subject], |r| r.get(0))
        .optional()
}

pub fn mark_notified(conn: &Connection, notifier: &str, event: &str, subject: &str, at: i64) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO notification (notifier, event, subject, sent_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (notifier, event, subject) DO UPDATE SET sent_at = ?4",
    )?
    .execute(params![notifier, event, subject, at])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_older_than_the_boundary_become_hourly_means() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::state::Store::open(&dir.path().join("state.db")).unwrap();
        let conn = &store.conn;
        for (at, watts) in [(7200, 100.0), (7500, 200.0), (9000, 300.0), (10_800, 500.0), (11_100, 700.0)] {
            save_sample(conn, "house", Sample { at, watts }).unwrap();
        }
        compact_samples(conn, 10_800).unwrap();
        let samples = load_samples(conn, 0).unwrap();
        let at_watts: Vec<(i64, f64)> = samples["house"].iter().map(|s| (s.at, s.watts)).collect();
        assert_eq!(
            at_watts,
            [(7200, 200.0), (10_800, 500.0), (11_100, 700.0)],
            "the hour before the boundary, averaged"
        );
        compact_samples(conn, 10_800).unwrap();
        assert_eq!(load_samples(conn, 0).unwrap()["house"].len(), 3, "compacting twice changes nothing");
    }
}
