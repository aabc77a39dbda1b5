//! eppo-server-sdk 3.7.0, the pure-Python evaluator, installed and run on
//! the built-in suite through the `python-pure` adapter. The counts are
//! today's; the known-failure manifest (`harness/expectations/python-pure.toml`)
//! makes the run strict, so a change in behaviour (better or worse) fails
//! this test until it is re-triaged.
//!
//! Installing the adapter needs PyPI the first time.

// Test helpers outside #[test] functions fail by panicking too.
#![allow(clippy::panic)]

mod common;

use common::{counts, party};
use serde_json::Value;

const NAME: &str = "python-pure";

fn run_builtin_suite(extra: &[&str]) -> (i32, Value) {
    common::run_builtin_suite(NAME, extra)
}

#[test]
fn builtin_suite_against_the_pure_python_sdk_shows_exactly_todays_divergences() {
    let (code, report) = run_builtin_suite(&[]);
    //                                   passed failed errored skipped known unexpected
    assert_eq!(counts(&report, "reference"), [360, 0, 0, 0, 0, 0]);
    // 86 known failures: 39 bandit cases (no bandit links read), 22
    // malformed cases (one bad flag loses the file), 25 coercion and types
    // cases (numeric strings, bools as numbers, 3.0, JSON parse errors).
    assert_eq!(counts(&report, NAME), [274, 0, 0, 0, 86, 0]);
    assert_eq!(code, 0, "strict run with the manifest must pass");
}

#[test]
fn the_pure_python_sdk_fails_cases_without_its_known_failure_manifest() {
    let empty = tempfile::tempdir().expect("temp dir");
    let (code, report) = run_builtin_suite(&["--known-failures", &empty.path().display().to_string()]);
    assert_eq!(code, 1, "without the manifest the divergences fail the run");
    assert_eq!(party(&report, NAME)["summary"]["failed"], 86);
}

#[test]
fn obfuscated_configurations_are_skipped_by_the_pure_python_sdk() {
    let (code, report) = run_builtin_suite(&["--obfuscated"]);
    // 3.7.0 reads SERVER configurations only.
    assert_eq!(counts(&report, NAME), [0, 0, 0, 219, 0, 0]);
    assert_eq!(code, 0);
}

#[test]
fn the_adapter_reports_the_pinned_sdk_and_its_capabilities() {
    let (_, report) = run_builtin_suite(&["--filter", "types/string/*"]);
    let sdk = &party(&report, NAME)["sdk"];
    assert_eq!((sdk["package"].as_str(), sdk["version"].as_str()), (Some("eppo-server-sdk"), Some("3.7.0")));
    let capabilities: Vec<&str> = party(&report, NAME)["capabilities"]
        .as_array()
        .map(|caps| caps.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    // No evaluation details, no CLIENT format, no precompute in 3.7.0; its
    // poller can be pointed at a base URL, so the online ops.
    assert_eq!(capabilities, ["assign", "events", "bandits", "bench", "online"]);
}
