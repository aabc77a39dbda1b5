//! Every proptest generator of the project, in one place: UFC flag
//! configurations and their subjects, bandit models and actions, malformed
//! documents, and the special-purpose flags the reference's property tests
//! need. The `ufc-harness` fuzzer draws its batches from here at run time
//! (through [`Generator`]); the property tests use the strategies directly.
//!
//! The topics, one module each:
//!
//! * [`values`]: the pools of adversarial subject keys, attribute names and
//!   values, numbers and strings that the other generators draw from;
//! * [`edges`]: edge values for every string and numeric position (empty,
//!   padded and non-ASCII strings, case variants, zeros, integer limits and
//!   one past them, 2^53 + 1, fractions, non-finite spellings), and what
//!   JSON can and cannot carry of them;
//! * [`dates`]: allocation dates, plain, at the edges of RFC 3339 and of
//!   the calendar, zero-width and inverted windows, and invalid ones;
//! * [`flags`]: valid flag configurations (conditions with every operator,
//!   rules, allocations with dates and `doLog`, splits with
//!   `extraLogging`, variations of every type) and the subjects evaluated
//!   against them, as [`Scenario`]s;
//! * [`malformed`]: configurations with damaged flags or a broken top,
//!   and arbitrary JSON for the parser's never-panics properties;
//! * [`bandits`]: bandit model data, actions, and bandit scenarios;
//! * [`shards`]: random shard ranges, and flags whose splits partition the
//!   shard space ([`shards::PartitionedFlag`]).
//!
//! The generators lean on fixed pools of adversarial inputs rather than on
//! uniform randomness: the interesting behaviour of UFC evaluators lives in
//! a few dozen values, the ones listed in section 8 of the spec. Attribute
//! names come from one small pool shared by conditions and subjects so that
//! conditions usually see the attribute they test.
//!
//! Contract: every configuration produced here is valid UFC for the
//! reference (`Configuration::from_value` succeeds with no flag errors),
//! except those of [`malformed`]. So the edge values that the reference
//! rejects at load (`totalShards` of 0 or past `u32::MAX`, integers written
//! as floats or fractions in integer fields, invalid dates) are drawn only
//! there. Generated flags are small (1–3 flags, ≤3 allocations, rules,
//! conditions and splits) so that minimizing and round-tripping them
//! through an SDK stays cheap; the number of subjects per flag is a knob
//! ([`ScenarioShape`]): 1–8 by default, hundreds for the fuzzer's dense
//! batches, which give many cases per `configure` (the cost of a batch to
//! an SDK is mostly parsing its document).
//!
//! Duplicate keys: two variations sharing a `key` field, two allocations
//! sharing a `key`, and a bandit case offering one action key twice are
//! generated. Duplicate members of one JSON object are not, except inside
//! the text of JSON variations ([`flags::EDGE_JSON_TEXTS`]): documents are
//! `serde_json::Value`s, whose maps cannot hold a key twice, and the
//! adapter protocol sends them as values.
//!
//! Reproducibility: a strategy drawn by a [`Generator`] with the same seed
//! gives the same value, and the fuzzer's seeded batches (and the README's
//! claims about them) rely on it. Changing what a generator draws, or in
//! which order, changes every seeded run.

#![warn(missing_docs)]

pub mod bandits;
pub mod dates;
pub mod edges;
pub mod flags;
pub mod malformed;
pub mod repeat;
pub mod shards;
pub mod values;

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::Value;

pub use bandits::{bandit_scenario, bandit_scenario_with};
pub use flags::{configuration, configuration_document, flag_scenario, flag_scenario_shaped, ScenarioShape};
pub use malformed::{malformed_configuration, malformed_scenario};
pub use shards::{partitioned_flag, PartitionedFlag};

/// A generated configuration and the cases to evaluate against it.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// The `flags-v1.json` document.
    pub flags: Value,
    /// The `bandit-models-v1.json` document, for bandit scenarios.
    pub bandit_models: Option<Value>,
    /// The cases, flag or bandit.
    pub cases: Vec<CaseInput>,
}

/// The cases are the adapter protocol's own case inputs, so that what is
/// generated goes to every party unchanged.
pub use ufc_protocol::{ActionInput, BanditCase, CaseInput, ContextAttributes, FlagCase};

/// The protocol's name for a type the generators chose.
pub fn wire_type(variation_type: ufc_reference::VariationType) -> ufc_protocol::VariationType {
    use ufc_reference::VariationType as Reference;
    match variation_type {
        Reference::String => ufc_protocol::VariationType::String,
        Reference::Integer => ufc_protocol::VariationType::Integer,
        Reference::Numeric => ufc_protocol::VariationType::Numeric,
        Reference::Boolean => ufc_protocol::VariationType::Boolean,
        Reference::Json => ufc_protocol::VariationType::Json,
    }
}

/// Draws values from strategies with a seeded RNG, outside any property
/// test: what the fuzzer generates its batches with.
///
/// The same seed and the same sequence of draws give the same values, on
/// every platform (ChaCha, proptest's default configuration).
pub struct Generator {
    runner: TestRunner,
}

impl Generator {
    /// A generator whose RNG is ChaCha seeded with `seed`.
    pub fn from_seed(seed: [u8; 32]) -> Generator {
        let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed);
        Generator { runner: TestRunner::new_with_rng(Config::default(), rng) }
    }

    /// The next value of `strategy`, or `None` when the strategy rejected
    /// every attempt (none of this crate's do).
    pub fn draw<S: Strategy>(&mut self, strategy: &S) -> Option<S::Value> {
        strategy.new_tree(&mut self.runner).ok().map(|tree| tree.current())
    }
}

impl std::fmt::Debug for Generator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generator").finish_non_exhaustive()
    }
}
