//! Identical inputs give identical bytes in every process (issue 13). Each
//! command runs in several fresh `ufc-harness` processes; Rust seeds every
//! `HashMap` anew in each process, so a hash map's iteration order that
//! reached an answer, a list or a report would show up as a difference.
//!
//! The inputs are the ones where such an order could decide something:
//! variations sharing a `key`, allocations sharing a key, events with many
//! keys, a precomputed file with several broken flags
//! (`tests/data/determinism/`), and the built-in `bandits` group's ties,
//! equal scores and repeated action keys; `run` covers the whole built-in
//! suite too, and `fuzz` its findings and summaries. Only what legitimately
//! changes between processes is masked: the timestamps of the events an
//! adapter logged with its own clock, and the times a fuzz run measures.

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
        masked += results.into_iter().map(mask_answer_timestamps).sum::<usize>();
    }
    masked
}

/// Replaces the `timestamp` of every event of one answer (a protocol
/// result); returns how many were replaced.
fn mask_answer_timestamps(result: &mut Value) -> usize {
    let mut masked = 0;
    for events in ["assignmentEvents", "banditEvents"] {
        for event in result.get_mut(events).and_then(Value::as_array_mut).into_iter().flatten() {
            if let Some(timestamp) = event.get_mut("timestamp") {
                *timestamp = Value::from("<masked>");
                masked += 1;
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

/// Replaces what a fuzz run measures with the clock in `summary.json`: its
/// wall time and each party's busy time and rate.
fn mask_fuzz_durations(summary: &mut Value) -> usize {
    let mut masked = 0;
    let mut mask = |slot: Option<&mut Value>| {
        if let Some(slot) = slot {
            *slot = Value::from("<masked>");
            masked += 1;
        }
    };
    mask(summary.get_mut("durationSeconds"));
    mask(summary.get_mut("minimizeSeconds"));
    for party in summary["parties"].as_array_mut().into_iter().flatten() {
        mask(party.get_mut("busySeconds"));
        mask(party.get_mut("casesPerSecond"));
    }
    masked
}

/// The same in `summary.md`: the run's seconds in its first paragraph and
/// the busy-time and rate columns of the throughput table.
fn mask_fuzz_markdown(text: &str) -> String {
    let mut in_throughput = false;
    let mut lines = Vec::new();
    for line in text.lines() {
        if line.starts_with("## ") {
            in_throughput = line == "## Throughput";
        }
        let masked = if line.starts_with("Seed ") {
            let (head, tail) = line.split_once(" cases in ").unwrap_or((line, ""));
            let rest = tail.split_once(" s. ").map_or(tail, |(_, rest)| rest);
            format!("{head} cases in <masked> s. {rest}")
        } else if let Some((head, tail)) = line.split_once(" round trips, ") {
            // The time spent minimizing.
            let rest = tail.split_once(" s)").map_or(tail, |(_, rest)| rest);
            format!("{head} round trips, <masked> s){rest}")
        } else if in_throughput && line.starts_with("| ") && !line.starts_with("| party") {
            let cells: Vec<&str> = line.split(" | ").collect();
            let kept = cells.len().saturating_sub(2);
            format!("{} | <masked> | <masked> |", cells[..kept].join(" | "))
        } else {
            line.to_owned()
        };
        lines.push(masked);
    }
    lines.join("\n")
}

/// The case list a report page embeds for its script.
fn embedded_case_list(html: &str) -> String {
    let start = r#"<script type="application/json" id="ufc-data">"#;
    let from = html.find(start).unwrap_or_else(|| panic!("no case list in the page")) + start.len();
    let to = from + html[from..].find("</script>").unwrap_or_else(|| panic!("the case list is not closed"));
    html[from..to].to_owned()
}

/// Files by relative path, with their (masked) bytes, sorted.
type Files = Vec<(String, Vec<u8>)>;

/// Every file a fuzz run wrote under `out`, with the summaries' measured
/// times masked and event timestamps masked in findings.
fn fuzz_outputs(out: &Path) -> Files {
    let mut files = Vec::new();
    let mut pending = vec![out.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())).flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let relative = path.strip_prefix(out).unwrap_or(&path).display().to_string();
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let bytes = match relative.as_str() {
                "summary.json" => {
                    let mut summary: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{e}"));
                    assert!(mask_fuzz_durations(&mut summary) >= 5, "no durations found to mask");
                    serde_json::to_vec_pretty(&summary).unwrap_or_default()
                }
                "summary.md" => mask_fuzz_markdown(&String::from_utf8_lossy(&bytes)).into_bytes(),
                // The page's run figures and throughput chart are timed; its
                // case list (findings, diffs, minimized cases) is not.
                "summary.html" => embedded_case_list(&String::from_utf8_lossy(&bytes)).into_bytes(),
                name if name.ends_with("finding.json") => {
                    let mut finding: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{e}"));
                    for case in finding["cases"].as_array_mut().into_iter().flatten() {
                        for answer in case["answers"].as_object_mut().into_iter().flat_map(|a| a.values_mut()) {
                            mask_answer_timestamps(answer);
                        }
                    }
                    serde_json::to_vec_pretty(&finding).unwrap_or_default()
                }
                _ => bytes,
            };
            files.push((relative, bytes));
        }
    }
    files.sort();
    files
}

#[test]
fn fuzz_findings_and_summaries_are_the_same_bytes_in_every_process() {
    let fake = format!("fake={} --wrong-answers", env!("CARGO_BIN_EXE_ufc-fake-adapter"));
    let runs: Vec<(Option<i32>, Files)> = (0..PROCESSES)
        .map(|_| {
            let out = tempfile::tempdir().unwrap_or_else(|e| panic!("no temporary directory: {e}"));
            let out_arg = out.path().display().to_string();
            let args = ["fuzz", "--adapter", &fake, "--seed", "5", "--cases", "200", "--batch-size", "40"];
            let output = harness(&[&args[..], &["--malformed", "--out", &out_arg]].concat());
            (output.code, fuzz_outputs(out.path()))
        })
        .collect();
    assert_eq!(runs[0].0, Some(1), "the fake's wrong answers are findings");
    let names: Vec<&str> = runs[0].1.iter().map(|(name, _)| name.as_str()).collect();
    assert!(names.iter().any(|n| n.ends_with("finding.json")), "{names:?}");
    for (index, run) in runs.iter().enumerate().skip(1) {
        let other: Vec<&str> = run.1.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, other, "process {} wrote other files", index + 1);
        for ((name, first), (_, bytes)) in runs[0].1.iter().zip(&run.1) {
            assert!(
                first == bytes,
                "process {} wrote other bytes to {name}:\n--- process 1\n{}\n--- process {}\n{}",
                index + 1,
                String::from_utf8_lossy(first),
                index + 1,
                String::from_utf8_lossy(bytes)
            );
        }
        assert_eq!(runs[0].0, run.0);
    }
}
