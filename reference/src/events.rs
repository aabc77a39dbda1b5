//! The assignment event an SDK hands its assignment logger (spec section 4).

use serde_json::{Map, Value};

use crate::eval::{Decision, FlagRequest};
use crate::Timestamp;

/// An assignment event, as a JSON object: `featureFlag`, `allocation`,
/// `experiment`, `variation`, `subject`, `subjectAttributes`, `timestamp`,
/// `metaData`, plus the split's `extraLogging` entries at the top level.
#[derive(Debug, Clone, PartialEq)]
pub struct AssignmentEvent(pub Map<String, Value>);

/// The fields every assignment event has; `extraLogging` cannot override them.
pub const ASSIGNMENT_EVENT_FIELDS: [&str; 8] =
    ["featureFlag", "allocation", "experiment", "variation", "subject", "subjectAttributes", "timestamp", "metaData"];

impl AssignmentEvent {
    pub(crate) fn new(request: &FlagRequest<'_>, decision: Decision<'_>, now: Timestamp) -> AssignmentEvent {
        let mut event = Map::new();
        let allocation = &decision.allocation.key;
        event.insert("featureFlag".into(), Value::from(request.flag_key));
        event.insert("allocation".into(), Value::from(&**allocation));
        event.insert("experiment".into(), Value::from(format!("{}-{allocation}", request.flag_key)));
        event.insert("variation".into(), Value::from(&*decision.split.variation_key));
        event.insert("subject".into(), Value::from(request.subject_key));
        let mut attributes: Vec<(&String, Value)> =
            request.attributes.iter().map(|(k, v)| (k, v.to_json())).collect();
        attributes.sort_by(|a, b| a.0.cmp(b.0));
        event.insert(
            "subjectAttributes".into(),
            Value::Object(attributes.into_iter().map(|(k, v)| (k.clone(), v)).collect()),
        );
        event.insert("timestamp".into(), Value::from(now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)));
        event.insert("metaData".into(), metadata());
        for (key, value) in &decision.split.extra_logging {
            if !ASSIGNMENT_EVENT_FIELDS.contains(&key.as_str()) {
                event.insert(key.clone(), Value::from(value.as_str()));
            }
        }
        AssignmentEvent(event)
    }

    /// The event as JSON.
    pub fn to_json(&self) -> Value {
        Value::Object(self.0.clone())
    }

    /// The event as JSON, without copying it.
    pub fn into_json(self) -> Value {
        Value::Object(self.0)
    }
}

/// `metaData` of the reference's events.
pub fn metadata() -> Value {
    serde_json::json!({ "sdkName": "ufc-reference", "sdkVersion": crate::VERSION })
}
