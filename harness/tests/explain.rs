//! `eval --explain`: the reference's explanation agrees with its evaluation
//! on generated flags and bandits (plain and CLIENT), its JSON form matches
//! `docs/report-schemas/explain.schema.json`, and on the shared
//! `new-user-onboarding` flag it shows the failed conditions and the shard
//! values, which are recomputed here from the salts.

#![expect(clippy::panic, reason = "test helpers outside #[test] functions fail by panicking too")]

use std::path::{Path, PathBuf};
use std::process::Command;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use serde_json::{json, Value};
use ufc_protocol::CaseInput;
use ufc_reference::bandit::{Action, BanditModels, BanditRequest};
use ufc_reference::explain::Explanation;
use ufc_reference::{Attributes, Configuration, FlagRequest, Timestamp};
use ufc_strategies as strategies;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn now() -> Timestamp {
    chrono::DateTime::parse_from_rfc3339("2025-06-01T12:00:00Z").map(|t| t.to_utc()).unwrap_or_default()
}

fn validator() -> jsonschema::Validator {
    let path = root().join("docs/report-schemas/explain.schema.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    let schema: Value = serde_json::from_str(&text).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    jsonschema::draft202012::new(&schema).unwrap_or_else(|err| panic!("not a draft 2020-12 schema: {err}"))
}

fn violations(validator: &jsonschema::Validator, value: &Value) -> Vec<String> {
    validator.iter_errors(value).map(|err| format!("{}: {err}", err.instance_path())).collect()
}

fn settings(cases: u32, seed: u64) -> Config {
    Config { cases, rng_seed: RngSeed::Fixed(seed), failure_persistence: None, ..Config::default() }
}

/// What the explanation claims about itself must hold: the deciding
/// allocation says MATCH and its deciding split was admitted by every shard
/// with a value that is the shard of its salt; every computed shard value is
/// that salt's shard.
fn check_consistency(explanation: &Explanation, subject_key: &str) -> Result<(), TestCaseError> {
    for allocation in &explanation.allocations {
        for split in &allocation.splits {
            for shard in &split.shards {
                if let Some(value) = shard.shard {
                    let expected = ufc_reference::shard::shard(&shard.salt, subject_key, shard.total_shards);
                    prop_assert_eq!(value, expected, "salt {}", shard.salt);
                    let inside = shard.ranges.iter().any(|[s, e]| *s <= value && value < *e);
                    prop_assert_eq!(shard.admitted, Some(inside));
                }
            }
        }
    }
    if let Some(key) = &explanation.result.variation_key {
        let matched: Vec<_> = explanation.allocations.iter().filter(|a| a.verdict.as_str() == "MATCH").collect();
        prop_assert_eq!(matched.len(), 1);
        let decided = matched[0].splits.iter().find(|s| s.admitted == Some(true));
        prop_assert_eq!(decided.map(|s| &s.variation_key), Some(key));
    }
    Ok(())
}

fn explain_agrees(
    document: &Value,
    cases: &[CaseInput],
    validator: &jsonschema::Validator,
) -> Result<(), TestCaseError> {
    let config = Configuration::from_value(document).map_err(|e| TestCaseError::fail(e.to_string()))?;
    for case in cases {
        let CaseInput::Flag(case) = case else { continue };
        let attributes = Attributes::from_json(&case.subject_attributes);
        let variation_type = ufc_harness::party::reference::reference_type(case.variation_type);
        let request = FlagRequest::new(&case.flag, &case.subject_key, &attributes, variation_type);
        let (outcome, details) = config.evaluate_details(&request, now());
        let (explained, explained_details, explanation) = config.explain(&request, now());
        prop_assert_eq!(outcome.value_or(&Value::Null), explained.value_or(&Value::Null));
        prop_assert_eq!(details.to_json(), explained_details.to_json());
        prop_assert_eq!(
            explanation.result.variation_key.clone(),
            outcome.decision.filter(|_| outcome.value().is_some()).map(|d| d.split.variation_key.to_string())
        );
        let event = outcome.assignment_event(&request, now()).map(|e| e.to_json());
        prop_assert_eq!(&explanation.assignment_event, &event);
        check_consistency(&explanation, &case.subject_key)?;
        let json = serde_json::to_value(&explanation).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let problems = violations(validator, &json);
        prop_assert!(problems.is_empty(), "{problems:?}\n{json:#}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(settings(200, 0x5eed_e001))]

    /// Explanation and evaluation choose the same variation, details and
    /// event, on plain configurations and on their CLIENT twins.
    #[test]
    fn explain_chooses_what_evaluation_chooses(scenario in strategies::flag_scenario()) {
        let validator = validator();
        explain_agrees(&scenario.flags, &scenario.cases, &validator)?;
        let obfuscated = ufc_reference::obfuscation::obfuscate_configuration(&scenario.flags);
        explain_agrees(&obfuscated, &scenario.cases, &validator)?;
    }

    /// For bandits, the same outcome, the score terms add up to the score
    /// and the chosen action is the first whose running weight passes the
    /// selection value.
    #[test]
    fn explain_chooses_the_bandit_action_evaluation_chooses(scenario in strategies::bandit_scenario()) {
        let validator = validator();
        let config = Configuration::from_value(&scenario.flags).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let models_document = scenario.bandit_models.clone().unwrap_or(Value::Null);
        let models = BanditModels::from_value(&models_document).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let scenario = ufc_harness::fuzz::Scenario::from(scenario);
        for case in &scenario.cases {
            let CaseInput::Bandit(case) = case else { continue };
            let subject = ufc_harness::party::reference::subject_attributes(&case.subject_attributes);
            let actions: Vec<Action> = case.actions.iter().map(ufc_harness::party::reference::action).collect();
            let request = BanditRequest::new(&case.flag, &case.subject_key, &subject, &actions, "default");
            let (outcome, details) = config.evaluate_bandit_details(Some(&models), &request, now());
            let (explained, explained_details, explanation) = config.explain_bandit(Some(&models), &request, now());
            // Compared bit for bit: a NaN optimality gap must equal itself.
            let seen = |o: &ufc_reference::bandit::BanditOutcome<'_>| {
                (o.variation.to_owned(), o.no_action, o.choice.map(|c| {
                    (c.action.key.clone(), c.probability.to_bits(), c.optimality_gap.to_bits())
                }))
            };
            prop_assert_eq!(seen(&outcome), seen(&explained));
            prop_assert_eq!(details.to_json(), explained_details.to_json());
            let bandit = explanation.bandit.as_ref().ok_or_else(|| TestCaseError::fail("no bandit part"))?;
            prop_assert_eq!(bandit.chosen_action.as_deref(), outcome.choice.map(|c| c.action.key.as_str()));
            if let Some(selection) = bandit.selection {
                let first_past = bandit.actions.iter().find(|a| a.cumulative_weight > selection).or(bandit.actions.last());
                prop_assert_eq!(first_past.map(|a| a.key.as_str()), bandit.chosen_action.as_deref());
            }
            for action in bandit.actions.iter().filter(|a| !a.terms.is_empty()) {
                // Grouped as the score adds them: the intercept, then each list
                // of terms summed on its own, the subject's before the action's.
                let group = |kind: &str| -> f64 {
                    action.terms.iter().filter(|t| t.kind == kind).map(|t| t.contribution).fold(0.0, |sum, c| sum + c)
                };
                let sum = group("intercept")
                    + group("subjectNumeric")
                    + group("subjectCategorical")
                    + group("actionNumeric")
                    + group("actionCategorical");
                let close = sum == action.score || (sum - action.score).abs() <= 1e-9 * action.score.abs().max(1.0);
                prop_assert!(close || (sum.is_nan() && action.score.is_nan()), "{sum} vs {}", action.score);
            }
            let json = serde_json::to_value(&explanation).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let problems = violations(&validator, &json);
            prop_assert!(problems.is_empty(), "{problems:?}\n{json:#}");
        }
    }
}

fn shared_flags() -> PathBuf {
    root().join("../shared/eppo-sdk-test-data/ufc/flags-v1.json")
}

fn explain_cli(config: &Path, extra: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap_or_else(|err| panic!("a temporary directory: {err}"));
    let config = config.to_string_lossy();
    let args = [&["eval", "--config", &*config, "--now", "2025-06-01T12:00:00Z", "--explain"][..], extra].concat();
    Command::new(env!("CARGO_BIN_EXE_ufc-harness"))
        .args(&args)
        .current_dir(dir.path())
        .output()
        .unwrap_or_else(|err| panic!("ufc-harness runs: {err}"))
}

#[test]
fn new_user_onboarding_shows_failed_conditions_and_shard_values() {
    let flags = shared_flags();
    assert!(flags.exists(), "{} is missing: the shared Eppo test data must sit beside the repository", flags.display());
    let subject = "alice";
    let extra = ["--flag", "new-user-onboarding", "--subject", subject, "--attributes", r#"{"country": "UK"}"#];
    let output = explain_cli(&flags, &[&extra[..], &["--format", "json"]].concat());
    assert_eq!(output.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    let json: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|err| panic!("not JSON: {err}"));
    assert_eq!(violations(&validator(), &json), Vec::<String>::new());

    // "id rule" reads the subject key (no `id` attribute) and fails;
    // "internal users" finds no email and fails.
    let allocations = json["allocations"].as_array().cloned().unwrap_or_default();
    let by_key = |key: &str| allocations.iter().find(|a| a["key"] == key).cloned().unwrap_or(Value::Null);
    let id_rule = &by_key("id rule")["rules"][0]["conditions"][0];
    assert_eq!(id_rule["read"], json!({"source": "subjectKey", "value": subject}));
    assert_eq!(id_rule["result"], json!(false));
    assert_eq!(by_key("id rule")["verdict"], "FAILING_RULE");
    let email = &by_key("internal users")["rules"][0]["conditions"][0];
    assert_eq!((email["read"]["source"].as_str(), &email["result"]), (Some("absent"), &json!(false)));

    // "experiment": the country passes NOT_ONE_OF, and each shard shows the
    // value md5 gives for its salt.
    let experiment = by_key("experiment");
    assert_eq!(experiment["rules"][0]["conditions"][0]["result"], json!(true));
    let mut seen_shards = 0;
    for split in experiment["splits"].as_array().into_iter().flatten() {
        for shard in split["shards"].as_array().into_iter().flatten() {
            let Some(value) = shard["shard"].as_u64() else { continue };
            let salt = shard["salt"].as_str().unwrap_or_default();
            assert_eq!(value, u64::from(ufc_reference::shard::shard(salt, subject, 10_000)), "{salt}");
            assert_eq!(shard["hashInput"], format!("{salt}-{subject}"));
            seen_shards += 1;
        }
    }
    assert!(seen_shards >= 2, "both the traffic and the split salt were hashed: {experiment:#}");
    // The explanation's answer is the evaluation's.
    let plain = Command::new(env!("CARGO_BIN_EXE_ufc-harness"))
        .args(["eval", "--config", &shared_flags().to_string_lossy(), "--now", "2025-06-01T12:00:00Z"])
        .args(extra)
        .output()
        .unwrap_or_else(|err| panic!("ufc-harness runs: {err}"));
    let plain: Value = serde_json::from_slice(&plain.stdout).unwrap_or_else(|err| panic!("not JSON: {err}"));
    assert_eq!(json["result"]["value"], plain["value"]);
    assert_eq!(json["assignmentEvent"], plain["assignmentEvent"]);

    // The text form names the failures and the shard arithmetic.
    let text = explain_cli(&flags, &[&extra[..], &["--format", "text"]].concat());
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("[FAIL] id MATCHES \"zach\""), "{text}");
    assert!(text.contains("md5(\"split-new-user-onboarding-experiment-alice\") mod 10000 = "), "{text}");
}

#[test]
fn explain_reads_every_configuration_format() {
    let data = root().join("../shared/eppo-sdk-test-data");
    let cases = [
        ("ufc/flags-v1-obfuscated.json", "new-user-onboarding", "alice"),
        ("configuration-wire/precomputed-v1.json", "string-flag", "test-subject-key"),
    ];
    let validator = validator();
    for (file, flag, subject) in cases {
        let path = data.join(file);
        let output = explain_cli(&path, &["--flag", flag, "--subject", subject, "--format", "json"]);
        assert_eq!(output.status.code(), Some(0), "{file}: {}", String::from_utf8_lossy(&output.stderr));
        let json: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|err| panic!("{file}: {err}"));
        assert_eq!(violations(&validator, &json), Vec::<String>::new(), "{file}");
        assert_eq!(json["flag"], flag, "{file}");
    }
    // A bandit, with its scores and weights.
    let output = explain_cli(
        &data.join("ufc/bandit-flags-v1.json"),
        &[
            "--bandit-models",
            &data.join("ufc/bandit-models-v1.json").to_string_lossy(),
            "--flag",
            "banner_bandit_flag",
            "--subject",
            "alice",
            "--attributes",
            r#"{"age": 25, "country": "USA"}"#,
            "--actions",
            r#"[{"actionKey": "nike", "numericAttributes": {"brand_affinity": 1.5}, "categoricalAttributes": {}},
                {"actionKey": "adidas", "numericAttributes": {}, "categoricalAttributes": {}}]"#,
            "--format",
            "json",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let json: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|err| panic!("bandit: {err}"));
    assert_eq!(violations(&validator, &json), Vec::<String>::new());
    let actions = json["bandit"]["actions"].as_array().cloned().unwrap_or_default();
    assert_eq!(actions.len(), 2, "{json:#}");
    let total: f64 = actions.iter().filter_map(|a| a["weight"].as_f64()).sum();
    assert!((total - 1.0).abs() < 1e-9, "weights sum to {total}");
}
