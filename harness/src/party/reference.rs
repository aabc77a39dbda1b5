//! The reference evaluator as a party, in-process.

use std::borrow::Cow;

use serde_json::Value;
use ufc_reference::bandit::{self, Action, BanditModels, BanditRequest, SubjectAttributes};
use ufc_reference::precomputed::PrecomputedConfiguration;
use ufc_reference::{Attributes, Configuration, FlagEvaluationCode, FlagRequest, Timestamp, VariationType};

use ufc_protocol::{
    BanditCase, BenchMode, BenchRequest, Capabilities, Capability, CaseInput, FlagCase, SdkInfo, Source,
};

use super::{ConfigSet, Party, PartyError, PartyInfo, Question, Reply};
use crate::observation::{Answer, Details, Event, Json, Observation};

/// The in-process reference party.
pub struct ReferenceParty {
    info: PartyInfo,
    now: Timestamp,
    config: Option<Configuration>,
    models: Option<BanditModels>,
    /// A precomputed configuration, when `configure` gave one: it answers.
    precomputed: Option<PrecomputedConfiguration>,
    warnings: Vec<String>,
}

impl ReferenceParty {
    /// A reference party whose clock is fixed at `now`.
    pub fn new(now: Timestamp) -> ReferenceParty {
        ReferenceParty {
            info: PartyInfo {
                name: "reference".into(),
                sdk: SdkInfo {
                    name: "reference".into(),
                    package: Some("ufc-reference".into()),
                    version: ufc_reference::VERSION.into(),
                },
                // Everything but precomputing, which the reference only reads.
                capabilities: Capabilities::new(
                    Capability::KNOWN.into_iter().filter(|c| ![Capability::Precompute, Capability::Online].contains(c)),
                ),
            },
            now,
            config: None,
            models: None,
            precomputed: None,
            warnings: Vec::new(),
        }
    }

    /// The loaded configuration.
    pub fn configuration(&self) -> Option<&Configuration> {
        self.config.as_ref()
    }

    /// Problems found in the last configuration: malformed flags, bandit
    /// links and models. Each affects only itself.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    fn evaluate_bandit(&self, case: &BanditCase) -> Answer {
        let Some(default_variation) = case.default_value.as_str() else {
            return Answer::Raised(format!("a bandit's defaultValue must be a string, found {}", case.default_value));
        };
        let subject = subject_attributes(&case.subject_attributes);
        let actions: Vec<Action> = case.actions.iter().map(action).collect();
        let request = BanditRequest::new(&case.flag, &case.subject_key, &subject, &actions, default_variation);
        let (outcome, details) =
            bandit::evaluate_details(self.config.as_ref(), self.models.as_ref(), &request, self.now);
        Answer::Observed(Observation {
            value: Json(outcome.assignment_json()),
            details: Some(Details::from_reference(&details)),
            assignment_events: events(outcome.assignment_event(&request, self.now).map(|e| e.to_json())),
            bandit_events: events(outcome.bandit_event(&request, self.now).map(|e| e.to_json())),
        })
    }

    /// A case answered by lookup in the precomputed configuration, as a
    /// precomputed client answers it: the case's attributes and actions
    /// were fixed when it was computed, and another subject's case has no
    /// answer in it.
    fn look_up(&self, precomputed: &PrecomputedConfiguration, input: &CaseInput) -> Answer {
        let (flag, subject_key, expected_type, default) = match input {
            CaseInput::Flag(case) => {
                (&case.flag, &case.subject_key, reference_type(case.variation_type), &case.default_value)
            }
            CaseInput::Bandit(case) => (&case.flag, &case.subject_key, VariationType::String, &case.default_value),
        };
        if precomputed.subject_key() != Some(subject_key.as_str()) {
            return Answer::Raised(format!(
                "the precomputed configuration holds subject {:?}, not {subject_key:?}",
                precomputed.subject_key().unwrap_or_default()
            ));
        }
        let outcome = precomputed.assignment(flag, expected_type);
        let value = outcome.value().map_or_else(|| default.clone(), ufc_reference::TypedValue::to_json);
        let assignment_events = events(
            outcome
                .assignment_event(flag, subject_key, precomputed.subject_attributes(), self.now)
                .map(|e| e.to_json()),
        );
        let details = Details::from_json(&precomputed.details(flag, &outcome), "details").ok();
        let observation = match input {
            CaseInput::Flag(_) => {
                Observation { value: Json(value), details, assignment_events, bandit_events: Vec::new() }
            }
            CaseInput::Bandit(_) => {
                let served = outcome.code == FlagEvaluationCode::Match;
                let action = precomputed.bandit(flag).filter(|_| served).map(|b| b.action.clone());
                Observation {
                    value: Json(serde_json::json!({"variation": value, "action": action})),
                    details,
                    assignment_events,
                    bandit_events: events(precomputed.bandit_event(flag, self.now)),
                }
            }
        };
        Answer::Observed(observation)
    }

    fn evaluate_flag(&self, case: &FlagCase) -> Answer {
        let expected_type = reference_type(case.variation_type);
        let attributes = Attributes::from_json(&case.subject_attributes);
        let request = FlagRequest::new(&case.flag, &case.subject_key, &attributes, expected_type);
        let (outcome, details) = ufc_reference::eval::evaluate_details(self.config.as_ref(), &request, self.now);
        Answer::Observed(Observation {
            value: Json(outcome.value_or(&case.default_value)),
            details: Some(Details::from_reference(&details)),
            assignment_events: events(outcome.assignment_event(&request, self.now).map(|e| e.to_json())),
            bandit_events: Vec::new(),
        })
    }
}

/// The reference's event (at most one), rendered, in the observed shape.
fn events(rendered: Option<Value>) -> Vec<Event> {
    match rendered {
        Some(Value::Object(map)) => vec![Event { fields: map.into_iter().map(|(k, v)| (k, Json(v))).collect() }],
        _ => Vec::new(),
    }
}

/// A bandit subject's attributes, as the reference reads them.
pub fn subject_attributes(attributes: &ufc_protocol::ContextAttributes) -> SubjectAttributes {
    SubjectAttributes::from_json(&attributes.numeric_attributes, &attributes.categorical_attributes)
}

/// A candidate action, as the reference reads it.
pub fn action(action: &ufc_protocol::ActionInput) -> Action {
    let attributes = &action.attributes;
    Action::from_json(&action.action_key, &attributes.numeric_attributes, &attributes.categorical_attributes)
}

/// The protocol's name for a type, as the reference's.
pub fn reference_type(variation_type: ufc_protocol::VariationType) -> VariationType {
    match variation_type {
        ufc_protocol::VariationType::String => VariationType::String,
        ufc_protocol::VariationType::Integer => VariationType::Integer,
        ufc_protocol::VariationType::Numeric => VariationType::Numeric,
        ufc_protocol::VariationType::Boolean => VariationType::Boolean,
        ufc_protocol::VariationType::Json => VariationType::Json,
    }
}

/// The JSON of a source: an inline one is read where it is (the fuzzer's
/// configurations are inline, and copying each was a tenth of its time).
fn load(source: &Source) -> Result<Cow<'_, Value>, PartyError> {
    match source {
        Source::Inline(value) => Ok(Cow::Borrowed(value)),
        Source::Path(path) => {
            let bytes = std::fs::read(path)
                .map_err(|err| PartyError::Configuration(format!("{}: cannot read: {err}", path.display())))?;
            serde_json::from_slice(&bytes)
                .map(Cow::Owned)
                .map_err(|err| PartyError::Configuration(format!("{}: not valid JSON: {err}", path.display())))
        }
    }
}

impl Party for ReferenceParty {
    fn info(&self) -> &PartyInfo {
        &self.info
    }

    fn configure(&mut self, config: &ConfigSet) -> Result<(), PartyError> {
        self.config = None;
        self.models = None;
        self.precomputed = None;
        self.warnings.clear();
        let flags = load(&config.flags)?;
        let where_ = match &config.flags {
            Source::Path(p) => p.display().to_string(),
            Source::Inline(_) => "inline configuration".into(),
        };
        let configuration =
            Configuration::from_value(&flags).map_err(|err| PartyError::Configuration(format!("{where_}: {err}")))?;
        self.warnings.extend(configuration.flag_errors().iter().map(|e| format!("{where_}: flag {:?}: {e}", e.key)));
        self.config = Some(configuration);
        if let Some(source) = &config.bandit_models {
            let models = BanditModels::from_value(&*load(source)?)
                .map_err(|err| PartyError::Configuration(format!("bandit models: {err}")))?;
            self.warnings.extend(models.errors().iter().map(|e| format!("bandit models: bandit {:?}: {e}", e.key)));
            self.models = Some(models);
        }
        if let Some(source) = &config.precomputed {
            let precomputed = PrecomputedConfiguration::from_value(&*load(source)?)
                .map_err(|err| PartyError::Configuration(format!("precomputed configuration: {err}")))?;
            self.warnings.extend(precomputed.errors().iter().map(|e| format!("precomputed configuration: {e}")));
            self.precomputed = Some(precomputed);
        }
        Ok(())
    }

    fn evaluate(&mut self, batch: &[Question<'_>]) -> Vec<Reply> {
        batch
            .iter()
            .map(|question| {
                Ok(match (&self.precomputed, question.input) {
                    (Some(precomputed), input) => self.look_up(precomputed, input),
                    (None, CaseInput::Flag(flag)) => self.evaluate_flag(flag),
                    (None, CaseInput::Bandit(bandit)) => self.evaluate_bandit(bandit),
                })
            })
            .collect()
    }

    fn configuration_warnings(&self) -> Vec<String> {
        self.warnings.clone()
    }

    /// In-process, so a restart forgets the configuration; the clock stays.
    fn restart(&mut self) {
        *self = ReferenceParty::new(self.now);
    }

    /// The loop does what an SDK call does: evaluate and build the
    /// assignment event a logger would receive (and, for bandits, the bandit
    /// event), so the comparison with SDK loops is like for like.
    fn bench(&mut self, request: &BenchRequest) -> Result<std::time::Duration, PartyError> {
        let failed = |why: &str| PartyError::Failed(why.to_owned());
        let config = self.config.as_ref().ok_or_else(|| failed("no configuration loaded"))?;
        if request.subjects.is_empty() {
            return Err(failed("no subjects"));
        }
        let now = self.now;
        let mut sink = 0usize;
        let start;
        match request.mode {
            BenchMode::Assign | BenchMode::Details => {
                let expected_type = reference_type(request.variation_type);
                let subjects: Vec<(String, Attributes)> = request
                    .subjects
                    .iter()
                    .map(|s| {
                        (
                            s.subject_key.clone(),
                            s.subject_attributes.as_object().map(Attributes::from_json).unwrap_or_default(),
                        )
                    })
                    .collect();
                let details = request.mode == BenchMode::Details;
                start = std::time::Instant::now();
                for i in 0..request.iterations {
                    let (key, attributes) = &subjects[(i as usize) % subjects.len()];
                    let flag_request = FlagRequest::new(&request.flag, key, attributes, expected_type);
                    if details {
                        let (outcome, d) = config.evaluate_details(&flag_request, now);
                        sink = sink.wrapping_add(d.unmatched_allocations.len());
                        sink = sink.wrapping_add(outcome.assignment_event(&flag_request, now).is_some() as usize);
                    } else {
                        let outcome = config.evaluate(&flag_request, now);
                        sink = sink.wrapping_add(outcome.value().is_some() as usize);
                        sink = sink.wrapping_add(outcome.assignment_event(&flag_request, now).is_some() as usize);
                    }
                }
            }
            BenchMode::Bandit => {
                let default_variation = request.default_value.as_str().unwrap_or("default");
                let actions: Vec<Action> = request.actions.iter().map(action).collect();
                let subjects: Vec<(String, SubjectAttributes)> = request
                    .subjects
                    .iter()
                    .map(|s| (s.subject_key.clone(), SubjectAttributes::from_value(&s.subject_attributes)))
                    .collect();
                start = std::time::Instant::now();
                for i in 0..request.iterations {
                    let (key, subject) = &subjects[(i as usize) % subjects.len()];
                    let bandit_request = BanditRequest::new(&request.flag, key, subject, &actions, default_variation);
                    let outcome = config.evaluate_bandit(self.models.as_ref(), &bandit_request, now);
                    sink = sink.wrapping_add(outcome.assignment_event(&bandit_request, now).is_some() as usize);
                    sink = sink.wrapping_add(outcome.bandit_event(&bandit_request, now).is_some() as usize);
                }
            }
        }
        std::hint::black_box(sink);
        Ok(start.elapsed())
    }
}
