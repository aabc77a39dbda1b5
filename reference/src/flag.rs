//! Compiled flags: the evaluation types that `compile` fills once from the
//! wire types and every evaluation reads. They hold no behaviour beyond
//! shard admission; `config` re-exports them.

use std::sync::Arc;

use serde_json::Value;

use crate::error::FlagConfigError;
use crate::keymap::KeyMap;
use crate::rules::Condition;
use crate::shard::Sharder;
use crate::text::SharedStr;
use crate::value::{TypedValue, VariationType};
use crate::Timestamp;

/// A flag as loaded: compiled, or the reason it could not be.
#[derive(Debug)]
pub enum FlagEntry {
    /// Ready to evaluate.
    Valid(Flag),
    /// Could not be read; evaluates to `UNEXPECTED_CONFIGURATION_ERROR`.
    Invalid(FlagConfigError),
}

/// A compiled flag.
#[derive(Debug)]
pub struct Flag {
    /// The `key` field.
    pub key: String,
    /// `enabled`.
    pub enabled: bool,
    /// `variationType`.
    pub variation_type: VariationType,
    /// Variations by their `key` field.
    pub variations: KeyMap<Variation>,
    /// Allocations in order.
    pub allocations: Vec<Allocation>,
    /// `totalShards`; 0 loads, but then no subject has a shard.
    pub total_shards: u32,
    /// How many distinct salts the flag's shards use (see [`ShardRule::salt_index`]).
    pub distinct_salts: usize,
    /// Set when `totalShards` is 0: the error an evaluation reports when it
    /// reaches a shard rule that must hash (one not [`ShardRule::always_admits`]).
    pub shard_error: Option<FlagConfigError>,
}

/// A variation with its value converted to the flag's type.
#[derive(Debug)]
pub struct Variation {
    /// The variation key.
    pub key: String,
    /// The value as configured.
    pub raw: Value,
    /// The value converted to the flag's type, or `None` when incompatible
    /// (which yields `ASSIGNMENT_ERROR` if it is ever selected).
    pub typed: Option<TypedValue>,
    /// The details' `variationValue`: the converted value as callers
    /// receive it (parsed, for JSON), or the raw value when incompatible.
    /// Prepared once, shared by every detailed evaluation.
    pub details_value: Arc<Value>,
    /// The `ASSIGNMENT_ERROR` description, prepared when the value is
    /// incompatible with the flag's type.
    pub assignment_error: Option<Box<str>>,
}

/// A compiled allocation.
#[derive(Debug)]
pub struct Allocation {
    /// The allocation key (copied cheaply into the details that name it).
    pub key: SharedStr,
    /// Rules (OR of ANDs); empty passes.
    pub rules: Vec<Rule>,
    /// Inclusive start.
    pub start_at: Option<Timestamp>,
    /// Inclusive end.
    pub end_at: Option<Timestamp>,
    /// Splits in order.
    pub splits: Vec<Split>,
    /// Whether a match logs an assignment event.
    pub do_log: bool,
}

/// A compiled rule.
#[derive(Debug)]
pub struct Rule {
    /// Conditions, all of which must hold.
    pub conditions: Vec<Condition>,
    /// The rule as written, echoed in details as `matchedRule` (shared, so
    /// that echoing it does not copy it).
    pub raw: Arc<Value>,
}

/// A compiled split.
#[derive(Debug)]
pub struct Split {
    /// Shards, all of which must match (none: always matches).
    pub shards: Vec<ShardRule>,
    /// The variation it serves.
    pub variation_key: SharedStr,
    /// `extraLogging`, sorted by key.
    pub extra_logging: Vec<(String, String)>,
}

/// A salt and the ranges of shards it admits.
#[derive(Debug)]
pub struct ShardRule {
    /// The pre-salted sharder.
    pub sharder: Sharder,
    /// Half-open ranges; any one admits.
    pub ranges: Vec<ShardRange>,
    /// The salt's number within its flag: shards with the same salt share it,
    /// so an evaluation hashes each salt at most once.
    pub salt_index: usize,
    /// The ranges cover every shard, so the rule admits every subject
    /// without hashing.
    pub always_admits: bool,
}

/// A half-open range of shards `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardRange {
    /// Inclusive.
    pub start: u32,
    /// Exclusive.
    pub end: u32,
}

impl Flag {
    /// The sharder of each distinct salt, by salt number
    /// ([`ShardRule::salt_index`]), or `None` for a salt whose every rule
    /// admits without hashing ([`ShardRule::always_admits`]): what a caller
    /// computing shards in bulk hashes to fill
    /// [`crate::FlagRequest::known_shards`].
    pub fn salt_sharders(&self) -> Vec<Option<&Sharder>> {
        let mut sharders: Vec<Option<&Sharder>> = vec![None; self.distinct_salts];
        let rules = self.allocations.iter().flat_map(|a| &a.splits).flat_map(|split| &split.shards);
        for rule in rules.filter(|rule| !rule.always_admits) {
            if let Some(slot @ None) = sharders.get_mut(rule.salt_index) {
                *slot = Some(&rule.sharder);
            }
        }
        sharders
    }
}

impl ShardRule {
    /// Whether `shard` falls in any range.
    #[inline]
    pub fn admits_shard(&self, shard: u32) -> bool {
        self.ranges.iter().any(|r| r.start <= shard && shard < r.end)
    }
}

/// A link from a flag's variation to a bandit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BanditLink {
    /// The bandit key.
    pub bandit_key: String,
    /// The flag's variation value (a string) that is linked.
    pub variation_value: String,
    /// The variation key.
    pub variation_key: String,
}
