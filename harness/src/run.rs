//! The runner: loads each group's configuration into each party, sends the
//! cases one test file per batch, and compares what comes back. Parties run
//! concurrently, one thread each; the in-process reference runs first so its
//! events can serve as the expectation for every SDK's events.

use std::collections::HashMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::compare::{compare, Difference, Scope, Severity};
use crate::party::{ConfigSet, Party, PartyInfo};
use crate::protocol::{capability, CaseInput, CaseResult, Source, WireCase};
use crate::suite::{Case, Group, LoadError, Suite};

/// The verdict on one case for one party.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// No difference at a failing severity.
    Passed,
    /// A difference at a failing severity.
    Failed,
    /// The party could not answer (crash, hang, garbage, SDK exception).
    Errored,
    /// The party lacks a capability the case needs.
    Skipped,
    /// Failed, as the known-failure manifest says it does.
    KnownFailure,
    /// Listed as a known failure, but passed: the list is stale.
    UnexpectedPass,
}

impl Status {
    /// Kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Errored => "errored",
            Status::Skipped => "skipped",
            Status::KnownFailure => "known-failure",
            Status::UnexpectedPass => "unexpected-pass",
        }
    }
}

/// One case, one party.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseOutcome {
    /// The case id.
    pub case_id: String,
    /// The party's name.
    pub party: String,
    /// The verdict.
    pub status: Status,
    /// The test file.
    pub file: PathBuf,
    /// Every difference found, failing or not.
    pub differences: Vec<Difference>,
    /// Why it errored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Why it was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_reason: Option<String>,
    /// The adapter's recent stderr, for errored cases.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stderr_tail: Option<String>,
    /// The known-failure entry that applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub known_failure: Option<String>,
    /// The divergence cause(s) this failure was attributed to.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<String>,
    /// What the party answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed: Option<CaseResult>,
}

/// Run settings.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// Severities that fail a case.
    pub fail_on: Vec<Severity>,
}

impl Default for RunSettings {
    fn default() -> Self {
        RunSettings { fail_on: vec![Severity::Critical, Severity::Major] }
    }
}

/// Everything a run produced, ready for the reporters.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// The suite root.
    pub suite: PathBuf,
    /// The parties, in order (reference first).
    pub parties: Vec<PartyInfo>,
    /// Outcomes, grouped by party then in case order.
    pub outcomes: Vec<CaseOutcome>,
    /// Test files that could not be read.
    pub load_errors: Vec<LoadError>,
    /// Configuration problems (a malformed flag, a file that is not UFC).
    pub config_errors: Vec<String>,
    /// Severities that failed cases.
    pub fail_on: Vec<Severity>,
}

/// Totals over all outcomes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// All outcomes.
    pub total: usize,
    /// Passed.
    pub passed: usize,
    /// Failed.
    pub failed: usize,
    /// Errored.
    pub errored: usize,
    /// Skipped.
    pub skipped: usize,
    /// Known failures that still fail.
    pub known_failures: usize,
    /// Known failures that now pass.
    pub unexpected_passes: usize,
}

impl Summary {
    /// Totals of the outcomes that satisfy `keep`.
    pub fn of<'a>(outcomes: impl IntoIterator<Item = &'a CaseOutcome>) -> Summary {
        let mut s = Summary::default();
        for o in outcomes {
            s.total += 1;
            match o.status {
                Status::Passed => s.passed += 1,
                Status::Failed => s.failed += 1,
                Status::Errored => s.errored += 1,
                Status::Skipped => s.skipped += 1,
                Status::KnownFailure => s.known_failures += 1,
                Status::UnexpectedPass => s.unexpected_passes += 1,
            }
        }
        s
    }
}

impl RunResult {
    /// Totals over every party.
    pub fn summary(&self) -> Summary {
        Summary::of(&self.outcomes)
    }

    /// Several runs (one per suite) as one: case ids are prefixed with the
    /// run's label (`shared:test-case-regex-flag/alice`), so a report can
    /// cover every suite in one matrix. Parties are those of the first run.
    pub fn combine(runs: Vec<(String, RunResult)>) -> RunResult {
        let mut combined: Option<RunResult> = None;
        for (label, mut run) in runs {
            for outcome in &mut run.outcomes {
                outcome.case_id = format!("{label}:{}", outcome.case_id);
            }
            run.config_errors = run.config_errors.into_iter().map(|e| format!("{label}: {e}")).collect();
            match combined.as_mut() {
                None => {
                    run.suite = PathBuf::from(&label);
                    combined = Some(run);
                }
                Some(all) => {
                    all.suite = PathBuf::from(format!("{} + {label}", all.suite.display()));
                    all.outcomes.extend(run.outcomes);
                    all.load_errors.extend(run.load_errors);
                    all.config_errors.extend(run.config_errors);
                }
            }
        }
        combined.unwrap_or(RunResult {
            suite: PathBuf::new(),
            parties: Vec::new(),
            outcomes: Vec::new(),
            load_errors: Vec::new(),
            config_errors: Vec::new(),
            fail_on: Vec::new(),
        })
    }

    /// Totals for one party.
    pub fn party_summary(&self, party: &str) -> Summary {
        Summary::of(self.outcomes.iter().filter(|o| o.party == party))
    }
}

/// Progress callback: (party, cases done, cases total).
pub type Progress<'a> = &'a (dyn Fn(&str, usize, usize) + Sync);

/// Runs `suite` against the reference and then every other party in
/// parallel. The first party must be the reference.
pub fn run(
    suite: &Suite,
    mut parties: Vec<Box<dyn Party>>,
    settings: &RunSettings,
    progress: Progress<'_>,
) -> RunResult {
    let mut config_errors = Vec::new();
    let infos: Vec<PartyInfo> = parties.iter().map(|p| p.info().clone()).collect();
    let mut outcomes = Vec::new();
    let mut rest = parties.split_off(1.min(parties.len()));
    let mut reference_results: HashMap<String, CaseResult> = HashMap::new();
    if let Some(mut reference) = parties.pop() {
        let (party_outcomes, results) =
            run_party(suite, reference.as_mut(), None, settings, progress, &mut config_errors);
        reference_results = results;
        outcomes.extend(party_outcomes);
    }
    let reference_results = &reference_results;
    let per_party: Vec<Vec<CaseOutcome>> = std::thread::scope(|scope| {
        let handles: Vec<_> = rest
            .iter_mut()
            .map(|party| {
                scope.spawn(move || {
                    let mut ignored = Vec::new();
                    run_party(suite, party.as_mut(), Some(reference_results), settings, progress, &mut ignored).0
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_default()).collect()
    });
    for party_outcomes in per_party {
        outcomes.extend(party_outcomes);
    }
    RunResult {
        suite: suite.root.clone(),
        parties: infos,
        outcomes,
        load_errors: suite.load_errors.clone(),
        config_errors,
        fail_on: settings.fail_on.clone(),
    }
}

/// The capability a case needs, if the party lacks it.
fn missing_capability(info: &PartyInfo, case: &Case, group: &Group) -> Option<&'static str> {
    let needed = match case.input {
        CaseInput::Flag(_) => capability::ASSIGN,
        CaseInput::Bandit(_) => capability::BANDITS,
    };
    let obfuscated = group.obfuscated.then_some(capability::OBFUSCATED);
    [Some(needed), obfuscated].into_iter().flatten().find(|needed| !info.can(needed))
}

fn run_party(
    suite: &Suite,
    party: &mut dyn Party,
    reference: Option<&HashMap<String, CaseResult>>,
    settings: &RunSettings,
    progress: Progress<'_>,
    config_errors: &mut Vec<String>,
) -> (Vec<CaseOutcome>, HashMap<String, CaseResult>) {
    let info = party.info().clone();
    let mut outcomes = Vec::with_capacity(suite.cases.len());
    let mut results = HashMap::new();
    let total = suite.cases.len();
    let mut done = 0;
    for (group_index, group) in suite.groups.iter().enumerate() {
        let cases: Vec<&Case> = suite.cases.iter().filter(|c| c.group == group_index).collect();
        if cases.is_empty() {
            continue;
        }
        let (runnable, skipped): (Vec<&Case>, Vec<&Case>) =
            cases.iter().partition(|case| missing_capability(&info, case, group).is_none());
        for case in skipped {
            let needed = missing_capability(&info, case, group).unwrap_or_default();
            outcomes.push(outcome(case, &info.name, Status::Skipped, |o| {
                o.skip_reason = Some(format!("{} does not declare the {needed:?} capability", info.name));
            }));
        }
        let config = ConfigSet {
            flags: Source::Path(absolute(&group.flags)),
            bandit_models: group.bandit_models.as_ref().map(|p| Source::Path(absolute(p))),
        };
        if let Err(err) = party.configure(&config) {
            let message = format!("configuration of group {:?} failed: {err}", group.name);
            config_errors.push(message.clone());
            for case in &runnable {
                let stderr = party.stderr_tail();
                outcomes.push(outcome(case, &info.name, Status::Errored, |o| {
                    o.error = Some(message.clone());
                    o.stderr_tail = stderr;
                }));
            }
            done += cases.len();
            progress(&info.name, done, total);
            continue;
        }
        for warning in party.configuration_warnings() {
            if !config_errors.contains(&warning) {
                config_errors.push(warning);
            }
        }
        // One batch per test file.
        let mut start = 0;
        while start < runnable.len() {
            let file = &runnable[start].file;
            let end = start + runnable[start..].iter().take_while(|c| &c.file == file).count();
            let batch = &runnable[start..end];
            let wire: Vec<WireCase<'_>> = batch
                .iter()
                .map(|c| WireCase { case_id: c.id.as_str().into(), input: std::borrow::Cow::Borrowed(&c.input) })
                .collect();
            let answers = party.evaluate(&wire);
            let stderr = party.stderr_tail();
            for (index, case) in batch.iter().enumerate() {
                let answer = answers
                    .get(index)
                    .filter(|a| a.case_id == case.id)
                    .cloned()
                    .unwrap_or_else(|| CaseResult::fault(&case.id, "the party returned no result for this case"));
                outcomes.push(judge(case, &info, answer.clone(), reference, settings, stderr.as_deref()));
                results.insert(case.id.clone(), answer);
            }
            done += batch.len();
            progress(&info.name, done, total);
            start = end;
        }
    }
    (outcomes, results)
}

fn judge(
    case: &Case,
    info: &PartyInfo,
    answer: CaseResult,
    reference: Option<&HashMap<String, CaseResult>>,
    settings: &RunSettings,
    stderr: Option<&str>,
) -> CaseOutcome {
    if let (true, Some(error)) = (answer.fault, &answer.error) {
        let error = error.clone();
        return outcome(case, &info.name, Status::Errored, |o| {
            o.error = Some(error);
            o.stderr_tail = stderr.map(str::to_owned);
            o.observed = Some(answer);
        });
    }
    if let Some(error) = &answer.error {
        // The SDK raised for this case: its answer, and a wrong one.
        let difference = Difference {
            field: "value".into(),
            severity: Severity::Critical,
            expected: case.expected.assignment.clone(),
            actual: serde_json::json!({ "raised": error }),
        };
        let error = error.clone();
        return outcome(case, &info.name, Status::Failed, |o| {
            o.error = Some(error);
            o.differences = vec![difference];
            o.observed = Some(answer);
        });
    }
    let details_capability = match case.input {
        CaseInput::Flag(_) => capability::DETAILS,
        CaseInput::Bandit(_) => capability::BANDIT_DETAILS,
    };
    let scope = Scope {
        details: info.can(details_capability),
        events: reference.is_some() && info.can(capability::EVENTS),
        bandit_events: reference.is_some() && info.can(capability::BANDIT_DETAILS),
    };
    let reference_answer = reference.and_then(|r| r.get(&case.id)).filter(|r| r.error.is_none());
    let differences = compare(&case.expected, &answer, reference_answer, scope);
    let failing = differences.iter().any(|d| settings.fail_on.contains(&d.severity));
    let status = if failing { Status::Failed } else { Status::Passed };
    outcome(case, &info.name, status, |o| {
        o.differences = differences;
        o.observed = Some(answer);
    })
}

fn outcome(case: &Case, party: &str, status: Status, fill: impl FnOnce(&mut CaseOutcome)) -> CaseOutcome {
    let mut o = CaseOutcome {
        case_id: case.id.clone(),
        party: party.to_owned(),
        status,
        file: case.file.clone(),
        differences: Vec::new(),
        error: None,
        skip_reason: None,
        stderr_tail: None,
        known_failure: None,
        causes: Vec::new(),
        observed: None,
    };
    fill(&mut o);
    o
}

fn absolute(path: &std::path::Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}
