//! The release gate, through the real binary with the fake adapter as the
//! SDK under test: a run, and a scenarios run, split into shares and merged is
//! the whole run; a regression planted against a baseline fails `--fail-on-regression` and
//! is the first case every output format names; `--compare` sets one SDK
//! against another; badges say each SDK's share.

// Test helpers outside #[test] functions fail by panicking too.
#![allow(clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The fixed clock, so that the reference's answers do not move between runs.
const NOW: &str = "2030-01-01T00:00:00Z";

fn harness(args: &[&str]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_ufc-harness"))
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .env("NO_COLOR", "1")
        .output()
        .expect("ufc-harness runs");
    let code = output.status.code().unwrap_or(-1);
    assert_ne!(code, 2, "usage error for {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    (code, String::from_utf8_lossy(&output.stdout).into_owned())
}

fn fake(name: &str, misbehaviour: &str) -> String {
    format!("{name}={} {misbehaviour}", env!("CARGO_BIN_EXE_ufc-fake-adapter"))
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The report's text with every clock reading an SDK takes itself (the
/// events' `timestamp`, details' `configFetchedAt`) blanked: the "timings
/// aside" of a comparison byte for byte.
fn without_timestamps(text: &str) -> String {
    text.lines()
        .map(|line| {
            for key in ["\"timestamp\": \"", "\"configFetchedAt\": \""] {
                if let Some(at) = line.find(key) {
                    return format!("{}{key}…\"{}", &line[..at], if line.ends_with(',') { "," } else { "" });
                }
            }
            line.to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The report's text with the contents of every failing step's CDN request
/// log (`requestLog`) blanked, the timings of a scenarios report: when
/// each request came (`atMs`), from which ephemeral port (`host`), and so
/// how many polls fell within a wait. Whether a step has a log stays.
fn without_request_logs(text: &str) -> String {
    let mut kept = Vec::new();
    // The indentation of the log being skipped, while in one.
    let mut skipping: Option<String> = None;
    for line in text.lines() {
        let indent = &line[..line.len() - line.trim_start().len()];
        match &skipping {
            Some(open) => {
                if indent == open && line.trim_start().starts_with(']') {
                    kept.push(format!("{open}\"requestLog\": […]{}", if line.ends_with(',') { "," } else { "" }));
                    skipping = None;
                }
            }
            None if line.trim_start() == "\"requestLog\": [" => skipping = Some(indent.to_owned()),
            None => kept.push(line.to_owned()),
        }
    }
    kept.join("\n")
}

#[test]
fn shares_of_a_run_merge_into_the_whole_run_byte_for_byte() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    // Failures and skipped cases both, so that order and totals are tested.
    let sdk = fake("fake", "--without bandits --wrong-for operators/*");
    let path = |name: &str| dir.path().join(name).display().to_string();
    let (whole_code, _) = harness(&["run", "--adapter", &sdk, "--now", NOW, "--json", &path("whole.json")]);
    assert_eq!(whole_code, 1, "the wrong answers fail the whole run");
    let whole = read_json(&dir.path().join("whole.json"));
    let mut shares: Vec<String> = Vec::new();
    let mut share_sizes = Vec::new();
    for k in 1..=3 {
        let file = path(&format!("share-{k}.json"));
        let partition = format!("{k}/3");
        harness(&["run", "--adapter", &sdk, "--now", NOW, "--partition", &partition, "--json", &file]);
        let share = read_json(Path::new(&file));
        assert_eq!(share["partition"]["index"], k);
        share_sizes.push(share["cases"].as_array().map_or(0, Vec::len));
        shares.push(file);
    }
    let total = whole["cases"].as_array().map_or(0, Vec::len);
    assert_eq!(share_sizes.iter().sum::<usize>(), total, "the shares {share_sizes:?} split the {total} cases");
    assert!(share_sizes.iter().all(|&n| n > 0 && n < total), "{share_sizes:?}");

    // In another order than written: the merge does not depend on it.
    let merged = path("merged.json");
    let (merge_code, _) = harness(&["merge", &shares[2], &shares[0], &shares[1], "--json", &merged]);
    assert_eq!(merge_code, whole_code, "merge exits as the whole run did");
    let whole_text = std::fs::read_to_string(dir.path().join("whole.json")).expect("the whole report");
    let merged_text = std::fs::read_to_string(&merged).expect("the merged report");
    assert!(
        whole["summary"]["skipped"].as_u64().is_some_and(|n| n > 0) && whole["summary"]["failed"].as_u64() > Some(0)
    );
    assert!(
        without_timestamps(&whole_text) == without_timestamps(&merged_text),
        "the merged report differs from the whole run's"
    );

    // A share missing, or given twice, is refused with what is wrong.
    let output = Command::new(env!("CARGO_BIN_EXE_ufc-harness"))
        .args(["merge", &shares[0], &shares[1]])
        .output()
        .expect("ufc-harness runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("missing share 3"));
    let output = Command::new(env!("CARGO_BIN_EXE_ufc-harness"))
        .args(["merge", &shares[0], &shares[0], &shares[1], &shares[2]])
        .output()
        .expect("ufc-harness runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("given twice"));
}

/// Where in `text` a case id is first named, if it is.
fn first_named<'a>(text: &str, ids: &'a [String]) -> Option<&'a str> {
    ids.iter().filter_map(|id| text.find(id.as_str()).map(|at| (at, id.as_str()))).min().map(|(_, id)| id)
}

#[test]
fn a_planted_regression_fails_the_gate_and_is_named_first_in_every_format() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = |name: &str| dir.path().join(name).display().to_string();
    // The baseline: every operators case fails already.
    let before = "--wrong-for operators/*";
    let (code, _) =
        harness(&["run", "--adapter", &fake("sdk", before), "--now", NOW, "--json", &path("baseline.json")]);
    assert_eq!(code, 1);
    let baseline = read_json(&dir.path().join("baseline.json"));
    let cases = baseline["cases"].as_array().cloned().unwrap_or_default();
    // The planted regression: the last case of the run, after every
    // failing operators case, so that leading with it is not case order.
    let planted = cases
        .iter()
        .rev()
        .find(|c| c["party"] == "sdk" && c["status"] == "passed")
        .and_then(|c| c["caseId"].as_str())
        .expect("a passing case")
        .to_owned();
    assert!(!planted.starts_with("operators/"));
    let now = fake("sdk", &format!("{before} --wrong-for {planted}"));
    let gate = ["--baseline", &path("baseline.json"), "--fail-on-regression"];

    // Unchanged failures alone pass the gate (and fail a plain run).
    let (code, _) = harness(&[&["run", "--adapter", &fake("sdk", before), "--now", NOW][..], &gate[..]].concat());
    assert_eq!(code, 0, "no regression: the gate passes although cases fail");

    let run = |extra: &[&str]| harness(&[&["run", "--adapter", &now, "--now", NOW][..], &gate[..], extra].concat());
    let (code, text) = run(&[
        "--json",
        &path("now.json"),
        "--junit",
        &path("now.xml"),
        "--markdown",
        &path("now.md"),
        "--html",
        &path("now.html"),
    ]);
    assert_eq!(code, 1, "the regression fails the gate");
    let report = read_json(&dir.path().join("now.json"));
    let failing: Vec<String> = report["cases"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["status"] == "failed")
        .filter_map(|c| c["caseId"].as_str().map(str::to_owned))
        .collect();
    assert!(failing.len() > 10 && failing.contains(&planted), "{} failing", failing.len());
    let comparison = &report["comparison"];
    assert_eq!(comparison["counts"]["regressions"], 1);
    assert_eq!(comparison["regressions"][0]["caseId"], planted.as_str());
    assert_eq!(comparison["regressions"][0]["before"], "passed");
    let planted_case = report["cases"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["caseId"] == planted.as_str() && c["party"] == "sdk");
    assert!(planted_case.is_some_and(|c| c["change"] == "regression"));

    let json_text = std::fs::read_to_string(dir.path().join("now.json")).expect("the JSON report");
    let junit = std::fs::read_to_string(dir.path().join("now.xml")).expect("the JUnit report");
    let markdown = std::fs::read_to_string(dir.path().join("now.md")).expect("the Markdown report");
    let html = std::fs::read_to_string(dir.path().join("now.html")).expect("the HTML report");
    let formats =
        [("terminal", &text), ("JSON", &json_text), ("JUnit", &junit), ("Markdown", &markdown), ("HTML", &html)];
    for (format, output) in formats {
        assert_eq!(
            first_named(output, &failing),
            Some(planted.as_str()),
            "the {format} output names another case first"
        );
    }
    assert!(junit.contains("<failure type=\"regression\""));
    // The page opens on the comparison, before its summary.
    let baseline_at = html.find("<section id=\"baseline\"><h2>Against the baseline</h2>");
    assert!(baseline_at.is_some() && baseline_at < html.find("<section id=\"summary\">"), "no baseline section first");
    assert!(html.contains("1 regression, 0 fixed, 0 new, 0 removed"), "the counts line");
    // The stdout formats lead with it too.
    for format in ["json", "junit", "markdown"] {
        let (code, output) = run(&["--format", format]);
        assert_eq!(code, 1);
        assert_eq!(first_named(&output, &failing), Some(planted.as_str()), "--format {format}");
    }
}

#[test]
fn compare_sets_each_sdk_against_the_one_before_it() {
    let (code, text) = harness(&[
        "run",
        "--filter",
        "types/*",
        "--adapter",
        &fake("old", ""),
        "--adapter",
        &fake("new", "--wrong-for types/boolean/*"),
        "--compare",
        "--fail-on-regression",
        "--format",
        "json",
    ]);
    assert_eq!(code, 1);
    let report: Value = serde_json::from_str(&text).expect("a JSON report");
    let regressions = report["comparison"]["regressions"].as_array().cloned().unwrap_or_default();
    let failed = report["cases"].as_array().into_iter().flatten().filter(|c| c["status"] == "failed").count();
    assert!(
        !regressions.is_empty() && regressions.len() == failed,
        "{} regressions, {failed} failed",
        regressions.len()
    );
    assert!(regressions.iter().all(|r| r["party"] == "new" && r["baselineParty"] == "old"));
    // The first SDK and the reference have no baseline.
    assert!(report["cases"].as_array().into_iter().flatten().all(|c| c["party"] == "new" || c.get("change").is_none()));
}

#[test]
fn badges_give_each_sdk_its_share_of_passed_cases() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let badges: PathBuf = dir.path().join("badges");
    let badges_arg = badges.display().to_string();
    let (_, text) = harness(&[
        "run",
        "--adapter",
        &fake("fake", "--wrong-for operators/*"),
        "--format",
        "json",
        "--badges",
        &badges_arg,
    ]);
    let report: Value = serde_json::from_str(&text).expect("a JSON report");
    let summary = &report["parties"][1]["summary"];
    let count = |key: &str| summary[key].as_u64().unwrap_or(0);
    let percent = count("passed") * 100 / (count("total") - count("skipped"));
    assert!(percent < 100);
    let badge = read_json(&badges.join("fake.json"));
    assert_eq!(badge["schemaVersion"], 1);
    assert_eq!(badge["message"], format!("{percent}% conformant"));
    assert!(badge["color"].is_string() && badge["label"].is_string());
    assert!(!badges.join("reference.json").exists(), "the reference has no badge");
}

#[test]
fn shares_of_the_scenarios_merge_into_the_whole_scenarios_run_byte_for_byte() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = |name: &str| dir.path().join(name).display().to_string();
    // Two SDKs, one breaking the polling promise, so that failures, the
    // party order and the totals of each party are all put back together.
    let (good, broken) = (fake("good", ""), fake("broken", "--never-repoll"));
    // Scenarios of each share (by the MD5 of their names) that take seconds,
    // not the whole folder's minute; two of them fail for the broken SDK.
    let some = "{bandit-model-missing,before-first-configuration,first-fetch-hangs-past-init-timeout,logger-*,\
                dedup-*,request-hygiene-poll-cadence,poll-picks-up-change}";
    let scenarios = |extra: &[&str]| {
        let sdks = ["scenarios", "--filter", some, "--adapter", &good, "--adapter", &broken];
        harness(&[&sdks[..], extra].concat()).0
    };
    let whole_code = scenarios(&["--json", &path("whole.json")]);
    assert_eq!(whole_code, 1, "the broken SDK fails the whole run");
    let whole = read_json(&dir.path().join("whole.json"));
    let step_ids = |report: &Value| -> Vec<String> {
        let cases = report["cases"].as_array().into_iter().flatten();
        cases.filter_map(|c| c["caseId"].as_str().map(str::to_owned)).collect()
    };
    let whole_ids = step_ids(&whole);
    // The scenario of a step: its case id is scenario/<name>/<step>.
    let scenario_of = |id: &str| id.rsplit_once('/').map_or(id.to_owned(), |(scenario, _)| scenario.to_owned());
    let mut shares = Vec::new();
    let mut share_sizes = Vec::new();
    for k in 1..=3 {
        let file = path(&format!("share-{k}.json"));
        scenarios(&["--partition", &format!("{k}/3"), "--json", &file]);
        let share = read_json(Path::new(&file));
        assert_eq!(share["partition"]["index"], k);
        let ids = step_ids(&share);
        // Whole scenarios: every step of a scenario in the share is there.
        for id in &ids {
            let scenario = scenario_of(id);
            let in_whole = whole_ids.iter().filter(|w| scenario_of(w) == scenario).count();
            let in_share = ids.iter().filter(|s| scenario_of(s) == scenario).count();
            assert_eq!(in_share, in_whole, "share {k} holds part of {scenario}");
        }
        share_sizes.push(ids.len());
        shares.push(file);
    }
    let total = whole_ids.len();
    assert_eq!(share_sizes.iter().sum::<usize>(), total, "the shares {share_sizes:?} split the {total} steps");
    assert!(share_sizes.iter().all(|&n| n > 0 && n < total), "{share_sizes:?}");

    let merged = path("merged.json");
    let (merge_code, _) = harness(&["merge", &shares[1], &shares[2], &shares[0], "--json", &merged]);
    assert_eq!(merge_code, whole_code, "merge exits as the whole run did");
    assert!(whole["summary"]["failed"].as_u64() > Some(0) && whole["summary"]["passed"].as_u64() > Some(0));
    let whole_text = std::fs::read_to_string(dir.path().join("whole.json")).expect("the whole report");
    let merged_text = std::fs::read_to_string(&merged).expect("the merged report");
    assert!(whole_text.contains("\"requestLog\": [\n"), "failing steps carry their request log");
    let blank = |text: &str| without_request_logs(&without_timestamps(text));
    let (whole_text, merged_text) = (blank(&whole_text), blank(&merged_text));
    if whole_text != merged_text {
        let at = whole_text.lines().zip(merged_text.lines()).position(|(w, m)| w != m);
        panic!("the merged report differs from the whole run's, first at line {at:?}");
    }
}
