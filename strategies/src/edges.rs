//! Edge values: the boundaries of each kind of position in the format,
//! which every string and numeric position of the other generators draws
//! from now and then.
//!
//! What JSON can carry decides the pools. A `serde_json::Value` (what a
//! [`crate::Scenario`] holds and what the adapter protocol sends) holds
//! any Unicode scalar value in a string, `U+0000` included (written
//! `\u0000`), but no lone surrogate; it holds no NaN or infinity
//! (`Value::from(f64::NAN)` is `null`), and `serde_json` refuses to read
//! an out-of-range literal such as `1e400` ("number out of range"). So
//! non-finite numbers appear only as their spellings in strings
//! ([`NON_FINITE_SPELLINGS`]). `-0` is read back as the float `-0.0` and
//! written as `-0.0`; integers up to `u64::MAX` and down to `i64::MIN` are
//! kept exactly, anything beyond becomes the nearest `f64`.

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Value};

/// Strings at the edges of "a key" or "a value": empty, blank, padded,
/// control characters (NUL, tab, newline, U+2028), invisible ones (NBSP,
/// BOM, zero-width space), combining marks, the astral plane, right-to-left
/// text and overrides, and letters whose case mapping changes their length.
pub const EDGE_STRINGS: &[&str] = &[
    "",
    " ",
    "   ",
    " a",
    "a ",
    "\t",
    "\n",
    "\u{0}",
    "a\u{0}b",
    "\u{a0}",
    "\u{feff}a",
    "a\u{200b}",
    "\u{2028}",
    "e\u{301}",
    "\u{e9}",
    "\u{1f642}",
    "\u{1d518}",
    "\u{5e9}\u{5dc}\u{5d5}\u{5dd}",
    "\u{202e}abc",
    "\u{130}",
    "\u{df}",
    "\u{1c5}",
    "\u{ffff}",
    "\\",
    "\"",
    "~1/",
];

/// How JSON-less parties write numbers JSON cannot hold: the protocol's
/// labels (`NaN`, `Infinity`, `-Infinity`), the RS spellings (`inf`,
/// `nan`) and literals that overflow an `f64`.
pub const NON_FINITE_SPELLINGS: &[&str] =
    &["NaN", "Infinity", "-Infinity", "inf", "-inf", "nan", "+Infinity", "1e400", "-1e400"];

/// Numbers at the edges: zeros of both signs, one, the `u32` and `i64`
/// limits and one past them, `u64::MAX` and one past it, `2^53` and
/// `2^53 + 1` (the first integer an `f64` cannot hold), fractions where
/// integers are expected (`0.5`, `2.5` for round-half-even), integers
/// written as floats (`3.0`), and the extremes of `f64`.
pub fn edge_numbers() -> Vec<Value> {
    vec![
        json!(0),
        Value::from(-0.0),
        json!(1),
        json!(-1),
        json!(u32::MAX),
        json!(u64::from(u32::MAX) + 1),
        json!(i64::MAX),
        json!(i64::MIN),
        json!(i64::MAX as u64 + 1),
        // i64::MIN - 1 and u64::MAX + 1 have no integer form in a Value.
        Value::from(-9_223_372_036_854_775_809.0),
        json!(u64::MAX),
        Value::from(18_446_744_073_709_551_616.0),
        json!(1_u64 << 53),
        json!((1_u64 << 53) + 1),
        json!(-(1_i64 << 53) - 1),
        json!(0.5),
        json!(2.5),
        json!(-0.5),
        Value::from(3.0),
        Value::from(4_294_967_296.0),
        Value::from(5e-324),
        Value::from(f64::MIN_POSITIVE),
        Value::from(f64::MAX),
        Value::from(f64::MIN),
    ]
}

/// One of [`edge_numbers`].
pub fn edge_number() -> BoxedStrategy<Value> {
    select(edge_numbers()).boxed()
}

/// [`edge_numbers`] as the `f64`s a party reading JSON numbers as doubles
/// sees, for positions typed `f64` (bandit coefficients).
pub fn edge_float() -> BoxedStrategy<f64> {
    select(edge_numbers().iter().filter_map(Value::as_f64).collect::<Vec<_>>()).boxed()
}

/// Variants of `base` that an evaluator might confuse with it: upper and
/// lower case, the first letter's case flipped, padded on either side, and
/// with a trailing NUL.
pub fn variants_of(base: &str) -> Vec<String> {
    let mut chars = base.chars();
    let flipped = match chars.next() {
        Some(first) if first.is_uppercase() => first.to_lowercase().chain(chars).collect(),
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    vec![
        base.to_uppercase(),
        base.to_lowercase(),
        flipped,
        format!(" {base}"),
        format!("{base} "),
        format!("{base}\u{0}"),
    ]
}

/// One of [`EDGE_STRINGS`].
pub fn edge_string() -> BoxedStrategy<String> {
    select(EDGE_STRINGS).prop_map(str::to_owned).boxed()
}

/// A string for a position whose usual values are `pool`: mostly a pool
/// member, now and then an edge string or a variant of a pool member
/// ([`variants_of`]), so that every string position meets the edges
/// without losing the pool's matches (conditions and subjects share names).
pub fn with_edges(pool: &'static [&'static str]) -> BoxedStrategy<String> {
    let variant = select(pool).prop_flat_map(|base| select(variants_of(base)));
    prop_oneof![
        16 => select(pool).prop_map(str::to_owned),
        1 => edge_string(),
        1 => variant,
    ]
    .boxed()
}

/// A string for a position of free text: [`EDGE_STRINGS`] and
/// [`NON_FINITE_SPELLINGS`] and number spellings an `f64` cannot hold
/// exactly.
pub fn edge_text() -> BoxedStrategy<String> {
    let numbers = edge_numbers().iter().map(Value::to_string).collect::<Vec<_>>();
    prop_oneof![
        3 => edge_string(),
        1 => select(NON_FINITE_SPELLINGS).prop_map(str::to_owned),
        1 => select(numbers),
    ]
    .boxed()
}
