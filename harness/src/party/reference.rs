//! The reference evaluator as a party, in-process.

use serde_json::Value;
use ufc_reference::bandit::{self, Action, BanditModels, BanditRequest, SubjectAttributes};
use ufc_reference::{Attributes, Configuration, FlagRequest, Timestamp, VariationType};

use super::{ConfigSet, Party, PartyInfo};
use crate::protocol::{
    capability, BanditCase, BenchRequest, CaseInput, CaseResult, FlagCase, SdkInfo, Source, WireCase,
};

/// The in-process reference party.
pub struct ReferenceParty {
    info: PartyInfo,
    now: Timestamp,
    config: Option<Configuration>,
    models: Option<BanditModels>,
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
                capabilities: [
                    capability::ASSIGN,
                    capability::DETAILS,
                    capability::EVENTS,
                    capability::BANDITS,
                    capability::BANDIT_DETAILS,
                    capability::BENCH,
                    capability::OBFUSCATED,
                ]
                .map(String::from)
                .to_vec(),
            },
            now,
            config: None,
            models: None,
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

    fn evaluate_bandit(&self, case_id: &str, case: &BanditCase) -> CaseResult {
        let Some(default_variation) = case.default_value.as_str() else {
            return CaseResult::error(
                case_id,
                format!("a bandit's defaultValue must be a string, found {}", case.default_value),
            );
        };
        let subject = SubjectAttributes::from(&case.subject_attributes);
        let actions: Vec<Action> = case.actions.iter().map(Action::from).collect();
        let request = BanditRequest::new(&case.flag, &case.subject_key, &subject, &actions, default_variation);
        let (outcome, details) =
            bandit::evaluate_details(self.config.as_ref(), self.models.as_ref(), &request, self.now);
        CaseResult {
            case_id: case_id.to_owned(),
            value: Some(outcome.assignment_json()),
            details: Some(details.to_json()),
            assignment_events: outcome.assignment_event(&request, self.now).map(|e| e.to_json()).into_iter().collect(),
            bandit_events: outcome.bandit_event(&request, self.now).map(|e| e.to_json()).into_iter().collect(),
            error: None,
            fault: false,
        }
    }

    fn evaluate_flag(&self, case_id: &str, case: &FlagCase) -> CaseResult {
        let Some(expected_type) = VariationType::parse(&case.variation_type) else {
            return CaseResult::error(case_id, format!("unknown variationType {:?}", case.variation_type));
        };
        let attributes = Attributes::from_json(&case.subject_attributes);
        let request = FlagRequest::new(&case.flag, &case.subject_key, &attributes, expected_type);
        let (outcome, details) = ufc_reference::eval::evaluate_details(self.config.as_ref(), &request, self.now);
        CaseResult {
            case_id: case_id.to_owned(),
            value: Some(outcome.value_or(&case.default_value)),
            details: Some(details.to_json()),
            assignment_events: outcome.assignment_event(&request, self.now).map(|e| e.to_json()).into_iter().collect(),
            bandit_events: Vec::new(),
            error: None,
            fault: false,
        }
    }
}

fn load(source: &Source) -> Result<Value, String> {
    match source {
        Source::Inline(value) => Ok(value.clone()),
        Source::Path(path) => {
            let bytes = std::fs::read(path).map_err(|err| format!("{}: cannot read: {err}", path.display()))?;
            serde_json::from_slice(&bytes).map_err(|err| format!("{}: not valid JSON: {err}", path.display()))
        }
    }
}

impl Party for ReferenceParty {
    fn info(&self) -> &PartyInfo {
        &self.info
    }

    fn configure(&mut self, config: &ConfigSet) -> Result<(), String> {
        self.config = None;
        self.models = None;
        self.warnings.clear();
        let flags = load(&config.flags)?;
        let where_ = match &config.flags {
            Source::Path(p) => p.display().to_string(),
            Source::Inline(_) => "inline configuration".into(),
        };
        let configuration = Configuration::from_value(&flags).map_err(|err| format!("{where_}: {err}"))?;
        self.warnings.extend(configuration.flag_errors().iter().map(|e| format!("{where_}: flag {:?}: {e}", e.key)));
        self.config = Some(configuration);
        if let Some(source) = &config.bandit_models {
            let models = BanditModels::from_value(&load(source)?).map_err(|err| format!("bandit models: {err}"))?;
            self.warnings.extend(models.errors().iter().map(|e| format!("bandit models: bandit {:?}: {e}", e.key)));
            self.models = Some(models);
        }
        Ok(())
    }

    fn evaluate(&mut self, cases: &[WireCase<'_>]) -> Vec<CaseResult> {
        cases
            .iter()
            .map(|case| match case.input.as_ref() {
                CaseInput::Flag(flag) => self.evaluate_flag(&case.case_id, flag),
                CaseInput::Bandit(bandit) => self.evaluate_bandit(&case.case_id, bandit),
            })
            .collect()
    }

    fn configuration_warnings(&self) -> Vec<String> {
        self.warnings.clone()
    }

    /// The loop does what an SDK call does: evaluate and build the
    /// assignment event a logger would receive (and, for bandits, the bandit
    /// event), so the comparison with SDK loops is like for like.
    fn bench(&mut self, request: &BenchRequest) -> Result<u64, String> {
        let config = self.config.as_ref().ok_or("no configuration loaded")?;
        if request.subjects.is_empty() {
            return Err("no subjects".into());
        }
        let now = self.now;
        let mut sink = 0usize;
        let start;
        match request.mode.as_str() {
            "assign" | "details" => {
                let expected_type = VariationType::parse(&request.variation_type).ok_or("unknown variationType")?;
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
                let details = request.mode == "details";
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
            "bandit" => {
                let default_variation = request.default_value.as_str().unwrap_or("default");
                let actions: Vec<Action> = request.actions.iter().map(Action::from).collect();
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
            other => return Err(format!("mode {other:?} is not supported")),
        }
        std::hint::black_box(sink);
        Ok(start.elapsed().as_nanos() as u64)
    }
}
