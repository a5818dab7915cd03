//! The integration tests: one binary, as ripgrep keeps them, so `support/` (the fakes of
//! every device family and the sandbox that runs the built binary) compiles once.

mod suite;
mod support;
