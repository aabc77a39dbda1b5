//! What an evaluation is asked and what it answers: the request, the
//! decision (which allocation, rule, split and variation) and the outcome.

use crate::codes::FlagEvaluationCode;
use crate::error::FlagConfigError;
use crate::events::AssignmentEvent;
use crate::flag::{Allocation, Flag, Rule, Split, Variation};
use crate::value::{Attributes, TypedValue, VariationType};
use crate::Timestamp;

/// What to evaluate: one flag for one subject, asking for one type.
#[derive(Debug, Clone, Copy)]
pub struct FlagRequest<'a> {
    /// The flag key.
    pub flag_key: &'a str,
    /// The subject key (sharding input, and the `id` fallback).
    pub subject_key: &'a str,
    /// The subject's attributes.
    pub attributes: &'a Attributes,
    /// The type the caller asked for.
    pub expected_type: VariationType,
    /// The subject's shard under each of the flag's salts, by salt number
    /// (as [`Flag::salt_sharders`] lists them), when the caller computed
    /// them in bulk ([`crate::shard::Sharder::shard_keys_into`]); an entry
    /// `u32::MAX` (never a shard) and salts past its end are hashed when
    /// needed, as without it. `None`: every shard is hashed when needed.
    pub known_shards: Option<&'a [u32]>,
}

impl<'a> FlagRequest<'a> {
    /// A request.
    pub fn new(
        flag_key: &'a str,
        subject_key: &'a str,
        attributes: &'a Attributes,
        expected_type: VariationType,
    ) -> Self {
        FlagRequest { flag_key, subject_key, attributes, expected_type, known_shards: None }
    }

    /// The request with the subject's shards computed beforehand (see
    /// [`FlagRequest::known_shards`]; wrong values give wrong decisions).
    pub fn with_known_shards(self, shards: &'a [u32]) -> Self {
        FlagRequest { known_shards: Some(shards), ..self }
    }
}

/// Which allocation, rule, split and variation decided.
#[derive(Debug, Clone, Copy)]
pub struct Decision<'c> {
    /// 0-based position of the allocation.
    pub allocation_index: usize,
    /// The allocation.
    pub allocation: &'c Allocation,
    /// The first rule that held (`None` when the allocation has no rules).
    pub rule: Option<&'c Rule>,
    /// The split that admitted the subject.
    pub split: &'c Split,
    /// The variation the split names, if the flag defines it.
    pub variation: Option<&'c Variation>,
}

/// The result of evaluating a flag.
#[derive(Debug, Clone, Copy)]
pub struct FlagOutcome<'c> {
    /// The flag-level code.
    pub code: FlagEvaluationCode,
    /// The flag, when it was found and valid.
    pub flag: Option<&'c Flag>,
    /// What decided, when an allocation yielded a split.
    pub decision: Option<Decision<'c>>,
    /// The configuration error, for a flag that could not be read.
    pub config_error: Option<&'c FlagConfigError>,
}

impl<'c> FlagOutcome<'c> {
    pub(crate) fn default_because(code: FlagEvaluationCode) -> Self {
        FlagOutcome { code, flag: None, decision: None, config_error: None }
    }

    /// The served value; `None` means the caller's default is served.
    pub fn value(&self) -> Option<&'c TypedValue> {
        match self.code {
            FlagEvaluationCode::Match => self.decision?.variation?.typed.as_ref(),
            _ => None,
        }
    }

    /// The served value as JSON, or `default`.
    pub fn value_or(&self, default: &serde_json::Value) -> serde_json::Value {
        self.value().map_or_else(|| default.clone(), TypedValue::to_json)
    }

    /// The assignment event a logger receives (spec section 4): only for a
    /// served variation whose allocation has `doLog`.
    pub fn assignment_event<'a>(&self, request: &FlagRequest<'a>, now: Timestamp) -> Option<AssignmentEvent<'a>>
    where
        'c: 'a,
    {
        let decision = self.decision?;
        if self.code != FlagEvaluationCode::Match || !decision.allocation.do_log {
            return None;
        }
        Some(AssignmentEvent {
            flag_key: request.flag_key,
            allocation_key: &decision.allocation.key,
            split: decision.split,
            subject_key: request.subject_key,
            subject_attributes: request.attributes,
            timestamp: now,
        })
    }
}
