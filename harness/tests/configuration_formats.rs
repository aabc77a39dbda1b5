//! The configuration formats beyond plain `flags-v1.json`, through the
//! command line: precomputed configurations (spec section 7), plain and
//! obfuscated, and `run --obfuscated` (section 6) on a suite that cannot
//! take it. The fixtures are `ufc-fixtures/configuration-wire/`, written by
//! a Python script independent of the Rust readers.

// Test helpers outside #[test] functions fail by panicking too.
#![allow(clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn harness(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ufc-harness")).args(args).current_dir(root()).output().expect("ufc-harness runs")
}

fn eval_precomputed(file: &str, flag: &str) -> Value {
    let config = format!("ufc-fixtures/configuration-wire/{file}");
    let output = harness(&[
        "eval",
        "--config",
        &config,
        "--flag",
        flag,
        "--subject",
        "reference-subject",
        "--now",
        "2026-01-01T00:00:00Z",
    ]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap_or_else(|err| panic!("eval printed no JSON: {err}"))
}

#[test]
fn a_precomputed_configuration_serves_the_same_answers_obfuscated_or_not() {
    let plain_file = root().join("ufc-fixtures/configuration-wire/precomputed-v1-deobfuscated.json");
    let plain: Value = serde_json::from_slice(&std::fs::read(plain_file).expect("fixture")).expect("fixture JSON");
    let flags = plain["precomputed"]["response"]["flags"].as_object().cloned().unwrap_or_default();
    assert_eq!(flags.len(), 6);
    for (key, entry) in &flags {
        let obfuscated = eval_precomputed("precomputed-v1.json", key);
        assert_eq!(obfuscated, eval_precomputed("precomputed-v1-deobfuscated.json", key), "{key}");
        // JSON flags store their value as text; callers get it parsed.
        let expected = match (&entry["variationType"], &entry["variationValue"]) {
            (t, Value::String(text)) if t == "JSON" => serde_json::from_str(text).expect("JSON variation"),
            (_, value) => value.clone(),
        };
        assert_eq!(obfuscated["value"], expected, "{key}");
        assert_eq!(obfuscated["evaluationDetails"]["variationKey"], entry["variationKey"], "{key}");
        assert_eq!(obfuscated["assignmentEvent"].is_object(), entry["doLog"] == true, "{key}: doLog");
    }
    let checkout = eval_precomputed("precomputed-v1.json", "checkout-color");
    assert_eq!(checkout["assignmentEvent"]["holdoutKey"], "q2-holdout");
    assert_eq!(checkout["assignmentEvent"]["subjectAttributes"]["age"], 41);
    let recommender = eval_precomputed("precomputed-v1.json", "recommender");
    assert_eq!(recommender["banditAction"]["action"], "bundle-offer");
    assert_eq!(recommender["banditAction"]["actionNumericAttributes"]["price"], 12.5);
    let unknown = eval_precomputed("precomputed-v1.json", "not-precomputed");
    assert_eq!(unknown["evaluationDetails"]["flagEvaluationCode"], "FLAG_UNRECOGNIZED_OR_DISABLED");
}

#[test]
fn a_precomputed_configuration_answers_only_for_its_subject() {
    let output = harness(&[
        "eval",
        "--config",
        "ufc-fixtures/configuration-wire/precomputed-v1.json",
        "--flag",
        "max-items",
        "--subject",
        "someone-else",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("\"reference-subject\""));
}

#[test]
fn obfuscated_run_of_a_suite_without_twins_is_an_input_error() {
    let output = harness(&["run", "--obfuscated", "--suite", "test-cases/divergences/blank-subject-key"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("flags-v1-obfuscated.json"));
}
