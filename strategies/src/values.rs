//! Value pools: the adversarial subject keys, attribute names and values,
//! numbers and strings every other generator draws from.
//!
//! The pools are fixed lists rather than uniform randomness: the
//! interesting behaviour of UFC evaluators lives in a few dozen values
//! (`1e21`, `-0`, `" 5"`, `"v1.2.3"`, ...), the ones listed in section 8 of
//! the spec, and a uniform generator would almost never hit them.

use std::borrow::Cow;
use std::ops::RangeInclusive;

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Map, Value};

use crate::edges::{edge_number, edge_text, with_edges};

/// Attribute names shared by conditions and subjects (`id` exercises the
/// subject-key fallback; `ñame` a non-ASCII key).
pub const ATTRIBUTE_NAMES: &[&str] = &["id", "age", "email", "version", "country", "ñame"];

/// Strings that the two production cores read differently as numbers,
/// semver, regex subjects or list members (spec section 8, items 1–3, 5).
pub const ADVERSARIAL_STRINGS: &[&str] = &[
    " 5",
    "0x10",
    "",
    "5",
    "10",
    "1e3",
    "-0",
    "0",
    "1e+21",
    "1000000000000000000000",
    "inf",
    "Infinity",
    "NaN",
    "v1.2.3",
    "1.2.3",
    " 1.2.3",
    "1.0.0",
    "1.0.0+build",
    "1.0.0-alpha",
    "1.10.0",
    "2.0.0",
    "É",
    "é",
    "ß",
    "SS",
    "🙂",
    "e\u{301}",
    "٣",
    "१२",
    "alice@example.com",
    "bob@test.com",
    "US",
    "us",
    "true",
    "false",
    "null",
    "abc",
    "ABC",
];

const SUBJECT_KEYS: &[&str] =
    &["alice", "bob", "charlie", "", "  ", "user-1", "É", "🙂", "a/b", "1e21", "subject with spaces"];

/// An attribute name, for conditions and subjects alike: mostly one of
/// [`ATTRIBUTE_NAMES`], now and then an edge string or a case or padding
/// variant of one (`Age`, `" id"`).
pub fn attribute_name() -> BoxedStrategy<String> {
    with_edges(ATTRIBUTE_NAMES)
}

/// Numbers whose renderings, parsings or integer-ness differ between cores.
pub fn adversarial_number() -> BoxedStrategy<Value> {
    let fixed: Vec<Value> = vec![
        json!(0),
        Value::from(-0.0),
        json!(1),
        json!(-1),
        json!(5),
        json!(10),
        json!(42),
        json!(1.5),
        Value::from(0.1 + 0.2),
        Value::from(1e21),
        Value::from(-1e21),
        Value::from(1e-7),
        Value::from(2.5e-8),
        Value::from(1e20),
        Value::from(1e300),
        json!(9_007_199_254_740_993_u64),
        json!(i64::MAX),
        json!(u64::MAX),
        json!(i64::MIN),
        Value::from(3.0),
    ];
    prop_oneof![
        6 => select(fixed),
        2 => edge_number(),
        1 => any::<i32>().prop_map(Value::from),
        1 => (-1.0e6..1.0e6_f64).prop_map(Value::from),
    ]
    .boxed()
}

/// Strings from [`ADVERSARIAL_STRINGS`] and the edge pools, plus short
/// random ones.
pub fn adversarial_string() -> BoxedStrategy<String> {
    prop_oneof![
        5 => select(ADVERSARIAL_STRINGS).prop_map(str::to_owned),
        1 => edge_text(),
        1 => text_from(ASCII_TEXT, 0..=8),
        1 => text_from(UNICODE_TEXT, 0..=4),
    ]
    .boxed()
}

/// Printable ASCII characters of identifiers, emails and versions.
const ASCII_TEXT: &[RangeInclusive<char>] =
    &['a'..='z', 'A'..='Z', '0'..='9', ' '..=' ', '-'..='.', '@'..='@', '_'..='_', '+'..='+'];
/// Lower-case keys.
const KEY_TEXT: &[RangeInclusive<char>] = &['a'..='z', '0'..='9', '-'..='-'];
/// Printable text of many scripts: Latin with diacritics, Greek, Cyrillic,
/// Hebrew and Arabic (right to left), Devanagari, kana, CJK, emoji and an
/// astral-plane script.
const UNICODE_TEXT: &[RangeInclusive<char>] = &[
    ' '..='~',
    '\u{a1}'..='\u{24f}',
    '\u{370}'..='\u{3ff}',
    '\u{400}'..='\u{4ff}',
    '\u{5d0}'..='\u{5ea}',
    '\u{620}'..='\u{64a}',
    '\u{900}'..='\u{97f}',
    '\u{3041}'..='\u{30ff}',
    '\u{4e00}'..='\u{9fff}',
    '\u{1f300}'..='\u{1f64f}',
    '\u{10000}'..='\u{1005d}',
];

/// Strings of `length` characters from `ranges`. Cheaper than proptest's
/// regex strategies, which compile their pattern on every draw: subjects
/// are drawn by the thousand per configuration.
fn text_from(ranges: &'static [RangeInclusive<char>], length: RangeInclusive<usize>) -> BoxedStrategy<String> {
    prop::collection::vec(prop::char::ranges(Cow::Borrowed(ranges)), length)
        .prop_map(|chars| chars.into_iter().collect())
        .boxed()
}

/// One subject attribute value: number, string, bool or null.
pub fn attribute_value() -> BoxedStrategy<Value> {
    prop_oneof![
        3 => adversarial_number(),
        4 => adversarial_string().prop_map(Value::from),
        1 => any::<bool>().prop_map(Value::from),
        1 => Just(Value::Null),
    ]
    .boxed()
}

/// Subject attributes: 0–4 names from [`ATTRIBUTE_NAMES`] (the others are
/// missing keys), each with an adversarial value.
pub fn subject_attributes() -> BoxedStrategy<Map<String, Value>> {
    prop::collection::vec((attribute_name(), attribute_value()), 0..=4)
        .prop_map(|entries| entries.into_iter().collect())
        .boxed()
}

/// Subject keys, including blank, non-ASCII and number-like ones and the
/// edge strings.
pub fn subject_key() -> BoxedStrategy<String> {
    prop_oneof![
        2 => with_edges(SUBJECT_KEYS),
        3 => text_from(KEY_TEXT, 1..=12),
        1 => text_from(UNICODE_TEXT, 0..=6),
    ]
    .boxed()
}
