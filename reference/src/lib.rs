//! `ufc-reference`: the reference evaluator for Eppo's Universal Flag
//! Configuration (UFC).
//!
//! The crate is the oracle SDKs are checked against. It is given bytes, a
//! subject and a time, and returns an outcome; it reads no files, clocks or
//! environment, and it never panics, whatever the input.
//!
//! ```
//! use ufc_reference::{Attributes, Configuration, FlagRequest, VariationType};
//! let config = Configuration::from_json(br#"{"environment": {"name": "Doc"}, "flags": {
//!   "greeting": {"key": "greeting", "enabled": true, "variationType": "STRING", "totalShards": 10000,
//!     "variations": {"hi": {"key": "hi", "value": "hello"}},
//!     "allocations": [{"key": "everyone", "splits": [{"variationKey": "hi", "shards": []}]}]}}}"#).unwrap();
//! let attributes = Attributes::new();
//! let request = FlagRequest::new("greeting", "alice", &attributes, VariationType::String);
//! let outcome = config.evaluate(&request, ufc_reference::Timestamp::UNIX_EPOCH);
//! assert_eq!(outcome.value().map(|v| v.to_json()), Some(serde_json::json!("hello")));
//! ```
#![warn(missing_docs)]

pub mod bandit;
mod codes;
mod compile;
pub mod config;
pub mod details;
mod envelope;
pub mod error;
pub mod eval;
pub mod events;
pub mod explain;
mod flag;
pub mod keymap;
pub mod obfuscation;
mod outcome;
pub mod population;
pub mod precomputed;
pub mod rules;
pub mod shard;
pub mod text;
pub mod value;
mod wire;

pub use config::Configuration;
pub use details::EvaluationDetails;
pub use error::{ConditionError, ConfigurationError, FlagConfigError, FlagLookupError};
pub use eval::{FlagEvaluationCode, FlagOutcome, FlagRequest};
pub use events::AssignmentEvent;
pub use value::{AttributeValue, Attributes, TypedValue, VariationType};

/// A point in time, always UTC. The evaluator never reads the clock: callers
/// pass "now" in.
pub type Timestamp = chrono::DateTime<chrono::Utc>;

/// The crate's version, used in the `metaData` of the events it builds.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
