//! The JSON reports of `bench` and `precompute` against their schemas in
//! `docs/report-schemas/`: each report is produced for real by the
//! command, validated, and then broken on purpose to show the schema would
//! notice.
//!
//! `bench` needs only the reference. `precompute` needs an SDK that
//! precomputes (the fake adapter does not): the Node adapter from the
//! adapter cache (`UFC_HARNESS_CACHE`). Without it the test fails and says
//! how to install it; it never passes without having checked anything.

#![expect(clippy::panic, reason = "test helpers outside #[test] functions fail by panicking too")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn validator(name: &str) -> jsonschema::Validator {
    let path = root().join("docs/report-schemas").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    let schema: Value = serde_json::from_str(&text).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    jsonschema::draft202012::new(&schema)
        .unwrap_or_else(|err| panic!("{} is not a valid draft 2020-12 schema: {err}", path.display()))
}

fn violations(validator: &jsonschema::Validator, report: &Value) -> Vec<String> {
    validator.iter_errors(report).map(|err| format!("{}: {err}", err.instance_path())).collect()
}

/// Runs the harness in an empty directory, so that no `ufc-harness.toml`
/// of the caller's is picked up.
fn harness(args: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap_or_else(|err| panic!("a temporary directory: {err}"));
    Command::new(env!("CARGO_BIN_EXE_ufc-harness"))
        .args(args)
        .current_dir(dir.path())
        .output()
        .unwrap_or_else(|err| panic!("ufc-harness {args:?} runs: {err}"))
}

fn json_of(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|err| panic!("not JSON ({err}); stderr:\n{}", String::from_utf8_lossy(&output.stderr)))
}

#[test]
fn the_bench_report_matches_its_schema() {
    let suite = root();
    let suite = suite.to_string_lossy();
    let args = ["bench", "--suite", &suite, "--flag", "op-regex", "--bandit-flag", "bf-ties", "--n", "200"];
    let output = harness(&[&args[..], &["--out", "-", "--format", "json"]].concat());
    assert_eq!(output.status.code(), Some(0), "stderr:\n{}", String::from_utf8_lossy(&output.stderr));
    let report = json_of(&output);
    let schema = validator("bench.schema.json");
    assert_eq!(violations(&schema, &report), Vec::<String>::new(), "{report:#}");

    // It measured something: the reference, in all three modes.
    let modes: Vec<&Value> = report["measurements"].as_array().into_iter().flatten().map(|m| &m["mode"]).collect();
    assert_eq!(modes, [&json!("assign"), &json!("details"), &json!("bandit")], "{report:#}");
    assert!(report["measurements"].as_array().into_iter().flatten().all(|m| m["status"] == "measured"), "{report:#}");

    let mut broken = report.clone();
    broken["measurements"][0]["status"] = json!("unsupported");
    assert!(!schema.is_valid(&broken), "a rate with status unsupported passed: {broken:#}");
    let mut broken = report.clone();
    broken["reportVersion"] = json!(2);
    assert!(!schema.is_valid(&broken), "an unknown reportVersion passed");
    let mut broken = report;
    broken.as_object_mut().map(|o| o.remove("machine"));
    assert!(!schema.is_valid(&broken), "a report without machine passed");
}

#[test]
fn the_bench_text_output_is_the_markdown_table() {
    let suite = root();
    let suite = suite.to_string_lossy();
    let output = harness(&["bench", "--suite", &suite, "--flag", "op-regex", "--n", "50", "--out", "-"]);
    assert_eq!(output.status.code(), Some(0), "stderr:\n{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.starts_with("| mode | party | SDK | evaluations/s | vs reference | reference is |\n"), "{text}");
    assert!(text.contains("| assign | reference | ufc-reference "), "{text}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("note: no bandit case for \"banner_bandit_flag\" in this suite"), "{stderr}");
}

/// The Node adapter's start command, installed (or brought up to date)
/// first: the install scripts are idempotent.
fn node_adapter() -> String {
    let cache = ufc_harness::install::cache_dir();
    let command = ufc_harness::install::install("node", &cache)
        .unwrap_or_else(|err| panic!("the precompute report test needs the node adapter: {err}"));
    command.iter().map(|arg| format!("'{}'", arg.replace('\'', r"'\''"))).collect::<Vec<_>>().join(" ")
}

#[test]
fn the_precompute_report_matches_its_schema() {
    let adapter = format!("node={}", node_adapter());
    let output = harness(&["precompute", "--adapter", &adapter, "--format", "json"]);
    let report = json_of(&output);
    let schema = validator("precompute.schema.json");
    assert_eq!(violations(&schema, &report), Vec::<String>::new(), "{report:#}");

    let node = &report["parties"][0];
    assert_eq!(node["party"], "node", "{report:#}");
    assert!(node["skipped"].is_null(), "node precomputes: {node:#}");
    assert!(node["subjects"].as_u64() > Some(0) && node["flagsCompared"].as_u64() > Some(0), "{node:#}");
    let expected_code = if !node["errors"].as_array().is_some_and(Vec::is_empty) {
        3
    } else if !node["differences"].as_array().is_some_and(Vec::is_empty) {
        1
    } else {
        0
    };
    assert_eq!(output.status.code(), Some(expected_code), "stderr:\n{}", String::from_utf8_lossy(&output.stderr));

    let mut broken = report.clone();
    broken["parties"][0]["differences"] =
        json!([{"group": "g", "subjectKey": "s", "flag": "f", "field": "colour", "expected": 1, "actual": 2}]);
    assert!(!schema.is_valid(&broken), "a difference in an unknown field passed");
    let mut broken = report;
    broken["parties"][0].as_object_mut().map(|o| o.remove("flagsCompared"));
    assert!(!schema.is_valid(&broken), "a party without flagsCompared passed");
}
