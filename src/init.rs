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
    pub battery_power: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct MinerAnswer {
    /// A controller type (`braiins_os`, `bitaxe`…).
    pub kind: String,
    /// A host for the CGMiner family, a URL for HTTP devices.
    pub address: String,
    /// A port other than the type's default (`host:port`).
    pub port: Option<u16>,
    /// Its id in the config (default `minerN`).
    pub name: Option<String>,
    /// The most it draws, W (read from the device when it answers, else asked).
    pub power_max: Option<f64>,
    /// A smart plug that powers it: (plug type, its URL).
    pub plug: Option<(String, String)>,
}

#[derive(Debug, Clone, Default)]
pub struct Answers {
    pub home_assistant: Option<HomeAssistant>,
    pub miners: Vec<MinerAnswer>,
    pub ocean_address: Option<String>,
    pub timezone: Option<String>,
    /// (latitude, longitude), for the sun in rules.
    pub location: Option<(f64, f64)>,
    /// %: below it the miners stop (with a battery sensor).
    pub min_battery_soc: Option<f64>,
}

/// The controller types `init` can write: the registry's mining devices with an address.
pub fn miner_types() -> Vec<&'static str> {
    let controllers = crate::registry::REGISTRY.section(Section::Controllers);
    controllers.iter().map(|t| t.info()).filter(|i| i.miner && i.address != Address::Other).map(|i| i.name).collect()
}

/// The plug types `init` can write: controllers addressed by URL that are not miners.
pub fn plug_types() -> Vec<&'static str> {
    let controllers = crate::registry::REGISTRY.section(Section::Controllers);
    controllers.iter().map(|t| t.info()).filter(|i| !i.miner && i.address == Address::Url).map(|i| i.name).collect()
}

/// How a controller type is addressed (`host` or `url`).
fn address_of(kind: &str) -> Address {
    crate::registry::REGISTRY.find(Section::Controllers, kind).map_or(Address::Other, |t| t.info().address)
}

/// `TYPE=ADDRESS[,name=ID][,power_max=W][,plug=TYPE:ADDRESS]` from the command line.
pub fn parse_miner(text: &str) -> Result<MinerAnswer, String> {
    let example = "e.g. braiins_os=192.168.1.30,name=s19,power_max=3250,plug=shelly:192.168.1.40";
    let mut parts = text.split(',');
    let first = parts.next().unwrap_or_default();
    let (kind, address) = first.split_once('=').ok_or_else(|| format!("`{text}`: write TYPE=ADDRESS, {example}"))?;
    let mut miner = check_miner(kind.trim(), address.trim())?;
    for part in parts {
        match part.split_once('=').map(|(k, v)| (k.trim(), v.trim())) {
            Some(("name", name)) => miner.name = Some(check_name(name)?),
            Some(("power_max", watts)) => miner.power_max = Some(check_watts(watts)?),
            Some(("plug", plug)) => {
                let (kind, address) =
                    plug.split_once(':').ok_or_else(|| format!("`{plug}`: write plug=TYPE:ADDRESS, {example}"))?;
                miner.plug = Some(check_plug(kind.trim(), address.trim())?);
            }
            _ => return Err(format!("`{part}` in `{text}`: expected name=, power_max= or plug=, {example}")),
        }
    }
    Ok(miner)
}

/// A miner's type and address: a host (a port after `:` is kept apart) for the CGMiner
/// family, a URL (`http://` added when missing) for HTTP devices.
pub fn check_miner(kind: &str, address: &str) -> Result<MinerAnswer, String> {
    let types = miner_types();
    if !types.contains(&kind) {
        return Err(format!("unknown miner type `{kind}`; one of: {}", types.join(", ")));
    }
    if address.is_empty() {
        return Err("an address is needed".into());
    }
    if address_of(kind) == Address::Url {
        return Ok(MinerAnswer { kind: kind.to_string(), address: check_url(address)?, ..MinerAnswer::default() });
    }
    if address.contains("://") || address.contains('/') {
        return Err(format!("`{address}`: a {kind} miner takes a host name or IP address, not a URL"));
    }
    let (host, port) = match address.rsplit_once(':') {
        Some((host, port)) => {
            let port = port.parse::<u16>().map_err(|_| format!("`{address}`: `{port}` is not a port number"))?;
            (host, Some(port))
        }
        None => (address, None),
    };
    if host.is_empty() || !host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-')) {
        return Err(format!("`{host}` is not a host name or IP address"));
    }
    Ok(MinerAnswer { kind: kind.to_string(), address: host.to_string(), port, ..MinerAnswer::default() })
}

/// A plug's type and URL.
pub fn check_plug(kind: &str, address: &str) -> Result<(String, String), String> {
    let types = plug_types();
    if !types.contains(&kind) {
        return Err(format!("unknown plug type `{kind}`; one of: {}", types.join(", ")));
    }
    Ok((kind.to_string(), check_url(address)?))
}

/// A URL with a scheme (`http://` when none is given) and a host.
pub fn check_url(text: &str) -> Result<String, String> {
    let url = if text.contains("://") { text.to_string() } else { format!("http://{text}") };
    let (scheme, rest) = url.split_once("://").unwrap_or_default();
    let host = rest.split(['/', ':', '?']).next().unwrap_or_default();
    if !matches!(scheme, "http" | "https") || host.is_empty() {
        return Err(format!("`{text}` is not an http:// or https:// URL with a host"));
    }
    Ok(url)
}

/// A miner id: letters, digits, `-` and `_`.
pub fn check_name(name: &str) -> Result<String, String> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_')) {
        return Err(format!("`{name}`: a name takes letters, digits, `-` and `_`"));
    }
    Ok(name.to_string())
}

/// Watts: a positive number.
pub fn check_watts(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .ok()
        .filter(|w| w.is_finite() && *w > 0.0)
        .ok_or_else(|| format!("`{text}` is not a power in W"))
}

/// `LAT,LON` in degrees.
pub fn parse_location(text: &str) -> Result<(f64, f64), String> {
    let bad = || format!("`{text}`: write LATITUDE,LONGITUDE in degrees, e.g. 45.46,9.19");
    let (lat, lon) = text.split_once(',').ok_or_else(bad)?;
    let (lat, lon): (f64, f64) = (lat.trim().parse().map_err(|_| bad())?, lon.trim().parse().map_err(|_| bad())?);
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
        return Err(bad());
    }
    Ok((lat, lon))
}

/// Each miner's id in the config.
pub fn miner_ids(answers: &Answers) -> Vec<String> {
    if answers.miners.is_empty() {
        return vec!["demo".into()];
    }
    answers
        .miners
        .iter()
        .enumerate()
        .map(|(i, m)| m.name.clone().unwrap_or_else(|| format!("miner{}", i + 1)))
        .collect()
}

fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

pub fn render(answers: &Answers) -> String {
    let mut out = String::from(
        "# yaml-language-server: $schema=edge-mining.schema.json\n# Written by `edge-mining init`. Check it with `edge-mining validate -c <this file>`,\n# try it with `edge-mining run --dry-run -c <this file>`.\nversion: 1\n\n# The SQLite file that remembers timers, commands and history between runs. Without a\n# `state:` line: $STATE_DIRECTORY under systemd (/var/lib/edge-mining), the same for a config\n# in /etc/edge-mining, else ~/.local/state/edge-mining/state.db. Set one only to move it.\n\n",
    );
    let timezone = answers.timezone.clone().unwrap_or_else(|| "UTC".into());
    out.push_str(&format!(
        "settings:\n  timezone: {timezone}           # for timestamp.* in rules and the daily switch limit\n"
    ));
    if let Some((latitude, longitude)) = answers.location {
        out.push_str(&format!(
            "  latitude: {latitude}             # where the panels are, for sun.* in rules\n  longitude: {longitude}\n"
        ));
    }
    out.push('\n');
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
            if let Some(power) = &ha.battery_power {
                out.push_str(&format!("      battery_power: {power}       # positive when charging\n"));
            }
            out.push('\n');
        }
        None => out.push_str("# No energy meter given: a simulated roof and battery, to try things out.\nenergy_sources:\n  - {id: house, type: solar, nominal_power_max: 6000, storage_capacity: 10000, monitor: {type: simulated}}\n\n"),
    }
    if answers.miners.is_empty() {
        out.push_str("# No miner given: a simulated one. Add yours (see `edge-mining types`).\ncontrollers:\n  - {id: demo-sim, type: simulated}\nminers:\n  - {id: demo, power_max: 3250, hashrate_max: 95, controllers: [demo-sim]}\n\n");
    } else {
        render_miners(&mut out, answers);
    }
    if let Some(address) = &answers.ocean_address {
        out.push_str(&format!("# What the pool sees, for rules over mining_performance.*.\ntrackers:\n  - {{id: ocean, type: ocean, bitcoin_address: {}}}\n\n", quote(address)));
    }
    let ids = miner_ids(answers);
    out.push_str("# A unit binds the energy source, the miners and the rules that switch them.\nunits:\n  - id: home\n    energy_source: house\n");
    if answers.ocean_address.is_some() {
        out.push_str("    tracker: ocean\n");
    }
    out.push_str(&format!("    miners: [{}]\n", ids.join(", ")));
    out.push_str(
        "    policy: rules/solar-policy.yaml          # start with the surplus, stop when the battery drains\n",
    );
    match answers.min_battery_soc {
        Some(soc) => out.push_str(&format!(
            "    safety: {{max_chip_temperature: 85, min_battery_soc: {soc}}}   # stop whatever the rules say\n"
        )),
        None => out.push_str("    safety: {max_chip_temperature: 85}        # stop whatever the rules say\n"),
    }
    out.push_str("    guards: {min_on: 15m, min_off: 10m, max_switches_per_day: 12}   # no flapping\n");
    out
}

/// The controllers (each miner's API, then its plug) and the miners.
fn render_miners(out: &mut String, answers: &Answers) {
    out.push_str(
        "# How to talk to each miner (one controller per device API), and the plugs that power them.\ncontrollers:\n",
    );
    for (index, miner) in answers.miners.iter().enumerate() {
        let key = if address_of(&miner.kind) == Address::Url { "url" } else { "host" };
        let port = miner.port.map_or(String::new(), |p| format!(", port: {p}"));
        out.push_str(&format!(
            "  - {{id: c{}, type: {}, {key}: {}{port}}}\n",
            index + 1,
            miner.kind,
            quote(&miner.address)
        ));
        if let Some((kind, url)) = &miner.plug {
            out.push_str(&format!("  - {{id: plug{}, type: {kind}, url: {}}}\n", index + 1, quote(url)));
        }
    }
    out.push_str("# The miners; `power_max` (W) lets rules compare the surplus with each miner's draw.\nminers:\n");
    for ((index, miner), id) in answers.miners.iter().enumerate().zip(miner_ids(answers)) {
        let plug = if miner.plug.is_some() { format!(", plug{}", index + 1) } else { String::new() };
        let power = miner.power_max.map_or(String::new(), |w| format!("power_max: {w}, "));
        let note = match (&miner.plug, miner.kind.as_str(), miner.power_max) {
            (_, _, None) => "   # set power_max (W): the policy compares it with the surplus",
            (None, "bitaxe", _) => "   # AxeOS cannot pause: add a plug to start and stop it",
            _ => "",
        };
        out.push_str(&format!("  - {{id: {id}, {power}controllers: [c{}{plug}]}}{note}\n", index + 1));
    }
    out.push('\n');
}

/// The policy `render` names, written beside the config when it is missing.
pub const POLICY: &str = include_str!("../rules/solar-policy.yaml");
