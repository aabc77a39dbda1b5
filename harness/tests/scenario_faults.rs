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
const CAUGHT_BY: [(&str, &str); 21] = [
    ("before-first-configuration", "--raise-before-init"),
    ("first-fetch-500-then-recovers", "--never-repoll"),
    ("first-fetch-401-then-recovers", "--never-repoll"),
    ("first-fetch-connection-closed-then-recovers", "--never-repoll"),
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
