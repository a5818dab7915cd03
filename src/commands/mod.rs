//! One module per command; each returns the process exit code.

mod context;
mod history;
mod init;
pub mod miner;
mod notifier;
mod rules;
mod run;
mod scan;
mod simulate;
mod state;
mod tracker;
mod types;
mod unit;
mod validate;

use std::path::PathBuf;

use jiff::Timestamp;

use crate::cli::{Cli, Command};
use crate::config::Loaded;
use crate::exit::{self, Failure};

pub fn dispatch(cli: &Cli) -> Result<i32, Failure> {
    match &cli.command {
        Command::Run(args) => run::run(cli, args),
        Command::Validate { offline } => validate::validate(cli, *offline),
        Command::Context(args) => context::context(cli, args),
        Command::Rules(command) => rules::rules(command),
        Command::Miner(command) => miner::miner(cli, command),
        Command::Tracker(command) => tracker::tracker(cli, command),
        Command::History(args) => history::history(cli, args),
        Command::Notifier(command) => notifier::notifier(cli, command),
        Command::Unit(command) => unit::unit(cli, command),
        Command::Simulate(args) => simulate::simulate(cli, args),
        Command::Scan(args) => scan::scan(args),
        Command::Init(args) => init::init(args),
        Command::Completions { shell } => {
            print!("{}", completions(*shell));
            Ok(exit::OK)
        }
        Command::Man => {
            man_page(&mut std::io::stdout()).map_err(|e| Failure::new(exit::FATAL, e.to_string()))?;
            Ok(exit::OK)
        }
        Command::Types { name } => types::types(name.as_deref()),
        Command::Schema => {
            println!(
                "{}",
                serde_json::to_string_pretty(&crate::config::schema::config_schema(&crate::registry::REGISTRY))
                    .unwrap_or_default()
            );
            Ok(crate::exit::OK)
        }
        Command::State(command) => state::state(cli, command),
    }
}

/// The config file: `-c`, `$EDGE_MINING_CONFIG`, or `config.yaml` in systemd's configuration directory.
pub fn config_path(cli: &Cli) -> Result<PathBuf, Failure> {
    if let Some(path) = &cli.config {
        return Ok(path.clone());
    }
    if let Some(dir) = std::env::var_os("CONFIGURATION_DIRECTORY") {
        return Ok(PathBuf::from(dir).join("config.yaml"));
    }
    Err(Failure::new(exit::USAGE, "no config file: pass -c PATH (or set EDGE_MINING_CONFIG)"))
}

/// Loads the config; every problem is printed with its position, and the exit code is 78.
pub fn load_config(cli: &Cli) -> Result<Loaded, Failure> {
    load_file(&config_path(cli)?)
}

/// Loads the config at `path` (a second one, for `simulate --compare`), as `load_config` does.
pub fn load_file(path: &std::path::Path) -> Result<Loaded, Failure> {
    match crate::config::load(path, &crate::registry::REGISTRY) {
        Ok(loaded) => {
            for warning in &loaded.warnings {
                log::warn!("{warning}");
            }
            Ok(loaded)
        }
        Err(problems) => {
            for problem in &problems {
                eprintln!("{problem}");
            }
            let errors = problems.iter().filter(|p| p.is_error()).count();
            Err(Failure::new(exit::CONFIG, format!("{} is invalid ({errors} error(s))", path.display())))
        }
    }
}

/// Prints a document as `--output json` or `yaml` asks (anything else: JSON).
pub fn print_structured(output: crate::cli::Output, document: &impl serde::Serialize) {
    match output {
        crate::cli::Output::Yaml => print!("{}", serde_yaml::to_string(document).unwrap_or_default()),
        _ => println!("{}", serde_json::to_string_pretty(document).unwrap_or_default()),
    }
}

/// The command's clock, at `--now` when given.
pub fn clock(cli: &Cli, loaded: &Loaded) -> Result<crate::cycle::Clock, Failure> {
    crate::cycle::Clock::at(loaded, cli.now.as_deref())
}

/// `--now` as an instant, for `run` (whose cycle builds its own clock).
pub fn parse_now(cli: &Cli, loaded: &Loaded) -> Result<Option<Timestamp>, Failure> {
    if cli.now.is_none() {
        return Ok(None);
    }
    Ok(Timestamp::from_second(clock(cli, loaded)?.now).ok())
}

/// The completion script for `shell`. clap_complete's bash script labels the states of a
/// hyphenated binary's subcommands `edge__subcmd__mining…` while its dispatch loop arrives at
/// `edge__mining…`, so nothing past the first word completes (clap-rs/clap#6421); the labels
/// are spelled the loop's way here.
fn completions(shell: clap_complete::Shell) -> String {
    let mut command = <Cli as clap::CommandFactory>::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "edge-mining", &mut script);
    let script = String::from_utf8_lossy(&script).into_owned();
    if shell == clap_complete::Shell::Bash { script.replace("edge__subcmd__mining", "edge__mining") } else { script }
}

/// The man page: one page, whose COMMANDS section describes each command in place (clap_mangen's
/// own section points at `edge-mining-run(1)`… pages that are not installed).
fn man_page(out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let command = <Cli as clap::CommandFactory>::command();
    let page = clap_mangen::Man::new(command.clone());
    page.render_title(out)?;
    page.render_name_section(out)?;
    page.render_synopsis_section(out)?;
    page.render_description_section(out)?;
    page.render_options_section(out)?;
    writeln!(out, ".SH COMMANDS")?;
    for sub in command.get_subcommands().filter(|c| c.get_name() != "help") {
        let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default().replace('-', "\\-");
        writeln!(
            out,
            ".TP\n\\fB{}\\fR\n{about}; \\fBedge\\-mining {} \\-\\-help\\fR for its options.",
            sub.get_name(),
            sub.get_name()
        )?;
    }
    page.render_extra_section(out)?;
    page.render_version_section(out)?;
    page.render_authors_section(out)
}
