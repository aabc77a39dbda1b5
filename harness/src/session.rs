//! One party's conversation, driven the same way by every pipeline (`run`,
//! `fuzz`, `precompute`, `bench`): configure it, put cases to it in
//! batches, and get back one [`CaseReply`] per case, in order.
//!
//! The session is the one place that decides which cases a party can
//! answer (its declared capabilities) and that turns a lost case into an
//! error with the party's stderr attached. Restarting a crashed adapter and
//! replaying its configuration happen below it, in
//! [`crate::party::adapter`]; pairing an adapter's results with the cases
//! by id happens at that protocol edge too.

use std::time::Duration;

use serde_json::Value;
use ufc_protocol::{BenchRequest, Capability, CaseInput};

use crate::observation::Answer;
use crate::party::{ConfigSet, Lost, Party, PartyError, PartyInfo, PrecomputeSubject, Question};

/// What became of one case put to a party.
// Nearly every reply is an answer; see `Answer`.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum CaseReply {
    /// The party answered (or its SDK raised).
    Answered(Answer),
    /// The party lacks a capability the case needs; it was not asked.
    Skipped {
        /// Why, in a sentence naming the capability.
        reason: String,
    },
    /// The case was lost to a fault: a crash, hang, garbage, a missing or
    /// malformed result, or a configuration that did not load.
    Lost {
        /// What happened.
        error: String,
        /// The party's last stderr lines, if it has any.
        stderr_tail: Option<String>,
    },
}

/// A party, driven.
pub struct Session<'p> {
    party: &'p mut dyn Party,
    /// Set once a configuration failed to load; cleared by the next that loads.
    configuration_error: Option<String>,
}

impl<'p> Session<'p> {
    /// Drives `party`.
    pub fn new(party: &'p mut dyn Party) -> Session<'p> {
        Session { party, configuration_error: None }
    }

    /// Who the party is.
    pub fn info(&self) -> &PartyInfo {
        self.party.info()
    }

    /// Loads a configuration (`what` names it in messages: `group "ufc"`).
    /// On failure every later case is lost with the reason until a
    /// configuration loads, and the reason is returned. On success, returns
    /// the problems the party found that affect only parts of the
    /// configuration (a malformed flag).
    pub fn configure(&mut self, what: &str, config: &ConfigSet) -> Result<Vec<String>, String> {
        match self.party.configure(config) {
            Ok(()) => {
                self.configuration_error = None;
                Ok(self.party.configuration_warnings())
            }
            Err(err) => {
                let message = format!("configuration of {what} failed: {err}");
                self.configuration_error = Some(message.clone());
                Err(message)
            }
        }
    }

    /// Starts the party afresh, as a new process that has answered nothing
    /// ([`Party::restart`]); configure it before asking again.
    pub fn restart(&mut self) {
        self.party.restart();
        self.configuration_error = None;
    }

    /// Why the party cannot answer `input` (given in an obfuscated
    /// configuration when `obfuscated`), if it cannot.
    pub fn skip_reason(&self, input: &CaseInput, obfuscated: bool) -> Option<String> {
        self.skip_reason_needing(input, obfuscated.then_some(Capability::Obfuscated))
    }

    /// Why the party cannot answer `input` given in a form that needs
    /// `form` (`obfuscated`, `precomputed-client`), if it cannot.
    pub fn skip_reason_needing(&self, input: &CaseInput, form: Option<Capability>) -> Option<String> {
        let needed = match input {
            CaseInput::Flag(_) => Capability::Assign,
            CaseInput::Bandit(_) => Capability::Bandits,
        };
        let info = self.info();
        [Some(needed), form]
            .into_iter()
            .flatten()
            .find(|capability| !info.can(capability))
            .map(|missing| format!("{} does not declare the {:?} capability", info.name, missing.as_str()))
    }

    /// Puts a batch to the party in one request (skipping what it cannot
    /// answer); one reply per question, in order.
    pub fn ask(&mut self, batch: &[Question<'_>], obfuscated: bool) -> Vec<CaseReply> {
        self.ask_needing(batch, obfuscated.then_some(Capability::Obfuscated))
    }

    /// As [`Session::ask`], for cases given in a form that needs `form`.
    pub fn ask_needing(&mut self, batch: &[Question<'_>], form: Option<Capability>) -> Vec<CaseReply> {
        let mut replies: Vec<Option<CaseReply>> = batch
            .iter()
            .map(|q| self.skip_reason_needing(q.input, form.clone()).map(|reason| CaseReply::Skipped { reason }))
            .collect();
        let asked: Vec<Question<'_>> =
            batch.iter().zip(&replies).filter(|(_, reply)| reply.is_none()).map(|(q, _)| *q).collect();
        if !asked.is_empty() {
            let mut answers = match &self.configuration_error {
                Some(error) => asked.iter().map(|_| Err(Lost::new(error.clone()))).collect(),
                None => self.party.evaluate(&asked),
            }
            .into_iter();
            let stderr_tail = self.party.stderr_tail();
            for reply in replies.iter_mut().filter(|reply| reply.is_none()) {
                *reply = Some(match answers.next() {
                    Some(Ok(answer)) => CaseReply::Answered(answer),
                    Some(Err(lost)) => CaseReply::Lost { error: lost.message, stderr_tail: stderr_tail.clone() },
                    None => CaseReply::Lost {
                        error: "the party returned no result for this case".into(),
                        stderr_tail: stderr_tail.clone(),
                    },
                });
            }
        }
        replies.into_iter().flatten().collect()
    }

    /// Runs the party's in-process timing loop, if it declares `bench` and
    /// what the mode needs.
    pub fn bench(&mut self, request: &BenchRequest) -> Result<Duration, PartyError> {
        let info = self.info();
        for capability in [Capability::Bench, request.mode.needs()] {
            if !info.can(&capability) {
                return Err(PartyError::unsupported(&info.name, &capability));
            }
        }
        self.party.bench(request)
    }

    /// The party's precomputed configuration for one subject, if it
    /// declares `precompute`.
    pub fn precompute(&mut self, subject: &PrecomputeSubject) -> Result<Value, PartyError> {
        let info = self.info();
        if !info.can(&Capability::Precompute) {
            return Err(PartyError::unsupported(&info.name, &Capability::Precompute));
        }
        self.party.precompute(subject)
    }

    /// The party's last stderr lines, if it has any.
    pub fn stderr_tail(&self) -> Option<String> {
        self.party.stderr_tail()
    }
}
