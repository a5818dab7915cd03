//! Exit codes (SPEC §2), named once.

/// The cycle completed and every input and command succeeded.
pub const OK: i32 = 0;
/// The cycle completed degraded: an input or a command failed.
pub const DEGRADED: i32 = 1;
/// The command line was wrong.
pub const USAGE: i32 = 2;
/// The cycle could not run (state database or lock unusable).
pub const FATAL: i32 = 3;
/// Another invocation holds the run lock.
pub const SKIPPED: i32 = 75;
/// The configuration or a rule file is invalid.
pub const CONFIG: i32 = 78;

/// A failure that ends a command with an exit code and a message for stderr.
#[derive(Debug)]
pub struct Failure {
    pub code: i32,
    pub message: String,
}

impl Failure {
    pub fn new(code: i32, message: impl Into<String>) -> Failure {
        Failure { code, message: message.into() }
    }
}
