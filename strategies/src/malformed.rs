//! Malformed configurations: valid generated flags with one to three spots
//! damaged (a field replaced by a wrongly typed value, or removed), and
//! documents whose top is broken too.

use proptest::prelude::*;
use proptest::sample::{select, Index};
use serde_json::{json, Value};

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
