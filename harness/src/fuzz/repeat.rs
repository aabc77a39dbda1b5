//! `fuzz --repeat N`: every batch is put to every party in N fresh
//! processes ([`Party::restart`] before each round), and a party that
//! answers a case differently from one process to another is a finding of
//! its own class, nondeterministic, with the answers each process gave.
//! Such a case is not an ordinary disagreement: the engine sees that party
//! sit it out. "Differently" is [`same_answer`]'s sense (clock readings,
//! the events' metadata and JSON key order do not count).
//!
//! One finding per party: the first batch it was seen in (with every case
//! that differed there), and how many cases differed over the run.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use ufc_protocol::report::ProcessAnswer;

use super::{ask, FuzzOptions, PartyAnswer, PartyRun, Scenario};
use crate::compare::same_answer;
use crate::observation::Answer;
use crate::party::{Party, PartyInfo};

/// A case a party answered differently in different processes.
#[derive(Debug, Clone, PartialEq)]
pub struct DifferingCase {
    /// Its index in the batch.
    pub index: usize,
    /// Its id.
    pub case_id: String,
    /// Each process's answer, in order (`None`: not answered there).
    pub answers: Vec<Option<Answer>>,
}

/// A party whose answers hang on its process.
#[derive(Debug, Clone)]
pub struct Nondeterminism {
    /// The party.
    pub party: String,
    /// The first batch it was seen in.
    pub batch: u64,
    /// Cases generated up to and including that batch (to regenerate it).
    pub cases_through_batch: u64,
    /// That batch.
    pub scenario: Scenario,
    /// The cases of that batch it answered differently.
    pub cases: Vec<DifferingCase>,
    /// Cases it answered differently over the whole run.
    pub occurrences: u64,
}

impl Nondeterminism {
    /// The file it is written to, relative to the findings folder.
    pub fn file(&self) -> PathBuf {
        let name: String =
            self.party.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect();
        PathBuf::from("nondeterministic").join(format!("{name}.json"))
    }

    /// The command that regenerates its batch (add `--sdk`).
    pub fn reproduce_command(&self, options: &FuzzOptions) -> String {
        super::finding::reproduce_command(options, self.cases_through_batch)
    }

    /// Its file: the batch's configuration, and each differing case with
    /// what every process answered.
    pub fn to_json(&self, options: &FuzzOptions) -> Value {
        let cases: Vec<Value> = self
            .cases
            .iter()
            .map(|case| {
                let answers: Vec<ProcessAnswer> = case
                    .answers
                    .iter()
                    .zip(1..)
                    .map(|(answer, process)| ProcessAnswer {
                        process,
                        result: answer.as_ref().map(|a| a.to_wire(&case.case_id)),
                        lost: answer.is_none().then(|| "not answered (lost to a fault, or sat out)".to_owned()),
                    })
                    .collect();
                json!({
                    "caseId": case.case_id,
                    "input": self.scenario.cases.get(case.index),
                    "answers": answers,
                })
            })
            .collect();
        json!({
            "class": "nondeterministic",
            "party": self.party,
            "processes": options.repeat,
            "origin": {
                "seed": options.seed,
                "batch": self.batch,
                "batchSize": options.batch_size,
                "casesThroughBatch": self.cases_through_batch,
            },
            "reproduce": self.reproduce_command(options),
            "occurrences": self.occurrences,
            // As generated; with `obfuscated`, the parties got its CLIENT form.
            "configuration": {
                "flags": self.scenario.flags,
                "banditModels": self.scenario.bandit_models,
                "obfuscated": self.scenario.obfuscated,
            },
            "cases": cases,
        })
    }
}

/// A batch asked in fresh processes: the first round's answers (with every
/// differing case blanked for its party) and the parties found differing.
pub(crate) struct Repeated {
    /// What the engine judges: the first round, less the differing cases.
    pub(crate) runs: Vec<PartyRun>,
    /// Per party, in party order: the cases it answered differently.
    pub(crate) differing: Vec<Vec<DifferingCase>>,
}

/// Asks every party about `scenario` in `processes` rounds, each after a
/// restart of every party. Busy times are the first round's, so throughput
/// still measures one process's speed.
pub(crate) fn ask_in_fresh_processes(
    parties: &mut [Box<dyn Party>],
    scenario: &Scenario,
    ids: &[String],
    processes: u32,
) -> Repeated {
    let mut rounds: Vec<Vec<PartyRun>> = Vec::new();
    for _ in 0..processes.max(1) {
        parties.iter_mut().for_each(|party| party.restart());
        rounds.push(ask(parties, scenario, ids));
    }
    let mut rounds = rounds.into_iter();
    let mut runs = rounds.next().unwrap_or_default();
    let later: Vec<Vec<PartyRun>> = rounds.collect();
    let mut differing = Vec::with_capacity(runs.len());
    for (party, run) in runs.iter_mut().enumerate() {
        let answer_in = |round: &[PartyRun], index: usize| round.get(party)?.answers()?.get(index)?.clone();
        let PartyAnswer::Answered(first) = &mut run.answer else {
            differing.push(Vec::new());
            continue;
        };
        let mut cases = Vec::new();
        for (index, case_id) in ids.iter().enumerate() {
            let answers: Vec<Option<Answer>> = std::iter::once(first.get(index).cloned().flatten())
                .chain(later.iter().map(|round| answer_in(round, index)))
                .collect();
            if differ(&answers) {
                // Not an ordinary disagreement: this party sits the case out.
                if let Some(slot) = first.get_mut(index) {
                    *slot = None;
                }
                cases.push(DifferingCase { index, case_id: case_id.clone(), answers });
            }
        }
        differing.push(cases);
    }
    Repeated { runs, differing }
}

/// Whether two of the answers given differ.
fn differ(answers: &[Option<Answer>]) -> bool {
    let given: Vec<&Answer> = answers.iter().flatten().collect();
    given.iter().skip(1).any(|answer| !same_answer(given[0], answer))
}

/// Files what `repeated` found in batch `batch` under each party's finding.
pub(crate) fn record(
    findings: &mut Vec<Nondeterminism>,
    infos: &[PartyInfo],
    repeated: &Repeated,
    scenario: &Scenario,
    batch: u64,
    cases_through_batch: u64,
) {
    for (info, cases) in infos.iter().zip(&repeated.differing).filter(|(_, cases)| !cases.is_empty()) {
        match findings.iter_mut().find(|f| f.party == info.name) {
            Some(finding) => finding.occurrences += cases.len() as u64,
            None => findings.push(Nondeterminism {
                party: info.name.clone(),
                batch,
                cases_through_batch,
                scenario: scenario.clone(),
                cases: cases.clone(),
                occurrences: cases.len() as u64,
            }),
        }
    }
}

/// Writes each finding to its [`Nondeterminism::file`] under `out`.
pub(crate) fn write(findings: &[Nondeterminism], options: &FuzzOptions, out: &Path) -> Result<(), super::WriteError> {
    for finding in findings {
        super::finding::write_json(&out.join(finding.file()), &finding.to_json(options))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observation::{Json, Observation};

    fn answer(value: i64) -> Option<Answer> {
        Some(Answer::Observed(Observation { value: Json(json!(value)), ..Observation::default() }))
    }

    #[test]
    fn only_answers_given_can_differ() {
        assert!(!differ(&[answer(1), answer(1), answer(1)]));
        assert!(!differ(&[answer(1), None, answer(1)]));
        assert!(!differ(&[None, None]));
        assert!(differ(&[answer(1), None, answer(2)]));
        assert!(differ(&[answer(1), Some(Answer::Raised("boom".into()))]));
    }
}
