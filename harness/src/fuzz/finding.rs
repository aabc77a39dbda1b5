//! Findings, and how they are written out.
//!
//! Each finding becomes a suite directory in the shared test files' layout,
//! runnable with `ufc-harness run --suite <dir>`:
//!
//! ```text
//! <out>/<slug>/ufc/flags-v1.json          flag findings
//! <out>/<slug>/ufc/tests/<slug>.json
//! <out>/<slug>/ufc/bandit-flags-v1.json   bandit findings
//! <out>/<slug>/ufc/bandit-models-v1.json
//! <out>/<slug>/ufc/bandit-tests/<slug>.json
//! <out>/<slug>/finding.json               seed, signature, every party's answers
//! <out>/nondeterministic/<party>.json     `--repeat`: a party's answers, per process
//! <out>/summary.md                        the run and its findings, for people
//! <out>/summary.html                      the same as a page: matrix, filters, diffs, minimized cases
//! <out>/summary.json                      the same, for machines
//! ```
//!
//! The expectations in the test files are the first party's answers (the
//! reference is the oracle), details included. Findings hold the typed
//! answers; `finding.json` records them as the adapters would have sent
//! them (protocol `CaseResult`s), converted as it is written. The two
//! summaries are rendered by [`crate::report::fuzz`].

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use super::minimize::Minimized;
use super::{Deviation, Disagreement, FuzzOptions, FuzzReport, Scenario, Signature};
use crate::observation::Answer;
use crate::party::PartyInfo;
use crate::report::fuzz as render;
use ufc_protocol::CaseInput;

/// What one party answered for each case of a finding.
#[derive(Debug, Clone, PartialEq)]
pub struct PartyAnswers {
    /// The party.
    pub party: String,
    /// Why it could not answer at all, if it could not.
    pub failure: Option<String>,
    /// One entry per case of the finding's scenario (`None`: not answered,
    /// for want of a capability or to a fault).
    pub cases: Vec<Option<Answer>>,
}

/// One distinct deviation, minimized.
#[derive(Debug, Clone)]
pub struct Finding {
    /// Its signature.
    pub signature: Signature,
    /// The deviation the minimized case shows (every field it differs on).
    pub deviation: Deviation,
    /// The whole disagreement on the minimized case (every party's class).
    pub disagreement: Disagreement,
    /// The minimized configuration and cases.
    pub scenario: Scenario,
    /// The disagreeing case in [`Finding::scenario`].
    pub target: usize,
    /// The case ids the parties were asked with, one per case.
    pub case_ids: Vec<String>,
    /// Each party's answers, reference first.
    pub answers: Vec<PartyAnswers>,
    /// The run's seed.
    pub seed: u64,
    /// The batch it was first seen in.
    pub batch: u64,
    /// Cases generated up to and including that batch: a case budget of at
    /// least this, with the same seed and batch size, regenerates it.
    pub cases_through_batch: u64,
    /// The batch size of the run.
    pub batch_size: usize,
    /// The case id in the original batch.
    pub original_case_id: String,
    /// How many disagreeing cases were put down to this finding.
    pub occurrences: u64,
    /// Round trips spent minimizing it.
    pub minimize_steps: usize,
    /// Other signatures filed under the same cause.
    pub variants: Vec<String>,
    /// The side most independent cores take, where three or more answered.
    pub majority: Option<crate::cores::Majority>,
}

impl Finding {
    pub(crate) fn new(
        infos: &[PartyInfo],
        minimized: Minimized,
        options: &FuzzOptions,
        batch: u64,
        cases_through_batch: u64,
        original_case_id: &str,
    ) -> Finding {
        let features = super::feature::features(&minimized.scenario, minimized.target);
        let case_ids = minimized.scenario.case_ids(&minimized.prefix);
        let answers = infos
            .iter()
            .zip(&minimized.runs)
            .map(|(info, run)| match &run.answer {
                super::PartyAnswer::Answered(answers) => {
                    PartyAnswers { party: info.name.clone(), failure: None, cases: answers.clone() }
                }
                super::PartyAnswer::Failed(message) => PartyAnswers {
                    party: info.name.clone(),
                    failure: Some(message.clone()),
                    cases: vec![None; minimized.scenario.cases.len()],
                },
            })
            .collect();
        // Only parties that give the telling field vote: an SDK without
        // details says nothing about a details code.
        let bandit = matches!(minimized.scenario.cases.get(minimized.target), Some(CaseInput::Bandit(_)));
        let cores: Vec<(String, Option<crate::cores::Core>)> = infos
            .iter()
            .filter(|info| info.gives(minimized.deviation.field().part(), bandit))
            .map(|info| (info.name.clone(), crate::cores::Core::of(&info.sdk)))
            .collect();
        let majority = crate::cores::majority(&minimized.disagreement.classes, &cores);
        Finding {
            majority,
            signature: Signature::new(&minimized.deviation, features),
            deviation: minimized.deviation,
            disagreement: minimized.disagreement,
            scenario: minimized.scenario,
            target: minimized.target,
            case_ids,
            answers,
            seed: options.seed,
            batch,
            cases_through_batch,
            batch_size: options.batch_size,
            original_case_id: original_case_id.to_owned(),
            occurrences: 1,
            minimize_steps: minimized.steps,
            variants: Vec::new(),
        }
    }

    /// Whether it is about bandit cases.
    pub fn is_bandit(&self) -> bool {
        matches!(self.scenario.cases.get(self.target), Some(CaseInput::Bandit(_)))
    }

    /// The reference's (first party's) answer to case `index`.
    pub fn oracle(&self, index: usize) -> Option<&Answer> {
        self.answers.first()?.cases.get(index)?.as_ref()
    }

    /// The command line that regenerates the batch it came from.
    pub fn reproduce_command(&self, options: &FuzzOptions) -> String {
        let options = FuzzOptions { seed: self.seed, batch_size: self.batch_size, ..options.clone() };
        reproduce_command(&options, self.cases_through_batch)
    }

    /// `finding.json`.
    pub fn to_json(&self, options: &FuzzOptions) -> Value {
        let cases: Vec<Value> = self
            .scenario
            .cases
            .iter()
            .enumerate()
            .map(|(index, input)| {
                let answers: Map<String, Value> = self
                    .answers
                    .iter()
                    .map(|a| {
                        let answer = match (&a.failure, a.cases.get(index).and_then(Option::as_ref)) {
                            (Some(failure), _) => json!({ "failure": failure }),
                            (None, Some(answer)) => {
                                let case_id = self.case_ids.get(index).map_or("", String::as_str);
                                serde_json::to_value(answer.to_wire(case_id)).unwrap_or(Value::Null)
                            }
                            (None, None) => json!({ "skipped": "the party lacks the capability for this case" }),
                        };
                        (a.party.clone(), answer)
                    })
                    .collect();
                json!({
                    "caseId": self.case_ids.get(index),
                    "target": index == self.target,
                    "input": serde_json::to_value(input).unwrap_or(Value::Null),
                    "answers": answers,
                })
            })
            .collect();
        json!({
            "signature": {
                "text": self.signature.text(),
                "slug": self.signature.slug(),
                "parties": self.signature.parties,
                "field": self.signature.field,
                "severity": self.deviation.severity(),
                "deviationFields": self.deviation.fields,
                "classes": self.disagreement.classes,
                "allFields": self.disagreement.fields,
                "features": self.signature.features,
            },
            "origin": {
                "seed": self.seed,
                "batch": self.batch,
                "batchSize": self.batch_size,
                "casesThroughBatch": self.cases_through_batch,
                "caseId": self.original_case_id,
                "bandits": options.bandits,
                "malformed": options.malformed,
            },
            "reproduce": self.reproduce_command(options),
            "majority": self.majority,
            "occurrences": self.occurrences,
            "minimizeSteps": self.minimize_steps,
            "cause": self.signature.cause(),
            "variants": self.variants,
            "parties": self.answers.iter().map(|a| a.party.clone()).collect::<Vec<_>>(),
            "cases": cases,
        })
    }

    /// The test files of the finding: (file name, contents), one per
    /// (flag, variation type, default value) among its cases.
    fn test_files(&self, slug: &str) -> Vec<(String, Value)> {
        let mut groups: Vec<(String, Value)> = Vec::new();
        for (index, input) in self.scenario.cases.iter().enumerate() {
            // The reference's value and details; an error expects null.
            let oracle = match self.oracle(index) {
                Some(Answer::Observed(observation)) => Some(observation),
                Some(Answer::Raised(_)) | None => None,
            };
            let assignment = oracle.map_or(Value::Null, |o| o.value.as_value().clone());
            let details = oracle.and_then(|o| o.details.as_ref()).map(|d| d.to_json().0);
            let (header, subject) = match input {
                CaseInput::Flag(case) => {
                    let mut subject = Map::new();
                    subject.insert("subjectKey".into(), Value::from(case.subject_key.as_str()));
                    subject.insert("subjectAttributes".into(), Value::Object(case.subject_attributes.clone()));
                    subject.insert("assignment".into(), assignment);
                    if let Some(details) = details {
                        subject.insert("evaluationDetails".into(), details);
                    }
                    let header = json!({"flag": case.flag, "variationType": case.variation_type, "defaultValue": case.default_value});
                    (header, Value::Object(subject))
                }
                CaseInput::Bandit(case) => {
                    let mut subject = json!({
                        "subjectKey": case.subject_key,
                        "subjectAttributes": case.subject_attributes,
                        "actions": case.actions,
                        "assignment": assignment,
                    });
                    // Eppo's bandit files carry no details; ours may, so a
                    // details-only bandit finding still replays.
                    if let (Some(details), Some(map)) = (details, subject.as_object_mut()) {
                        map.insert("evaluationDetails".into(), details);
                    }
                    (json!({"flag": case.flag, "defaultValue": case.default_value}), subject)
                }
            };
            let key = serde_json::to_string(&header).unwrap_or_default();
            let position = groups.iter().position(|(k, _)| *k == key);
            let file = match position {
                Some(position) => &mut groups[position].1,
                None => {
                    let mut file = header;
                    if let Some(map) = file.as_object_mut() {
                        map.insert("subjects".into(), Value::Array(Vec::new()));
                    }
                    groups.push((key, file));
                    let last = groups.len() - 1;
                    &mut groups[last].1
                }
            };
            if let Some(subjects) = file.get_mut("subjects").and_then(Value::as_array_mut) {
                subjects.push(subject);
            }
        }
        groups
            .into_iter()
            .enumerate()
            .map(|(i, (_, file))| {
                (if i == 0 { format!("{slug}.json") } else { format!("{slug}-{}.json", i + 1) }, file)
            })
            .collect()
    }
}

/// The command line that regenerates a run's batches up to the one that
/// ends with case `cases_through_batch` (add `--sdk`).
pub(crate) fn reproduce_command(options: &FuzzOptions, cases_through_batch: u64) -> String {
    let mut command = format!(
        "ufc-harness fuzz --seed {} --cases {cases_through_batch} --batch-size {}",
        options.seed, options.batch_size
    );
    if !options.bandits {
        command.push_str(" --no-bandits");
    }
    if options.malformed {
        command.push_str(" --malformed");
    }
    if options.obfuscated {
        command.push_str(" --obfuscated");
    }
    if let Some(partition) = options.partition {
        command.push_str(&format!(" --partition {partition}"));
    }
    if options.repeat > 1 {
        command.push_str(&format!(" --repeat {}", options.repeat));
    }
    if options.least_severity != ufc_protocol::report::Severity::Major {
        command.push_str(&format!(" --least-severity {}", options.least_severity.as_str()));
    }
    command
}

/// A finding that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {source}", path.display())]
#[non_exhaustive]
pub struct WriteError {
    /// The file or directory.
    pub path: PathBuf,
    /// Why.
    #[source]
    pub source: std::io::Error,
}

pub(crate) fn write_json(path: &Path, value: &Value) -> Result<(), WriteError> {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    write_text(path, &text)
}

fn write_text(path: &Path, text: &str) -> Result<(), WriteError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|source| WriteError { path: parent.to_owned(), source })?;
    }
    std::fs::write(path, text).map_err(|source| WriteError { path: path.to_owned(), source })
}

/// Writes every finding of `report` as a suite directory under `out`, then
/// `out/summary.md`, `out/summary.html` and `out/summary.json`. Returns the finding
/// directories, in report order.
pub fn write_findings(report: &FuzzReport, out: &Path) -> Result<Vec<PathBuf>, WriteError> {
    let mut written = Vec::new();
    for finding in &report.findings {
        let slug = finding.signature.slug();
        let dir = out.join(&slug);
        let ufc = dir.join("ufc");
        if finding.is_bandit() {
            write_json(&ufc.join("bandit-flags-v1.json"), &finding.scenario.flags)?;
            if let Some(models) = &finding.scenario.bandit_models {
                write_json(&ufc.join("bandit-models-v1.json"), models)?;
            }
            for (name, file) in finding.test_files(&slug) {
                write_json(&ufc.join("bandit-tests").join(name), &file)?;
            }
        } else {
            write_json(&ufc.join("flags-v1.json"), &finding.scenario.flags)?;
            if finding.scenario.obfuscated {
                // What the parties were given; `run --obfuscated` replays it.
                let client = ufc_reference::obfuscation::obfuscate_configuration(&finding.scenario.flags);
                write_json(&ufc.join("flags-v1-obfuscated.json"), &client)?;
            }
            for (name, file) in finding.test_files(&slug) {
                write_json(&ufc.join("tests").join(name), &file)?;
            }
        }
        write_json(&dir.join("finding.json"), &finding.to_json(&report.options))?;
        written.push(dir);
    }
    super::repeat::write(&report.nondeterministic, &report.options, out)?;
    write_text(&out.join(render::SUMMARY_MARKDOWN), &render::markdown(report))?;
    let page = crate::report::page::render(&crate::report::page::fuzz::page(report));
    let html = out.join(render::SUMMARY_HTML);
    crate::report::write_atomically(&html, page.as_bytes()).map_err(|source| WriteError { path: html, source })?;
    let summary = serde_json::to_value(render::summary(report)).unwrap_or(Value::Null);
    write_json(&out.join(render::SUMMARY_JSON), &summary)?;
    Ok(written)
}
