//! Flags: valid UFC flag configurations and the subjects evaluated against
//! them. Conditions with every operator (regex dialects, numeric and
//! semver comparisons, `ONE_OF` renderings, `IS_NULL`), rules, allocations
//! with dates and `doLog`, splits with `extraLogging`, variations of every
//! type, and subjects whose attributes are taken from the flag's own
//! conditions.

use std::ops::RangeInclusive;

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Map, Value};
use ufc_reference::VariationType;

use crate::dates::date_window;
use crate::edges::{edge_number, edge_string, edge_text, variants_of, with_edges};
use crate::repeat::repeated;
use crate::shards::{shard, TOTAL_SHARDS};
use crate::values::{adversarial_number, adversarial_string, attribute_name, subject_attributes, subject_key};
use crate::{CaseInput, FlagCase, Scenario};

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

const FLAG_KEY_BASES: &[&str] = &["flag", "kill-switch", "new-user-onboarding", "É-flag", "flag with spaces"];
const ALLOCATION_KEY_BASES: &[&str] = &["alloc", "rollout", "experiment", "É", "with \"quotes\"", "🙂"];
const EXTRA_LOGGING_KEYS: &[&str] = &["holdoutKey", "holdoutVariation", "featureFlag", "É"];
const EXTRA_LOGGING_VALUES: &[&str] = &["short-term-holdout", "all_shipped_variants_holdout", "", "🙂"];

fn regex_pattern() -> BoxedStrategy<Value> {
    prop_oneof![
        6 => select(REGEX_PATTERNS).prop_map(Value::from),
        2 => "[a-z0-9.^$]{1,4}".prop_map(Value::from),
        // The empty pattern matches everything; `\\` and `"` test escaping.
        1 => edge_string().prop_map(Value::from),
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
        3 => adversarial_number(),
        3 => select(STRINGS).prop_map(Value::from),
        1 => edge_text().prop_map(Value::from),
    ]
    .boxed()
}

fn one_of_list() -> BoxedStrategy<Value> {
    let element = prop_oneof![
        12 => select(ONE_OF_ELEMENTS).prop_map(Value::from),
        2 => adversarial_string().prop_map(Value::from),
        1 => select(ONE_OF_ELEMENTS).prop_flat_map(|base| select(variants_of(base))).prop_map(Value::from),
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
    let attribute = attribute_name;
    let make = |(attribute, operator, value): (String, &str, Value)| json!({"attribute": attribute, "operator": operator, "value": value});
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
            2 => edge_text().prop_map(Value::from),
            1 => adversarial_number(),
        ]
        .boxed(),
        // The edge numbers are mostly integers, some past i64 (assignment
        // errors) or written as floats (`3.0`, `-0.0`, `4294967296.0`).
        VariationType::Integer => prop_oneof![
            12 => select(vec![json!(0), json!(1), json!(-1), json!(42), json!(i64::MAX), json!(i64::MIN),
                json!(9_007_199_254_740_993_i64), Value::from(3.0)]),
            4 => edge_number(),
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
            2 => select(EDGE_JSON_TEXTS).prop_map(Value::from),
            1 => select(vec![json!("{oops"), json!(5)]),
        ]
        .boxed(),
    }
}

/// JSON texts for JSON variations at the edges of JSON parsers: numbers
/// out of `f64` range (JS reads `Infinity`, `serde_json` refuses), `-0`,
/// an integer past 2^53, the non-standard `NaN` and `Infinity` (Python's
/// `json` reads them), duplicate object keys (the one place generated
/// documents carry duplicate keys as text), padding, a BOM and nothing.
pub const EDGE_JSON_TEXTS: &[&str] = &[
    "1e400",
    "-0",
    "9007199254740993",
    "NaN",
    "Infinity",
    "{\"a\":1,\"a\":2}",
    " {} ",
    "\u{feff}{}",
    "",
    "\"\\u0000\"",
];

fn extra_logging() -> BoxedStrategy<Option<Value>> {
    prop::option::weighted(
        0.2,
        prop::collection::vec((with_edges(EXTRA_LOGGING_KEYS), with_edges(EXTRA_LOGGING_VALUES)), 1..=2)
            .prop_map(|entries| Value::Object(entries.into_iter().map(|(k, v)| (k, Value::from(v))).collect())),
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
    let splits = prop_oneof![
        1 => Just(Vec::new()),
        15 => prop::collection::vec(split(variation_keys, total_shards), 1..=3),
    ];
    (with_edges(ALLOCATION_KEY_BASES), rules, date_window(), splits, do_log())
        .prop_map(|(key, rules, (start_at, end_at), splits, do_log)| {
            let mut allocation = Map::new();
            allocation.insert("key".into(), Value::from(key));
            if let Some(rules) = rules {
                allocation.insert("rules".into(), Value::Array(rules));
            }
            if let Some(start_at) = start_at {
                allocation.insert("startAt".into(), start_at);
            }
            if let Some(end_at) = end_at {
                allocation.insert("endAt".into(), end_at);
            }
            allocation.insert("splits".into(), Value::Array(splits));
            if let Some(do_log) = do_log {
                allocation.insert("doLog".into(), Value::from(do_log));
            }
            Value::Object(allocation)
        })
        .boxed()
}

/// How a flag's variations are keyed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum VariationKeying {
    /// Map key and `key` field agree, all distinct.
    Plain,
    /// The first variation's map key differs from its `key` field (spec
    /// 8.14): `k0` for a variation keyed `v0`.
    RenamedMapKey,
    /// The last variation has the first one's `key` field under its own map
    /// key: two variations share a `key`.
    SharedKey,
}

/// How a flag's allocations are keyed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AllocationKeying {
    /// `<base>-<index>`: distinct, and never an edge string as it is.
    Suffixed,
    /// The drawn key as it is, suffixed only when already taken.
    Bare,
    /// As `Bare`, then the last allocation takes the first one's key.
    SharedKey,
}

/// Variation names: `v<i>`, or the edge string drawn for that position
/// when no earlier variation has it.
fn variation_names(edges: Vec<Option<String>>) -> Vec<String> {
    let mut names: Vec<String> = Vec::with_capacity(edges.len());
    for (i, edge) in edges.into_iter().enumerate() {
        let name = edge.filter(|e| !names.contains(e)).unwrap_or_else(|| format!("v{i}"));
        names.push(name);
    }
    names
}

/// The map of variations named `names` with `values`, keyed as `keying`
/// says.
fn variations(names: &[String], values: Vec<Value>, keying: VariationKeying) -> Map<String, Value> {
    let last = names.len().saturating_sub(1);
    names
        .iter()
        .zip(values)
        .enumerate()
        .map(|(i, (name, value))| {
            let map_key =
                if keying == VariationKeying::RenamedMapKey && i == 0 { format!("k{i}") } else { name.clone() };
            let key = match (keying, names.first()) {
                (VariationKeying::SharedKey, Some(first)) if i == last => first.clone(),
                _ => name.clone(),
            };
            (map_key, json!({"key": key, "value": value}))
        })
        .collect()
}

/// Gives each allocation its key as `keying` says, from the key it was
/// drawn with.
fn key_allocations(allocations: &mut [Value], keying: AllocationKeying) {
    let mut taken: Vec<String> = Vec::with_capacity(allocations.len());
    for (i, allocation) in allocations.iter_mut().enumerate() {
        let base = allocation.get("key").and_then(Value::as_str).unwrap_or("alloc").to_owned();
        let key = match keying {
            AllocationKeying::Bare | AllocationKeying::SharedKey if !taken.contains(&base) => base,
            _ => format!("{base}-{i}"),
        };
        taken.push(key.clone());
        if let Some(map) = allocation.as_object_mut() {
            map.insert("key".into(), Value::from(key));
        }
    }
    if let (AllocationKeying::SharedKey, [first, .., last]) = (keying, allocations) {
        if let (Some(key), Some(map)) = (first.get("key").cloned(), last.as_object_mut()) {
            map.insert("key".into(), key);
        }
    }
}

/// One flag (its `key` is filled in by [`flag_scenario`]): any variation
/// type, 1–3 variations, 0–3 allocations, any `totalShards`, occasionally
/// disabled, with edge strings for variation and allocation keys, and now
/// and then a variation whose map key differs from its `key` field (spec
/// 8.14), two variations sharing a `key`, or two allocations sharing a key.
pub fn flag() -> BoxedStrategy<Value> {
    let shape = (select(&VariationType::ALL[..]), 1..=3_usize, select(TOTAL_SHARDS), prop::bool::weighted(0.9));
    let variation_keying = prop_oneof![
        22 => Just(VariationKeying::Plain),
        1 => Just(VariationKeying::RenamedMapKey),
        1 => Just(VariationKeying::SharedKey),
    ];
    let allocation_keying = prop_oneof![
        14 => Just(AllocationKeying::Suffixed),
        5 => Just(AllocationKeying::Bare),
        1 => Just(AllocationKeying::SharedKey),
    ];
    shape
        .prop_flat_map(move |(variation_type, variation_count, total_shards, enabled)| {
            let names = prop::collection::vec(prop::option::weighted(0.1, edge_string()), variation_count)
                .prop_map(variation_names);
            (
                Just((variation_type, total_shards, enabled)),
                names,
                prop::collection::vec(variation_value(variation_type), variation_count),
                variation_keying.clone(),
                allocation_keying.clone(),
            )
        })
        .prop_flat_map(|(flag_shape, names, values, variation_keying, allocation_keying)| {
            let total_shards = flag_shape.1;
            let allocations = prop_oneof![
                1 => Just(Vec::new()),
                10 => prop::collection::vec(allocation(names.clone(), total_shards), 1..=3),
            ];
            (Just((flag_shape, variations(&names, values, variation_keying), allocation_keying)), allocations)
        })
        .prop_map(
            |(((variation_type, total_shards, enabled), variations, allocation_keying), mut allocations): (
                _,
                Vec<Value>,
            )| {
                key_allocations(&mut allocations, allocation_keying);
                json!({
                    "key": "",
                    "enabled": enabled,
                    "variationType": variation_type.as_str(),
                    "variations": variations,
                    "allocations": allocations,
                    "totalShards": total_shards,
                })
            },
        )
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

fn flag_with_requests(subjects: RangeInclusive<usize>) -> BoxedStrategy<(Value, Vec<Request>)> {
    flag()
        .prop_flat_map(move |flag| {
            let requests = repeated(flag_request(&flag), subjects.clone());
            (Just(flag), requests)
        })
        .boxed()
}

/// How many flags a flag scenario has, and how many subjects each flag is
/// evaluated for: the fuzzer's knob for cases per configuration. Every
/// `configure` costs a party a full parse of the document, so many subjects
/// on few flags give many cases for one parse, while the document's size
/// depends on the flags only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioShape {
    /// Flags per document.
    pub flags: RangeInclusive<usize>,
    /// Subjects (cases) per flag.
    pub subjects_per_flag: RangeInclusive<usize>,
}

impl ScenarioShape {
    /// 1–3 flags, 1–8 subjects each: small scenarios for the property
    /// tests and for minimizing.
    pub const SMALL: ScenarioShape = ScenarioShape { flags: 1..=3, subjects_per_flag: 1..=8 };

    /// About `cases` cases on 1–3 flags: each flag gets between half and
    /// the whole of `cases / 2` subjects (at least one), so a document
    /// averages `cases` cases.
    pub fn dense(cases: usize) -> ScenarioShape {
        let per_flag = (cases / 2).max(1);
        ScenarioShape { flags: 1..=3, subjects_per_flag: (per_flag / 2).max(1)..=per_flag }
    }
}

/// 1–3 flags and, for each, 1–8 subjects to evaluate
/// ([`ScenarioShape::SMALL`]).
pub fn flag_scenario() -> BoxedStrategy<Scenario> {
    flag_scenario_shaped(ScenarioShape::SMALL)
}

/// Flags and their subjects, as many as `shape` says. Flag keys are drawn
/// with edges; a key already taken in the document gets `-<index>`.
pub fn flag_scenario_shaped(shape: ScenarioShape) -> BoxedStrategy<Scenario> {
    let flag_key = prop_oneof![
        3 => select(FLAG_KEY_BASES).prop_map(|base| (base.to_owned(), true)),
        1 => with_edges(FLAG_KEY_BASES).prop_map(|key| (key, false)),
    ];
    prop::collection::vec((flag_key, flag_with_requests(shape.subjects_per_flag)), shape.flags)
        .prop_map(|flags| {
            let mut document = Map::new();
            let mut cases = Vec::new();
            for (index, ((base, suffixed), (mut flag, requests))) in flags.into_iter().enumerate() {
                let key = if suffixed || document.contains_key(&base) { format!("{base}-{index}") } else { base };
                if let Some(map) = flag.as_object_mut() {
                    map.insert("key".into(), Value::from(key.as_str()));
                }
                document.insert(key.clone(), flag);
                cases.extend(requests.into_iter().map(|(subject_key, attributes, requested)| {
                    CaseInput::Flag(FlagCase {
                        flag: key.clone(),
                        variation_type: crate::wire_type(requested),
                        default_value: default_value(requested),
                        subject_key,
                        subject_attributes: attributes,
                    })
                }))
            }
            Scenario { flags: configuration_document(document, None), bandit_models: None, cases }
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
