//! Greedy minimization of a disagreeing case.
//!
//! Starting from the batch that showed a disagreement, the minimizer tries
//! candidates in order, largest cuts first: keep only the disagreeing flag
//! and subject; drop allocations, rules, conditions, splits, shards, ranges,
//! dates, extra logging, unused variations; set `doLog` and `enabled` to
//! their plain values; turn the flag into a STRING flag; drop list members,
//! attributes, bandit actions and coefficients; simplify strings, numbers
//! and the subject key. A candidate is kept when the reference and the
//! parties of the deviation, asked again (one `configure` + `evaluate`
//! round trip each), still show the same deviation on the target case (the
//! same parties differ from the reference on a field of the same kind: see
//! [`Deviation::same_as`]). After each kept candidate the list is rebuilt
//! from the smaller scenario. The number of round trips is bounded. The
//! other parties, which agreed with the reference, say nothing about a
//! candidate; they are asked once, about the final scenario, so that the
//! finding has every party's answer.
//!
//! Candidates that do not change the scenario are never generated, so a
//! scenario with no candidate left is a local minimum.

use serde_json::{Map, Value};

use super::{
    ask, ask_some, disagreement_at, flag_and_subject, Deviation, Disagreement, FuzzOptions, PartyRun, Scenario,
};
use crate::party::{Party, PartyInfo};
use ufc_protocol::CaseInput;

/// Where minimization starts: a batch, the disagreeing case in it, and what
/// the parties answered.
#[derive(Clone, Copy)]
pub(crate) struct Start<'a> {
    pub(crate) scenario: &'a Scenario,
    pub(crate) target: usize,
    pub(crate) runs: &'a [PartyRun],
    /// The case id prefix the runs were asked with (kept for candidates, so
    /// the final answers carry the ids the written files will have).
    pub(crate) prefix: &'a str,
}

/// The smallest scenario found that still deviates the same way.
#[derive(Debug, Clone)]
pub(crate) struct Minimized {
    pub(crate) scenario: Scenario,
    pub(crate) target: usize,
    pub(crate) runs: Vec<PartyRun>,
    pub(crate) prefix: String,
    pub(crate) steps: usize,
    /// The deviation the final scenario shows.
    pub(crate) deviation: Deviation,
    /// The whole disagreement on its target case.
    pub(crate) disagreement: Disagreement,
}

/// The deviation like `wanted` that case `target` of `candidate` shows, with
/// the disagreement it is part of.
fn shown(
    infos: &[PartyInfo],
    candidate: &Scenario,
    runs: &[PartyRun],
    target: usize,
    wanted: &Deviation,
    options: &FuzzOptions,
) -> Option<(Deviation, Disagreement)> {
    let disagreement = disagreement_at(infos, candidate, runs, target, options.least_severity)?;
    let deviation = disagreement.deviations.iter().find(|d| d.same_as(wanted))?.clone();
    Some((deviation, disagreement))
}

/// Shrinks `start` while the parties keep showing `deviation` on the
/// target case, spending at most `options.max_minimize_steps` round trips.
///
/// Candidates that each hold the one flag under its own key are put to the
/// parties together, up to [`PACK`] in one configuration with the flag
/// renamed per candidate ([`pack`]); the first that still deviates is asked
/// again alone before it is kept, so packing changes how many round trips a
/// minimization takes, never what it keeps.
pub(crate) fn minimize(
    parties: &mut [Box<dyn Party>],
    infos: &[PartyInfo],
    start: Start<'_>,
    deviation: &Deviation,
    options: &FuzzOptions,
) -> Minimized {
    let disagreement = disagreement_at(infos, start.scenario, start.runs, start.target, options.least_severity)
        .unwrap_or_else(|| Disagreement { classes: Vec::new(), fields: Vec::new(), deviations: Vec::new() });
    let mut best = Minimized {
        scenario: start.scenario.clone(),
        target: start.target,
        runs: start.runs.to_vec(),
        prefix: start.prefix.to_owned(),
        steps: 0,
        deviation: deviation.clone(),
        disagreement,
    };
    let involved: Vec<bool> =
        infos.iter().enumerate().map(|(index, info)| index == 0 || deviation.parties.contains(&info.name)).collect();
    let try_alone = |parties: &mut [Box<dyn Party>], best: &mut Minimized, candidate: &(Scenario, usize)| {
        best.steps += 1;
        let (candidate, target) = candidate;
        let ids = candidate.case_ids(&best.prefix);
        let runs = ask_some(parties, candidate, &ids, &involved);
        let Some((shown, disagreement)) = shown(infos, candidate, &runs, *target, deviation, options) else {
            return false;
        };
        best.scenario = candidate.clone();
        best.target = *target;
        best.runs = runs;
        best.deviation = shown;
        best.disagreement = disagreement;
        true
    };
    'shrink: loop {
        // Isolation first, on its own: from a batch of hundreds of cases it
        // nearly always holds, and building the other candidates of such a
        // batch (each a copy of all of it) would cost more than asking.
        let isolation = isolated(&best.scenario, best.target);
        if let Some(candidate) = &isolation {
            if best.steps >= options.max_minimize_steps {
                break 'shrink;
            }
            if try_alone(parties, &mut best, candidate) {
                continue 'shrink;
            }
        }
        let all = candidates(&best.scenario, best.target);
        let mut next = usize::from(isolation.is_some());
        while next < all.len() {
            if best.steps >= options.max_minimize_steps {
                break 'shrink;
            }
            let packable = all[next..].iter().take(PACK).take_while(|(c, _)| single_flag(c).is_some()).count();
            if packable < 2 {
                if try_alone(parties, &mut best, &all[next]) {
                    continue 'shrink;
                }
                next += 1;
                continue;
            }
            let group = &all[next..next + packable];
            best.steps += 1;
            let (packed, targets) = pack(group);
            let ids = packed.case_ids(&best.prefix);
            let runs = ask_some(parties, &packed, &ids, &involved);
            let shows = |i: usize| shown(infos, &packed, &runs, targets[i], deviation, options).is_some();
            match (0..group.len()).find(|i| shows(*i)) {
                Some(i) => {
                    if try_alone(parties, &mut best, &group[i]) {
                        continue 'shrink;
                    }
                    next += i + 1;
                }
                // A party that could not load the packed configuration says
                // nothing about each candidate: ask them one by one.
                None if runs.iter().any(|r| r.answers().is_none()) => {
                    for candidate in group {
                        if best.steps >= options.max_minimize_steps {
                            break 'shrink;
                        }
                        if try_alone(parties, &mut best, candidate) {
                            continue 'shrink;
                        }
                    }
                    next += packable;
                }
                None => next += packable,
            }
        }
        break;
    }
    if best.steps > 0 && involved.contains(&false) {
        best.steps += 1;
        let ids = best.scenario.case_ids(&best.prefix);
        let runs = ask(parties, &best.scenario, &ids);
        // Should another party deviate too on the final scenario, the
        // deviation is no longer the one minimized: the finding keeps the
        // answers of the parties it is about, and the others sit it out.
        if let Some((shown, disagreement)) = shown(infos, &best.scenario, &runs, best.target, deviation, options) {
            best.runs = runs;
            best.deviation = shown;
            best.disagreement = disagreement;
        }
    }
    best
}

/// Candidates put to the parties in one round trip at most.
const PACK: usize = 48;

/// The key of the one flag a candidate holds, when it can be packed: a flag
/// scenario (no bandits, whose links name flags by key) whose every case
/// asks for its one flag, whose key is plain (a blank or odd flag key may be
/// what deviates, and packing renames it).
fn single_flag(candidate: &Scenario) -> Option<&str> {
    if candidate.bandit_models.is_some() {
        return None;
    }
    let flags = candidate.flags.get("flags")?.as_object()?;
    let (key, _) = flags.iter().next().filter(|_| flags.len() == 1)?;
    let plain = !key.is_empty() && key.is_ascii() && key.trim() == key;
    let asks_it = candidate.cases.iter().all(|c| matches!(c, CaseInput::Flag(f) if f.flag == *key));
    (plain && asks_it).then_some(key.as_str())
}

/// One scenario holding every candidate's flag under its own key
/// (`<key>~<n>`) and every candidate's cases, asking for it; with the index
/// each candidate's target has in it.
fn pack(group: &[(Scenario, usize)]) -> (Scenario, Vec<usize>) {
    let mut flags = Map::new();
    let mut cases = Vec::new();
    let mut targets = Vec::new();
    for (n, (candidate, target)) in group.iter().enumerate() {
        let Some(key) = single_flag(candidate) else { continue };
        let renamed = format!("{key}~{n}");
        let mut flag = candidate.flags["flags"][key].clone();
        if let Some(object) = flag.as_object_mut() {
            if object.get("key").and_then(Value::as_str) == Some(key) {
                object.insert("key".into(), Value::from(renamed.as_str()));
            }
        }
        flags.insert(renamed.clone(), flag);
        targets.push(cases.len() + target);
        cases.extend(candidate.cases.iter().cloned().map(|mut case| {
            if let CaseInput::Flag(f) = &mut case {
                f.flag = renamed.clone();
            }
            case
        }));
    }
    let mut document = group.first().map_or(Value::Null, |(c, _)| c.flags.clone());
    if let Some(object) = document.as_object_mut() {
        object.insert("flags".into(), Value::Object(flags));
    }
    let obfuscated = group.first().is_some_and(|(c, _)| c.obfuscated);
    (Scenario { flags: document, bandit_models: None, cases, obfuscated }, targets)
}

/// Only the target flag and the target case, when there is more.
fn isolated(scenario: &Scenario, target: usize) -> Option<(Scenario, usize)> {
    let input = scenario.cases.get(target)?;
    if scenario.cases.len() == 1 && scenario.flag_count() <= 1 {
        return None;
    }
    let keep = flag_and_subject(input).0;
    // The document but for the other flags, which are never copied.
    let flags = match &scenario.flags {
        Value::Object(document) => Value::Object(
            document
                .iter()
                .map(|(key, value)| match (key.as_str(), value) {
                    ("flags", Value::Object(flags)) => {
                        let one = flags.iter().filter(|(k, _)| *k == keep).map(|(k, v)| (k.clone(), v.clone()));
                        (key.clone(), Value::Object(one.collect()))
                    }
                    _ => (key.clone(), value.clone()),
                })
                .collect(),
        ),
        other => other.clone(),
    };
    let scenario = Scenario {
        flags,
        bandit_models: scenario.bandit_models.clone(),
        cases: vec![input.clone()],
        obfuscated: scenario.obfuscated,
    };
    Some((scenario, 0))
}

/// Every one-step simplification of `scenario`, largest first, each with
/// the index the target case has in it; the first is [`isolated`] when
/// there is more than the target.
pub(crate) fn candidates(scenario: &Scenario, target: usize) -> Vec<(Scenario, usize)> {
    let mut out = Vec::new();
    let Some(input) = scenario.cases.get(target) else { return out };
    let flag_key = flag_and_subject(input).0.to_owned();

    out.extend(isolated(scenario, target));
    // Halves, quarters... of the other cases, so that a case whose answer
    // depends on others (an SDK deduplicating events it already logged)
    // shrinks in a logarithmic number of round trips, not one per case.
    // At most about 64 of them: each is a clone of the whole scenario.
    let others: Vec<usize> = (0..scenario.cases.len()).filter(|i| *i != target).collect();
    let mut chunk = others.len() / 2;
    while chunk >= 2 && others.len() / chunk <= 64 {
        for part in others.chunks(chunk) {
            let mut fewer = scenario.clone();
            fewer.cases =
                (0..scenario.cases.len()).filter(|i| !part.contains(i)).map(|i| scenario.cases[i].clone()).collect();
            let new_target = target - part.iter().filter(|i| **i < target).count();
            out.push((fewer, new_target));
        }
        chunk /= 2;
    }
    // One other case at a time, once few are left; one other flag (with
    // its cases) at a time.
    for index in (0..scenario.cases.len()).filter(|i| *i != target && others.len() <= 32) {
        let mut fewer = scenario.clone();
        fewer.cases.remove(index);
        out.push((fewer, if index < target { target - 1 } else { target }));
    }
    let other_flags: Vec<String> = scenario
        .flags
        .get("flags")
        .and_then(Value::as_object)
        .map(|m| m.keys().filter(|k| **k != flag_key).cloned().collect())
        .unwrap_or_default();
    for other in other_flags {
        let mut fewer = scenario.clone();
        if let Some(map) = fewer.flags.get_mut("flags").and_then(Value::as_object_mut) {
            map.shift_remove(&other);
        }
        let kept: Vec<usize> =
            (0..scenario.cases.len()).filter(|i| flag_and_subject(&scenario.cases[*i]).0 != other).collect();
        fewer.cases = kept.iter().map(|i| scenario.cases[*i].clone()).collect();
        let new_target = kept.iter().position(|i| *i == target).unwrap_or(0);
        out.push((fewer, new_target));
    }

    if let Some(flag) = scenario.flags.get("flags").and_then(|f| f.get(&flag_key)) {
        for edited in flag_edits(flag) {
            let mut candidate = scenario.clone();
            if let Some(slot) = candidate.flags.get_mut("flags").and_then(|f| f.get_mut(&flag_key)) {
                *slot = edited;
            }
            out.push((candidate, target));
        }
        if let Some(candidate) = as_string_flag(scenario, &flag_key, flag) {
            out.push((candidate, target));
        }
        if let Some(candidate) = renamed_flag(scenario, &flag_key, "flag") {
            out.push((candidate, target));
        }
    }
    for edited in case_edits(input) {
        let mut candidate = scenario.clone();
        candidate.cases[target] = edited;
        out.push((candidate, target));
    }
    if let Some(models) = &scenario.bandit_models {
        for edited in model_edits(models) {
            out.push((Scenario { bandit_models: Some(edited), ..scenario.clone() }, target));
        }
    }
    out
}

fn array_len(value: &Value, pointer: &str) -> usize {
    value.pointer(pointer).and_then(Value::as_array).map_or(0, Vec::len)
}

/// A copy of `value` with the array element at `pointer`/`index` removed.
fn without_element(value: &Value, pointer: &str, index: usize) -> Value {
    let mut copy = value.clone();
    if let Some(items) = copy.pointer_mut(pointer).and_then(Value::as_array_mut) {
        if index < items.len() {
            items.remove(index);
        }
    }
    copy
}

/// A copy of `value` with `key` removed from the object at `pointer`.
fn without_key(value: &Value, pointer: &str, key: &str) -> Value {
    let mut copy = value.clone();
    if let Some(map) = copy.pointer_mut(pointer).and_then(Value::as_object_mut) {
        map.shift_remove(key);
    }
    copy
}

/// A copy of `value` with the value at `pointer` replaced.
fn with_value(value: &Value, pointer: &str, replacement: Value) -> Value {
    let mut copy = value.clone();
    if let Some(slot) = copy.pointer_mut(pointer) {
        *slot = replacement;
    }
    copy
}

fn has_key(value: &Value, pointer: &str, key: &str) -> bool {
    value.pointer(pointer).and_then(Value::as_object).is_some_and(|m| m.contains_key(key))
}

/// Simplifications of one flag.
fn flag_edits(flag: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    let allocations = array_len(flag, "/allocations");
    for a in 0..allocations {
        out.push(without_element(flag, "/allocations", a));
    }
    let variations = flag.get("variations").and_then(Value::as_object);
    let variation_keys: Vec<&str> =
        variations.into_iter().flatten().filter_map(|(_, v)| v.get("key").and_then(Value::as_str)).collect();
    let total_shards = flag.get("totalShards").cloned().unwrap_or(Value::from(10_000));
    for a in 0..allocations {
        let at = format!("/allocations/{a}");
        if has_key(flag, &at, "rules") {
            out.push(without_key(flag, &at, "rules"));
        }
        let rules = format!("{at}/rules");
        for r in 0..array_len(flag, &rules) {
            out.push(without_element(flag, &rules, r));
        }
        for r in 0..array_len(flag, &rules) {
            let conditions = format!("{rules}/{r}/conditions");
            for c in 0..array_len(flag, &conditions) {
                out.push(without_element(flag, &conditions, c));
            }
            for c in 0..array_len(flag, &conditions) {
                let value_at = format!("{conditions}/{c}/value");
                if let Some(Value::Array(items)) = flag.pointer(&value_at) {
                    if items.len() > 1 {
                        for i in 0..items.len() {
                            out.push(without_element(flag, &value_at, i));
                        }
                    }
                }
            }
        }
        for field in ["startAt", "endAt"] {
            if has_key(flag, &at, field) {
                out.push(without_key(flag, &at, field));
            }
        }
        if flag.pointer(&format!("{at}/doLog")) != Some(&Value::Bool(true)) {
            out.push(with_value_or_insert(flag, &at, "doLog", Value::Bool(true)));
        }
        let splits = format!("{at}/splits");
        for s in 0..array_len(flag, &splits) {
            out.push(without_element(flag, &splits, s));
        }
        for s in 0..array_len(flag, &splits) {
            let split = format!("{splits}/{s}");
            // A split naming no variation: point it at an existing one.
            let named = flag.pointer(&format!("{split}/variationKey")).and_then(Value::as_str);
            if let (Some(named), Some(first)) = (named, variation_keys.first()) {
                if !variation_keys.contains(&named) {
                    out.push(with_value(flag, &format!("{split}/variationKey"), Value::from(*first)));
                }
            }
            let shards = format!("{split}/shards");
            let shard_count = array_len(flag, &shards);
            if shard_count > 0 {
                out.push(with_value(flag, &shards, Value::Array(Vec::new())));
            }
            if shard_count > 1 {
                for h in 0..shard_count {
                    out.push(without_element(flag, &shards, h));
                }
            }
            for h in 0..shard_count {
                let ranges = format!("{shards}/{h}/ranges");
                let range_count = array_len(flag, &ranges);
                if range_count > 1 {
                    for g in 0..range_count {
                        out.push(without_element(flag, &ranges, g));
                    }
                }
                let full = serde_json::json!([{"start": 0, "end": total_shards}]);
                if range_count > 0 && flag.pointer(&ranges) != Some(&full) {
                    out.push(with_value(flag, &ranges, full));
                }
            }
            if has_key(flag, &split, "extraLogging") {
                out.push(without_key(flag, &split, "extraLogging"));
            }
        }
    }
    // Variation map keys equal to their `key` fields.
    if let Some(variations) = variations {
        let key_of = |map_key: &str, v: &Value| v.get("key").and_then(Value::as_str).unwrap_or(map_key).to_owned();
        if variations.iter().any(|(k, v)| key_of(k, v) != *k) {
            let renamed: Map<String, Value> = variations.iter().map(|(k, v)| (key_of(k, v), v.clone())).collect();
            out.push(with_value(flag, "/variations", Value::Object(renamed)));
        }
    }
    // Plain names and values, for readable findings: allocation keys,
    // STRING variations serving their own keys, the usual shard count when
    // no shard is left.
    for a in 0..allocations {
        let plain = Value::from(format!("allocation-{}", a + 1));
        if flag.pointer(&format!("/allocations/{a}/key")).is_some_and(|k| *k != plain) {
            out.push(with_value(flag, &format!("/allocations/{a}/key"), plain));
        }
    }
    if flag.get("variationType").and_then(Value::as_str) == Some("STRING") {
        if let Some(variations) = variations {
            let mut plain = variations.clone();
            for (map_key, variation) in plain.iter_mut() {
                let key = variation.get("key").and_then(Value::as_str).unwrap_or(map_key).to_owned();
                if let Some(v) = variation.as_object_mut() {
                    v.insert("value".into(), Value::from(key));
                }
            }
            if plain != *variations {
                out.push(with_value(flag, "/variations", Value::Object(plain)));
            }
        }
    }
    let any_shard = (0..allocations).any(|a| {
        let splits = format!("/allocations/{a}/splits");
        (0..array_len(flag, &splits)).any(|s| array_len(flag, &format!("{splits}/{s}/shards")) > 0)
    });
    if !any_shard && flag.get("totalShards") != Some(&Value::from(10_000)) {
        out.push(with_value(flag, "/totalShards", Value::from(10_000)));
    }
    if flag.get("enabled") == Some(&Value::Bool(false)) {
        out.push(with_value(flag, "/enabled", Value::Bool(true)));
    }
    if let Some(unused) = without_unused_variations(flag) {
        out.push(unused);
    }
    out
}

fn with_value_or_insert(value: &Value, pointer: &str, key: &str, replacement: Value) -> Value {
    let mut copy = value.clone();
    if let Some(map) = copy.pointer_mut(pointer).and_then(Value::as_object_mut) {
        map.insert(key.to_owned(), replacement);
    }
    copy
}

/// The flag without the variations no split names (by key field or map key).
fn without_unused_variations(flag: &Value) -> Option<Value> {
    let served: Vec<&str> = super::feature::served_variation_keys(flag).collect();
    let variations = flag.get("variations").and_then(Value::as_object)?;
    let used = |map_key: &str, variation: &Value| {
        served.contains(&map_key) || variation.get("key").and_then(Value::as_str).is_some_and(|k| served.contains(&k))
    };
    if variations.iter().all(|(k, v)| used(k, v)) {
        return None;
    }
    let kept: Map<String, Value> =
        variations.iter().filter(|(k, v)| used(k, v)).map(|(k, v)| (k.clone(), v.clone())).collect();
    Some(with_value(flag, "/variations", Value::Object(kept)))
}

/// The scenario with `flag_key` turned into a STRING flag whose variations
/// serve their own keys; cases that asked for the flag's type now ask for
/// STRING (a type mismatch stays a mismatch).
fn as_string_flag(scenario: &Scenario, flag_key: &str, flag: &Value) -> Option<Scenario> {
    let old_type = flag.get("variationType").and_then(Value::as_str)?;
    if old_type == "STRING" {
        return None;
    }
    let mut converted = flag.clone();
    let map = converted.as_object_mut()?;
    map.insert("variationType".into(), Value::from("STRING"));
    if let Some(variations) = map.get_mut("variations").and_then(Value::as_object_mut) {
        for (map_key, variation) in variations.iter_mut() {
            let key = variation.get("key").and_then(Value::as_str).unwrap_or(map_key).to_owned();
            if let Some(v) = variation.as_object_mut() {
                v.insert("value".into(), Value::from(key));
            }
        }
    }
    let mut candidate = scenario.clone();
    if let Some(slot) = candidate.flags.get_mut("flags").and_then(|f| f.get_mut(flag_key)) {
        *slot = converted;
    }
    for case in &mut candidate.cases {
        if let CaseInput::Flag(c) = case {
            if c.flag == flag_key && c.variation_type.as_str() == old_type {
                c.variation_type = ufc_protocol::VariationType::String;
                c.default_value = Value::from("default");
            }
        }
    }
    Some(candidate)
}

/// The scenario with flag `from` renamed `to` (map key, `key` field and
/// the cases), unless `to` is taken or bandits link to the flag by name.
fn renamed_flag(scenario: &Scenario, from: &str, to: &str) -> Option<Scenario> {
    let flags = scenario.flags.get("flags")?.as_object()?;
    if from == to || flags.contains_key(to) || scenario.bandit_models.is_some() {
        return None;
    }
    let mut renamed = scenario.clone();
    let map = renamed.flags.get_mut("flags")?.as_object_mut()?;
    let mut flag = map.shift_remove(from)?;
    if let Some(object) = flag.as_object_mut() {
        object.insert("key".into(), Value::from(to));
    }
    map.insert(to.to_owned(), flag);
    for case in &mut renamed.cases {
        if let CaseInput::Flag(c) = case {
            if c.flag == from {
                c.flag = to.to_owned();
            }
        }
    }
    Some(renamed)
}

/// Simpler stand-ins for a value: shorter strings, smaller numbers.
fn simpler(value: &Value) -> Vec<Value> {
    match value {
        Value::String(s) => {
            let chars: Vec<char> = s.chars().collect();
            let mut out = Vec::new();
            if chars.len() > 2 {
                out.push(Value::from(chars[..chars.len() / 2].iter().collect::<String>()));
            }
            if chars.len() > 1 {
                out.push(Value::from(chars[0].to_string()));
            }
            if s != "a" {
                out.push(Value::from("a"));
            }
            out
        }
        Value::Number(n) => {
            let mut out = Vec::new();
            let Some(f) = n.as_f64() else { return out };
            for candidate in [0.0, 1.0, f.trunc()] {
                let json = if candidate.fract() == 0.0 && candidate.abs() < 1e15 {
                    Value::from(candidate as i64)
                } else {
                    Value::from(candidate)
                };
                if !crate::observation::json_equal(&json, value) && !out.contains(&json) {
                    out.push(json);
                }
            }
            out
        }
        _ => Vec::new(),
    }
}

fn map_edits(map: &Map<String, Value>) -> Vec<Map<String, Value>> {
    let mut out = Vec::new();
    for key in map.keys() {
        let mut fewer = map.clone();
        fewer.shift_remove(key);
        out.push(fewer);
    }
    for (key, value) in map {
        for replacement in simpler(value) {
            let mut simpler_map = map.clone();
            simpler_map.insert(key.clone(), replacement);
            out.push(simpler_map);
        }
    }
    out
}

fn simpler_keys(key: &str) -> Vec<String> {
    let chars: Vec<char> = key.chars().collect();
    let mut out = Vec::new();
    if key != "a" {
        out.push("a".to_owned());
    }
    if chars.len() > 2 {
        out.push(chars[..chars.len() / 2].iter().collect());
    }
    out
}

/// Simplifications of the target case.
fn case_edits(input: &CaseInput) -> Vec<CaseInput> {
    let mut out = Vec::new();
    match input {
        CaseInput::Flag(case) => {
            for attributes in map_edits(&case.subject_attributes) {
                let mut c = case.clone();
                c.subject_attributes = attributes;
                out.push(CaseInput::Flag(c));
            }
            for key in simpler_keys(&case.subject_key) {
                let mut c = case.clone();
                c.subject_key = key;
                out.push(CaseInput::Flag(c));
            }
        }
        CaseInput::Bandit(case) => {
            for index in 0..case.actions.len() {
                let mut c = case.clone();
                c.actions.remove(index);
                out.push(CaseInput::Bandit(c));
            }
            for attributes in map_edits(&case.subject_attributes.numeric_attributes) {
                let mut c = case.clone();
                c.subject_attributes.numeric_attributes = attributes;
                out.push(CaseInput::Bandit(c));
            }
            for attributes in map_edits(&case.subject_attributes.categorical_attributes) {
                let mut c = case.clone();
                c.subject_attributes.categorical_attributes = attributes;
                out.push(CaseInput::Bandit(c));
            }
            for (index, action) in case.actions.iter().enumerate() {
                for attributes in map_edits(&action.attributes.numeric_attributes) {
                    let mut c = case.clone();
                    c.actions[index].attributes.numeric_attributes = attributes;
                    out.push(CaseInput::Bandit(c));
                }
                for attributes in map_edits(&action.attributes.categorical_attributes) {
                    let mut c = case.clone();
                    c.actions[index].attributes.categorical_attributes = attributes;
                    out.push(CaseInput::Bandit(c));
                }
            }
            for key in simpler_keys(&case.subject_key) {
                let mut c = case.clone();
                c.subject_key = key;
                out.push(CaseInput::Bandit(c));
            }
        }
    }
    out
}

/// Simplifications of a bandit model file: drop one action's coefficients,
/// or one coefficient of one action.
fn model_edits(models: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    let Some(bandits) = models.get("bandits").and_then(Value::as_object) else { return out };
    for (bandit, model) in bandits {
        let Some(coefficients) = model.pointer("/modelData/coefficients").and_then(Value::as_object) else { continue };
        let at = format!("/bandits/{}/modelData/coefficients", bandit.replace('~', "~0").replace('/', "~1"));
        for (action, entry) in coefficients {
            out.push(without_key(models, &at, action));
            let action_at = format!("{at}/{}", action.replace('~', "~0").replace('/', "~1"));
            for list in [
                "subjectNumericCoefficients",
                "subjectCategoricalCoefficients",
                "actionNumericCoefficients",
                "actionCategoricalCoefficients",
            ] {
                let count = entry.get(list).and_then(Value::as_array).map_or(0, Vec::len);
                for index in 0..count {
                    out.push(without_element(models, &format!("{action_at}/{list}"), index));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use ufc_protocol::FlagCase;

    fn scenario() -> Scenario {
        Scenario {
            flags: json!({"flags": {
                "f": {"key": "f", "enabled": true, "variationType": "INTEGER", "totalShards": 10,
                  "variations": {"a": {"key": "a", "value": 1}, "b": {"key": "b", "value": 2}},
                  "allocations": [
                    {"key": "x", "rules": [{"conditions": [{"attribute": "n", "operator": "ONE_OF", "value": ["1", "2"]}]}],
                     "splits": [{"variationKey": "a", "shards": [{"salt": "s", "ranges": [{"start": 0, "end": 5}]}]}]},
                    {"key": "y", "splits": [{"variationKey": "a", "shards": []}], "doLog": false}
                  ]},
                "g": {"key": "g", "enabled": true, "variationType": "STRING", "totalShards": 10, "variations": {}, "allocations": []}
            }}),
            bandit_models: None,
            cases: vec![
                CaseInput::Flag(FlagCase {
                    flag: "g".into(),
                    variation_type: ufc_protocol::VariationType::String,
                    default_value: json!("d"),
                    subject_key: "bob".into(),
                    subject_attributes: Map::new(),
                }),
                CaseInput::Flag(FlagCase {
                    flag: "f".into(),
                    variation_type: ufc_protocol::VariationType::Integer,
                    default_value: json!(0),
                    subject_key: "alice".into(),
                    subject_attributes: json!({"n": 1e21, "m": "xyz"}).as_object().cloned().unwrap_or_default(),
                }),
            ],
            obfuscated: false,
        }
    }

    #[test]
    fn the_first_candidate_isolates_the_target() {
        let all = candidates(&scenario(), 1);
        let (first, target) = &all[0];
        assert_eq!(*target, 0);
        assert_eq!(first.cases.len(), 1);
        assert_eq!(first.flag_count(), 1);
        assert!(first.flags.pointer("/flags/f").is_some());
    }

    #[test]
    fn every_candidate_changes_something_and_keeps_the_target_case() {
        let s = scenario();
        let all = candidates(&s, 1);
        assert!(all.len() > 20, "{}", all.len());
        for (candidate, target) in &all {
            assert_ne!(candidate, &s);
            let (flag, _) = flag_and_subject(&candidate.cases[*target]);
            assert!(flag == "f" || flag == "flag", "{flag}");
        }
        // Among them: the flag as a STRING flag, unused variation "b" gone,
        // doLog made true, a ONE_OF member dropped, the number simplified.
        let flag = |c: &Scenario| c.flags.pointer("/flags/f").cloned().unwrap_or(Value::Null);
        assert!(all.iter().any(|(c, _)| c.flags.pointer("/flags/flag/key") == Some(&json!("flag"))));
        assert!(all.iter().any(|(c, _)| flag(c)["variationType"] == "STRING"));
        assert!(all.iter().any(|(c, _)| flag(c)["variations"].get("b").is_none()));
        assert!(all.iter().any(|(c, _)| flag(c)["allocations"][1]["doLog"] == true));
        assert!(all
            .iter()
            .any(|(c, _)| flag(c)["allocations"][0]["rules"][0]["conditions"][0]["value"] == json!(["2"])));
        assert!(all.iter().any(|(c, t)| match &c.cases[*t] {
            CaseInput::Flag(f) => f.subject_attributes.get("n") == Some(&json!(0)),
            CaseInput::Bandit(_) => false,
        }));
    }
}
