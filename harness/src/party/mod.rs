//! Parties: anything that answers evaluation requests. The reference runs
//! in-process; SDKs run behind adapter processes. The runner, the fuzzer and
//! the benchmark drive every party through this one trait.

pub mod adapter;
pub mod reference;
pub mod unavailable;

use crate::protocol::{BenchRequest, CaseResult, SdkInfo, Source, WireCase};

/// Who a party is and what it can do.
#[derive(Debug, Clone, PartialEq)]
pub struct PartyInfo {
    /// Name used in reports and on the command line (`reference`, `python`, ...).
    pub name: String,
    /// The SDK behind it.
    pub sdk: SdkInfo,
    /// Declared capabilities (see [`crate::protocol::capability`]).
    pub capabilities: Vec<String>,
}

impl PartyInfo {
    /// Whether it declared `capability`.
    pub fn can(&self, capability: &str) -> bool {
        self.capabilities.iter().any(|c| c == capability)
    }
}

/// A configuration to load: flags and optional bandit models.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigSet {
    /// `flags-v1.json`.
    pub flags: Source,
    /// `bandit-models-v1.json`.
    pub bandit_models: Option<Source>,
}

/// A party answers evaluation requests.
pub trait Party: Send {
    /// Who it is.
    fn info(&self) -> &PartyInfo;
    /// Loads a configuration, replacing the previous one.
    fn configure(&mut self, config: &ConfigSet) -> Result<(), String>;
    /// Evaluates a batch; one result per case, in order. A failure that
    /// costs the whole batch is reported as an error result per case.
    fn evaluate(&mut self, cases: &[WireCase<'_>]) -> Vec<CaseResult>;
    /// Runs an in-process timing loop; returns elapsed nanoseconds.
    fn bench(&mut self, request: &BenchRequest) -> Result<u64, String>;
    /// Every flag of the loaded configuration for one subject, as the
    /// precomputed configuration the party's SDK writes (spec section 7).
    fn precompute(&mut self, subject: &crate::protocol::PrecomputeSubject) -> Result<serde_json::Value, String> {
        let _ = subject;
        Err(format!("{} does not declare the \"precompute\" capability", self.info().name))
    }
    /// The tail of what the party wrote to stderr, if it has one.
    fn stderr_tail(&self) -> Option<String> {
        None
    }
    /// Problems the party found in the configuration it was just given
    /// (malformed flags and the like) that do not stop it from working.
    fn configuration_warnings(&self) -> Vec<String> {
        Vec::new()
    }
}
