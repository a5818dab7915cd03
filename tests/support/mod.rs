//! Shared test support: a sandbox folder with a config and a state file, and a way to run
//! the built binary in it. Fakes of devices and services live beside this file.

pub mod antminer;
pub mod auradine;
pub mod avalon;
pub mod bitaxe;
pub mod braiins_os;
pub mod cgminer;
pub mod epic;
pub mod forecast_solar;
pub mod home_assistant;
pub mod http;
pub mod luxos;
pub mod mempool;
pub mod mosquitto;
pub mod pool;
pub mod prometheus;
pub mod replies;
pub mod sealminer;
pub mod shelly;
pub mod tasmota;
pub mod vnish;
pub mod whatsminer;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A temporary folder holding a config, its rule files and the state database.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox { dir: tempfile::tempdir().expect("temp dir") }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&path, text).expect("write");
        path
    }

    /// The repository's `config.example.yaml` and its policy, with the state in the sandbox.
    pub fn example(&self) {
        let policy = std::fs::read_to_string(repo("rules/solar-policy.yaml")).expect("policy");
        self.write("rules/solar-policy.yaml", &policy);
        let config = std::fs::read_to_string(repo("config.example.yaml")).expect("example config");
        self.config(&config.replace("state: edge-mining-example.db", "state: state.db"));
    }

    /// Rules that follow a production sensor: start at 3 kW or more, stop below.
    pub fn sun_rules(&self) {
        self.write(
            "start.yaml",
            "rules:\n  - name: sunny\n    conditions: {field: energy_state.production, operator: gte, value: 3000}\n",
        );
        self.write(
            "stop.yaml",
            "rules:\n  - name: cloudy\n    conditions: {field: energy_state.production, operator: lt, value: 3000}\n",
        );
    }

    /// Rewrites `config.yaml`.
    pub fn edit_config(&self, edit: impl FnOnce(String) -> String) {
        let text = std::fs::read_to_string(self.path("config.yaml")).expect("config");
        self.config(&edit(text));
    }

    /// Writes `config.yaml` and returns its path.
    pub fn config(&self, text: &str) -> PathBuf {
        self.write("config.yaml", text)
    }

    pub fn state(&self) -> PathBuf {
        self.path("state.db")
    }

    /// Runs the binary with `-c config.yaml` and the given arguments.
    pub fn run(&self, args: &[&str]) -> Run {
        run_binary(self.dir.path(), &self.path("config.yaml"), args)
    }

    /// Runs `run --output json` at an instant and parses the report.
    pub fn cycle(&self, now: &str, extra: &[&str]) -> (Run, serde_json::Value) {
        let mut args = vec!["run", "--output", "json", "--now", now];
        args.extend_from_slice(extra);
        let run = self.run(&args);
        let report =
            serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr));
        (run, report)
    }
}

/// A finished invocation.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_edge-mining")
}

pub fn command(dir: &Path, config: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(binary());
    command.current_dir(dir).arg("-c").arg(config).args(args);
    command.env_remove("EDGE_MINING_CONFIG").env_remove("RUST_LOG").env_remove("STATE_DIRECTORY");
    // A config without `state:` keeps its database under the sandbox, never in $HOME.
    command.env("XDG_STATE_HOME", dir.join(".state"));
    command
}

pub fn run_binary(dir: &Path, config: &Path, args: &[&str]) -> Run {
    finished(command(dir, config, args).output().expect("run binary"))
}

/// Runs the binary with just `args` (commands that need no config).
pub fn run_args(args: &[&str]) -> Run {
    finished(Command::new(binary()).args(args).output().expect("run binary"))
}

pub fn finished(output: Output) -> Run {
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The repository's own files (example config, rules).
pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The miners of every unit in a `run --output json` report, by id.
pub fn miner<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["units"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|u| u["miners"].as_array().into_iter().flatten())
        .find(|m| m["id"] == id)
        .unwrap_or_else(|| panic!("miner {id} not in report: {report}"))
}
