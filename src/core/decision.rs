//! What a policy decides for one miner.

/// What the policy decides for one miner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    StartMining,
    StopMining,
    MaintainState,
}

impl Decision {
    pub fn name(self) -> &'static str {
        match self {
            Decision::StartMining => "start_mining",
            Decision::StopMining => "stop_mining",
            Decision::MaintainState => "maintain_state",
        }
    }

    pub fn parse(text: &str) -> Option<Decision> {
        match text {
            "start_mining" => Some(Decision::StartMining),
            "stop_mining" => Some(Decision::StopMining),
            "maintain_state" => Some(Decision::MaintainState),
            _ => None,
        }
    }
}
