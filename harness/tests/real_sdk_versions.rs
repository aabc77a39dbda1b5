//! Another published version of a bundled SDK, installed beside the pinned
//! one and driven in the same run (`--sdk python@4.3.1,python`). Needs PyPI.

// Test helpers outside #[test] functions fail by panicking too.
#![allow(clippy::panic)]

use std::process::Command;

use serde_json::Value;

fn harness(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ufc-harness"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("ufc-harness runs")
}

#[test]
fn two_versions_of_one_sdk_run_side_by_side() {
    let output = harness(&["run", "--sdk", "python@4.3.1,python", "--filter", "operators/*", "--format", "json"]);
    let report: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not a report ({e}): {}", String::from_utf8_lossy(&output.stderr)));
    let versions: Vec<(String, String)> = report["parties"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| (p["name"].as_str().unwrap_or("").to_owned(), p["sdk"]["version"].as_str().unwrap_or("").to_owned()))
        .collect();
    assert_eq!(
        versions,
        [("reference", "0.1.0"), ("python@4.3.1", "4.3.1"), ("python", "4.4.1")]
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .to_vec()
    );
    let errored = report["summary"]["errored"].as_u64();
    assert_eq!(errored, Some(0), "{}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn a_version_the_adapter_cannot_drive_is_refused_with_the_reason() {
    let output = harness(&["adapters", "install", "rust@5.0.0"]);
    assert_ne!(output.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("only the pinned eppo 5.2.1"), "{stderr}");
    let output = harness(&["adapters", "install", "python@4.3.1;rm"]);
    assert_ne!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stderr).contains("the version after '@'"));
}
