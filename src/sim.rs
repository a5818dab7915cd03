//! The simulated world: device and battery state shared by the simulated controller,
//! energy monitor and tracker. It is loaded from the state database at the start of a run
//! and saved back at the end, so consecutive runs see a plausible, continuous day.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// What a simulated miner is doing, and since when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Off,
    Starting,
    On,
    Stopping,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Off => "off",
            Phase::Starting => "starting",
            Phase::On => "on",
            Phase::Stopping => "stopping",
        }
    }

    pub fn parse(text: &str) -> Option<Phase> {
        [Phase::Off, Phase::Starting, Phase::On, Phase::Stopping].into_iter().find(|p| p.name() == text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimDevice {
    pub phase: Phase,
    /// Unix seconds when `phase` began.
    pub since: i64,
    /// When a transition (starting, stopping) completes.
    pub settles_at: i64,
    pub relay_on: bool,
    /// The power target set on it, W, and since when (it ramps there).
    pub target: Option<f64>,
    pub target_since: i64,
}

impl Default for SimDevice {
    fn default() -> SimDevice {
        SimDevice { phase: Phase::Off, since: 0, settles_at: 0, relay_on: true, target: None, target_since: 0 }
    }
}

impl SimDevice {
    /// The device as it is at `now`: a finished transition is completed.
    pub fn at(self, now: i64) -> SimDevice {
        let settled = match self.phase {
            Phase::Starting => Phase::On,
            Phase::Stopping => Phase::Off,
            other => other,
        };
        if settled != self.phase && now >= self.settles_at {
            SimDevice { phase: settled, since: self.settles_at, ..self }
        } else {
            self
        }
    }

    /// Mining: powered and past its boot.
    pub fn hashing(self, now: i64) -> bool {
        let device = self.at(now);
        device.relay_on && device.phase == Phase::On
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimBattery {
    pub soc: f64,
    /// Unix seconds of the last integration step.
    pub at: i64,
}

/// The whole simulated world, shared by reference between polling threads.
#[derive(Debug, Default)]
pub struct SimWorld {
    devices: Mutex<BTreeMap<String, SimDevice>>,
    batteries: Mutex<BTreeMap<String, SimBattery>>,
    changed: AtomicBool,
}

impl SimWorld {
    pub fn new(devices: BTreeMap<String, SimDevice>, batteries: BTreeMap<String, SimBattery>) -> SimWorld {
        SimWorld { devices: Mutex::new(devices), batteries: Mutex::new(batteries), changed: AtomicBool::new(false) }
    }

    pub fn device(&self, id: &str) -> SimDevice {
        self.devices.lock().map(|d| d.get(id).copied().unwrap_or_default()).unwrap_or_default()
    }

    pub fn set_device(&self, id: &str, device: SimDevice) {
        if let Ok(mut devices) = self.devices.lock() {
            devices.insert(id.to_string(), device);
            self.changed.store(true, Ordering::SeqCst);
        }
    }

    pub fn battery(&self, source: &str) -> Option<SimBattery> {
        self.batteries.lock().ok().and_then(|b| b.get(source).copied())
    }

    pub fn set_battery(&self, source: &str, battery: SimBattery) {
        if let Ok(mut batteries) = self.batteries.lock() {
            batteries.insert(source.to_string(), battery);
            self.changed.store(true, Ordering::SeqCst);
        }
    }

    pub fn changed(&self) -> bool {
        self.changed.load(Ordering::SeqCst)
    }

    pub fn devices(&self) -> BTreeMap<String, SimDevice> {
        self.devices.lock().map(|d| d.clone()).unwrap_or_default()
    }

    pub fn batteries(&self) -> BTreeMap<String, SimBattery> {
        self.batteries.lock().map(|b| b.clone()).unwrap_or_default()
    }
}

/// A deterministic value in [0, 1) from a seed: the simulation's only "randomness".
pub fn noise(seed: u64) -> f64 {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    x ^= x >> 33;
    x = x.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    x ^= x >> 33;
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// A seed from text (an id), for per-device variation.
pub fn seed_of(text: &str) -> u64 {
    text.bytes().fold(1469598103934665603u64, |h, b| (h ^ u64::from(b)).wrapping_mul(1099511628211))
}
