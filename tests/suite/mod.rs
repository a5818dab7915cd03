//! The integration suites, one module per area.

mod allocation;
mod batch_exchange;
mod compat_fixtures;
mod controllers;
mod cycle;
mod economics;
mod families;
mod faults;
mod home;
mod home_and_climate;
mod misbehaving_devices;
mod mqtt;
mod onboarding;
mod operations;
mod pools;
mod power_targets;
mod power_verification;
mod properties;
mod rule_behaviours;
mod rule_semantics;
mod rules_cli;
mod safety_and_guards;
mod simulate;
mod stagger;
mod validate;
