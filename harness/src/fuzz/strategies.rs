//! Every proptest strategy of the project, in one place: UFC flag
//! configurations, subjects, bandit models and actions, malformed documents,
//! and the special-purpose flags the reference's property tests need.
//!
//! The generators lean on fixed pools of adversarial inputs rather than on
//! uniform randomness: the interesting behaviour of UFC evaluators lives in
//! a few dozen values (`1e21`, `-0`, `" 5"`, `"v1.2.3"`, `(?i)`, ...), the ones
//! listed in section 8 of the spec, and a uniform generator would almost
//! never hit them. Attribute names come from one small pool shared by
//! conditions and subjects so that conditions usually see the attribute
//! they test.
//!
//! Contract: every configuration produced here is valid UFC for the
//! reference (`Configuration::from_value` succeeds with no flag errors),
//! except those of [`malformed_configuration`] and [`malformed_scenario`].
//! Generated flags are small (1–3 flags, ≤3 allocations, rules, conditions
//! and splits, 1–8 subjects per flag) so that minimizing and round-tripping
//! them through an SDK stays cheap.

use proptest::prelude::*;
use proptest::sample::{select, Index};
use serde_json::{json, Map, Value};
use ufc_reference::VariationType;

use super::Scenario;
use ufc_protocol::{ActionInput, BanditCase, CaseInput, ContextAttributes, FlagCase};

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

/// Regex patterns: the dialect differences of spec section 8.5 and 8.6
/// (`(?i)`, look-around, back-references, Unicode classes, invalid
/// patterns) and patterns that tell number renderings apart (8.1).
pub const REGEX_PATTERNS: &[&str] = &[
    "^a",
    "@example\\.com$",
    "(?i)abc",
    "(?i)^é",
    "^(?=a)",
    "a(?!b)",
    "(a)\\1",
    "\\d",
    "^\\d+$",
    "^\\w+$",
    "^.$",
    "(",
    "[a-",
    "e\\+",
    "^1e",
    "^-",
    "0{6}",
    "^$",
    ".",
    "🙂",
    "ß",
    "^[0-9]+$",
    "^true$",
    "^1\\.",
    "\\.",
    "^v",
    "\\s",
    "\\bUS\\b",
    "^\\p{L}+$",
    "US|us",
];

/// `ONE_OF` list members: renderings of the same numbers by the two cores
/// (`1e+21` vs `1000000000000000000000`, `-0` vs `0`, ...) and strings that
/// are easy to confuse.
pub const ONE_OF_ELEMENTS: &[&str] = &[
    "1e+21",
    "1000000000000000000000",
    "-0",
    "0",
    "1e-7",
    "0.0000001",
    "2.5e-8",
    "0.000000025",
    "42",
    "1.5",
    "0.30000000000000004",
    "1e+300",
    "true",
    "false",
    "US",
    "us",
    "alice",
    "",
    "É",
    "🙂",
    "v1.2.3",
    "1.2.3",
    "9007199254740993",
    "9007199254740992",
    "inf",
    "Infinity",
    "5",
    " 5",
    "null",
];

/// Dates well in the past or the future of any plausible "now", in several
/// RFC 3339 spellings (fractional seconds, offsets).
pub const DATES: &[&str] = &[
    "2000-01-01T00:00:00Z",
    "2015-06-15T12:30:00.123Z",
    "2010-01-01T00:00:00+05:00",
    "2090-12-31T23:59:59Z",
    "2080-06-01T00:00:00.000-08:00",
    "2099-01-01T00:00:00Z",
];

/// Shard counts: the usual 10000 and some unusual ones.
pub const TOTAL_SHARDS: &[u32] = &[1, 2, 7, 10, 100, 1000, 10_000, 65_536];

const SALTS: &[&str] = &["salt", "exp-salt", "traffic", "É", "🙂", "a-b", ""];
const SUBJECT_KEYS: &[&str] =
    &["alice", "bob", "charlie", "", "  ", "user-1", "É", "🙂", "a/b", "1e21", "subject with spaces"];
const FLAG_KEY_BASES: &[&str] = &["flag", "kill-switch", "new-user-onboarding", "É-flag", "flag with spaces"];
const ALLOCATION_KEY_BASES: &[&str] = &["alloc", "rollout", "experiment", "É", "with \"quotes\"", "🙂"];
const EXTRA_LOGGING_KEYS: &[&str] = &["holdoutKey", "holdoutVariation", "featureFlag", "É"];
const EXTRA_LOGGING_VALUES: &[&str] = &["short-term-holdout", "all_shipped_variants_holdout", "", "🙂"];

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
        1 => any::<i32>().prop_map(Value::from),
        1 => (-1.0e6..1.0e6_f64).prop_map(Value::from),
    ]
    .boxed()
}

/// Strings from [`ADVERSARIAL_STRINGS`], plus short random ones.
pub fn adversarial_string() -> BoxedStrategy<String> {
    prop_oneof![
        5 => select(ADVERSARIAL_STRINGS).prop_map(str::to_owned),
        1 => "[a-zA-Z0-9 ._@+-]{0,8}",
        1 => "\\PC{0,4}",
    ]
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
    prop::collection::vec((select(ATTRIBUTE_NAMES), attribute_value()), 0..=4)
        .prop_map(|entries| entries.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
        .boxed()
}

/// Subject keys, including blank, non-ASCII and number-like ones.
pub fn subject_key() -> BoxedStrategy<String> {
    prop_oneof![
        2 => select(SUBJECT_KEYS).prop_map(str::to_owned),
        3 => "[a-z0-9-]{1,12}",
        1 => "\\PC{0,6}",
    ]
    .boxed()
}

fn regex_pattern() -> BoxedStrategy<Value> {
    prop_oneof![
        6 => select(REGEX_PATTERNS).prop_map(Value::from),
        2 => "[a-z0-9.^$]{1,4}".prop_map(Value::from),
        // A non-string pattern: invalid for RS, coerced to a string by JS.
        1 => Just(json!(5)),
    ]
    .boxed()
}

fn comparison_value() -> BoxedStrategy<Value> {
    const STRINGS: &[&str] = &[
        "10",
        "1e3",
        "-0",
        "0.1",
        "inf",
        "1.2.3",
        "1.0.0",
        "1.0.0+build",
        "1.0.0-alpha",
        "v1.2.3",
        "2.0.0",
        "1.10.0",
        " 5",
        "0x10",
        "abc",
    ];
    prop_oneof![
        1 => adversarial_number(),
        1 => select(STRINGS).prop_map(Value::from),
    ]
    .boxed()
}

fn one_of_list() -> BoxedStrategy<Value> {
    let element = prop_oneof![
        12 => select(ONE_OF_ELEMENTS).prop_map(Value::from),
        2 => adversarial_string().prop_map(Value::from),
        // Non-string members (spec 8.7).
        1 => select(vec![json!(42), json!(true), Value::Null, json!(1.5)]),
    ];
    prop::collection::vec(element, 1..=4).prop_map(Value::Array).boxed()
}

fn is_null_value() -> BoxedStrategy<Value> {
    prop_oneof![
        8 => any::<bool>().prop_map(Value::from),
        // Non-bool values (spec 8.8).
        1 => select(vec![json!("true"), json!(1), json!(0), Value::Null, json!("false")]),
    ]
    .boxed()
}

/// One condition `{attribute, operator, value}` with every operator.
pub fn condition() -> BoxedStrategy<Value> {
    let attribute = || select(ATTRIBUTE_NAMES);
    let make = |(attribute, operator, value): (&str, &str, Value)| json!({"attribute": attribute, "operator": operator, "value": value});
    prop_oneof![
        3 => (attribute(), select(&["MATCHES", "NOT_MATCHES"][..]), regex_pattern()).prop_map(make),
        3 => (attribute(), select(&["GT", "GTE", "LT", "LTE"][..]), comparison_value()).prop_map(make),
        4 => (attribute(), select(&["ONE_OF", "NOT_ONE_OF"][..]), one_of_list()).prop_map(make),
        1 => (attribute(), Just("IS_NULL"), is_null_value()).prop_map(make),
    ]
    .boxed()
}

fn rule() -> BoxedStrategy<Value> {
    prop_oneof![
        1 => Just(Vec::new()),
        8 => prop::collection::vec(condition(), 1..=3),
    ]
    .prop_map(|conditions| json!({ "conditions": conditions }))
    .boxed()
}

/// A variation value for `variation_type`; about one in thirteen is of the
/// wrong type (spec section 8.10), and JSON flags sometimes carry `"null"`
/// (8.16).
pub fn variation_value(variation_type: VariationType) -> BoxedStrategy<Value> {
    match variation_type {
        VariationType::String => prop_oneof![
            12 => select(&["a", "b", "control", "treatment", "", "É", "🙂", "1", "true"][..]).prop_map(Value::from),
            1 => adversarial_number(),
        ]
        .boxed(),
        VariationType::Integer => prop_oneof![
            12 => select(vec![json!(0), json!(1), json!(-1), json!(42), json!(i64::MAX), json!(i64::MIN),
                json!(9_007_199_254_740_993_i64), Value::from(3.0)]),
            1 => select(vec![Value::from(1e20), json!(3.5), json!("5")]),
        ]
        .boxed(),
        VariationType::Numeric => prop_oneof![
            12 => adversarial_number(),
            1 => select(vec![json!("5"), json!(true)]),
        ]
        .boxed(),
        VariationType::Boolean => prop_oneof![
            12 => any::<bool>().prop_map(Value::from),
            1 => select(vec![json!(0), json!("true")]),
        ]
        .boxed(),
        VariationType::Json => prop_oneof![
            12 => select(&["{}", "{\"a\":1}", "[1,2]", "\"s\"", "1", "null", "true", "{\"É\":\"🙂\"}"][..])
                .prop_map(Value::from),
            1 => select(vec![json!("{oops"), json!(5)]),
        ]
        .boxed(),
    }
}

fn shard_range(total_shards: u32) -> BoxedStrategy<Value> {
    prop_oneof![
        2 => Just(json!({"start": 0, "end": total_shards})),
        3 => (0..=total_shards)
            .prop_flat_map(move |start| (Just(start), start..=total_shards))
            .prop_map(|(start, end)| json!({"start": start, "end": end})),
    ]
    .boxed()
}

fn shard(total_shards: u32) -> BoxedStrategy<Value> {
    (select(SALTS), prop::collection::vec(shard_range(total_shards), 1..=2))
        .prop_map(|(salt, ranges)| json!({"salt": salt, "ranges": ranges}))
        .boxed()
}

fn extra_logging() -> BoxedStrategy<Option<Value>> {
    prop::option::weighted(
        0.2,
        prop::collection::vec((select(EXTRA_LOGGING_KEYS), select(EXTRA_LOGGING_VALUES)), 1..=2).prop_map(|entries| {
            Value::Object(entries.into_iter().map(|(k, v)| (k.to_owned(), Value::from(v))).collect())
        }),
    )
    .boxed()
}

fn split(variation_keys: Vec<String>, total_shards: u32) -> BoxedStrategy<Value> {
    let variation_key = prop_oneof![
        30 => select(variation_keys),
        // A split naming a variation the flag lacks.
        1 => Just("ghost".to_owned()),
    ];
    let shards = prop_oneof![
        2 => Just(Vec::new()),
        3 => prop::collection::vec(shard(total_shards), 1..=2),
    ];
    (variation_key, shards, extra_logging())
        .prop_map(|(variation_key, shards, extra)| {
            let mut split = json!({"variationKey": variation_key, "shards": shards});
            if let (Some(extra), Some(map)) = (extra, split.as_object_mut()) {
                map.insert("extraLogging".into(), extra);
            }
            split
        })
        .boxed()
}

/// Which of `doLog: true`, `doLog: false` and no `doLog` (spec 8.13) an
/// allocation has.
fn do_log() -> BoxedStrategy<Option<bool>> {
    select(vec![Some(true), Some(false), None]).boxed()
}

fn allocation(variation_keys: Vec<String>, total_shards: u32) -> BoxedStrategy<Value> {
    let rules = prop_oneof![
        4 => Just(None),
        1 => Just(Some(Vec::new())),
        5 => prop::collection::vec(rule(), 1..=3).prop_map(Some),
    ];
    let date = || prop::option::weighted(0.2, select(DATES));
    let splits = prop_oneof![
        1 => Just(Vec::new()),
        15 => prop::collection::vec(split(variation_keys, total_shards), 1..=3),
    ];
    (select(ALLOCATION_KEY_BASES), rules, date(), date(), splits, do_log())
        .prop_map(|(key, rules, start_at, end_at, splits, do_log)| {
            let mut allocation = Map::new();
            allocation.insert("key".into(), Value::from(key));
            if let Some(rules) = rules {
                allocation.insert("rules".into(), Value::Array(rules));
            }
            if let Some(start_at) = start_at {
                allocation.insert("startAt".into(), Value::from(start_at));
            }
            if let Some(end_at) = end_at {
                allocation.insert("endAt".into(), Value::from(end_at));
            }
            allocation.insert("splits".into(), Value::Array(splits));
            if let Some(do_log) = do_log {
                allocation.insert("doLog".into(), Value::from(do_log));
            }
            Value::Object(allocation)
        })
        .boxed()
}

/// One flag (its `key` is filled in by [`flag_scenario`]): any variation
/// type, 1–3 variations, 0–3 allocations, any `totalShards`, occasionally
/// disabled or with a variation whose map key differs from its `key` field
/// (spec 8.14).
pub fn flag() -> BoxedStrategy<Value> {
    let shape = (select(&VariationType::ALL[..]), 1..=3_usize, select(TOTAL_SHARDS), prop::bool::weighted(0.9));
    shape
        .prop_flat_map(|(variation_type, variation_count, total_shards, enabled)| {
            let keys: Vec<String> = (0..variation_count).map(|i| format!("v{i}")).collect();
            (
                Just(variation_type),
                Just(total_shards),
                Just(enabled),
                prop::collection::vec(variation_value(variation_type), variation_count),
                prop_oneof![
                    1 => Just(Vec::new()),
                    10 => prop::collection::vec(allocation(keys, total_shards), 1..=3),
                ],
                prop::bool::weighted(0.04),
            )
        })
        .prop_map(|(variation_type, total_shards, enabled, values, allocations, renamed_map_key)| {
            let variations: Map<String, Value> = values
                .into_iter()
                .enumerate()
                .map(|(i, value)| {
                    let map_key = if renamed_map_key && i == 0 { format!("k{i}") } else { format!("v{i}") };
                    (map_key, json!({"key": format!("v{i}"), "value": value}))
                })
                .collect();
            // Allocation keys must be unique within a flag: details and the
            // event properties look allocations up by key.
            let allocations: Vec<Value> = allocations
                .into_iter()
                .enumerate()
                .map(|(i, mut allocation)| {
                    let base = allocation.get("key").and_then(Value::as_str).unwrap_or("alloc").to_owned();
                    if let Some(map) = allocation.as_object_mut() {
                        map.insert("key".into(), Value::from(format!("{base}-{i}")));
                    }
                    allocation
                })
                .collect();
            json!({
                "key": "",
                "enabled": enabled,
                "variationType": variation_type.as_str(),
                "variations": variations,
                "allocations": allocations,
                "totalShards": total_shards,
            })
        })
        .boxed()
}

/// The default value a case passes for `variation_type`.
pub fn default_value(variation_type: VariationType) -> Value {
    match variation_type {
        VariationType::String => json!("default"),
        VariationType::Integer => json!(-999),
        VariationType::Numeric => json!(-0.5),
        VariationType::Boolean => json!(false),
        VariationType::Json => json!({"default": true}),
    }
}

/// Attribute values taken from a flag's own conditions: each `ONE_OF`
/// member and comparison value as written and, when it reads as a number
/// or a bool, as that number or bool; `null` for `IS_NULL`. Subjects that
/// carry them reach the conditions' edges (`1e21` against `"1e+21"`, `-0`
/// against `"-0"`) far more often than independent draws would.
pub fn values_from_conditions(flag: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let conditions = flag
        .get("allocations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|a| a.get("rules").and_then(Value::as_array).into_iter().flatten())
        .flat_map(|r| r.get("conditions").and_then(Value::as_array).into_iter().flatten());
    for condition in conditions {
        let Some(attribute) = condition.get("attribute").and_then(Value::as_str) else { continue };
        let mut push = |value: Value| out.push((attribute.to_owned(), value));
        let read = |text: &str, push: &mut dyn FnMut(Value)| {
            push(Value::from(text));
            if let Some(n) = text.trim().parse::<f64>().ok().filter(|n| n.is_finite()) {
                push(Value::from(n));
            }
            if let Ok(b) = text.parse::<bool>() {
                push(Value::from(b));
            }
        };
        match condition.get("value") {
            Some(Value::Array(items)) => {
                for item in items {
                    match item {
                        Value::String(text) => read(text, &mut push),
                        other => push(other.clone()),
                    }
                }
            }
            Some(Value::String(text)) => read(text, &mut push),
            Some(Value::Number(n)) => {
                push(Value::Number(n.clone()));
                push(Value::from(n.to_string()));
            }
            Some(Value::Bool(_)) | Some(Value::Null) | None => push(Value::Null),
            Some(other) => push(other.clone()),
        }
    }
    out
}

fn subject_attributes_for(flag: &Value) -> BoxedStrategy<Map<String, Value>> {
    let derived = values_from_conditions(flag);
    if derived.is_empty() {
        return subject_attributes();
    }
    (subject_attributes(), prop::collection::vec(select(derived), 0..=2))
        .prop_map(|(mut attributes, picks)| {
            attributes.extend(picks);
            attributes
        })
        .boxed()
}

/// A subject key, its attributes, and the type a case asks for.
type Request = (String, Map<String, Value>, VariationType);

fn flag_request(flag: &Value) -> BoxedStrategy<Request> {
    let flag_type = flag
        .get("variationType")
        .and_then(Value::as_str)
        .and_then(VariationType::parse)
        .unwrap_or(VariationType::String);
    let requested = prop_oneof![
        12 => Just(flag_type),
        1 => select(&VariationType::ALL[..]),
    ];
    (subject_key(), subject_attributes_for(flag), requested).boxed()
}

fn flag_with_requests() -> BoxedStrategy<(Value, Vec<Request>)> {
    flag()
        .prop_flat_map(|flag| {
            let requests = prop::collection::vec(flag_request(&flag), 1..=8);
            (Just(flag), requests)
        })
        .boxed()
}

/// 1–3 flags and, for each, 1–8 subjects to evaluate.
pub fn flag_scenario() -> BoxedStrategy<Scenario> {
    prop::collection::vec((select(FLAG_KEY_BASES), flag_with_requests()), 1..=3)
        .prop_map(|flags| {
            let mut document = Map::new();
            let mut cases = Vec::new();
            for (index, (base, (mut flag, requests))) in flags.into_iter().enumerate() {
                let key = format!("{base}-{index}");
                if let Some(map) = flag.as_object_mut() {
                    map.insert("key".into(), Value::from(key.as_str()));
                }
                document.insert(key.clone(), flag);
                cases.extend(requests.into_iter().map(|(subject_key, attributes, requested)| {
                    CaseInput::Flag(FlagCase {
                        flag: key.clone(),
                        variation_type: ufc_protocol::VariationType::parse(requested.as_str())
                            .unwrap_or(ufc_protocol::VariationType::String),
                        default_value: default_value(requested),
                        subject_key,
                        subject_attributes: attributes,
                    })
                }))
            }
            Scenario { flags: configuration_document(document, None), bandit_models: None, cases, obfuscated: false }
        })
        .boxed()
}

/// A valid `flags-v1.json` document with 1–3 flags.
pub fn configuration() -> BoxedStrategy<Value> {
    flag_scenario().prop_map(|scenario| scenario.flags).boxed()
}

/// Wraps flags (and bandit links) in the top of a `flags-v1.json` document.
pub fn configuration_document(flags: Map<String, Value>, links: Option<(Value, Value)>) -> Value {
    let mut document = json!({
        "createdAt": "2024-04-17T19:40:53.716Z",
        "format": "SERVER",
        "environment": {"name": "Fuzz"},
        "flags": flags,
    });
    if let (Some((bandits, references)), Some(map)) = (links, document.as_object_mut()) {
        if !bandits.is_null() {
            map.insert("bandits".into(), bandits);
        }
        if !references.is_null() {
            map.insert("banditReferences".into(), references);
        }
    }
    document
}

/// A damage done to one spot of a document.
#[derive(Debug, Clone)]
enum Damage {
    Replace(Value),
    Remove,
}

fn damage() -> BoxedStrategy<Damage> {
    let replacements = vec![
        Value::Null,
        json!(-1),
        json!(0),
        json!(0.5),
        json!(""),
        json!("x"),
        json!("2024-01-01"),
        json!("tomorrow"),
        json!([]),
        json!({}),
        json!(true),
        json!("STRING2"),
        json!(4_294_967_296_u64),
        Value::from(-0.0),
        json!(i64::MIN),
        json!([{"start": -5, "end": 2.5}]),
    ];
    prop_oneof![
        5 => select(replacements).prop_map(Damage::Replace),
        1 => Just(Damage::Remove),
    ]
    .boxed()
}

/// JSON pointers of every value below `root` (excluded).
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    let escape = |key: &str| key.replace('~', "~0").replace('/', "~1");
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let path = format!("{at}/{}", escape(key));
                out.push(path.clone());
                pointers(child, path, out);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                let path = format!("{at}/{index}");
                out.push(path.clone());
                pointers(child, path, out);
            }
        }
        _ => {}
    }
}

fn apply_damage(document: &mut Value, pointer: &str, damage: &Damage) {
    let Some((parent, last)) = pointer.rsplit_once('/') else { return };
    let last = last.replace("~1", "/").replace("~0", "~");
    let Some(parent) = document.pointer_mut(parent) else { return };
    match (parent, damage) {
        (Value::Object(map), Damage::Replace(value)) => {
            map.insert(last, value.clone());
        }
        (Value::Object(map), Damage::Remove) => {
            map.shift_remove(&last);
        }
        (Value::Array(items), Damage::Replace(value)) => {
            if let Some(slot) = last.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                *slot = value.clone();
            }
        }
        (Value::Array(items), Damage::Remove) => {
            if let Some(index) = last.parse::<usize>().ok().filter(|i| *i < items.len()) {
                items.remove(index);
            }
        }
        _ => {}
    }
}

/// Damages one to three spots inside the `flags` map of `document`.
fn damaged_flags(scenario: Scenario, spots: Vec<(Index, Damage)>) -> Scenario {
    let mut flags = scenario.flags;
    for (index, damage) in spots {
        let mut all = Vec::new();
        if let Some(map) = flags.get("flags") {
            pointers(map, "/flags".to_owned(), &mut all);
        }
        if all.is_empty() {
            break;
        }
        let pointer = index.get(&all).clone();
        apply_damage(&mut flags, &pointer, &damage);
    }
    Scenario { flags, ..scenario }
}

/// A scenario whose flags have one to three spots damaged (a field
/// replaced by a wrongly typed value, or removed), the top of the document
/// staying a UFC document. The JS core's leniencies of spec 8.12–8.13
/// (`rules: null`, dates that are not RFC 3339, negative ranges, unknown
/// types, a missing `doLog`) all arise from such damage.
pub fn malformed_scenario() -> BoxedStrategy<Scenario> {
    (flag_scenario(), prop::collection::vec((any::<Index>(), damage()), 1..=3))
        .prop_map(|(scenario, spots)| damaged_flags(scenario, spots))
        .boxed()
}

/// A configuration that is usually not valid UFC: flags damaged as in
/// [`malformed_scenario`], and sometimes the top of the document broken
/// too (`flags` not a map, not an object at all).
pub fn malformed_configuration() -> BoxedStrategy<Value> {
    let top = select(vec![
        None,
        Some(json!({"flags": []})),
        Some(json!({"flags": null, "environment": 3})),
        Some(json!(5)),
        Some(json!([])),
        Some(json!({})),
    ]);
    (malformed_scenario(), prop_oneof![6 => Just(None), 1 => top])
        .prop_map(|(scenario, top)| top.unwrap_or(scenario.flags))
        .boxed()
}

// ---------------------------------------------------------------------------
// Bandits

const BANDIT_KEYS: &[&str] = &["banner-bandit", "car-bandit"];
/// Action keys: ties between keys whose byte order and UTF-16 order differ
/// (`ｚ` U+FF5A sorts before `🙂` in UTF-8 and after it in UTF-16; spec 8.17).
pub const ACTION_KEYS: &[&str] = &["nike", "adidas", "reebok", "puma", "a", "B", "ｚ", "🙂"];
const NUMERIC_NAMES: &[&str] = &["age", "price", "brand_affinity"];
const CATEGORICAL_NAMES: &[&str] = &["country", "tier", "zip"];
const CATEGORY_VALUES: &[&str] = &["US", "gold", "303", "1e+21", "1000000000000000000000", "true", "", "É"];

fn coefficient_value() -> BoxedStrategy<f64> {
    prop_oneof![
        2 => select(vec![0.0, 1.0, -1.0, 0.5, 10.0, -0.1]),
        1 => -20.0..20.0_f64,
    ]
    .boxed()
}

fn numeric_coefficient() -> BoxedStrategy<Value> {
    (select(NUMERIC_NAMES), coefficient_value(), coefficient_value())
        .prop_map(|(key, coefficient, missing)| {
            json!({"attributeKey": key, "coefficient": coefficient, "missingValueCoefficient": missing})
        })
        .boxed()
}

fn categorical_coefficient() -> BoxedStrategy<Value> {
    let values = prop::collection::vec((select(CATEGORY_VALUES), coefficient_value()), 0..=3)
        .prop_map(|entries| Value::Object(entries.into_iter().map(|(k, v)| (k.to_owned(), json!(v))).collect()));
    (select(CATEGORICAL_NAMES), values, coefficient_value())
        .prop_map(|(key, values, missing)| {
            json!({"attributeKey": key, "valueCoefficients": values, "missingValueCoefficient": missing})
        })
        .boxed()
}

fn action_coefficients() -> BoxedStrategy<Value> {
    let numeric = || prop::collection::vec(numeric_coefficient(), 0..=2);
    let categorical = || prop::collection::vec(categorical_coefficient(), 0..=2);
    (coefficient_value(), numeric(), categorical(), numeric(), categorical())
        .prop_map(|(intercept, subject_numeric, subject_categorical, action_numeric, action_categorical)| {
            json!({
                "intercept": intercept,
                "subjectNumericCoefficients": subject_numeric,
                "subjectCategoricalCoefficients": subject_categorical,
                "actionNumericCoefficients": action_numeric,
                "actionCategoricalCoefficients": action_categorical,
            })
        })
        .boxed()
}

/// A bandit model's `modelData`: `gamma` ≥ 0 and a probability floor in
/// [0, 1] (the ranges within which weights are a probability distribution),
/// coefficients for some of [`ACTION_KEYS`].
pub fn model_data() -> BoxedStrategy<Value> {
    let gamma = prop_oneof![2 => select(vec![0.0, 0.5, 1.0, 10.0, 100.0]), 1 => 0.0..100.0_f64];
    let floor = prop_oneof![2 => select(vec![0.0, 0.1, 0.5, 1.0]), 1 => 0.0..=1.0_f64];
    let coefficients = prop::collection::vec((select(ACTION_KEYS), action_coefficients()), 0..=4);
    (gamma, select(vec![-1.0, 0.0, 5.0]), floor, coefficients)
        .prop_map(|(gamma, default_score, floor, coefficients)| {
            let coefficients: Map<String, Value> = coefficients
                .into_iter()
                .map(|(key, mut c)| {
                    if let Some(map) = c.as_object_mut() {
                        map.insert("actionKey".into(), Value::from(key));
                    }
                    (key.to_owned(), c)
                })
                .collect();
            json!({
                "gamma": gamma,
                "defaultActionScore": default_score,
                "actionProbabilityFloor": floor,
                "coefficients": coefficients,
            })
        })
        .boxed()
}

fn context_attributes() -> BoxedStrategy<ContextAttributes> {
    // Numeric maps get strings and bools too, categorical maps numbers and
    // bools and empty strings: the `*.dynamic-typing.json` rule.
    let numeric_value = prop_oneof![
        4 => adversarial_number(),
        1 => select(vec![json!("30"), json!(true), Value::Null]),
    ];
    let categorical_value = prop_oneof![
        4 => select(CATEGORY_VALUES).prop_map(Value::from),
        1 => select(vec![json!(303), Value::from(1e21), json!(true), Value::Null]),
    ];
    (
        prop::collection::vec((select(NUMERIC_NAMES), numeric_value), 0..=3),
        prop::collection::vec((select(CATEGORICAL_NAMES), categorical_value), 0..=3),
    )
        .prop_map(|(numeric, categorical)| ContextAttributes {
            numeric_attributes: numeric.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            categorical_attributes: categorical.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        })
        .boxed()
}

fn actions() -> BoxedStrategy<Vec<ActionInput>> {
    prop::collection::vec((select(ACTION_KEYS), context_attributes()), 0..=4)
        .prop_map(|actions| {
            actions
                .into_iter()
                .map(|(key, attributes)| ActionInput { action_key: key.to_owned(), attributes })
                .collect()
        })
        .boxed()
}

/// How a bandit scenario links its flag to its bandits: both maps (the
/// usual case, what `ufc/bandit-flags-v1.json` does), or only one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LinkStyle {
    Both,
    BanditsOnly,
    ReferencesOnly,
}

/// A bandit scenario: one STRING flag whose variations are bandit keys (and
/// a plain `control`), linked in `bandits` and `banditReferences`; a model
/// file with a model for each bandit (occasionally one missing); and 1–8
/// bandit cases with adversarially typed attributes and 0–4 actions.
pub fn bandit_scenario() -> BoxedStrategy<Scenario> {
    let link_style = prop_oneof![
        12 => Just(LinkStyle::Both),
        1 => Just(LinkStyle::BanditsOnly),
        1 => Just(LinkStyle::ReferencesOnly),
    ];
    let models = prop::collection::vec((model_data(), prop::bool::weighted(0.92)), BANDIT_KEYS.len());
    let cases = prop::collection::vec((subject_key(), context_attributes(), actions()), 1..=8);
    let rollout = prop_oneof![
        // Everyone gets the first bandit.
        1 => Just(None),
        // Traffic split between the bandits and control by shards.
        2 => (select(SALTS), 1..10_000_u32, 1..10_000_u32).prop_map(Some),
    ];
    (link_style, models, cases, rollout, prop::option::weighted(0.3, condition()))
        .prop_map(|(link_style, models, cases, rollout, condition)| {
            bandit_scenario_from(link_style, models, cases, rollout, condition)
        })
        .boxed()
}

type BanditCaseParts = (String, ContextAttributes, Vec<ActionInput>);

fn bandit_scenario_from(
    link_style: LinkStyle,
    models: Vec<(Value, bool)>,
    cases: Vec<BanditCaseParts>,
    rollout: Option<(&str, u32, u32)>,
    condition: Option<Value>,
) -> Scenario {
    let flag_key = "bandit-flag";
    let mut variations = Map::new();
    for key in BANDIT_KEYS.iter().chain(["control"].iter()) {
        variations.insert((*key).to_owned(), json!({"key": key, "value": key}));
    }
    let splits = match rollout {
        None => vec![json!({"variationKey": BANDIT_KEYS[0], "shards": []})],
        Some((salt, a, b)) => {
            let (low, high) = (a.min(b), a.max(b));
            let shard = |start: u32, end: u32| json!([{"salt": salt, "ranges": [{"start": start, "end": end}]}]);
            vec![
                json!({"variationKey": BANDIT_KEYS[0], "shards": shard(0, low)}),
                json!({"variationKey": BANDIT_KEYS[1], "shards": shard(low, high)}),
                json!({"variationKey": "control", "shards": shard(high, 10_000)}),
            ]
        }
    };
    let mut allocations = Vec::new();
    if let Some(condition) = condition {
        allocations.push(json!({
            "key": "targeted",
            "rules": [{"conditions": [condition]}],
            "splits": [{"variationKey": "control", "shards": []}],
            "doLog": true,
        }));
    }
    allocations.push(json!({"key": "training", "splits": splits, "doLog": true}));
    let flag = json!({
        "key": flag_key,
        "enabled": true,
        "variationType": "STRING",
        "variations": variations,
        "allocations": allocations,
        "totalShards": 10_000,
    });
    let bandits: Map<String, Value> = BANDIT_KEYS
        .iter()
        .map(|key| {
            let entry = json!({"key": key, "flagKey": flag_key, "variationKey": key, "variationValue": key});
            ((*key).to_owned(), json!([entry]))
        })
        .collect();
    let references: Map<String, Value> = BANDIT_KEYS
        .iter()
        .map(|key| {
            let entry = json!({"key": key, "flagKey": flag_key, "allocationKey": "training", "variationKey": key, "variationValue": key});
            ((*key).to_owned(), json!({"modelVersion": "v1", "flagVariations": [entry]}))
        })
        .collect();
    let links = match link_style {
        LinkStyle::Both => (Value::Object(bandits), Value::Object(references)),
        LinkStyle::BanditsOnly => (Value::Object(bandits), Value::Null),
        LinkStyle::ReferencesOnly => (Value::Null, Value::Object(references)),
    };
    let mut model_map = Map::new();
    for (key, (data, present)) in BANDIT_KEYS.iter().zip(models) {
        if present {
            model_map.insert(
                (*key).to_owned(),
                json!({
                    "banditKey": key,
                    "modelName": "falcon",
                    "modelVersion": "v1",
                    "updatedAt": "2024-01-01T00:00:00.000Z",
                    "modelData": data,
                }),
            );
        }
    }
    let models_document = json!({
        "updatedAt": "2024-01-01T00:00:00.000Z",
        "environment": {"name": "Fuzz"},
        "bandits": model_map,
    });
    let cases = cases
        .into_iter()
        .map(|(subject_key, subject_attributes, actions)| {
            CaseInput::Bandit(BanditCase {
                flag: flag_key.to_owned(),
                default_value: json!("default"),
                subject_key,
                subject_attributes,
                actions,
            })
        })
        .collect();
    let mut flags = Map::new();
    flags.insert(flag_key.to_owned(), flag);
    Scenario {
        flags: configuration_document(flags, Some(links)),
        bandit_models: Some(models_document),
        cases,
        obfuscated: false,
    }
}

/// Scores for the weight properties: 1–8 of them, with ties.
pub fn bandit_scores() -> BoxedStrategy<Vec<f64>> {
    prop::collection::vec(prop_oneof![1 => select(vec![0.0, 1.0, 1.0, -3.5]), 3 => -50.0..50.0_f64], 1..=8).boxed()
}

// ---------------------------------------------------------------------------
// Flags whose splits partition the shard space

/// A flag whose one allocation's splits partition `[0, totalShards)`:
/// every subject gets exactly one split, with probability
/// [`PartitionedFlag::fractions`]. Segments of the shard space are dealt to
/// splits in any order (so a split may own several disjoint ranges, and
/// none at all); optionally every split also carries a second, full-range
/// shard with another salt (a layer that admits everyone), a rule that
/// always holds, and dates around "now".
#[derive(Debug, Clone)]
pub struct PartitionedFlag {
    /// The `flags-v1.json` document.
    pub configuration: Value,
    /// The flag's key.
    pub flag_key: String,
    /// `totalShards`.
    pub total_shards: u32,
    /// For each split, in order: the variation value it serves (`"s<i>"`)
    /// and the share of the shard space it owns.
    pub fractions: Vec<(String, f64)>,
}

/// See [`PartitionedFlag`].
pub fn partitioned_flag() -> BoxedStrategy<PartitionedFlag> {
    let totals = select(vec![10_u32, 97, 100, 1000, 10_000, 65_536, 1 << 20]);
    (totals, 1..=4_usize, 1..=6_usize)
        .prop_flat_map(|(total, splits, segments)| {
            (
                Just(total),
                Just(splits),
                prop::collection::vec(1..=10_u32, segments),
                prop::collection::vec(0..splits, segments),
                "[a-z]{1,8}",
                prop::bool::ANY,
                prop::bool::ANY,
                prop::bool::ANY,
            )
        })
        .prop_map(|(total, split_count, weights, owners, salt, layered, with_rule, with_dates)| {
            partitioned_flag_from(total, split_count, &weights, &owners, &salt, layered, with_rule, with_dates)
        })
        .boxed()
}

#[expect(clippy::too_many_arguments, reason = "the parts of one generated value")]
fn partitioned_flag_from(
    total: u32,
    split_count: usize,
    weights: &[u32],
    owners: &[usize],
    salt: &str,
    layered: bool,
    with_rule: bool,
    with_dates: bool,
) -> PartitionedFlag {
    // Cut points proportional to the weights, each segment at least one
    // shard wide (total >= 10 > 6 segments keeps that feasible).
    let sum: u64 = weights.iter().map(|w| u64::from(*w)).sum();
    let segments = weights.len();
    let mut cuts = vec![0_u32];
    let mut running = 0_u64;
    for (i, weight) in weights.iter().enumerate().take(segments.saturating_sub(1)) {
        running += u64::from(*weight);
        let ideal = (u64::from(total) * running / sum.max(1)) as u32;
        let previous = cuts[cuts.len() - 1];
        let room = total - (segments - 1 - i) as u32;
        cuts.push(ideal.max(previous + 1).min(room));
    }
    cuts.push(total);
    let mut ranges: Vec<Vec<Value>> = vec![Vec::new(); split_count];
    let mut owned = vec![0_u32; split_count];
    for (segment, owner) in owners.iter().enumerate() {
        let (start, end) = (cuts[segment], cuts[segment + 1]);
        ranges[*owner].push(json!({"start": start, "end": end}));
        owned[*owner] += end - start;
    }
    let splits: Vec<Value> = ranges
        .into_iter()
        .enumerate()
        .map(|(i, ranges)| {
            let mut shards = vec![json!({"salt": salt, "ranges": ranges})];
            if layered {
                shards.push(json!({"salt": format!("{salt}-layer"), "ranges": [{"start": 0, "end": total}]}));
            }
            json!({"variationKey": format!("s{i}"), "shards": shards})
        })
        .collect();
    let variations: Map<String, Value> = (0..split_count)
        .map(|i| (format!("s{i}"), json!({"key": format!("s{i}"), "value": format!("s{i}")})))
        .collect();
    let mut allocation = json!({"key": "partition", "splits": splits, "doLog": true});
    if let Some(map) = allocation.as_object_mut() {
        if with_rule {
            map.insert(
                "rules".into(),
                json!([{"conditions": [{"attribute": "never-set", "operator": "IS_NULL", "value": true}]}]),
            );
        }
        if with_dates {
            map.insert("startAt".into(), json!("2000-01-01T00:00:00Z"));
            map.insert("endAt".into(), json!("2099-01-01T00:00:00Z"));
        }
    }
    let flag_key = "partitioned".to_owned();
    let mut flags = Map::new();
    flags.insert(
        flag_key.clone(),
        json!({
            "key": flag_key,
            "enabled": true,
            "variationType": "STRING",
            "variations": variations,
            "allocations": [allocation],
            "totalShards": total,
        }),
    );
    PartitionedFlag {
        configuration: configuration_document(flags, None),
        flag_key,
        total_shards: total,
        fractions: owned.iter().enumerate().map(|(i, n)| (format!("s{i}"), f64::from(*n) / f64::from(total))).collect(),
    }
}
