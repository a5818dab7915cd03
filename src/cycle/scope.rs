//! Which units, miners, energy sources and trackers a run covers (`--unit`, `--miner`).

use crate::config::Config;
use crate::config::model::{EnergySource, Miner, Unit};

pub struct Scope<'a> {
    pub units: Vec<&'a Unit>,
    /// Each miner once, even when several selected units list it.
    pub miners: Vec<&'a Miner>,
    pub sources: Vec<&'a EnergySource>,
    pub trackers: Vec<String>,
}

impl<'a> Scope<'a> {
    /// The enabled units (all, or those named) and their active miners (all, or those named).
    pub fn select(config: &'a Config, units: &[String], miners: &[String]) -> Result<Scope<'a>, String> {
        for id in units {
            if !config.units.iter().any(|u| &u.id == id) {
                return Err(format!("unknown unit `{id}`"));
            }
        }
        for id in miners {
            if !config.miners.iter().any(|m| &m.id == id) {
                return Err(format!("unknown miner `{id}`"));
            }
        }
        let selected: Vec<&Unit> = config
            .units
            .iter()
            .filter(|u| u.enabled && (units.is_empty() || units.contains(&u.id)))
            .filter(|u| miners.is_empty() || u.miners.iter().any(|m| miners.contains(m)))
            .collect();
        let mut scope = Scope { units: selected, miners: Vec::new(), sources: Vec::new(), trackers: Vec::new() };
        for unit in &scope.units {
            for miner in config.miners.iter().filter(|m| unit.miners.contains(&m.id) && m.active) {
                if (miners.is_empty() || miners.contains(&miner.id)) && !scope.miners.iter().any(|m| m.id == miner.id) {
                    scope.miners.push(miner);
                }
            }
            if let Some(source) = config.energy_sources.iter().find(|s| s.id == unit.energy_source)
                && !scope.sources.iter().any(|s| s.id == source.id)
            {
                scope.sources.push(source);
            }
            if let Some(tracker) = &unit.tracker
                && !scope.trackers.contains(tracker)
            {
                scope.trackers.push(tracker.clone());
            }
        }
        Ok(scope)
    }

    /// The miners of a unit that this run covers, in the unit's order.
    pub fn unit_miners(&self, unit: &Unit) -> Vec<&'a Miner> {
        unit.miners.iter().filter_map(|id| self.miners.iter().find(|m| &m.id == id).copied()).collect()
    }
}
