//! Parties: anything that answers evaluation requests. The reference runs
//! in-process; SDKs run behind adapter processes. A party is a transport:
//! [`crate::session::Session`] drives it (capabilities, batching, faults),
//! and every pipeline drives parties through a session.

pub mod adapter;
pub mod reference;
pub mod unavailable;

use std::time::Duration;

use serde_json::{Map, Value};
use ufc_protocol::{BenchRequest, Capabilities, Capability, CaseInput, InitRequest, OnlineInfo, SdkInfo, Source};

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

    /// Whether its answers to a flag (or, with `bandit`, a bandit) case
    /// carry `part`: what a comparison, a fuzz signature or a majority may
    /// hold it to.
    pub fn gives(&self, part: AnswerPart, bandit: bool) -> bool {
        match part {
            AnswerPart::Value => true,
            AnswerPart::Details if bandit => self.can(&Capability::BanditDetails),
            AnswerPart::Details => self.can(&Capability::Details),
            AnswerPart::AssignmentEvents => self.can(&Capability::Events),
            AnswerPart::BanditEvents => self.can(&Capability::BanditDetails),
        }
    }
}

/// A part of an answer, as capabilities grant it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerPart {
    /// The value (or raised error): every party gives it.
    Value,
    /// Evaluation details.
    Details,
    /// The events the assignment logger received.
    AssignmentEvents,
    /// The events the bandit logger received.
    BanditEvents,
}

impl AnswerPart {
    /// The part a difference's field is in (`details.flagEvaluationCode`,
    /// `assignmentEvents[0].variation`, `value`).
    pub fn of_field(field: &str) -> AnswerPart {
        if field.starts_with("details") {
            AnswerPart::Details
        } else if field.starts_with("assignmentEvents") {
            AnswerPart::AssignmentEvents
        } else if field.starts_with("banditEvents") {
            AnswerPart::BanditEvents
        } else {
            AnswerPart::Value
        }
    }
}

/// A configuration to load: flags and optional bandit models, and for a
/// party's precomputed client one subject's precomputed configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigSet {
    /// `flags-v1.json` (or its obfuscated twin).
    pub flags: Source,
    /// `bandit-models-v1.json`.
    pub bandit_models: Option<Source>,
    /// A precomputed configuration computed from these (capability
    /// `precomputed-client`): cases are then answered from it.
    pub precomputed: Option<Source>,
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
    /// Starts afresh, as a new process that has answered nothing: no
    /// configuration, no state left by earlier questions. `run --repeat`
    /// and `fuzz --repeat` ask the same questions after each restart, so a
    /// party whose answers hang on its process (a seed, a hash map's
    /// order, a clock) shows it. Configure again before asking. The default
    /// suits a party that keeps nothing between requests.
    fn restart(&mut self) {}
    /// What the party's SDK can be asked online (the `hello`'s `online`),
    /// if it declared any.
    fn online(&self) -> Option<&OnlineInfo> {
        None
    }
    /// Builds the SDK's online client against the mock CDN (capability `online`).
    fn init(&mut self, request: &InitRequest) -> Result<Initialized, PartyError> {
        let _ = request;
        Err(PartyError::unsupported(&self.info().name, &Capability::Online))
    }
    /// What the loggers received that no answer reported (capability `online`).
    fn drain_events(&mut self) -> Result<Drained, PartyError> {
        Err(PartyError::unsupported(&self.info().name, &Capability::Online))
    }
    /// Shuts the online client down, keeping the party (capability `online`).
    fn stop_client(&mut self) -> Result<(), PartyError> {
        Err(PartyError::unsupported(&self.info().name, &Capability::Online))
    }
}

/// What an `init` answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Initialized {
    /// The client is built; whether the SDK says it has a configuration
    /// (none: it cannot tell), and how long its start took.
    Ready {
        /// The SDK's word on having a configuration.
        initialized: Option<bool>,
        /// Milliseconds.
        elapsed_ms: Option<u64>,
    },
    /// The SDK raised from its start (`ok: false`).
    Raised(String),
}

/// What a `drainEvents` answered.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Drained {
    /// Assignment events no answer reported.
    pub assignment_events: Vec<Value>,
    /// Bandit events no answer reported.
    pub bandit_events: Vec<Value>,
    /// Logger calls in the span.
    pub logger_calls: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answer_parts_follow_the_capabilities() {
        let info = PartyInfo {
            name: "p".into(),
            sdk: SdkInfo::default(),
            capabilities: Capabilities::new([Capability::Assign, Capability::Details, Capability::Events]),
        };
        assert!(info.gives(AnswerPart::Value, true));
        assert!(info.gives(AnswerPart::Details, false) && !info.gives(AnswerPart::Details, true));
        assert!(info.gives(AnswerPart::AssignmentEvents, false) && !info.gives(AnswerPart::BanditEvents, true));
        assert_eq!(AnswerPart::of_field("details.flagEvaluationCode"), AnswerPart::Details);
        assert_eq!(AnswerPart::of_field("assignmentEvents[0].variation"), AnswerPart::AssignmentEvents);
        assert_eq!(AnswerPart::of_field("banditEvents.length"), AnswerPart::BanditEvents);
        assert_eq!(AnswerPart::of_field("value"), AnswerPart::Value);
    }
}
