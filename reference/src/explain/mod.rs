//! Explain one evaluation in full: every allocation with its date window,
//! every rule and condition with the value it read and how it compared,
//! every split with each shard's salt, value and ranges, the variation (or
//! why the default was served) and the event an SDK would log; for bandits,
//! each action's score terms, weights and the selection.
//!
//! The explanation is recorded from the evaluation itself: [`Recorder`] is a
//! [`Trace`] that the ordinary evaluation walk (`eval::evaluate_traced`)
//! calls at each step, so what it says and what evaluation returns come from
//! one computation and cannot disagree. Only descriptions (how a value was
//! rendered or parsed) are worked out afterwards, from the same inputs.

mod bandit;
mod condition;

use serde::Serialize;
use serde_json::Value;

pub use self::bandit::{ActionExplanation, BanditExplanation, ScoreTerm};
pub use self::condition::{AttributeRead, ReadSource};
use crate::codes::AllocationEvaluationCode;
use crate::config::Configuration;
use crate::details::EvaluationDetails;
use crate::eval::{evaluate_traced, named_attributes, RejectedCodes, Trace};
use crate::flag::{Flag, ShardRule};
use crate::outcome::{FlagOutcome, FlagRequest};
use crate::rules::Condition;
use crate::Timestamp;

/// The full account of one flag evaluation (`--explain`'s JSON form,
/// `docs/report-schemas/explain.schema.json`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Explanation {
    /// The flag key asked for.
    pub flag: String,
    /// The subject key.
    pub subject: String,
    /// The evaluation clock (RFC 3339).
    pub now: String,
    /// The type the caller asked for.
    pub requested_type: String,
    /// What the configuration says about itself.
    pub configuration: ConfigurationSummary,
    /// The flag as loaded; `None` when the configuration lacks it.
    pub flag_summary: Option<FlagSummary>,
    /// Every allocation, in order (empty when evaluation never reached them).
    pub allocations: Vec<AllocationExplanation>,
    /// The answer.
    pub result: ResultExplanation,
    /// The assignment event an SDK would hand its logger (`None`: nothing logged).
    pub assignment_event: Option<Value>,
    /// Why nothing is logged, when nothing is.
    pub no_event_reason: Option<String>,
    /// The bandit's part, for a bandit evaluation.
    pub bandit: Option<BanditExplanation>,
    /// The bandit event, for a bandit evaluation that chose an action.
    pub bandit_event: Option<Value>,
    /// Anything else worth knowing (for instance, that a precomputed
    /// configuration carries no rules or shards to show).
    pub notes: Vec<String>,
}

/// The configuration's own description.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigurationSummary {
    /// `format` (`SERVER`, `CLIENT`, ...).
    pub format: Option<String>,
    /// `environment.name`.
    pub environment: Option<String>,
    /// `createdAt`.
    pub created_at: Option<String>,
    /// Attribute names and `ONE_OF` values are MD5 digests (CLIENT).
    pub hashed_names: bool,
}

/// The flag as loaded.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FlagSummary {
    /// `enabled`.
    pub enabled: bool,
    /// `variationType`.
    pub variation_type: String,
    /// `totalShards`.
    pub total_shards: u32,
    /// Why the flag could not be read, if it could not.
    pub error: Option<String>,
}

/// One allocation, as evaluation saw it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AllocationExplanation {
    /// 0-based position.
    pub index: usize,
    /// The allocation key.
    pub key: String,
    /// The date window against the clock.
    pub window: DateWindow,
    /// `MATCH`, the rejecting code, or `UNEVALUATED` (evaluation stopped before it).
    pub verdict: AllocationEvaluationCode,
    /// Every rule (OR of ANDs), in order.
    pub rules: Vec<RuleExplanation>,
    /// Every split, in order.
    pub splits: Vec<SplitExplanation>,
    /// `doLog`.
    pub do_log: bool,
}

/// `startAt`/`endAt` (both inclusive) against "now".
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DateWindow {
    /// `startAt`, if set.
    pub start_at: Option<String>,
    /// `endAt`, if set.
    pub end_at: Option<String>,
    /// `notStarted`, `ended` or `open`.
    pub state: WindowState,
}

/// Where "now" falls in an allocation's window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum WindowState {
    /// Before `startAt`.
    NotStarted,
    /// After `endAt`.
    Ended,
    /// Within the window (or no window).
    Open,
}

/// One rule.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleExplanation {
    /// 0-based position.
    pub index: usize,
    /// `true`: every condition held; `false`: one failed; `None`: not
    /// checked (the dates rejected the allocation, or an earlier rule held).
    pub result: Option<bool>,
    /// Every condition, in order.
    pub conditions: Vec<ConditionExplanation>,
}

/// One condition.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConditionExplanation {
    /// The attribute, as the configuration names it.
    pub attribute: String,
    /// The plain name, when the configuration names attributes by digest
    /// and the subject has an attribute with that digest.
    pub attribute_name: Option<String>,
    /// The operator as written.
    pub operator: Option<String>,
    /// The configured value as written.
    pub value: Value,
    /// What the condition read (after the `id` fallback).
    pub read: AttributeRead,
    /// How the value was coerced and compared.
    pub comparison: String,
    /// The evaluation's verdict; `None` when it was not evaluated (an
    /// earlier condition of the rule failed, or the rule was not checked).
    pub result: Option<bool>,
}

/// One split.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SplitExplanation {
    /// 0-based position.
    pub index: usize,
    /// The variation it serves.
    pub variation_key: String,
    /// `extraLogging`.
    pub extra_logging: serde_json::Map<String, Value>,
    /// Every shard rule, in order.
    pub shards: Vec<ShardExplanation>,
    /// `true`: every shard admitted, so the split decided; `false`: one did
    /// not; `None`: not checked.
    pub admitted: Option<bool>,
}

/// One shard rule of a split.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShardExplanation {
    /// The salt.
    pub salt: String,
    /// The hashed text, `salt-subjectKey`.
    pub hash_input: String,
    /// `totalShards`.
    pub total_shards: u32,
    /// `md5(hashInput)`'s first four bytes, big-endian, modulo
    /// `totalShards`: the shard evaluation computed. `None` when it was not
    /// computed (not checked, or the ranges cover every shard).
    pub shard: Option<u32>,
    /// The half-open ranges, any of which admits.
    pub ranges: Vec<[u32; 2]>,
    /// The ranges cover every shard: admitted without hashing.
    pub covers_every_shard: bool,
    /// Whether it admitted the subject; `None`: not checked.
    pub admitted: Option<bool>,
}

/// The evaluation's answer.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResultExplanation {
    /// The flag-level code (details' `flagEvaluationCode`).
    pub code: String,
    /// Details' `flagEvaluationDescription`.
    pub description: String,
    /// `true` when a variation was served, `false` when the default was.
    pub served: bool,
    /// The deciding allocation's key.
    pub allocation: Option<String>,
    /// The deciding split's variation key.
    pub variation_key: Option<String>,
    /// The served value (`None` for the default).
    pub value: Option<Value>,
    /// The evaluation details, as SDKs report them.
    pub details: Value,
}

/// Records the evaluation walk for [`explain`]; also collects the rejected
/// codes the details need.
#[derive(Default)]
struct Recorder {
    rejected: Vec<AllocationEvaluationCode>,
    allocations: Vec<AllocationSteps>,
}

#[derive(Default)]
struct AllocationSteps {
    index: usize,
    rejected: Option<AllocationEvaluationCode>,
    rules: Vec<(usize, Vec<bool>)>,
    splits: Vec<(usize, Vec<ShardStep>)>,
}

#[derive(Clone, Copy)]
struct ShardStep {
    shard: Option<u32>,
    admitted: bool,
}

impl Trace for Recorder {
    fn rejected(&mut self, code: AllocationEvaluationCode) {
        self.rejected.push(code);
        if let Some(allocation) = self.allocations.last_mut() {
            allocation.rejected = Some(code);
        }
    }
    fn allocation(&mut self, index: usize) {
        self.allocations.push(AllocationSteps { index, ..AllocationSteps::default() });
    }
    fn rule(&mut self, index: usize) {
        if let Some(allocation) = self.allocations.last_mut() {
            allocation.rules.push((index, Vec::new()));
        }
    }
    fn condition(&mut self, _index: usize, _condition: &Condition, holds: bool) {
        if let Some((_, conditions)) = self.allocations.last_mut().and_then(|a| a.rules.last_mut()) {
            conditions.push(holds);
        }
    }
    fn split(&mut self, index: usize) {
        if let Some(allocation) = self.allocations.last_mut() {
            allocation.splits.push((index, Vec::new()));
        }
    }
    fn shard(&mut self, _index: usize, _rule: &ShardRule, shard: Option<u32>, admitted: bool) {
        if let Some((_, shards)) = self.allocations.last_mut().and_then(|a| a.splits.last_mut()) {
            shards.push(ShardStep { shard, admitted });
        }
    }
}

impl Configuration {
    /// Evaluates a flag exactly as [`Configuration::evaluate_details`] does
    /// and explains every step of it.
    pub fn explain<'c>(
        &'c self,
        request: &FlagRequest<'_>,
        now: Timestamp,
    ) -> (FlagOutcome<'c>, EvaluationDetails, Explanation) {
        explain(Some(self), request, now)
    }
}

/// As [`Configuration::explain`], with or without a configuration.
pub fn explain<'c>(
    config: Option<&'c Configuration>,
    request: &FlagRequest<'_>,
    now: Timestamp,
) -> (FlagOutcome<'c>, EvaluationDetails, Explanation) {
    let mut recorder = Recorder::default();
    let outcome = evaluate_traced(config, request, now, &mut recorder);
    let mut rejected = RejectedCodes::new();
    for code in &recorder.rejected {
        rejected.rejected(*code);
    }
    let details = EvaluationDetails::build(config, request, &outcome, rejected.as_slice());
    let explanation = build(config, request, now, &outcome, &details, &recorder);
    (outcome, details, explanation)
}

fn rfc3339(t: Timestamp) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn build(
    config: Option<&Configuration>,
    request: &FlagRequest<'_>,
    now: Timestamp,
    outcome: &FlagOutcome<'_>,
    details: &EvaluationDetails,
    recorder: &Recorder,
) -> Explanation {
    let configuration = ConfigurationSummary {
        format: config.and_then(|c| c.format()).map(str::to_owned),
        environment: config.and_then(|c| c.environment_name()).map(str::to_owned),
        created_at: config.and_then(|c| c.created_at()).map(str::to_owned),
        hashed_names: config.is_some_and(|c| c.naming() == crate::obfuscation::Naming::Md5),
    };
    let flag_summary = config.and_then(|c| c.flag(request.flag_key)).map(|entry| match entry {
        crate::flag::FlagEntry::Valid(flag) => FlagSummary {
            enabled: flag.enabled,
            variation_type: flag.variation_type.as_str().to_owned(),
            total_shards: flag.total_shards,
            error: flag.shard_error.as_ref().map(ToString::to_string),
        },
        crate::flag::FlagEntry::Invalid(err) => {
            FlagSummary { enabled: false, variation_type: String::new(), total_shards: 0, error: Some(err.to_string()) }
        }
    });
    let allocations = match (config, outcome.flag) {
        (Some(config), Some(flag)) => {
            let decided = outcome.decision.map(|d| d.allocation_index);
            explain_allocations(config, flag, request, now, recorder, decided)
        }
        _ => Vec::new(),
    };
    let decision = outcome.decision.filter(|_| outcome.value().is_some());
    let result = ResultExplanation {
        code: details.flag_evaluation_code.as_str().to_owned(),
        description: details.flag_evaluation_description.to_string(),
        served: outcome.value().is_some(),
        allocation: outcome.decision.map(|d| d.allocation.key.to_string()),
        variation_key: decision.map(|d| d.split.variation_key.to_string()),
        value: outcome.value().map(crate::TypedValue::to_json),
        details: details.to_json(),
    };
    let event = outcome.assignment_event(request, now);
    let no_event_reason = match (&event, outcome.decision) {
        (Some(_), _) => None,
        (None, Some(d)) if outcome.value().is_some() && !d.allocation.do_log => {
            Some(format!("allocation {:?} has doLog false", &*d.allocation.key))
        }
        (None, _) => Some("no variation was served, so nothing is logged".to_owned()),
    };
    Explanation {
        flag: request.flag_key.to_owned(),
        subject: request.subject_key.to_owned(),
        now: rfc3339(now),
        requested_type: request.expected_type.as_str().to_owned(),
        configuration,
        flag_summary,
        allocations,
        result,
        assignment_event: event.map(|e| e.to_json()),
        no_event_reason,
        bandit: None,
        bandit_event: None,
        notes: Vec::new(),
    }
}

fn explain_allocations(
    config: &Configuration,
    flag: &Flag,
    request: &FlagRequest<'_>,
    now: Timestamp,
    recorder: &Recorder,
    decided: Option<usize>,
) -> Vec<AllocationExplanation> {
    // Conditions read the attributes as the configuration names them.
    let attributes = named_attributes(config.naming(), request.attributes);
    let plain_names = condition::plain_names(config.naming(), request.attributes);
    flag.allocations
        .iter()
        .enumerate()
        .map(|(index, allocation)| {
            let steps = recorder.allocations.iter().find(|s| s.index == index);
            let verdict = match steps {
                Some(AllocationSteps { rejected: Some(code), .. }) => *code,
                Some(_) if decided == Some(index) => AllocationEvaluationCode::Match,
                // Not walked, or walked and failed there (a flag without shards).
                _ => AllocationEvaluationCode::Unevaluated,
            };
            let window = DateWindow {
                start_at: allocation.start_at.map(rfc3339),
                end_at: allocation.end_at.map(rfc3339),
                state: if allocation.start_at.is_some_and(|s| now < s) {
                    WindowState::NotStarted
                } else if allocation.end_at.is_some_and(|e| now > e) {
                    WindowState::Ended
                } else {
                    WindowState::Open
                },
            };
            let rules = allocation
                .rules
                .iter()
                .enumerate()
                .map(|(rule_index, rule)| {
                    let checked = steps.and_then(|s| s.rules.iter().find(|(i, _)| *i == rule_index));
                    let results = checked.map(|(_, r)| r.as_slice()).unwrap_or_default();
                    let conditions = rule
                        .conditions
                        .iter()
                        .enumerate()
                        .map(|(i, c)| {
                            let raw = rule.raw.get("conditions").and_then(|cs| cs.get(i));
                            condition::explain(c, raw, request.subject_key, &attributes, &plain_names, results.get(i))
                        })
                        .collect();
                    let result = checked.map(|(_, r)| r.len() == rule.conditions.len() && r.iter().all(|h| *h));
                    RuleExplanation { index: rule_index, result, conditions }
                })
                .collect();
            let splits = allocation
                .splits
                .iter()
                .enumerate()
                .map(|(split_index, split)| {
                    let checked = steps.and_then(|s| s.splits.iter().find(|(i, _)| *i == split_index));
                    let results = checked.map(|(_, r)| r.as_slice()).unwrap_or_default();
                    let shards = split
                        .shards
                        .iter()
                        .enumerate()
                        .map(|(i, rule)| {
                            let step = results.get(i);
                            ShardExplanation {
                                salt: rule.sharder.salt().to_owned(),
                                hash_input: format!("{}-{}", rule.sharder.salt(), request.subject_key),
                                total_shards: flag.total_shards,
                                shard: step.and_then(|s| s.shard),
                                ranges: rule.ranges.iter().map(|r| [r.start, r.end]).collect(),
                                covers_every_shard: rule.always_admits,
                                admitted: step.map(|s| s.admitted),
                            }
                        })
                        .collect();
                    let admitted = checked.map(|(_, r)| r.len() == split.shards.len() && r.iter().all(|s| s.admitted));
                    SplitExplanation {
                        index: split_index,
                        variation_key: split.variation_key.to_string(),
                        extra_logging: split
                            .extra_logging
                            .iter()
                            .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
                            .collect(),
                        shards,
                        admitted,
                    }
                })
                .collect();
            AllocationExplanation {
                index,
                key: allocation.key.to_string(),
                window,
                verdict,
                rules,
                splits,
                do_log: allocation.do_log,
            }
        })
        .collect()
}
