//! The JSON reports of `run` and `report`, produced by the real binary,
//! against `docs/report-schema.json`: a passing run, and a run whose
//! adapters give wrong answers and crash, so that failed and errored cases
//! (with differences, observed answers and stderr tails) are covered.

// Test helpers outside #[test] functions fail by panicking too.
#![allow(clippy::panic)]

use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn validator() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/report-schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("the schema is readable"))
        .expect("the schema is JSON");
    jsonschema::validator_for(&schema).expect("the schema is a valid schema")
}

fn assert_valid(report: &Value) {
    let errors: Vec<String> =
        validator().iter_errors(report).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "the report does not match docs/report-schema.json:\n{}", errors.join("\n"));
}

fn harness(args: &[&str]) -> (i32, Vec<u8>) {
    let output = Command::new(env!("CARGO_BIN_EXE_ufc-harness"))
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .output()
        .expect("ufc-harness runs");
    (output.status.code().unwrap_or(-1), output.stdout)
}

#[test]
fn the_run_report_of_a_passing_run_has_its_schema() {
    let (code, stdout) = harness(&["run", "--format", "json"]);
    assert_eq!(code, 0);
    let report: Value = serde_json::from_slice(&stdout).expect("the report is JSON");
    assert_valid(&report);
    assert!(report["cases"].as_array().is_some_and(|cases| cases.len() > 300));
}

#[test]
fn the_run_report_with_failures_and_errors_has_its_schema() {
    let fake = env!("CARGO_BIN_EXE_ufc-fake-adapter");
    let wrong = format!("wrong={fake} --wrong-answers");
    let crashing = format!("crashing={fake} --crash-after 2");
    let (code, stdout) = harness(&[
        "run",
        "--format",
        "json",
        "--filter",
        "operators/*",
        "--max-restarts",
        "0",
        "--adapter",
        &wrong,
        "--adapter",
        &crashing,
    ]);
    assert_eq!(code, 3, "errored cases make exit code 3");
    let report: Value = serde_json::from_slice(&stdout).expect("the report is JSON");
    assert_valid(&report);
    let statuses: Vec<&str> =
        report["cases"].as_array().into_iter().flatten().filter_map(|c| c["status"].as_str()).collect();
    assert!(statuses.contains(&"failed") && statuses.contains(&"errored"), "{statuses:?}");
    let failed = report["cases"].as_array().into_iter().flatten().find(|c| c["status"] == "failed");
    assert!(failed.is_some_and(|c| c["observed"].is_object() && c["differences"][0]["field"] == "value"));

    // The schema is strict enough to notice a wrong field.
    let mut broken = report.clone();
    broken["summary"]["passed"] = Value::from("many");
    assert!(!validator().is_valid(&broken));
}

#[test]
fn the_cross_sdk_report_writes_a_json_report_with_the_schema() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let json = dir.path().join("cross-sdk.json");
    let out = dir.path().to_string_lossy().into_owned();
    let (code, _) = harness(&["report", "--suite", "builtin=.", "--out", &out, "--json", &json.to_string_lossy()]);
    assert_eq!(code, 0);
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("the JSON report is written")).expect("JSON");
    assert_valid(&report);
    assert!(dir.path().join("cross-sdk.md").is_file() && dir.path().join("cross-sdk.html").is_file());
}

#[test]
fn the_report_of_a_run_through_precomputed_clients_has_its_schema() {
    // Failures (a client that reads nothing) and skips (what no precomputed
    // configuration carries) are both in it.
    let fake = env!("CARGO_BIN_EXE_ufc-fake-adapter");
    let unread = format!("unread={fake} --precomputed-unread");
    let (code, stdout) =
        harness(&["run", "--precomputed", "--format", "json", "--filter", "bandits/*", "--adapter", &unread]);
    assert_eq!(code, 1);
    let report: Value = serde_json::from_slice(&stdout).expect("the report is JSON");
    assert_valid(&report);
    let statuses: Vec<&str> =
        report["cases"].as_array().into_iter().flatten().filter_map(|c| c["status"].as_str()).collect();
    assert!(statuses.contains(&"failed") && statuses.contains(&"skipped"), "{statuses:?}");
}
