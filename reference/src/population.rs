//! Who a flag's allocations admit, and the share of a population each
//! variation and allocation gets: the evaluator's own date and rule checks,
//! asked per allocation, and its shard ranges read as probabilities.
//!
//! **Eligibility** ([`Configuration::allocation_eligibility`]) is the
//! evaluator's verdict on one allocation before traffic: `startAt`/`endAt`
//! and the rules, with attribute names hashed for a CLIENT configuration and
//! `id` falling back to the subject key, exactly as evaluation does.
//!
//! **Shares** ([`Configuration::population_shares`]) are for a population of
//! subjects that all have the same attributes at the same "now": every
//! allocation is then decided once, and only the shard of each salt varies
//! from subject to subject. The shares are enumerated exactly:
//!
//! * Each distinct salt is modelled as an independent shard value `s` in
//!   `[0, totalShards)`, with `P(s)` = (number of 32-bit values `v` with
//!   `v % totalShards == s`) / 2³²: the first four MD5 bytes modulo
//!   `totalShards` if MD5 is uniform, modulo bias included (for 10,000
//!   shards a 50 % range covers 50.00006 %).
//! * The range bounds of every shard of every eligible allocation cut each
//!   salt's shard space into intervals whose members all match or all miss
//!   every shard rule. Every combination of one interval per salt (at most
//!   [`MAX_COMBINATIONS`]) walks the eligible allocations in order, as the
//!   evaluator does; its probability goes to the first split all of whose
//!   shards match, or to the default when none does. A split naming a
//!   variation the flag does not define, or whose value does not convert to
//!   the flag's type, serves the default, so its share goes there too.
//!
//! Two shards with the same salt are perfectly correlated, which the
//! enumeration honours. A rule on `id` when the attributes carry no `id`
//! reads the subject key, so its verdict varies per subject: such a flag has
//! no shares ([`SharesError::VariesBySubject`]).

use std::collections::HashMap;

use crate::codes::AllocationEvaluationCode;
use crate::config::Configuration;
use crate::error::{FlagConfigError, FlagLookupError};
use crate::eval::{eligibility, named_attributes};
use crate::flag::{Allocation, Flag, FlagEntry, Rule, ShardRule};
use crate::value::Attributes;
use crate::Timestamp;

/// The most salt-interval combinations the shares are enumerated over.
pub const MAX_COMBINATIONS: u64 = 1 << 22;

/// One allocation's verdict for a subject, before traffic.
#[derive(Debug, Clone, Copy)]
pub struct AllocationEligibility<'c> {
    /// 0-based position in the flag.
    pub index: usize,
    /// The allocation.
    pub allocation: &'c Allocation,
    /// `Ok` with the first passing rule (`None` when it has no rules), or
    /// the code that rejects it (`BEFORE_START_TIME`, `AFTER_END_TIME`,
    /// `FAILING_RULE`).
    pub verdict: Result<Option<&'c Rule>, AllocationEvaluationCode>,
    /// The dates admit the subject and a rule reads `id`, which the
    /// attributes lack: the verdict used the subject key, and another
    /// subject with the same attributes may get another one.
    pub reads_subject_key: bool,
}

impl AllocationEligibility<'_> {
    /// Whether the allocation may serve the subject (traffic permitting).
    pub fn is_eligible(&self) -> bool {
        self.verdict.is_ok()
    }
}

/// The share of a population one allocation decides.
#[derive(Debug, Clone, Copy)]
pub struct AllocationShare<'c> {
    /// Its eligibility for the population.
    pub eligibility: AllocationEligibility<'c>,
    /// The share of subjects for which one of its splits decides (whether
    /// or not the split's variation can be served).
    pub share: f64,
}

/// The share of a population one variation is served.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VariationShare<'c> {
    /// The variation key.
    pub key: &'c str,
    /// The share of subjects served it.
    pub share: f64,
}

/// The shares a population with the same attributes would get.
#[derive(Debug, Clone)]
pub struct PopulationShares<'c> {
    /// The flag.
    pub flag: &'c Flag,
    /// Every allocation, in order.
    pub allocations: Vec<AllocationShare<'c>>,
    /// Every variation the flag defines, in the order its splits first name
    /// them, then the others by key.
    pub variations: Vec<VariationShare<'c>>,
    /// The share served the caller's default: no allocation decides, the
    /// flag is disabled, or the deciding split's variation cannot be served.
    pub default: f64,
}

/// Why a flag has no shares.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SharesError {
    /// The flag is missing or cannot be read.
    #[error(transparent)]
    Flag(#[from] FlagLookupError),
    /// An eligible allocation's rule reads the subject key.
    #[error(
        "allocation {allocation:?} has a rule on \"id\", which falls back to the subject key when the attributes have \
         no \"id\": its outcome varies per subject, so the expected shares cannot be computed (pass an \"id\" \
         attribute to fix it)"
    )]
    VariesBySubject {
        /// The allocation key.
        allocation: String,
    },
    /// `totalShards` is 0 and an eligible allocation has a shard rule that
    /// must hash: evaluation fails there, so there are no shares.
    #[error("allocation {allocation:?} needs the subject's shard, but the flag has totalShards 0")]
    NoShards {
        /// The allocation key.
        allocation: String,
    },
    /// The ranges cut the shard spaces into too many combinations.
    #[error(
        "the eligible allocations use {salts} salts whose ranges combine {combinations} ways (more than {max}): the \
         expected shares are not enumerated"
    )]
    TooManyCombinations {
        /// Distinct salts of the eligible allocations.
        salts: usize,
        /// Interval combinations (saturating).
        combinations: u64,
        /// [`MAX_COMBINATIONS`].
        max: u64,
    },
}

impl Configuration {
    /// The compiled flag under `key`, or why there is none.
    pub fn valid_flag(&self, key: &str) -> Result<&Flag, FlagLookupError> {
        match self.flag(key) {
            Some(FlagEntry::Valid(flag)) => Ok(flag),
            Some(FlagEntry::Invalid(err)) => {
                Err(FlagLookupError::Invalid { flag: key.to_owned(), source: Box::new(FlagConfigError::clone(err)) })
            }
            None => Err(FlagLookupError::Unknown { flag: key.to_owned() }),
        }
    }

    /// Each allocation of `flag_key` judged for one subject at `now`, with
    /// the evaluator's own date and rule checks (whether or not the flag is
    /// enabled).
    pub fn allocation_eligibility<'c>(
        &'c self,
        flag_key: &str,
        subject_key: &str,
        attributes: &Attributes,
        now: Timestamp,
    ) -> Result<Vec<AllocationEligibility<'c>>, FlagLookupError> {
        let flag = self.valid_flag(flag_key)?;
        let attributes = named_attributes(self.naming(), attributes);
        Ok(judge(flag, subject_key, &attributes, now))
    }

    /// The exact share of a population of subjects with `attributes` at
    /// `now` that each allocation decides and each variation is served (see
    /// the module docs for the model).
    pub fn population_shares<'c>(
        &'c self,
        flag_key: &str,
        attributes: &Attributes,
        now: Timestamp,
    ) -> Result<PopulationShares<'c>, SharesError> {
        let flag = self.valid_flag(flag_key)?;
        let attributes = named_attributes(self.naming(), attributes);
        // The subject key matters only to a rule that reads it, which is
        // refused below.
        let judged = judge(flag, "", &attributes, now);
        shares(flag, judged)
    }
}

impl Flag {
    /// The share of each variation among the subjects allocation `index`
    /// serves: its splits' shard ranges read as probabilities (as
    /// [`Configuration::population_shares`] reads them), conditional on one
    /// of its splits admitting the subject. This is what an experiment's
    /// logged assignments should show. It assumes that reaching the
    /// allocation does not depend on its own salts (true unless an earlier
    /// allocation limits traffic with the same salt). Variations that
    /// cannot be served get no share; `None` when no split admits anyone
    /// or the index is out of range.
    pub fn allocation_variation_shares(&self, index: usize) -> Result<Option<Vec<VariationShare<'_>>>, SharesError> {
        if index >= self.allocations.len() {
            return Ok(None);
        }
        let judged = self
            .allocations
            .iter()
            .enumerate()
            .map(|(i, a)| AllocationEligibility {
                index: i,
                allocation: a,
                verdict: if i == index { Ok(None) } else { Err(AllocationEvaluationCode::FailingRule) },
                reads_subject_key: false,
            })
            .collect();
        let population = shares(self, judged)?;
        let served: f64 = population.variations.iter().map(|v| v.share).sum();
        if served <= 0.0 {
            return Ok(None);
        }
        let shares =
            population.variations.iter().map(|v| VariationShare { key: v.key, share: v.share / served }).collect();
        Ok(Some(shares))
    }
}

fn judge<'c>(
    flag: &'c Flag,
    subject_key: &str,
    attributes: &Attributes,
    now: Timestamp,
) -> Vec<AllocationEligibility<'c>> {
    flag.allocations
        .iter()
        .enumerate()
        .map(|(index, allocation)| {
            let verdict = eligibility(allocation, subject_key, attributes, now);
            let dated = !matches!(
                verdict,
                Err(AllocationEvaluationCode::BeforeStartTime | AllocationEvaluationCode::AfterEndTime)
            );
            let reads_subject_key = dated
                && allocation
                    .rules
                    .iter()
                    .flat_map(|r| &r.conditions)
                    .any(|c| c.id_fallback && !attributes.contains_key(&c.attribute));
            AllocationEligibility { index, allocation, verdict, reads_subject_key }
        })
        .collect()
}

impl Flag {
    /// The keys of the variations the flag defines, in the order its splits
    /// first name them, then the others by key: the order of
    /// [`PopulationShares::variations`].
    pub fn variation_keys_in_split_order(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = Vec::new();
        for key in self.allocations.iter().flat_map(|a| &a.splits).map(|s| &*s.variation_key) {
            if self.variations.contains_key(key) && !keys.contains(&key) {
                keys.push(key);
            }
        }
        let mut others: Vec<&str> = self.variations.keys().map(String::as_str).filter(|k| !keys.contains(k)).collect();
        others.sort_unstable();
        keys.extend(others);
        keys
    }
}

/// One salt's shard space cut into intervals by every range bound that
/// uses the salt.
struct SaltSpace<'f> {
    salt: &'f str,
    /// Interval starts, ascending, the first 0; each interval ends where the next starts.
    bounds: Vec<u32>,
    /// The probability of each interval.
    weights: Vec<f64>,
}

/// A shard rule over its salt's intervals.
struct ShardPlan {
    /// Index into the salt spaces.
    salt: usize,
    /// Whether the rule admits each interval.
    admitted: Vec<bool>,
}

/// A split: its shard rules and the variation it serves (`None`: the default).
struct SplitPlan {
    shards: Vec<ShardPlan>,
    served: Option<usize>,
}

fn shares<'c>(flag: &'c Flag, judged: Vec<AllocationEligibility<'c>>) -> Result<PopulationShares<'c>, SharesError> {
    let order = flag.variation_keys_in_split_order();
    let mut variations: Vec<VariationShare<'c>> = order.iter().map(|key| VariationShare { key, share: 0.0 }).collect();
    let mut allocations: Vec<AllocationShare<'c>> =
        judged.into_iter().map(|eligibility| AllocationShare { eligibility, share: 0.0 }).collect();
    if !flag.enabled {
        return Ok(PopulationShares { flag, allocations, variations, default: 1.0 });
    }
    if let Some(varying) = allocations.iter().find(|a| a.eligibility.reads_subject_key) {
        return Err(SharesError::VariesBySubject { allocation: varying.eligibility.allocation.key.to_string() });
    }
    let eligible: Vec<usize> =
        allocations.iter().filter(|a| a.eligibility.is_eligible()).map(|a| a.eligibility.index).collect();

    if flag.shard_error.is_some() {
        let hashes = |i: &&usize| flag.allocations[**i].splits.iter().flat_map(|s| &s.shards).any(|r| !r.always_admits);
        if let Some(&index) = eligible.iter().find(hashes) {
            return Err(SharesError::NoShards { allocation: flag.allocations[index].key.to_string() });
        }
    }
    // Cut each salt's shard space at every range bound that uses it.
    let total_shards = flag.total_shards;
    let mut spaces: Vec<SaltSpace<'_>> = Vec::new();
    let shard_rules = eligible.iter().flat_map(|&i| &flag.allocations[i].splits).flat_map(|s| &s.shards);
    for rule in shard_rules {
        let salt = rule.sharder.salt();
        let index = match spaces.iter().position(|s| s.salt == salt) {
            Some(index) => index,
            None => {
                spaces.push(SaltSpace { salt, bounds: vec![0], weights: Vec::new() });
                spaces.len() - 1
            }
        };
        for range in &rule.ranges {
            spaces[index].bounds.extend([range.start.min(total_shards), range.end.min(total_shards)]);
        }
    }
    let mut combinations: u64 = 1;
    for space in &mut spaces {
        space.bounds.sort_unstable();
        space.bounds.dedup();
        space.bounds.retain(|b| *b < total_shards);
        let ends = space.bounds.iter().skip(1).copied().chain([total_shards]);
        space.weights =
            space.bounds.iter().zip(ends).map(|(&start, end)| interval_probability(start, end, total_shards)).collect();
        combinations = combinations.saturating_mul(space.bounds.len() as u64);
    }
    if combinations > MAX_COMBINATIONS {
        return Err(SharesError::TooManyCombinations { salts: spaces.len(), combinations, max: MAX_COMBINATIONS });
    }

    let position: HashMap<&str, usize> = order.iter().enumerate().map(|(i, k)| (*k, i)).collect();
    let served = |variation_key: &str| match flag.variations.get(variation_key) {
        Some(variation) if variation.typed.is_some() => position.get(variation_key).copied(),
        _ => None,
    };
    let admits = |rule: &ShardRule| -> ShardPlan {
        let salt = rule.sharder.salt();
        let salt = spaces.iter().position(|s| s.salt == salt).unwrap_or_default();
        let admitted = spaces[salt].bounds.iter().map(|&shard| rule.admits_shard(shard)).collect();
        ShardPlan { salt, admitted }
    };
    // Per eligible allocation, its position and its splits.
    let plan: Vec<(usize, Vec<SplitPlan>)> = eligible
        .iter()
        .map(|&index| {
            let splits = flag.allocations[index]
                .splits
                .iter()
                .map(|split| SplitPlan {
                    shards: split.shards.iter().map(admits).collect(),
                    served: served(&split.variation_key),
                })
                .collect();
            (index, splits)
        })
        .collect();

    // Odometer over one interval per salt.
    let mut default = 0.0;
    let mut choice = vec![0usize; spaces.len()];
    loop {
        let probability: f64 = spaces.iter().zip(&choice).map(|(space, &i)| space.weights[i]).product();
        let decided = plan.iter().find_map(|(index, splits)| {
            splits
                .iter()
                .find(|split| split.shards.iter().all(|shard| shard.admitted[choice[shard.salt]]))
                .map(|split| (*index, split.served))
        });
        match decided {
            Some((index, served)) => {
                allocations[index].share += probability;
                match served {
                    Some(variation) => variations[variation].share += probability,
                    None => default += probability,
                }
            }
            None => default += probability,
        }

        let mut digit = 0;
        loop {
            if digit == choice.len() {
                return Ok(PopulationShares { flag, allocations, variations, default });
            }
            choice[digit] += 1;
            if choice[digit] < spaces[digit].bounds.len() {
                break;
            }
            choice[digit] = 0;
            digit += 1;
        }
    }
}

/// `P(start <= v % total < end)` for `v` uniform over 32-bit values: each
/// shard below `2³² mod total` has one more preimage than the others.
pub fn interval_probability(start: u32, end: u32, total: u32) -> f64 {
    let space = 1u64 << 32;
    let (start, end, total) = (u64::from(start), u64::from(end), u64::from(total));
    let per_shard = space / total;
    let with_extra = space % total;
    let extra = end.min(with_extra).saturating_sub(start.min(with_extra));
    ((end - start) * per_shard + extra) as f64 / space as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::obfuscation::obfuscate_configuration;
    use serde_json::json;

    fn document() -> serde_json::Value {
        let split = |variation: &str, start: u32, end: u32| json!({"variationKey": variation, "shards": [{"salt": "s", "ranges": [{"start": start, "end": end}]}]});
        json!({"flags": {"f": {"key": "f", "enabled": true, "variationType": "STRING", "totalShards": 10000,
        "variations": {"a": {"key": "a", "value": "A"}, "b": {"key": "b", "value": "B"}},
        "allocations": [
            {"key": "over", "endAt": "2020-01-01T00:00:00Z", "splits": [split("b", 0, 10000)]},
            {"key": "vip", "rules": [{"conditions": [{"attribute": "id", "operator": "ONE_OF", "value": ["vip"]}]}],
             "splits": [split("b", 0, 10000)]},
            {"key": "us", "rules": [{"conditions": [{"attribute": "country", "operator": "ONE_OF", "value": ["US"]}]}],
             "splits": [split("a", 0, 2500), split("b", 2500, 5000)]}
        ]}}})
    }

    fn attributes(value: serde_json::Value) -> Attributes {
        value.as_object().map(Attributes::from_json).unwrap_or_default()
    }

    fn now() -> Timestamp {
        chrono::DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z").map(|t| t.to_utc()).unwrap_or_default()
    }

    #[test]
    fn eligibility_names_each_rejection_and_the_id_fallback_in_both_formats() {
        for document in [document(), obfuscate_configuration(&document())] {
            let config = Configuration::from_value(&document).unwrap();
            let judged =
                config.allocation_eligibility("f", "vip", &attributes(json!({"country": "US"})), now()).unwrap();
            let verdicts: Vec<_> = judged.iter().map(|a| a.verdict.map(|rule| rule.is_some())).collect();
            assert_eq!(verdicts, [Err(AllocationEvaluationCode::AfterEndTime), Ok(true), Ok(true)]);
            assert_eq!(judged.iter().map(|a| a.reads_subject_key).collect::<Vec<_>>(), [false, true, false]);
            let judged = config.allocation_eligibility("f", "bob", &attributes(json!({"id": "vip"})), now()).unwrap();
            assert!(judged[1].is_eligible() && !judged[1].reads_subject_key);
            assert_eq!(judged[2].verdict.err(), Some(AllocationEvaluationCode::FailingRule));
        }
    }

    #[test]
    fn shares_follow_the_ranges_and_refuse_a_rule_that_reads_the_subject_key() {
        for document in [document(), obfuscate_configuration(&document())] {
            let config = Configuration::from_value(&document).unwrap();
            let err = config.population_shares("f", &attributes(json!({"country": "US"})), now()).unwrap_err();
            assert!(matches!(err, SharesError::VariesBySubject { ref allocation } if allocation == "vip"), "{err}");
            let us = attributes(json!({"country": "US", "id": "someone"}));
            let shares = config.population_shares("f", &us, now()).unwrap();
            let close = |a: f64, b: f64| (a - b).abs() < 1e-5;
            let by_key: Vec<(&str, f64)> = shares.variations.iter().map(|v| (v.key, v.share)).collect();
            assert!(by_key[0].0 == "b" && close(by_key[0].1, 0.25) && close(by_key[1].1, 0.25), "{by_key:?}");
            assert!(close(shares.default, 0.5));
            assert!(close(shares.allocations[2].share, 0.5) && shares.allocations[1].share == 0.0);
        }
        let config = Configuration::from_value(&document()).unwrap();
        assert!(matches!(config.population_shares("nope", &Attributes::new(), now()), Err(SharesError::Flag(_))));
    }
}
