//! What a condition read and how it compared, in words. The verdict itself
//! is the evaluation's (recorded by the trace); this only describes the
//! reading, from the same attributes and compiled check.

use std::collections::HashMap;
use std::fmt::Write as _;

use semver::Version;
use serde::Serialize;
use serde_json::Value;

use super::ConditionExplanation;
use crate::obfuscation::{md5_hex, Naming};
use crate::rules::{Check, Comparand, Comparison, Condition};
use crate::value::{AttributeValue, Attributes};

/// Where a condition's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ReadSource {
    /// The subject's attribute of that name.
    Attribute,
    /// The attribute is `id` and the subject has none: the subject key.
    SubjectKey,
    /// The attribute is present and null.
    Null,
    /// The subject has no such attribute.
    Absent,
}

/// The value a condition read.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttributeRead {
    /// Where it came from.
    pub source: ReadSource,
    /// The value (JSON null when absent).
    pub value: Value,
}

/// Digest → plain name of the subject's attributes, for a configuration
/// that names attributes by digest (empty otherwise).
pub(super) fn plain_names(naming: Naming, attributes: &Attributes) -> HashMap<String, String> {
    match naming {
        Naming::Plain => HashMap::new(),
        Naming::Md5 => attributes.keys().map(|name| (md5_hex(name), name.clone())).collect(),
    }
}

pub(super) fn explain(
    condition: &Condition,
    raw: Option<&Value>,
    subject_key: &str,
    attributes: &Attributes,
    plain_names: &HashMap<String, String>,
    result: Option<&bool>,
) -> ConditionExplanation {
    let fallback;
    let (source, value) = match attributes.get(&condition.attribute) {
        Some(AttributeValue::Null) => (ReadSource::Null, None),
        Some(value) => (ReadSource::Attribute, Some(value)),
        None if condition.id_fallback => {
            fallback = AttributeValue::String(subject_key.into());
            (ReadSource::SubjectKey, Some(&fallback))
        }
        None => (ReadSource::Absent, None),
    };
    let attribute_name = plain_names
        .get(&condition.attribute)
        .cloned()
        .or_else(|| (condition.id_fallback && !plain_names.is_empty()).then(|| "id".to_owned()));
    ConditionExplanation {
        attribute: condition.attribute.clone(),
        attribute_name,
        operator: raw.and_then(|r| r.get("operator")).and_then(Value::as_str).map(str::to_owned),
        value: raw.and_then(|r| r.get("value")).cloned().unwrap_or(Value::Null),
        read: AttributeRead { source, value: value.map_or(Value::Null, AttributeValue::to_json) },
        comparison: describe(&condition.check, value),
        result: result.copied(),
    }
}

/// How `check` coerces and compares `value` (`None`: absent or null).
fn describe(check: &Check, value: Option<&AttributeValue>) -> String {
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    match (check, value) {
        (Check::Invalid { reason }, _) => format!("the condition cannot be evaluated ({reason}): it is always false"),
        (Check::IsNull { expected }, value) => {
            format!("absent or null: {}; IS_NULL expects {expected}", yes_no(value.is_none()))
        }
        (_, None) => "the attribute is absent or null: every operator but IS_NULL is false".to_owned(),
        (Check::Regex { regex, expected }, Some(value)) => {
            let rendered = value.render().unwrap_or_default();
            let found = regex.is_match(&rendered);
            format!(
                "rendered as the string {rendered:?}; unanchored search for /{}/: {}; {} expects {}",
                regex.as_str(),
                if found { "found" } else { "not found" },
                if *expected { "MATCHES" } else { "NOT_MATCHES" },
                if *expected { "found" } else { "not found" },
            )
        }
        (Check::OneOf { values, expected }, Some(value)) => {
            let rendered = value.render().unwrap_or_default();
            format!(
                "rendered as the string {rendered:?}; among the listed strings: {}; {} expects {}",
                yes_no(values.contains(&rendered)),
                if *expected { "ONE_OF" } else { "NOT_ONE_OF" },
                yes_no(*expected),
            )
        }
        (Check::OneOfDigest { digests, expected }, Some(value)) => {
            let rendered = value.render().unwrap_or_default();
            let digest = crate::obfuscation::md5_digest(&rendered);
            format!(
                "rendered as the string {rendered:?}, MD5 {}; among the listed digests: {}; {} expects {}",
                md5_hex(&rendered),
                yes_no(digests.contains(&digest)),
                if *expected { "ONE_OF" } else { "NOT_ONE_OF" },
                yes_no(*expected),
            )
        }
        (Check::Compare { operator, comparand }, Some(value)) => describe_comparison(*operator, comparand, value),
    }
}

fn describe_comparison(operator: Comparison, comparand: &Comparand, value: &AttributeValue) -> String {
    let symbol = match operator {
        Comparison::Gt => ">",
        Comparison::Gte => ">=",
        Comparison::Lt => "<",
        Comparison::Lte => "<=",
    };
    let mut text = String::new();
    match comparand {
        Comparand::Semver(comparand) => match value {
            AttributeValue::String(s) => match Version::parse(s) {
                Ok(version) => {
                    let _ =
                        write!(text, "parsed as semver {version}; semver comparison {version} {symbol} {comparand}");
                }
                Err(err) => {
                    let _ = write!(text, "{s:?} is not strict semver ({err}): the comparison is false");
                }
            },
            other => {
                let _ = write!(
                    text,
                    "the configured value is semver, so only a string attribute compares; found {}: false",
                    other.to_json()
                );
            }
        },
        Comparand::Number(comparand) => match value.as_number() {
            Some(n) => {
                let _ = write!(text, "read as the number {n}; numeric comparison {n} {symbol} {comparand}");
            }
            None => {
                let _ = write!(text, "{} does not read as a number: the comparison is false", value.to_json());
            }
        },
    }
    text
}
