//! The assignment event an SDK hands its assignment logger (spec section 4).
//!
//! The event is a borrowed view of the request and the compiled allocation:
//! building it costs nothing, and [`AssignmentEvent::to_json`] renders the
//! wire form (the timestamp is formatted only then).

use serde_json::{Map, Value};

use crate::flag::Split;
use crate::value::Attributes;
use crate::Timestamp;

/// An assignment event: `featureFlag`, `allocation`, `experiment`,
/// `variation`, `subject`, `subjectAttributes`, `timestamp`, `metaData`,
/// plus the split's `extraLogging` entries at the top level.
#[derive(Debug, Clone, Copy)]
pub struct AssignmentEvent<'a> {
    /// The flag key.
    pub flag_key: &'a str,
    /// The allocation that served the variation.
    pub allocation_key: &'a str,
    /// The split that served it (variation key and `extraLogging`).
    pub split: &'a Split,
    /// The subject key.
    pub subject_key: &'a str,
    /// The subject's attributes.
    pub subject_attributes: &'a Attributes,
    /// When.
    pub timestamp: Timestamp,
}

/// The fields every assignment event has; `extraLogging` cannot override them.
pub const ASSIGNMENT_EVENT_FIELDS: [&str; 8] =
    ["featureFlag", "allocation", "experiment", "variation", "subject", "subjectAttributes", "timestamp", "metaData"];

impl AssignmentEvent<'_> {
    /// `<flagKey>-<allocationKey>`.
    pub fn experiment(&self) -> String {
        format!("{}-{}", self.flag_key, self.allocation_key)
    }

    /// The event as a JSON object, keys in the order above, attributes sorted.
    pub fn to_json(&self) -> Value {
        let mut event = Map::new();
        event.insert("featureFlag".into(), Value::from(self.flag_key));
        event.insert("allocation".into(), Value::from(self.allocation_key));
        event.insert("experiment".into(), Value::from(self.experiment()));
        event.insert("variation".into(), Value::from(&*self.split.variation_key));
        event.insert("subject".into(), Value::from(self.subject_key));
        let mut attributes: Vec<(&String, Value)> =
            self.subject_attributes.iter().map(|(k, v)| (k, v.to_json())).collect();
        attributes.sort_by(|a, b| a.0.cmp(b.0));
        event.insert(
            "subjectAttributes".into(),
            Value::Object(attributes.into_iter().map(|(k, v)| (k.clone(), v)).collect()),
        );
        event.insert(
            "timestamp".into(),
            Value::from(self.timestamp.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        );
        event.insert("metaData".into(), metadata());
        for (key, value) in &self.split.extra_logging {
            if !ASSIGNMENT_EVENT_FIELDS.contains(&key.as_str()) {
                event.insert(key.clone(), Value::from(value.as_str()));
            }
        }
        Value::Object(event)
    }
}

/// `metaData` of the reference's events.
pub fn metadata() -> Value {
    serde_json::json!({ "sdkName": "ufc-reference", "sdkVersion": crate::VERSION })
}
