//! Realistic device replies, one file per device family, written for these tests from the
//! documented formats (the real captures in ../shared/fixtures are only read by the
//! compatibility test). This module gathers them under one name.

pub use super::antminer::*;
pub use super::avalon::*;
pub use super::bitaxe::*;
pub use super::braiins_os::*;
pub use super::cgminer::{cgminer_devs, cgminer_summary, cgminer_version};
pub use super::luxos::*;
pub use super::whatsminer::*;
