//! Evaluation details in the exact shape of the shared test files'
//! `evaluationDetails` (spec section 3), including the wording of each
//! description.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::Configuration;
use crate::eval::{AllocationEvaluationCode, FlagEvaluationCode, FlagOutcome, FlagRequest};
use crate::value::render_raw_value;

/// `evaluationDetails`, field for field and in the files' key order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EvaluationDetails {
    /// `environment.name` of the configuration.
    pub environment_name: Option<String>,
    /// The flag-level code.
    pub flag_evaluation_code: String,
    /// A sentence explaining the code.
    pub flag_evaluation_description: String,
    /// The bandit, for bandit evaluations that chose an action.
    pub bandit_key: Option<String>,
    /// The chosen action.
    pub bandit_action: Option<String>,
    /// The selected variation's key.
    pub variation_key: Option<String>,
    /// The selected variation's value (converted; raw for `ASSIGNMENT_ERROR`).
    pub variation_value: Option<Value>,
    /// The first passing rule as written, or null.
    pub matched_rule: Option<Value>,
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
    pub key: String,
    /// Its code.
    pub allocation_evaluation_code: AllocationEvaluationCode,
    /// 1-based position in the flag.
    pub order_position: usize,
}

impl<'de> Deserialize<'de> for AllocationEvaluationCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(match text.as_str() {
            "MATCH" => AllocationEvaluationCode::Match,
            "BEFORE_START_TIME" => AllocationEvaluationCode::BeforeStartTime,
            "AFTER_END_TIME" => AllocationEvaluationCode::AfterEndTime,
            "FAILING_RULE" => AllocationEvaluationCode::FailingRule,
            "TRAFFIC_EXPOSURE_MISS" => AllocationEvaluationCode::TrafficExposureMiss,
            "UNEVALUATED" => AllocationEvaluationCode::Unevaluated,
            other => return Err(serde::de::Error::custom(format!("unknown allocation code {other:?}"))),
        })
    }
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
            environment_name: config.and_then(|c| c.environment_name()).map(str::to_owned),
            flag_evaluation_code: outcome.code.as_str().to_owned(),
            flag_evaluation_description: String::new(),
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
            if let Some(decision) = outcome.decision {
                details.matched_allocation = Some(entry(decision.allocation_index, AllocationEvaluationCode::Match));
                details.unevaluated_allocations = (decision.allocation_index + 1..flag.allocations.len())
                    .map(|index| entry(index, AllocationEvaluationCode::Unevaluated))
                    .collect();
                details.matched_rule = decision.rule.map(|rule| rule.raw.clone());
                details.variation_key = Some(decision.split.variation_key.clone());
                details.variation_value = decision
                    .variation
                    .map(|v| v.typed.as_ref().map_or_else(|| v.raw.clone(), |typed| typed.to_json()));
            }
        }

        details.flag_evaluation_description = match outcome.code {
            FlagEvaluationCode::Match => match (flag, outcome.decision) {
                (Some(_), Some(decision)) => {
                    let allocation = decision.allocation;
                    let split_traffic = allocation.splits.len() > 1 || decision.split.shards.len() > 1;
                    let variation_key = &decision.split.variation_key;
                    let subject_key = request.subject_key;
                    match (allocation.rules.is_empty(), split_traffic) {
                        (true, _) => format!(
                            "{subject_key} belongs to the range of traffic assigned to \"{variation_key}\" defined in allocation \"{}\".",
                            allocation.key
                        ),
                        (false, false) => {
                            format!("Supplied attributes match rules defined in allocation \"{}\".", allocation.key)
                        }
                        (false, true) => format!(
                            "Supplied attributes match rules defined in allocation \"{}\" and {subject_key} belongs to the range of traffic assigned to \"{variation_key}\".",
                            allocation.key
                        ),
                    }
                }
                _ => String::new(),
            },
            FlagEvaluationCode::FlagUnrecognizedOrDisabled => format!("Unrecognized or disabled flag: {flag_key}"),
            FlagEvaluationCode::TypeMismatch => format!(
                "Flag \"{flag_key}\" has variation type {}, but {} was requested",
                flag.map_or("UNKNOWN", |f| f.variation_type.as_str()),
                request.expected_type
            ),
            FlagEvaluationCode::AssignmentError => match outcome.decision.and_then(|d| d.variation) {
                Some(variation) => format!(
                    "Variation ({}) is configured for type {}, but is set to incompatible value ({})",
                    variation.key,
                    request.expected_type,
                    render_raw_value(&variation.raw)
                ),
                None => String::new(),
            },
            FlagEvaluationCode::DefaultAllocationNull => {
                "No allocations matched. Falling back to \"Default Allocation\", serving NULL".to_owned()
            }
            FlagEvaluationCode::ConfigurationMissing => "No configuration is loaded".to_owned(),
            FlagEvaluationCode::UnexpectedConfigurationError => match outcome.decision {
                Some(decision) => format!(
                    "Allocation \"{}\" assigns variation \"{}\", which flag \"{flag_key}\" does not define",
                    decision.allocation.key, decision.split.variation_key
                ),
                None => format!("Flag \"{flag_key}\" has an invalid configuration and cannot be evaluated"),
            },
            // Bandit codes are worded by the bandit evaluator.
            FlagEvaluationCode::NonBanditVariation
            | FlagEvaluationCode::NoActionsSuppliedForBandit
            | FlagEvaluationCode::BanditError => String::new(),
        };
        details
    }

    /// The details as a JSON object, keys in the files' order.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}
