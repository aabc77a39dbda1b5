//! Properties of the reference evaluator over the fuzzer's generators
//! (the `ufc-strategies` crate). Every property runs with a fixed seed
//! and a fixed number of cases, so the file is deterministic: a failure
//! here is a bug in the reference or in a generator, never bad luck.

use std::collections::HashMap;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use serde_json::{Map, Value};
use ufc_harness::distribution::chi_square_p_value;
use ufc_harness::party::reference::reference_type;
use ufc_protocol::CaseInput;
use ufc_reference::bandit::{self, Action, BanditModels, BanditRequest, ModelData};
use ufc_reference::{Attributes, Configuration, FlagRequest, Timestamp, VariationType};
use ufc_strategies as strategies;

fn settings(cases: u32, seed: u64) -> Config {
    Config { cases, rng_seed: RngSeed::Fixed(seed), failure_persistence: None, ..Config::default() }
}

fn now() -> Timestamp {
    chrono::DateTime::parse_from_rfc3339("2025-06-01T12:00:00Z").map(|t| t.to_utc()).unwrap_or_default()
}

/// Evaluates every flag of `document` (and one that does not exist) with
/// every type for a few subjects, with details and events: whatever
/// loaded must evaluate without panicking.
fn evaluate_everything(document: &Value) {
    let Ok(config) = Configuration::from_value(document) else { return };
    let mut keys: Vec<String> = config.flag_keys().into_iter().map(str::to_owned).collect();
    keys.push("no-such-flag".into());
    let subjects: [(&str, Value); 3] = [
        ("alice", serde_json::json!({"age": 30, "email": "alice@example.com", "version": "1.2.3"})),
        ("", serde_json::json!({"id": null, "country": 1e21})),
        ("🙂", serde_json::json!({"age": "0x10", "ñame": true})),
    ];
    for key in &keys {
        for variation_type in VariationType::ALL {
            for (subject, attributes) in &subjects {
                let attributes = Attributes::from_json(attributes.as_object().unwrap_or(&Map::new()));
                let request = FlagRequest::new(key, subject, &attributes, variation_type);
                let (outcome, details) = config.evaluate_details(&request, now());
                let _ = outcome.assignment_event(&request, now());
                let _ = details.to_json();
                let _ = config.evaluate(&request, now()).value_or(&Value::Null);
            }
        }
    }
}

/// The flag requests of a scenario, with their attributes converted.
fn flag_cases(cases: &[CaseInput]) -> Vec<(&ufc_protocol::FlagCase, Attributes, VariationType)> {
    cases
        .iter()
        .filter_map(|case| match case {
            CaseInput::Flag(c) => {
                Some((c, Attributes::from_json(&c.subject_attributes), reference_type(c.variation_type)))
            }
            CaseInput::Bandit(_) => None,
        })
        .collect()
}

/// `doLog` of the allocation at 1-based `position` of flag `flag` as
/// written (absent = true). By position, not key: generated allocations may
/// share a key.
fn do_log(document: &Value, flag: &str, position: usize) -> Option<bool> {
    let allocations = document.get("flags")?.get(flag)?.get("allocations")?.as_array()?;
    let found = allocations.get(position.checked_sub(1)?)?;
    Some(found.get("doLog").and_then(Value::as_bool).unwrap_or(true))
}

proptest! {
    #![proptest_config(settings(300, 0x5eed_0001))]

    /// The generators' contract: every configuration is valid UFC.
    #[test]
    fn generated_configurations_are_valid_ufc(scenario in strategies::flag_scenario()) {
        let config = Configuration::from_value(&scenario.flags);
        prop_assert!(config.is_ok(), "{:?}", config.err());
        let config = config.map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(config.flag_errors().is_empty(), "{:?}\n{}", config.flag_errors(), scenario.flags);
        prop_assert!(!scenario.cases.is_empty());
    }
}

proptest! {
    #![proptest_config(settings(200, 0x5eed_0002))]

    #[test]
    fn reference_never_panics_on_generated_configurations(scenario in strategies::flag_scenario()) {
        evaluate_everything(&scenario.flags);
    }

    #[test]
    fn reference_never_panics_on_malformed_configurations(document in strategies::malformed_configuration()) {
        evaluate_everything(&document);
    }
}

proptest! {
    #![proptest_config(settings(300, 0x5eed_0003))]

    /// Same input, same value, details and event.
    #[test]
    fn evaluation_is_deterministic(scenario in strategies::flag_scenario()) {
        let config = Configuration::from_value(&scenario.flags).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let again = Configuration::from_value(&scenario.flags).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for (case, attributes, variation_type) in flag_cases(&scenario.cases) {
            let request = FlagRequest::new(&case.flag, &case.subject_key, &attributes, variation_type);
            let (first, first_details) = config.evaluate_details(&request, now());
            let (second, second_details) = again.evaluate_details(&request, now());
            prop_assert_eq!(first.value_or(&case.default_value), second.value_or(&case.default_value));
            prop_assert_eq!(first_details.to_json(), second_details.to_json());
            let events = |o: &ufc_reference::FlagOutcome<'_>| o.assignment_event(&request, now()).map(|e| e.to_json());
            prop_assert_eq!(events(&first), events(&second));
        }
    }

    /// The plain path and the details path serve the same value and code,
    /// and a MATCH's details carry the served value.
    #[test]
    fn details_and_plain_evaluation_agree(scenario in strategies::flag_scenario()) {
        let config = Configuration::from_value(&scenario.flags).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for (case, attributes, variation_type) in flag_cases(&scenario.cases) {
            let request = FlagRequest::new(&case.flag, &case.subject_key, &attributes, variation_type);
            let plain = config.evaluate(&request, now());
            let (outcome, details) = config.evaluate_details(&request, now());
            prop_assert_eq!(plain.value_or(&case.default_value), outcome.value_or(&case.default_value));
            prop_assert_eq!(plain.code.as_str(), details.flag_evaluation_code.as_str());
            if details.flag_evaluation_code == "MATCH" {
                prop_assert_eq!(details.variation_value.as_deref().cloned(), Some(plain.value_or(&Value::Null)));
            } else {
                prop_assert_eq!(plain.value_or(&case.default_value), case.default_value.clone());
            }
        }
    }

    /// An assignment event exists iff the outcome is MATCH and the matched
    /// allocation's `doLog` is true (or absent).
    #[test]
    fn assignment_event_iff_match_and_do_log(scenario in strategies::flag_scenario()) {
        let config = Configuration::from_value(&scenario.flags).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for (case, attributes, variation_type) in flag_cases(&scenario.cases) {
            let request = FlagRequest::new(&case.flag, &case.subject_key, &attributes, variation_type);
            let (outcome, details) = config.evaluate_details(&request, now());
            let logs = details.flag_evaluation_code == "MATCH"
                && details
                    .matched_allocation
                    .as_ref()
                    .and_then(|a| do_log(&scenario.flags, &case.flag, a.order_position))
                    .unwrap_or(false);
            let event = outcome.assignment_event(&request, now());
            prop_assert_eq!(event.is_some(), logs, "details: {}", details.to_json());
            if let Some(event) = event {
                let event = event.to_json();
                prop_assert_eq!(&event["featureFlag"], &Value::from(case.flag.as_str()));
                prop_assert_eq!(&event["subject"], &Value::from(case.subject_key.as_str()));
                let variation = details.variation_key.as_deref().map(Value::from);
                prop_assert_eq!(event.get("variation"), variation.as_ref());
            }
        }
    }
}

proptest! {
    #![proptest_config(settings(200, 0x5eed_0004))]

    /// Splits whose ranges partition `[0, totalShards)` always assign a
    /// variation, and only one that owns some of the space.
    #[test]
    fn partitioned_splits_always_assign(
        flag in strategies::partitioned_flag(),
        subjects in prop::collection::vec((strategies::values::subject_key(), strategies::values::subject_attributes()), 1..=16),
    ) {
        let config = Configuration::from_value(&flag.configuration).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(config.flag_errors().is_empty(), "{:?}", config.flag_errors());
        for (subject_key, attributes) in &subjects {
            let attributes = Attributes::from_json(attributes);
            let request = FlagRequest::new(&flag.flag_key, subject_key, &attributes, VariationType::String);
            let (outcome, details) = config.evaluate_details(&request, now());
            prop_assert_eq!(details.flag_evaluation_code.as_str(), "MATCH", "{}", details.to_json());
            let value = outcome.value_or(&Value::Null);
            let owned = flag.fractions.iter().any(|(v, share)| value == v.as_str() && *share > 0.0);
            prop_assert!(owned, "{value} owns no shards: {:?}", flag.fractions);
        }
    }
}

/// Subject keys for the distribution test: the same every run.
const DISTRIBUTION_KEYS: usize = 20_000;
/// The test fails when a chi-square p-value falls below this. With fixed
/// seeds and keys the outcome is fixed; the threshold says how unlikely a
/// correct sharder would have to be to fail.
const SIGNIFICANCE: f64 = 0.001;

proptest! {
    #![proptest_config(settings(12, 0x5eed_0005))]

    /// Over many subject keys, each split's share of subjects matches its
    /// share of the shard space (chi-square goodness of fit).
    #[test]
    fn split_fractions_match_ranges(flag in strategies::partitioned_flag()) {
        let config = Configuration::from_value(&flag.configuration).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let attributes = Attributes::new();
        let mut counts: HashMap<String, u64> = HashMap::new();
        for i in 0..DISTRIBUTION_KEYS {
            let key = format!("subject-{i}");
            let request = FlagRequest::new(&flag.flag_key, &key, &attributes, VariationType::String);
            let value = config.evaluate(&request, now()).value_or(&Value::Null);
            *counts.entry(value.as_str().unwrap_or("<default>").to_owned()).or_default() += 1;
        }
        prop_assert_eq!(counts.get("<default>"), None);
        let mut statistic = 0.0;
        let mut cells = 0;
        for (variation, share) in &flag.fractions {
            let observed = counts.get(variation).copied().unwrap_or(0) as f64;
            if *share == 0.0 {
                prop_assert_eq!(observed, 0.0, "{} owns no shards but was served", variation);
                continue;
            }
            let expected = share * DISTRIBUTION_KEYS as f64;
            statistic += (observed - expected).powi(2) / expected;
            cells += 1;
        }
        if cells > 1 {
            let p = chi_square_p_value(statistic, cells - 1);
            prop_assert!(p > SIGNIFICANCE, "chi-square {statistic:.2} with {} df: p = {p:.2e}; counts {counts:?}, shares {:?}", cells - 1, flag.fractions);
        }
    }
}

proptest! {
    #![proptest_config(settings(500, 0x5eed_0006))]

    /// Action probabilities are a distribution: each in [0, 1], summing to
    /// 1 within 1e-9 (for gamma >= 0 and a floor in [0, 1]).
    #[test]
    fn bandit_weights_sum_to_one(data in strategies::bandits::model_data(), scores in strategies::bandits::bandit_scores()) {
        let model: ModelData = serde_json::from_value(data).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let best = scores
            .iter()
            .enumerate()
            .fold(0, |best, (i, s)| if s.total_cmp(&scores[best]).is_gt() { i } else { best });
        let weights = bandit::weights(&model, &scores, best);
        prop_assert_eq!(weights.len(), scores.len());
        prop_assert!(weights.iter().all(|w| (0.0..=1.0).contains(w)), "{weights:?}");
        let sum: f64 = weights.iter().sum();
        prop_assert!((sum - 1.0).abs() < 1e-9, "sum {sum} of {weights:?} (scores {scores:?})");
    }
}

proptest! {
    #![proptest_config(settings(150, 0x5eed_0007))]

    /// Generated bandit scenarios load cleanly, and the same inputs always
    /// give the same variation, action and probability; the action is one
    /// of those supplied.
    #[test]
    fn bandit_action_is_deterministic(scenario in strategies::bandit_scenario()) {
        let config = Configuration::from_value(&scenario.flags).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(config.flag_errors().is_empty(), "{:?}", config.flag_errors());
        let models_document = scenario.bandit_models.clone().unwrap_or(Value::Null);
        let models = BanditModels::from_value(&models_document).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(models.errors().is_empty(), "{:?}", models.errors());
        // Through the fuzzer's conversion and the reference party's inputs:
        // what a fuzz run asks the reference.
        let scenario = ufc_harness::fuzz::Scenario::from(scenario);
        for case in &scenario.cases {
            let CaseInput::Bandit(case) = case else { continue };
            let subject = ufc_harness::party::reference::subject_attributes(&case.subject_attributes);
            let actions: Vec<Action> = case.actions.iter().map(ufc_harness::party::reference::action).collect();
            let request = BanditRequest::new(&case.flag, &case.subject_key, &subject, &actions, "default");
            let first = config.evaluate_bandit_details(Some(&models), &request, now());
            let second = config.evaluate_bandit_details(Some(&models), &request, now());
            prop_assert_eq!(&first, &second);
            prop_assert_eq!(&first.0, &config.evaluate_bandit(Some(&models), &request, now()));
            if let Some(choice) = &first.0.choice {
                prop_assert!(case.actions.iter().any(|a| a.action_key == choice.action.key));
                prop_assert!((0.0..=1.0).contains(&choice.probability), "{}", choice.probability);
            }
        }
    }
}
