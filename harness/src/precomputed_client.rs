//! The client read path of precomputation (spec section 7): a client SDK
//! given one subject's precomputed configuration must serve what
//! evaluation serves. For each subject of a suite the reference writes the
//! precomputed configuration (obfuscated by default, as Eppo serves it to
//! clients), every party declaring `precomputed-client` is configured with
//! it and asked that subject's cases, and each answer is judged against
//! the reference's own evaluation of the case: the value, and the events
//! where the party reports them. Details are not compared: a precomputed
//! client knows no rules or allocations to report.
//!
//! Some answers of evaluation cannot be carried by a precomputed
//! configuration at all: the bandit of a flag's default variation (only
//! assigned flags have precomputed bandits), a categorical number in the
//! obfuscated form (it reads back as text). The reference finds them itself, by reading
//! back each configuration it wrote and comparing with its evaluation; such
//! cases are skipped for every party, with that difference as the reason.
//!
//! This is `ufc-harness run --precomputed`: the outcome is a [`RunResult`],
//! so the known-failure manifests, reports and exit codes are the run's.
//! Case ids carry [`CASE_PREFIX`], so a manifest files the client path's
//! failures apart from the same cases' failures in an ordinary run.

use std::collections::HashMap;

use serde_json::{Map, Value};
use ufc_protocol::{Capability, CaseInput, Source};
use ufc_reference::bandit::{split_flat, Action};
use ufc_reference::precomputed::write::{Form, Subject as WriterSubject};
use ufc_reference::precomputed::PrecomputedConfiguration;
use ufc_reference::Timestamp;

use crate::compare::{compare, Expected, Scope};
use crate::observation::{Answer, Observation};
use crate::party::reference::{self as reference_party, ReferenceParty};
use crate::party::{AnswerPart, ConfigSet, Party, PartyInfo, Question};
use crate::precompute::{load_oracle, Subject};
use crate::run::{in_parallel, outcome, verdict, CaseOutcome, Progress, RunResult, RunSettings, Status};
use crate::session::{CaseReply, Session};
use crate::suite::{Case, Suite};

/// What the client path's case ids start with: `precomputed:<case id>`.
pub const CASE_PREFIX: &str = "precomputed:";

/// The salt the reference obfuscates with unless told otherwise.
pub const SALT: &str = "ufc-harness-salt";

/// One subject's precomputed configuration and the cases asked of it.
struct Envelope<'s> {
    subject_key: String,
    document: Value,
    cases: Vec<&'s Case>,
}

/// A group, ready to be put to every party.
struct GroupPlan<'s> {
    group: usize,
    /// Why the reference could not precompute the group, if it could not.
    error: Option<String>,
    envelopes: Vec<Envelope<'s>>,
    /// The reference's evaluation of each case, by case id.
    expected: HashMap<String, Observation>,
    /// Cases whose evaluation the precomputed configuration cannot carry,
    /// by case id, and why.
    inexpressible: HashMap<String, String>,
}

/// Puts every case of `suite` to every party through that subject's
/// precomputed configuration, written by the reference in `form`.
pub fn run(
    suite: &Suite,
    mut parties: Vec<Box<dyn Party>>,
    form: &Form,
    settings: &RunSettings,
    now: Timestamp,
    progress: Progress<'_>,
) -> RunResult {
    let infos: Vec<PartyInfo> = parties.iter().map(|p| p.info().clone()).collect();
    let plans = plan(suite, form, now);
    let config_errors =
        plans.iter().filter_map(|p| p.error.as_ref().map(|e| format!("{}: {e}", suite.groups[p.group].name))).collect();
    let plans = &plans;
    let per_party = in_parallel(&mut parties, |session| run_party(suite, plans, session, settings, progress));
    RunResult {
        suite: suite.root.clone(),
        parties: infos,
        outcomes: per_party.into_iter().flatten().collect(),
        load_errors: suite.load_errors.clone(),
        config_errors,
        fail_on: settings.fail_on.clone(),
        // Each party is asked once: `--repeat` does not apply to this path.
        repeat: 1,
    }
}

/// Every group's envelopes, one per distinct subject in case order, and
/// the reference's evaluation of its cases.
fn plan<'s>(suite: &'s Suite, form: &Form, now: Timestamp) -> Vec<GroupPlan<'s>> {
    let mut plans = Vec::new();
    for (index, group) in suite.groups.iter().enumerate() {
        let cases: Vec<&Case> = suite.cases.iter().filter(|c| c.group == index).collect();
        if cases.is_empty() {
            continue;
        }
        let mut plan = GroupPlan {
            group: index,
            error: None,
            envelopes: Vec::new(),
            expected: HashMap::new(),
            inexpressible: HashMap::new(),
        };
        let oracle = match load_oracle(&group.flags, group.bandit_models.as_deref()) {
            Ok(oracle) => oracle,
            Err(err) => {
                // Every case errors with the reason, under one empty envelope.
                plan.error = Some(format!("the reference cannot precompute this group: {err}"));
                plan.envelopes.push(Envelope { subject_key: String::new(), document: Value::Null, cases });
                plans.push(plan);
                continue;
            }
        };
        plan.expected = evaluated(group.config_set(), &cases, now);
        let mut by_subject: HashMap<String, usize> = HashMap::new();
        for case in cases {
            let subject = Subject::of(&case.input);
            let slot = *by_subject.entry(subject.identity()).or_insert_with(|| {
                let document = envelope(&oracle.config, oracle.models.as_ref(), &subject, form, now);
                plan.envelopes.push(Envelope { subject_key: subject.key.clone(), document, cases: Vec::new() });
                plan.envelopes.len() - 1
            });
            plan.envelopes[slot].cases.push(case);
        }
        for envelope in &plan.envelopes {
            let read_back =
                ConfigSet { precomputed: Some(Source::Inline(envelope.document.clone())), ..group.config_set() };
            let reading = evaluated(read_back, &envelope.cases, now);
            for case in &envelope.cases {
                if let Some(why) = uncarried(plan.expected.get(&case.id), reading.get(&case.id)) {
                    plan.inexpressible.insert(case.id.clone(), why);
                }
            }
        }
        plans.push(plan);
    }
    plans
}

/// Why the reference's reading of its own precomputed configuration
/// differs from its evaluation, if it does: the first difference.
fn uncarried(evaluation: Option<&Observation>, reading: Option<&Observation>) -> Option<String> {
    let (Some(evaluation), Some(reading)) = (evaluation, reading) else {
        return Some("the reference could not answer the case".into());
    };
    let expected = Expected { value: evaluation.value.clone(), details: None };
    let all = Scope { details: false, events: true, bandit_events: true };
    let first = compare(&expected, reading, Some(evaluation), all).into_iter().next()?;
    Some(format!(
        "a precomputed configuration cannot carry the reference's answer: {} is {} when evaluated, {} when read back",
        first.field, first.expected.0, first.actual.0
    ))
}

/// The reference's answers to `cases` under `config` (evaluated, or looked
/// up when `config` holds a precomputed configuration).
fn evaluated(config: ConfigSet, cases: &[&Case], now: Timestamp) -> HashMap<String, Observation> {
    let mut reference = ReferenceParty::new(now);
    if reference.configure(&config).is_err() {
        return HashMap::new();
    }
    let questions: Vec<Question<'_>> = cases.iter().map(|c| Question { id: &c.id, input: &c.input }).collect();
    cases
        .iter()
        .zip(reference.evaluate(&questions))
        .filter_map(|(case, reply)| match reply {
            Ok(Answer::Observed(observation)) => Some((case.id.clone(), observation)),
            _ => None,
        })
        .collect()
}

/// The precomputed configuration the reference writes for `subject`.
fn envelope(
    config: &ufc_reference::Configuration,
    models: Option<&ufc_reference::bandit::BanditModels>,
    subject: &Subject,
    form: &Form,
    now: Timestamp,
) -> Value {
    let ((numeric, categorical), bandit_actions) = match &subject.bandit {
        Some(bandit) => {
            let actions: Vec<Action> = bandit.actions.iter().map(reference_party::action).collect();
            let maps = (bandit.context.numeric_attributes.clone(), bandit.context.categorical_attributes.clone());
            (maps, [(bandit.flag.clone(), actions)].into())
        }
        None => (split_flat(subject.attributes.as_object().unwrap_or(&Map::new())), Default::default()),
    };
    let writer = WriterSubject {
        key: &subject.key,
        numeric: &numeric,
        categorical: &categorical,
        bandit_actions: &bandit_actions,
    };
    PrecomputedConfiguration::precompute(config, models, &writer, form, now).to_json()
}

/// One party through every group: one `configure` per subject, with that
/// subject's envelope, then one batch of the subject's cases.
fn run_party(
    suite: &Suite,
    plans: &[GroupPlan<'_>],
    session: &mut Session<'_>,
    settings: &RunSettings,
    progress: Progress<'_>,
) -> Vec<CaseOutcome> {
    let info = session.info().clone();
    let total: usize = plans.iter().flat_map(|p| &p.envelopes).map(|e| e.cases.len()).sum();
    let mut outcomes = Vec::with_capacity(total);
    let mut done = 0;
    for plan in plans {
        let group = &suite.groups[plan.group];
        for envelope in &plan.envelopes {
            let cases = &envelope.cases;
            if let Some(error) = &plan.error {
                outcomes.extend(cases.iter().map(|case| {
                    prefixed(outcome(case, &info.name, Status::Errored, |o| o.error = Some(error.clone())))
                }));
                continue;
            }
            let (untestable, cases): (Vec<&Case>, Vec<&Case>) =
                cases.iter().partition(|case| plan.inexpressible.contains_key(&case.id));
            for case in untestable {
                let reason = plan.inexpressible.get(&case.id).cloned();
                outcomes.push(prefixed(outcome(case, &info.name, Status::Skipped, |o| o.skip_reason = reason)));
            }
            done += envelope.cases.len() - cases.len();
            if cases.is_empty() {
                continue;
            }
            let questions: Vec<Question<'_>> = cases.iter().map(|c| Question { id: &c.id, input: &c.input }).collect();
            // A party without the capability is never sent an envelope.
            if info.can(&Capability::PrecomputedClient) {
                let config =
                    ConfigSet { precomputed: Some(Source::Inline(envelope.document.clone())), ..group.config_set() };
                let what = format!("group {:?}, subject {:?}", group.name, envelope.subject_key);
                // A refused configuration loses the subject's cases, with the reason.
                let _ = session.configure(&what, &config);
            }
            let replies = session.ask_needing(&questions, Some(Capability::PrecomputedClient));
            for (case, reply) in cases.iter().zip(replies) {
                outcomes.push(prefixed(judge(case, &info, reply, plan.expected.get(&case.id), settings)));
            }
            done += cases.len();
            progress(&info.name, done, total);
        }
    }
    outcomes
}

/// A reply against the reference's evaluation: its value always, its
/// events when the party reports them; never details.
fn judge(
    case: &Case,
    info: &PartyInfo,
    reply: CaseReply,
    reference: Option<&Observation>,
    settings: &RunSettings,
) -> CaseOutcome {
    let bandit = matches!(case.input, CaseInput::Bandit(_));
    let scope = Scope {
        details: false,
        events: reference.is_some() && info.gives(AnswerPart::AssignmentEvents, bandit),
        bandit_events: reference.is_some() && info.gives(AnswerPart::BanditEvents, bandit),
    };
    // Without the reference's answer (it raised), the test file's value stands.
    let expected = match reference {
        Some(observation) => Expected { value: observation.value.clone(), details: None },
        None => Expected { value: case.expected.value.clone(), details: None },
    };
    verdict(case, &expected, &info.name, reply, reference, scope, settings)
}

fn prefixed(mut outcome: CaseOutcome) -> CaseOutcome {
    outcome.case_id = format!("{CASE_PREFIX}{}", outcome.case_id);
    outcome
}
