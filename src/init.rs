//! The text of a starter config, from a few answers: Home Assistant energy sensors (or a
//! simulated source), miners by type and address, a pool. Every part carries a comment
//! saying what it does; the result passes `validate`.

use crate::config::spec::{Address, Section};

/// Home Assistant, when the home has it.
#[derive(Debug, Clone, Default)]
pub struct HomeAssistant {
    pub url: String,
    pub token_file: String,
    pub production: String,
    pub consumption: String,
    pub grid: Option<String>,
    pub battery_soc: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MinerAnswer {
    /// A controller type (`braiins_os`, `bitaxe`…).
    pub kind: String,
    /// A host for the CGMiner family, a URL for HTTP devices.
    pub address: String,
}

#[derive(Debug, Clone, Default)]
pub struct Answers {
    pub home_assistant: Option<HomeAssistant>,
    pub miners: Vec<MinerAnswer>,
    pub ocean_address: Option<String>,
    pub timezone: Option<String>,
}

/// The controller types `init` can write: the registry's mining devices with an address.
pub fn miner_types() -> Vec<&'static str> {
    let controllers = crate::registry::REGISTRY.section(Section::Controllers);
    controllers.iter().map(|t| t.info()).filter(|i| i.miner && i.address != Address::Other).map(|i| i.name).collect()
}

/// How a controller type is addressed (`host` or `url`).
fn address_of(kind: &str) -> Address {
    crate::registry::REGISTRY.find(Section::Controllers, kind).map_or(Address::Other, |t| t.info().address)
}

/// `TYPE=ADDRESS` from the command line.
pub fn parse_miner(text: &str) -> Result<MinerAnswer, String> {
    let (kind, address) =
        text.split_once('=').ok_or_else(|| format!("`{text}`: write TYPE=ADDRESS, e.g. braiins_os=192.168.1.30"))?;
    check_miner(kind.trim(), address.trim())
}

pub fn check_miner(kind: &str, address: &str) -> Result<MinerAnswer, String> {
    let types = miner_types();
    if !types.contains(&kind) {
        return Err(format!("unknown miner type `{kind}`; one of: {}", types.join(", ")));
    }
    if address.is_empty() {
        return Err("an address is needed".into());
    }
    let address = if address_of(kind) == Address::Url && !address.contains("://") {
        format!("http://{address}")
    } else {
        address.to_string()
    };
    Ok(MinerAnswer { kind: kind.to_string(), address })
}

fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

pub fn render(answers: &Answers) -> String {
    let mut out = String::from(
        "# yaml-language-server: $schema=edge-mining.schema.json\n# Written by `edge-mining init`. Check it with `edge-mining validate -c <this file>`,\n# try it with `edge-mining run --dry-run -c <this file>`.\nversion: 1\n\n# The SQLite file that remembers timers, commands and history between runs.\nstate: edge-mining.db\n\n",
    );
    let timezone = answers.timezone.clone().unwrap_or_else(|| "UTC".into());
    out.push_str(&format!(
        "settings:\n  timezone: {timezone}           # for timestamp.* in rules and the daily switch limit\n\n"
    ));
    match &answers.home_assistant {
        Some(ha) => {
            out.push_str("# Home Assistant, where the energy sensors live.\nservices:\n");
            out.push_str(&format!("  - {{id: ha, type: home_assistant, url: {}, token_file: {}}}\n\n", quote(&ha.url), quote(&ha.token_file)));
            out.push_str("# What the house produces and uses (without the miners), read from Home Assistant.\nenergy_sources:\n  - id: house\n    type: solar\n    monitor:\n      type: home_assistant\n      service: ha\n");
            out.push_str(&format!("      production: {}\n      consumption: {}\n", ha.production, ha.consumption));
            if let Some(grid) = &ha.grid {
                out.push_str(&format!("      grid: {grid}               # positive when importing (grid_positive_export: true if not)\n"));
            }
            if let Some(soc) = &ha.battery_soc {
                out.push_str(&format!("      battery_soc: {soc}\n"));
            }
            out.push('\n');
        }
        None => out.push_str("# No energy meter given: a simulated roof and battery, to try things out.\nenergy_sources:\n  - {id: house, type: solar, nominal_power_max: 6000, storage_capacity: 10000, monitor: {type: simulated}}\n\n"),
    }
    let mut miners = answers.miners.clone();
    if miners.is_empty() {
        out.push_str("# No miner given: a simulated one. Add yours (see `edge-mining types`).\ncontrollers:\n  - {id: demo-sim, type: simulated}\nminers:\n  - {id: demo, power_max: 3250, hashrate_max: 95, controllers: [demo-sim]}\n\n");
    } else {
        out.push_str("# How to talk to each miner (one controller per device API).\ncontrollers:\n");
        for (index, miner) in miners.iter_mut().enumerate() {
            let key = if address_of(&miner.kind) == Address::Url { "url" } else { "host" };
            out.push_str(&format!(
                "  - {{id: c{}, type: {}, {key}: {}}}\n",
                index + 1,
                miner.kind,
                quote(&miner.address)
            ));
        }
        out.push_str("# The miners; `power_max` (W) lets rules compare the surplus with each miner's draw.\nminers:\n");
        for (index, miner) in miners.iter().enumerate() {
            let note = if miner.kind == "bitaxe" {
                "   # AxeOS cannot pause: add a plug controller to start and stop it"
            } else {
                ""
            };
            out.push_str(&format!("  - {{id: miner{}, controllers: [c{}]}}{note}\n", index + 1, index + 1));
        }
        out.push('\n');
    }
    if let Some(address) = &answers.ocean_address {
        out.push_str(&format!("# What the pool sees, for rules over mining_performance.*.\ntrackers:\n  - {{id: ocean, type: ocean, bitcoin_address: {}}}\n\n", quote(address)));
    }
    let ids: Vec<String> = if answers.miners.is_empty() {
        vec!["demo".into()]
    } else {
        (1..=answers.miners.len()).map(|i| format!("miner{i}")).collect()
    };
    out.push_str("# A unit binds the energy source, the miners and the rules that switch them.\nunits:\n  - id: home\n    energy_source: house\n");
    if answers.ocean_address.is_some() {
        out.push_str("    tracker: ocean\n");
    }
    out.push_str(&format!("    miners: [{}]\n", ids.join(", ")));
    out.push_str(
        "    policy: rules/solar-policy.yaml          # start with the surplus, stop when the battery drains\n",
    );
    out.push_str("    safety: {max_chip_temperature: 85}        # stop whatever the rules say\n");
    out.push_str("    guards: {min_on: 15m, min_off: 10m, max_switches_per_day: 12}   # no flapping\n");
    out
}

/// The policy `render` names, written beside the config when it is missing.
pub const POLICY: &str = include_str!("../rules/solar-policy.yaml");
