//! Exit codes of `ufc-harness`, documented in the README.

/// Every case passed (or was a known failure, or skipped).
pub const SUCCESS: i32 = 0;
/// A case failed at a failing severity, or a known failure unexpectedly passed.
pub const FAILURES: i32 = 1;
/// Bad command line or unusable input (suite or configuration not found or
/// not readable); nothing was run.
pub const USAGE: i32 = 2;
/// The run finished but some cases errored (a party crashed, hung or
/// answered garbage; a test file could not be read).
pub const ERRORS: i32 = 3;
/// Asked in several fresh processes (`run --repeat`, `fuzz --repeat`), a
/// party answered a case differently; nothing errored.
pub const NONDETERMINISTIC: i32 = 4;
