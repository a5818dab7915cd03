//! The commands the cycle sends a miner, and what each should bring about.

use crate::core::feature::FeatureType;

/// One kind of command, through one control feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandKind {
    StartMining,
    StopMining,
    PowerOn,
    PowerOff,
    /// A power target in watts (the command carries them).
    SetPowerTarget,
}

impl CommandKind {
    pub fn name(self) -> &'static str {
        match self {
            CommandKind::StartMining => "start_mining",
            CommandKind::StopMining => "stop_mining",
            CommandKind::PowerOn => "power_on",
            CommandKind::PowerOff => "power_off",
            CommandKind::SetPowerTarget => "set_power_target",
        }
    }

    pub fn parse(text: &str) -> Option<CommandKind> {
        [
            CommandKind::StartMining,
            CommandKind::StopMining,
            CommandKind::PowerOn,
            CommandKind::PowerOff,
            CommandKind::SetPowerTarget,
        ]
        .into_iter()
        .find(|kind| kind.name() == text)
    }

    /// The state the command should bring: `on`, `off`, `powered` or `unpowered`.
    pub fn target(self) -> &'static str {
        match self {
            CommandKind::StartMining => "on",
            CommandKind::StopMining => "off",
            CommandKind::PowerOn => "powered",
            CommandKind::PowerOff => "unpowered",
            CommandKind::SetPowerTarget => "watts",
        }
    }

    /// The command through the other control feature (sleep → plug off; plug on → resume).
    pub fn escalation(self) -> CommandKind {
        match self {
            CommandKind::StartMining => CommandKind::PowerOn,
            CommandKind::StopMining => CommandKind::PowerOff,
            CommandKind::PowerOn => CommandKind::StartMining,
            CommandKind::PowerOff => CommandKind::StopMining,
            // A target has nothing to escalate to: retried once, then not effective.
            CommandKind::SetPowerTarget => CommandKind::SetPowerTarget,
        }
    }

    /// Whether the command means the miner goes to work.
    pub fn starts(self) -> bool {
        matches!(self, CommandKind::StartMining | CommandKind::PowerOn)
    }

    pub fn feature(self) -> FeatureType {
        match self {
            CommandKind::StartMining | CommandKind::StopMining => FeatureType::MiningControl,
            CommandKind::PowerOn | CommandKind::PowerOff => FeatureType::PowerControl,
            CommandKind::SetPowerTarget => FeatureType::PowerTargetControl,
        }
    }
}
