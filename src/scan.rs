//! Finding miners on a network: read-only probes of the CGMiner API (`version`,
//! `devdetails`, `summary`) and of AxeOS (`GET /api/system/info`), bounded in concurrency
//! and time, and config entries ready to paste. Only the addresses given are probed, and
//! nothing is ever written to a device.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::devices::{antminer, auradine, avalon, bitaxe, braiins_os, cgminer, epic, luxos, vnish, whatsminer};
use crate::transport::Call;
use crate::transport::cgminer::Client;
use crate::transport::cgminer::readings::hashrate_ths;
use crate::transport::cgminer::reply::{field_text, first, section};
use crate::transport::http::{Request, fetch_json};

/// Largest range scanned without `--allow-large`.
pub const LARGEST_PREFIX: u8 = 16;

/// A device that answered.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Found {
    pub address: String,
    /// The controller type to use for it.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub model: Option<String>,
    pub firmware: Option<String>,
    /// TH/s, when it said.
    pub hashrate: Option<f64>,
    pub port: u16,
    pub url: Option<String>,
}

/// The addresses of `a.b.c.d/nn` ranges (or single addresses).
pub fn targets(ranges: &[String], allow_large: bool) -> Result<Vec<Ipv4Addr>, String> {
    let mut addresses = Vec::new();
    for range in ranges {
        let (base, prefix) = match range.split_once('/') {
            Some((base, prefix)) => {
                (base, prefix.parse::<u8>().map_err(|_| format!("`{range}`: invalid prefix length"))?)
            }
            None => (range.as_str(), 32),
        };
        let base: Ipv4Addr = base.parse().map_err(|_| format!("`{range}`: not an IPv4 address or range"))?;
        if prefix > 32 {
            return Err(format!("`{range}`: the prefix length is at most 32"));
        }
        if prefix < LARGEST_PREFIX && !allow_large {
            return Err(format!(
                "`{range}` holds {} addresses; ranges larger than a /{LARGEST_PREFIX} need --allow-large",
                1u64 << (32 - prefix)
            ));
        }
        let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - prefix) };
        let network = u32::from(base) & mask;
        let size = 1u64 << (32 - prefix);
        // Skip the network and broadcast addresses of real subnets.
        let (skip_first, skip_last) = if size > 2 { (1, 1) } else { (0, 0) };
        addresses
            .extend((skip_first..size - skip_last).map(|offset| Ipv4Addr::from(network.wrapping_add(offset as u32))));
    }
    Ok(addresses)
}

/// What `version` and `devdetails` say about the firmware: (controller type, firmware).
fn classify(version: &Value, details: Option<&Value>) -> (&'static str, Option<String>) {
    let description =
        version.pointer("/STATUS/0/Description").and_then(Value::as_str).unwrap_or_default().to_lowercase();
    let entry = first(version, "VERSION").cloned().unwrap_or(Value::Null);
    let has = |key: &str| entry.get(key).is_some();
    let driver = |name: &str| {
        details.is_some_and(|d| {
            section(d, "DEVDETAILS")
                .iter()
                .any(|dev| field_text(dev, "Driver").is_some_and(|v| v.eq_ignore_ascii_case(name)))
        })
    };
    if driver("bitmicro") || description.contains("whatsminer") || description.contains("btminer") {
        return (whatsminer::TYPE.info.name, field_text(&entry, "CGMiner").or(Some(description)));
    }
    if description.contains("gcminer") || description.contains("fluxos") {
        return (auradine::TYPE.info.name, field_text(&entry, "GCMiner").or(Some(description)));
    }
    if has("LUXminer") || description.contains("luxminer") {
        return (luxos::TYPE.info.name, field_text(&entry, "LUXminer"));
    }
    if has("BOSer") || has("bosminer") || description.contains("bosminer") || description.contains("boser") {
        return (braiins_os::TYPE.info.name, field_text(&entry, "BOSer").or_else(|| field_text(&entry, "bosminer")));
    }
    if field_text(&entry, "PROD").is_some_and(|p| p.to_lowercase().contains("avalon")) || has("HWTYPE") {
        return (avalon::TYPE.info.name, field_text(&entry, "CGMiner"));
    }
    if has("BMMiner") {
        return (antminer::TYPE.info.name, field_text(&entry, "BMMiner"));
    }
    (cgminer::TYPE.info.name, field_text(&entry, "CGMiner").or_else(|| field_text(&entry, "Miner")))
}

fn probe_cgminer(address: Ipv4Addr, port: u16, call: &Call) -> Option<Found> {
    let client = Client::new(&address.to_string(), port);
    let Ok(version) = client.command("version", None, call) else {
        return probe_whatsminer(&client, address, port, call);
    };
    let details = client.command("devdetails", None, call).ok();
    let (kind, firmware) = classify(&version, details.as_ref());
    let entry = first(&version, "VERSION").cloned().unwrap_or(Value::Null);
    let model = field_text(&entry, "Type")
        .or_else(|| field_text(&entry, "PROD"))
        .or_else(|| details.as_ref().and_then(|d| first(d, "DEVDETAILS")).and_then(|d| field_text(d, "Model")));
    let hashrate = client.command("summary", None, call).ok().and_then(|s| first(&s, "SUMMARY").and_then(hashrate_ths));
    Some(Found { address: address.to_string(), kind, model, firmware, hashrate, port, url: None })
}

/// A Whatsminer that does not answer `version` still answers its own `get_version`.
fn probe_whatsminer(client: &Client, address: Ipv4Addr, port: u16, call: &Call) -> Option<Found> {
    let reply = client.command("get_version", None, call).ok()?;
    let message = reply.get("Msg")?;
    let firmware = field_text(message, "fw_ver").or_else(|| field_text(message, "api_ver"))?;
    let summary = client.command("summary", None, call).ok();
    let hashrate = summary.as_ref().and_then(|s| first(s, "SUMMARY")).and_then(hashrate_ths);
    Some(Found {
        address: address.to_string(),
        kind: whatsminer::TYPE.info.name,
        model: None,
        firmware: Some(firmware),
        hashrate,
        port,
        url: None,
    })
}

/// ePIC answers HTTP on the CGMiner port: `/summary` with an `HBs` list.
fn probe_epic(address: Ipv4Addr, port: u16, call: &Call) -> Option<Found> {
    let summary = fetch_json(&Request::get(&format!("http://{address}:{port}/summary")), call.budget()?).ok()?;
    summary.get("HBs")?;
    let reading = crate::devices::epic::reading_of(&summary, None).ok()?;
    let device = reading.device_info.unwrap_or_default();
    Some(Found {
        address: address.to_string(),
        kind: epic::TYPE.info.name,
        model: device.model,
        firmware: device.firmware_version,
        hashrate: reading.hashrate,
        port,
        url: None,
    })
}

/// VNish answers `/api/v1/summary` with a `miner` section.
fn probe_vnish(address: Ipv4Addr, port: u16, call: &Call) -> Option<Found> {
    let url = if port == 80 { format!("http://{address}") } else { format!("http://{address}:{port}") };
    let summary = fetch_json(&Request::get(&format!("{url}/api/v1/summary")), call.budget()?).ok()?;
    summary.pointer("/miner/hr_realtime")?;
    let reading = crate::devices::vnish::reading_of(&summary).ok()?;
    let device = reading.device_info.unwrap_or_default();
    Some(Found {
        address: address.to_string(),
        kind: vnish::TYPE.info.name,
        model: device.model,
        firmware: device.firmware_version,
        hashrate: reading.hashrate,
        port,
        url: Some(url),
    })
}

fn probe_axeos(address: Ipv4Addr, port: u16, call: &Call) -> Option<Found> {
    let url = if port == 80 { format!("http://{address}") } else { format!("http://{address}:{port}") };
    let info = fetch_json(&Request::get(&format!("{url}/api/system/info")), call.budget()?).ok()?;
    info.get("hashRate")?;
    let reading = crate::devices::bitaxe::reading_of(&info).ok()?;
    let device = reading.device_info.unwrap_or_default();
    Some(Found {
        address: address.to_string(),
        kind: bitaxe::TYPE.info.name,
        model: device.model,
        firmware: device.firmware_version,
        hashrate: reading.hashrate,
        port,
        url: Some(url),
    })
}

/// Probes every address; returns what answered, in address order.
pub fn scan(addresses: &[Ipv4Addr], port: u16, http_port: u16, timeout: Duration, concurrency: usize) -> Vec<Found> {
    let results = crate::parallel::map(addresses, concurrency, |address| {
        let call = Call::new(0, Instant::now() + timeout * 4, timeout);
        probe_cgminer(*address, port, &call)
            .or_else(|| probe_epic(*address, port, &call))
            .or_else(|| probe_axeos(*address, http_port, &call))
            .or_else(|| probe_vnish(*address, http_port, &call))
    });
    results.into_iter().flatten().collect()
}

/// `controllers:` and `miners:` entries for what was found, with a comment per device.
pub fn entries(found: &[Found]) -> String {
    let mut controllers = String::from("controllers:\n");
    let mut miners = String::from("miners:\n");
    for device in found {
        let id = format!("{}-{}", device.kind.replace('_', "-"), device.address.rsplit('.').next().unwrap_or("0"));
        let what = [device.model.clone(), device.firmware.clone(), device.hashrate.map(|h| format!("{h:.2} TH/s"))];
        let what: Vec<String> = what.into_iter().flatten().collect();
        controllers.push_str(&format!("  # {}: {}\n", device.address, what.join(", ")));
        let location = match &device.url {
            Some(url) => format!("url: \"{url}\""),
            None if device.port == 4028 => format!("host: {}", device.address),
            None => format!("host: {}, port: {}", device.address, device.port),
        };
        controllers.push_str(&format!("  - {{id: {id}, type: {}, {location}}}\n", device.kind));
        miners.push_str(&format!("  - {{id: miner-{}, controllers: [{id}]}}\n", device.address.replace('.', "-")));
    }
    format!("{controllers}{miners}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn firmwares_are_told_by_version_and_devdetails() {
        let version = |description: &str, entry: Value| serde_json::json!({"STATUS": [{"STATUS": "S", "Description": description}], "VERSION": [entry]});
        let gcminer = version("GCMiner-2023-05.24-0ce5e7cc", serde_json::json!({"API": "3.7"}));
        assert_eq!(classify(&gcminer, None).0, "auradine");
        let plain = version("cgminer 4.9.2", serde_json::json!({"CGMiner": "4.9.2"}));
        assert_eq!(classify(&plain, None).0, "cgminer");
        let details = serde_json::json!({"DEVDETAILS": [{"Driver": "bitmicro", "Model": "M50"}]});
        assert_eq!(classify(&plain, Some(&details)).0, "whatsminer");
    }

    #[test]
    fn ranges() {
        assert_eq!(targets(&["192.168.1.0/30".into()], false).unwrap().len(), 2);
        assert_eq!(targets(&["10.0.0.7".into()], false).unwrap(), vec![Ipv4Addr::new(10, 0, 0, 7)]);
        assert_eq!(targets(&["10.0.0.0/16".into()], false).unwrap().len(), 65_534);
        assert!(targets(&["10.0.0.0/8".into()], false).unwrap_err().contains("--allow-large"));
        assert!(targets(&["10.0.0.0/33".into()], false).is_err());
        assert!(targets(&["miner.local".into()], false).is_err());
    }
}
