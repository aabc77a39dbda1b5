//! Parties: anything that answers evaluation requests. The reference runs
//! in-process; SDKs run behind adapter processes. A party is a transport:
//! [`crate::session::Session`] drives it (capabilities, batching, faults),
//! and every pipeline drives parties through a session.

pub mod adapter;
pub mod reference;
pub mod unavailable;

use std::time::Duration;

use serde_json::{Map, Value};
use ufc_protocol::{BenchRequest, Capabilities, Capability, CaseInput, SdkInfo, Source};

use crate::observation::Answer;

/// Who a party is and what it can do.
#[derive(Debug, Clone, PartialEq)]
pub struct PartyInfo {
    /// Name used in reports and on the command line (`reference`, `python`, ...).
    pub name: String,
    /// The SDK behind it.
    pub sdk: SdkInfo,
    /// Declared capabilities.
    pub capabilities: Capabilities,
}

impl PartyInfo {
    /// Whether it declared `capability`.
    pub fn can(&self, capability: &Capability) -> bool {
        self.capabilities.has(capability)
    }
}

/// A configuration to load: flags and optional bandit models.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigSet {
    /// `flags-v1.json` (or its obfuscated twin).
    pub flags: Source,
    /// `bandit-models-v1.json`.
    pub bandit_models: Option<Source>,
}

/// One case put to a party: its id and what to evaluate.
#[derive(Debug, Clone, Copy)]
pub struct Question<'a> {
    /// The case id, unique within the batch.
    pub id: &'a str,
    /// What to evaluate.
    pub input: &'a CaseInput,
}

/// A case the party could not answer: its process crashed, hung, wrote
/// garbage, returned no result for it, or answered in a shape the protocol
/// does not allow. Such cases are errored, never compared.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct Lost {
    /// What happened.
    pub message: String,
}

impl Lost {
    /// A lost case with this explanation.
    pub fn new(message: impl Into<String>) -> Lost {
        Lost { message: message.into() }
    }
}

/// What a party did with one question.
pub type Reply = Result<Answer, Lost>;

/// A request the party could not carry out.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PartyError {
    /// It does not declare what the request needs.
    #[error("{party} does not declare the {capability:?} capability")]
    Unsupported {
        /// The party.
        party: String,
        /// The capability.
        capability: String,
    },
    /// The configuration could not be read or was refused.
    #[error("{0}")]
    Configuration(String),
    /// The request failed: a fault of the process, a refusal, a bad answer.
    #[error("{0}")]
    Failed(String),
}

impl PartyError {
    /// The error for a request that needs `capability`.
    pub fn unsupported(party: &str, capability: &Capability) -> PartyError {
        PartyError::Unsupported { party: party.to_owned(), capability: capability.to_string() }
    }
}

/// Whom to precompute for.
#[derive(Debug, Clone, PartialEq)]
pub struct PrecomputeSubject {
    /// The subject key.
    pub subject_key: String,
    /// Flat attributes, or `{numericAttributes, categoricalAttributes}`.
    pub subject_attributes: Value,
    /// `{flagKey: {actionKey: {numericAttributes, categoricalAttributes}}}`.
    pub bandit_actions: Map<String, Value>,
}

/// A party answers evaluation requests.
pub trait Party: Send {
    /// Who it is.
    fn info(&self) -> &PartyInfo;
    /// Loads a configuration, replacing the previous one.
    fn configure(&mut self, config: &ConfigSet) -> Result<(), PartyError>;
    /// Evaluates a batch: one reply per question, in order.
    fn evaluate(&mut self, batch: &[Question<'_>]) -> Vec<Reply>;
    /// Runs an in-process timing loop; returns the time it took.
    fn bench(&mut self, request: &BenchRequest) -> Result<Duration, PartyError>;
    /// Every flag of the loaded configuration for one subject, as the
    /// precomputed configuration the party's SDK writes (spec section 7).
    fn precompute(&mut self, subject: &PrecomputeSubject) -> Result<Value, PartyError> {
        let _ = subject;
        Err(PartyError::unsupported(&self.info().name, &Capability::Precompute))
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
