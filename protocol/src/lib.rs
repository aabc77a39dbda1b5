//! `ufc-protocol`: the public, versioned formats of `ufc-harness`, as types.
//!
//! * [`messages`]: the adapter protocol, version [`PROTOCOL_VERSION`]: the
//!   JSON-lines requests and responses exchanged with adapters
//!   (`docs/protocol.md`, schemas in `docs/protocol/`).
//! * [`capability`]: what an adapter declares it can do, and the bench modes.
//! * [`online`]: the optional online ops (`init`, `drainEvents`,
//!   `stopClient`; capability `online`) and the SDK knobs an online adapter
//!   declares.
//! * [`report`]: the JSON report `ufc-harness run --format json` writes
//!   (`docs/report-schema.json`), with its [`report::REPORT_VERSION`].
//! * [`exit_codes`]: the exit codes of `ufc-harness`, as named constants.
//!
//! The crate depends on serde alone, so an adapter written in Rust can speak
//! the protocol without parsing JSON by hand.
#![warn(missing_docs)]

pub mod capability;
pub mod exit_codes;
pub mod messages;
pub mod online;
pub mod report;

pub use capability::{BenchMode, Capabilities, Capability};
pub use messages::*;
pub use online::{InitOption, InitRequest, LoggerMode, OnlineInfo};

/// The adapter protocol version this crate describes.
pub const PROTOCOL_VERSION: u32 = 1;
