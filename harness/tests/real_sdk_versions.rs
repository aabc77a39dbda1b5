//! Another published version of a bundled SDK, installed beside the pinned
//! one and driven in the same run (`--sdk python@4.3.1,python`), and
//! releases whose API differs from the pinned one's. Needs PyPI, npm and
//! Maven Central (with a JDK and Maven).

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
    let report = json_report(&output);
    assert_eq!(
        party_versions(&report),
        [("reference", "0.1.0"), ("python@4.3.1", "4.3.1"), ("python", "4.4.1")]
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .to_vec()
    );
    let errored = report["summary"]["errored"].as_u64();
    assert_eq!(errored, Some(0), "{}", String::from_utf8_lossy(&output.stderr));
}

/// The SDK versions the report's parties carry, by party name.
fn party_versions(report: &Value) -> Vec<(String, String)> {
    report["parties"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| (p["name"].as_str().unwrap_or("").to_owned(), p["sdk"]["version"].as_str().unwrap_or("").to_owned()))
        .collect()
}

fn json_report(output: &std::process::Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not a report ({e}): {}", String::from_utf8_lossy(&output.stderr)))
}

#[test]
fn an_older_release_declares_only_the_capabilities_it_has_the_api_for() {
    // @eppo/js-client-sdk-common 4.8.4 has the client the adapter drives;
    // java's sdk-common-jvm 3.3.1 has a constructor with three parameters
    // fewer than 3.9.0's, which the adapter fills by type.
    for (sdk, version) in [("js-client", "4.8.4"), ("java", "3.3.1")] {
        let name = format!("{sdk}@{version}");
        let output = harness(&["run", "--sdk", &name, "--filter", "operators/*", "--format", "json", "--no-strict"]);
        let report = json_report(&output);
        assert!(party_versions(&report).contains(&(name.clone(), version.to_owned())), "{name}: {report}");
        let summary = &report["parties"][1]["summary"];
        assert_eq!(summary["errored"].as_u64(), Some(0), "{name}: {}", String::from_utf8_lossy(&output.stderr));
        assert!(summary["passed"].as_u64().is_some_and(|p| p > 0), "{name}: {summary}");
    }
}

#[test]
fn a_release_without_the_api_the_adapter_drives_is_named_missing() {
    // 3.0.2 predates the memory store and the details calls: the adapter
    // refuses at `hello`, so every case errors with the reason.
    let output = harness(&["run", "--sdk", "js-client@3.0.2", "--filter", "operators/*", "--format", "json"]);
    assert_eq!(output.status.code(), Some(3));
    let report = json_report(&output);
    let errors: Vec<&str> = report["cases"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["party"] == "js-client@3.0.2")
        .filter_map(|c| c["error"].as_str())
        .collect();
    assert!(!errors.is_empty(), "{report}");
    assert!(
        errors.iter().all(|e| e.contains("missing API") && e.contains("MemoryOnlyConfigurationStore")),
        "{errors:?}"
    );
}

#[test]
fn a_version_the_adapter_cannot_drive_is_refused_with_the_reason() {
    // eppo 0.1.0 is a placeholder from before the UFC client: refused
    // before anything is built, and the reason is the error's last words.
    let output = harness(&["adapters", "install", "rust@0.1.0"]);
    assert_ne!(output.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("failed (exit status: 1): rust adapter: eppo 0.1.0 predates the UFC client"), "{stderr}");
    let output = harness(&["adapters", "install", "python@4.3.1;rm"]);
    assert_ne!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stderr).contains("the version after '@'"));
}
