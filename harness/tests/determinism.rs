//! Identical inputs give identical bytes in every process (issue 13). Each
//! command runs in several fresh `ufc-harness` processes; Rust seeds every
//! `HashMap` anew in each process, so a hash map's iteration order that
//! reached an answer, a list or a report would show up as a difference.
//!
//! The inputs are the ones where such an order could decide something:
//! variations sharing a `key`, allocations sharing a key, events with many
//! keys, a precomputed file with several broken flags
//! (`tests/data/determinism/`), and the built-in `bandits` group's ties,
//! equal scores and repeated action keys. Only what legitimately changes
//! between processes is masked: the timestamps of the events an adapter
//! logged with its own clock.

// Helpers outside #[test] functions fail by panicking too.
#![allow(clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// Processes per command: two orders of three entries agree by chance one
/// time in six, four processes one time in 216.
const PROCESSES: usize = 4;

/// The reference's clock, fixed so its events carry the same timestamp.
const NOW: &str = "2026-01-01T00:00:00Z";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn fixture(relative: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/determinism").join(relative).display().to_string()
}

/// One process's output: its exit code and stdout.
#[derive(Debug, PartialEq)]
struct Output {
    code: Option<i32>,
    stdout: Vec<u8>,
}

fn harness(args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_ufc-harness"))
        .args(args)
        .current_dir(repo())
        .output()
        .unwrap_or_else(|e| panic!("ufc-harness {args:?} does not start: {e}"));
    assert!(
        !String::from_utf8_lossy(&output.stderr).contains("panicked"),
        "ufc-harness {args:?} panicked: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Output { code: output.status.code(), stdout: output.stdout }
}

/// Runs `args` in [`PROCESSES`] processes, `normalize`s each stdout, and
/// asserts that every process gave the same bytes and exit code; returns
/// the first output.
fn same_in_every_process(args: &[&str], mut normalize: impl FnMut(Vec<u8>) -> Vec<u8>) -> Output {
    let outputs: Vec<Output> = (0..PROCESSES)
        .map(|_| {
            let output = harness(args);
            Output { stdout: normalize(output.stdout), ..output }
        })
        .collect();
    for (index, other) in outputs.iter().enumerate().skip(1) {
        assert_eq!(outputs[0].code, other.code, "process {} exited differently for {args:?}", index + 1);
        assert!(
            outputs[0].stdout == other.stdout,
            "process {} wrote other bytes for {args:?}:\n--- process 1\n{}\n--- process {}\n{}",
            index + 1,
            String::from_utf8_lossy(&outputs[0].stdout),
            index + 1,
            String::from_utf8_lossy(&other.stdout)
        );
    }
    outputs.into_iter().next().unwrap_or_else(|| panic!("no process ran"))
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&output.stdout)))
}

fn eval(extra: &[&str]) -> Value {
    let mut args = vec!["eval", "--now", NOW];
    args.extend_from_slice(extra);
    let output = same_in_every_process(&args, |bytes| bytes);
    assert_eq!(output.code, Some(0), "{args:?}");
    json(&output)
}

#[test]
fn eval_gives_the_same_bytes_in_every_process() {
    let flags = fixture("ufc/flags-v1.json");

    // Variations sharing a key: the same one, served every time.
    let out = eval(&["--config", &flags, "--flag", "shared-variation-key", "--subject", "alice"]);
    assert_eq!(out["value"], 3, "{out}");

    // Allocations sharing a key: the details list both, in flag order.
    let out = eval(&[
        "--config",
        &flags,
        "--flag",
        "shared-allocation-key",
        "--subject",
        "sam",
        "--attributes",
        r#"{"country": "US"}"#,
    ]);
    assert_eq!(out["value"], "off", "{out}");
    assert_eq!(out["evaluationDetails"]["matchedAllocation"]["orderPosition"], 2, "{out}");
    assert_eq!(out["evaluationDetails"]["unmatchedAllocations"][0]["key"], "same", "{out}");

    // An event with many attributes and extraLogging entries.
    let out = eval(&[
        "--config",
        &flags,
        "--flag",
        "wide-event",
        "--subject",
        "wendy",
        "--attributes",
        r#"{"h": 8, "g": "7", "f": true, "e": 5.5, "d": "4", "c": null, "b": 2, "a": "1"}"#,
    ]);
    let event = out["assignmentEvent"].as_object().unwrap_or_else(|| panic!("no event: {out}"));
    assert!(["alpha", "beta", "mu", "omega", "zeta"].iter().all(|k| event.contains_key(*k)), "{out}");

    // Broken precomputed flags: one list, in one order.
    let out = eval(&["--config", &fixture("precomputed-broken.json"), "--flag", "readable", "--subject", "anyone"]);
    let errors = out["configurationErrors"].as_array().unwrap_or_else(|| panic!("no errors listed: {out}"));
    assert_eq!(errors.len(), 5, "{out}");

    // Bandits: a three-way tie on equal scores, and a repeated action key.
    let bandits = repo().join("ufc-fixtures/bandits");
    let (config, models) = (
        bandits.join("flags-v1.json").display().to_string(),
        bandits.join("bandit-models-v1.json").display().to_string(),
    );
    for actions in [
        r#"[{"actionKey": "cherry"}, {"actionKey": "apple"}, {"actionKey": "banana"}, {"actionKey": "date"}]"#,
        r#"[{"actionKey": "apple", "numericAttributes": {"boost": 1}}, {"actionKey": "banana"},
            {"actionKey": "apple"}, {"actionKey": "cherry", "numericAttributes": {"boost": 1}}]"#,
    ] {
        let out = eval(&[
            "--config",
            &config,
            "--bandit-models",
            &models,
            "--flag",
            "bf-ties",
            "--subject",
            "tie-pair-best",
            "--default",
            "default",
            "--actions",
            actions,
        ]);
        assert!(out["value"]["action"].is_string(), "{out}");
    }
}

/// Replaces the `timestamp` of every event in a case's answers (and, after
/// `run --repeat`, in each process's): an adapter logs with its own clock.
/// Nothing else is touched; returns how many were replaced.
fn mask_event_timestamps(report: &mut Value) -> usize {
    let mut masked = 0;
    for case in report["cases"].as_array_mut().into_iter().flatten() {
        let Some(case) = case.as_object_mut() else { continue };
        let mut results: Vec<&mut Value> = Vec::new();
        for (key, value) in case.iter_mut() {
            match key.as_str() {
                "observed" => results.push(value),
                "answers" => {
                    results.extend(value.as_array_mut().into_iter().flatten().filter_map(|a| a.get_mut("result")))
                }
                _ => {}
            }
        }
        for result in results {
            for events in ["assignmentEvents", "banditEvents"] {
                for event in result.get_mut(events).and_then(Value::as_array_mut).into_iter().flatten() {
                    if let Some(timestamp) = event.get_mut("timestamp") {
                        *timestamp = Value::from("<masked>");
                        masked += 1;
                    }
                }
            }
        }
    }
    masked
}

#[test]
fn run_reports_are_the_same_bytes_in_every_process() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("no temporary directory: {e}"));
    // The fake adapter answers wrongly, so its answers (events and their
    // wall-clock timestamps included) are in the report.
    let fake = format!("fake={} --wrong-answers", env!("CARGO_BIN_EXE_ufc-fake-adapter"));
    let builtin = repo().display().to_string();
    for (name, suite, filter) in
        [("duplicates", fixture(""), "*"), ("bandits", builtin.clone(), "bandits/*"), ("builtin", builtin, "*")]
    {
        let sink = |ext: &str| dir.path().join(format!("{name}.{ext}")).display().to_string();
        let (junit, markdown, html) = (sink("xml"), sink("md"), sink("html"));
        let args = [
            "run",
            "--suite",
            &suite,
            "--filter",
            filter,
            "--now",
            NOW,
            "--adapter",
            &fake,
            "--format",
            "json",
            "--junit",
            &junit,
            "--markdown",
            &markdown,
            "--html",
            &html,
        ];
        let mut masked_counts = Vec::new();
        let read = |path: &str| std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let mut sinks = Vec::new();
        let output = same_in_every_process(&args, |bytes| {
            let mut report: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("not JSON: {e}"));
            masked_counts.push(mask_event_timestamps(&mut report));
            // The other sinks of this process, read before the next overwrites them.
            sinks.push([read(&junit), read(&markdown), read(&html)]);
            serde_json::to_vec_pretty(&report).unwrap_or_default()
        });
        assert_eq!(output.code, Some(1), "{name}: the fake's wrong answers fail the run");
        assert!(masked_counts.iter().all(|n| *n > 0), "{name}: no event timestamp was masked");
        assert!(sinks.windows(2).all(|pair| pair[0] == pair[1]), "{name}: JUnit, Markdown or HTML differ");
        let report = json(&output);
        let cases = report["cases"].as_array().map_or(0, Vec::len);
        assert!(cases > 0, "{name}: no case ran");
    }
}
