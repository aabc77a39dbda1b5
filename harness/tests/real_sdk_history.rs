//! `ufc-harness history` over a real registry: the one release of the Node
//! SDK that npm serves here, installed beside the pinned one, run, and its
//! failures filed under the manifest's causes; and a chosen list with a
//! version npm does not serve. Needs npm.

// Test helpers outside #[test] functions fail by panicking too.
#![allow(clippy::panic)]

use std::process::Command;

use serde_json::Value;

/// Runs `history --sdk node --versions VERSIONS` into a temporary folder,
/// which must exit 0; the folder and the JSON history it wrote.
fn node_history(versions: &str) -> (tempfile::TempDir, Value) {
    let out = tempfile::tempdir().expect("a temporary folder");
    let output = Command::new(env!("CARGO_BIN_EXE_ufc-harness"))
        .args(["history", "--sdk", "node", "--versions", versions, "--out"])
        .arg(out.path())
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("ufc-harness runs");
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("history-node.json")).expect("JSON written"))
            .expect("the history is JSON");
    (out, report)
}

#[test]
fn history_runs_each_version_and_files_failures_under_causes() {
    let (out, report) = node_history("3.0.0..3.10.2");
    let versions: Vec<&str> =
        report["versions"].as_array().into_iter().flatten().filter_map(|v| v["version"].as_str()).collect();
    assert!(versions.contains(&"3.10.2"), "{versions:?}");
    let ran = report["versions"].as_array().into_iter().flatten().find(|v| v["version"] == "3.10.2").expect("3.10.2");
    assert!(ran["summary"]["passed"].as_u64().is_some_and(|p| p > 200), "{ran}");
    let causes: Vec<&str> =
        report["causes"].as_array().into_iter().flatten().filter_map(|c| c["name"].as_str()).collect();
    assert!(causes.contains(&"disabled-flag-allocation-lists"), "{causes:?}");
    assert!(out.path().join("history-node.md").is_file() && out.path().join("history-node.html").is_file());

    let schema_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/report-schemas/history.schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(schema_path).expect("schema")).expect("JSON");
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    let errors: Vec<String> = validator.iter_errors(&report).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let mut broken = report.clone();
    broken["versions"][0]["summary"] = Value::from("none");
    assert!(!validator.is_valid(&broken));

    a_listed_version_the_registry_lacks_is_reported_skipped();
}

/// Runs after the range above (run in parallel, the two would race to
/// install node@3.10.2).
fn a_listed_version_the_registry_lacks_is_reported_skipped() {
    let (_out, report) = node_history("99.0.0,3.10.2");
    assert_eq!(report["range"], "99.0.0,3.10.2");
    let versions: Vec<(&str, bool, Option<&str>)> = report["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| (v["version"].as_str().unwrap_or(""), v["summary"].is_object(), v["skipped"].as_str()))
        .collect();
    assert_eq!(
        versions,
        [("3.10.2", true, None), ("99.0.0", false, Some("the registry does not serve this version"))],
        "oldest first, the unpublished one skipped with the reason"
    );
}
