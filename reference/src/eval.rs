//! Flag evaluation (spec section 2): from a request and "now" to an outcome
//! that says which allocation, rule, split and variation decided, or why
//! the default is served.

pub use crate::codes::{AllocationEvaluationCode, FlagEvaluationCode};
use crate::config::Configuration;
use crate::details::EvaluationDetails;
use crate::error::FlagConfigError;
use crate::flag::{Allocation, Flag, FlagEntry, Rule, ShardRule};
use crate::obfuscation::{md5_hex, Naming};
pub use crate::outcome::{Decision, FlagOutcome, FlagRequest};
use crate::rules::Condition;
use crate::value::Attributes;
use crate::Timestamp;

/// Receives the code of each allocation rejected before the decision and,
/// for `explain`, every step the walk takes (each hook has an empty default).
/// The plain evaluation path uses [`NoTrace`], which compiles to nothing;
/// details and explanations observe the very same walk, so they cannot
/// disagree with the outcome.
pub(crate) trait Trace {
    fn rejected(&mut self, code: AllocationEvaluationCode);
    /// Allocation `index` is about to be judged.
    #[inline(always)]
    fn allocation(&mut self, _index: usize) {}
    /// Rule `index` of the current allocation is about to be checked.
    #[inline(always)]
    fn rule(&mut self, _index: usize) {}
    /// A condition of the current rule was evaluated (conditions after the
    /// first failing one are not).
    #[inline(always)]
    fn condition(&mut self, _index: usize, _condition: &Condition, _holds: bool) {}
    /// Split `index` of the current allocation is about to be checked.
    #[inline(always)]
    fn split(&mut self, _index: usize) {}
    /// A shard rule of the current split: `shard` is `None` for a rule whose
    /// ranges cover every shard (admitted without hashing).
    #[inline(always)]
    fn shard(&mut self, _index: usize, _rule: &ShardRule, _shard: Option<u32>, _admitted: bool) {}
}

/// Records nothing.
pub(crate) struct NoTrace;

impl Trace for NoTrace {
    #[inline(always)]
    fn rejected(&mut self, _: AllocationEvaluationCode) {}
}

/// The codes of rejected allocations, on the stack for the first few.
pub(crate) struct RejectedCodes {
    inline: [AllocationEvaluationCode; RejectedCodes::INLINE],
    len: usize,
    spilled: Vec<AllocationEvaluationCode>,
}

impl RejectedCodes {
    const INLINE: usize = 16;

    pub(crate) fn new() -> RejectedCodes {
        RejectedCodes {
            inline: [AllocationEvaluationCode::Unevaluated; RejectedCodes::INLINE],
            len: 0,
            spilled: Vec::new(),
        }
    }

    pub(crate) fn as_slice(&self) -> &[AllocationEvaluationCode] {
        if self.spilled.is_empty() {
            &self.inline[..self.len]
        } else {
            &self.spilled
        }
    }
}

impl Trace for RejectedCodes {
    #[inline]
    fn rejected(&mut self, code: AllocationEvaluationCode) {
        if let Some(slot) = self.inline.get_mut(self.len).filter(|_| self.spilled.is_empty()) {
            *slot = code;
            self.len += 1;
        } else {
            if self.spilled.is_empty() {
                self.spilled.extend_from_slice(&self.inline);
            }
            self.spilled.push(code);
        }
    }
}

impl Configuration {
    /// Evaluates a flag. `now` decides `startAt`/`endAt`.
    pub fn evaluate<'c>(&'c self, request: &FlagRequest<'_>, now: Timestamp) -> FlagOutcome<'c> {
        evaluate_traced(Some(self), request, now, &mut NoTrace)
    }

    /// Evaluates a flag and builds its evaluation details (spec section 3).
    pub fn evaluate_details<'c>(
        &'c self,
        request: &FlagRequest<'_>,
        now: Timestamp,
    ) -> (FlagOutcome<'c>, EvaluationDetails) {
        evaluate_details(Some(self), request, now)
    }
}

/// Evaluates with details, with or without a configuration (`None` gives
/// `CONFIGURATION_MISSING`).
pub fn evaluate_details<'c>(
    config: Option<&'c Configuration>,
    request: &FlagRequest<'_>,
    now: Timestamp,
) -> (FlagOutcome<'c>, EvaluationDetails) {
    let mut rejected = RejectedCodes::new();
    let outcome = evaluate_traced(config, request, now, &mut rejected);
    let details = EvaluationDetails::build(config, request, &outcome, rejected.as_slice());
    (outcome, details)
}

pub(crate) fn evaluate_traced<'c, T: Trace>(
    config: Option<&'c Configuration>,
    request: &FlagRequest<'_>,
    now: Timestamp,
    trace: &mut T,
) -> FlagOutcome<'c> {
    let Some(config) = config else {
        return FlagOutcome::default_because(FlagEvaluationCode::ConfigurationMissing);
    };
    let flag = match config.flag(request.flag_key) {
        None => return FlagOutcome::default_because(FlagEvaluationCode::FlagUnrecognizedOrDisabled),
        Some(FlagEntry::Invalid(err)) => {
            return FlagOutcome {
                config_error: Some(err),
                ..FlagOutcome::default_because(FlagEvaluationCode::UnexpectedConfigurationError)
            }
        }
        Some(FlagEntry::Valid(flag)) => flag,
    };
    // A disabled flag is reported as such even when the type is wrong too
    // (the RS core's order; spec section 8.9).
    if !flag.enabled {
        return FlagOutcome::default_because(FlagEvaluationCode::FlagUnrecognizedOrDisabled);
    }
    if flag.variation_type != request.expected_type {
        return FlagOutcome { flag: Some(flag), ..FlagOutcome::default_because(FlagEvaluationCode::TypeMismatch) };
    }
    // A CLIENT configuration names attributes by digest: hash the subject's
    // names once, so conditions find them.
    let hashed_attributes;
    let request = match config.naming() {
        Naming::Plain => request,
        Naming::Md5 => {
            hashed_attributes = hash_names(request.attributes);
            &FlagRequest { attributes: &hashed_attributes, ..*request }
        }
    };
    let decision = match decide(flag, request, now, trace) {
        Ok(Some(decision)) => decision,
        Ok(None) => {
            return FlagOutcome {
                flag: Some(flag),
                ..FlagOutcome::default_because(FlagEvaluationCode::DefaultAllocationNull)
            }
        }
        // The flag is broken where this evaluation needed it: the default,
        // with the allocations rejected so far (`trace`) and the error.
        Err(broken) => {
            return FlagOutcome {
                flag: Some(flag),
                config_error: Some(broken),
                ..FlagOutcome::default_because(FlagEvaluationCode::UnexpectedConfigurationError)
            }
        }
    };
    let code = match decision.variation {
        None => FlagEvaluationCode::UnexpectedConfigurationError,
        Some(variation) if variation.typed.is_none() => FlagEvaluationCode::AssignmentError,
        Some(_) => FlagEvaluationCode::Match,
    };
    FlagOutcome { code, flag: Some(flag), decision: Some(decision), config_error: None }
}

fn hash_names(attributes: &Attributes) -> Attributes {
    attributes.iter().map(|(name, value)| (md5_hex(name), value.clone())).collect()
}

/// Walks the allocations in order; the first that yields a split decides.
/// `Err` when a split needs the subject's shard and the flag has none to
/// give (`totalShards: 0`): evaluation fails at that split, as in every
/// core, and not before.
fn decide<'c, T: Trace>(
    flag: &'c Flag,
    request: &FlagRequest<'_>,
    now: Timestamp,
    trace: &mut T,
) -> Result<Option<Decision<'c>>, &'c FlagConfigError> {
    let mut shards = ShardMemo::new(request.known_shards.unwrap_or_default());
    for (allocation_index, allocation) in flag.allocations.iter().enumerate() {
        trace.allocation(allocation_index);
        let rule = match eligibility_traced(allocation, request.subject_key, request.attributes, now, trace) {
            Ok(rule) => rule,
            Err(code) => {
                trace.rejected(code);
                continue;
            }
        };
        let mut chosen = None;
        for (split_index, split) in allocation.splits.iter().enumerate() {
            trace.split(split_index);
            let mut admitted = true;
            for (shard_index, rule) in split.shards.iter().enumerate() {
                if rule.always_admits {
                    trace.shard(shard_index, rule, None, true);
                    continue;
                }
                if let Some(broken) = &flag.shard_error {
                    return Err(broken);
                }
                let shard = shards.shard(rule, request.subject_key);
                let admits = rule.admits_shard(shard);
                trace.shard(shard_index, rule, Some(shard), admits);
                if !admits {
                    admitted = false;
                    break;
                }
            }
            if admitted {
                chosen = Some(split);
                break;
            }
        }
        let Some(split) = chosen else {
            trace.rejected(AllocationEvaluationCode::TrafficExposureMiss);
            continue;
        };
        let variation = flag.variations.get(&*split.variation_key);
        return Ok(Some(Decision { allocation_index, allocation, rule, split, variation }));
    }
    Ok(None)
}

/// Whether `allocation` may serve the subject, before traffic (spec
/// section 2, steps 2 and 3): `now` within `startAt`/`endAt`, both
/// inclusive, and no rules or a rule whose conditions all hold. `Ok` holds
/// the first passing rule (`None` for an allocation without rules); `Err`
/// the code that rejects it. `attributes` are named as the configuration
/// names them (see [`named_attributes`]).
#[inline]
pub(crate) fn eligibility<'c>(
    allocation: &'c Allocation,
    subject_key: &str,
    attributes: &Attributes,
    now: Timestamp,
) -> Result<Option<&'c Rule>, AllocationEvaluationCode> {
    eligibility_traced(allocation, subject_key, attributes, now, &mut NoTrace)
}

/// [`eligibility`], telling `trace` each rule and condition it checks.
#[inline]
fn eligibility_traced<'c, T: Trace>(
    allocation: &'c Allocation,
    subject_key: &str,
    attributes: &Attributes,
    now: Timestamp,
    trace: &mut T,
) -> Result<Option<&'c Rule>, AllocationEvaluationCode> {
    if allocation.start_at.is_some_and(|start| now < start) {
        return Err(AllocationEvaluationCode::BeforeStartTime);
    }
    if allocation.end_at.is_some_and(|end| now > end) {
        return Err(AllocationEvaluationCode::AfterEndTime);
    }
    if allocation.rules.is_empty() {
        return Ok(None);
    }
    for (rule_index, rule) in allocation.rules.iter().enumerate() {
        trace.rule(rule_index);
        let mut all_hold = true;
        for (index, condition) in rule.conditions.iter().enumerate() {
            let holds = condition.holds(subject_key, attributes);
            trace.condition(index, condition, holds);
            if !holds {
                all_hold = false;
                break;
            }
        }
        if all_hold {
            return Ok(Some(rule));
        }
    }
    Err(AllocationEvaluationCode::FailingRule)
}

/// The subject's attributes named as `naming` names them: as they are, or
/// with each name hashed for a CLIENT configuration.
pub(crate) fn named_attributes(naming: Naming, attributes: &Attributes) -> std::borrow::Cow<'_, Attributes> {
    match naming {
        Naming::Plain => std::borrow::Cow::Borrowed(attributes),
        Naming::Md5 => std::borrow::Cow::Owned(hash_names(attributes)),
    }
}

/// The subject's shard under each salt of the flag, computed on first use:
/// splits of one allocation usually repeat the same traffic salt, and a
/// salt's shard does not change within an evaluation.
struct ShardMemo {
    /// `u32::MAX` for "not yet": a shard is always below `totalShards`.
    shards: [u32; ShardMemo::SALTS],
}

impl ShardMemo {
    /// Salts numbered beyond this are hashed every time.
    const SALTS: usize = 16;

    /// A memo that starts with `known` (the caller's shards by salt
    /// number; those past [`ShardMemo::SALTS`] are hashed as needed).
    #[inline]
    fn new(known: &[u32]) -> ShardMemo {
        let mut shards = [u32::MAX; ShardMemo::SALTS];
        for (slot, shard) in shards.iter_mut().zip(known) {
            *slot = *shard;
        }
        ShardMemo { shards }
    }

    #[inline]
    fn shard(&mut self, rule: &ShardRule, subject_key: &str) -> u32 {
        match self.shards.get_mut(rule.salt_index) {
            Some(slot) => {
                if *slot == u32::MAX {
                    *slot = rule.sharder.shard(subject_key);
                }
                *slot
            }
            None => rule.sharder.shard(subject_key),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialize_as_the_test_files_spell_them() {
        let codes = [
            FlagEvaluationCode::Match,
            FlagEvaluationCode::FlagUnrecognizedOrDisabled,
            FlagEvaluationCode::TypeMismatch,
            FlagEvaluationCode::AssignmentError,
            FlagEvaluationCode::DefaultAllocationNull,
            FlagEvaluationCode::ConfigurationMissing,
            FlagEvaluationCode::UnexpectedConfigurationError,
            FlagEvaluationCode::NonBanditVariation,
            FlagEvaluationCode::NoActionsSuppliedForBandit,
            FlagEvaluationCode::BanditError,
        ];
        for code in codes {
            let json = serde_json::to_value(code).unwrap_or_default();
            assert_eq!(json, serde_json::Value::from(code.as_str()));
            assert_eq!(serde_json::from_value::<FlagEvaluationCode>(json).ok(), Some(code));
            assert!(code == code.as_str());
            assert_eq!(format!("{code}"), code.as_str());
        }
    }

    #[test]
    fn rejected_codes_spill_past_the_inline_buffer_in_order() {
        let codes = [
            AllocationEvaluationCode::BeforeStartTime,
            AllocationEvaluationCode::AfterEndTime,
            AllocationEvaluationCode::FailingRule,
            AllocationEvaluationCode::TrafficExposureMiss,
        ];
        for count in [0, 1, RejectedCodes::INLINE, RejectedCodes::INLINE + 1, 3 * RejectedCodes::INLINE] {
            let mut rejected = RejectedCodes::new();
            let expected: Vec<AllocationEvaluationCode> = (0..count).map(|i| codes[i % codes.len()]).collect();
            for code in &expected {
                rejected.rejected(*code);
            }
            assert_eq!(rejected.as_slice(), expected.as_slice(), "{count} codes");
        }
    }
}
