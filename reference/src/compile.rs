//! Wire → evaluation types. Everything that can be prepared once is
//! prepared here: salts pre-hashed, regexes and semver comparands compiled,
//! dates parsed, variation values converted to the flag's type.

use std::sync::Arc;

use serde_json::Value;

use crate::error::{expected, json_path, member, ConditionError, FlagConfigError};
use crate::flag::{Allocation, Flag, Rule, ShardRange, ShardRule, Split, Variation};
use crate::keymap::KeyMap;
use crate::obfuscation::Naming;
use crate::rules::Condition;
use crate::shard::Sharder;
use crate::value::{render_raw_value, TypedValue, VariationType};
use crate::wire::{AllocationWire, ConditionWire, FlagWire, SplitWire, VariationWire};
use crate::Timestamp;

/// Compiles one flag from its raw JSON. `path` is where the flag sits in
/// the document, for error messages; `naming` says how its conditions
/// write attribute names and ONE_OF values.
pub(crate) fn compile_flag(key: &str, raw: &Value, path: &str, naming: Naming) -> Result<Flag, FlagConfigError> {
    let wire: FlagWire = serde_path_to_error::deserialize(raw).map_err(|err| {
        let at = json_path(path, err.path());
        FlagConfigError::new(key, at, expected(err.inner()))
    })?;
    let variation_type = variation_type_at(key, &wire.variation_type, path)?;
    // `totalShards: 0` loads, as in RS: only a split that needs the
    // subject's shard cannot be evaluated (RS panics there, JS never admits),
    // so the flag fails where evaluation reaches such a split (`eval`).
    let total_shards = u32::try_from(wire.total_shards).map_err(|_| {
        FlagConfigError::new(
            key,
            member(path, "totalShards"),
            format!("expected a number of shards within 0..=4294967295, found {}", wire.total_shards),
        )
    })?;
    let shard_error = (total_shards == 0).then(|| {
        FlagConfigError::new(key, member(path, "totalShards"), "no subject has a shard when totalShards is 0")
    });

    // Variations are looked up by their `key` field, as the RS core does
    // (spec section 8.14). When two share a `key`, the answer must not hang
    // on a hash map's order (it would differ from process to process): the
    // one stored under that key wins, else the one under the greatest map
    // key. Later entries replace earlier ones, so the winner goes last.
    let mut entries: Vec<(String, VariationWire)> = wire.variations.into_iter().collect();
    entries.sort_by(|(a_name, a), (b_name, b)| (*a_name == a.key, a_name).cmp(&(*b_name == b.key, b_name)));
    if let Some((name, _)) = entries.iter().find(|(_, v)| !is_scalar(&v.value)) {
        let at = format!("{}.value", member(&member(path, "variations"), name));
        return Err(FlagConfigError::new(key, at, "expected a bool, a number or a string"));
    }
    let variations = entries
        .into_iter()
        .map(|(_, v)| v)
        .map(|v| {
            let typed = variation_type.convert(&v.value);
            let details_value = Arc::new(typed.as_ref().map_or_else(|| v.value.clone(), TypedValue::to_json));
            let assignment_error = typed.is_none().then(|| {
                format!(
                    "Variation ({}) is configured for type {variation_type}, but is set to incompatible value ({})",
                    v.key,
                    render_raw_value(&v.value)
                )
                .into_boxed_str()
            });
            (v.key.clone(), Variation { key: v.key, raw: v.value, typed, details_value, assignment_error })
        })
        .collect::<KeyMap<_>>();

    let rules_raw = |index: usize| raw.get("allocations").and_then(|a| a.get(index)).and_then(|a| a.get("rules"));
    let mut salts = Salts { key, total_shards, seen: Vec::new() };
    let allocations = wire
        .allocations
        .into_iter()
        .enumerate()
        .map(|(index, allocation)| {
            let at = format!("{}[{index}]", member(path, "allocations"));
            compile_allocation(allocation, rules_raw(index), naming, &mut salts, &at)
        })
        .collect::<Result<Vec<_>, _>>()?;

    Ok(Flag {
        key: wire.key,
        enabled: wire.enabled,
        variation_type,
        variations,
        allocations,
        total_shards,
        distinct_salts: salts.seen.len(),
        shard_error,
    })
}

/// Whether a variation value is a bool, a number or a string. Anything else
/// (null, an array, an object) makes the whole flag unreadable, as in RS.
/// JS and the JVM load such a flag and fail only that variation, PY drops
/// the configuration: the cores disagree, so values follow RS (spec
/// precedence rule 3).
fn is_scalar(value: &Value) -> bool {
    matches!(value, Value::Bool(_) | Value::Number(_) | Value::String(_))
}

/// Reads the `variationType` of the flag (or precomputed entry) at `path`.
pub(crate) fn variation_type_at(key: &str, text: &str, path: &str) -> Result<VariationType, FlagConfigError> {
    VariationType::parse(text).ok_or_else(|| {
        FlagConfigError::new(
            key,
            member(path, "variationType"),
            format!("expected one of STRING, INTEGER, NUMERIC, BOOLEAN, JSON, found {text:?}"),
        )
    })
}

/// What shard compilation needs to know about the flag: its key (for
/// errors), its shard count, and the salts numbered so far.
struct Salts<'k> {
    key: &'k str,
    total_shards: u32,
    seen: Vec<String>,
}

impl Salts<'_> {
    /// The number of `salt` within the flag, numbering it if new.
    fn index(&mut self, salt: &str) -> usize {
        match self.seen.iter().position(|s| s == salt) {
            Some(index) => index,
            None => {
                self.seen.push(salt.to_owned());
                self.seen.len() - 1
            }
        }
    }
}

/// Whether `ranges` cover every shard of `[0, total)`. With no shards at
/// all (`totalShards: 0`) that is RS's test: a range written as exactly
/// `0..0` admits without hashing; anything else needs a shard there is not.
fn covers_every_shard(ranges: &[ShardRange], total: u32) -> bool {
    if total == 0 {
        return ranges.contains(&ShardRange { start: 0, end: 0 });
    }
    let mut sorted: Vec<ShardRange> = ranges.iter().copied().filter(|r| r.start < r.end).collect();
    sorted.sort_by_key(|r| r.start);
    let mut covered = 0u32;
    for range in sorted {
        if range.start > covered {
            return false;
        }
        covered = covered.max(range.end);
    }
    covered >= total
}

fn compile_allocation(
    wire: AllocationWire,
    raw_rules: Option<&Value>,
    naming: Naming,
    salts: &mut Salts<'_>,
    path: &str,
) -> Result<Allocation, FlagConfigError> {
    let flag_key = salts.key;
    let date = |field: &str, value: Option<String>| -> Result<Option<Timestamp>, FlagConfigError> {
        value
            .map(|text| {
                chrono::DateTime::parse_from_rfc3339(&text).map(|t| t.to_utc()).map_err(|err| {
                    FlagConfigError::new(
                        flag_key,
                        member(path, field),
                        format!("expected an RFC 3339 date-time, found {text:?} ({err})"),
                    )
                })
            })
            .transpose()
    };
    let start_at = date("startAt", wire.start_at)?;
    let end_at = date("endAt", wire.end_at)?;
    let rules = wire
        .rules
        .into_iter()
        .enumerate()
        .map(|(index, rule)| Rule {
            conditions: rule.conditions.iter().map(|raw| compile_condition(raw, naming)).collect(),
            // Details echo the rule as written in the configuration.
            raw: Arc::new(raw_rules.and_then(|rules| rules.get(index)).cloned().unwrap_or(Value::Null)),
        })
        .collect();
    let splits = wire
        .splits
        .into_iter()
        .enumerate()
        .map(|(index, split)| compile_split(split, salts, &format!("{}[{index}]", member(path, "splits"))))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Allocation { key: wire.key.into(), rules, start_at, end_at, splits, do_log: wire.do_log })
}

/// One condition from its raw JSON; one that cannot be read becomes a
/// condition that is always false (see [`crate::wire::RuleWire`]).
fn compile_condition(raw: &Value, naming: Naming) -> Condition {
    match serde_json::from_value::<ConditionWire>(raw.clone()) {
        Ok(c) => Condition::compile_named(&c.attribute, &c.operator, &c.value, naming),
        Err(err) => Condition::unreadable(ConditionError::Unreadable { message: expected(&err) }),
    }
}

fn compile_split(wire: SplitWire, salts: &mut Salts<'_>, path: &str) -> Result<Split, FlagConfigError> {
    let (flag_key, total_shards) = (salts.key, salts.total_shards);
    let shards = wire
        .shards
        .into_iter()
        .enumerate()
        .map(|(index, shard)| {
            let ranges = shard
                .ranges
                .into_iter()
                .enumerate()
                .map(|(r, range)| {
                    let start = u32::try_from(range.start);
                    let end = u32::try_from(range.end);
                    match (start, end) {
                        (Ok(start), Ok(end)) => Ok(ShardRange { start, end }),
                        _ => Err(FlagConfigError::new(
                            flag_key,
                            format!("{}[{index}].ranges[{r}]", member(path, "shards")),
                            format!(
                                "expected shard bounds within 0..=4294967295, found {}..{}",
                                range.start, range.end
                            ),
                        )),
                    }
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(ShardRule {
                sharder: Sharder::new(&shard.salt, total_shards),
                always_admits: covers_every_shard(&ranges, total_shards),
                salt_index: salts.index(&shard.salt),
                ranges,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut extra_logging: Vec<(String, String)> = wire.extra_logging.into_iter().collect();
    extra_logging.sort();
    Ok(Split { shards, variation_key: wire.variation_key.into(), extra_logging })
}
