//! edge-mining: a single-shot controller that switches Bitcoin ASIC miners on and off with
//! the energy a home or a site has to spare. See the README for the map of modules.

pub mod cli;
pub mod commands;
pub mod config;
pub mod core;
pub mod cycle;
pub mod devices;
pub mod diag;
pub mod duration;
pub mod energy;
pub mod exit;
pub mod home;
pub mod init;
pub mod market;
pub mod metrics;
pub mod notify;
pub mod parallel;
pub mod paths;
pub mod publish;
pub mod registry;
pub mod rules;
pub mod scan;
pub mod services;
pub mod sim;
pub mod simulate;
pub mod state;
pub mod trackers;
pub mod transport;
pub mod yaml;
