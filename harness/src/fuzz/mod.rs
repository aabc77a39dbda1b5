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
//! * [`signature`]: what counts as a disagreement and how one is named;
//! * [`minimize`]: greedy shrinking of a disagreeing case;
//! * [`finding`]: findings and how they are written out as suites;
//!   their summaries are rendered in [`crate::report::fuzz`];
//! * [`repeat`]: with [`FuzzOptions::repeat`], each batch put to fresh
//!   processes, and the parties whose answers differ between them.
//!
//! **One batch, one round trip.** Each batch is one configuration and its
//! cases ([`Scenario`]); every party gets exactly one `configure` and one
//! `evaluate` request for it, concurrently (one thread per party, the first
//! party on the caller's thread). Minimization re-asks the parties once per
//! candidate, so its cost is bounded by [`FuzzOptions::max_minimize_steps`].
//!
//! **Reproducible.** Batch `n` is generated from its own RNG, seeded from
//! `(seed, n)`, so it depends only on the seed, the batch size and the
//! scenario kinds ([`scenario_for_batch`]): the same options give the same
//! batches whatever the parties answer and however long earlier batches
//! took, and a duration budget explores a prefix of the sequence a case
//! budget would.
//!
//! **Deduplicated.** A disagreement of the same kind as a finding already
//! made ([`Disagreement::same_kind`]), whose case has every feature of that
//! finding, is counted as another occurrence of it without minimizing; this
//! keeps a frequent divergence from eating the minimization budget.
//! Otherwise it is minimized, and findings with the same signature are kept
//! once (the smallest example).

pub mod finding;
pub mod minimize;
pub mod repeat;
pub mod signature;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use ufc_strategies::Generator;

pub use finding::{write_findings, Finding, PartyAnswers, WriteError};
pub use signature::{Disagreement, Field, Signature};

use ufc_reference::obfuscation::obfuscate_configuration;

use crate::observation::Answer;
use crate::party::{ConfigSet, Party, PartyInfo, Question};
use crate::session::{CaseReply, Session};
use signature::{observe, Facts};
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
    /// Minimizations one run may spend; disagreements beyond it are counted
    /// in [`FuzzReport::unminimized`].
    pub max_minimizations: usize,
    /// Fresh processes each batch is put to, per party (`--repeat`); above
    /// 1, answers that differ between them are [`FuzzReport::nondeterministic`].
    pub repeat: u32,
}

impl Default for FuzzOptions {
    fn default() -> Self {
        FuzzOptions {
            seed: 0,
            budget: Budget::Cases(10_000),
            batch_size: 64,
            bandits: true,
            malformed: false,
            obfuscated: false,
            max_minimize_steps: 300,
            max_minimizations: 100,
            repeat: 1,
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
    /// Disagreements left unminimized because the minimization budget ran out.
    pub unminimized: u64,
    /// Round trips spent minimizing.
    pub minimize_steps: u64,
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
    if options.bandits && !options.obfuscated && roll < 15 {
        if let Some(scenario) = generator.draw(&ufc_strategies::bandit_scenario()) {
            return scenario.into();
        }
    }
    let malformed = options.malformed && (15..30).contains(&roll);
    let strategy = if malformed { ufc_strategies::malformed_scenario() } else { ufc_strategies::flag_scenario() };
    let mut parts = Vec::new();
    let mut cases = 0;
    // Groups of flags are merged until the batch is full; the cap keeps a
    // batch size of zero or one from looping.
    while cases < options.batch_size.max(1) && parts.len() < 256 {
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
/// each, concurrently.
pub(crate) fn ask(parties: &mut [Box<dyn Party>], scenario: &Scenario, ids: &[String]) -> Vec<PartyRun> {
    let config = scenario.config_set();
    let questions: Vec<Question<'_>> =
        ids.iter().zip(&scenario.cases).map(|(id, input)| Question { id: id.as_str(), input }).collect();
    let Some((first, rest)) = parties.split_first_mut() else { return Vec::new() };
    let (config, questions, obfuscated) = (&config, &questions[..], scenario.obfuscated);
    std::thread::scope(|scope| {
        let handles: Vec<_> = rest
            .iter_mut()
            .map(|party| scope.spawn(move || ask_one(party.as_mut(), config, questions, obfuscated)))
            .collect();
        let mut runs = vec![ask_one(first.as_mut(), config, questions, obfuscated)];
        for handle in handles {
            runs.push(handle.join().unwrap_or_else(|_| PartyRun {
                answer: PartyAnswer::Failed("the party panicked".into()),
                busy: Duration::ZERO,
            }));
        }
        runs
    })
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
/// answered it and some other party answered differently.
pub(crate) fn disagreement_at(
    infos: &[PartyInfo],
    scenario: &Scenario,
    runs: &[PartyRun],
    index: usize,
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
            Some(observe(info, input, answer))
        })
        .collect();
    facts.first()?.as_ref()?;
    signature::disagreement(&names, &facts)
}

fn exhausted(budget: Budget, cases: u64, started: Instant) -> bool {
    match budget {
        Budget::Cases(limit) => cases >= limit,
        Budget::Duration(limit) => started.elapsed() >= limit,
    }
}

/// Fuzzes `parties` (the first is the reference, the oracle of the written
/// test cases) until the budget is spent, and reports what disagreed.
/// Nothing is written to disk: see [`write_findings`].
pub fn fuzz(parties: &mut [Box<dyn Party>], options: &FuzzOptions, progress: ProgressFn<'_>) -> FuzzReport {
    let started = Instant::now();
    let infos: Vec<PartyInfo> = parties.iter().map(|p| p.info().clone()).collect();
    let mut report = FuzzReport {
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
        unminimized: 0,
        minimize_steps: 0,
        skipped_batches: 0,
        party_failures: Vec::new(),
        findings: Vec::new(),
        nondeterministic: Vec::new(),
    };
    let mut minimizations = 0;
    let mut batch = 0_u64;
    let mut ahead = BatchesAhead::default();
    while !parties.is_empty() && !exhausted(options.budget, report.cases, started) {
        let scenario = ahead.next(options, batch);
        let prefix = format!("fuzz-{batch}");
        let ids = scenario.case_ids(&prefix);
        let repeated = match options.repeat {
            0 | 1 => repeat::Repeated { runs: ask(parties, &scenario, &ids), differing: Vec::new() },
            processes => repeat::ask_in_fresh_processes(parties, &scenario, &ids, processes),
        };
        report.batches += 1;
        report.cases += scenario.cases.len() as u64;
        repeat::record(&mut report.nondeterministic, &infos, &repeated, &scenario, batch, report.cases);
        let runs = repeated.runs;
        for ((run, stats), info) in runs.iter().zip(&mut report.throughput).zip(&infos) {
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
        let reference_answered = matches!(runs.first(), Some(PartyRun { answer: PartyAnswer::Answered(_), .. }));
        if !reference_answered {
            report.skipped_batches += 1;
        } else {
            for (index, id) in ids.iter().enumerate() {
                let Some(disagreement) = disagreement_at(&infos, &scenario, &runs, index) else { continue };
                report.disagreements += 1;
                let coarse = signature::features(&scenario, index);
                let explained = report.findings.iter_mut().find(|f| {
                    f.disagreement.same_kind(&disagreement) && f.signature.features.iter().all(|x| coarse.contains(x))
                });
                if let Some(finding) = explained {
                    finding.occurrences += 1;
                    continue;
                }
                if minimizations >= options.max_minimizations {
                    report.unminimized += 1;
                    continue;
                }
                minimizations += 1;
                let minimized = minimize::minimize(
                    parties,
                    &infos,
                    minimize::Start { scenario: &scenario, target: index, runs: &runs, prefix: &prefix },
                    &disagreement,
                    options.max_minimize_steps,
                );
                report.minimize_steps += minimized.steps as u64;
                let finding = Finding::new(&infos, minimized, options, batch, report.cases, id);
                record(&mut report.findings, finding);
            }
        }
        batch += 1;
        progress(&FuzzProgress {
            batches: report.batches,
            cases: report.cases,
            disagreements: report.disagreements,
            findings: report.findings.len(),
            elapsed: started.elapsed(),
            budget: options.budget,
        });
    }
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
        let mut generated: Vec<(u64, Scenario)> =
            (batch..batch + count).into_par_iter().map(|n| (n, scenario_for_batch(options, n))).collect();
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
