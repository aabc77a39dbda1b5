//! What a party answered for one case, parsed once at the protocol edge
//! into typed parts: the served value, the evaluation details, and the
//! events its loggers received. The reference's answers are built into the
//! same types directly from its outcomes, and the test files' expectations
//! are read into them too, so [`crate::compare`] compares like with like.
//!
//! An answer that does not have the protocol's shape (details that are not
//! an object, a code that is not a string, an event that is not an object)
//! is a [`MalformedAnswer`], naming the JSON path: the adapter is broken,
//! which is an error, not a difference to weigh.

use std::fmt;

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};
use ufc_protocol::CaseResult;

/// A JSON value where the domain has no narrower type (a JSON variation
/// value, a matched rule as written, an event's subject attributes). Two
/// are equal when they are the same JSON with numbers compared by value
/// (`1` equals `1.0`) and types kept strict (`1` differs from `"1"`).
#[derive(Debug, Clone, Default)]
pub struct Json(pub Value);

impl Json {
    /// JSON `null`.
    pub const NULL: Json = Json(Value::Null);

    /// The JSON value.
    pub fn as_value(&self) -> &Value {
        &self.0
    }
}

impl PartialEq for Json {
    fn eq(&self, other: &Json) -> bool {
        json_equal(&self.0, &other.0)
    }
}

impl Serialize for Json {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl From<Value> for Json {
    fn from(value: Value) -> Json {
        Json(value)
    }
}

impl fmt::Display for Json {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// JSON equality where numbers compare by value but types stay strict.
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

/// What a party did with one case.
// Nearly every answer is an observation; boxing it would cost an allocation
// per case for the rare `Raised`.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// It answered.
    Observed(Observation),
    /// The SDK raised instead of answering: its behaviour, and a wrong answer.
    Raised(String),
}

/// A served answer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Observation {
    /// The value served (bandits: `{variation, action}`).
    pub value: Json,
    /// Evaluation details, when the party gives them.
    pub details: Option<Details>,
    /// Events handed to the assignment logger.
    pub assignment_events: Vec<Event>,
    /// Events handed to the bandit logger.
    pub bandit_events: Vec<Event>,
}

/// A field of the details: `None` when a test file does not state it (and
/// so it is not compared); a party's missing field reads as null.
pub type Stated<T> = Option<Option<T>>;

/// Evaluation details in the shared test files' `evaluationDetails` shape.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Details {
    /// `environmentName`.
    pub environment_name: Stated<String>,
    /// `flagEvaluationCode`: kept as text, since an SDK may answer a code
    /// this version has never heard of.
    pub flag_evaluation_code: Stated<String>,
    /// `flagEvaluationDescription`.
    pub flag_evaluation_description: Stated<String>,
    /// `banditKey`.
    pub bandit_key: Stated<String>,
    /// `banditAction`.
    pub bandit_action: Stated<String>,
    /// `variationKey`.
    pub variation_key: Stated<String>,
    /// `variationValue`.
    pub variation_value: Stated<Json>,
    /// `matchedRule`, as the configuration wrote it.
    pub matched_rule: Stated<Json>,
    /// `matchedAllocation`.
    pub matched_allocation: Stated<AllocationEntry>,
    /// `unmatchedAllocations`.
    pub unmatched_allocations: Stated<Vec<AllocationEntry>>,
    /// `unevaluatedAllocations`.
    pub unevaluated_allocations: Stated<Vec<AllocationEntry>>,
    /// Fields outside the shape, as given.
    pub other: Vec<(String, Json)>,
}

/// One allocation in the details.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AllocationEntry {
    /// `key`.
    pub key: String,
    /// `allocationEvaluationCode`.
    pub allocation_evaluation_code: String,
    /// `orderPosition` (1-based).
    pub order_position: Json,
}

/// An event a logger received: its fields by name, in the order given.
/// Events are compared field by field, so they stay a list of fields; the
/// fields every event has are reached through the accessors.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Event {
    /// Every field.
    pub fields: Vec<(String, Json)>,
}

impl Event {
    /// The field named `name`.
    pub fn get(&self, name: &str) -> Option<&Json> {
        self.fields.iter().find(|(key, _)| key == name).map(|(_, value)| value)
    }
}

/// An answer that does not have the protocol's shape.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("malformed answer at {path}: expected {expected}, found {found}")]
pub struct MalformedAnswer {
    /// The JSON path within the result (`$.details.flagEvaluationCode`).
    pub path: String,
    /// What the protocol says belongs there.
    pub expected: &'static str,
    /// What was there, shortened.
    pub found: String,
}

fn malformed(path: &str, expected: &'static str, found: &Value) -> MalformedAnswer {
    let mut found = found.to_string();
    if found.chars().count() > 80 {
        found = found.chars().take(79).collect::<String>() + "…";
    }
    MalformedAnswer { path: path.to_owned(), expected, found }
}

impl Answer {
    /// An adapter's result for one case, parsed.
    pub fn from_wire(result: &CaseResult) -> Result<Answer, MalformedAnswer> {
        if let Some(error) = &result.error {
            return Ok(Answer::Raised(error.clone()));
        }
        Ok(Answer::Observed(Observation {
            value: Json(result.value.clone().unwrap_or(Value::Null)),
            details: match &result.details {
                None | Some(Value::Null) => None,
                Some(details) => Some(Details::from_json(details, "$.details")?),
            },
            assignment_events: events(&result.assignment_events, "$.assignmentEvents")?,
            bandit_events: events(&result.bandit_events, "$.banditEvents")?,
        }))
    }
}

impl Answer {
    /// The answer as an adapter would have sent it: what reports show as
    /// "observed", and what the fuzzer writes into findings.
    pub fn to_wire(&self, case_id: &str) -> CaseResult {
        match self {
            Answer::Raised(error) => CaseResult::raised(case_id, error.clone()),
            Answer::Observed(observation) => CaseResult {
                case_id: case_id.to_owned(),
                value: Some(observation.value.0.clone()),
                details: observation.details.as_ref().map(|d| d.to_json().0),
                assignment_events: observation.assignment_events.iter().map(Event::to_json).collect(),
                bandit_events: observation.bandit_events.iter().map(Event::to_json).collect(),
                error: None,
            },
        }
    }
}

impl Event {
    /// The event as one JSON object.
    pub fn to_json(&self) -> Value {
        Value::Object(self.fields.iter().map(|(k, v)| (k.clone(), v.0.clone())).collect())
    }
}

fn events(items: &[Value], path: &str) -> Result<Vec<Event>, MalformedAnswer> {
    items
        .iter()
        .enumerate()
        .map(|(index, item)| match item {
            Value::Object(map) => Ok(Event { fields: map.iter().map(|(k, v)| (k.clone(), Json(v.clone()))).collect() }),
            other => Err(malformed(&format!("{path}[{index}]"), "an event object", other)),
        })
        .collect()
}

impl Details {
    /// Details in the shared files' shape; `path` names where they are.
    pub fn from_json(value: &Value, path: &str) -> Result<Details, MalformedAnswer> {
        let Value::Object(map) = value else {
            return Err(malformed(path, "an evaluationDetails object", value));
        };
        let mut details = Details::default();
        for (key, value) in map {
            let at = format!("{path}.{key}");
            match key.as_str() {
                "environmentName" => details.environment_name = Some(text(value, &at)?),
                "flagEvaluationCode" => details.flag_evaluation_code = Some(text(value, &at)?),
                "flagEvaluationDescription" => details.flag_evaluation_description = Some(text(value, &at)?),
                "banditKey" => details.bandit_key = Some(text(value, &at)?),
                "banditAction" => details.bandit_action = Some(text(value, &at)?),
                "variationKey" => details.variation_key = Some(text(value, &at)?),
                "variationValue" => details.variation_value = Some(nullable(value)),
                "matchedRule" => details.matched_rule = Some(nullable(value)),
                "matchedAllocation" => {
                    details.matched_allocation =
                        Some(if value.is_null() { None } else { Some(AllocationEntry::from_json(value, &at)?) })
                }
                "unmatchedAllocations" => details.unmatched_allocations = Some(allocations(value, &at)?),
                "unevaluatedAllocations" => details.unevaluated_allocations = Some(allocations(value, &at)?),
                _ => details.other.push((key.clone(), Json(value.clone()))),
            }
        }
        Ok(details)
    }

    /// Every field in the files' order, with its JSON name and rendering:
    /// `None` for a field not stated.
    pub fn fields(&self) -> Vec<(&str, Option<Json>)> {
        fn show<T: Serialize>(field: &Stated<T>) -> Option<Json> {
            field.as_ref().map(|v| Json(serde_json::to_value(v).unwrap_or(Value::Null)))
        }
        let mut fields = vec![
            ("environmentName", show(&self.environment_name)),
            ("flagEvaluationCode", show(&self.flag_evaluation_code)),
            ("flagEvaluationDescription", show(&self.flag_evaluation_description)),
            ("banditKey", show(&self.bandit_key)),
            ("banditAction", show(&self.bandit_action)),
            ("variationKey", show(&self.variation_key)),
            ("variationValue", show(&self.variation_value)),
            ("matchedRule", show(&self.matched_rule)),
            ("matchedAllocation", show(&self.matched_allocation)),
            ("unmatchedAllocations", show(&self.unmatched_allocations)),
            ("unevaluatedAllocations", show(&self.unevaluated_allocations)),
        ];
        fields.extend(self.other.iter().map(|(key, value)| (key.as_str(), Some(value.clone()))));
        fields
    }

    /// The details as one JSON object (the stated fields only).
    pub fn to_json(&self) -> Json {
        let map: Map<String, Value> =
            self.fields().into_iter().filter_map(|(key, value)| Some((key.to_owned(), value?.0))).collect();
        Json(Value::Object(map))
    }

    /// Forgets what the details say about `field` (its JSON name), so it is
    /// not compared.
    pub fn unstate(&mut self, field: &str) {
        match field {
            "matchedRule" => self.matched_rule = None,
            "variationValue" => self.variation_value = None,
            _ => self.other.retain(|(key, _)| key != field),
        }
    }
}

impl Details {
    /// The reference's details, field for field: the same reading an
    /// adapter's JSON rendering of them would get, without rendering.
    pub fn from_reference(details: &ufc_reference::EvaluationDetails) -> Details {
        let text = |s: Option<&str>| Some(s.map(str::to_owned));
        let json = |v: Option<&std::sync::Arc<Value>>| Some(v.filter(|v| !v.is_null()).map(|v| Json(Value::clone(v))));
        let allocation = |a: &ufc_reference::details::AllocationDetails| AllocationEntry {
            key: a.key.as_str().to_owned(),
            allocation_evaluation_code: a.allocation_evaluation_code.as_str().to_owned(),
            order_position: Json(a.order_position.into()),
        };
        let list =
            |items: &[ufc_reference::details::AllocationDetails]| Some(Some(items.iter().map(allocation).collect()));
        Details {
            environment_name: text(details.environment_name.as_deref()),
            flag_evaluation_code: text(Some(details.flag_evaluation_code.as_str())),
            flag_evaluation_description: text(Some(&details.flag_evaluation_description)),
            bandit_key: text(details.bandit_key.as_deref()),
            bandit_action: text(details.bandit_action.as_deref()),
            variation_key: text(details.variation_key.as_deref()),
            variation_value: json(details.variation_value.as_ref()),
            matched_rule: json(details.matched_rule.as_ref()),
            matched_allocation: Some(details.matched_allocation.as_ref().map(allocation)),
            unmatched_allocations: list(&details.unmatched_allocations),
            unevaluated_allocations: list(&details.unevaluated_allocations),
            other: Vec::new(),
        }
    }
}

impl AllocationEntry {
    fn from_json(value: &Value, path: &str) -> Result<AllocationEntry, MalformedAnswer> {
        let Value::Object(map) = value else {
            return Err(malformed(path, "an allocation object {key, allocationEvaluationCode, orderPosition}", value));
        };
        let field = |name: &str| map.get(name).unwrap_or(&Value::Null);
        let string = |name: &str| match field(name) {
            Value::String(text) => Ok(text.clone()),
            other => Err(malformed(&format!("{path}.{name}"), "a string", other)),
        };
        Ok(AllocationEntry {
            key: string("key")?,
            allocation_evaluation_code: string("allocationEvaluationCode")?,
            order_position: Json(field("orderPosition").clone()),
        })
    }
}

fn text(value: &Value, path: &str) -> Result<Option<String>, MalformedAnswer> {
    match value {
        Value::Null => Ok(None),
        Value::String(text) => Ok(Some(text.clone())),
        other => Err(malformed(path, "a string or null", other)),
    }
}

fn nullable(value: &Value) -> Option<Json> {
    (!value.is_null()).then(|| Json(value.clone()))
}

fn allocations(value: &Value, path: &str) -> Result<Option<Vec<AllocationEntry>>, MalformedAnswer> {
    match value {
        Value::Null => Ok(None),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(index, item)| AllocationEntry::from_json(item, &format!("{path}[{index}]")))
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        other => Err(malformed(path, "an array of allocations or null", other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_compare_by_value_but_types_are_strict() {
        assert_eq!(Json(json!(1)), Json(json!(1.0)));
        assert_ne!(Json(json!(1)), Json(json!("1")));
        assert_ne!(Json(json!(1)), Json(json!(true)));
        assert_eq!(Json(json!({"a": [1, 2.5]})), Json(json!({"a": [1.0, 2.5]})));
        assert_ne!(Json(json!({"a": 1})), Json(json!({"a": 1, "b": 2})));
    }

    #[test]
    fn malformed_answers_name_the_path() {
        let result = CaseResult {
            case_id: "c".into(),
            value: Some(json!(1)),
            details: Some(json!({"flagEvaluationCode": 7})),
            ..CaseResult::default()
        };
        let err = Answer::from_wire(&result).unwrap_err();
        assert_eq!(err.path, "$.details.flagEvaluationCode");
        let result = CaseResult { assignment_events: vec![json!("event")], ..result };
        let result = CaseResult { details: None, ..result };
        assert_eq!(Answer::from_wire(&result).unwrap_err().path, "$.assignmentEvents[0]");
    }

    #[test]
    fn the_references_details_read_as_their_json_rendering_would() {
        let config = ufc_reference::Configuration::from_json(
            br#"{"environment": {"name": "Doc"}, "flags": {
              "f": {"key": "f", "enabled": true, "variationType": "STRING", "totalShards": 10000,
                "variations": {"on": {"key": "on", "value": "hello"}, "j": {"key": "j", "value": "3"}},
                "allocations": [
                  {"key": "late", "startAt": "2999-01-01T00:00:00Z", "splits": [{"variationKey": "j", "shards": []}]},
                  {"key": "rule", "rules": [{"conditions": [{"attribute": "c", "operator": "ONE_OF", "value": ["x"]}]}],
                   "splits": [{"variationKey": "on", "shards": []}]},
                  {"key": "rest", "splits": [{"variationKey": "on", "shards": []}]}]},
              "off": {"key": "off", "enabled": false, "variationType": "INTEGER", "totalShards": 10000,
                "variations": {}, "allocations": []}}}"#,
        )
        .unwrap();
        let mut attributes = ufc_reference::Attributes::new();
        attributes.insert("c".into(), ufc_reference::AttributeValue::from_json(&json!("x")));
        let none = ufc_reference::Attributes::new();
        use ufc_reference::VariationType::{Integer, String};
        for (flag, attributes, wanted) in [
            ("f", &attributes, String),
            ("f", &none, String),
            ("f", &none, Integer),
            ("off", &none, Integer),
            ("nope", &none, String),
        ] {
            let request = ufc_reference::FlagRequest::new(flag, "alice", attributes, wanted);
            let (_, details) = config.evaluate_details(&request, ufc_reference::Timestamp::UNIX_EPOCH);
            let through_json = Details::from_json(&details.to_json(), "$").unwrap();
            assert_eq!(Details::from_reference(&details), through_json, "{flag} as {wanted:?}");
        }
    }

    #[test]
    fn details_keep_what_they_state_and_render_back() {
        let given = json!({"flagEvaluationCode": "MATCH", "matchedRule": null, "extra": [1]});
        let details = Details::from_json(&given, "$").unwrap();
        assert_eq!(details.flag_evaluation_code, Some(Some("MATCH".into())));
        assert_eq!(details.matched_rule, Some(None));
        assert_eq!(details.variation_key, None);
        assert_eq!(details.to_json(), Json(given));
    }
}
