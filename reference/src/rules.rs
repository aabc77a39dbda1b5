//! Targeting rules: conditions compiled once from the configuration and
//! evaluated against subject attributes (spec section 1's operator table and
//! section 2's attribute rules).

use std::cmp::Ordering;
use std::collections::HashSet;

use regex::Regex;
use semver::Version;
use serde_json::Value;

use crate::value::{AttributeValue, Attributes};

/// A compiled condition.
#[derive(Debug, Clone)]
pub struct Condition {
    /// The attribute it reads.
    pub attribute: String,
    /// What it checks.
    pub check: Check,
}

/// What a condition checks, with its comparand prepared at load time.
#[derive(Debug, Clone)]
pub enum Check {
    /// `MATCHES` (`expected` true) or `NOT_MATCHES`: unanchored search in the
    /// rendered attribute.
    Regex {
        /// The compiled pattern.
        regex: Regex,
        /// `true` for `MATCHES`.
        expected: bool,
    },
    /// `GT`, `GTE`, `LT`, `LTE`.
    Compare {
        /// Which comparison.
        operator: Comparison,
        /// Against what.
        comparand: Comparand,
    },
    /// `ONE_OF` (`expected` true) or `NOT_ONE_OF`.
    OneOf {
        /// The listed strings.
        values: HashSet<String>,
        /// `true` for `ONE_OF`.
        expected: bool,
    },
    /// `IS_NULL`: `(absent or null) == expected`.
    IsNull {
        /// The configured bool.
        expected: bool,
    },
    /// A condition that cannot be evaluated (unknown operator, invalid
    /// regex, wrongly typed value). It is always false; the flag still works.
    Invalid {
        /// Why, for diagnostics.
        reason: String,
    },
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// `GT`
    Gt,
    /// `GTE`
    Gte,
    /// `LT`
    Lt,
    /// `LTE`
    Lte,
}

impl Comparison {
    fn holds(self, ordering: Ordering) -> bool {
        match self {
            Comparison::Gt => ordering.is_gt(),
            Comparison::Gte => ordering.is_ge(),
            Comparison::Lt => ordering.is_lt(),
            Comparison::Lte => ordering.is_le(),
        }
    }
}

/// The comparison kind is decided once, at load time, from the configured
/// value (the RS core's rule; spec section 8.4).
#[derive(Debug, Clone)]
pub enum Comparand {
    /// The value is a string that parses as strict semver.
    Semver(Version),
    /// The value is a number, or a string that parses as a float.
    Number(f64),
}

/// Regexes larger than this fail to compile and make their condition
/// invalid, so a hostile configuration cannot exhaust memory.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

impl Condition {
    /// Compiles a condition. Never fails: an unusable condition becomes
    /// [`Check::Invalid`].
    pub fn compile(attribute: &str, operator: &str, value: &Value) -> Condition {
        let check = compile_check(operator, value).unwrap_or_else(|reason| Check::Invalid { reason });
        Condition { attribute: attribute.to_owned(), check }
    }

    /// Evaluates against a subject. A missing or null attribute makes every
    /// operator false except `IS_NULL`. The attribute `id` falls back to the
    /// subject key when the attributes have no `id` key at all.
    pub fn holds(&self, subject_key: &str, attributes: &Attributes) -> bool {
        let fallback;
        let attribute = match attributes.get(&self.attribute) {
            Some(value) => Some(value),
            None if self.attribute == "id" => {
                fallback = AttributeValue::String(subject_key.into());
                Some(&fallback)
            }
            None => None,
        };
        self.check.holds(attribute.filter(|value| !value.is_null()))
    }
}

impl Check {
    /// Evaluates against an attribute that is present and not null (`None`
    /// for absent or null).
    pub fn holds(&self, attribute: Option<&AttributeValue>) -> bool {
        match self {
            Check::IsNull { expected } => attribute.is_none() == *expected,
            Check::Invalid { .. } => false,
            _ => {
                let Some(attribute) = attribute else { return false };
                match self {
                    Check::Regex { regex, expected } => {
                        attribute.render().is_some_and(|s| regex.is_match(&s) == *expected)
                    }
                    Check::OneOf { values, expected } => {
                        attribute.render().is_some_and(|s| values.contains(s.as_ref()) == *expected)
                    }
                    Check::Compare { operator, comparand } => compare(attribute, *operator, comparand),
                    Check::IsNull { .. } | Check::Invalid { .. } => false,
                }
            }
        }
    }
}

fn compare(attribute: &AttributeValue, operator: Comparison, comparand: &Comparand) -> bool {
    let ordering = match comparand {
        Comparand::Semver(comparand) => match attribute {
            // `Ord` on `semver::Version` includes build metadata, as in the RS core.
            AttributeValue::String(s) => Version::parse(s).ok().map(|v| v.cmp(comparand)),
            _ => None,
        },
        Comparand::Number(comparand) => attribute.as_number().and_then(|n| n.partial_cmp(comparand)),
    };
    ordering.is_some_and(|ordering| operator.holds(ordering))
}

fn compile_check(operator: &str, value: &Value) -> Result<Check, String> {
    let comparison = |operator| compile_comparison(operator, value);
    match operator {
        "MATCHES" => compile_regex(value, true),
        "NOT_MATCHES" => compile_regex(value, false),
        "GT" => comparison(Comparison::Gt),
        "GTE" => comparison(Comparison::Gte),
        "LT" => comparison(Comparison::Lt),
        "LTE" => comparison(Comparison::Lte),
        "ONE_OF" => compile_one_of(value, true),
        "NOT_ONE_OF" => compile_one_of(value, false),
        "IS_NULL" => match value {
            Value::Bool(expected) => Ok(Check::IsNull { expected: *expected }),
            other => Err(format!("IS_NULL needs a bool, found {other}")),
        },
        other => Err(format!("unknown operator {other:?}")),
    }
}

fn compile_regex(value: &Value, expected: bool) -> Result<Check, String> {
    let Value::String(pattern) = value else {
        return Err(format!("a regex condition needs a string, found {value}"));
    };
    let regex = regex::RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|err| format!("invalid regex {pattern:?}: {err}"))?;
    Ok(Check::Regex { regex, expected })
}

fn compile_comparison(operator: Comparison, value: &Value) -> Result<Check, String> {
    let comparand = match value {
        Value::String(s) => match Version::parse(s) {
            Ok(version) => Comparand::Semver(version),
            Err(_) => Comparand::Number(
                s.parse::<f64>().map_err(|_| format!("{s:?} is neither semver nor a number"))?,
            ),
        },
        Value::Number(n) => Comparand::Number(n.as_f64().ok_or("number out of range")?),
        other => return Err(format!("a comparison needs a number or a string, found {other}")),
    };
    Ok(Check::Compare { operator, comparand })
}

fn compile_one_of(value: &Value, expected: bool) -> Result<Check, String> {
    let Value::Array(items) = value else {
        return Err(format!("ONE_OF/NOT_ONE_OF need an array of strings, found {value}"));
    };
    let values = items
        .iter()
        .map(|item| match item {
            Value::String(s) => Ok(s.clone()),
            other => Err(format!("ONE_OF/NOT_ONE_OF need strings, found {other}")),
        })
        .collect::<Result<HashSet<_>, _>>()?;
    Ok(Check::OneOf { values, expected })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attrs(value: Value) -> Attributes {
        value
            .as_object()
            .map(|map| map.iter().map(|(k, v)| (k.clone(), AttributeValue::from_json(v))).collect())
            .unwrap_or_default()
    }

    fn holds(operator: &str, value: Value, attribute: Value) -> bool {
        Condition::compile("a", operator, &value).holds("subject", &attrs(json!({ "a": attribute })))
    }

    fn holds_missing(operator: &str, value: Value) -> bool {
        Condition::compile("a", operator, &value).holds("subject", &Attributes::new())
    }

    #[test]
    fn matches_searches_unanchored_in_the_rendered_attribute() {
        assert!(holds("MATCHES", json!("@example\\.com$"), json!("bob@example.com")));
        assert!(holds("MATCHES", json!("^4"), json!(42)));
        assert!(holds("MATCHES", json!("^true$"), json!(true)));
        assert!(!holds("MATCHES", json!("^x"), json!("yx")));
        assert!(holds("MATCHES", json!("(?i)ABC"), json!("abc")));
    }

    #[test]
    fn not_matches_is_the_negation_but_false_when_missing() {
        assert!(holds("NOT_MATCHES", json!("^x"), json!("yx")));
        assert!(!holds("NOT_MATCHES", json!("x"), json!("yx")));
        assert!(!holds_missing("NOT_MATCHES", json!("x")));
    }

    #[test]
    fn invalid_regex_or_non_string_pattern_is_an_invalid_condition() {
        assert!(!holds("MATCHES", json!("("), json!("(")));
        assert!(!holds("NOT_MATCHES", json!("("), json!("a")));
        assert!(!holds("MATCHES", json!(5), json!("5")));
        assert!(!holds("NOT_MATCHES", json!("(?=a)"), json!("b")));
    }

    #[test]
    fn numeric_comparisons() {
        assert!(holds("GT", json!(10), json!(11)));
        assert!(!holds("GT", json!(10), json!(10)));
        assert!(holds("GTE", json!(10), json!(10)));
        assert!(holds("LT", json!(10), json!(9.5)));
        assert!(holds("LTE", json!(10), json!(10)));
        assert!(holds("GT", json!("10"), json!(11)));
        assert!(holds("GT", json!(10), json!("11")));
        assert!(!holds("GT", json!(10), json!(" 11")));
        assert!(!holds("GT", json!(10), json!("0x10")));
        assert!(!holds("GT", json!(-1), json!("")));
        assert!(!holds("GT", json!(0), json!(true)));
        assert!(!holds_missing("LT", json!(10)));
    }

    #[test]
    fn semver_comparisons_need_strict_semver_attributes() {
        assert!(holds("GTE", json!("1.2.0"), json!("1.10.0")));
        assert!(holds("LT", json!("1.10.0"), json!("1.9.9")));
        assert!(!holds("GT", json!("1.0.0"), json!("v1.2.3")));
        assert!(!holds("GT", json!("1.0.0"), json!(" 1.2.3")));
        assert!(!holds("GT", json!("1.0.0"), json!(2)));
        assert!(holds("GT", json!("1.0.0"), json!("1.0.0+build")), "RS orders build metadata above none");
        assert!(holds("LT", json!("1.0.0"), json!("1.0.0-alpha")));
    }

    #[test]
    fn comparison_with_unusable_value_is_invalid() {
        assert!(!holds("GT", json!("abc"), json!(1)));
        assert!(!holds("LT", json!("abc"), json!(1)));
        assert!(!holds("GT", json!([1]), json!(2)));
        assert!(!holds("GT", json!(null), json!(2)));
    }

    #[test]
    fn one_of_compares_rendered_strings_exactly() {
        assert!(holds("ONE_OF", json!(["42"]), json!(42.0)));
        assert!(holds("ONE_OF", json!(["1.5"]), json!(1.5)));
        assert!(holds("ONE_OF", json!(["true"]), json!(true)));
        assert!(!holds("ONE_OF", json!(["US"]), json!("us")));
        assert!(holds("NOT_ONE_OF", json!(["US"]), json!("us")));
        assert!(!holds("NOT_ONE_OF", json!(["US"]), json!("US")));
        assert!(!holds_missing("NOT_ONE_OF", json!(["US"])));
        assert!(!holds_missing("ONE_OF", json!(["US"])));
    }

    #[test]
    fn one_of_with_non_string_elements_is_invalid_both_ways() {
        assert!(!holds("ONE_OF", json!([42]), json!(42)));
        assert!(!holds("NOT_ONE_OF", json!([42]), json!(7)));
        assert!(!holds("ONE_OF", json!("US"), json!("US")));
    }

    #[test]
    fn is_null_checks_absence_or_null() {
        assert!(holds_missing("IS_NULL", json!(true)));
        assert!(holds("IS_NULL", json!(true), json!(null)));
        assert!(!holds("IS_NULL", json!(true), json!(0)));
        assert!(holds("IS_NULL", json!(false), json!("")));
        assert!(!holds_missing("IS_NULL", json!(false)));
        assert!(!holds_missing("IS_NULL", json!("true")), "non-bool value is invalid");
    }

    #[test]
    fn id_falls_back_to_the_subject_key_unless_explicitly_null() {
        let condition = Condition::compile("id", "ONE_OF", &json!(["alice"]));
        assert!(condition.holds("alice", &Attributes::new()));
        assert!(!condition.holds("alice", &attrs(json!({"id": null}))));
        assert!(!condition.holds("alice", &attrs(json!({"id": "bob"}))));
    }

    #[test]
    fn unknown_operator_is_invalid() {
        assert!(!holds("CONTAINS", json!("a"), json!("a")));
        assert!(!holds_missing("CONTAINS", json!("a")));
    }
}
