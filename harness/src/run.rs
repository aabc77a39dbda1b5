//! The runner: loads each group's configuration into each party, sends the
//! cases one test file per batch, and compares what comes back. Parties run
//! concurrently, one thread each; the in-process reference runs first so its
//! events can serve as the expectation for every SDK's events.
//!
//! With [`RunSettings::repeat`] above 1, each party answers every group in
//! that many fresh processes (restarted through [`Session::restart`]), and
//! [`crate::repeat::settle`] turns a case answered differently into a
//! [`Status::Nondeterministic`] outcome instead of a pass or a failure.

use std::collections::HashMap;
use std::path::PathBuf;

pub use ufc_protocol::report::{Status, Summary};
use ufc_protocol::CaseInput;

use crate::compare::{compare, Difference, Scope, Severity};
use crate::expectations::{ConfigurationForm, KnownFailures, ManifestError};
use crate::observation::{Answer, Json, Observation};
use crate::parties::{self, PartySelection, SelectionError};
use crate::partition::Partition;
use crate::party::reference::ReferenceParty;
use crate::party::{AnswerPart, Party, PartyInfo, Question};
use crate::repeat::Settled;
use crate::session::{CaseReply, Session};
use crate::suite::{Case, Group, LoadError, NoObfuscatedConfiguration, NotASuite, Suite};

/// One case, one party.
#[derive(Debug, Clone)]
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
    pub error: Option<String>,
    /// Why it was skipped.
    pub skip_reason: Option<String>,
    /// The adapter's recent stderr, for errored cases.
    pub stderr_tail: Option<String>,
    /// The known-failure entry that applied.
    pub known_failure: Option<String>,
    /// The divergence cause(s) this failure was attributed to.
    pub causes: Vec<String>,
    /// What the party answered.
    pub observed: Option<Answer>,
    /// What each fresh process replied, in order, when their answers
    /// differ ([`Status::Nondeterministic`]); empty otherwise.
    pub process_replies: Vec<CaseReply>,
    /// `scenarios`: what the mock CDN saw, for a failing scenario step;
    /// empty otherwise.
    pub request_log: Vec<ufc_protocol::report::RecordedRequest>,
}

/// Run settings.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// Severities that fail a case.
    pub fail_on: Vec<Severity>,
    /// In how many fresh processes each party answers every group's cases
    /// (`run --repeat`); 1 asks once, in the process the party has.
    pub repeat: u32,
}

impl Default for RunSettings {
    fn default() -> Self {
        RunSettings { fail_on: vec![Severity::Critical, Severity::Major], repeat: 1 }
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
    /// In how many fresh processes each party answered every case.
    pub repeat: u32,
}

/// Totals of some outcomes.
pub fn summary_of<'a>(outcomes: impl IntoIterator<Item = &'a CaseOutcome>) -> Summary {
    let mut summary = Summary::default();
    for outcome in outcomes {
        summary.add(outcome.status);
    }
    summary
}

impl RunResult {
    /// Totals over every party.
    pub fn summary(&self) -> Summary {
        summary_of(&self.outcomes)
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
            repeat: 1,
        })
    }

    /// The exit code (README, [`ufc_protocol::exit_codes`]): errored cases
    /// or unreadable files first, then nondeterministic cases, then failures
    /// and stale known failures.
    pub fn exit_code(&self) -> i32 {
        exit_code_of(&self.summary(), !self.load_errors.is_empty())
    }

    /// Totals for one party.
    pub fn party_summary(&self, party: &str) -> Summary {
        summary_of(self.outcomes.iter().filter(|o| o.party == party))
    }
}

/// The exit code of a run with these totals ([`RunResult::exit_code`]),
/// also for a run known only by its report (`merge`).
pub fn exit_code_of(s: &Summary, load_errors: bool) -> i32 {
    if s.errored > 0 || load_errors {
        ufc_protocol::exit_codes::ERRORS
    } else if s.nondeterministic > 0 {
        ufc_protocol::exit_codes::NONDETERMINISTIC
    } else if s.failed > 0 || s.unexpected_passes > 0 {
        ufc_protocol::exit_codes::FAILURES
    } else {
        ufc_protocol::exit_codes::SUCCESS
    }
}

/// Progress callback: (party, cases done, cases total).
pub type Progress<'a> = &'a (dyn Fn(&str, usize, usize) + Sync);

/// Everything `run` needs besides where its reports go.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The suite directory, in either layout.
    pub suite: PathBuf,
    /// Only case ids matching this glob.
    pub filter: Option<String>,
    /// The flag cases, against the obfuscated twins of their configurations.
    pub obfuscated: bool,
    /// Every case through its subject's precomputed configuration, written
    /// by the reference in this form ([`crate::precomputed_client`]);
    /// `obfuscated` is then not used.
    pub precomputed: Option<ufc_reference::precomputed::write::Form>,
    /// The SDKs.
    pub parties: PartySelection,
    /// A folder of `<sdk>.toml` manifests instead of each SDK's own.
    pub known_failures: Option<PathBuf>,
    /// A listed known failure that passes fails the run.
    pub strict: bool,
    /// The reference's clock.
    pub now: ufc_reference::Timestamp,
    /// Severities that fail a case.
    pub settings: RunSettings,
}

/// A run that could not start; nothing ran.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The folder is not a suite.
    #[error(transparent)]
    Suite(#[from] NotASuite),
    /// `--obfuscated` on a suite without obfuscated twins.
    #[error(transparent)]
    Obfuscated(#[from] NoObfuscatedConfiguration),
    /// The filter is not a glob.
    #[error("--filter {pattern:?} is not a glob: {source}")]
    Filter {
        /// The pattern.
        pattern: String,
        /// Why.
        #[source]
        source: globset::Error,
    },
    /// The filter leaves no case.
    #[error("--filter {pattern:?} matches no case in {}", suite.display())]
    NothingMatches {
        /// The pattern.
        pattern: String,
        /// The suite.
        suite: PathBuf,
    },
    /// The SDKs could not be resolved.
    #[error(transparent)]
    Parties(#[from] SelectionError),
    /// A known-failure manifest is broken.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
}

/// Loads the suite, starts the parties (the reference first), runs, and
/// applies the known-failure manifests. Manifests are read before anything
/// starts: a broken one is a usage error.
pub fn run_suite(options: &RunOptions, progress: Progress<'_>) -> Result<RunResult, RunError> {
    run_suite_in(options, None, progress).map(|(result, _)| result)
}

/// [`run_suite`] on the cases of one share ([`crate::partial`]): also
/// returns the id of every case of the whole run, in report order. Not
/// for `options.precomputed` runs (`run` refuses the two together): their
/// configuration errors are those of the precomputed plans, which a share
/// does not make for the other shares' groups.
pub fn run_suite_partition(
    options: &RunOptions,
    partition: Partition,
    progress: Progress<'_>,
) -> Result<(RunResult, Vec<String>), RunError> {
    run_suite_in(options, Some(partition), progress).map(|(result, ids)| (result, ids.unwrap_or_default()))
}

fn run_suite_in(
    options: &RunOptions,
    partition: Option<Partition>,
    progress: Progress<'_>,
) -> Result<(RunResult, Option<Vec<String>>), RunError> {
    let mut suite = Suite::load(&options.suite)?;
    if options.obfuscated && options.precomputed.is_none() {
        suite = suite.into_obfuscated()?;
    }
    if let Some(pattern) = &options.filter {
        let glob =
            globset::Glob::new(pattern).map_err(|source| RunError::Filter { pattern: pattern.clone(), source })?;
        suite.retain_matching(&glob.compile_matcher());
        if suite.cases.is_empty() {
            return Err(RunError::NothingMatches { pattern: pattern.clone(), suite: options.suite.clone() });
        }
    }
    // A share's report must carry what the whole run's carries: every
    // case id, and the configuration errors of every group, even of one
    // whose cases all fall in other shares.
    let whole = partition.map(|_| (crate::partial::case_ids(&suite), reference_config_errors(&suite, options.now)));
    if let Some(partition) = partition {
        partition.retain(&mut suite.cases, |case| &case.id);
    }
    let specs = options.parties.resolve()?;
    let manifests = KnownFailures::for_parties(&specs, options.known_failures.as_deref())?;
    // Through precomputed configurations the reference would only check its
    // own reading against itself: its answers are the expectation there.
    let mut all: Vec<Box<dyn Party>> = match options.precomputed {
        Some(_) => Vec::new(),
        None => vec![Box::new(ReferenceParty::new(options.now))],
    };
    all.extend(parties::spawn(&specs, &options.parties.options));
    let mut result = match &options.precomputed {
        Some(form) => crate::precomputed_client::run(&suite, all, form, &options.settings, options.now, progress),
        None => run(&suite, all, &options.settings, progress),
    };
    let form = match (&options.precomputed, options.obfuscated) {
        (Some(_), _) => ConfigurationForm::Precomputed,
        (None, true) => ConfigurationForm::Obfuscated,
        (None, false) => ConfigurationForm::Plain,
    };
    for (name, manifest) in &manifests {
        manifest.apply(&mut result, name, options.strict, form);
    }
    let ids = whole.map(|(ids, config_errors)| {
        result.config_errors = config_errors;
        ids
    });
    Ok((result, ids))
}

/// The configuration errors a run of `suite` reports: the reference's, on
/// each group that has cases, in group order.
fn reference_config_errors(suite: &Suite, now: ufc_reference::Timestamp) -> Vec<String> {
    let mut reference = ReferenceParty::new(now);
    let mut session = Session::new(&mut reference);
    let mut config_errors = Vec::new();
    for (index, group) in suite.groups.iter().enumerate() {
        if suite.cases.iter().any(|c| c.group == index) {
            ask_group(&mut session, group, &[], &mut config_errors, |_| {});
        }
    }
    config_errors
}

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
    let mut reference_answers: HashMap<String, Observation> = HashMap::new();
    if let Some(mut reference) = parties.pop() {
        let mut session = Session::new(reference.as_mut());
        let (party_outcomes, answers) = run_party(suite, &mut session, None, settings, progress, &mut config_errors);
        reference_answers = answers;
        outcomes.extend(party_outcomes);
    }
    let reference_answers = &reference_answers;
    let per_party = in_parallel(&mut rest, |session| {
        let mut ignored = Vec::new();
        run_party(suite, session, Some(reference_answers), settings, progress, &mut ignored).0
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
        repeat: settings.repeat.max(1),
    }
}

/// Drives every party at once, one thread each, through its own session;
/// one result per party, in order (a thread that panicked gives the default).
pub(crate) fn in_parallel<T: Default + Send>(
    parties: &mut [Box<dyn Party>],
    drive: impl Fn(&mut Session<'_>) -> T + Sync,
) -> Vec<T> {
    let drive = &drive;
    std::thread::scope(|scope| {
        let handles: Vec<_> =
            parties.iter_mut().map(|party| scope.spawn(move || drive(&mut Session::new(party.as_mut())))).collect();
        handles.into_iter().map(|h| h.join().unwrap_or_default()).collect()
    })
}

/// One party through every group: configure, then one batch per test file,
/// in each of [`RunSettings::repeat`] fresh processes. Returns its outcomes
/// and what it observed, by case id.
fn run_party(
    suite: &Suite,
    session: &mut Session<'_>,
    reference: Option<&HashMap<String, Observation>>,
    settings: &RunSettings,
    progress: Progress<'_>,
    config_errors: &mut Vec<String>,
) -> (Vec<CaseOutcome>, HashMap<String, Observation>) {
    let info = session.info().clone();
    let repeat = settings.repeat.max(1) as usize;
    let mut outcomes = Vec::with_capacity(suite.cases.len());
    let mut observed = HashMap::new();
    // Progress counts each case once per process.
    let total = suite.cases.len() * repeat;
    let mut done = 0;
    for (group_index, group) in suite.groups.iter().enumerate() {
        let cases: Vec<&Case> = suite.cases.iter().filter(|c| c.group == group_index).collect();
        if cases.is_empty() {
            continue;
        }
        // Skipped cases are known before anything runs; they keep their
        // place in case order, so that a report is in case order whatever
        // share of the suite ran (`--partition`).
        let mut runnable: Vec<&Case> = Vec::with_capacity(cases.len());
        let mut slots: Vec<Option<CaseOutcome>> = Vec::with_capacity(cases.len());
        for case in &cases {
            match session.skip_reason(&case.input, group.obfuscated) {
                None => {
                    runnable.push(case);
                    slots.push(None);
                }
                reason => slots.push(Some(outcome(case, &info.name, Status::Skipped, |o| o.skip_reason = reason))),
            }
        }
        // One list of replies per process, each in `runnable` order.
        let mut per_process: Vec<std::vec::IntoIter<CaseReply>> = Vec::with_capacity(repeat);
        for _ in 0..repeat {
            if repeat > 1 {
                session.restart();
            }
            let replies = ask_group(session, group, &runnable, config_errors, |asked| {
                done += asked;
                progress(&info.name, done, total);
            });
            per_process.push(replies.into_iter());
        }
        let mut judged = Vec::with_capacity(runnable.len());
        for case in &runnable {
            let replies: Vec<CaseReply> = per_process.iter_mut().filter_map(Iterator::next).collect();
            let settled = crate::repeat::settle(replies);
            let first_answer = match &settled {
                Settled::Agreed(reply) => crate::repeat::answer_of(reply),
                Settled::Differ(replies) => replies.iter().find_map(crate::repeat::answer_of),
            };
            if let Some(Answer::Observed(observation)) = first_answer {
                observed.insert(case.id.clone(), observation.clone());
            }
            judged.push(match settled {
                Settled::Agreed(reply) => judge(case, &info, reply, reference, settings),
                Settled::Differ(replies) => nondeterministic(case, &info.name, replies),
            });
        }
        let mut judged = judged.into_iter();
        outcomes.extend(slots.into_iter().filter_map(|slot| slot.or_else(|| judged.next())));
        done += (cases.len() - runnable.len()) * repeat;
        if runnable.is_empty() {
            progress(&info.name, done, total);
        }
    }
    (outcomes, observed)
}

/// One process's replies to a group's runnable cases, in order: configure
/// it, then one batch per test file (`asked` hears of each batch's size).
fn ask_group(
    session: &mut Session<'_>,
    group: &Group,
    runnable: &[&Case],
    config_errors: &mut Vec<String>,
    mut asked: impl FnMut(usize),
) -> Vec<CaseReply> {
    let messages = match session.configure(&format!("group {:?}", group.name), &group.config_set()) {
        Ok(warnings) => warnings,
        Err(message) => vec![message],
    };
    for message in messages {
        if !config_errors.contains(&message) {
            config_errors.push(message);
        }
    }
    let mut replies = Vec::with_capacity(runnable.len());
    for batch in runnable.chunk_by(|a, b| a.file == b.file) {
        let questions: Vec<Question<'_>> = batch.iter().map(|c| Question { id: &c.id, input: &c.input }).collect();
        replies.extend(session.ask(&questions, group.obfuscated));
        asked(batch.len());
    }
    replies
}

/// A case whose processes answered differently: neither judged against the
/// expectation nor counted as a pass or a failure.
fn nondeterministic(case: &Case, party: &str, replies: Vec<CaseReply>) -> CaseOutcome {
    outcome(case, party, Status::Nondeterministic, |o| {
        o.observed = replies.iter().find_map(crate::repeat::answer_of).cloned();
        o.process_replies = replies;
    })
}

fn judge(
    case: &Case,
    info: &PartyInfo,
    reply: CaseReply,
    reference: Option<&HashMap<String, Observation>>,
    settings: &RunSettings,
) -> CaseOutcome {
    let bandit = matches!(case.input, CaseInput::Bandit(_));
    let scope = Scope {
        details: info.gives(AnswerPart::Details, bandit),
        events: reference.is_some() && info.gives(AnswerPart::AssignmentEvents, bandit),
        bandit_events: reference.is_some() && info.gives(AnswerPart::BanditEvents, bandit),
    };
    let reference_answer = reference.and_then(|r| r.get(&case.id));
    verdict(case, &case.expected, &info.name, reply, reference_answer, scope, settings)
}

/// One party's reply to `case`, judged: its value (and, as `scope` says,
/// details) against `expected`, its events against `reference`'s.
pub(crate) fn verdict(
    case: &Case,
    expected: &crate::compare::Expected,
    party: &str,
    reply: CaseReply,
    reference: Option<&Observation>,
    scope: Scope,
    settings: &RunSettings,
) -> CaseOutcome {
    let answer = match reply {
        CaseReply::Skipped { reason } => {
            return outcome(case, party, Status::Skipped, |o| o.skip_reason = Some(reason))
        }
        CaseReply::Lost { error, stderr_tail } => {
            return outcome(case, party, Status::Errored, |o| {
                o.error = Some(error);
                o.stderr_tail = stderr_tail;
            })
        }
        CaseReply::Answered(answer) => answer,
    };
    let observation = match &answer {
        Answer::Raised(error) => {
            // The SDK raised for this case: its answer, and a wrong one.
            let difference = Difference {
                field: "value".into(),
                severity: Severity::Critical,
                expected: expected.value.clone(),
                actual: Json(serde_json::json!({ "raised": error })),
            };
            let error = error.clone();
            return outcome(case, party, Status::Failed, |o| {
                o.error = Some(error);
                o.differences = vec![difference];
                o.observed = Some(answer);
            });
        }
        Answer::Observed(observation) => observation,
    };
    let differences = compare(expected, observation, reference, scope);
    let failing = differences.iter().any(|d| settings.fail_on.contains(&d.severity));
    let status = if failing { Status::Failed } else { Status::Passed };
    outcome(case, party, status, |o| {
        o.differences = differences;
        o.observed = Some(answer);
    })
}

pub(crate) fn outcome(case: &Case, party: &str, status: Status, fill: impl FnOnce(&mut CaseOutcome)) -> CaseOutcome {
    new_outcome(case.id.clone(), party, status, case.file.clone(), fill)
}

/// An outcome with nothing but its id, party, status and file, then `fill`ed.
pub(crate) fn new_outcome(
    case_id: String,
    party: &str,
    status: Status,
    file: PathBuf,
    fill: impl FnOnce(&mut CaseOutcome),
) -> CaseOutcome {
    let mut o = CaseOutcome {
        case_id,
        party: party.to_owned(),
        status,
        file,
        differences: Vec::new(),
        error: None,
        skip_reason: None,
        stderr_tail: None,
        known_failure: None,
        causes: Vec::new(),
        observed: None,
        process_replies: Vec::new(),
        request_log: Vec::new(),
    };
    fill(&mut o);
    o
}
