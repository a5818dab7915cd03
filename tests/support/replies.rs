//! Realistic device replies, one file per device family, written for these tests from the
//! documented formats (the real captures in ../shared/fixtures are only read by the
//! compatibility test). This module gathers them under one name.

pub use super::antminer::*;
pub use super::avalon::*;
pub use super::bitaxe::bitaxe_info;
pub use super::braiins_os::*;
pub use super::cgminer::{cgminer_devs, cgminer_summary, cgminer_version};
pub use super::luxos::*;
pub use super::whatsminer::{
    whatsminer_devdetails, whatsminer_status, whatsminer_summary, whatsminer_v2_devs, whatsminer_v2_status,
    whatsminer_v2_summary,
};
