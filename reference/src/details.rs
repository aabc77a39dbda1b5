//! Evaluation details in the exact shape of the shared test files'
//! `evaluationDetails` (spec section 3), including the wording of each
//! description.

use std::borrow::Cow;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::codes::{AllocationEvaluationCode, FlagEvaluationCode};
use crate::config::Configuration;
use crate::outcome::{FlagOutcome, FlagRequest};
use crate::text::SharedStr;

/// `evaluationDetails`, field for field and in the files' key order.
///
/// Names are [`SharedStr`]s and the matched rule and value are shared with
/// the compiled configuration, so building details copies no configuration
/// text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EvaluationDetails {
    /// `environment.name` of the configuration.
    pub environment_name: Option<SharedStr>,
    /// The flag-level code.
    pub flag_evaluation_code: FlagEvaluationCode,
    /// A sentence explaining the code.
    pub flag_evaluation_description: Cow<'static, str>,
    /// The bandit, for bandit evaluations that chose an action.
    pub bandit_key: Option<String>,
    /// The chosen action.
    pub bandit_action: Option<String>,
    /// The selected variation's key.
    pub variation_key: Option<SharedStr>,
    /// The selected variation's value (converted; raw for `ASSIGNMENT_ERROR`).
    pub variation_value: Option<Arc<Value>>,
    /// The first passing rule as written, or null.
    pub matched_rule: Option<Arc<Value>>,
    /// The deciding allocation.
    pub matched_allocation: Option<AllocationDetails>,
    /// Allocations rejected before the decision, in order.
    pub unmatched_allocations: Vec<AllocationDetails>,
    /// Allocations after the decision.
    pub unevaluated_allocations: Vec<AllocationDetails>,
}

/// One allocation's entry in the details.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AllocationDetails {
    /// The allocation key.
    pub key: SharedStr,
    /// Its code.
    pub allocation_evaluation_code: AllocationEvaluationCode,
    /// 1-based position in the flag.
    pub order_position: usize,
}

impl EvaluationDetails {
    /// Builds the details of an outcome. `rejected` holds the codes of the
    /// allocations rejected before the decision (all of them when there was
    /// none).
    pub(crate) fn build(
        config: Option<&Configuration>,
        request: &FlagRequest<'_>,
        outcome: &FlagOutcome<'_>,
        rejected: &[AllocationEvaluationCode],
    ) -> EvaluationDetails {
        let mut details = EvaluationDetails {
            environment_name: config.and_then(|c| c.environment_name_shared()).cloned(),
            flag_evaluation_code: outcome.code,
            flag_evaluation_description: Cow::Borrowed(""),
            bandit_key: None,
            bandit_action: None,
            variation_key: None,
            variation_value: None,
            matched_rule: None,
            matched_allocation: None,
            unmatched_allocations: Vec::new(),
            unevaluated_allocations: Vec::new(),
        };
        let flag_key = request.flag_key;
        let flag = outcome.flag;

        if let Some(flag) = flag {
            let entry = |index: usize, code| AllocationDetails {
                key: flag.allocations[index].key.clone(),
                allocation_evaluation_code: code,
                order_position: index + 1,
            };
            let listed = outcome.code != FlagEvaluationCode::TypeMismatch;
            if listed {
                details.unmatched_allocations =
                    rejected.iter().enumerate().map(|(index, code)| entry(index, *code)).collect();
            }
            // An evaluation that failed part-way (see `eval::decide`) lists
            // the allocation it failed at and those after it as never
            // evaluated, as JS's details do when its evaluation throws.
            if outcome.code == FlagEvaluationCode::UnexpectedConfigurationError && outcome.decision.is_none() {
                details.unevaluated_allocations = (rejected.len()..flag.allocations.len())
                    .map(|index| entry(index, AllocationEvaluationCode::Unevaluated))
                    .collect();
            }
            if let Some(decision) = outcome.decision {
                details.matched_allocation = Some(entry(decision.allocation_index, AllocationEvaluationCode::Match));
                details.unevaluated_allocations = (decision.allocation_index + 1..flag.allocations.len())
                    .map(|index| entry(index, AllocationEvaluationCode::Unevaluated))
                    .collect();
                details.matched_rule = decision.rule.map(|rule| Arc::clone(&rule.raw));
                details.variation_key = Some(decision.split.variation_key.clone());
                details.variation_value = decision.variation.map(|v| Arc::clone(&v.details_value));
            }
        }

        let description: Cow<'static, str> = match outcome.code {
            FlagEvaluationCode::Match => match (flag, outcome.decision) {
                (Some(_), Some(decision)) => {
                    let allocation = decision.allocation;
                    let split_traffic = allocation.splits.len() > 1 || decision.split.shards.len() > 1;
                    let variation_key = &*decision.split.variation_key;
                    let subject_key = request.subject_key;
                    let allocation_key = &*allocation.key;
                    // Concatenated rather than `format!`ed: this runs on
                    // every detailed evaluation.
                    match (allocation.rules.is_empty(), split_traffic) {
                        (true, _) => concat(&[
                            subject_key,
                            " belongs to the range of traffic assigned to \"",
                            variation_key,
                            "\" defined in allocation \"",
                            allocation_key,
                            "\".",
                        ]),
                        (false, false) => {
                            concat(&["Supplied attributes match rules defined in allocation \"", allocation_key, "\"."])
                        }
                        (false, true) => concat(&[
                            "Supplied attributes match rules defined in allocation \"",
                            allocation_key,
                            "\" and ",
                            subject_key,
                            " belongs to the range of traffic assigned to \"",
                            variation_key,
                            "\".",
                        ]),
                    }
                }
                _ => Cow::Borrowed(""),
            },
            FlagEvaluationCode::FlagUnrecognizedOrDisabled => concat(&["Unrecognized or disabled flag: ", flag_key]),
            FlagEvaluationCode::TypeMismatch => Cow::Owned(format!(
                "Flag \"{flag_key}\" has variation type {}, but {} was requested",
                flag.map_or("UNKNOWN", |f| f.variation_type.as_str()),
                request.expected_type
            )),
            // The code means the flag's type was requested, so the
            // description prepared with the flag's type is the one.
            FlagEvaluationCode::AssignmentError => match outcome.decision.and_then(|d| d.variation) {
                Some(variation) => Cow::Owned(variation.assignment_error.as_deref().unwrap_or_default().to_owned()),
                None => Cow::Borrowed(""),
            },
            FlagEvaluationCode::DefaultAllocationNull => {
                Cow::Borrowed("No allocations matched. Falling back to \"Default Allocation\", serving NULL")
            }
            FlagEvaluationCode::ConfigurationMissing => Cow::Borrowed("No configuration is loaded"),
            FlagEvaluationCode::UnexpectedConfigurationError => match outcome.decision {
                Some(decision) => Cow::Owned(format!(
                    "Allocation \"{}\" assigns variation \"{}\", which flag \"{flag_key}\" does not define",
                    decision.allocation.key, decision.split.variation_key
                )),
                None => match (flag.and_then(|f| f.allocations.get(rejected.len())), outcome.config_error) {
                    (Some(allocation), Some(err)) => Cow::Owned(format!(
                        "Allocation \"{}\" of flag \"{flag_key}\" cannot be evaluated: {}",
                        allocation.key, err.message
                    )),
                    _ => {
                        Cow::Owned(format!("Flag \"{flag_key}\" has an invalid configuration and cannot be evaluated"))
                    }
                },
            },
            // Bandit codes are worded by the bandit evaluator.
            FlagEvaluationCode::NonBanditVariation
            | FlagEvaluationCode::NoActionsSuppliedForBandit
            | FlagEvaluationCode::BanditError => Cow::Borrowed(""),
        };
        details.flag_evaluation_description = description;
        details
    }

    /// The details as a JSON object, keys in the files' order.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// The parts joined, in one allocation.
fn concat(parts: &[&str]) -> Cow<'static, str> {
    let mut text = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for part in parts {
        text.push_str(part);
    }
    Cow::Owned(text)
}
