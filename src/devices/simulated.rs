//! The simulated miner: no network, all 17 features, state kept in the simulated world so
//! it behaves plausibly across invocations (off → starting → on after `boot_time`; a power
//! target takes effect after `ramp_time`, and hashrate follows power).

use serde::Deserialize;

use crate::config::model::Miner;
use crate::config::spec::{ComponentSettings, TypeInfo, Typed};
use crate::core::feature::FeatureType;
use crate::core::reading::{DeviceInfo, Hashboard, MinerReading};
use crate::core::status::MinerStatus;
use crate::devices::{Build, Controller, ControllerSettings, MiningControl, Monitor, PowerControl};
use crate::duration::Span;
use crate::sim::{Phase, SimDevice, SimWorld, noise, seed_of};
use crate::transport::{Call, ErrorKind, InputError};

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SimulatedControllerConfig {
    /// Watts when mining; default the miner's `power_max`, else 3000.
    pub power: Option<f64>,
    /// TH/s when mining; default the miner's `hashrate_max`, else 100.
    pub hashrate: Option<f64>,
    /// Time from start to hashing; default 2m.
    pub boot_time: Option<Span>,
    /// The lowest power target, W; default the miner's `power_min`, else half of `power`.
    pub power_min: Option<f64>,
    /// Time a power target takes to take effect; default 30s.
    pub ramp_time: Option<Span>,
}

/// How long a simulated miner takes to wind down after a stop.
const STOP_TIME: i64 = 20;
const BOARDS: u32 = 3;

pub const TYPE: Typed<SimulatedControllerConfig> = Typed::new(TypeInfo::new(
    "simulated",
    "A simulated miner that boots, hashes and draws power, for trying rules without hardware.",
    "{id: sim, type: simulated, power: 3250, hashrate: 95, boot_time: 2m}",
));

impl ComponentSettings for SimulatedControllerConfig {
    fn features(&self) -> Vec<FeatureType> {
        FeatureType::ALL.to_vec()
    }
}

impl ControllerSettings for SimulatedControllerConfig {
    fn build<'a>(&'a self, build: &Build<'a>) -> Option<Box<dyn Controller + 'a>> {
        Some(Box::new(SimulatedMiner::new(build.id, self, build.owner(), build.world)))
    }
}

pub struct SimulatedMiner<'a> {
    id: String,
    power: f64,
    hashrate: f64,
    boot_time: i64,
    power_min: f64,
    ramp_time: i64,
    world: &'a SimWorld,
}

impl<'a> SimulatedMiner<'a> {
    pub fn new(id: &str, config: &SimulatedControllerConfig, miner: Option<&Miner>, world: &'a SimWorld) -> Self {
        let power = config.power.or(miner.and_then(|m| m.power_max)).unwrap_or(3000.0);
        SimulatedMiner {
            id: id.to_string(),
            power,
            hashrate: config.hashrate.or(miner.and_then(|m| m.hashrate_max)).unwrap_or(100.0),
            boot_time: config.boot_time.unwrap_or(Span::secs(120)).as_secs_i64(),
            power_min: config.power_min.or(miner.and_then(|m| m.power_min)).unwrap_or(power / 2.0),
            ramp_time: config.ramp_time.unwrap_or(Span::secs(30)).as_secs_i64(),
            world,
        }
    }

    /// The device as it is at `now`: finished transitions are completed.
    fn device_at(&self, now: i64) -> SimDevice {
        self.world.device(&self.id).at(now)
    }

    fn begin(&self, phase: Phase, now: i64, relay_on: bool) {
        let settles_at = match phase {
            Phase::Starting => now + self.boot_time,
            Phase::Stopping => now + STOP_TIME,
            _ => now,
        };
        let kept = self.world.device(&self.id);
        self.world.set_device(&self.id, SimDevice { phase, since: now, settles_at, relay_on, ..kept });
    }

    /// The power it draws when hashing: its target once ramped, else its full power.
    fn hashing_power(&self, device: &SimDevice, now: i64) -> f64 {
        match device.target {
            Some(target) if now - device.target_since >= self.ramp_time => target,
            _ => self.power,
        }
    }

    /// A small deterministic wobble around 1.0, different per device and per minute.
    fn wobble(&self, now: i64, spread: f64) -> f64 {
        1.0 - spread + 2.0 * spread * noise(seed_of(&self.id) ^ (now / 60) as u64)
    }

    /// (status, W, TH/s) at `now`, as its reading reports them.
    fn state_at(&self, now: i64) -> (MinerStatus, f64, f64) {
        let device = self.device_at(now);
        match (device.relay_on, device.phase) {
            (false, _) => (MinerStatus::Off, 0.0, 0.0),
            (true, Phase::Off) => (MinerStatus::Off, 0.0, 0.0),
            (true, Phase::Starting) => (MinerStatus::Starting, 150.0, 0.0),
            (true, Phase::Stopping) => (MinerStatus::Stopping, 200.0, 0.0),
            (true, Phase::On) => {
                let watts = self.hashing_power(&device, now);
                let hashrate = self.hashrate * watts / self.power;
                (MinerStatus::On, round(watts * self.wobble(now, 0.02)), hashrate * self.wobble(now + 7, 0.03))
            }
        }
    }

    /// What it draws at `now`, W: exactly the power its reading reports, so the simulated
    /// roof's grid and battery balance with the miners.
    pub fn drawn(&self, now: i64) -> f64 {
        self.state_at(now).1
    }

    fn reading(&self, now: i64) -> MinerReading {
        let device = self.device_at(now);
        let (status, power, hashrate) = self.state_at(now);
        let hashing = hashrate > 0.0;
        let chip = if hashing { 64.0 + 6.0 * self.wobble(now + 13, 0.5) } else { 30.0 };
        MinerReading {
            status: Some(status),
            relay_on: Some(device.relay_on),
            hashrate: Some(round(hashrate)),
            power: Some(round(power)),
            hashboards: Some(
                (0..BOARDS)
                    .map(|index| Hashboard {
                        index,
                        chip_temperature: Some(round(chip + f64::from(index))),
                        board_temperature: Some(round(chip - 10.0 + f64::from(index))),
                        voltage: Some(if hashing { 13.2 } else { 0.0 }),
                        frequency: Some(if hashing { 525.0 } else { 0.0 }),
                        hash_rate: Some(round(hashrate / f64::from(BOARDS))),
                        nominal_hash_rate: Some(round(self.hashrate / f64::from(BOARDS))),
                    })
                    .collect(),
            ),
            inlet_temperature: Some(if device.relay_on { 24.0 } else { 20.0 }),
            outlet_temperature: Some(if hashing { 48.0 } else { 24.0 }),
            internal_fans: Some(if hashing { vec![4200.0, 4260.0] } else { vec![0.0, 0.0] }),
            external_fan: Some(if hashing { 60.0 } else { 0.0 }),
            uptime: (device.phase == Phase::On && device.relay_on).then(|| (now - device.since).max(0) as u64),
            blocks_found: Some(0),
            max_power: Some(self.power),
            max_hashrate: Some(self.hashrate),
            power_target: Some(self.target_of(&device)),
            device_info: Some(DeviceInfo {
                model: Some("Simulated ASIC".into()),
                serial_number: Some(format!("SIM-{:08X}", seed_of(&self.id) as u32)),
                firmware_type: Some("simulated".into()),
                firmware_version: Some(env!("CARGO_PKG_VERSION").into()),
                hostname: Some(self.id.clone()),
                hashboard_count: Some(BOARDS),
                chip_count: Some(BOARDS * 76),
                fan_count: Some(2),
                ..DeviceInfo::default()
            }),
        }
    }
}

fn round(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

impl Monitor for SimulatedMiner<'_> {
    fn read(&self, _wanted: &[FeatureType], call: &Call) -> Result<MinerReading, InputError> {
        Ok(self.reading(call.now))
    }
}

impl MiningControl for SimulatedMiner<'_> {
    fn start_mining(&self, call: &Call) -> Result<(), InputError> {
        let device = self.device_at(call.now);
        if !device.relay_on {
            return Err(InputError::new(ErrorKind::Unreachable, "simulated miner has no power (its plug is off)"));
        }
        if matches!(device.phase, Phase::Off | Phase::Stopping) {
            self.begin(Phase::Starting, call.now, true);
        }
        Ok(())
    }

    fn stop_mining(&self, call: &Call) -> Result<(), InputError> {
        let device = self.device_at(call.now);
        if matches!(device.phase, Phase::On | Phase::Starting) {
            self.begin(Phase::Stopping, call.now, device.relay_on);
        }
        Ok(())
    }
}

impl PowerControl for SimulatedMiner<'_> {
    fn power_on(&self, call: &Call) -> Result<(), InputError> {
        let device = self.device_at(call.now);
        if !device.relay_on {
            self.begin(Phase::Starting, call.now, true);
        }
        Ok(())
    }

    fn power_off(&self, call: &Call) -> Result<(), InputError> {
        self.begin(Phase::Off, call.now, false);
        Ok(())
    }
}

impl SimulatedMiner<'_> {
    fn target_of(&self, device: &SimDevice) -> crate::devices::PowerTarget {
        crate::devices::PowerTarget {
            watts: Some(device.target.unwrap_or(self.power)),
            min: Some(self.power_min),
            max: Some(self.power),
            ..Default::default()
        }
    }
}

impl crate::devices::PowerTargetControl for SimulatedMiner<'_> {
    fn target(&self, call: &Call) -> Result<crate::devices::PowerTarget, InputError> {
        Ok(self.target_of(&self.device_at(call.now)))
    }

    fn set_target(&self, watts: f64, call: &Call) -> Result<crate::devices::Applied, InputError> {
        let device = self.device_at(call.now);
        self.world.set_device(&self.id, SimDevice { target: Some(watts), target_since: call.now, ..device });
        Ok(crate::devices::Applied { watts, lever: None, restarts: false })
    }
}

impl Controller for SimulatedMiner<'_> {
    fn power_target(&self) -> Option<&dyn crate::devices::PowerTargetControl> {
        Some(self)
    }
    fn monitor(&self) -> Option<&dyn Monitor> {
        Some(self)
    }
    fn mining_control(&self) -> Option<&dyn MiningControl> {
        Some(self)
    }
    fn power_control(&self) -> Option<&dyn PowerControl> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn call(now: i64) -> Call<'static> {
        Call::new(now, Instant::now() + Duration::from_secs(5), Duration::from_secs(5))
    }

    #[test]
    fn starts_boots_and_stops() {
        let world = SimWorld::default();
        let config = SimulatedControllerConfig { power: Some(3000.0), hashrate: Some(100.0), ..Default::default() };
        let miner = SimulatedMiner::new("s19", &config, None, &world);
        assert_eq!(miner.reading(1000).status, Some(MinerStatus::Off));
        miner.start_mining(&call(1000)).unwrap();
        assert_eq!(miner.reading(1060).status, Some(MinerStatus::Starting));
        let on = miner.reading(1130);
        assert_eq!(on.status, Some(MinerStatus::On));
        assert!((on.power.unwrap() - 3000.0).abs() < 100.0);
        assert!((on.hashrate.unwrap() - 100.0).abs() < 5.0);
        assert_eq!(on.uptime, Some(10));
        miner.stop_mining(&call(2000)).unwrap();
        assert_eq!(miner.reading(2005).status, Some(MinerStatus::Stopping));
        assert_eq!(miner.reading(2030).status, Some(MinerStatus::Off));
    }

    #[test]
    fn plug_off_means_off_and_no_start() {
        let world = SimWorld::default();
        let miner = SimulatedMiner::new("bitaxe", &SimulatedControllerConfig::default(), None, &world);
        miner.power_off(&call(10)).unwrap();
        assert_eq!(miner.reading(20).relay_on, Some(false));
        assert!(miner.start_mining(&call(20)).is_err());
        miner.power_on(&call(30)).unwrap();
        assert_eq!(miner.reading(40).status, Some(MinerStatus::Starting));
    }
}
