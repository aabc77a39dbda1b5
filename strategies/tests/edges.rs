//! The edge classes are reached: with fixed seeds, a few hundred draws put
//! each edge value class into each position it is meant for. Each
//! predicate reads the generated document (a JSON position and a test on
//! what is there), the way the fuzzer's analysis has to.

use std::collections::BTreeSet;

use serde_json::Value;
use ufc_strategies::dates::{invalid_dates, DATES, EDGE_DATES};
use ufc_strategies::edges::{edge_numbers, EDGE_STRINGS, NON_FINITE_SPELLINGS};
use ufc_strategies::flags::EDGE_JSON_TEXTS;
use ufc_strategies::{
    bandit_scenario, flag_scenario, flag_scenario_shaped, malformed_scenario, CaseInput, Generator, Scenario,
    ScenarioShape,
};

fn seed(n: u8) -> [u8; 32] {
    let mut bytes = [0_u8; 32];
    bytes[0] = n;
    bytes[31] = 0xed;
    bytes
}

fn draw(strategy: &proptest::strategy::BoxedStrategy<Scenario>, seed_byte: u8, count: usize) -> Vec<Scenario> {
    let mut generator = Generator::from_seed(seed(seed_byte));
    (0..count).map(|_| generator.draw(strategy).expect("scenarios never reject")).collect()
}

/// What sits at a position of a document: a map key or a value.
#[derive(Debug, Clone, Copy)]
enum Item<'a> {
    Key(&'a str),
    Value(&'a Value),
}

/// Objects whose keys are data (flag keys, variation keys, action keys...)
/// rather than field names.
const MAPS: &[&str] =
    &["flags", "variations", "coefficients", "valueCoefficients", "extraLogging", "bandits", "banditReferences"];

/// Every position of `value` as a pattern (`/flags/*/allocations/*/key`:
/// map keys and array indices are `*`) and what is there.
fn positions<'a>(value: &'a Value, pattern: &str, map_like: bool, out: &mut Vec<(String, Item<'a>)>) {
    out.push((pattern.to_owned(), Item::Value(value)));
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                if map_like {
                    out.push((format!("{pattern}/*"), Item::Key(key)));
                }
                let child_pattern = if map_like { format!("{pattern}/*") } else { format!("{pattern}/{key}") };
                positions(child, &child_pattern, !map_like && MAPS.contains(&key.as_str()), out);
            }
        }
        Value::Array(items) => {
            for item in items {
                positions(item, &format!("{pattern}/*"), false, out);
            }
        }
        _ => {}
    }
}

/// Positions of the case inputs, as `cases/subjectKey`,
/// `cases/subjectAttributes/*` (names as keys, then values),
/// `cases/actions/actionKey`, `cases/actions/attributes/*`.
fn attributes<'a>(pattern: &str, map: &'a serde_json::Map<String, Value>, out: &mut Vec<(String, Item<'a>)>) {
    for (name, value) in map {
        out.push((format!("{pattern}/*"), Item::Key(name)));
        out.push((format!("{pattern}/*"), Item::Value(value)));
    }
}

fn case_positions(cases: &[CaseInput]) -> Vec<(String, Item<'_>)> {
    let mut out = Vec::new();
    for case in cases {
        match case {
            CaseInput::Flag(c) => {
                out.push(("cases/subjectKey".to_owned(), Item::Key(&c.subject_key)));
                attributes("cases/subjectAttributes", &c.subject_attributes, &mut out);
            }
            CaseInput::Bandit(c) => {
                out.push(("cases/subjectKey".to_owned(), Item::Key(&c.subject_key)));
                attributes("cases/subjectAttributes", &c.subject_attributes.numeric_attributes, &mut out);
                attributes("cases/subjectAttributes", &c.subject_attributes.categorical_attributes, &mut out);
                for action in &c.actions {
                    out.push(("cases/actions/actionKey".to_owned(), Item::Key(&action.action_key)));
                    attributes("cases/actions/attributes", &action.attributes.numeric_attributes, &mut out);
                    attributes("cases/actions/attributes", &action.attributes.categorical_attributes, &mut out);
                }
            }
        }
    }
    out
}

fn all_positions(scenario: &Scenario) -> Vec<(String, Item<'_>)> {
    let mut out = Vec::new();
    positions(&scenario.flags, "", false, &mut out);
    if let Some(models) = &scenario.bandit_models {
        positions(models, "models", false, &mut out);
    }
    out.extend(case_positions(&scenario.cases));
    out
}

fn text<'a>(item: &Item<'a>) -> Option<&'a str> {
    match item {
        Item::Key(key) => Some(key),
        Item::Value(value) => value.as_str(),
    }
}

/// The (position pattern, edge string) pairs seen in `scenarios`, at
/// positions whose pattern ends with one of `suffixes`.
fn edge_strings_seen(scenarios: &[Scenario]) -> BTreeSet<(String, &'static str)> {
    let mut seen = BTreeSet::new();
    for scenario in scenarios {
        for (pattern, item) in all_positions(scenario) {
            if let Some(edge) = text(&item).and_then(|t| EDGE_STRINGS.iter().find(|e| **e == t)) {
                seen.insert((pattern, *edge));
            }
        }
    }
    seen
}

fn assert_positions_reached(seen: &BTreeSet<String>, expected: &[&str], what: &str) {
    let missing: Vec<&&str> = expected.iter().filter(|p| !seen.contains(**p)).collect();
    assert!(missing.is_empty(), "no {what} at {missing:?}; seen at {seen:?}");
}

#[test]
fn every_string_position_meets_the_edge_strings() {
    let mut scenarios = draw(&flag_scenario(), 1, 250);
    scenarios.extend(draw(&bandit_scenario(), 2, 150));
    let seen = edge_strings_seen(&scenarios);
    let at: BTreeSet<String> = seen.iter().map(|(pattern, _)| pattern.clone()).collect();
    assert_positions_reached(
        &at,
        &[
            "/flags/*",
            "/flags/*/key",
            "/flags/*/variations/*",
            "/flags/*/variations/*/key",
            "/flags/*/variations/*/value",
            "/flags/*/allocations/*/key",
            "/flags/*/allocations/*/splits/*/variationKey",
            "/flags/*/allocations/*/splits/*/shards/*/salt",
            "/flags/*/allocations/*/splits/*/extraLogging/*",
            "/flags/*/allocations/*/rules/*/conditions/*/attribute",
            "/flags/*/allocations/*/rules/*/conditions/*/value",
            "/flags/*/allocations/*/rules/*/conditions/*/value/*",
            "models/bandits/*/modelData/coefficients/*",
            "models/bandits/*/modelData/coefficients/*/actionKey",
            "models/bandits/*/modelData/coefficients/*/subjectNumericCoefficients/*/attributeKey",
            "models/bandits/*/modelData/coefficients/*/actionCategoricalCoefficients/*/valueCoefficients/*",
            "cases/subjectKey",
            "cases/subjectAttributes/*",
            "cases/actions/actionKey",
            "cases/actions/attributes/*",
        ],
        "edge string",
    );
    // Every edge string turns up somewhere, NUL and the astral plane included.
    let strings: BTreeSet<&str> = seen.iter().map(|(_, edge)| *edge).collect();
    let missing: Vec<&&str> = EDGE_STRINGS.iter().filter(|e| !strings.contains(**e)).collect();
    assert!(missing.is_empty(), "never generated: {missing:?}");
}

#[test]
fn case_and_padding_variants_of_attribute_names_reach_conditions_and_subjects() {
    let scenarios = draw(&flag_scenario(), 3, 200);
    let mut seen = BTreeSet::new();
    for scenario in &scenarios {
        for (pattern, item) in all_positions(scenario) {
            let is_variant =
                text(&item).is_some_and(|t| ["Age", "AGE", " age", "age ", "ID", "Id", "id "].contains(&t));
            if is_variant && (pattern.ends_with("conditions/*/attribute") || pattern == "cases/subjectAttributes/*") {
                seen.insert(pattern);
            }
        }
    }
    assert_eq!(seen.len(), 2, "variants seen only at {seen:?}");
}

/// Whether `value` is the edge number `edge`, telling `-0.0` from `0`.
fn is_edge_number(value: &Value, edge: &Value) -> bool {
    let negative_zero = |v: &Value| v.as_f64().is_some_and(|f| f == 0.0 && f.is_sign_negative()) && v.is_f64();
    value == edge && negative_zero(value) == negative_zero(edge)
}

#[test]
fn every_numeric_position_meets_the_edge_numbers() {
    let mut scenarios = draw(&flag_scenario(), 4, 250);
    scenarios.extend(draw(&bandit_scenario(), 5, 150));
    let edges = edge_numbers();
    let mut at = BTreeSet::new();
    let mut numbers = BTreeSet::new();
    for scenario in &scenarios {
        for (pattern, item) in all_positions(scenario) {
            let Item::Value(value) = item else { continue };
            if let Some(index) = edges.iter().position(|edge| is_edge_number(value, edge)) {
                at.insert(pattern);
                numbers.insert(index);
            }
        }
    }
    // Integers and floats where the reference reads them as any JSON number.
    assert_positions_reached(
        &at,
        &[
            "/flags/*/variations/*/value",
            "/flags/*/allocations/*/rules/*/conditions/*/value",
            "cases/subjectAttributes/*",
            "cases/actions/attributes/*",
            "models/bandits/*/modelData/coefficients/*/intercept",
            "models/bandits/*/modelData/coefficients/*/subjectNumericCoefficients/*/coefficient",
        ],
        "edge number",
    );
    let missing: Vec<&Value> = edges.iter().enumerate().filter(|(i, _)| !numbers.contains(i)).map(|(_, e)| e).collect();
    assert!(missing.is_empty(), "never generated: {missing:?}");
}

#[test]
fn shard_counts_and_ranges_reach_the_edges_the_reference_reads() {
    let scenarios = draw(&flag_scenario(), 6, 200);
    let (mut max_shards, mut empty, mut inverted, mut past_total) = (false, false, false, false);
    for scenario in &scenarios {
        for flag in scenario.flags["flags"].as_object().into_iter().flat_map(|f| f.values()) {
            let total = flag["totalShards"].as_u64().unwrap_or(0);
            max_shards |= total == u64::from(u32::MAX);
            let ranges = flag["allocations"].as_array().into_iter().flatten().flat_map(|a| {
                let splits = a["splits"].as_array().into_iter().flatten();
                let shards = splits.flat_map(|s| s["shards"].as_array().into_iter().flatten());
                shards.flat_map(|s| s["ranges"].as_array().into_iter().flatten())
            });
            for range in ranges {
                let (start, end) = (range["start"].as_u64().unwrap_or(0), range["end"].as_u64().unwrap_or(0));
                empty |= start == end;
                inverted |= start > end;
                past_total |= end > total;
            }
        }
    }
    assert_eq!((max_shards, empty, inverted, past_total), (true, true, true, true));
}

#[test]
fn non_finite_spellings_reach_string_positions() {
    let scenarios = draw(&flag_scenario(), 7, 200);
    let mut at = BTreeSet::new();
    let mut spellings = BTreeSet::new();
    for scenario in &scenarios {
        for (pattern, item) in all_positions(scenario) {
            if let Some(spelling) = text(&item).and_then(|t| NON_FINITE_SPELLINGS.iter().find(|s| **s == t)) {
                at.insert(pattern);
                spellings.insert(*spelling);
            }
        }
    }
    assert_positions_reached(
        &at,
        &[
            "/flags/*/variations/*/value",
            "/flags/*/allocations/*/rules/*/conditions/*/value",
            "cases/subjectAttributes/*",
        ],
        "non-finite spelling",
    );
    assert_eq!(spellings.len(), NON_FINITE_SPELLINGS.len(), "{spellings:?}");
}

fn allocation_dates(scenario: &Scenario) -> Vec<(Option<&Value>, Option<&Value>)> {
    let flags = scenario.flags["flags"].as_object().into_iter().flat_map(|f| f.values());
    flags
        .flat_map(|flag| flag["allocations"].as_array().into_iter().flatten())
        .map(|a| (a.get("startAt"), a.get("endAt")))
        .collect()
}

#[test]
fn dates_reach_edges_zero_width_and_inverted_windows() {
    let scenarios = draw(&flag_scenario(), 8, 250);
    let windows: Vec<_> = scenarios.iter().flat_map(allocation_dates).collect();
    fn text(date: Option<&Value>) -> Option<&str> {
        date.and_then(Value::as_str)
    }
    let edge_dates: BTreeSet<&str> =
        windows.iter().flat_map(|(s, e)| [text(*s), text(*e)]).flatten().filter(|d| EDGE_DATES.contains(d)).collect();
    assert_eq!(edge_dates.len(), EDGE_DATES.len(), "edge dates seen: {edge_dates:?}");
    assert!(windows.iter().any(|(s, e)| s.is_none() && e.is_none()), "missing dates");
    assert!(windows.iter().any(|(s, _)| s.is_some_and(Value::is_null)), "an explicit null");
    assert!(windows.iter().any(|(s, e)| text(*s).is_some() && text(*s) == text(*e)), "a zero-width window");
    let inverted = |(s, e): &(Option<&Value>, Option<&Value>)| match (text(*s), text(*e)) {
        (Some(s), Some(e)) => DATES.contains(&s) && DATES.contains(&e) && s > e,
        _ => false,
    };
    assert!(windows.iter().any(inverted), "an inverted window");
}

/// Keys of `items` (objects with a `key` field) that occur twice.
fn repeated_keys<'a>(items: impl Iterator<Item = &'a Value>) -> bool {
    let keys: Vec<&str> = items.filter_map(|i| i.get("key").and_then(Value::as_str)).collect();
    keys.iter().collect::<BTreeSet<_>>().len() < keys.len()
}

#[test]
fn duplicate_keys_are_generated_where_keys_can_repeat() {
    let flags = draw(&flag_scenario(), 9, 250);
    let all_flags = || flags.iter().flat_map(|s| s.flags["flags"].as_object().into_iter().flat_map(|f| f.values()));
    let shared_variation =
        all_flags().any(|f| repeated_keys(f["variations"].as_object().into_iter().flatten().map(|(_, v)| v)));
    let shared_allocation = all_flags().any(|f| repeated_keys(f["allocations"].as_array().into_iter().flatten()));
    let duplicate_json_members = all_flags()
        .any(|f| f["variations"].as_object().into_iter().flatten().any(|(_, v)| v["value"] == "{\"a\":1,\"a\":2}"));
    let bandits = draw(&bandit_scenario(), 10, 100);
    let repeated_action = bandits.iter().flat_map(|s| &s.cases).any(|case| match case {
        CaseInput::Bandit(c) => {
            let keys: BTreeSet<&str> = c.actions.iter().map(|a| a.action_key.as_str()).collect();
            keys.len() < c.actions.len()
        }
        CaseInput::Flag(_) => false,
    });
    assert_eq!(
        (shared_variation, shared_allocation, duplicate_json_members, repeated_action),
        (true, true, true, true),
        "(variations sharing a key, allocations sharing a key, a JSON text with a repeated member, an action offered twice)"
    );
    assert!(EDGE_JSON_TEXTS.contains(&"{\"a\":1,\"a\":2}"));
}

#[test]
fn bandit_cases_offer_actions_tied_at_the_top() {
    let scenarios = draw(&bandit_scenario(), 11, 100);
    let tied = scenarios.iter().any(|scenario| {
        let Some(models) = scenario.bandit_models.as_ref().and_then(|m| m["bandits"].as_object()) else { return false };
        let without_key = |c: &Value| {
            let mut c = c.clone();
            c.as_object_mut().map(|m| m.remove("actionKey"));
            c
        };
        scenario.cases.iter().any(|case| {
            let CaseInput::Bandit(case) = case else { return false };
            case.actions.iter().enumerate().any(|(i, a)| {
                case.actions[i + 1..].iter().any(|b| {
                    a.action_key != b.action_key
                        && a.attributes == b.attributes
                        && models.values().any(|model| {
                            let coefficients = &model["modelData"]["coefficients"];
                            match (coefficients.get(&a.action_key), coefficients.get(&b.action_key)) {
                                (Some(x), Some(y)) => without_key(x) == without_key(y) && x["intercept"] == 1000.0,
                                _ => false,
                            }
                        })
                })
            })
        })
    });
    assert!(tied, "no case offered two actions with equal coefficients and attributes");
}

#[test]
fn malformed_scenarios_give_strict_fields_the_edges_the_reference_rejects() {
    let scenarios = draw(&malformed_scenario(), 12, 200);
    let invalid = invalid_dates();
    let (mut shards, mut bounds, mut dates) = (false, false, false);
    for scenario in &scenarios {
        for flag in scenario.flags["flags"].as_object().into_iter().flat_map(|f| f.values()) {
            let total = &flag["totalShards"];
            shards |= total.is_number() && !total.as_u64().is_some_and(|n| (1..=u64::from(u32::MAX)).contains(&n));
            for allocation in flag["allocations"].as_array().into_iter().flatten() {
                dates |= ["startAt", "endAt"].iter().any(|d| allocation.get(*d).is_some_and(|v| invalid.contains(v)));
                let splits = allocation["splits"].as_array().into_iter().flatten();
                let shard_list = splits.flat_map(|s| s["shards"].as_array().into_iter().flatten());
                for range in shard_list.flat_map(|s| s["ranges"].as_array().into_iter().flatten()) {
                    bounds |= [&range["start"], &range["end"]]
                        .iter()
                        .any(|b| b.is_number() && b.as_u64().is_none_or(|n| n > u64::from(u32::MAX)));
                }
            }
        }
    }
    assert_eq!((shards, bounds, dates), (true, true, true), "(totalShards, range bounds, dates)");
}

#[test]
fn dense_shapes_give_many_cases_on_few_flags() {
    let scenarios = draw(&flag_scenario_shaped(ScenarioShape::dense(1_000)), 13, 6);
    for scenario in &scenarios {
        let flags = scenario.flags["flags"].as_object().map_or(0, |f| f.len());
        assert!((1..=3).contains(&flags), "{flags} flags");
        assert!((250 * flags..=500 * flags).contains(&scenario.cases.len()), "{} cases", scenario.cases.len());
    }
    let mean = scenarios.iter().map(|s| s.cases.len()).sum::<usize>() / scenarios.len();
    assert!((500..=1_500).contains(&mean), "{mean} cases per configuration on average");
}

/// A scenario as bytes: documents and cases as JSON text.
fn bytes(scenario: &Scenario) -> Vec<u8> {
    let parts = (&scenario.flags, &scenario.bandit_models, &scenario.cases);
    serde_json::to_vec(&parts).expect("scenarios serialize")
}

#[test]
fn a_seed_gives_the_same_bytes_and_another_seed_others() {
    let strategies =
        [flag_scenario(), bandit_scenario(), malformed_scenario(), flag_scenario_shaped(ScenarioShape::dense(200))];
    for strategy in &strategies {
        let first: Vec<Vec<u8>> = draw(strategy, 14, 5).iter().map(bytes).collect();
        let again: Vec<Vec<u8>> = draw(strategy, 14, 5).iter().map(bytes).collect();
        let other: Vec<Vec<u8>> = draw(strategy, 15, 5).iter().map(bytes).collect();
        assert_eq!(first, again);
        assert_ne!(first, other);
    }
}

#[test]
fn generated_documents_survive_json_text() {
    let mut scenarios = draw(&flag_scenario(), 16, 100);
    scenarios.extend(draw(&bandit_scenario(), 17, 100));
    scenarios.extend(draw(&malformed_scenario(), 18, 100));
    for scenario in &scenarios {
        let text = String::from_utf8(bytes(scenario)).expect("JSON text is UTF-8");
        let read: (Value, Option<Value>, Vec<CaseInput>) = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(read, (scenario.flags.clone(), scenario.bandit_models.clone(), scenario.cases.clone()));
        // -0.0 compares equal to 0.0: the text must keep the sign.
        assert_eq!(
            bytes(&Scenario { flags: read.0, bandit_models: read.1, cases: read.2 }).as_slice(),
            text.as_bytes()
        );
    }
}
