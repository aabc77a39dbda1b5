//! Shards: the random shard ranges of generated splits, and flags whose
//! splits partition the shard space exactly (for the properties that every
//! subject is assigned and that assignment follows the ranges' sizes).

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Map, Value};

use crate::edges::with_edges;
use crate::flags::configuration_document;

/// Shard counts: the usual 10000, some unusual ones, and the largest the
/// reference reads (`u32::MAX`; one more, like 0 and fractions, fails the
/// flag and is left to [`crate::malformed`]).
pub const TOTAL_SHARDS: &[u32] = &[1, 2, 7, 10, 100, 1000, 10_000, 65_536, u32::MAX];

pub(crate) const SALTS: &[&str] = &["salt", "exp-salt", "traffic", "É", "🙂", "a-b", ""];

/// Ranges at the edges that the reference still reads: empty at either
/// end, the last shard alone, inverted (`start > end`, matching nothing),
/// and reaching past `totalShards` to `u32::MAX`.
fn edge_ranges(total_shards: u32) -> Vec<Value> {
    let last = total_shards.saturating_sub(1);
    vec![
        json!({"start": 0, "end": 0}),
        json!({"start": total_shards, "end": total_shards}),
        json!({"start": last, "end": total_shards}),
        json!({"start": total_shards, "end": last}),
        json!({"start": 0, "end": u32::MAX}),
        json!({"start": last, "end": u32::MAX}),
    ]
}

fn shard_range(total_shards: u32) -> BoxedStrategy<Value> {
    prop_oneof![
        2 => Just(json!({"start": 0, "end": total_shards})),
        1 => select(edge_ranges(total_shards)),
        3 => (0..=total_shards)
            .prop_flat_map(move |start| (Just(start), start..=total_shards))
            .prop_map(|(start, end)| json!({"start": start, "end": end})),
    ]
    .boxed()
}

pub(crate) fn shard(total_shards: u32) -> BoxedStrategy<Value> {
    (with_edges(SALTS), prop::collection::vec(shard_range(total_shards), 1..=2))
        .prop_map(|(salt, ranges)| json!({"salt": salt, "ranges": ranges}))
        .boxed()
}

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
