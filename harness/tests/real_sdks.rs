//! The real SDKs, installed and run: the built-in suite against
//! eppo-server-sdk (Python), @eppo/node-server-sdk and eppo (Rust) through
//! their adapters. The pass counts and known divergences below are today's;
//! the known-failure manifests make the run strict, so an SDK that changes
//! behaviour (better or worse) fails this test until it is re-triaged.
//!
//! Installing the adapters needs the package registries (PyPI, npm,
//! crates.io); the first run builds the Rust adapter, which takes minutes.

// Test helpers outside #[test] functions fail by panicking too.
#![allow(clippy::panic)]

mod common;

use std::process::Command;

use common::{counts, install, party};
use serde_json::Value;

const SDKS: &str = "python,node,rust";

fn run_builtin_suite(extra: &[&str]) -> (i32, Value) {
    common::run_builtin_suite(SDKS, extra)
}

#[test]
fn builtin_suite_against_the_real_sdks_shows_exactly_todays_divergences() {
    let (code, report) = run_builtin_suite(&[]);
    //                                   passed failed errored skipped known unexpected
    assert_eq!(counts(&report, "reference"), [360, 0, 0, 0, 0, 0]);
    assert_eq!(counts(&report, "python"), [314, 0, 0, 0, 46, 0]);
    assert_eq!(counts(&report, "node"), [257, 0, 0, 0, 103, 0]);
    // The Rust SDK has no bandit API, so its 46 bandit cases are skipped.
    assert_eq!(counts(&report, "rust"), [273, 0, 0, 46, 41, 0]);
    assert_eq!(code, 0, "strict run with the manifests must pass");
}

#[test]
fn every_sdk_fails_some_cases_without_its_known_failure_manifest() {
    let empty = tempfile::tempdir().expect("temp dir");
    let (code, report) = run_builtin_suite(&["--known-failures", &empty.path().display().to_string()]);
    assert_eq!(code, 1, "without manifests the divergences fail the run");
    for (name, failed) in [("python", 46), ("node", 103), ("rust", 41)] {
        assert_eq!(party(&report, name)["summary"]["failed"], failed, "{name}");
    }
}

#[test]
fn obfuscated_configurations_run_where_the_sdk_reads_them() {
    let (code, report) = run_builtin_suite(&["--obfuscated"]);
    //                                   passed failed errored skipped known unexpected
    assert_eq!(counts(&report, "reference"), [219, 0, 0, 0, 0, 0]);
    // The JS core recognises the CLIENT format; its divergences there are
    // the same as with the plain configuration.
    assert_eq!(counts(&report, "node"), [207, 0, 0, 0, 12, 0]);
    // The Python and Rust SDKs (one Rust core) do not evaluate it.
    for name in ["python", "rust"] {
        assert_eq!(counts(&report, name), [0, 0, 0, 219, 0, 0], "{name}");
    }
    assert_eq!(code, 0);
}

#[test]
fn adapters_report_their_pinned_sdk_versions() {
    let (_, report) = run_builtin_suite(&["--filter", "types/string/*"]);
    assert_eq!(party(&report, "python")["sdk"]["version"], "4.4.1");
    assert_eq!(party(&report, "node")["sdk"]["version"], "3.10.2");
    assert_eq!(party(&report, "rust")["sdk"]["version"], "5.2.1");
    let node_caps = party(&report, "node")["capabilities"].as_array().cloned().unwrap_or_default();
    assert!(node_caps.iter().any(|c| c == "bandits"));
    let rust_caps = party(&report, "rust")["capabilities"].as_array().cloned().unwrap_or_default();
    assert!(!rust_caps.iter().any(|c| c == "bandits"), "eppo 5.2.1 has no bandit API");
}

#[test]
fn fuzzing_the_node_sdk_with_obfuscated_configurations_finds_replayable_divergences() {
    install(&["python", "node", "rust"]);
    let out = tempfile::tempdir().expect("temp dir");
    let out_dir = out.path().display().to_string();
    let output = Command::new(env!("CARGO_BIN_EXE_ufc-harness"))
        .args(["fuzz", "--sdk", "node", "--obfuscated", "--cases", "400", "--batch-size", "64", "--seed", "3"])
        .args(["--out", &out_dir])
        .output()
        .expect("ufc-harness fuzz runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "findings expected:\n{stdout}");
    // The JS core's CLIENT path hashes its own rendering of numbers for ONE_OF.
    assert!(stdout.contains("finding [one-of-number-rendering]"), "{stdout}");
    let findings: Vec<_> = std::fs::read_dir(out.path())
        .expect("findings written")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_dir())
        .collect();
    assert_eq!(findings.len(), 14, "the seed and budget fix the findings: {stdout}");
    // `--known-failures` names a folder with no node.toml: nothing is excused.
    for dir in findings {
        assert!(dir.join("ufc/flags-v1-obfuscated.json").is_file(), "{}", dir.display());
        let replay = Command::new(env!("CARGO_BIN_EXE_ufc-harness"))
            .args(["run", "--sdk", "node", "--obfuscated", "--known-failures", &out_dir, "--suite"])
            .arg(&dir)
            .output()
            .expect("ufc-harness run replays");
        assert_eq!(replay.status.code(), Some(1), "{} did not replay", dir.display());
    }
}

#[test]
fn precomputation_of_the_builtin_suite_shows_todays_differences() {
    install(&["python", "node", "rust"]);
    let output = Command::new(env!("CARGO_BIN_EXE_ufc-harness"))
        .args(["precompute", "--sdk", "python,node,rust", "--format", "json"])
        .output()
        .expect("ufc-harness precompute runs");
    let report: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|err| panic!("not JSON ({err}); stderr: {}", String::from_utf8_lossy(&output.stderr)));
    let party = |name: &str| {
        report["parties"].as_array().and_then(|p| p.iter().find(|p| p["party"] == name)).cloned().unwrap_or_default()
    };
    let list = |name: &str, key: &str| party(name)[key].as_array().cloned().unwrap_or_default();
    let text = |v: &Value, key: &str| v[key].as_str().unwrap_or_default().to_owned();
    assert!(party("python")["skipped"].is_string(), "eppo-server-sdk 4.4.1 has no precompute API");

    // Node: every subject, bandit ones included.
    let node = party("node");
    assert_eq!((node["subjects"].as_u64(), node["banditsCompared"].as_u64()), (Some(292), Some(46)));
    // It throws on the malformed group's flags: every subject there errors.
    let errors = list("node", "errors");
    assert_eq!(errors.len(), 22);
    assert!(errors.iter().all(|e| e.as_str().is_some_and(|e| e.starts_with("malformed/"))), "{errors:?}");
    // Coercion divergences (spec 8.2, 8.3), mistyped values it precomputes
    // anyway, and the UTF-16 tie-break of `run`. Actions whose optimality
    // gap is not finite agree: JSON writes the gap as null, read as NaN.
    let node_differences = list("node", "differences");
    assert_eq!(node_differences.len(), 54);
    for d in &node_differences {
        let (group, field) = (text(d, "group"), text(d, "field"));
        let known = group == "coercions"
            || (group == "types" && field == "assigned")
            || (group == "bandits-bandits" && field == "banditAction");
        assert!(known, "{d}");
    }

    // The Rust core: its typed attribute parsing rejects the dynamic-typing
    // subjects, and it panics on totalShards 0 in the malformed group.
    let rust = party("rust");
    assert_eq!((rust["subjects"].as_u64(), rust["banditsCompared"].as_u64()), (Some(288), Some(42)));
    let errors = list("rust", "errors");
    assert_eq!(errors.len(), 26);
    let malformed = errors.iter().filter(|e| e.as_str().is_some_and(|e| e.starts_with("malformed/"))).count();
    assert_eq!(malformed, 22, "{errors:?}");
    // Precomputation drops the null `id`, so the subject key stands in for it.
    let rust_differences = list("rust", "differences");
    assert_eq!(rust_differences.len(), 3, "{rust_differences:?}");
    for d in &rust_differences {
        assert!(text(d, "subjectKey") == "user-700" && text(d, "flag") == "op-id", "{d}");
    }
    assert_eq!(output.status.code(), Some(3), "errored subjects make exit code 3");
}

/// The installed Python adapter's answer lines to `requests`.
fn python_adapter_answers(requests: &[String]) -> Vec<String> {
    use std::io::{BufRead, BufReader, Write};
    install(&["python"]);
    let run = ufc_harness::install::cache_dir().join("python").join("run");
    let mut child = Command::new(run)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the adapter starts");
    let mut stdin = child.stdin.take().expect("stdin");
    for request in requests {
        writeln!(stdin, "{request}").expect("the adapter reads");
    }
    drop(stdin);
    let answers =
        BufReader::new(child.stdout.take().expect("stdout")).lines().map(|line| line.expect("a line")).collect();
    child.wait().expect("the adapter exits");
    answers
}

/// The Python adapter writes most answers with orjson, which turns a
/// non-finite float into `null` without a word. An answer that can hold one
/// (here an attribute spelled `NaN` in the request, echoed in the event)
/// must take the path that spells it as the protocol does.
#[test]
fn the_python_adapter_spells_non_finite_numbers_as_the_protocol_does() {
    let flags = r#"{"format":"SERVER","createdAt":"2024-01-01T00:00:00Z","environment":{"name":"Test"},"flags":{"f":{"key":"f","enabled":true,"variationType":"STRING","variations":{"on":{"key":"on","value":"on"}},"allocations":[{"key":"all","doLog":true,"splits":[{"variationKey":"on","shards":[]}]}],"totalShards":10000}}}"#;
    let case = |id: &str, attributes: &str| {
        format!(
            r#"{{"caseId":"{id}","kind":"flag","flag":"f","variationType":"STRING","defaultValue":"d","subjectKey":"s","subjectAttributes":{attributes}}}"#
        )
    };
    let requests = [
        r#"{"id":0,"op":"hello","protocol":1}"#.to_owned(),
        format!(r#"{{"id":1,"op":"configure","flags":{{"inline":{flags}}}}}"#),
        format!(r#"{{"id":2,"op":"evaluate","cases":[{}]}}"#, case("finite", r#"{"x":1.5,"name":"Zoë"}"#)),
        format!(r#"{{"id":3,"op":"evaluate","cases":[{}]}}"#, case("nan", r#"{"x":NaN,"y":-Infinity}"#)),
        r#"{"id":4,"op":"shutdown"}"#.to_owned(),
    ];
    let answers: Vec<Value> = python_adapter_answers(&requests)
        .iter()
        .map(|line| serde_json::from_str(line).expect("every answer is JSON"))
        .collect();
    let attributes = |answer: &Value| answer["results"][0]["assignmentEvents"][0]["subjectAttributes"].clone();
    assert_eq!(answers.len(), 5, "{answers:?}");
    assert_eq!(attributes(&answers[2]), serde_json::json!({"x": 1.5, "name": "Zoë"}));
    assert_eq!(attributes(&answers[3]), serde_json::json!({"x": "NaN", "y": "-Infinity"}));
}

/// The Python adapter reads requests with orjson, which turns an integer
/// beyond 64 bits into a float without a word. A request holding one must
/// take the json path, so a JSON flag's default comes back digit for digit.
#[test]
fn the_python_adapter_keeps_integers_beyond_64_bits() {
    let flags = r#"{"format":"SERVER","createdAt":"2024-01-01T00:00:00Z","environment":{"name":"Test"},"flags":{}}"#;
    let case = |id: &str, default: &str| {
        format!(
            r#"{{"caseId":"{id}","kind":"flag","flag":"missing","variationType":"JSON","defaultValue":{default},"subjectKey":"s","subjectAttributes":{{}}}}"#
        )
    };
    let requests = [
        r#"{"id":0,"op":"hello","protocol":1}"#.to_owned(),
        format!(r#"{{"id":1,"op":"configure","flags":{{"inline":{flags}}}}}"#),
        // The widest integers orjson holds exactly, then one past each end.
        format!(
            r#"{{"id":2,"op":"evaluate","cases":[{}]}}"#,
            case("edges", r#"[18446744073709551615,-9223372036854775808]"#)
        ),
        format!(
            r#"{{"id":3,"op":"evaluate","cases":[{}]}}"#,
            case("wide", r#"[18446744073709551616, -9223372036854775809]"#)
        ),
        r#"{"id":4,"op":"shutdown"}"#.to_owned(),
    ];
    let answers = python_adapter_answers(&requests);
    assert_eq!(answers.len(), 5, "{answers:?}");
    // Compared as text: serde_json would read a float and the integer alike.
    assert!(answers[2].contains(r#""value":[18446744073709551615,-9223372036854775808]"#), "{}", answers[2]);
    assert!(answers[3].contains(r#""value":[18446744073709551616,-9223372036854775809]"#), "{}", answers[3]);
}
