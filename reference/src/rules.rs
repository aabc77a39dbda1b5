//! Targeting rules: conditions compiled once from the configuration and
//! evaluated against subject attributes (spec section 1's operator table and
//! section 2's attribute rules).

use std::cmp::Ordering;
use std::collections::HashSet;

use regex::Regex;
use semver::Version;
use serde_json::Value;

use crate::error::ConditionError;
use crate::keymap::StringSet;
use crate::obfuscation::{md5_digest, parse_md5_hex, Naming};
use crate::value::{render_number, AttributeValue, Attributes};

/// A compiled condition.
#[derive(Debug, Clone)]
pub struct Condition {
    /// The attribute it reads (its MD5 digest, in a CLIENT configuration,
    /// where the subject's attribute names are hashed to match).
    pub attribute: String,
    /// The attribute is `id`, which falls back to the subject key.
    pub id_fallback: bool,
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
        values: StringSet,
        /// `true` for `ONE_OF`.
        expected: bool,
    },
    /// `ONE_OF`/`NOT_ONE_OF` of a CLIENT configuration: the listed values
    /// are MD5 digests, so the rendered attribute is hashed to compare.
    OneOfDigest {
        /// The digests (entries that are not digests can match nothing
        /// and are dropped).
        digests: HashSet<[u8; 16]>,
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
        reason: ConditionError,
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
        Condition::compile_named(attribute, operator, value, Naming::Plain)
    }

    /// As [`Condition::compile`], for a configuration whose attribute names
    /// and ONE_OF values are written as `naming` says.
    pub fn compile_named(attribute: &str, operator: &str, value: &Value, naming: Naming) -> Condition {
        let check = match (naming, operator) {
            (Naming::Md5, "ONE_OF" | "NOT_ONE_OF") => {
                one_of_strings(operator, value).map(|values| Check::OneOfDigest {
                    digests: values.iter().filter_map(|v| parse_md5_hex(v)).collect(),
                    expected: operator == "ONE_OF",
                })
            }
            _ => compile_check(operator, value),
        };
        let check = check.unwrap_or_else(|reason| Check::Invalid { reason });
        Condition { attribute: attribute.to_owned(), id_fallback: attribute == naming.name("id"), check }
    }

    /// A condition that cannot be read at all: it reads no attribute and is
    /// always false.
    pub fn unreadable(reason: ConditionError) -> Condition {
        Condition { attribute: String::new(), id_fallback: false, check: Check::Invalid { reason } }
    }

    /// Evaluates against a subject. A missing or null attribute makes every
    /// operator false except `IS_NULL`. The attribute `id` falls back to the
    /// subject key when the attributes have no `id` key at all.
    #[inline]
    pub fn holds(&self, subject_key: &str, attributes: &Attributes) -> bool {
        let operand = match lookup(attributes, &self.attribute) {
            Some(value) => Operand::of(value),
            None if self.id_fallback => Some(Operand::Str(subject_key)),
            None => None,
        };
        self.check.holds_operand(operand)
    }
}

/// Attribute maps up to this capacity are scanned rather than hashed: a
/// subject has a handful of attributes, and comparing a few lengths is
/// cheaper than SipHash. Keys are unique either way.
const SCAN_ATTRIBUTES_UP_TO: usize = 16;

#[inline]
fn lookup<'a>(attributes: &'a Attributes, name: &str) -> Option<&'a AttributeValue> {
    if attributes.capacity() <= SCAN_ATTRIBUTES_UP_TO {
        attributes.iter().find_map(|(key, value)| (key == name).then_some(value))
    } else {
        attributes.get(name)
    }
}

/// A present, non-null attribute as the checks read it, borrowed (the `id`
/// fallback borrows the subject key instead of allocating an attribute).
#[derive(Clone, Copy)]
enum Operand<'a> {
    Bool(bool),
    Number(f64),
    Str(&'a str),
}

impl<'a> Operand<'a> {
    #[inline]
    fn of(value: &'a AttributeValue) -> Option<Operand<'a>> {
        match value {
            AttributeValue::Null => None,
            AttributeValue::Bool(b) => Some(Operand::Bool(*b)),
            AttributeValue::Number(n) => Some(Operand::Number(*n)),
            AttributeValue::String(s) => Some(Operand::Str(s)),
        }
    }

    /// Calls `f` with the rendering of [`AttributeValue::render`]; a number
    /// is formatted on the stack.
    #[inline]
    fn with_rendered<R>(self, f: impl FnOnce(&str) -> R) -> R {
        match self {
            Operand::Str(s) => f(s),
            Operand::Bool(true) => f("true"),
            Operand::Bool(false) => f("false"),
            Operand::Number(n) => {
                if let Some(digits) = IntegerText::of(n) {
                    return f(digits.as_str());
                }
                let mut text = StackText::default();
                match std::fmt::Write::write_fmt(&mut text, format_args!("{n}")).ok().and_then(|()| text.as_str()) {
                    Some(rendered) => f(rendered),
                    None => f(&render_number(n)),
                }
            }
        }
    }

    /// As [`AttributeValue::as_number`].
    #[inline]
    fn as_number(self) -> Option<f64> {
        match self {
            Operand::Number(n) => Some(n),
            Operand::Str(s) => s.parse().ok(),
            Operand::Bool(_) => None,
        }
    }
}

/// An integral number's decimal digits, for the common case of whole-number
/// attributes: the same text as `f64`'s `Display` (which prints 42.0 as
/// `42`), without going through the float formatter.
struct IntegerText {
    bytes: [u8; 24],
    start: usize,
}

impl IntegerText {
    /// Below 2^53 every integer is exact and `Display` prints plain digits.
    const LIMIT: f64 = 9_007_199_254_740_992.0;

    #[inline]
    fn of(n: f64) -> Option<IntegerText> {
        // -0.0 prints as "-0", which the integer path would lose.
        if n.fract() != 0.0 || n.abs() >= IntegerText::LIMIT || (n == 0.0 && n.is_sign_negative()) {
            return None;
        }
        let mut text = IntegerText { bytes: [0; 24], start: 24 };
        let mut value = n.abs() as u64;
        loop {
            text.start -= 1;
            text.bytes[text.start] = b'0' + (value % 10) as u8;
            value /= 10;
            if value == 0 {
                break;
            }
        }
        if n < 0.0 {
            text.start -= 1;
            text.bytes[text.start] = b'-';
        }
        Some(text)
    }

    #[inline]
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[self.start..]).unwrap_or_default()
    }
}

/// A small text buffer on the stack; writing more than fits fails.
struct StackText {
    bytes: [u8; 64],
    len: usize,
}

impl Default for StackText {
    fn default() -> Self {
        StackText { bytes: [0; 64], len: 0 }
    }
}

impl StackText {
    fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.bytes[..self.len]).ok()
    }
}

impl std::fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let slot = self.bytes.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

impl Check {
    /// Evaluates against an attribute that is present and not null (`None`
    /// for absent or null).
    pub fn holds(&self, attribute: Option<&AttributeValue>) -> bool {
        self.holds_operand(attribute.and_then(Operand::of))
    }

    #[inline]
    fn holds_operand(&self, attribute: Option<Operand<'_>>) -> bool {
        match self {
            Check::IsNull { expected } => attribute.is_none() == *expected,
            Check::Invalid { .. } => false,
            _ => {
                let Some(attribute) = attribute else { return false };
                match self {
                    Check::Regex { regex, expected } => attribute.with_rendered(|s| regex.is_match(s) == *expected),
                    Check::OneOf { values, expected } => attribute.with_rendered(|s| values.contains(s) == *expected),
                    Check::OneOfDigest { digests, expected } => {
                        attribute.with_rendered(|s| digests.contains(&md5_digest(s)) == *expected)
                    }
                    Check::Compare { operator, comparand } => compare(attribute, *operator, comparand),
                    Check::IsNull { .. } | Check::Invalid { .. } => false,
                }
            }
        }
    }
}

fn compare(attribute: Operand<'_>, operator: Comparison, comparand: &Comparand) -> bool {
    let ordering = match comparand {
        Comparand::Semver(comparand) => match attribute {
            // `Ord` on `semver::Version` includes build metadata, as in the RS core.
            Operand::Str(s) => Version::parse(s).ok().map(|v| v.cmp(comparand)),
            _ => None,
        },
        Comparand::Number(comparand) => attribute.as_number().and_then(|n| n.partial_cmp(comparand)),
    };
    ordering.is_some_and(|ordering| operator.holds(ordering))
}

fn compile_check(operator: &str, value: &Value) -> Result<Check, ConditionError> {
    let comparison = |comparison| compile_comparison(operator, comparison, value);
    match operator {
        "MATCHES" => compile_regex(operator, value, true),
        "NOT_MATCHES" => compile_regex(operator, value, false),
        "GT" => comparison(Comparison::Gt),
        "GTE" => comparison(Comparison::Gte),
        "LT" => comparison(Comparison::Lt),
        "LTE" => comparison(Comparison::Lte),
        "ONE_OF" => one_of_values(operator, value).map(|values| Check::OneOf { values, expected: true }),
        "NOT_ONE_OF" => one_of_values(operator, value).map(|values| Check::OneOf { values, expected: false }),
        "IS_NULL" => match value {
            Value::Bool(expected) => Ok(Check::IsNull { expected: *expected }),
            other => Err(ConditionError::wrong_value(operator, "a bool", other)),
        },
        other => Err(ConditionError::UnknownOperator { operator: other.to_owned() }),
    }
}

fn compile_regex(operator: &str, value: &Value, expected: bool) -> Result<Check, ConditionError> {
    let Value::String(pattern) = value else {
        return Err(ConditionError::wrong_value(operator, "a string", value));
    };
    let regex = regex::RegexBuilder::new(pattern).size_limit(REGEX_SIZE_LIMIT).build().map_err(|source| {
        ConditionError::InvalidRegex { operator: operator.to_owned(), pattern: pattern.clone(), source }
    })?;
    Ok(Check::Regex { regex, expected })
}

fn compile_comparison(operator: &str, comparison: Comparison, value: &Value) -> Result<Check, ConditionError> {
    let comparand = match value {
        Value::String(s) => match Version::parse(s) {
            Ok(version) => Comparand::Semver(version),
            Err(_) => Comparand::Number(
                s.parse::<f64>()
                    .map_err(|_| ConditionError::wrong_value(operator, "strict semver or a number", value))?,
            ),
        },
        Value::Number(n) => Comparand::Number(
            n.as_f64().ok_or_else(|| ConditionError::wrong_value(operator, "a finite number", value))?,
        ),
        other => return Err(ConditionError::wrong_value(operator, "a number or a string", other)),
    };
    Ok(Check::Compare { operator: comparison, comparand })
}

fn one_of_values(operator: &str, value: &Value) -> Result<StringSet, ConditionError> {
    one_of_strings(operator, value).map(StringSet::new)
}

/// The listed strings of a ONE_OF/NOT_ONE_OF; any other value makes the
/// condition invalid.
fn one_of_strings(operator: &str, value: &Value) -> Result<Vec<String>, ConditionError> {
    let Value::Array(items) = value else {
        return Err(ConditionError::wrong_value(operator, "an array of strings", value));
    };
    items
        .iter()
        .map(|item| match item {
            Value::String(s) => Ok(s.clone()),
            other => Err(ConditionError::wrong_value(operator, "only strings in its array", other)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attrs(value: Value) -> Attributes {
        value.as_object().map(Attributes::from_json).unwrap_or_default()
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
    fn numbers_render_in_full_whatever_their_length() {
        // Short renderings are formatted on the stack, long ones on the heap.
        assert!(holds("ONE_OF", json!(["1000000000000000000000"]), json!(1e21)));
        assert!(holds("ONE_OF", json!(["0.0000001"]), json!(1e-7)));
        assert!(holds("ONE_OF", json!(["-0"]), json!(-0.0)));
        let huge = format!("1{}", "0".repeat(300));
        assert!(holds("ONE_OF", json!([huge]), json!(1e300)));
        assert!(holds("MATCHES", json!("^10{300}$"), json!(1e300)));
        assert!(holds("MATCHES", json!("^0\\.0{323}5$"), json!(5e-324)));
    }

    #[test]
    fn integers_render_as_f64_display_does() {
        let mut values: Vec<f64> = (-2000..2000).map(f64::from).collect();
        for exponent in 0..=53 {
            let power = 2f64.powi(exponent);
            values.extend([power, power - 1.0, power + 1.0, -power, 10f64.powi(exponent.min(22))]);
        }
        values.extend([-0.0, 0.5, 1e300, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 123456789.0]);
        for n in values {
            let mut rendered = String::new();
            Operand::Number(n).with_rendered(|s| rendered.push_str(s));
            assert_eq!(rendered, render_number(n), "{n:?}");
        }
    }

    #[test]
    fn many_attributes_are_looked_up_by_hash_and_few_by_scan() {
        for count in [0usize, 1, 5, 16, 17, 100] {
            let mut attributes: Attributes =
                (0..count).map(|i| (format!("attr{i}"), AttributeValue::Number(i as f64))).collect();
            attributes.insert("country".into(), AttributeValue::String("US".into()));
            let condition = Condition::compile("country", "ONE_OF", &json!(["US"]));
            assert!(condition.holds("subject", &attributes), "{count} attributes");
            let condition = Condition::compile("attr", "IS_NULL", &json!(true));
            assert!(condition.holds("subject", &attributes), "{count} attributes");
            let condition = Condition::compile("id", "MATCHES", &json!("^sub"));
            assert!(condition.holds("subject", &attributes), "{count} attributes");
        }
    }

    #[test]
    fn unknown_operator_is_invalid() {
        assert!(!holds("CONTAINS", json!("a"), json!("a")));
        assert!(!holds_missing("CONTAINS", json!("a")));
    }

    #[test]
    fn an_unusable_condition_says_which_operator_and_value() {
        let reason = |operator: &str, value: Value| match Condition::compile("a", operator, &value).check {
            Check::Invalid { reason } => reason.to_string(),
            other => format!("not invalid: {other:?}"),
        };
        assert_eq!(reason("CONTAINS", json!("a")), "unknown operator \"CONTAINS\"");
        assert_eq!(reason("IS_NULL", json!("yes")), "IS_NULL needs a bool, found \"yes\"");
        assert_eq!(reason("GT", json!("soon")), "GT needs strict semver or a number, found \"soon\"");
        assert_eq!(reason("ONE_OF", json!(["a", 1])), "ONE_OF needs only strings in its array, found 1");
        assert!(reason("MATCHES", json!("(")).starts_with("MATCHES pattern \"(\" is not a valid regex"));
    }
}
