//! Every built-in scenario is able to fail: each passes against the honest
//! fake adapter, and fails against the lifecycle fault it is meant to catch
//! (`ufc-fake-adapter --never-repoll` and the like). A scenario added
//! without naming its fault here fails the test.

// Helpers outside #[test] functions fail by panicking too.
#![allow(clippy::panic)]

use std::collections::BTreeMap;

use ufc_harness::party::adapter::{AdapterOptions, AdapterParty};
use ufc_harness::party::Party;
use ufc_harness::run::{RunSettings, Status};
use ufc_harness::scenario::pipeline::play_all;
use ufc_harness::scenario::{builtin_dir, Scenario};

/// Each scenario and the fault that must make it fail.
const CAUGHT_BY: [(&str, &str); 22] = [
    ("before-first-configuration", "--raise-before-init"),
    ("first-fetch-500-then-recovers", "--never-repoll"),
    ("first-fetch-401-then-recovers", "--never-repoll"),
    ("first-fetch-connection-closed-then-recovers", "--never-repoll"),
    ("first-fetch-connection-refused-then-recovers", "--never-repoll"),
    ("first-fetch-hangs-past-init-timeout", "--ignore-init-timeout"),
    ("poll-picks-up-change", "--ignore-updates"),
    ("flag-removed-serves-default", "--ignore-updates"),
    ("invalid-json-after-good-keeps-last-good", "--accept-bad-config"),
    ("wrong-format-after-good-keeps-last-good", "--accept-bad-config"),
    ("etag-304-keeps-configuration", "--drop-on-304"),
    ("etag-if-none-match-sent", "--no-etag"),
    ("bandit-models-updated", "--no-bandit-refetch"),
    ("bandit-model-missing", "--raise-without-model"),
    ("request-hygiene-identification", "--wrong-sdk-key"),
    ("request-hygiene-poll-cadence", "--poll-fast"),
    ("no-requests-after-shutdown", "--poll-after-stop"),
    ("logger-one-event-per-assignment", "--log-twice"),
    ("logger-do-log-false", "--log-nothing"),
    ("logger-raises", "--logger-escapes"),
    ("dedup-with-assignment-cache", "--no-dedup"),
    ("dedup-cache-off-logs-every-time", "--dedup-always"),
];

fn fake(fault: Option<&str>) -> Box<dyn Party> {
    let mut command = vec![env!("CARGO_BIN_EXE_ufc-fake-adapter").to_owned()];
    command.extend(fault.map(str::to_owned));
    let name = fault.unwrap_or("honest").trim_start_matches('-');
    match AdapterParty::spawn(name, command, AdapterOptions::default()) {
        Ok(party) => Box::new(party),
        Err(err) => panic!("the fake adapter did not start: {err}"),
    }
}

/// The steps' statuses of `scenario` against the fake with `fault`.
fn statuses(scenario: &Scenario, fault: Option<&str>) -> BTreeMap<String, Status> {
    let result = play_all(std::slice::from_ref(scenario), vec![fake(fault)], &RunSettings::default(), &builtin_dir());
    result.outcomes.into_iter().map(|o| (o.case_id, o.status)).collect()
}

#[test]
fn every_scenario_passes_honestly_and_fails_against_its_fault() {
    let scenarios = Scenario::load_dir(&builtin_dir()).unwrap_or_else(|e| panic!("{e}"));
    let faults: BTreeMap<&str, &str> = CAUGHT_BY.into_iter().collect();
    let unnamed: Vec<&str> = scenarios.iter().map(|s| s.name.as_str()).filter(|n| !faults.contains_key(n)).collect();
    assert!(unnamed.is_empty(), "scenarios with no fault named in CAUGHT_BY: {unnamed:?}");
    assert!(scenarios.len() >= 15, "only {} scenarios", scenarios.len());
    // Both runs of every scenario at once: they take seconds each, mostly waiting.
    let verdicts: Vec<(String, String)> = std::thread::scope(|scope| {
        let handles: Vec<_> = scenarios
            .iter()
            .map(|scenario| {
                let fault = faults[scenario.name.as_str()];
                scope.spawn(move || {
                    let honest = std::thread::scope(|inner| inner.spawn(|| statuses(scenario, None)).join());
                    let faulty = statuses(scenario, Some(fault));
                    let honest = honest.unwrap_or_else(|_| panic!("{}: the honest run panicked", scenario.name));
                    let mut problems = Vec::new();
                    let unhonest: Vec<_> = honest.iter().filter(|(_, s)| **s != Status::Passed).collect();
                    if !unhonest.is_empty() {
                        problems.push(format!("fails against the honest fake: {unhonest:?}"));
                    }
                    if !faulty.values().any(|s| *s == Status::Failed) {
                        problems.push(format!("does not fail against {fault}: {faulty:?}"));
                    }
                    (scenario.name.clone(), problems.join("; "))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| ("?".into(), "panicked".into()))).collect()
    });
    let failures: Vec<String> =
        verdicts.into_iter().filter(|(_, p)| !p.is_empty()).map(|(name, p)| format!("{name}: {p}")).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_party_without_online_skips_every_step_with_the_reason() {
    let scenarios = Scenario::load_dir(&builtin_dir()).unwrap_or_else(|e| panic!("{e}"));
    let reference: Box<dyn Party> = Box::new(ufc_harness::party::reference::ReferenceParty::new(chrono::Utc::now()));
    let result = play_all(&scenarios[..1], vec![reference], &RunSettings::default(), &builtin_dir());
    assert!(!result.outcomes.is_empty());
    for outcome in &result.outcomes {
        assert_eq!(outcome.status, Status::Skipped, "{}", outcome.case_id);
        let reason = outcome.skip_reason.as_deref().unwrap_or_default();
        assert!(reason.contains("lacks online"), "{reason}");
        assert!(outcome.case_id.starts_with(&format!("scenario/{}/", scenarios[0].name)), "{}", outcome.case_id);
    }
}

#[test]
fn a_failing_step_carries_the_cdn_request_log_into_every_sink() {
    let scenarios = Scenario::load_dir(&builtin_dir()).unwrap_or_else(|e| panic!("{e}"));
    let etag = scenarios.iter().find(|s| s.name == "etag-if-none-match-sent").expect("the ETag scenario");
    let result =
        play_all(std::slice::from_ref(etag), vec![fake(Some("--no-etag"))], &RunSettings::default(), &builtin_dir());
    let failed: Vec<_> = result.outcomes.iter().filter(|o| o.status == Status::Failed).collect();
    assert_eq!(failed.len(), 1, "{:?}", result.outcomes);
    let log = &failed[0].request_log;
    assert!(log.len() >= 2, "{log:?}");
    assert!(log.iter().all(|r| r.path == "/api/flag-config/v1/config" && r.query["apiKey"] == "scenario-sdk-key"));
    assert!(log.iter().all(|r| !r.headers.contains_key("if-none-match")), "{log:?}");
    assert!(result.outcomes.iter().filter(|o| o.status == Status::Passed).all(|o| o.request_log.is_empty()));

    let json: serde_json::Value =
        serde_json::from_str(&ufc_harness::report::json::render(&result)).expect("the JSON report parses");
    let schema_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/report-schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).expect("the schema reads")).expect("JSON");
    let validator = jsonschema::validator_for(&schema).expect("a schema");
    assert!(validator.is_valid(&json), "{:?}", validator.iter_errors(&json).map(|e| e.to_string()).collect::<Vec<_>>());
    let case =
        json["cases"].as_array().and_then(|c| c.iter().find(|c| c["status"] == "failed")).expect("a failed case");
    assert_eq!(case["caseId"], "scenario/etag-if-none-match-sent/polled-twice");
    assert_eq!(case["requestLog"].as_array().map(Vec::len), Some(log.len()));
    let junit = ufc_harness::report::junit::render(&result);
    assert!(junit.contains("CDN +") && junit.contains("/api/flag-config/v1/config?apiKey=scenario-sdk-key"), "{junit}");
}
