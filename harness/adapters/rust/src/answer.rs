//! The answer to one evaluated case, written straight from the SDK's own
//! structs. Going through `serde_json::Value` (the SDK's whole details,
//! every condition and split included, then the shared shape rebuilt from
//! it, then the events) took over half the adapter's time on fuzzed
//! batches; this writes the same JSON with one small `Value` per case.
//!
//! Fields are read by name, so every `eppo` release install.sh builds
//! (3.0 on, whose field types differ) compiles the same code.

use eppo::{
    AllocationEvaluationCode, AllocationEvaluationDetails, AssignmentEvent, EvaluationDetails, RuleEvaluationDetails,
};
use serde::ser::{Error as _, SerializeMap, Serializer};
use serde::Serialize;
use serde_json::Value;

/// One case's result as docs/protocol.md section 3 gives it: the value,
/// the details in the shared test files' shape, and the logged events.
pub(crate) struct CaseAnswer<'a> {
    pub(crate) case_id: &'a str,
    pub(crate) value: &'a Value,
    pub(crate) details: &'a EvaluationDetails,
    pub(crate) assignment_events: &'a [AssignmentEvent],
}

impl Serialize for CaseAnswer<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(5))?;
        map.serialize_entry("caseId", self.case_id)?;
        map.serialize_entry("value", self.value)?;
        map.serialize_entry("details", &SharedDetails(self.details))?;
        map.serialize_entry("assignmentEvents", self.assignment_events)?;
        // The crate has no bandit API, so nothing reaches a bandit logger.
        map.serialize_entry("banditEvents", &[] as &[Value])?;
        map.end()
    }
}

/// The core's details (every allocation with its code) in the shared test
/// files' shape: the matched allocation, those rejected before it, and
/// those never reached; the matched rule is the first rule the core reports
/// as matched, rebuilt from the conditions it echoes.
struct SharedDetails<'a>(&'a EvaluationDetails);

impl Serialize for SharedDetails<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let d = self.0;
        let is =
            |a: &&AllocationEvaluationDetails, code: AllocationEvaluationCode| a.allocation_evaluation_code == code;
        let matched = d.allocations.iter().find(|a| is(a, AllocationEvaluationCode::Match));
        let rule = matched.and_then(|a| a.evaluated_rules.iter().find(|r| r.matched)).map(MatchedRule);
        let unmatched: Vec<Entry<'_>> = d
            .allocations
            .iter()
            .filter(|a| !is(a, AllocationEvaluationCode::Match) && !is(a, AllocationEvaluationCode::Unevaluated))
            .map(Entry)
            .collect();
        let unevaluated: Vec<Entry<'_>> =
            d.allocations.iter().filter(|a| is(a, AllocationEvaluationCode::Unevaluated)).map(Entry).collect();
        let mut map = serializer.serialize_map(Some(11))?;
        map.serialize_entry("environmentName", &d.environment_name)?;
        map.serialize_entry("flagEvaluationCode", &d.flag_evaluation_code)?;
        map.serialize_entry("flagEvaluationDescription", &d.flag_evaluation_description)?;
        map.serialize_entry("banditKey", &d.bandit_key)?;
        map.serialize_entry("banditAction", &d.bandit_action)?;
        map.serialize_entry("variationKey", &d.variation_key)?;
        map.serialize_entry("variationValue", &variation_value(d).map_err(S::Error::custom)?)?;
        map.serialize_entry("matchedRule", &rule)?;
        map.serialize_entry("matchedAllocation", &matched.map(Entry))?;
        map.serialize_entry("unmatchedAllocations", &unmatched)?;
        map.serialize_entry("unevaluatedAllocations", &unevaluated)?;
        map.end()
    }
}

/// An allocation as the shared files list it.
struct Entry<'a>(&'a AllocationEvaluationDetails);

impl Serialize for Entry<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("key", &self.0.key)?;
        map.serialize_entry("allocationEvaluationCode", &self.0.allocation_evaluation_code)?;
        map.serialize_entry("orderPosition", &self.0.order_position)?;
        map.end()
    }
}

/// `{"conditions": [...]}`: the conditions of the rule that matched.
struct MatchedRule<'a>(&'a RuleEvaluationDetails);

impl Serialize for MatchedRule<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // A condition is crate-private from eppo_core 4 on: it is reached
        // through the serialized condition details, for this one rule only.
        let conditions = self
            .0
            .conditions
            .iter()
            .map(|c| serde_json::to_value(c).map(|mut v| field(&mut v, "condition")))
            .collect::<Result<Vec<Value>, _>>()
            .map_err(S::Error::custom)?;
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry("conditions", &conditions)?;
        map.end()
    }
}

/// The details' variation value: the core wraps it as {"type", "value"}.
#[cfg(eppo_tagged_values)]
fn variation_value(d: &EvaluationDetails) -> serde_json::Result<Value> {
    Ok(field(&mut serde_json::to_value(&d.variation_value)?, "value"))
}

/// The details' variation value: cores before 4.0 give it bare.
#[cfg(not(eppo_tagged_values))]
fn variation_value(d: &EvaluationDetails) -> serde_json::Result<Value> {
    serde_json::to_value(&d.variation_value)
}

/// `value[key]`, taken out; null when `value` is not an object or lacks it.
fn field(value: &mut Value, key: &str) -> Value {
    value.get_mut(key).map(Value::take).unwrap_or(Value::Null)
}
