//! The database schema, migrated forward by `PRAGMA user_version`.
//!
//! Each entry of `MIGRATIONS` takes the schema from version N to N+1. Never edit an entry
//! that has shipped; append a new one.

pub const MIGRATIONS: &[&str] = &[
    // 1: simulated world, rule timers, action log, run history, observed status, HTTP cache.
    "
    CREATE TABLE sim_device (
        id TEXT PRIMARY KEY,
        phase TEXT NOT NULL,
        since INTEGER NOT NULL,
        settles_at INTEGER NOT NULL,
        relay_on INTEGER NOT NULL
    );
    CREATE TABLE sim_battery (
        source TEXT PRIMARY KEY,
        soc REAL NOT NULL,
        at INTEGER NOT NULL
    );
    CREATE TABLE rule_timer (
        unit TEXT NOT NULL,
        miner TEXT NOT NULL,
        rule TEXT NOT NULL,
        since INTEGER NOT NULL,
        PRIMARY KEY (unit, miner, rule)
    );
    CREATE TABLE action (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        unit TEXT,
        miner TEXT NOT NULL,
        decision TEXT NOT NULL,
        reason_kind TEXT NOT NULL,
        reason_name TEXT,
        action TEXT NOT NULL,
        controller TEXT,
        feature TEXT,
        manual INTEGER NOT NULL DEFAULT 0,
        ok INTEGER,
        error TEXT
    );
    CREATE INDEX action_at ON action (at);
    CREATE INDEX action_miner_at ON action (miner, at);
    CREATE TABLE run (
        id INTEGER PRIMARY KEY,
        started_at INTEGER NOT NULL,
        finished_at INTEGER,
        exit_code INTEGER,
        dry_run INTEGER NOT NULL,
        miners INTEGER NOT NULL DEFAULT 0,
        commands INTEGER NOT NULL DEFAULT 0,
        failures INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX run_started_at ON run (started_at);
    CREATE TABLE observed (
        miner TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        since INTEGER NOT NULL
    );
    CREATE TABLE http_cache (
        url TEXT PRIMARY KEY,
        fetched_at INTEGER NOT NULL,
        body BLOB NOT NULL
    );
    CREATE TABLE backoff (
        host TEXT PRIMARY KEY,
        failures INTEGER NOT NULL,
        next_allowed_at INTEGER NOT NULL,
        reason TEXT
    );
    ",
    // 2: a separate counter for server errors, and when a host was last asked (min_interval).
    "
    ALTER TABLE backoff ADD COLUMN errors INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE backoff ADD COLUMN last_request_at INTEGER;
    ",
    // 3: pending intents, the last state change per miner, sleep start, notification
    //    de-duplication, and follow-up commands (retries, escalations) in the action log.
    "
    CREATE TABLE intent (
        miner TEXT PRIMARY KEY,
        unit TEXT,
        target TEXT NOT NULL,
        command TEXT NOT NULL,
        controller TEXT NOT NULL,
        at INTEGER NOT NULL,
        attempts INTEGER NOT NULL,
        escalated INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE last_change (
        miner TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        at INTEGER NOT NULL
    );
    CREATE TABLE asleep (
        miner TEXT PRIMARY KEY,
        since INTEGER NOT NULL
    );
    CREATE TABLE notification (
        notifier TEXT NOT NULL,
        event TEXT NOT NULL,
        subject TEXT NOT NULL,
        sent_at INTEGER NOT NULL,
        PRIMARY KEY (notifier, event, subject)
    );
    ALTER TABLE action ADD COLUMN follow_up INTEGER NOT NULL DEFAULT 0;
    ",
    // 4: power targets (SPEC §16): the watts of a target intent and of its history row, and
    //    the simulated miners' targets.
    "
    ALTER TABLE intent ADD COLUMN watts REAL;
    ALTER TABLE action ADD COLUMN watts REAL;
    ALTER TABLE action ADD COLUMN restarts INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE sim_device ADD COLUMN target REAL;
    ALTER TABLE sim_device ADD COLUMN target_since INTEGER NOT NULL DEFAULT 0;
    ",
    // 5: a target write that restarts the miner is verified after `guards.restart_time`.
    "
    ALTER TABLE intent ADD COLUMN restarts INTEGER NOT NULL DEFAULT 0;
    ",
    // 6: `miner start|stop --hold`: until when the rules may not undo a manual command.
    "
    CREATE TABLE manual_hold (
        miner TEXT PRIMARY KEY,
        until INTEGER NOT NULL
    );
    ",
    // 7: every cycle's decision per miner (`history --decisions`); a run of identical
    //    decisions is one row, from `at` to `until`.
    "
    CREATE TABLE decision_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        miner TEXT NOT NULL,
        unit TEXT NOT NULL,
        at INTEGER NOT NULL,
        until INTEGER NOT NULL,
        status TEXT NOT NULL,
        decision TEXT NOT NULL,
        reason_kind TEXT NOT NULL,
        reason_name TEXT
    );
    CREATE INDEX decision_log_until ON decision_log (until);
    ",
    // 8: each allocation unit's timers and probe, as JSON (SPEC §17.4).
    "
    CREATE TABLE allocation_state (
        unit TEXT PRIMARY KEY,
        state TEXT NOT NULL
    );
    ",
    // 9: home-load samples per series (`<profile>` total, `<profile>/<device>`) and each
    //    climate zone's thermostat (SPEC §18).
    "
    CREATE TABLE load_sample (
        series TEXT NOT NULL,
        at INTEGER NOT NULL,
        watts REAL NOT NULL,
        PRIMARY KEY (series, at)
    ) WITHOUT ROWID;
    CREATE TABLE heating_demand (
        zone TEXT PRIMARY KEY,
        demand INTEGER NOT NULL,
        at INTEGER NOT NULL
    );
    ",
    // 10: a target write that pauses the firmware's thermal management (LuxOS ATM) leaves a
    //     flag before it is sent, so a run cut off in between is undone by the next (SPEC §24).
    "
    CREATE TABLE thermal_restore (
        controller TEXT PRIMARY KEY,
        miner TEXT NOT NULL,
        since INTEGER NOT NULL
    );
    ",
    // 11: what a device draws at each setting of a lever that is not a watt target (a
    //     Bitaxe's frequency), learned from its readings (SPEC §16.2).
    "
    CREATE TABLE lever_watts (
        controller TEXT NOT NULL,
        setting REAL NOT NULL,
        watts REAL NOT NULL,
        samples INTEGER NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (controller, setting)
    ) WITHOUT ROWID;
    ",
    // 12: each unit's mode (SPEC §21): what, since and until when, and who set it; the
    //     command-topic values last read or published per publisher, so a retained command
    //     counts once; the discovery topics published, so entities that left are removed.
    "
    CREATE TABLE unit_mode (
        unit TEXT PRIMARY KEY,
        mode TEXT NOT NULL,
        at INTEGER NOT NULL,
        until INTEGER
    );
    CREATE TABLE mqtt_seen (
        publisher TEXT NOT NULL,
        topic TEXT NOT NULL,
        payload TEXT NOT NULL,
        PRIMARY KEY (publisher, topic)
    ) WITHOUT ROWID;
    CREATE TABLE mqtt_discovery (
        publisher TEXT NOT NULL,
        topic TEXT NOT NULL,
        PRIMARY KEY (publisher, topic)
    ) WITHOUT ROWID;
    ",
    // 13: what each cycle saw, for `simulate --trace recorded` (SPEC §20): each energy
    //     source's inputs and each miner's measured power and hashrate, raw for 48 hours,
    //     then hourly, pruned with the history.
    "
    CREATE TABLE energy_trace (
        source TEXT NOT NULL,
        at INTEGER NOT NULL,
        production REAL,
        consumption REAL,
        grid REAL,
        battery_soc REAL,
        battery_power REAL,
        PRIMARY KEY (source, at)
    ) WITHOUT ROWID;
    CREATE TABLE miner_trace (
        miner TEXT NOT NULL,
        at INTEGER NOT NULL,
        power REAL,
        hashrate REAL,
        PRIMARY KEY (miner, at)
    ) WITHOUT ROWID;
    ",
];
