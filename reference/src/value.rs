//! Attribute values (what callers say about a subject) and variation values
//! (what a flag serves), with the renderings and coercions of spec section 2.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// A subject attribute. JSON numbers are numeric, strings and bools are
/// categorical, `null` is null.
#[derive(Debug, Clone, PartialEq)]
pub enum AttributeValue {
    /// JSON `null`.
    Null,
    /// A boolean (categorical).
    Bool(bool),
    /// A number (numeric).
    Number(f64),
    /// A string (categorical).
    String(Arc<str>),
}

/// Subject attributes by name.
///
/// A map with one conversion from JSON ([`Attributes::from_json`]); it
/// dereferences to the `HashMap` it wraps, so reading and building it is
/// what it always was, at no cost.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Attributes(HashMap<String, AttributeValue>);

impl Attributes {
    /// No attributes.
    pub fn new() -> Attributes {
        Attributes::default()
    }

    /// A flat JSON attribute map (`subjectAttributes` of the flag test
    /// files), each value converted by [`AttributeValue::from_json`].
    pub fn from_json(map: &serde_json::Map<String, serde_json::Value>) -> Attributes {
        map.iter().map(|(name, value)| (name.clone(), AttributeValue::from_json(value))).collect()
    }

    /// A bandit subject's attributes as its flag reads them: the numeric and
    /// categorical maps merged raw, the categorical value winning a clash.
    pub fn from_context_json(
        numeric: &serde_json::Map<String, serde_json::Value>,
        categorical: &serde_json::Map<String, serde_json::Value>,
    ) -> Attributes {
        numeric
            .iter()
            .chain(categorical)
            .map(|(name, value)| (name.clone(), AttributeValue::from_json(value)))
            .collect()
    }
}

impl From<&serde_json::Map<String, serde_json::Value>> for Attributes {
    fn from(map: &serde_json::Map<String, serde_json::Value>) -> Attributes {
        Attributes::from_json(map)
    }
}

impl From<HashMap<String, AttributeValue>> for Attributes {
    fn from(map: HashMap<String, AttributeValue>) -> Attributes {
        Attributes(map)
    }
}

impl std::ops::Deref for Attributes {
    type Target = HashMap<String, AttributeValue>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for Attributes {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl FromIterator<(String, AttributeValue)> for Attributes {
    fn from_iter<I: IntoIterator<Item = (String, AttributeValue)>>(entries: I) -> Attributes {
        Attributes(entries.into_iter().collect())
    }
}

impl Extend<(String, AttributeValue)> for Attributes {
    fn extend<I: IntoIterator<Item = (String, AttributeValue)>>(&mut self, entries: I) {
        self.0.extend(entries);
    }
}

impl<'a> IntoIterator for &'a Attributes {
    type Item = (&'a String, &'a AttributeValue);
    type IntoIter = std::collections::hash_map::Iter<'a, String, AttributeValue>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl IntoIterator for Attributes {
    type Item = (String, AttributeValue);
    type IntoIter = std::collections::hash_map::IntoIter<String, AttributeValue>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl AttributeValue {
    /// Converts a JSON value. Arrays and objects are not UFC attribute
    /// values; they become `Null`, so that only `IS_NULL` can match them
    /// (documented in `docs/reference.md`).
    pub fn from_json(value: &serde_json::Value) -> AttributeValue {
        match value {
            serde_json::Value::Bool(b) => AttributeValue::Bool(*b),
            serde_json::Value::Number(n) => n.as_f64().map_or(AttributeValue::Null, AttributeValue::Number),
            serde_json::Value::String(s) => AttributeValue::String(Arc::from(s.as_str())),
            _ => AttributeValue::Null,
        }
    }

    /// The attribute back as JSON (non-finite numbers become `null`, as
    /// JSON cannot carry them).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            AttributeValue::Null => serde_json::Value::Null,
            AttributeValue::Bool(b) => serde_json::Value::Bool(*b),
            AttributeValue::Number(n) => number_to_json(*n),
            AttributeValue::String(s) => serde_json::Value::String(s.to_string()),
        }
    }

    /// Whether the value is null.
    pub fn is_null(&self) -> bool {
        matches!(self, AttributeValue::Null)
    }

    /// The string rendering used by `MATCHES` and `ONE_OF`: strings as is,
    /// bools as `true`/`false`, numbers as Rust prints an `f64` (the RS
    /// core's rendering; spec section 8.1 lists where JS differs).
    pub fn render(&self) -> Option<std::borrow::Cow<'_, str>> {
        use std::borrow::Cow;
        match self {
            AttributeValue::Null => None,
            AttributeValue::Bool(true) => Some(Cow::Borrowed("true")),
            AttributeValue::Bool(false) => Some(Cow::Borrowed("false")),
            AttributeValue::Number(n) => Some(Cow::Owned(render_number(*n))),
            AttributeValue::String(s) => Some(Cow::Borrowed(s)),
        }
    }

    /// The numeric reading used by `GT`/`GTE`/`LT`/`LTE`: numbers as is,
    /// strings parsed as a Rust `f64` (which rejects `""`, `" 5"` and
    /// `"0x10"`), bools never.
    pub fn as_number(&self) -> Option<f64> {
        match self {
            AttributeValue::Number(n) => Some(*n),
            AttributeValue::String(s) => s.parse().ok(),
            _ => None,
        }
    }
}

/// Renders a number the way Rust's `Display` for `f64` does: `42` for 42.0,
/// `1000000000000000000000` for 1e21, `0.0000001` for 1e-7, `-0`, `inf`.
pub fn render_number(n: f64) -> String {
    n.to_string()
}

/// A JSON number for `n`: an integer when `n` is integral and fits, else a
/// float; `null` when `n` is not finite.
pub fn number_to_json(n: f64) -> serde_json::Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        serde_json::Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(serde_json::Value::Null, serde_json::Value::Number)
    }
}

/// The five variation types of UFC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VariationType {
    /// A string.
    String,
    /// A whole number within `i64`.
    Integer,
    /// Any number.
    Numeric,
    /// A boolean.
    Boolean,
    /// A JSON document, carried in the configuration as a string.
    Json,
}

impl VariationType {
    /// All types, in spec order.
    pub const ALL: [VariationType; 5] = [
        VariationType::String,
        VariationType::Integer,
        VariationType::Numeric,
        VariationType::Boolean,
        VariationType::Json,
    ];

    /// The name as the configuration spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            VariationType::String => "STRING",
            VariationType::Integer => "INTEGER",
            VariationType::Numeric => "NUMERIC",
            VariationType::Boolean => "BOOLEAN",
            VariationType::Json => "JSON",
        }
    }

    /// Parses the configuration's spelling.
    pub fn parse(s: &str) -> Option<VariationType> {
        VariationType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Converts a configured variation value to this type (spec section 2,
    /// step 6), or `None` when it is incompatible.
    pub fn convert(self, raw: &serde_json::Value) -> Option<TypedValue> {
        use serde_json::Value;
        match (self, raw) {
            (VariationType::String, Value::String(s)) => Some(TypedValue::String(Arc::from(s.as_str()))),
            (VariationType::Boolean, Value::Bool(b)) => Some(TypedValue::Boolean(*b)),
            (VariationType::Numeric, Value::Number(n)) => n.as_f64().map(TypedValue::Numeric),
            (VariationType::Integer, Value::Number(n)) => integer_of(n).map(TypedValue::Integer),
            (VariationType::Json, Value::String(s)) => serde_json::from_str::<Value>(s)
                .ok()
                .map(|parsed| TypedValue::Json { parsed: Arc::new(parsed), raw: Arc::from(s.as_str()) }),
            _ => None,
        }
    }
}

impl fmt::Display for VariationType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A JSON number as an `i64` when it has no fractional part and fits.
/// Both production cores read every number as an `f64` first, so integers
/// beyond 2^53 lose their last bits (9007199254740993 is served as
/// 9007199254740992); the reference does the same. The test is RS's: the
/// saturating cast must give the number back, so 2^63 (what
/// `9223372036854775807` reads as) is served as `i64::MAX`, as RS, PY and
/// JS serve it (the JVM alone serves the default; precedence rule 3).
fn integer_of(n: &serde_json::Number) -> Option<i64> {
    let f = n.as_f64()?;
    let i = f as i64;
    (i as f64 == f).then_some(i)
}

/// A variation value converted to its flag's type.
#[derive(Debug, Clone, PartialEq)]
pub enum TypedValue {
    /// STRING.
    String(Arc<str>),
    /// INTEGER.
    Integer(i64),
    /// NUMERIC.
    Numeric(f64),
    /// BOOLEAN.
    Boolean(bool),
    /// JSON: the parsed document and the configured string.
    Json {
        /// The parsed document, which is what callers receive.
        parsed: Arc<serde_json::Value>,
        /// The string as configured.
        raw: Arc<str>,
    },
}

impl TypedValue {
    /// The value as callers receive it, in JSON (JSON flags give the parsed
    /// document).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            TypedValue::String(s) => serde_json::Value::String(s.to_string()),
            TypedValue::Integer(i) => serde_json::Value::from(*i),
            TypedValue::Numeric(n) => number_to_json(*n),
            TypedValue::Boolean(b) => serde_json::Value::Bool(*b),
            TypedValue::Json { parsed, .. } => (**parsed).clone(),
        }
    }

    /// The string form, for string flags (bandit variations are strings).
    pub fn as_str(&self) -> Option<&str> {
        match self {
            TypedValue::String(s) => Some(s),
            _ => None,
        }
    }
}

/// Renders a configured variation value for the `ASSIGNMENT_ERROR`
/// description: a string bare, anything else as compact JSON.
pub fn render_raw_value(raw: &serde_json::Value) -> String {
    match raw {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_render_as_rust_prints_f64() {
        assert_eq!(render_number(42.0), "42");
        assert_eq!(render_number(1.5), "1.5");
        assert_eq!(render_number(1e21), "1000000000000000000000");
        assert_eq!(render_number(1e-7), "0.0000001");
        assert_eq!(render_number(-0.0), "-0");
        assert_eq!(render_number(f64::INFINITY), "inf");
    }

    #[test]
    fn strings_parse_as_numbers_only_when_rust_accepts_them() {
        let s = |v: &str| AttributeValue::String(Arc::from(v)).as_number();
        assert_eq!(s("10"), Some(10.0));
        assert_eq!(s("1e3"), Some(1000.0));
        assert_eq!(s(""), None);
        assert_eq!(s(" 5"), None);
        assert_eq!(s("0x10"), None);
        assert_eq!(AttributeValue::Bool(true).as_number(), None);
    }

    #[test]
    fn integer_conversion_accepts_whole_numbers_in_range_only() {
        let t = VariationType::Integer;
        assert_eq!(t.convert(&json!(3)), Some(TypedValue::Integer(3)));
        assert_eq!(t.convert(&json!(3.0)), Some(TypedValue::Integer(3)));
        assert_eq!(t.convert(&json!(3.5)), None);
        assert_eq!(t.convert(&json!(1e20)), None);
        assert_eq!(t.convert(&json!(u64::MAX)), None);
        assert_eq!(t.convert(&json!(true)), None);
        assert_eq!(t.convert(&json!("5")), None);
        assert_eq!(t.convert(&json!(9_007_199_254_740_993_i64)), Some(TypedValue::Integer(9_007_199_254_740_992)));
        // i64::MAX reads as 2^63, which RS's saturating test serves as i64::MAX.
        assert_eq!(t.convert(&json!(i64::MAX)), Some(TypedValue::Integer(i64::MAX)));
        assert_eq!(t.convert(&json!(i64::MIN)), Some(TypedValue::Integer(i64::MIN)));
        assert_eq!(t.convert(&json!(1.8e19)), None);
    }

    #[test]
    fn json_variation_is_parsed_and_bools_are_not_numbers() {
        let v = VariationType::Json.convert(&json!("{\"a\": 1}")).map(|v| v.to_json());
        assert_eq!(v, Some(json!({"a": 1})));
        assert_eq!(VariationType::Json.convert(&json!("{oops")), None);
        assert_eq!(VariationType::Numeric.convert(&json!(false)), None);
        assert_eq!(VariationType::Boolean.convert(&json!(0)), None);
    }
}
