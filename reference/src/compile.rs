//! Wire → evaluation types. Everything that can be prepared once is
//! prepared here: salts pre-hashed, regexes and semver comparands compiled,
//! dates parsed, variation values converted to the flag's type.

use std::collections::HashMap;

use serde_json::Value;

use crate::config::{Allocation, Flag, Rule, ShardRange, ShardRule, Split, Variation};
use crate::error::{expected, json_path, member, FlagConfigError};
use crate::rules::Condition;
use crate::shard::Sharder;
use crate::value::VariationType;
use crate::wire::{AllocationWire, FlagWire, SplitWire};
use crate::Timestamp;

/// Compiles one flag from its raw JSON. `path` is where the flag sits in
/// the document, for error messages.
pub(crate) fn compile_flag(key: &str, raw: &Value, path: &str) -> Result<Flag, FlagConfigError> {
    let wire: FlagWire = serde_path_to_error::deserialize(raw).map_err(|err| {
        let at = json_path(path, err.path());
        FlagConfigError::new(key, at, expected(err.inner()))
    })?;
    let variation_type = VariationType::parse(&wire.variation_type).ok_or_else(|| {
        FlagConfigError::new(
            key,
            member(path, "variationType"),
            format!("expected one of STRING, INTEGER, NUMERIC, BOOLEAN, JSON, found {:?}", wire.variation_type),
        )
    })?;
    let total_shards = u32::try_from(wire.total_shards).ok().filter(|n| *n > 0).ok_or_else(|| {
        FlagConfigError::new(
            key,
            member(path, "totalShards"),
            format!("expected a positive integer number of shards, found {}", wire.total_shards),
        )
    })?;

    // Variations are looked up by their `key` field, as the RS core does
    // (spec section 8.14).
    let variations = wire
        .variations
        .into_values()
        .map(|v| {
            let typed = variation_type.convert(&v.value);
            (v.key.clone(), Variation { key: v.key, raw: v.value, typed })
        })
        .collect::<HashMap<_, _>>();

    let rules_raw = |index: usize| raw.get("allocations").and_then(|a| a.get(index)).and_then(|a| a.get("rules"));
    let allocations = wire
        .allocations
        .into_iter()
        .enumerate()
        .map(|(index, allocation)| {
            let at = format!("{}[{index}]", member(path, "allocations"));
            compile_allocation(key, allocation, rules_raw(index), total_shards, &at)
        })
        .collect::<Result<Vec<_>, _>>()?;

    Ok(Flag { key: wire.key, enabled: wire.enabled, variation_type, variations, allocations, total_shards })
}

fn compile_allocation(
    flag_key: &str,
    wire: AllocationWire,
    raw_rules: Option<&Value>,
    total_shards: u32,
    path: &str,
) -> Result<Allocation, FlagConfigError> {
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
            conditions: rule
                .conditions
                .iter()
                .map(|c| Condition::compile(&c.attribute, &c.operator, &c.value))
                .collect(),
            // Details echo the rule as written in the configuration.
            raw: raw_rules.and_then(|rules| rules.get(index)).cloned().unwrap_or(Value::Null),
        })
        .collect();
    let splits = wire
        .splits
        .into_iter()
        .enumerate()
        .map(|(index, split)| compile_split(flag_key, split, total_shards, &format!("{}[{index}]", member(path, "splits"))))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Allocation { key: wire.key, rules, start_at, end_at, splits, do_log: wire.do_log })
}

fn compile_split(flag_key: &str, wire: SplitWire, total_shards: u32, path: &str) -> Result<Split, FlagConfigError> {
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
                            format!("expected shard bounds within 0..=4294967295, found {}..{}", range.start, range.end),
                        )),
                    }
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(ShardRule { sharder: Sharder::new(&shard.salt, total_shards), ranges })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut extra_logging: Vec<(String, String)> = wire.extra_logging.unwrap_or_default().into_iter().collect();
    extra_logging.sort();
    Ok(Split { shards, variation_key: wire.variation_key, extra_logging })
}
