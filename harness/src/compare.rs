//! Expected against observed: each difference with the field it is in and
//! a severity. Values and bandit actions are critical; events and details
//! codes major; details text minor.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::protocol::CaseResult;
use crate::suite::Expected;

/// How much a difference matters. The CLI chooses which severities fail a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The served value or bandit action.
    Critical,
    /// Events, details codes and the structure of details.
    Major,
    /// Details wording.
    Minor,
}

impl Severity {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Major => "major",
            Severity::Minor => "minor",
        }
    }
}

/// One field that differs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Difference {
    /// Where: `value`, `details.flagEvaluationCode`, `assignmentEvents[0].variation`, ...
    pub field: String,
    /// How much it matters.
    pub severity: Severity,
    /// What the test file (or, for events, the reference) says.
    pub expected: Value,
    /// What the party answered.
    pub actual: Value,
}

/// Which parts of a result to compare.
#[derive(Debug, Clone, Copy, Default)]
pub struct Scope {
    /// Compare details against the test file.
    pub details: bool,
    /// Compare assignment events against the reference's.
    pub events: bool,
    /// Compare bandit events against the reference's.
    pub bandit_events: bool,
}

/// Event fields that legitimately differ between parties.
const IGNORED_EVENT_FIELDS: [&str; 2] = ["timestamp", "metaData"];

/// Compares a party's result with the test file's expectations and, for
/// events, with the reference's result.
pub fn compare(
    expected: &Expected,
    actual: &CaseResult,
    reference: Option<&CaseResult>,
    scope: Scope,
) -> Vec<Difference> {
    let mut diffs = Vec::new();
    let value = actual.value.clone().unwrap_or(Value::Null);
    if !json_equal(&expected.assignment, &value) {
        diffs.push(Difference {
            field: "value".into(),
            severity: Severity::Critical,
            expected: expected.assignment.clone(),
            actual: value,
        });
    }
    if scope.details {
        if let Some(expected_details) = &expected.details {
            compare_details(expected_details, actual.details.as_ref(), &mut diffs);
        }
    }
    if let Some(reference) = reference {
        if scope.events {
            compare_events("assignmentEvents", &reference.assignment_events, &actual.assignment_events, &mut diffs);
        }
        if scope.bandit_events {
            compare_events("banditEvents", &reference.bandit_events, &actual.bandit_events, &mut diffs);
        }
    }
    diffs
}

fn compare_details(expected: &Value, actual: Option<&Value>, diffs: &mut Vec<Difference>) {
    let Some(actual) = actual.filter(|a| !a.is_null()) else {
        diffs.push(Difference {
            field: "details".into(),
            severity: Severity::Major,
            expected: expected.clone(),
            actual: Value::Null,
        });
        return;
    };
    let (Some(expected_map), Some(actual_map)) = (expected.as_object(), actual.as_object()) else {
        if !json_equal(expected, actual) {
            diffs.push(Difference {
                field: "details".into(),
                severity: Severity::Major,
                expected: expected.clone(),
                actual: actual.clone(),
            });
        }
        return;
    };
    for (key, want) in expected_map {
        let got = actual_map.get(key).cloned().unwrap_or(Value::Null);
        if !json_equal(want, &got) {
            let severity = if key == "flagEvaluationDescription" { Severity::Minor } else { Severity::Major };
            diffs.push(Difference { field: format!("details.{key}"), severity, expected: want.clone(), actual: got });
        }
    }
}

fn compare_events(field: &str, expected: &[Value], actual: &[Value], diffs: &mut Vec<Difference>) {
    if expected.len() != actual.len() {
        diffs.push(Difference {
            field: format!("{field}.length"),
            severity: Severity::Major,
            expected: Value::from(expected.len()),
            actual: Value::from(actual.len()),
        });
        return;
    }
    for (index, (want, got)) in expected.iter().zip(actual).enumerate() {
        let (Some(want), Some(got)) = (want.as_object(), got.as_object()) else { continue };
        for (key, want_value) in want {
            if IGNORED_EVENT_FIELDS.contains(&key.as_str()) {
                continue;
            }
            let got_value = got.get(key).cloned().unwrap_or(Value::Null);
            if !json_equal(want_value, &got_value) {
                diffs.push(Difference {
                    field: format!("{field}[{index}].{key}"),
                    severity: Severity::Major,
                    expected: want_value.clone(),
                    actual: got_value,
                });
            }
        }
        for (key, got_value) in got {
            if !want.contains_key(key) && !IGNORED_EVENT_FIELDS.contains(&key.as_str()) {
                diffs.push(Difference {
                    field: format!("{field}[{index}].{key}"),
                    severity: Severity::Minor,
                    expected: Value::Null,
                    actual: got_value.clone(),
                });
            }
        }
    }
}

/// JSON equality where numbers compare by value (`1` equals `1.0`) but
/// types stay strict (`1` differs from `"1"` and from `true`).
pub fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => match (x.as_u64(), y.as_u64()) {
                (Some(x), Some(y)) => x == y,
                _ => x.as_f64() == y.as_f64(),
            },
        },
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_equal(a, b)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_compare_by_value_but_types_are_strict() {
        assert!(json_equal(&json!(1), &json!(1.0)));
        assert!(!json_equal(&json!(1), &json!("1")));
        assert!(!json_equal(&json!(1), &json!(true)));
        assert!(json_equal(&json!({"a": [1, 2.5]}), &json!({"a": [1.0, 2.5]})));
        assert!(!json_equal(&json!({"a": 1}), &json!({"a": 1, "b": 2})));
    }

    #[test]
    fn severities_follow_the_field() {
        let expected = Expected {
            assignment: json!("a"),
            details: Some(json!({"flagEvaluationCode": "MATCH", "flagEvaluationDescription": "x"})),
        };
        let actual = CaseResult {
            value: Some(json!("b")),
            details: Some(json!({"flagEvaluationCode": "DEFAULT_ALLOCATION_NULL", "flagEvaluationDescription": "y"})),
            ..CaseResult::default()
        };
        let diffs = compare(&expected, &actual, None, Scope { details: true, ..Scope::default() });
        let got: Vec<(&str, Severity)> = diffs.iter().map(|d| (d.field.as_str(), d.severity)).collect();
        assert_eq!(
            got,
            vec![
                ("value", Severity::Critical),
                ("details.flagEvaluationCode", Severity::Major),
                ("details.flagEvaluationDescription", Severity::Minor)
            ]
        );
    }

    #[test]
    fn events_ignore_timestamps_and_metadata_and_flag_extra_fields() {
        let reference = CaseResult {
            assignment_events: vec![json!({"featureFlag": "f", "timestamp": "t1", "metaData": {"a": 1}})],
            ..CaseResult::default()
        };
        let actual = CaseResult {
            value: Some(json!(1)),
            assignment_events: vec![json!({"featureFlag": "f", "timestamp": "t2", "metaData": {}, "format": "SERVER"})],
            ..CaseResult::default()
        };
        let expected = Expected { assignment: json!(1), details: None };
        let diffs = compare(&expected, &actual, Some(&reference), Scope { events: true, ..Scope::default() });
        assert_eq!(diffs.len(), 1);
        assert_eq!(diffs[0].field, "assignmentEvents[0].format");
        assert_eq!(diffs[0].severity, Severity::Minor);
    }
}
