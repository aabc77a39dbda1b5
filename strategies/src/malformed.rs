//! Malformed configurations: valid generated flags with one to three spots
//! damaged (a field replaced by a wrongly typed value, or removed, or a
//! strictly read field given an edge value the reference rejects), and
//! documents whose top is broken too; for the parser's never-panics
//! properties, arbitrary JSON and fixed one-flag documents (SERVER and
//! CLIENT) with one field replaced by it.

use proptest::prelude::*;
use proptest::sample::{select, Index};
use serde_json::{json, Value};

use crate::dates::invalid_dates;
use crate::flags::flag_scenario;
use crate::Scenario;

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

/// A field the reference reads strictly (the whole flag fails on a bad
/// value, spec 8.12–8.13) where the JS core is lenient or reads its own way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StrictField {
    TotalShards,
    RangeStart,
    RangeEnd,
    StartAt,
    EndAt,
}

impl StrictField {
    fn name(self) -> &'static str {
        match self {
            StrictField::TotalShards => "totalShards",
            StrictField::RangeStart => "start",
            StrictField::RangeEnd => "end",
            StrictField::StartAt => "startAt",
            StrictField::EndAt => "endAt",
        }
    }

    /// Edge values the reference rejects in this field: shard counts of 0,
    /// negative, past `u32::MAX` or written as floats (`-0.0`, `100.0`,
    /// fractions, `1e20`) or strings; range bounds likewise (0 is a valid
    /// bound); dates that are not RFC 3339.
    fn rejected_values(self) -> Vec<Value> {
        let out_of_u32 = [
            json!(-1),
            json!(u64::from(u32::MAX) + 1),
            json!(i64::MAX),
            json!((1_u64 << 53) + 1),
            json!(u64::MAX),
            json!(i64::MIN),
            Value::from(-0.0),
            Value::from(100.0),
            json!(0.5),
            json!(99.5),
            Value::from(1e20),
            json!("100"),
        ];
        match self {
            StrictField::TotalShards => out_of_u32.into_iter().chain([json!(0)]).collect(),
            StrictField::RangeStart | StrictField::RangeEnd => out_of_u32.into_iter().collect(),
            StrictField::StartAt | StrictField::EndAt => invalid_dates(),
        }
    }

    /// Pointers of the objects in `flags` (a whole document) that hold
    /// this field or, for dates, may hold it.
    fn holders(self, document: &Value) -> Vec<String> {
        let escape = |key: &str| key.replace('~', "~0").replace('/', "~1");
        let items =
            |value: &Value, field: &str| value.get(field).and_then(Value::as_array).cloned().unwrap_or_default();
        let mut out = Vec::new();
        let Some(flags) = document.get("flags").and_then(Value::as_object) else { return out };
        for (key, flag) in flags {
            let at = format!("/flags/{}", escape(key));
            if self == StrictField::TotalShards {
                out.push(at);
                continue;
            }
            for (a, allocation) in items(flag, "allocations").iter().enumerate() {
                let at = format!("{at}/allocations/{a}");
                if matches!(self, StrictField::StartAt | StrictField::EndAt) {
                    out.push(at);
                    continue;
                }
                for (s, split) in items(allocation, "splits").iter().enumerate() {
                    for (h, shard) in items(split, "shards").iter().enumerate() {
                        for r in 0..items(shard, "ranges").len() {
                            out.push(format!("{at}/splits/{s}/shards/{h}/ranges/{r}"));
                        }
                    }
                }
            }
        }
        out
    }
}

/// One damaged spot: anywhere with any [`damage`], or a strict field with
/// a value the reference rejects there.
#[derive(Debug, Clone)]
enum Spot {
    Anywhere(Index, Damage),
    Strict(StrictField, Index, Index),
}

fn spot() -> BoxedStrategy<Spot> {
    let field = select(vec![
        StrictField::TotalShards,
        StrictField::RangeStart,
        StrictField::RangeEnd,
        StrictField::StartAt,
        StrictField::EndAt,
    ]);
    prop_oneof![
        2 => (any::<Index>(), damage()).prop_map(|(at, damage)| Spot::Anywhere(at, damage)),
        1 => (field, any::<Index>(), any::<Index>()).prop_map(|(field, at, value)| Spot::Strict(field, at, value)),
    ]
    .boxed()
}

/// Damages one to three spots inside the `flags` map of `document`.
fn damaged_flags(scenario: Scenario, spots: Vec<Spot>) -> Scenario {
    let mut flags = scenario.flags;
    for spot in spots {
        match spot {
            Spot::Anywhere(index, damage) => {
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
            Spot::Strict(field, at, value) => {
                let holders = field.holders(&flags);
                if holders.is_empty() {
                    continue;
                }
                let value = value.get(&field.rejected_values()).clone();
                let holder: &String = at.get(&holders);
                if let Some(holder) = flags.pointer_mut(holder).and_then(Value::as_object_mut) {
                    holder.insert(field.name().to_owned(), value);
                }
            }
        }
    }
    Scenario { flags, ..scenario }
}

/// A scenario whose flags have one to three spots damaged (a field
/// replaced by a wrongly typed value, or removed), the top of the document
/// staying a UFC document. The JS core's leniencies of spec 8.12–8.13
/// (`rules: null`, dates that are not RFC 3339, negative ranges, unknown
/// types, a missing `doLog`) all arise from such damage; one spot in three
/// is a strict field (`totalShards`, a range bound, `startAt`, `endAt`)
/// given an edge value the reference rejects.
pub fn malformed_scenario() -> BoxedStrategy<Scenario> {
    (flag_scenario(), prop::collection::vec(spot(), 1..=3))
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
// Arbitrary JSON, for the parser's never-panics properties

/// Arbitrary JSON up to five levels deep, its keys and strings biased
/// towards UFC's field names, operators and spellings so that the parser
/// gets past the first level now and then.
pub fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("JSON numbers are finite", |f| f.is_finite()).prop_map(Value::from),
        prop_oneof![
            Just("STRING".to_owned()),
            Just("ONE_OF".to_owned()),
            Just("MATCHES".to_owned()),
            Just("GT".to_owned()),
            Just("IS_NULL".to_owned()),
            Just("(".to_owned()),
            Just("1.2.3".to_owned()),
            Just("2024-01-01T00:00:00Z".to_owned()),
            ".{0,8}"
        ]
        .prop_map(Value::from),
    ];
    let keys = prop_oneof![
        Just("flags".to_owned()),
        Just("key".to_owned()),
        Just("enabled".to_owned()),
        Just("variationType".to_owned()),
        Just("variations".to_owned()),
        Just("allocations".to_owned()),
        Just("totalShards".to_owned()),
        Just("rules".to_owned()),
        Just("conditions".to_owned()),
        Just("splits".to_owned()),
        Just("shards".to_owned()),
        Just("ranges".to_owned()),
        Just("value".to_owned()),
        "[a-z]{1,6}"
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((keys.clone(), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

/// A valid one-flag SERVER document (flag `f`) with one field replaced by
/// [`arbitrary_json`]: the document's shape stays intact.
pub fn damaged_configuration() -> impl Strategy<Value = Value> {
    let base = json!({
        "environment": {"name": "Prop"},
        "flags": {"f": {
            "key": "f", "enabled": true, "variationType": "STRING", "totalShards": 100,
            "variations": {"a": {"key": "a", "value": "A"}},
            "allocations": [{"key": "al", "rules": [{"conditions": [{"attribute": "x", "operator": "GT", "value": 1}]}],
                "splits": [{"variationKey": "a", "shards": [{"salt": "s", "ranges": [{"start": 0, "end": 50}]}]}]}]
        }}
    });
    let pointers = prop_oneof![
        Just("/flags/f/variationType"),
        Just("/flags/f/totalShards"),
        Just("/flags/f/variations"),
        Just("/flags/f/variations/a/value"),
        Just("/flags/f/allocations"),
        Just("/flags/f/allocations/0/rules"),
        Just("/flags/f/allocations/0/rules/0/conditions/0/operator"),
        Just("/flags/f/allocations/0/rules/0/conditions/0/value"),
        Just("/flags/f/allocations/0/splits/0/shards/0/ranges/0/end"),
        Just("/flags/f/allocations/0/splits/0/variationKey"),
        Just("/flags/f"),
    ];
    (pointers, arbitrary_json()).prop_map(move |(pointer, replacement)| {
        let mut config = base.clone();
        if let Some(slot) = config.pointer_mut(pointer) {
            *slot = replacement;
        }
        config
    })
}

/// A valid CLIENT-format (obfuscated) document of one flag (`f`) with one
/// field replaced by [`arbitrary_json`].
pub fn damaged_client_configuration() -> impl Strategy<Value = Value> {
    use base64::Engine;
    let b64 = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
    let md5 = ufc_reference::obfuscation::md5_hex;
    let base = json!({
        "format": "CLIENT", "environment": {"name": "Prop"},
        "flags": {md5("f"): {
            "key": md5("f"), "enabled": true, "variationType": "STRING", "totalShards": 100,
            "variations": {b64("a"): {"key": b64("a"), "value": b64("A")}},
            "allocations": [{"key": b64("al"), "startAt": b64("2001-01-01T00:00:00Z"),
                "rules": [{"conditions": [{"attribute": md5("x"), "operator": md5("ONE_OF"), "value": [md5("2")]}]}],
                "splits": [{"variationKey": b64("a"), "extraLogging": {b64("k"): b64("v")},
                    "shards": [{"salt": b64("s"), "ranges": [{"start": 0, "end": 50}]}]}]}]
        }}
    });
    let f = md5("f");
    let pointers = prop_oneof![
        Just("/variations"),
        Just("/variations/YQ==/value"),
        Just("/allocations/0/key"),
        Just("/allocations/0/startAt"),
        Just("/allocations/0/rules/0/conditions/0/operator"),
        Just("/allocations/0/rules/0/conditions/0/attribute"),
        Just("/allocations/0/rules/0/conditions/0/value"),
        Just("/allocations/0/splits/0/variationKey"),
        Just("/allocations/0/splits/0/extraLogging"),
        Just("/allocations/0/splits/0/shards/0/salt"),
        Just(""),
    ];
    (pointers, arbitrary_json()).prop_map(move |(pointer, replacement)| {
        let mut config = base.clone();
        if let Some(slot) = config.pointer_mut(&format!("/flags/{f}{pointer}")) {
            *slot = replacement;
        }
        config
    })
}
