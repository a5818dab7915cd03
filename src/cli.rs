//! The command line (SPEC §2): clap definitions and dispatch to `commands::*`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::commands;
use crate::exit;

const ABOUT: &str = "Switch Bitcoin ASIC miners on and off with the energy you have to spare.

Each `run` is one control cycle: read the config, poll energy, pools and miners, evaluate
your start/stop rules, apply safety limits, send commands, and remember what the next run
needs in a SQLite file. Run it from a systemd timer or cron every few minutes.";

const EXIT_CODES: &str = "Exit codes:
  0   cycle completed; every input was read and every command succeeded
  1   cycle completed degraded: an input or a command failed (the report says which)
  2   usage error
  3   fatal: the state database or its lock cannot be used
  75  skipped: another invocation holds the run lock
  78  the configuration or a rule file is invalid";

#[derive(Debug, Parser)]
#[command(name = "edge-mining", version, about = ABOUT, after_help = EXIT_CODES)]
pub struct Cli {
    /// The YAML config file [default: $CONFIGURATION_DIRECTORY/config.yaml under systemd]
    #[arg(short, long, global = true, env = "EDGE_MINING_CONFIG")]
    pub config: Option<PathBuf>,

    /// More log output (-v info, -vv debug); RUST_LOG also works
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Only errors in the log
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Evaluate as if it were this instant: RFC 3339, or a local time in the configured zone
    #[arg(long, global = true, value_name = "TIME")]
    pub now: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Output {
    #[default]
    Text,
    Json,
    Yaml,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one control cycle: poll, decide, act, record, report
    Run(RunArgs),
    /// Check the config and every rule file without touching devices or state
    Validate {
        /// Do not read secret files (`token_file:` …), for CI checkouts that have none
        #[arg(long, visible_alias = "no-secrets")]
        offline: bool,
    },
    /// Poll and print the decisional context(s) the rules would see (no commands)
    Context(ContextArgs),
    /// Evaluate and unit-test rules offline
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Inspect and control miners by hand
    #[command(subcommand)]
    Miner(MinerCommand),
    /// Query a pool tracker through the same cache and backoff as `run`
    #[command(subcommand)]
    Tracker(TrackerCommand),
    /// Try a notifier
    #[command(subcommand)]
    Notifier(NotifierCommand),
    /// Set a unit's mode: auto (rules and allocation), hold (no automatic command), off
    #[command(subcommand)]
    Unit(UnitCommand),
    /// Replay a day through the config's rules with simulated miners; energy, money, a picture
    Simulate(SimulateArgs),
    /// Show the persisted action log
    History(HistoryArgs),
    /// Describe every component type (or one): features, keys, defaults, an example
    Types {
        /// A type name, e.g. braiins_os
        name: Option<String>,
    },
    /// Print the JSON Schema of the config file, for editors and CI linters
    Schema,
    /// Find miners on a network (read-only probes) and print config entries for them
    Scan(ScanArgs),
    /// Write a starter config: asks on a terminal, or takes flags
    Init(Box<InitArgs>),
    /// Print shell completions (bash, zsh, fish, elvish, powershell)
    Completions { shell: clap_complete::Shell },
    /// Print the man page (roff)
    Man,
    /// Inspect or reset persisted state
    #[command(subcommand)]
    State(StateCommand),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Decide and report, but send no command and persist no decision state
    #[arg(long)]
    pub dry_run: bool,
    /// After the report, every rule each miner was judged by, each leaf with the value it saw
    #[arg(long)]
    pub explain: bool,
    /// Only this unit (repeatable)
    #[arg(long = "unit", value_name = "ID")]
    pub units: Vec<String>,
    /// Command only this miner (repeatable); its units' other miners are still read
    #[arg(long = "miner", value_name = "ID")]
    pub miners: Vec<String>,
    /// Report format
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// Write Prometheus metrics to this file (atomically)
    #[arg(long, value_name = "PATH")]
    pub metrics_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// The day to simulate (local date, e.g. 2026-06-21); default the day of --now, else today
    #[arg(long, value_name = "DATE", conflicts_with_all = ["from", "to"])]
    pub day: Option<String>,
    /// The start of the span (RFC 3339, or a local time)
    #[arg(long, value_name = "TIME", requires = "to")]
    pub from: Option<String>,
    /// The end of the span
    #[arg(long, value_name = "TIME", requires = "from")]
    pub to: Option<String>,
    /// recorded (what `run` saw, from the state database), sunny, cloudy or variable (the
    /// simulated roof at the configured place), or a CSV file
    #[arg(long, value_name = "TRACE", default_value = "sunny")]
    pub trace: String,
    /// Time between cycles
    #[arg(long, value_name = "DURATION", default_value = "2m")]
    pub step: String,
    /// A second config to run over the same trace, side by side
    #[arg(long, value_name = "CONFIG")]
    pub compare: Option<std::path::PathBuf>,
    /// Write an SVG of the day (the first unit, or --unit)
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<std::path::PathBuf>,
    /// The unit to plot
    #[arg(long = "unit", value_name = "ID")]
    pub unit: Option<String>,
    /// Sat per TH per day, for the sats mined
    #[arg(long, value_name = "SAT_PER_TH_DAY")]
    pub hashprice: Option<f64>,
    /// The BTC price in the tariffs' currency, for the net
    #[arg(long, value_name = "PRICE")]
    pub btc_price: Option<f64>,
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

#[derive(Debug, Args)]
pub struct ContextArgs {
    #[arg(long = "unit", value_name = "ID")]
    pub unit: Option<String>,
    #[arg(long = "miner", value_name = "ID")]
    pub miner: Option<String>,
    #[arg(long, value_enum, default_value_t = Output::Json)]
    pub output: Output,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Evaluate rules against a context file (JSON or YAML) and print the decision
    Eval(RulesEvalArgs),
    /// Run rule unit tests; exit 0 when all pass, 1 otherwise
    Test {
        /// Test files (each names a policy or rule lists, and cases)
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct RulesEvalArgs {
    /// A context, as printed by `context --miner ID`
    #[arg(long)]
    pub context: PathBuf,
    /// An Edge Mining policy file
    #[arg(long, conflicts_with_all = ["start", "stop"])]
    pub policy: Option<PathBuf>,
    /// Rule-list files of start rules
    #[arg(long, num_args = 1..)]
    pub start: Vec<PathBuf>,
    /// Rule-list files of stop rules
    #[arg(long, num_args = 1..)]
    pub stop: Vec<PathBuf>,
    /// After the decision, every rule considered, each leaf with the value it saw
    #[arg(long)]
    pub explain: bool,
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

#[derive(Debug, Subcommand)]
pub enum MinerCommand {
    /// List the configured miners, their controllers and units
    List,
    /// Poll miners and show what they report, and which controller said it
    Status { id: Option<String> },
    /// Show each miner's features: provider, priority, and which one is used
    Features { id: Option<String> },
    /// Start mining now (mining control, else power on); recorded in history
    Start {
        id: String,
        /// Keep the rules from undoing it for this long, e.g. 2h (safety limits still stop it)
        #[arg(long, value_name = "DURATION")]
        hold: Option<String>,
    },
    /// Stop mining now (mining control, else power off); recorded in history
    Stop {
        id: String,
        /// Keep the rules from undoing it for this long, e.g. 2h
        #[arg(long, value_name = "DURATION")]
        hold: Option<String>,
    },
    /// Set a power target in watts (clamped to the miner's bounds); verified like a start
    Power {
        id: String,
        /// The target, W
        watts: f64,
        /// Say what would be sent, send nothing
        #[arg(long)]
        dry_run: bool,
        /// Keep the rules and the allocation from changing it for this long, e.g. 2h
        #[arg(long, value_name = "DURATION")]
        hold: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to write the config (`--output` is a report format everywhere else)
    #[arg(long, value_name = "PATH", default_value = "config.yaml")]
    pub file: PathBuf,
    /// Overwrite an existing file
    #[arg(long)]
    pub force: bool,
    /// Ask questions even when standard input is not a terminal
    #[arg(long)]
    pub interactive: bool,
    /// Home Assistant URL, e.g. http://homeassistant.local:8123
    #[arg(long)]
    pub ha_url: Option<String>,
    /// File holding the Home Assistant long-lived token (relative to the config)
    #[arg(long, default_value = "ha-token")]
    pub ha_token_file: String,
    #[arg(long, default_value = "sensor.pv_power")]
    pub production: String,
    /// The house load without the miners
    #[arg(long, default_value = "sensor.house_consumption")]
    pub consumption: String,
    #[arg(long)]
    pub grid: Option<String>,
    #[arg(long)]
    pub battery_soc: Option<String>,
    /// The battery's power sensor, positive when charging
    #[arg(long)]
    pub battery_power: Option<String>,
    /// A miner as TYPE=ADDRESS[,name=ID][,power_max=W][,plug=TYPE:ADDRESS] (repeatable),
    /// e.g. braiins_os=192.168.1.30,name=s19,plug=shelly:192.168.1.40
    #[arg(long = "miner", value_name = "TYPE=ADDRESS,...")]
    pub miners: Vec<String>,
    /// Where the panels are, LATITUDE,LONGITUDE (for sun.* in rules)
    #[arg(long, value_name = "LAT,LON")]
    pub location: Option<String>,
    /// %: stop the miners below this battery charge (with --battery-soc)
    #[arg(long, value_name = "PERCENT")]
    pub min_battery_soc: Option<f64>,
    /// Add the miners a scan of this range finds
    #[arg(long, value_name = "CIDR")]
    pub scan: Option<String>,
    /// OCEAN payout address, for pool data in rules
    #[arg(long)]
    pub ocean: Option<String>,
    #[arg(long)]
    pub timezone: Option<String>,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Address ranges such as 192.168.1.0/24 (or single addresses)
    #[arg(required = true)]
    pub ranges: Vec<String>,
    /// The CGMiner API port
    #[arg(long, default_value_t = 4028)]
    pub port: u16,
    /// The HTTP port of AxeOS (Bitaxe) devices
    #[arg(long, default_value_t = 80)]
    pub http_port: u16,
    /// Per-probe time limit
    #[arg(long, default_value = "1s")]
    pub timeout: String,
    /// Parallel probes
    #[arg(long, default_value_t = 128)]
    pub concurrency: usize,
    /// Allow ranges larger than a /16
    #[arg(long)]
    pub allow_large: bool,
    #[arg(long, value_enum, default_value_t = Output::Yaml)]
    pub output: Output,
}

#[derive(Debug, Subcommand)]
pub enum TrackerCommand {
    /// Current hashrate, averages, balance and estimated payout
    Stats { id: String },
    /// The pool's view of each worker
    Workers { id: String },
    /// Recent rewards or payouts
    Rewards {
        id: String,
        #[arg(long, default_value_t = 10)]
        limit: usize,
    },
    /// The payout schedule
    Payout { id: String },
    /// Make a real request now (a fresh cache is not used; a backoff still is) and report
    Test { id: String },
}

#[derive(Debug, Subcommand)]
pub enum UnitCommand {
    /// auto | hold (send no automatic command) | off (stop its miners now and keep them off);
    /// persisted, and published to Home Assistant when the unit has publishers
    Mode {
        id: String,
        /// auto, hold or off
        mode: String,
        /// Back to auto after this long, e.g. 2h
        #[arg(long = "for", value_name = "DURATION")]
        duration: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum NotifierCommand {
    /// Send a test message through this notifier now and say whether it was accepted
    Test { id: String },
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// How far back, e.g. 24h or 7d
    #[arg(long, default_value = "7d")]
    pub since: String,
    #[arg(long = "miner", value_name = "ID")]
    pub miner: Option<String>,
    /// Every cycle's decision and its reason, not only the actions (identical ones merged)
    #[arg(long)]
    pub decisions: bool,
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// Summarise the state database
    Show,
    /// Reset state: with no flag, cache, backoff and timers (history is kept)
    Clear {
        #[arg(long)]
        cache: bool,
        #[arg(long)]
        backoff: bool,
        #[arg(long)]
        timers: bool,
    },
}

/// Parses the command line, runs the command, and returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let code = if err.use_stderr() { exit::USAGE } else { exit::OK };
            let _ = err.print();
            return code;
        }
    };
    init_logging(cli.verbose, cli.quiet);
    match commands::dispatch(&cli) {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("edge-mining: {}", failure.message);
            failure.code
        }
    }
}

fn init_logging(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        _ => "debug",
    };
    let mut builder = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(level));
    if std::env::var_os("JOURNAL_STREAM").is_some() {
        builder.format_timestamp(None);
    }
    let _ = builder.try_init();
}
