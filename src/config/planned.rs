//! Config structs shared by several component types that have no file of their own.

use serde::Deserialize;

/// A type that takes no keys besides `id` and `type`.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Empty {}
