//! The 17 feature types a miner aggregates, their kinds and the aliases of earlier Edge Mining versions.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureType {
    HashrateMonitoring,
    PowerMonitoring,
    StatusMonitoring,
    HashboardMonitoring,
    InletTemperatureMonitoring,
    OutletTemperatureMonitoring,
    FanSpeedInternalMonitoring,
    FanSpeedExternalMonitoring,
    OperationalMonitoring,
    MiningControl,
    PowerControl,
    InternalFanControl,
    ExternalFanControl,
    MaxPowerDetection,
    MaxHashrateDetection,
    DeviceInfoDetection,
    /// Read the miner's power target and bounds, and set a target in watts (SPEC §16).
    PowerTargetControl,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureKind {
    Monitoring,
    Control,
    Info,
}

use FeatureType::*;

impl FeatureType {
    pub const ALL: [FeatureType; 17] = [
        HashrateMonitoring,
        PowerMonitoring,
        StatusMonitoring,
        HashboardMonitoring,
        InletTemperatureMonitoring,
        OutletTemperatureMonitoring,
        FanSpeedInternalMonitoring,
        FanSpeedExternalMonitoring,
        OperationalMonitoring,
        MiningControl,
        PowerControl,
        InternalFanControl,
        ExternalFanControl,
        MaxPowerDetection,
        MaxHashrateDetection,
        DeviceInfoDetection,
        PowerTargetControl,
    ];

    /// The features read when polling a miner (monitoring and info).
    pub const READABLE: [FeatureType; 12] = [
        StatusMonitoring,
        HashrateMonitoring,
        PowerMonitoring,
        HashboardMonitoring,
        InletTemperatureMonitoring,
        OutletTemperatureMonitoring,
        FanSpeedInternalMonitoring,
        FanSpeedExternalMonitoring,
        OperationalMonitoring,
        MaxPowerDetection,
        MaxHashrateDetection,
        DeviceInfoDetection,
    ];

    pub fn name(self) -> &'static str {
        match self {
            HashrateMonitoring => "hashrate_monitoring",
            PowerMonitoring => "power_monitoring",
            StatusMonitoring => "status_monitoring",
            HashboardMonitoring => "hashboard_monitoring",
            InletTemperatureMonitoring => "inlet_temperature_monitoring",
            OutletTemperatureMonitoring => "outlet_temperature_monitoring",
            FanSpeedInternalMonitoring => "fan_speed_internal_monitoring",
            FanSpeedExternalMonitoring => "fan_speed_external_monitoring",
            OperationalMonitoring => "operational_monitoring",
            MiningControl => "mining_control",
            PowerControl => "power_control",
            InternalFanControl => "internal_fan_control",
            ExternalFanControl => "external_fan_control",
            MaxPowerDetection => "max_power_detection",
            MaxHashrateDetection => "max_hashrate_detection",
            DeviceInfoDetection => "device_info_detection",
            PowerTargetControl => "power_target_control",
        }
    }

    pub fn kind(self) -> FeatureKind {
        match self {
            MiningControl | PowerControl | InternalFanControl | ExternalFanControl | PowerTargetControl => {
                FeatureKind::Control
            }
            MaxPowerDetection | MaxHashrateDetection | DeviceInfoDetection => FeatureKind::Info,
            _ => FeatureKind::Monitoring,
        }
    }
}

/// Names accepted from earlier Edge Mining versions, mapped to today's type.
const ALIASES: [(&str, FeatureType); 5] = [
    ("chip_temperature_monitoring", HashboardMonitoring),
    ("board_temperature_monitoring", HashboardMonitoring),
    ("voltage_monitoring", HashboardMonitoring),
    ("frequency_monitoring", HashboardMonitoring),
    ("model_detection", DeviceInfoDetection),
];

impl FromStr for FeatureType {
    type Err = String;

    fn from_str(text: &str) -> Result<FeatureType, String> {
        let wanted = text.trim().to_ascii_lowercase();
        FeatureType::ALL
            .into_iter()
            .find(|feature| feature.name() == wanted)
            .or_else(|| ALIASES.iter().find(|(alias, _)| *alias == wanted).map(|(_, f)| *f))
            .ok_or_else(|| {
                let names: Vec<&str> = FeatureType::ALL.iter().map(|f| f.name()).collect();
                format!("unknown feature type `{text}`; expected one of: {}", names.join(", "))
            })
    }
}

impl<'de> Deserialize<'de> for FeatureType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<FeatureType, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for FeatureType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl schemars::JsonSchema for FeatureType {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "FeatureType".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let names: Vec<&str> =
            FeatureType::ALL.iter().map(|f| f.name()).chain(ALIASES.iter().map(|(a, _)| *a)).collect();
        schemars::json_schema!({"type": "string", "enum": names})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seventeen_types_nine_five_three() {
        let count = |kind| FeatureType::ALL.iter().filter(|f| f.kind() == kind).count();
        assert_eq!(FeatureType::ALL.len(), 17);
        assert_eq!(count(FeatureKind::Monitoring), 9);
        assert_eq!(count(FeatureKind::Control), 5, "power_target_control is the fifth control feature");
        assert_eq!(count(FeatureKind::Info), 3);
    }

    #[test]
    fn names_round_trip_and_aliases_resolve() {
        for feature in FeatureType::ALL {
            assert_eq!(feature.name().parse::<FeatureType>().unwrap(), feature);
        }
        assert_eq!("voltage_monitoring".parse::<FeatureType>().unwrap(), HashboardMonitoring);
        assert_eq!("model_detection".parse::<FeatureType>().unwrap(), DeviceInfoDetection);
        assert!("teleport".parse::<FeatureType>().unwrap_err().contains("expected one of"));
    }
}
