//! The reference evaluator as a party, in-process.

use serde_json::{Map, Value};
use ufc_reference::{Attributes, AttributeValue, Configuration, FlagRequest, Timestamp, VariationType};

use super::{ConfigSet, Party, PartyInfo};
use crate::protocol::{capability, BenchRequest, CaseInput, CaseResult, FlagCase, SdkInfo, Source, WireCase};

/// The in-process reference party.
pub struct ReferenceParty {
    info: PartyInfo,
    now: Timestamp,
    config: Option<Configuration>,
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
                capabilities: [capability::ASSIGN, capability::DETAILS, capability::EVENTS, capability::BENCH]
                    .map(String::from)
                    .to_vec(),
            },
            now,
            config: None,
        }
    }

    /// The loaded configuration.
    pub fn configuration(&self) -> Option<&Configuration> {
        self.config.as_ref()
    }

    fn evaluate_flag(&self, case_id: &str, case: &FlagCase) -> CaseResult {
        let Some(expected_type) = VariationType::parse(&case.variation_type) else {
            return CaseResult::error(case_id, format!("unknown variationType {:?}", case.variation_type));
        };
        let attributes = attributes_of(&case.subject_attributes);
        let request = FlagRequest::new(&case.flag, &case.subject_key, &attributes, expected_type);
        let (outcome, details) = ufc_reference::eval::evaluate_details(self.config.as_ref(), &request, self.now);
        CaseResult {
            case_id: case_id.to_owned(),
            value: Some(outcome.value_or(&case.default_value)),
            details: Some(details.to_json()),
            assignment_events: outcome.assignment_event(&request, self.now).map(|e| e.to_json()).into_iter().collect(),
            bandit_events: Vec::new(),
            error: None,
        }
    }
}

/// Flat JSON attributes as reference attributes.
pub fn attributes_of(map: &Map<String, Value>) -> Attributes {
    map.iter().map(|(k, v)| (k.clone(), AttributeValue::from_json(v))).collect()
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
        let flags = load(&config.flags)?;
        let where_ = match &config.flags {
            Source::Path(p) => p.display().to_string(),
            Source::Inline(_) => "inline configuration".into(),
        };
        let configuration = Configuration::from_value(&flags).map_err(|err| format!("{where_}: {err}"))?;
        self.config = Some(configuration);
        Ok(())
    }

    fn evaluate(&mut self, cases: &[WireCase<'_>]) -> Vec<CaseResult> {
        cases
            .iter()
            .map(|case| match case.input.as_ref() {
                CaseInput::Flag(flag) => self.evaluate_flag(&case.case_id, flag),
                CaseInput::Bandit(_) => CaseResult::error(&case.case_id, "bandits are not supported by this party"),
            })
            .collect()
    }

    fn bench(&mut self, request: &BenchRequest) -> Result<u64, String> {
        let config = self.config.as_ref().ok_or("no configuration loaded")?;
        let expected_type = VariationType::parse(&request.variation_type).ok_or("unknown variationType")?;
        let subjects: Vec<(String, Attributes)> = request
            .subjects
            .iter()
            .map(|s| (s.subject_key.clone(), s.subject_attributes.as_object().map(attributes_of).unwrap_or_default()))
            .collect();
        if subjects.is_empty() {
            return Err("no subjects".into());
        }
        let details = match request.mode.as_str() {
            "assign" => false,
            "details" => true,
            other => return Err(format!("mode {other:?} is not supported")),
        };
        let start = std::time::Instant::now();
        let mut sink = 0usize;
        for i in 0..request.iterations {
            let (key, attributes) = &subjects[(i as usize) % subjects.len()];
            let flag_request = FlagRequest::new(&request.flag, key, attributes, expected_type);
            if details {
                let (_, d) = config.evaluate_details(&flag_request, self.now);
                sink = sink.wrapping_add(d.unmatched_allocations.len());
            } else {
                sink = sink.wrapping_add(config.evaluate(&flag_request, self.now).value().is_some() as usize);
            }
        }
        std::hint::black_box(sink);
        Ok(start.elapsed().as_nanos() as u64)
    }
}
