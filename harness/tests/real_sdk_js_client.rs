//! The js-client adapter, installed and run: the built-in suite against
//! @eppo/js-client-sdk-common (the core of Eppo's browser and React Native
//! SDKs), with the plain and the obfuscated (CLIENT) configurations. The
//! counts are today's; the known-failure manifest makes the run strict, so a
//! change of behaviour (better or worse) fails this test until re-triaged.
//!
//! Installing the adapter needs the npm registry.

// Test helpers outside #[test] functions fail by panicking too.
#![allow(clippy::panic)]

mod common;

use serde_json::Value;

const SDK: &str = "js-client";

/// Runs the built-in suite; returns the exit code and the js-client party.
fn run_builtin_suite(extra: &[&str]) -> (i32, Value) {
    let (code, report) = common::run_builtin_suite(SDK, extra);
    (code, common::party(&report, SDK).clone())
}

fn counts(party: &Value) -> [u64; 6] {
    ["passed", "failed", "errored", "skipped", "knownFailures", "unexpectedPasses"]
        .map(|key| party["summary"][key].as_u64().unwrap_or(u64::MAX))
}

#[test]
fn builtin_suite_shows_exactly_todays_divergences() {
    let (code, party) = run_builtin_suite(&[]);
    //                          passed failed errored skipped known unexpected
    assert_eq!(counts(&party), [257, 0, 0, 0, 103, 0]);
    assert_eq!(code, 0, "strict run with the manifest must pass");
}

#[test]
fn obfuscated_configurations_show_exactly_todays_divergences() {
    let (code, party) = run_builtin_suite(&["--obfuscated"]);
    //                          passed failed errored skipped known unexpected
    assert_eq!(counts(&party), [207, 0, 0, 0, 12, 0]);
    assert_eq!(code, 0, "strict run with the manifest must pass");
}

#[test]
fn adapter_reports_the_pinned_core_and_its_capabilities() {
    let (_, party) = run_builtin_suite(&["--filter", "types/string/*"]);
    assert_eq!(party["sdk"]["package"], "@eppo/js-client-sdk-common");
    assert_eq!(party["sdk"]["version"], "4.14.4");
    let capabilities: Vec<&str> = party["capabilities"]
        .as_array()
        .map(|caps| caps.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for needed in [
        "assign",
        "details",
        "events",
        "bandits",
        "bandit-details",
        "bench",
        "obfuscated",
        "precompute",
        "precomputed-client",
    ] {
        assert!(capabilities.contains(&needed), "missing {needed} in {capabilities:?}");
    }
}
