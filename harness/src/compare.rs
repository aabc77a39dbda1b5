//! Expected against observed: each difference with the field it is in and a
//! severity. Values and bandit actions are critical; events and details
//! codes major; details wording and extra event fields minor.
//!
//! Both sides are [`Observation`]s: the test file's expectation is read into
//! the same types as a party's answer, so nothing here handles raw JSON.

pub use ufc_protocol::report::Severity;

use crate::observation::{Answer, Details, Event, Json, Observation};

/// One field that differs.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    /// Where: `value`, `details.flagEvaluationCode`, `assignmentEvents[0].variation`, ...
    pub field: String,
    /// How much it matters.
    pub severity: Severity,
    /// What the test file (or, for events, the reference) says.
    pub expected: Json,
    /// What the party answered.
    pub actual: Json,
}

/// A test file's expectations for one subject.
#[derive(Debug, Clone, PartialEq)]
pub struct Expected {
    /// `assignment` (bandits: `{variation, action}`).
    pub value: Json,
    /// `evaluationDetails`, when the file has them.
    pub details: Option<Details>,
}

/// Which parts of an answer to compare.
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

/// Whether an event field is compared between parties (timestamps and
/// metadata legitimately differ).
pub fn event_field_compared(key: &str) -> bool {
    !IGNORED_EVENT_FIELDS.contains(&key)
}

/// Compares a party's answer with the test file's expectations and, for
/// events, with the reference's answer.
pub fn compare(
    expected: &Expected,
    actual: &Observation,
    reference: Option<&Observation>,
    scope: Scope,
) -> Vec<Difference> {
    let mut diffs = Vec::new();
    if expected.value != actual.value {
        diffs.push(Difference {
            field: "value".into(),
            severity: Severity::Critical,
            expected: expected.value.clone(),
            actual: actual.value.clone(),
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

/// Fields that read a clock, wherever they sit in an event or the details:
/// when the event was logged (`timestamp`, also inside the
/// `evaluationDetails` the Python, Rust and JS cores attach to events) and
/// when the process got its configuration (`configFetchedAt`). Two
/// processes never agree on them.
const CLOCK_FIELDS: [&str; 2] = ["timestamp", "configFetchedAt"];

/// Whether two answers to one case are the same answer: the value, the
/// details and the events alike, JSON objects compared whatever their key
/// order, with the clock readings ([`CLOCK_FIELDS`]) and the events'
/// `metaData` left out. Raised errors are the same when their messages
/// are. This is what `--repeat` holds the answers of different processes
/// to.
pub fn same_answer(a: &Answer, b: &Answer) -> bool {
    match (a, b) {
        (Answer::Raised(x), Answer::Raised(y)) => x == y,
        (Answer::Observed(x), Answer::Observed(y)) => {
            let details = |o: &Observation| o.details.as_ref().map(|d| without_clock(d.to_json().as_value()));
            let events = |events: &[Event]| -> Vec<Json> {
                events
                    .iter()
                    .map(|event| {
                        let mut fields = event.to_json();
                        if let Some(fields) = fields.as_object_mut() {
                            fields.remove("metaData");
                        }
                        without_clock(&fields)
                    })
                    .collect()
            };
            x.value == y.value
                && details(x) == details(y)
                && events(&x.assignment_events) == events(&y.assignment_events)
                && events(&x.bandit_events) == events(&y.bandit_events)
        }
        _ => false,
    }
}

/// `value` without any [`CLOCK_FIELDS`] member, at any depth.
pub(crate) fn without_clock(value: &serde_json::Value) -> Json {
    fn strip(value: &serde_json::Value) -> serde_json::Value {
        match value {
            serde_json::Value::Object(map) => serde_json::Value::Object(
                map.iter()
                    .filter(|(key, _)| !CLOCK_FIELDS.contains(&key.as_str()))
                    .map(|(k, v)| (k.clone(), strip(v)))
                    .collect(),
            ),
            serde_json::Value::Array(items) => serde_json::Value::Array(items.iter().map(strip).collect()),
            other => other.clone(),
        }
    }
    Json(strip(value))
}

fn compare_details(expected: &Details, actual: Option<&Details>, diffs: &mut Vec<Difference>) {
    let Some(actual) = actual else {
        diffs.push(Difference {
            field: "details".into(),
            severity: Severity::Major,
            expected: expected.to_json(),
            actual: Json::NULL,
        });
        return;
    };
    let actual_fields = actual.fields();
    for (key, want) in expected.fields() {
        let Some(want) = want else { continue };
        // A field the party does not give reads as null.
        let got = actual_fields.iter().find(|(k, _)| *k == key).and_then(|(_, v)| v.clone()).unwrap_or(Json::NULL);
        if want != got {
            let severity = if key == "flagEvaluationDescription" { Severity::Minor } else { Severity::Major };
            diffs.push(Difference { field: format!("details.{key}"), severity, expected: want, actual: got });
        }
    }
}

fn compare_events(field: &str, expected: &[Event], actual: &[Event], diffs: &mut Vec<Difference>) {
    if expected.len() != actual.len() {
        diffs.push(Difference {
            field: format!("{field}.length"),
            severity: Severity::Major,
            expected: Json(expected.len().into()),
            actual: Json(actual.len().into()),
        });
        return;
    }
    let compared = event_field_compared;
    for (index, (want, got)) in expected.iter().zip(actual).enumerate() {
        for (key, want_value) in want.fields.iter().filter(|(key, _)| compared(key)) {
            let got_value = got.get(key).cloned().unwrap_or(Json::NULL);
            if *want_value != got_value {
                diffs.push(Difference {
                    field: format!("{field}[{index}].{key}"),
                    severity: Severity::Major,
                    expected: want_value.clone(),
                    actual: got_value,
                });
            }
        }
        for (key, got_value) in got.fields.iter().filter(|(key, _)| compared(key)) {
            if want.get(key).is_none() {
                diffs.push(Difference {
                    field: format!("{field}[{index}].{key}"),
                    severity: Severity::Minor,
                    expected: Json::NULL,
                    actual: got_value.clone(),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn details(text: &str) -> Details {
        Details::from_json(&serde_json::from_str(text).unwrap(), "$").unwrap()
    }

    fn event(fields: &[(&str, &str)]) -> Event {
        Event {
            fields: fields.iter().map(|(k, v)| ((*k).to_owned(), Json(serde_json::from_str(v).unwrap()))).collect(),
        }
    }

    #[test]
    fn severities_follow_the_field() {
        let expected = Expected {
            value: Json(json!("a")),
            details: Some(details(r#"{"flagEvaluationCode": "MATCH", "flagEvaluationDescription": "x"}"#)),
        };
        let actual = Observation {
            value: Json(json!("b")),
            details: Some(details(
                r#"{"flagEvaluationCode": "DEFAULT_ALLOCATION_NULL", "flagEvaluationDescription": "y"}"#,
            )),
            ..Observation::default()
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
    fn unstated_detail_fields_are_not_compared_and_missing_ones_read_as_null() {
        let expected = Expected {
            value: Json(json!(1)),
            details: Some(details(r#"{"variationKey": "on", "matchedRule": null}"#)),
        };
        let actual = Observation {
            value: Json(json!(1.0)),
            details: Some(details(r#"{"flagEvaluationCode": "MATCH"}"#)),
            ..Observation::default()
        };
        let diffs = compare(&expected, &actual, None, Scope { details: true, ..Scope::default() });
        assert_eq!(diffs.len(), 1, "{diffs:?}");
        assert_eq!((diffs[0].field.as_str(), &diffs[0].actual), ("details.variationKey", &Json::NULL));
    }

    #[test]
    fn answers_are_the_same_whatever_their_timestamps_and_key_order() {
        let observed = |fields: &[(&str, &str)], value: i64| {
            Answer::Observed(Observation {
                value: Json(json!(value)),
                assignment_events: vec![event(fields)],
                ..Observation::default()
            })
        };
        let first = observed(
            &[
                ("featureFlag", r#""f""#),
                ("timestamp", r#""t1""#),
                ("metaData", "{}"),
                ("evaluationDetails", r#"{"timestamp": "t1", "configFetchedAt": "t0", "configPublishedAt": "p"}"#),
            ],
            1,
        );
        let later = observed(
            &[
                ("timestamp", r#""t2""#),
                ("evaluationDetails", r#"{"configPublishedAt": "p", "configFetchedAt": "t1", "timestamp": "t3"}"#),
                ("featureFlag", r#""f""#),
            ],
            1,
        );
        assert!(same_answer(&first, &later));
        let republished =
            observed(&[("featureFlag", r#""f""#), ("evaluationDetails", r#"{"configPublishedAt": "q"}"#)], 1);
        assert!(!same_answer(&first, &republished), "only clock readings are left out");
        assert!(!same_answer(&first, &observed(&[("featureFlag", r#""g""#)], 1)));
        assert!(!same_answer(&first, &observed(&[("featureFlag", r#""f""#)], 2)));
        assert!(!same_answer(&first, &observed(&[("featureFlag", r#""f""#), ("format", r#""SERVER""#)], 1)));
        assert!(!same_answer(&first, &Answer::Raised("boom".into())));
        assert!(same_answer(&Answer::Raised("boom".into()), &Answer::Raised("boom".into())));
    }

    #[test]
    fn events_ignore_timestamps_and_metadata_and_flag_extra_fields() {
        let reference = Observation {
            assignment_events: vec![event(&[
                ("featureFlag", r#""f""#),
                ("timestamp", r#""t1""#),
                ("metaData", r#"{"a": 1}"#),
            ])],
            ..Observation::default()
        };
        let actual = Observation {
            value: Json(json!(1)),
            assignment_events: vec![event(&[
                ("featureFlag", r#""f""#),
                ("timestamp", r#""t2""#),
                ("metaData", "{}"),
                ("format", r#""SERVER""#),
            ])],
            ..Observation::default()
        };
        let expected = Expected { value: Json(json!(1)), details: None };
        let diffs = compare(&expected, &actual, Some(&reference), Scope { events: true, ..Scope::default() });
        assert_eq!(diffs.len(), 1);
        assert_eq!(diffs[0].field, "assignmentEvents[0].format");
        assert_eq!(diffs[0].severity, Severity::Minor);
    }
}
