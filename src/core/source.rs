//! An energy source as the decisional context sees it: its kind and nominal values.

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EnergySourceType {
    Solar,
    Wind,
    Grid,
    Hydro,
    Other,
}

impl EnergySourceType {
    pub fn name(self) -> &'static str {
        match self {
            EnergySourceType::Solar => "solar",
            EnergySourceType::Wind => "wind",
            EnergySourceType::Grid => "grid",
            EnergySourceType::Hydro => "hydro",
            EnergySourceType::Other => "other",
        }
    }
}

/// The configured facts of an energy source (`energy_source.*` in the context).
#[derive(Debug, Clone, Copy)]
pub struct SourceFacts<'a> {
    pub id: &'a str,
    pub name: Option<&'a str>,
    pub source_type: EnergySourceType,
    /// Peak power, W.
    pub nominal_power_max: Option<f64>,
    /// Battery capacity, Wh.
    pub storage_capacity: Option<f64>,
}
