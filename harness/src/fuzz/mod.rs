//! The differential fuzzer: generates UFC configurations and subjects,
//! asks every party (the reference first, then SDKs behind adapters) for
//! its answers, and turns each disagreement into a minimized, classified,
//! ready-to-run test case.
//!
//! The module owns the engine loop and how parties are asked; its parts are:
//!
//! * the generators (configurations, subjects, bandits, malformed
//!   documents) live in the `ufc-strategies` crate; [`Scenario`] converts
//!   what they draw into protocol cases;
//! * [`feature`]: the typed features of a case, read off its documents;
//! * [`signature`]: what counts as a disagreement, its deviations, and how
//!   one is named;
//! * [`minimize`]: greedy shrinking of a disagreeing case;
//! * [`finding`]: findings and how they are written out as suites;
//!   their summaries are rendered in [`crate::report::fuzz`];
//! * [`repeat`]: with [`FuzzOptions::repeat`], each batch put to fresh
//!   processes, and the parties whose answers differ between them.
//!
//! **One batch, one round trip.** Each batch is one configuration and its
//! cases ([`Scenario`]); every party gets exactly one `configure` and one
//! `evaluate` request for it, concurrently (one thread per party, the first
//! party on the caller's thread).
//!
//! **Reproducible.** Batch `n` is generated from its own RNG, seeded from
//! `(seed, n)`, so it depends only on the seed, the batch size and the
//! scenario kinds ([`scenario_for_batch`]): the same options give the same
//! batches whatever the parties answer and however long earlier batches
//! took, and a duration budget explores a prefix of the sequence a case
//! budget would.
//!
//! **Finding for the whole run.** Every deviation seen is either explained
//! by a finding already made, or a repeat of a case already waiting, or it
//! joins the queue of cases to minimize, most novel features first (see
//! `Engine` for the rules: a case with a telling feature that no case of its
//! deviation was minimized with is never put down to a finding). Minimizing takes turns
//! with generating, at most [`FuzzOptions::minimize_share`] of the time, so
//! a long run keeps both exploring and minimizing; a case budget minimizes
//! everything queued before it ends. What was never minimized is counted
//! with the reason ([`Unminimized`]).
pub mod feature;
pub mod finding;
pub mod minimize;
pub mod repeat;
pub mod signature;

use crate::partition::Partition;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use ufc_strategies::Generator;

pub use feature::Feature;
pub use finding::{write_findings, Finding, PartyAnswers, WriteError};
pub use signature::{Deviation, Disagreement, Field, Signature};

use ufc_reference::obfuscation::obfuscate_configuration;

use crate::observation::Answer;
use crate::party::adapter::CASES_PER_REQUEST;
use crate::party::{ConfigSet, Party, PartyInfo, Question};
use crate::session::{CaseReply, Session};
use signature::{observe, Facts};
use ufc_protocol::report::Severity;
use ufc_protocol::{exit_codes, Capability, CaseInput, Source};

/// A configuration and the cases to evaluate against it: one batch, or one
/// candidate of the minimizer, or one finding.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// The `flags-v1.json` document.
    pub flags: Value,
    /// The `bandit-models-v1.json` document, for bandit scenarios.
    pub bandit_models: Option<Value>,
    /// The cases, flag or bandit.
    pub cases: Vec<CaseInput>,
    /// Put `flags` to the parties in the CLIENT format (spec section 6);
    /// only parties with the `obfuscated` capability take part.
    pub obfuscated: bool,
}

impl Scenario {
    /// The configuration as parties load it (inline documents).
    pub fn config_set(&self) -> ConfigSet {
        let flags = if self.obfuscated { obfuscate_configuration(&self.flags) } else { self.flags.clone() };
        ConfigSet {
            flags: Source::Inline(flags),
            bandit_models: self.bandit_models.clone().map(Source::Inline),
            precomputed: None,
        }
    }

    /// Case ids `<prefix>/<flag>/<subjectKey>`, with `#2`, `#3`... for
    /// repeats so that they stay unique.
    pub fn case_ids(&self, prefix: &str) -> Vec<String> {
        let mut ids: Vec<String> = self
            .cases
            .iter()
            .map(|case| {
                let (flag, subject) = flag_and_subject(case);
                format!("{prefix}/{flag}/{subject}")
            })
            .collect();
        crate::suite::make_unique(&mut ids);
        ids
    }

    /// A size for "smallest example": cases first, then document length.
    pub fn size(&self) -> usize {
        let text = |v: &Value| serde_json::to_string(v).map_or(0, |s| s.len());
        self.cases.len() * 1_000_000 + text(&self.flags) + self.bandit_models.as_ref().map_or(0, text)
    }

    /// The number of flags in the document.
    pub fn flag_count(&self) -> usize {
        self.flags.get("flags").and_then(Value::as_object).map_or(0, Map::len)
    }
}

/// A generated scenario as protocol cases; never obfuscated (the fuzzer
/// decides that per run).
impl From<ufc_strategies::Scenario> for Scenario {
    fn from(generated: ufc_strategies::Scenario) -> Scenario {
        Scenario {
            flags: generated.flags,
            bandit_models: generated.bandit_models,
            cases: generated.cases,
            obfuscated: false,
        }
    }
}

/// The flag key and subject key of a case.
pub fn flag_and_subject(case: &CaseInput) -> (&str, &str) {
    match case {
        CaseInput::Flag(c) => (&c.flag, &c.subject_key),
        CaseInput::Bandit(c) => (&c.flag, &c.subject_key),
    }
}

/// How long to fuzz.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// Stop once this many cases were generated (checked between batches,
    /// so the last batch may go past it).
    Cases(u64),
    /// Stop generating batches after this long (a minimization under way
    /// finishes first).
    Duration(Duration),
}

/// Fuzzing settings.
#[derive(Debug, Clone, PartialEq)]
pub struct FuzzOptions {
    /// Seeds every batch.
    pub seed: u64,
    /// When to stop.
    pub budget: Budget,
    /// Cases per batch (one configure + one evaluate per party). Flag
    /// batches merge generated flag groups until they reach it; bandit
    /// batches hold one bandit flag and 1–8 cases.
    pub batch_size: usize,
    /// Mix bandit batches in (about one in seven). Parties without the
    /// `bandits` capability sit those cases out.
    pub bandits: bool,
    /// Mix batches with damaged flags in (about one in seven).
    pub malformed: bool,
    /// Put every configuration in the CLIENT format; bandit batches are
    /// not generated (CLIENT bandit links are not read).
    pub obfuscated: bool,
    /// Round trips one minimization may spend.
    pub max_minimize_steps: usize,
    /// The share of a duration budget minimizing may take (0 to 1); the rest
    /// goes to new batches.
    pub minimize_share: f64,
    /// Cases waiting to be minimized at most; later ones are counted in
    /// [`Unminimized::queue_full`].
    pub max_queued: usize,
    /// Differences less severe than this are not compared.
    pub least_severity: Severity,
    /// Fresh processes each batch is put to, per party (`--repeat`); above
    /// 1, answers that differ between them are [`FuzzReport::nondeterministic`].
    pub repeat: u32,
    /// `--partition K/N`: only the batches of this share, dealt out in turn
    /// (K-1, K-1+N, ...), so that N jobs on one seed generate disjoint cases.
    pub partition: Option<Partition>,
}

impl Default for FuzzOptions {
    fn default() -> Self {
        FuzzOptions {
            seed: 0,
            budget: Budget::Cases(10_000),
            batch_size: 1024,
            bandits: true,
            malformed: false,
            obfuscated: false,
            max_minimize_steps: 300,
            minimize_share: 0.6,
            max_queued: 2_000,
            least_severity: Severity::Major,
            repeat: 1,
            partition: None,
        }
    }
}

/// Where a run is, for progress display.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FuzzProgress {
    /// Batches done.
    pub batches: u64,
    /// Cases generated.
    pub cases: u64,
    /// Disagreeing cases seen.
    pub disagreements: u64,
    /// Distinct findings so far.
    pub findings: usize,
    /// Time since the start.
    pub elapsed: Duration,
    /// The budget.
    pub budget: Budget,
}

/// Progress callback, called after every batch.
pub type ProgressFn<'a> = &'a (dyn Fn(&FuzzProgress) + Sync);

/// Time and cases one party spent on generated batches.
#[derive(Debug, Clone, PartialEq)]
pub struct PartyThroughput {
    /// The party.
    pub party: String,
    /// Cases it answered.
    pub cases: u64,
    /// Time inside its `configure` and `evaluate` calls.
    pub busy: Duration,
}

impl PartyThroughput {
    /// Cases per second of busy time (0 when idle).
    pub fn cases_per_second(&self) -> f64 {
        let seconds = self.busy.as_secs_f64();
        if seconds > 0.0 {
            self.cases as f64 / seconds
        } else {
            0.0
        }
    }
}

/// A party that could not take part in a batch at all.
#[derive(Debug, Clone, PartialEq)]
pub struct PartyFailure {
    /// The party.
    pub party: String,
    /// The batch.
    pub batch: u64,
    /// What went wrong (`configure` refused, every case lost to a fault).
    pub message: String,
}

/// Everything a run found.
#[derive(Debug, Clone)]
pub struct FuzzReport {
    /// The options it ran with.
    pub options: FuzzOptions,
    /// The parties, reference first.
    pub parties: Vec<PartyInfo>,
    /// Batches generated.
    pub batches: u64,
    /// Cases generated.
    pub cases: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// Per party, on generated batches (minimization excluded).
    pub throughput: Vec<PartyThroughput>,
    /// Disagreeing cases seen.
    pub disagreements: u64,
    /// Deviations seen (a disagreeing case has one or more).
    pub deviations: u64,
    /// Deviations put down to a finding already made.
    pub explained: u64,
    /// Deviations that repeated a case already queued or minimized.
    pub repeated: u64,
    /// Deviations minimized.
    pub minimized: u64,
    /// Deviations never minimized, by reason.
    pub unminimized: Unminimized,
    /// Round trips spent minimizing.
    pub minimize_steps: u64,
    /// Time spent minimizing.
    pub minimize_time: Duration,
    /// How often each feature occurred among generated cases, and among
    /// disagreeing ones.
    pub coverage: BTreeMap<Feature, FeatureCount>,
    /// Batches skipped because the reference could not load them.
    pub skipped_batches: u64,
    /// Batches a party sat out (first 100).
    pub party_failures: Vec<PartyFailure>,
    /// Distinct findings, by signature text.
    pub findings: Vec<Finding>,
    /// Parties whose answers differed between processes (`--repeat`).
    pub nondeterministic: Vec<repeat::Nondeterminism>,
}

impl FuzzReport {
    /// The command's exit code: a party that sat a batch out is an error,
    /// then a party that answered differently in different processes, then
    /// a finding a failure.
    pub fn exit_code(&self) -> i32 {
        if !self.party_failures.is_empty() {
            exit_codes::ERRORS
        } else if !self.nondeterministic.is_empty() {
            exit_codes::NONDETERMINISTIC
        } else if self.findings.is_empty() {
            exit_codes::SUCCESS
        } else {
            exit_codes::FAILURES
        }
    }
}

/// Deviations that were never minimized, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Unminimized {
    /// Still queued when a duration budget ran out.
    pub run_ended: u64,
    /// Seen while the queue was full.
    pub queue_full: u64,
}

impl Unminimized {
    /// All of them.
    pub fn total(&self) -> u64 {
        self.run_ended + self.queue_full
    }
}

/// How often a feature occurred.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FeatureCount {
    /// Generated cases that have it.
    pub cases: u64,
    /// Disagreeing cases that have it.
    pub disagreeing: u64,
}

/// At most this many party failures are kept.
const MAX_PARTY_FAILURES: usize = 100;

/// The RNG of batch `batch`: ChaCha seeded with the seed and the batch
/// number, so every batch can be regenerated on its own.
fn batch_generator(seed: u64, batch: u64) -> Generator {
    let mut bytes = [0_u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes[8..16].copy_from_slice(&batch.to_le_bytes());
    bytes[16..24].copy_from_slice(b"ufc-fuzz");
    Generator::from_seed(bytes)
}

/// Generates batch `batch` of a run with `options` (its seed, batch size
/// and scenario kinds); the rest of the options do not matter.
pub fn scenario_for_batch(options: &FuzzOptions, batch: u64) -> Scenario {
    let mut generator = batch_generator(options.seed, batch);
    let roll = generator.draw(&(0..100_u32)).unwrap_or(0);
    let size = options.batch_size.max(1);
    if options.bandits && !options.obfuscated && roll < 15 {
        // One bandit flag asked by many subjects.
        if let Some(scenario) = generator.draw(&ufc_strategies::bandit_scenario_with((size / 2).max(1)..=size)) {
            return scenario.into();
        }
    }
    let malformed = options.malformed && (15..30).contains(&roll);
    // Dense parts: a few flags, each asked by many subjects, so that one
    // `configure` (an SDK parsing the document, most of a batch's cost to
    // it) serves many cases; about eight parts make a batch.
    let strategy = if malformed {
        ufc_strategies::malformed_scenario()
    } else {
        ufc_strategies::flag_scenario_shaped(ufc_strategies::ScenarioShape::dense((size / 8).clamp(1, 256)))
    };
    let mut parts = Vec::new();
    let mut cases = 0;
    // Groups of flags are merged until the batch is full; the cap keeps a
    // batch size of zero or one from looping.
    while cases < size && parts.len() < 256 {
        let Some(part) = generator.draw(&strategy).map(Scenario::from) else { break };
        cases += part.cases.len();
        parts.push(part);
    }
    Scenario { obfuscated: options.obfuscated, ..merge(parts) }
}

/// Merges flag scenarios into one document, renaming flags whose keys are
/// already taken (map key, `key` field and the cases that ask for them).
fn merge(parts: Vec<Scenario>) -> Scenario {
    let mut flags = Map::new();
    let mut cases = Vec::new();
    for (index, part) in parts.into_iter().enumerate() {
        let mut renames: HashMap<String, String> = HashMap::new();
        if let Some(map) = part.flags.get("flags").and_then(Value::as_object) {
            for (key, flag) in map {
                let mut flag = flag.clone();
                let new_key = if flags.contains_key(key) { format!("{key}.{index}") } else { key.clone() };
                if let Some(object) = flag.as_object_mut() {
                    if object.get("key").and_then(Value::as_str) == Some(key.as_str()) {
                        object.insert("key".into(), Value::from(new_key.as_str()));
                    }
                }
                renames.insert(key.clone(), new_key.clone());
                flags.insert(new_key, flag);
            }
        }
        for mut case in part.cases {
            if let CaseInput::Flag(c) = &mut case {
                if let Some(new_key) = renames.get(&c.flag) {
                    c.flag = new_key.clone();
                }
            }
            cases.push(case);
        }
    }
    Scenario {
        flags: ufc_strategies::configuration_document(flags, None),
        bandit_models: None,
        cases,
        obfuscated: false,
    }
}

/// What one party answered for a scenario.
#[derive(Debug, Clone)]
pub(crate) enum PartyAnswer {
    /// It could not take part (`configure` failed, or every case was lost
    /// to a fault of its process).
    Failed(String),
    /// One entry per case; `None` for cases it did not answer (it lacks
    /// the capability, or the case was lost to a fault).
    Answered(Vec<Option<Answer>>),
}

/// One party's answer and the time it took.
#[derive(Debug, Clone)]
pub(crate) struct PartyRun {
    pub(crate) answer: PartyAnswer,
    pub(crate) busy: Duration,
}

impl PartyRun {
    /// The answers, when the party took part.
    pub(crate) fn answers(&self) -> Option<&[Option<Answer>]> {
        match &self.answer {
            PartyAnswer::Answered(answers) => Some(answers),
            PartyAnswer::Failed(_) => None,
        }
    }
}

/// Asks every party about `scenario`: one `configure` and one `evaluate`
/// each, at most as many at once as the cores keep busy. More at once would
/// only share the cores between adapters: each would answer slower, the
/// harness's own reading of answers would queue behind them, and a party's
/// busy time would say more about the others than about it. (On two cores,
/// asking the parties of a generated batch one after the other gave each
/// SDK more cases per second than asking two at once, python a fifth more,
/// and the run no fewer cases per second of wall time: measured once, with
/// a switch that is not in the code.)
pub(crate) fn ask(parties: &mut [Box<dyn Party>], scenario: &Scenario, ids: &[String]) -> Vec<PartyRun> {
    ask_some(parties, scenario, ids, &vec![true; parties.len()])
}

/// [`ask`], of the parties whose `asked` entry is true only: the others sit
/// the scenario out (every case unanswered).
pub(crate) fn ask_some(
    parties: &mut [Box<dyn Party>],
    scenario: &Scenario,
    ids: &[String],
    asked: &[bool],
) -> Vec<PartyRun> {
    let config = scenario.config_set();
    let questions: Vec<Question<'_>> =
        ids.iter().zip(&scenario.cases).map(|(id, input)| Question { id: id.as_str(), input }).collect();
    let (config, questions, obfuscated) = (&config, &questions[..], scenario.obfuscated);
    let count = parties.len();
    let asked = |index: usize| asked.get(index).copied().unwrap_or(false);
    let sat_out = || PartyRun { answer: PartyAnswer::Answered(vec![None; questions.len()]), busy: Duration::ZERO };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // An adapter given a batch of several requests keeps about two cores
    // busy (itself, and the harness reading its answers while it evaluates
    // the next request); one given a single request, one.
    let per_party = if questions.len() > CASES_PER_REQUEST { 2 } else { 1 };
    let asking = (0..count).filter(|i| asked(*i)).count();
    let workers = (cores / per_party).clamp(1, asking.max(1));
    // Parties are taken in their order (the reference, quick, first) by
    // whichever worker is free.
    let queue = Mutex::new(parties.iter_mut().enumerate().filter(|(index, _)| asked(*index)));
    let runs: Mutex<Vec<Option<PartyRun>>> =
        Mutex::new((0..count).map(|index| (!asked(index)).then(sat_out)).collect());
    let work = || loop {
        let next = queue.lock().unwrap_or_else(|e| e.into_inner()).next();
        let Some((index, party)) = next else { break };
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            ask_one(party.as_mut(), config, questions, obfuscated)
        }))
        .unwrap_or_else(|_| PartyRun {
            answer: PartyAnswer::Failed("the party panicked".into()),
            busy: Duration::ZERO,
        });
        runs.lock().unwrap_or_else(|e| e.into_inner())[index] = Some(run);
    };
    std::thread::scope(|scope| {
        for _ in 1..workers {
            scope.spawn(work);
        }
        work();
    });
    runs.into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|run| {
            run.unwrap_or_else(|| PartyRun { answer: PartyAnswer::Failed("never asked".into()), busy: Duration::ZERO })
        })
        .collect()
}

fn ask_one(party: &mut dyn Party, config: &ConfigSet, questions: &[Question<'_>], obfuscated: bool) -> PartyRun {
    let mut session = Session::new(party);
    if obfuscated && !session.info().can(&Capability::Obfuscated) {
        // Sits the scenario out: every case unanswered, which is no finding.
        return PartyRun { answer: PartyAnswer::Answered(vec![None; questions.len()]), busy: Duration::ZERO };
    }
    let started = Instant::now();
    if let Err(message) = session.configure("the scenario", config) {
        return PartyRun { answer: PartyAnswer::Failed(message), busy: started.elapsed() };
    }
    let replies = session.ask(questions, obfuscated);
    let busy = started.elapsed();
    // A raised error is an answer (the SDK's behaviour); a lost case (crash,
    // hang, garbage) is not, and that party sits the case out. A batch lost
    // entirely is the adapter's failure, not a finding.
    let asked = replies.iter().filter(|r| !matches!(r, CaseReply::Skipped { .. })).count();
    let lost: Vec<&str> = replies
        .iter()
        .filter_map(|r| match r {
            CaseReply::Lost { error, .. } => Some(error.as_str()),
            _ => None,
        })
        .collect();
    if asked > 0 && lost.len() == asked {
        return PartyRun { answer: PartyAnswer::Failed(format!("every case was lost: {}", lost[0])), busy };
    }
    let answers = replies
        .into_iter()
        .map(|reply| match reply {
            CaseReply::Answered(answer) => Some(answer),
            CaseReply::Skipped { .. } | CaseReply::Lost { .. } => None,
        })
        .collect();
    PartyRun { answer: PartyAnswer::Answered(answers), busy }
}

/// The disagreement on case `index`, if the first party (the reference)
/// answered it and some other party answered differently on a field at
/// least as severe as `least`.
pub(crate) fn disagreement_at(
    infos: &[PartyInfo],
    scenario: &Scenario,
    runs: &[PartyRun],
    index: usize,
    least: Severity,
) -> Option<Disagreement> {
    let input = scenario.cases.get(index)?;
    let names: Vec<&str> = infos.iter().map(|i| i.name.as_str()).collect();
    let facts: Vec<Option<Facts<'_>>> = runs
        .iter()
        .zip(infos)
        .map(|(run, info)| {
            // A case lost to a fault says nothing about the SDK: that party
            // sits the case out.
            let answer = run.answers()?.get(index)?.as_ref()?;
            Some(observe(info, input, answer, scenario.obfuscated))
        })
        .collect();
    signature::disagreement(&names, &facts, least)
}

fn exhausted(budget: Budget, cases: u64, started: Instant) -> bool {
    match budget {
        Budget::Cases(limit) => cases >= limit,
        Budget::Duration(limit) => started.elapsed() >= limit,
    }
}

/// A deviation waiting to be minimized, with the batch it was seen in.
struct Pending {
    scenario: Arc<Scenario>,
    runs: Arc<Vec<PartyRun>>,
    target: usize,
    deviation: Deviation,
    features: Vec<Feature>,
    batch: u64,
    cases_through_batch: u64,
    prefix: Arc<str>,
    case_id: String,
}

/// Who deviates, and on what kind of field: what has been explored is kept
/// per deviation.
type DeviationKey = (Vec<String>, u8);

fn deviation_key(deviation: &Deviation) -> DeviationKey {
    (deviation.parties.clone(), deviation.field().kind())
}

/// What is known of one deviation's cases.
#[derive(Debug, Default)]
struct Explored {
    /// Telling features of the cases minimized for it.
    minimized: BTreeSet<Feature>,
    /// Telling features of the cases waiting for their turn.
    queued: BTreeSet<Feature>,
    /// Whether a case with no telling feature was queued or minimized.
    plain: bool,
}

/// The features of `features` that say more than what is there.
fn telling(features: &[Feature]) -> impl Iterator<Item = &Feature> {
    features.iter().filter(|f| !f.is_descriptive())
}

/// The finding that explains a deviation on a case with `features`: one of
/// the same deviation whose features the case all has, the most specific
/// if several do.
fn explanation<'f>(
    findings: &'f mut [Finding],
    deviation: &Deviation,
    features: &[Feature],
) -> Option<&'f mut Finding> {
    findings
        .iter_mut()
        .filter(|f| f.deviation.same_as(deviation) && f.signature.features.iter().all(|x| features.contains(x)))
        .max_by_key(|f| f.signature.features.len())
}

/// The engine's state between batches.
///
/// A deviation is **explained** by a finding when every telling feature of
/// its case was already in a case minimized for the same deviation, and a
/// finding of that deviation has only features the case has: nothing about
/// the case is new to what minimizing showed. It **repeats** a queued case
/// when every telling feature of its case is in one minimized or queued for
/// it. Otherwise it has a telling feature no case of that deviation has had,
/// and joins the queue, so that every odd thing gets minimized at least once
/// for each way parties deviate, and no finding stands for cases it never
/// had a look at.
struct Engine<'o> {
    options: &'o FuzzOptions,
    infos: Vec<PartyInfo>,
    report: FuzzReport,
    queue: Vec<Pending>,
    explored: HashMap<DeviationKey, Explored>,
}

impl Engine<'_> {
    /// Counts the batch's answers and files its deviations.
    fn take_batch(&mut self, batch: u64, scenario: Scenario, prefix: String, runs: Vec<PartyRun>) {
        let report = &mut self.report;
        report.batches += 1;
        report.cases += scenario.cases.len() as u64;
        for ((run, stats), info) in runs.iter().zip(&mut report.throughput).zip(&self.infos) {
            stats.busy += run.busy;
            match &run.answer {
                PartyAnswer::Answered(answers) => stats.cases += answers.iter().flatten().count() as u64,
                PartyAnswer::Failed(message) => {
                    if report.party_failures.len() < MAX_PARTY_FAILURES {
                        report.party_failures.push(PartyFailure {
                            party: info.name.clone(),
                            batch,
                            message: message.clone(),
                        });
                    }
                }
            }
        }
        if !matches!(runs.first(), Some(PartyRun { answer: PartyAnswer::Answered(_), .. })) {
            report.skipped_batches += 1;
            return;
        }
        let ids = scenario.case_ids(&prefix);
        let (scenario, runs, prefix) = (Arc::new(scenario), Arc::new(runs), Arc::<str>::from(prefix));
        let mut analysis = feature::Analysis::new(&scenario);
        for (index, id) in ids.into_iter().enumerate() {
            let features = analysis.case_features(index);
            let disagreement = disagreement_at(&self.infos, &scenario, &runs, index, self.options.least_severity);
            for feature in &features {
                let count = self.report.coverage.entry(*feature).or_default();
                count.cases += 1;
                count.disagreeing += u64::from(disagreement.is_some());
            }
            let Some(disagreement) = disagreement else { continue };
            self.report.disagreements += 1;
            for deviation in disagreement.deviations {
                let pending = Pending {
                    scenario: Arc::clone(&scenario),
                    runs: Arc::clone(&runs),
                    target: index,
                    deviation,
                    features: features.clone(),
                    batch,
                    cases_through_batch: self.report.cases,
                    prefix: Arc::clone(&prefix),
                    case_id: id.clone(),
                };
                self.file(pending);
            }
        }
    }

    /// Explains a deviation by a finding, counts it as a repeat, or queues it.
    fn file(&mut self, pending: Pending) {
        let report = &mut self.report;
        report.deviations += 1;
        let explored = self.explored.entry(deviation_key(&pending.deviation)).or_default();
        let plain = telling(&pending.features).next().is_none();
        let all_minimized = telling(&pending.features).all(|f| explored.minimized.contains(f));
        if all_minimized {
            if let Some(finding) = explanation(&mut report.findings, &pending.deviation, &pending.features) {
                finding.occurrences += 1;
                report.explained += 1;
                return;
            }
        }
        let covered = telling(&pending.features).all(|f| explored.minimized.contains(f) || explored.queued.contains(f));
        if covered && (!plain || explored.plain) {
            report.repeated += 1;
        } else if self.queue.len() >= self.options.max_queued {
            report.unminimized.queue_full += 1;
        } else {
            explored.queued.extend(telling(&pending.features));
            explored.plain |= plain;
            self.queue.push(pending);
        }
    }

    /// Minimizes the queued case with the most telling features no case of
    /// its deviation was minimized with (the earliest among equals), unless
    /// what was minimized since it was queued explains it.
    fn minimize_next(&mut self, parties: &mut [Box<dyn Party>]) {
        let novelty = |pending: &Pending| {
            let explored = self.explored.get(&deviation_key(&pending.deviation));
            telling(&pending.features).filter(|f| !explored.is_some_and(|e| e.minimized.contains(f))).count()
        };
        let Some(best) = (0..self.queue.len()).max_by_key(|i| (novelty(&self.queue[*i]), std::cmp::Reverse(*i))) else {
            return;
        };
        let pending = self.queue.remove(best);
        let explored = self.explored.entry(deviation_key(&pending.deviation)).or_default();
        if telling(&pending.features).all(|f| explored.minimized.contains(f)) {
            if let Some(finding) = explanation(&mut self.report.findings, &pending.deviation, &pending.features) {
                finding.occurrences += 1;
                self.report.explained += 1;
                return;
            }
        }
        explored.minimized.extend(telling(&pending.features));
        let started = Instant::now();
        let minimized = minimize::minimize(
            parties,
            &self.infos,
            minimize::Start {
                scenario: &pending.scenario,
                target: pending.target,
                runs: &pending.runs,
                prefix: &pending.prefix,
            },
            &pending.deviation,
            self.options,
        );
        self.report.minimize_time += started.elapsed();
        self.report.minimize_steps += minimized.steps as u64;
        self.report.minimized += 1;
        let finding = Finding::new(
            &self.infos,
            minimized,
            self.options,
            pending.batch,
            pending.cases_through_batch,
            &pending.case_id,
        );
        record(&mut self.report.findings, finding);
    }

    /// Whether it is minimizing's turn: something is queued and, under a
    /// case budget, always (so that what a run finds does not hang on how
    /// fast the parties were), under a duration budget while minimizing has
    /// had less than its share of the time so far.
    fn minimizing_turn(&self, elapsed: Duration) -> bool {
        !self.queue.is_empty()
            && match self.options.budget {
                Budget::Cases(_) => true,
                Budget::Duration(_) => {
                    self.report.minimize_time.as_secs_f64() <= self.options.minimize_share * elapsed.as_secs_f64()
                }
            }
    }
}

/// Fuzzes `parties` (the first is the reference, the oracle of the written
/// test cases) until the budget is spent, and reports what disagreed.
/// Nothing is written to disk: see [`write_findings`].
pub fn fuzz(parties: &mut [Box<dyn Party>], options: &FuzzOptions, progress: ProgressFn<'_>) -> FuzzReport {
    let started = Instant::now();
    let infos: Vec<PartyInfo> = parties.iter().map(|p| p.info().clone()).collect();
    let report = FuzzReport {
        options: options.clone(),
        parties: infos.clone(),
        batches: 0,
        cases: 0,
        elapsed: Duration::ZERO,
        throughput: infos
            .iter()
            .map(|i| PartyThroughput { party: i.name.clone(), cases: 0, busy: Duration::ZERO })
            .collect(),
        disagreements: 0,
        deviations: 0,
        explained: 0,
        repeated: 0,
        minimized: 0,
        unminimized: Unminimized::default(),
        minimize_steps: 0,
        minimize_time: Duration::ZERO,
        coverage: BTreeMap::new(),
        skipped_batches: 0,
        party_failures: Vec::new(),
        findings: Vec::new(),
        nondeterministic: Vec::new(),
    };
    let mut engine = Engine { options, infos, report, queue: Vec::new(), explored: HashMap::new() };
    let mut sequence = 0_u64;
    let mut ahead = BatchesAhead::default();
    let show = |engine: &Engine<'_>| {
        progress(&FuzzProgress {
            batches: engine.report.batches,
            cases: engine.report.cases,
            disagreements: engine.report.disagreements,
            findings: engine.report.findings.len(),
            elapsed: started.elapsed(),
            budget: options.budget,
        })
    };
    while !parties.is_empty() && !exhausted(options.budget, engine.report.cases, started) {
        if engine.minimizing_turn(started.elapsed()) {
            engine.minimize_next(parties);
            show(&engine);
            continue;
        }
        // The batch's number in the whole campaign, of which a share runs
        // every N-th.
        let batch = options.partition.map_or(sequence, |p| p.nth_in_turn(sequence));
        let scenario = ahead.next(options, batch);
        let prefix = format!("fuzz-{batch}");
        let ids = scenario.case_ids(&prefix);
        let repeated = match options.repeat {
            0 | 1 => repeat::Repeated { runs: ask(parties, &scenario, &ids), differing: Vec::new() },
            processes => repeat::ask_in_fresh_processes(parties, &scenario, &ids, processes),
        };
        let through = engine.report.cases + scenario.cases.len() as u64;
        repeat::record(&mut engine.report.nondeterministic, &engine.infos, &repeated, &scenario, batch, through);
        engine.take_batch(batch, scenario, prefix, repeated.runs);
        sequence += 1;
        show(&engine);
    }
    // A case budget names the batches to explore, and everything they showed
    // is minimized; a duration budget ends where it ends.
    match options.budget {
        Budget::Cases(_) => {
            while !engine.queue.is_empty() && !parties.is_empty() {
                engine.minimize_next(parties);
            }
        }
        Budget::Duration(_) => engine.report.unminimized.run_ended += engine.queue.len() as u64,
    }
    let mut report = engine.report;
    report.findings.sort_by_key(|f| f.signature.text());
    report.elapsed = started.elapsed();
    report
}

/// Batches generated ahead of time, on every core: each batch has its own
/// RNG, so generating them in parallel changes nothing about what they are,
/// and generation is most of the cost when the parties are fast.
#[derive(Default)]
struct BatchesAhead {
    ready: std::collections::VecDeque<(u64, Scenario)>,
}

impl BatchesAhead {
    fn next(&mut self, options: &FuzzOptions, batch: u64) -> Scenario {
        if let Some((_, scenario)) = self.ready.pop_front().filter(|(n, _)| *n == batch) {
            return scenario;
        }
        use rayon::prelude::*;
        let count = (rayon::current_num_threads() * 2).max(1) as u64;
        // A share's batches are N apart.
        let step = options.partition.map_or(1, |p| u64::from(p.count()));
        let mut generated: Vec<(u64, Scenario)> =
            (0..count).into_par_iter().map(|i| batch + i * step).map(|n| (n, scenario_for_batch(options, n))).collect();
        let first = generated.remove(0).1;
        self.ready = generated.into();
        first
    }
}

/// Keeps one finding per cause (see [`Signature::cause_key`]): the
/// smallest, with the occurrences of all and the other signatures seen.
fn record(findings: &mut Vec<Finding>, finding: Finding) {
    let key = finding.signature.cause_key();
    match findings.iter_mut().find(|f| f.signature.cause_key() == key) {
        Some(existing) => {
            let occurrences = existing.occurrences + finding.occurrences;
            let mut variants = std::mem::take(&mut existing.variants);
            for text in [existing.signature.text(), finding.signature.text()] {
                if !variants.contains(&text) {
                    variants.push(text);
                }
            }
            if finding.scenario.size() < existing.scenario.size() {
                *existing = finding;
            }
            variants.retain(|v| *v != existing.signature.text());
            existing.variants = variants;
            existing.occurrences = occurrences;
        }
        None => findings.push(finding),
    }
}
