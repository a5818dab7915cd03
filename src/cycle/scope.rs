//! Which units, miners, energy sources and trackers a run covers (`--unit`, `--miner`).

use std::collections::BTreeMap;

use crate::config::Config;
use crate::config::model::{EnergySource, Miner, Unit};

pub struct Scope<'a> {
    pub units: Vec<&'a Unit>,
    /// Each active miner of the selected units once, even when several units list it: all
    /// are read, since a miner's share of the budget depends on the others (SPEC §17.1).
    pub miners: Vec<&'a Miner>,
    /// The miners named with `--miner`: only they get commands (empty: all).
    named: Vec<String>,
    /// The same miners by id.
    by_id: BTreeMap<&'a str, &'a Miner>,
    pub sources: Vec<&'a EnergySource>,
    pub trackers: Vec<String>,
}

impl<'a> Scope<'a> {
    /// The enabled units (all, those named, or those listing a named miner) and their active
    /// miners; commands go to the named miners only.
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
        let configured: BTreeMap<&str, &Miner> = config.miners.iter().map(|m| (m.id.as_str(), m)).collect();
        let mut scope = Scope {
            units: selected,
            miners: Vec::new(),
            named: miners.to_vec(),
            by_id: BTreeMap::new(),
            sources: Vec::new(),
            trackers: Vec::new(),
        };
        for unit in &scope.units {
            for miner in unit.miners.iter().filter_map(|id| configured.get(id.as_str()).copied()) {
                if miner.active && scope.by_id.insert(miner.id.as_str(), miner).is_none() {
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

    /// The unit an intent of `miner` belongs to: the one it names, else the first that
    /// lists the miner.
    pub fn unit_of(&self, named: Option<&str>, miner: &str) -> Option<&'a Unit> {
        let named = named.and_then(|id| self.units.iter().find(|u| u.id == id));
        named.or_else(|| self.units.iter().find(|u| u.miners.iter().any(|m| m == miner))).copied()
    }

    /// Whether this run may send `miner` commands (`--miner` names it, or names none).
    pub fn commands(&self, miner: &str) -> bool {
        self.named.is_empty() || self.named.iter().any(|id| id == miner)
    }

    /// A miner this run covers.
    pub fn miner(&self, id: &str) -> Option<&'a Miner> {
        self.by_id.get(id).copied()
    }

    /// The miners of a unit that this run covers, in the unit's order.
    pub fn unit_miners(&self, unit: &Unit) -> Vec<&'a Miner> {
        unit.miners.iter().filter_map(|id| self.miner(id)).collect()
    }
}
