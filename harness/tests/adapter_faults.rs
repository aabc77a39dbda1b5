//! Misbehaving adapters are normal: each test runs a small hand-written suite
//! against the reference and the fake adapter (`ufc-fake-adapter`, a test
//! fixture), told to misbehave in one way, and checks that the run ends, that
//! the faulty batch's cases are errored with an explanation, and that every
//! other case keeps its verdict.
//!
//! The suite has three test files of three subjects each, so one batch per
//! file: `test-a-greeting` (STRING), `test-b-max-items` (INTEGER) and
//! `test-c-discount` (NUMERIC). No expected value equals its file's default,
//! so a batch passes only if the adapter holds the configuration: a pass
//! after a restart shows the configuration was replayed.

use std::path::Path;
use std::time::Duration;

use serde_json::json;
use tempfile::TempDir;
use ufc_harness::compare::Severity;
use ufc_harness::party::adapter::{AdapterError, AdapterOptions, AdapterParty, CASES_PER_REQUEST};
use ufc_harness::party::reference::ReferenceParty;
use ufc_harness::party::{ConfigSet, Party, Question};
use ufc_harness::run::{run, CaseOutcome, RunResult, RunSettings, Status};
use ufc_harness::suite::Suite;
use ufc_protocol::{BenchMode, BenchRequest, BenchSubject, Capability, Source, VariationType};

const FAKE: &str = "fake";
const FILES: [&str; 3] = ["test-a-greeting", "test-b-max-items", "test-c-discount"];

/// A suite in Eppo's layout, in a temporary directory that lives as long as it.
struct Fixture {
    dir: TempDir,
    suite: Suite,
}

fn flags() -> serde_json::Value {
    let everyone = |variation: &str| json!({"key": "everyone", "splits": [{"variationKey": variation, "shards": []}], "doLog": true});
    let when = |key: &str, attribute: &str, operator: &str, value: serde_json::Value, variation: &str| {
        json!({
            "key": key,
            "rules": [{"conditions": [{"attribute": attribute, "operator": operator, "value": value}]}],
            "splits": [{"variationKey": variation, "shards": []}],
            "doLog": true
        })
    };
    json!({
        "createdAt": "2024-04-17T19:40:53.716Z",
        "format": "SERVER",
        "environment": {"name": "Test"},
        "flags": {
            "greeting": {
                "key": "greeting", "enabled": true, "variationType": "STRING", "totalShards": 10000,
                "variations": {"howdy": {"key": "howdy", "value": "howdy"}, "hello": {"key": "hello", "value": "hello"}},
                "allocations": [when("americas", "country", "ONE_OF", json!(["US", "Canada"]), "howdy"), everyone("hello")]
            },
            "max-items": {
                "key": "max-items", "enabled": true, "variationType": "INTEGER", "totalShards": 10000,
                "variations": {"fifty": {"key": "fifty", "value": 50}, "ten": {"key": "ten", "value": 10}},
                "allocations": [when("adults", "age", "GTE", json!(18), "fifty"), everyone("ten")]
            },
            "discount": {
                "key": "discount", "enabled": true, "variationType": "NUMERIC", "totalShards": 10000,
                "variations": {"big": {"key": "big", "value": 0.25}, "small": {"key": "small", "value": 0.05}},
                "allocations": [when("members", "email", "MATCHES", json!("@members\\.example$"), "big"), everyone("small")]
            }
        }
    })
}

fn test_file(
    flag: &str,
    variation_type: &str,
    default: serde_json::Value,
    subjects: serde_json::Value,
) -> serde_json::Value {
    json!({"flag": flag, "variationType": variation_type, "defaultValue": default, "subjects": subjects})
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let tests = dir.path().join("ufc").join("tests");
    std::fs::create_dir_all(&tests).expect("ufc/tests is created");
    let write = |path: &Path, value: &serde_json::Value| {
        std::fs::write(path, serde_json::to_vec_pretty(value).expect("JSON encodes")).expect("fixture file is written");
    };
    write(&dir.path().join("ufc").join("flags-v1.json"), &flags());
    let subject = |key: &str, attributes: serde_json::Value, assignment: serde_json::Value| json!({"subjectKey": key, "subjectAttributes": attributes, "assignment": assignment});
    write(
        &tests.join("test-a-greeting.json"),
        &test_file(
            "greeting",
            "STRING",
            json!("no greeting"),
            json!([
                subject("alice", json!({"country": "US"}), json!("howdy")),
                subject("bob", json!({"country": "France"}), json!("hello")),
                subject("carol", json!({}), json!("hello")),
            ]),
        ),
    );
    write(
        &tests.join("test-b-max-items.json"),
        &test_file(
            "max-items",
            "INTEGER",
            json!(0),
            json!([
                subject("dave", json!({"age": 30}), json!(50)),
                subject("erin", json!({"age": 12}), json!(10)),
                subject("frank", json!({}), json!(10)),
            ]),
        ),
    );
    write(
        &tests.join("test-c-discount.json"),
        &test_file(
            "discount",
            "NUMERIC",
            json!(0.0),
            json!([
                subject("gina", json!({"email": "gina@members.example"}), json!(0.25)),
                subject("hank", json!({"email": "hank@example.com"}), json!(0.05)),
                subject("ivy", json!({}), json!(0.05)),
            ]),
        ),
    );
    let suite = Suite::load(dir.path()).expect("the fixture is a suite");
    assert!(suite.load_errors.is_empty(), "{:?}", suite.load_errors);
    assert_eq!(suite.cases.len(), 9);
    Fixture { dir, suite }
}

impl Fixture {
    /// `--state FILE` for `--once-only`, inside the fixture's directory.
    fn state_file(&self) -> String {
        self.dir.path().join("fake-adapter-state").to_string_lossy().into_owned()
    }

    fn config(&self) -> ConfigSet {
        ConfigSet { flags: Source::Path(self.suite.groups[0].flags.clone()), bandit_models: None, precomputed: None }
    }
}

/// Generous limits: nothing in these tests should come near them unless a
/// test means it to.
fn options() -> AdapterOptions {
    AdapterOptions {
        startup_timeout: Duration::from_secs(20),
        request_timeout: Duration::from_secs(20),
        ..AdapterOptions::default()
    }
}

fn spawn_fake(args: &[&str], options: AdapterOptions) -> Result<AdapterParty, AdapterError> {
    let mut command = vec![env!("CARGO_BIN_EXE_ufc-fake-adapter").to_owned()];
    command.extend(args.iter().map(|a| (*a).to_owned()));
    AdapterParty::spawn(FAKE, command, options)
}

fn run_fake(fixture: &Fixture, args: &[&str], options: AdapterOptions) -> RunResult {
    let fake = spawn_fake(args, options).expect("the fake adapter starts");
    let parties: Vec<Box<dyn Party>> = vec![Box::new(ReferenceParty::new(chrono::Utc::now())), Box::new(fake)];
    let result = run(&fixture.suite, parties, &RunSettings::default(), &|_, _, _| {});
    let reference: Vec<&CaseOutcome> = result.outcomes.iter().filter(|o| o.party == "reference").collect();
    assert_eq!(reference.len(), 9);
    assert!(
        reference.iter().all(|o| o.status == Status::Passed),
        "the fixture's expectations are wrong: {reference:#?}"
    );
    result
}

/// The fake's outcomes for one test file.
fn batch(result: &RunResult, file: usize) -> Vec<&CaseOutcome> {
    let prefix = format!("{}/", FILES[file]);
    let outcomes: Vec<&CaseOutcome> =
        result.outcomes.iter().filter(|o| o.party == FAKE && o.case_id.starts_with(&prefix)).collect();
    assert_eq!(outcomes.len(), 3, "{} has three cases", FILES[file]);
    outcomes
}

/// Each test file's cases all have the status given for that file.
fn assert_batches(result: &RunResult, expected: [Status; 3]) {
    for (file, want) in expected.into_iter().enumerate() {
        for outcome in batch(result, file) {
            assert_eq!(outcome.status, want, "{}: {outcome:#?}", outcome.case_id);
        }
    }
}

/// Every case of the file errored with a message containing `text`.
fn assert_errors_say(result: &RunResult, file: usize, text: &str) {
    for outcome in batch(result, file) {
        let error = outcome.error.as_deref().unwrap_or_default();
        assert!(error.contains(text), "{}: error {error:?} should say {text:?}", outcome.case_id);
    }
}

/// Every case of the file carries a stderr tail containing `text`.
fn assert_tails_say(result: &RunResult, file: usize, text: &str) {
    for outcome in batch(result, file) {
        let tail = outcome.stderr_tail.as_deref().unwrap_or_default();
        assert!(tail.contains(text), "{}: stderr tail {tail:?} should contain {text:?}", outcome.case_id);
    }
}

#[test]
fn a_well_behaved_adapter_passes_everything() {
    let fixture = fixture();
    let result = run_fake(&fixture, &[], options());
    let info = result.parties.iter().find(|p| p.name == FAKE).expect("the fake is a party");
    assert_eq!(info.sdk.name, "fake");
    assert!(info.can(&Capability::Assign) && info.can(&Capability::Details) && info.can(&Capability::Events));
    assert_batches(&result, [Status::Passed; 3]);
}

#[test]
fn a_crash_costs_its_batch_and_the_restarted_adapter_gets_the_configuration_again() {
    let fixture = fixture();
    let state = fixture.state_file();
    let result = run_fake(&fixture, &["--crash-after", "1", "--once-only", "--state", &state], options());
    assert_batches(&result, [Status::Passed, Status::Errored, Status::Passed]);
    assert_errors_say(&result, 1, "adapter exited with status 3 before answering");
    assert_tails_say(&result, 1, "crashing at evaluate #1");
}

#[test]
fn an_adapter_that_crashes_on_every_batch_uses_up_its_restarts_and_the_run_ends() {
    let fixture = fixture();
    let result = run_fake(&fixture, &["--crash-after", "0"], AdapterOptions { max_restarts: 1, ..options() });
    assert_batches(&result, [Status::Errored; 3]);
    assert_errors_say(&result, 0, "exited with status 3");
    // The one restart allowed is spent on the second batch, which crashes too.
    assert_errors_say(&result, 1, "exited with status 3");
    assert_errors_say(&result, 2, "restart limit (1) is spent");
    assert_errors_say(&result, 2, "last fault: adapter exited with status 3");
}

#[test]
fn a_hang_is_cut_by_the_request_timeout() {
    let fixture = fixture();
    let options = AdapterOptions { request_timeout: Duration::from_millis(500), ..options() };
    let result = run_fake(&fixture, &["--hang-after", "1"], options);
    assert_batches(&result, [Status::Passed, Status::Errored, Status::Passed]);
    assert_errors_say(&result, 1, "no answer within 500ms");
    assert_tails_say(&result, 1, "hanging at evaluate #1");
}

#[test]
fn a_start_slower_than_the_startup_timeout_is_a_clear_spawn_error() {
    let options = AdapterOptions { startup_timeout: Duration::from_millis(300), ..options() };
    let err = spawn_fake(&["--slow-start", "5000"], options).expect_err("the handshake times out");
    assert!(matches!(err, AdapterError::Handshake { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("hello failed: no answer within 300ms"), "{message}");
    assert!(message.contains("starting slowly"), "the stderr tail is in the message: {message}");
}

#[test]
fn a_start_within_the_startup_timeout_works() {
    let fixture = fixture();
    let result = run_fake(&fixture, &["--slow-start", "200"], options());
    assert_batches(&result, [Status::Passed; 3]);
}

#[test]
fn a_non_protocol_line_is_a_fault() {
    let fixture = fixture();
    let state = fixture.state_file();
    let result = run_fake(&fixture, &["--garbage-after", "1", "--once-only", "--state", &state], options());
    assert_batches(&result, [Status::Passed, Status::Errored, Status::Passed]);
    assert_errors_say(&result, 1, "adapter wrote a non-protocol line: this is not JSON");
}

#[test]
fn an_answer_with_the_wrong_id_is_a_fault() {
    let fixture = fixture();
    let state = fixture.state_file();
    let result = run_fake(&fixture, &["--wrong-id-after", "1", "--once-only", "--state", &state], options());
    assert_batches(&result, [Status::Passed, Status::Errored, Status::Passed]);
    for outcome in batch(&result, 1) {
        let error = outcome.error.as_deref().unwrap_or_default();
        assert!(error.starts_with("answer has id ") && error.contains(", expected "), "{error}");
    }
}

#[test]
fn a_stderr_flood_does_not_block_the_adapter_and_its_tail_is_attached() {
    let fixture = fixture();
    let result = run_fake(&fixture, &["--stderr-flood", "--garbage-after", "2"], options());
    assert_batches(&result, [Status::Passed, Status::Passed, Status::Errored]);
    assert_tails_say(&result, 2, "fake adapter: flood line");
    for outcome in batch(&result, 2) {
        let lines = outcome.stderr_tail.as_deref().unwrap_or_default().lines().count();
        assert!(lines <= AdapterOptions::default().stderr_tail_lines, "the tail is bounded, got {lines} lines");
    }
}

#[test]
fn wrong_answers_fail_with_critical_value_differences() {
    let fixture = fixture();
    let result = run_fake(&fixture, &["--wrong-answers"], options());
    assert_batches(&result, [Status::Failed; 3]);
    for outcome in result.outcomes.iter().filter(|o| o.party == FAKE) {
        let value = outcome.differences.iter().find(|d| d.field == "value");
        assert!(value.is_some_and(|d| d.severity == Severity::Critical), "{outcome:#?}");
    }
}

#[test]
fn another_protocol_version_is_a_clear_error() {
    let err = spawn_fake(&["--protocol", "2"], options()).expect_err("protocol 2 is refused");
    assert!(matches!(err, AdapterError::ProtocolMismatch { adapter_protocol: Some(2), .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("the harness speaks protocol 1, it speaks protocol 2"), "{message}");
}

#[test]
fn an_adapter_that_leaves_after_hello_errors_its_group() {
    let fixture = fixture();
    let result = run_fake(&fixture, &["--exit-early"], options());
    assert_batches(&result, [Status::Errored; 3]);
    for file in 0..3 {
        assert_errors_say(&result, file, "configuration of group \"ufc\" failed: adapter exited with status 0");
        assert_tails_say(&result, file, "leaving right after hello");
    }
}

#[test]
fn a_refused_batch_errors_its_cases_with_the_adapters_words_and_costs_no_restart() {
    let fixture = fixture();
    let result = run_fake(&fixture, &["--refuse-after", "1"], options());
    assert_batches(&result, [Status::Passed, Status::Errored, Status::Errored]);
    for file in [1, 2] {
        assert_errors_say(&result, file, "the adapter failed the batch: the fake adapter refuses this batch");
        for outcome in batch(&result, file) {
            assert!(!outcome.stderr_tail.as_deref().unwrap_or_default().contains("[ufc-harness] adapter restart"));
        }
    }
}

#[test]
fn results_are_matched_to_cases_by_case_id() {
    let fixture = fixture();
    // Reversed, then the last dropped: each batch's first case has no result.
    let result = run_fake(&fixture, &["--reverse-results", "--drop-last-result"], options());
    for file in 0..3 {
        let outcomes = batch(&result, file);
        assert_eq!(outcomes[0].status, Status::Errored, "{:#?}", outcomes[0]);
        let error = outcomes[0].error.as_deref().unwrap_or_default();
        assert!(error.contains("the adapter returned no result for this case (2 results for 3 cases)"), "{error}");
        assert!(outcomes[1..].iter().all(|o| o.status == Status::Passed), "{outcomes:#?}");
    }
}

#[test]
fn a_missing_program_is_a_spawn_error() {
    let err =
        AdapterParty::spawn(FAKE, vec!["/nonexistent/ufc-adapter".into()], options()).expect_err("nothing to start");
    assert!(matches!(err, AdapterError::Spawn { .. }), "{err:?}");
    let err = AdapterParty::spawn(FAKE, Vec::new(), options()).expect_err("nothing to start");
    assert!(matches!(err, AdapterError::EmptyCommand { .. }), "{err:?}");
}

#[test]
fn bench_returns_the_adapters_elapsed_time() {
    let fixture = fixture();
    let mut fake = spawn_fake(&[], options()).expect("the fake adapter starts");
    fake.configure(&fixture.config()).expect("the configuration loads");
    let request = BenchRequest {
        mode: BenchMode::Assign,
        flag: "greeting".into(),
        variation_type: VariationType::String,
        default_value: json!("no greeting"),
        subjects: vec![BenchSubject { subject_key: "alice".into(), subject_attributes: json!({"country": "US"}) }],
        actions: Vec::new(),
        iterations: 100,
    };
    assert!(fake.bench(&request).is_ok());
}

/// Linux: a process that was killed and reaped has no `/proc` entry; a
/// zombie still has one.
#[cfg(target_os = "linux")]
fn process_is_gone(pid: u32) -> bool {
    !Path::new(&format!("/proc/{pid}")).exists()
}

#[cfg(target_os = "linux")]
#[test]
fn a_timed_out_adapter_is_killed_and_reaped() {
    let fixture = fixture();
    let options = AdapterOptions { request_timeout: Duration::from_millis(300), ..options() };
    let mut fake = spawn_fake(&["--hang-after", "0"], options).expect("the fake adapter starts");
    fake.configure(&fixture.config()).expect("the configuration loads");
    let pid = fake.pid().expect("a process is running");
    let case = &fixture.suite.cases[0];
    let results = fake.evaluate(&[Question { id: &case.id, input: &case.input }]);
    assert_eq!(results[0].as_ref().err().map(|lost| lost.message.as_str()), Some("no answer within 300ms"));
    assert_eq!(fake.pid(), None, "no process until the next request");
    assert!(process_is_gone(pid), "process {pid} is still there (a zombie?)");
}

#[cfg(target_os = "linux")]
#[test]
fn dropping_the_party_stops_its_adapter() {
    let fake = spawn_fake(&[], options()).expect("the fake adapter starts");
    let pid = fake.pid().expect("a process is running");
    drop(fake);
    assert!(process_is_gone(pid), "process {pid} outlived its party");
}

#[test]
fn a_failed_start_is_retried_within_the_restart_budget() {
    let fixture = fixture();
    let state = fixture.state_file();
    let slow_first = ["--slow-start", "3000", "--once-only", "--state", state.as_str()];
    let options = AdapterOptions { startup_timeout: Duration::from_millis(500), ..options() };
    // The first process misses the start-up timeout; the second starts at once.
    let fake = spawn_fake(&slow_first, options.clone()).expect("the retried start succeeds");
    assert_eq!(fake.restarts(), 1, "the failed start is paid from the restart budget");
    let parties: Vec<Box<dyn Party>> = vec![Box::new(ReferenceParty::new(chrono::Utc::now())), Box::new(fake)];
    let result = run(&fixture.suite, parties, &RunSettings::default(), &|_, _, _| {});
    assert!(result.outcomes.iter().all(|o| o.status == Status::Passed), "{:#?}", result.outcomes);

    // With no budget left, the same failure is final.
    let fixture = self::fixture();
    let state = fixture.state_file();
    let slow_first = ["--slow-start", "3000", "--once-only", "--state", state.as_str()];
    let no_budget = AdapterOptions { max_restarts: 0, ..options };
    let err = spawn_fake(&slow_first, no_budget).expect_err("no restart is allowed");
    assert!(matches!(err, AdapterError::Handshake { .. }), "{err:?}");
}

#[test]
fn adapters_start_in_a_controlled_environment() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let seen = dir.path().join("environment");
    let script = dir.path().join("probe.sh");
    let body = format!("#!/bin/sh\nenv > '{}'\nexec '{}'\n", seen.display(), env!("CARGO_BIN_EXE_ufc-fake-adapter"));
    std::fs::write(&script, body).expect("the probe script is written");
    let probe = format!("probe=sh '{}'", script.display());
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_ufc-harness"))
        .args(["run", "--filter", "operators/*", "--adapter", &probe])
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .env("EPPO_EXPERIMENTAL_BANDITS_CITYHASH", "1")
        .env("EPPO_BASE_URL", "http://example.invalid")
        .env("TZ", "America/New_York")
        .env("UFC_HARNESS_TEST_MARKER", "kept")
        .stdout(std::process::Stdio::null())
        .status()
        .expect("ufc-harness runs");
    assert_eq!(status.code(), Some(0));
    let environment = std::fs::read_to_string(&seen).expect("the probe wrote its environment");
    let lines: Vec<&str> = environment.lines().collect();
    assert!(!lines.iter().any(|l| l.starts_with("EPPO_")), "{environment}");
    assert!(lines.contains(&"TZ=UTC"), "{environment}");
    assert!(lines.contains(&"UFC_HARNESS_TEST_MARKER=kept"), "other variables stay: {environment}");
}

/// `count` cases of the greeting file's three, each under its own id.
fn many_cases(fixture: &Fixture, count: usize) -> Vec<(String, ufc_protocol::CaseInput)> {
    (0..count).map(|i| (format!("many-{i}"), fixture.suite.cases[i % 3].input.clone())).collect()
}

fn questions(cases: &[(String, ufc_protocol::CaseInput)]) -> Vec<Question<'_>> {
    cases.iter().map(|(id, input)| Question { id, input }).collect()
}

#[test]
fn a_large_batch_goes_out_as_requests_all_in_flight() {
    let fixture = fixture();
    // Three requests; the fake answers none of them before all three came.
    let cases = many_cases(&fixture, 2 * CASES_PER_REQUEST + 44);
    let options = AdapterOptions { request_timeout: Duration::from_secs(3), ..options() };
    let mut fake = spawn_fake(&["--hold-answers", "3"], options).expect("the fake adapter starts");
    fake.configure(&fixture.config()).expect("the configuration loads");
    let replies = fake.evaluate(&questions(&cases));
    assert_eq!(replies.len(), cases.len());
    let lost: Vec<_> = replies.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(lost.is_empty(), "{} of {} cases lost, the first: {:?}", lost.len(), cases.len(), lost.first());
    let mut reference = ReferenceParty::new(chrono::Utc::now());
    reference.configure(&fixture.config()).expect("the reference loads it");
    let expected = reference.evaluate(&questions(&cases));
    for ((reply, want), (id, _)) in replies.iter().zip(&expected).zip(&cases) {
        let value = |reply: &ufc_harness::party::Reply| match reply {
            Ok(ufc_harness::observation::Answer::Observed(seen)) => Some(seen.value.clone()),
            _ => None,
        };
        assert!(value(want).is_some(), "{id}: the reference answers");
        assert_eq!(value(reply), value(want), "{id}: answers are paired with their own cases");
    }
}

#[test]
fn a_crash_mid_batch_costs_that_request_and_the_ones_after_it() {
    let fixture = fixture();
    let cases = many_cases(&fixture, 2 * CASES_PER_REQUEST + 44);
    let state = fixture.state_file();
    let args = ["--crash-after", "1", "--once-only", "--state", state.as_str()];
    let mut fake = spawn_fake(&args, options()).expect("the fake adapter starts");
    fake.configure(&fixture.config()).expect("the configuration loads");
    let replies = fake.evaluate(&questions(&cases));
    let error = |i: usize| replies[i].as_ref().err().map(|lost| lost.message.clone()).unwrap_or_default();
    assert!(replies[..CASES_PER_REQUEST].iter().all(Result::is_ok), "the first request was answered before the crash");
    for i in CASES_PER_REQUEST..2 * CASES_PER_REQUEST {
        assert!(error(i).contains("exited with status 3"), "case {i}: {}", error(i));
    }
    for i in 2 * CASES_PER_REQUEST..cases.len() {
        assert!(error(i).contains("an earlier request of this batch faulted"), "case {i}: {}", error(i));
    }
    // The restarted process, configured again, answers the whole batch.
    let again = fake.evaluate(&questions(&cases));
    assert!(again.iter().all(Result::is_ok), "after the restart: {:?}", again.iter().find(|r| r.is_err()));
    assert_eq!(fake.restarts(), 1);
}
