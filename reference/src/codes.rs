//! The codes of spec section 3: why a flag served what it served, and what
//! became of each allocation. They are outcomes, not errors.

use serde::{Deserialize, Serialize};

/// The flag-level code of spec section 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum FlagEvaluationCode {
    /// A variation was served.
    Match,
    /// The flag is unknown or disabled.
    FlagUnrecognizedOrDisabled,
    /// The caller asked for another type than the flag's.
    TypeMismatch,
    /// The selected variation's value is not of the flag's type.
    AssignmentError,
    /// No allocation yielded a split.
    DefaultAllocationNull,
    /// No configuration is loaded.
    ConfigurationMissing,
    /// The flag's configuration is unusable.
    UnexpectedConfigurationError,
    /// Bandits: the variation is not linked to a bandit.
    NonBanditVariation,
    /// Bandits: no actions were supplied.
    NoActionsSuppliedForBandit,
    /// Bandits: the model is missing or unusable.
    BanditError,
}

impl FlagEvaluationCode {
    /// The code as the shared test files spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            FlagEvaluationCode::Match => "MATCH",
            FlagEvaluationCode::FlagUnrecognizedOrDisabled => "FLAG_UNRECOGNIZED_OR_DISABLED",
            FlagEvaluationCode::TypeMismatch => "TYPE_MISMATCH",
            FlagEvaluationCode::AssignmentError => "ASSIGNMENT_ERROR",
            FlagEvaluationCode::DefaultAllocationNull => "DEFAULT_ALLOCATION_NULL",
            FlagEvaluationCode::ConfigurationMissing => "CONFIGURATION_MISSING",
            FlagEvaluationCode::UnexpectedConfigurationError => "UNEXPECTED_CONFIGURATION_ERROR",
            FlagEvaluationCode::NonBanditVariation => "NON_BANDIT_VARIATION",
            FlagEvaluationCode::NoActionsSuppliedForBandit => "NO_ACTIONS_SUPPLIED_FOR_BANDIT",
            FlagEvaluationCode::BanditError => "BANDIT_ERROR",
        }
    }
}

impl PartialEq<str> for FlagEvaluationCode {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for FlagEvaluationCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::fmt::Display for FlagEvaluationCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The allocation-level code of spec section 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AllocationEvaluationCode {
    /// This allocation decided.
    Match,
    /// Now is before `startAt`.
    BeforeStartTime,
    /// Now is after `endAt`.
    AfterEndTime,
    /// No rule passed.
    FailingRule,
    /// Rules passed but no split admitted the subject.
    TrafficExposureMiss,
    /// After the deciding allocation; not looked at.
    Unevaluated,
}

impl AllocationEvaluationCode {
    /// Every code.
    pub const ALL: [AllocationEvaluationCode; 6] = [
        AllocationEvaluationCode::Match,
        AllocationEvaluationCode::BeforeStartTime,
        AllocationEvaluationCode::AfterEndTime,
        AllocationEvaluationCode::FailingRule,
        AllocationEvaluationCode::TrafficExposureMiss,
        AllocationEvaluationCode::Unevaluated,
    ];

    /// The name the details use.
    pub fn as_str(self) -> &'static str {
        match self {
            AllocationEvaluationCode::Match => "MATCH",
            AllocationEvaluationCode::BeforeStartTime => "BEFORE_START_TIME",
            AllocationEvaluationCode::AfterEndTime => "AFTER_END_TIME",
            AllocationEvaluationCode::FailingRule => "FAILING_RULE",
            AllocationEvaluationCode::TrafficExposureMiss => "TRAFFIC_EXPOSURE_MISS",
            AllocationEvaluationCode::Unevaluated => "UNEVALUATED",
        }
    }
}

impl<'de> Deserialize<'de> for AllocationEvaluationCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        AllocationEvaluationCode::ALL
            .into_iter()
            .find(|code| code.as_str() == text)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown allocation code {text:?}")))
    }
}
