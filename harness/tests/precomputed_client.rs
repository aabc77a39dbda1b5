//! `run --precomputed`, the client read path of precomputation, driven
//! through the fake adapter (the reference behind the protocol): a client
//! that reads the envelopes the reference writes serves every case the
//! format can carry; one that cannot read them (told to read each as
//! empty) fails; a party without the capability is skipped, never sent an
//! envelope. No SDK is needed.

// Test helpers outside #[test] functions fail by panicking too.
#![allow(clippy::panic)]

use std::process::Command;

use serde_json::Value;

/// `run --precomputed=FORM` over the built-in suite with the fake adapter
/// started with `fake_args`: the exit code and the JSON report.
fn run_precomputed(form: &str, fake_args: &str) -> (i32, Value) {
    let adapter = format!("fake={} {fake_args}", env!("CARGO_BIN_EXE_ufc-fake-adapter"));
    let output = Command::new(env!("CARGO_BIN_EXE_ufc-harness"))
        .args(["run", &format!("--precomputed={form}"), "--now", "2025-01-01T00:00:00Z", "--format", "json"])
        .args(["--adapter", &adapter])
        .output()
        .expect("ufc-harness runs");
    let report: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|err| panic!("not a JSON report ({err}); stderr: {}", String::from_utf8_lossy(&output.stderr)));
    (output.status.code().unwrap_or(-1), report)
}

fn summary(report: &Value) -> [u64; 4] {
    let parties = report["parties"].as_array().cloned().unwrap_or_default();
    assert_eq!(parties.len(), 1, "only the fake takes part: the reference is the expectation");
    let summary = &parties[0]["summary"];
    ["passed", "failed", "errored", "skipped"].map(|key| summary[key].as_u64().unwrap_or(u64::MAX))
}

fn cases_with(report: &Value, status: &str) -> Vec<Value> {
    let cases = report["cases"].as_array().cloned().unwrap_or_default();
    cases.into_iter().filter(|c| c["status"] == status).collect()
}

#[test]
fn a_faithful_precomputed_client_serves_every_case_the_format_carries() {
    let (code, report) = run_precomputed("obfuscated", "");
    // 360 cases; four bandit cases cannot be carried by any precomputed
    // configuration (the bandit of a flag's default variation).
    assert_eq!(summary(&report), [356, 0, 0, 4], "{:#}", report["cases"]);
    assert_eq!(code, 0);
    for case in cases_with(&report, "skipped") {
        let id = case["caseId"].as_str().unwrap_or_default();
        assert!(id.starts_with("precomputed:bandits/"), "{id}");
        let reason = case["skipReason"].as_str().unwrap_or_default();
        assert!(reason.contains("cannot carry the reference's answer"), "{id}: {reason}");
    }
    let ids: Vec<&str> =
        report["cases"].as_array().into_iter().flatten().filter_map(|c| c["caseId"].as_str()).collect();
    assert!(ids.iter().all(|id| id.starts_with("precomputed:")), "every id is prefixed");
}

#[test]
fn the_plain_form_is_read_as_well() {
    let (code, report) = run_precomputed("plain", "");
    assert_eq!(summary(&report), [356, 0, 0, 4], "{:#}", report["cases"]);
    assert_eq!(code, 0);
}

#[test]
fn a_client_that_cannot_read_the_envelopes_fails_the_run() {
    let (code, report) = run_precomputed("obfuscated", "--precomputed-unread");
    assert_eq!(code, 1, "a broken read path fails the run");
    // Every case the reference serves a value or an event loses it: only
    // those whose answer is the default with no event still pass.
    assert_eq!(summary(&report), [65, 291, 0, 4]);
    let failures = cases_with(&report, "failed");
    assert!(failures.iter().any(|c| c["differences"][0]["field"] == "value"), "values are checked");
    assert!(
        failures.iter().any(|c| {
            c["differences"].as_array().into_iter().flatten().any(|d| d["field"] == "assignmentEvents.length")
        }),
        "events are checked"
    );
}

#[test]
fn a_party_without_the_capability_is_skipped_with_the_reason() {
    // The example adapter declares only `assign`.
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("adapters/example/adapter.py");
    let output = Command::new(env!("CARGO_BIN_EXE_ufc-harness"))
        .args(["run", "--precomputed", "--format", "json", "--filter", "types/string/*"])
        .arg("--adapter")
        .arg(format!("example=python3 {}", example.display()))
        .output()
        .expect("ufc-harness runs");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|err| panic!("not JSON: {err}"));
    let cases = report["cases"].as_array().cloned().unwrap_or_default();
    assert!(!cases.is_empty());
    for case in &cases {
        assert_eq!(case["status"], "skipped", "{case}");
        let reason = case["skipReason"].as_str().unwrap_or_default();
        assert!(reason.contains("precomputed-client"), "{reason}");
    }
    assert_eq!(output.status.code(), Some(0));
}
