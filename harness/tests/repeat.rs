//! Nondeterminism is a finding of its own (issue 13): `run --repeat N` and
//! `fuzz --repeat N` put the same cases to every party in N fresh
//! processes, and a party that answers differently between them is
//! reported as nondeterministic, with each process's answer, never as an
//! ordinary failure. The fake adapter's `--nondeterministic` mixes its
//! process id into the answers of the cases whose id has an odd byte sum;
//! without it, the fake answers like the reference in every process (its
//! events carry its own clock, which must not count).

// Helpers outside #[test] functions fail by panicking too.
#![allow(clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use ufc_harness::fuzz::{fuzz, write_findings, Budget, FuzzOptions};
use ufc_harness::party::adapter::{AdapterOptions, AdapterParty};
use ufc_harness::party::reference::ReferenceParty;
use ufc_harness::party::{ConfigSet, Party, Question};
use ufc_protocol::exit_codes;

const FAKE: &str = env!("CARGO_BIN_EXE_ufc-fake-adapter");

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The cases `--nondeterministic` touches.
fn touched(case_id: &str) -> bool {
    case_id.bytes().map(u64::from).sum::<u64>() % 2 == 1
}

struct Run {
    code: Option<i32>,
    report: Value,
    junit: String,
    markdown: String,
    html: String,
    text: String,
}

/// `run` over two groups of the built-in suite (so a fresh process serves
/// each group) against the fake with `fake_args`.
fn run(fake_args: &str, repeat: &str) -> Run {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("no temporary directory: {e}"));
    let path = |name: &str| dir.path().join(name).display().to_string();
    let (json, junit, markdown, html) = (path("run.json"), path("run.xml"), path("run.md"), path("run.html"));
    let fake = format!("fake={FAKE} {fake_args}");
    let output = Command::new(env!("CARGO_BIN_EXE_ufc-harness"))
        .args(["run", "--filter", "{allocations,types}/*", "--adapter", &fake, "--repeat", repeat])
        .args(["--json", &json, "--junit", &junit, "--markdown", &markdown, "--html", &html])
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("ufc-harness does not start: {e}"));
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let report = serde_json::from_str(&read(&json)).unwrap_or_else(|e| panic!("the report is not JSON: {e}"));
    Run {
        code: output.status.code(),
        report,
        junit: read(&junit),
        markdown: read(&markdown),
        html: read(&html),
        text: String::from_utf8_lossy(&output.stdout).into_owned(),
    }
}

/// The schema errors of `document` against `docs/<schema>`.
fn schema_errors(schema: &str, document: &Value) -> Vec<String> {
    let path = repo().join("docs").join(schema);
    let text = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let schema: Value = serde_json::from_slice(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let validator = jsonschema::draft202012::new(&schema).unwrap_or_else(|e| panic!("not a schema: {e}"));
    validator.iter_errors(document).map(|e| format!("{e} at {}", e.instance_path())).collect()
}

fn cases_of<'r>(report: &'r Value, party: &'r str) -> impl Iterator<Item = &'r Value> + 'r {
    report["cases"].as_array().into_iter().flatten().filter(move |c| c["party"] == party)
}

#[test]
fn run_repeat_reports_a_nondeterministic_party_as_such() {
    let run = run("--nondeterministic", "3");
    assert_eq!(run.code, Some(exit_codes::NONDETERMINISTIC), "{}", run.text);
    assert_eq!(run.report["reportVersion"], 2);
    let errors = schema_errors("report-schema.json", &run.report);
    assert!(errors.is_empty(), "the report does not follow its schema:\n{}", errors.join("\n"));
    assert_eq!(run.report["repeat"], 3);
    let fake: Vec<&Value> = cases_of(&run.report, "fake").collect();
    assert!(fake.len() > 20, "{} cases", fake.len());
    let mut nondeterministic = 0;
    for case in &fake {
        let id = case["caseId"].as_str().unwrap_or_default();
        if !touched(id) {
            assert_eq!(case["status"], "passed", "{case}");
            assert!(case.get("answers").is_none(), "{case}");
            continue;
        }
        nondeterministic += 1;
        // Its own status, with no differences weighed: not a failure.
        assert_eq!(case["status"], "nondeterministic", "{case}");
        assert_eq!(case["differences"], Value::Array(Vec::new()), "{case}");
        let answers = case["answers"].as_array().unwrap_or_else(|| panic!("no answers: {case}"));
        let processes: Vec<&Value> = answers.iter().map(|a| &a["process"]).collect();
        assert_eq!(processes, [1, 2, 3], "{case}");
        let values: Vec<String> = answers.iter().map(|a| a["result"]["value"].to_string()).collect();
        assert!(values[0] != values[1] && values[1] != values[2] && values[0] != values[2], "{values:?}");
    }
    assert!(nondeterministic > 5, "{nondeterministic} nondeterministic cases");
    let summary = &run.report["parties"][1]["summary"];
    assert_eq!(summary["nondeterministic"], nondeterministic, "{summary}");
    assert_eq!((&summary["failed"], &summary["errored"]), (&Value::from(0), &Value::from(0)), "{summary}");
    // The reference, asked three times too, answers alike.
    assert!(cases_of(&run.report, "reference").all(|c| c["status"] == "passed"));
    assert!(run.report["summary"].get("nondeterministic").is_some());

    // Every sink says so.
    assert!(run
        .junit
        .contains(r#"<failure type="nondeterministic" message="answers differ between 3 fresh processes">"#));
    assert!(run.junit.contains("process 3: "), "{}", run.junit);
    assert!(run.markdown.contains("### nondeterministic: the party answered differently in different processes"));
    assert!(run.markdown.contains("| nondeterministic |"), "{}", run.markdown);
    assert!(run.html.contains(r#"{"s":"nondeterministic","#), "the page lists the nondeterministic cells");
    assert!(run.html.contains(r#""d":"process 1: "#), "a nondeterministic cell opens on each process's answer");
    assert!(run.text.contains("NONDETERMINISTIC "), "{}", run.text);
    assert!(run.text.contains(&format!("{nondeterministic} nondeterministic (each party asked in 3 fresh processes)")));
}

#[test]
fn run_repeat_does_not_report_a_deterministic_party() {
    let run = run("", "3");
    assert_eq!(run.code, Some(exit_codes::SUCCESS), "{}", run.text);
    assert!(run.report["cases"].as_array().is_some_and(|c| c.iter().all(|c| c["status"] == "passed")));
    assert!(run.report["summary"].get("nondeterministic").is_none(), "{}", run.report["summary"]);

    // Wrong in every process alike is an ordinary failure.
    let run = self::run("--wrong-answers", "3");
    assert_eq!(run.code, Some(exit_codes::FAILURES), "{}", run.text);
    let fake: Vec<&Value> = cases_of(&run.report, "fake").collect();
    assert!(fake.iter().all(|c| c["status"] == "failed" && c.get("answers").is_none()));
}

#[test]
fn run_repeat_reports_a_crash_in_one_process_as_an_error_not_as_nondeterminism() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("no temporary directory: {e}"));
    let state = dir.path().join("crashed-once").display().to_string();
    // The first process crashes at its first batch; the others answer.
    let run = run(&format!("--crash-after 0 --once-only --state {state}"), "3");
    assert_eq!(run.code, Some(exit_codes::ERRORS), "{}", run.text);
    let fake: Vec<&Value> = cases_of(&run.report, "fake").collect();
    let errored: Vec<&&Value> = fake.iter().filter(|c| c["status"] == "errored").collect();
    assert!(!errored.is_empty(), "{}", run.text);
    for case in &errored {
        let error = case["error"].as_str().unwrap_or_default();
        assert!(error.starts_with("in process 1 of 3: "), "{error}");
    }
    assert!(fake.iter().all(|c| c["status"] == "errored" || c["status"] == "passed"), "{}", run.text);
}

#[test]
fn a_restart_gives_a_new_process_and_spends_no_restart_budget() {
    let options = AdapterOptions { max_restarts: 0, ..AdapterOptions::default() };
    let mut fake = AdapterParty::spawn("fake", vec![FAKE.to_owned()], options)
        .unwrap_or_else(|e| panic!("the fake adapter starts: {e}"));
    let first = fake.pid();
    // A process asked nothing yet is fresh already: it stays.
    fake.restart();
    assert_eq!(fake.pid(), first);
    let flags = repo().join("ufc-fixtures/allocations/flags-v1.json");
    let config = ConfigSet { flags: ufc_protocol::Source::Path(flags), bandit_models: None, precomputed: None };
    fake.configure(&config).unwrap_or_else(|e| panic!("the configuration loads: {e}"));
    fake.restart();
    assert_eq!(fake.pid(), None, "the used process is shut down");
    fake.configure(&config).unwrap_or_else(|e| panic!("the fresh process takes the configuration: {e}"));
    assert!(fake.pid().is_some_and(|pid| Some(pid) != first));
    assert_eq!(fake.restarts(), 0);
    let input = ufc_protocol::CaseInput::Flag(ufc_protocol::FlagCase {
        flag: "first-wins".into(),
        variation_type: ufc_protocol::VariationType::String,
        default_value: Value::from("d"),
        subject_key: "alice".into(),
        subject_attributes: serde_json::Map::new(),
    });
    let replies = fake.evaluate(&[Question { id: "x", input: &input }]);
    assert!(replies[0].is_ok(), "{replies:?}");
}

fn fuzz_against(fake_args: &[&str]) -> ufc_harness::fuzz::FuzzReport {
    let mut command = vec![FAKE.to_owned()];
    command.extend(fake_args.iter().map(|a| (*a).to_owned()));
    let fake = AdapterParty::spawn("fake", command, AdapterOptions::default())
        .unwrap_or_else(|e| panic!("the fake adapter starts: {e}"));
    let now = chrono::Utc::now();
    let mut parties: Vec<Box<dyn Party>> = vec![Box::new(ReferenceParty::new(now)), Box::new(fake)];
    let options = FuzzOptions {
        seed: 3,
        budget: Budget::Cases(96),
        batch_size: 32,
        bandits: false,
        repeat: 3,
        max_queued: 2,
        max_minimize_steps: 20,
        ..FuzzOptions::default()
    };
    fuzz(&mut parties, &options, &|_| {})
}

#[test]
fn fuzz_repeat_reports_a_nondeterministic_party_as_such() {
    let report = fuzz_against(&["--nondeterministic"]);
    assert_eq!(report.exit_code(), exit_codes::NONDETERMINISTIC);
    // Its differing cases are its finding, not disagreements.
    assert!(
        report.findings.is_empty(),
        "{:?}",
        report
            .findings
            .iter()
            .map(|f| (f.signature.text(), f.original_case_id.clone(), touched(&f.original_case_id), f.case_ids.clone()))
            .collect::<Vec<_>>()
    );
    assert_eq!(report.nondeterministic.len(), 1);
    let found = &report.nondeterministic[0];
    assert_eq!(found.party, "fake");
    assert!(found.occurrences >= found.cases.len() as u64 && !found.cases.is_empty());
    for case in &found.cases {
        assert!(touched(&case.case_id), "{} is not a case the fake spoils", case.case_id);
        assert_eq!(case.answers.len(), 3);
        assert!(case.answers.iter().all(Option::is_some), "{:?}", case.answers);
        assert!(case.answers[0] != case.answers[1] && case.answers[1] != case.answers[2]);
    }

    let out = tempfile::tempdir().unwrap_or_else(|e| panic!("no temporary directory: {e}"));
    write_findings(&report, out.path()).unwrap_or_else(|e| panic!("the findings are written: {e}"));
    let read = |relative: &Path| -> Value {
        let bytes = std::fs::read(out.path().join(relative)).unwrap_or_else(|e| panic!("{}: {e}", relative.display()));
        serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", relative.display()))
    };
    let summary = read(Path::new("summary.json"));
    let errors = schema_errors("report-schemas/fuzz-summary.schema.json", &summary);
    assert!(errors.is_empty(), "summary.json does not follow its schema:\n{}", errors.join("\n"));
    assert_eq!((&summary["reportVersion"], &summary["repeat"]), (&Value::from(2), &Value::from(3)));
    let entry = &summary["nondeterministic"][0];
    assert_eq!(entry["party"], "fake");
    assert!(entry["reproduce"].as_str().is_some_and(|r| r.ends_with("--repeat 3")), "{entry}");
    let file = read(Path::new(entry["file"].as_str().unwrap_or_default()));
    assert_eq!(file["class"], "nondeterministic");
    assert_eq!(file["cases"][0]["answers"].as_array().map(Vec::len), Some(3), "{file}");
    let markdown = std::fs::read_to_string(out.path().join("summary.md")).unwrap_or_default();
    assert!(markdown.contains("## Nondeterministic parties"), "{markdown}");
}

#[test]
fn fuzz_repeat_does_not_report_a_deterministic_party() {
    let report = fuzz_against(&[]);
    assert!(report.nondeterministic.is_empty(), "{:?}", report.nondeterministic);
    assert_eq!(report.exit_code(), exit_codes::SUCCESS);
    // Wrong in every process alike is an ordinary finding.
    let report = fuzz_against(&["--wrong-answers"]);
    assert!(report.nondeterministic.is_empty(), "{:?}", report.nondeterministic);
    assert!(!report.findings.is_empty());
    assert_eq!(report.exit_code(), exit_codes::FAILURES);
}

#[test]
fn the_fuzz_command_takes_least_severity() {
    // A fake that only rewords descriptions differs in a minor field: no
    // finding by default (major and up, as `run --fail-on`), findings of
    // wording with `--least-severity minor`, whose reproduce says so.
    let fuzz = |extra: &[&str]| {
        let out = tempfile::tempdir().unwrap_or_else(|e| panic!("no temporary directory: {e}"));
        let fake = format!("fake={FAKE} --reworded");
        let output = Command::new(env!("CARGO_BIN_EXE_ufc-harness"))
            .args(["fuzz", "--adapter", &fake, "--cases", "64", "--no-bandits", "--out"])
            .arg(out.path())
            .args(extra)
            .current_dir(repo())
            .output()
            .unwrap_or_else(|e| panic!("ufc-harness does not start: {e}"));
        (output.status.code(), String::from_utf8_lossy(&output.stdout).into_owned())
    };
    let (code, stdout) = fuzz(&[]);
    assert_eq!(code, Some(exit_codes::SUCCESS), "{stdout}");
    let (code, stdout) = fuzz(&["--least-severity", "minor"]);
    assert_eq!(code, Some(exit_codes::FAILURES), "{stdout}");
    assert!(stdout.contains("details-wording | fake vs reference"), "{stdout}");
    assert!(stdout.contains("--least-severity minor"), "{stdout}");
}

#[test]
fn the_fuzz_command_takes_repeat() {
    let out = tempfile::tempdir().unwrap_or_else(|e| panic!("no temporary directory: {e}"));
    let fake = format!("fake={FAKE} --nondeterministic");
    let output = Command::new(env!("CARGO_BIN_EXE_ufc-harness"))
        .args(["fuzz", "--adapter", &fake, "--cases", "64", "--no-bandits", "--repeat", "3", "--out"])
        .arg(out.path())
        .current_dir(repo())
        .output()
        .unwrap_or_else(|e| panic!("ufc-harness does not start: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(exit_codes::NONDETERMINISTIC), "{stdout}");
    assert!(stdout.contains("nondeterministic: fake answered "), "{stdout}");
    assert!(out.path().join("nondeterministic/fake.json").is_file());
}
