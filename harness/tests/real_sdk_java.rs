//! The Java adapter, installed and run: the built-in suite against Eppo's
//! JVM core (`cloud.eppo:sdk-common-jvm`, behind the Java server and Android
//! SDKs). The counts below are today's; `harness/expectations/java.toml`
//! makes the run strict, so a core that changes behaviour (better or worse)
//! fails this test until it is re-triaged.
//!
//! Installing needs Maven Central (Maven 3 and a JDK 17 on PATH); the first
//! run downloads the core, its dependencies and Maven's plugins.

// Test helpers outside #[test] functions fail by panicking too.
#![allow(clippy::panic)]

mod common;

use common::{counts as tally, party};
use serde_json::Value;

/// Runs the built-in suite against the java adapter: the exit code and the report.
fn run_java(extra: &[&str]) -> (i32, Value) {
    common::run_builtin_suite("java", extra)
}

#[test]
fn builtin_suite_against_the_jvm_core_shows_exactly_todays_divergences() {
    let (code, report) = run_java(&[]);
    //                                passed failed errored skipped known unexpected
    assert_eq!(tally(&report, "reference"), [360, 0, 0, 0, 0, 0]);
    // Every bandit case is answered (no details: the core has no details API).
    assert_eq!(tally(&report, "java"), [298, 0, 0, 0, 62, 0]);
    assert_eq!(code, 0, "strict run with java.toml must pass");
}

#[test]
fn without_its_manifest_the_jvm_core_fails_the_run() {
    let empty = tempfile::tempdir().expect("temp dir");
    let (code, report) = run_java(&["--known-failures", &empty.path().display().to_string()]);
    assert_eq!(code, 1, "without the manifest the divergences fail the run");
    assert_eq!(party(&report, "java")["summary"]["failed"], 62);
}

#[test]
fn obfuscated_configurations_are_read_by_the_jvm_core() {
    let (code, report) = run_java(&["--obfuscated"]);
    //                                passed failed errored skipped known unexpected
    assert_eq!(tally(&report, "reference"), [219, 0, 0, 0, 0, 0]);
    // Two cases of jvm-numeric-comparison-numbers-only pass here: in a CLIENT
    // configuration a comparison value is base64 text that the core decodes
    // and parses as a number, so a string comparand ("10") works. Their
    // manifest entry holds for the plain and precomputed forms only.
    assert_eq!(tally(&report, "java"), [190, 0, 0, 0, 29, 0]);
    assert_eq!(code, 0);
}

#[test]
fn the_adapter_reports_the_pinned_core_and_its_capabilities() {
    let (_, report) = run_java(&["--filter", "types/string/*"]);
    let java = party(&report, "java");
    assert_eq!(java["sdk"]["package"], "cloud.eppo:sdk-common-jvm");
    assert_eq!(java["sdk"]["version"], "3.9.0");
    let capabilities: Vec<&str> =
        java["capabilities"].as_array().map(|c| c.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    // `online`: 3.9.0 has the poller the server SDK starts (startPolling, 3.8 on).
    assert_eq!(capabilities, ["assign", "events", "bandits", "bench", "obfuscated", "online"]);
}
