//! The pure core: domain types, bindings, the decisional context. No I/O here.

pub mod allocation;
pub mod binding;
pub mod climate;
pub mod command;
pub mod context;
pub mod decision;
pub mod economics;
pub mod error;
pub mod feature;
pub mod guards;
pub mod home_load;
pub mod lever_model;
pub mod miner;
pub mod mode;
pub mod performance;
pub mod reading;
pub mod safety;
pub mod schema;
pub mod simulation;
pub mod source;
pub mod status;
pub mod sun;
pub mod tariff;
pub mod time;
