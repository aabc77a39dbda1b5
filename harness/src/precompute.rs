//! Checking what SDKs precompute (spec section 7). A server SDK can write
//! every flag's assignment for one subject as a precomputed configuration,
//! which client SDKs then serve by lookup; if the server's precomputation
//! disagrees with evaluation, every client inherits the error. Each subject
//! of a suite's flag test files is precomputed by each party and every flag
//! of the configuration is compared with the reference's evaluation.
//!
//! Parties are driven through a [`Session`], which decides whether a party
//! can precompute. The outcome is a typed [`PrecomputeReport`], a versioned
//! public format ([`PRECOMPUTE_REPORT_VERSION`],
//! `docs/report-schemas/precompute.schema.json`); [`crate::report::precompute`]
//! renders it.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use ufc_protocol::report::Tool;
use ufc_protocol::{exit_codes, ActionInput, CaseInput, ContextAttributes};
use ufc_reference::bandit::{Action, BanditModels, BanditRequest};
use ufc_reference::config::FlagEntry;
use ufc_reference::precomputed::PrecomputedConfiguration;
use ufc_reference::{Attributes, Configuration, FlagEvaluationCode, FlagRequest, Timestamp, TypedValue};

use crate::observation::json_equal;
use crate::party::{Party, PartyError, PrecomputeSubject};
use crate::session::Session;
use crate::suite::Suite;

/// The precompute report's format version.
pub const PRECOMPUTE_REPORT_VERSION: u32 = 1;

/// One subject to precompute for.
#[derive(Debug, Clone, PartialEq)]
pub struct Subject {
    /// The subject key.
    pub key: String,
    /// Its attributes as sent: flat, or `{numericAttributes,
    /// categoricalAttributes}` for a bandit subject.
    pub attributes: Value,
    /// The attributes flags are evaluated with (a bandit subject's maps merged).
    pub flag_attributes: Attributes,
    /// For a bandit subject: the bandit flag and its candidate actions.
    pub bandit: Option<BanditSubject>,
}

/// A bandit test file's subject: what its bandit flag is asked with.
#[derive(Debug, Clone, PartialEq)]
pub struct BanditSubject {
    /// The bandit flag.
    pub flag: String,
    /// Numeric and categorical attributes.
    pub context: ContextAttributes,
    /// The candidate actions.
    pub actions: Vec<ActionInput>,
}

impl Subject {
    /// The `precompute` request for this subject.
    pub fn request(&self) -> PrecomputeSubject {
        let mut bandit_actions = Map::new();
        if let Some(bandit) = &self.bandit {
            let actions: Map<String, Value> = bandit
                .actions
                .iter()
                .map(|a| (a.action_key.clone(), serde_json::to_value(&a.attributes).unwrap_or_default()))
                .collect();
            bandit_actions.insert(bandit.flag.clone(), Value::Object(actions));
        }
        PrecomputeSubject { subject_key: self.key.clone(), subject_attributes: self.attributes.clone(), bandit_actions }
    }
}

/// A place where a party's precomputation and the reference disagree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrecomputeDifference {
    /// The configuration group.
    pub group: String,
    /// The subject.
    pub subject_key: String,
    /// The flag.
    pub flag: String,
    /// `assigned`, `variationValue`, `variationType`, `variationKey`,
    /// `allocationKey`, `doLog` or `extraLogging`; for a bandit subject
    /// `banditAction`, `banditKey`, `modelVersion`, `actionProbability` or
    /// `optimalityGap`.
    pub field: String,
    /// What the reference's evaluation gives.
    pub expected: Value,
    /// What the party precomputed.
    pub actual: Value,
}

/// What one party precomputed, checked.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartyPrecompute {
    /// The party.
    pub party: String,
    /// Subjects precomputed.
    pub subjects: usize,
    /// (subject, flag) pairs compared.
    pub flags_compared: usize,
    /// Bandit subjects whose precomputed action was compared.
    pub bandits_compared: usize,
    /// Every disagreement.
    pub differences: Vec<PrecomputeDifference>,
    /// Subjects or groups the party could not precompute, and why.
    pub errors: Vec<String>,
    /// Why the party did not take part at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

impl PartyPrecompute {
    /// The differences grouped by field, fields in name order.
    pub fn differences_by_field(&self) -> std::collections::BTreeMap<&str, Vec<&PrecomputeDifference>> {
        let mut grouped: std::collections::BTreeMap<&str, Vec<&PrecomputeDifference>> = Default::default();
        for difference in &self.differences {
            grouped.entry(difference.field.as_str()).or_default().push(difference);
        }
        grouped
    }
}

impl Subject {
    /// The subject a case asks about.
    pub fn of(input: &CaseInput) -> Subject {
        match input {
            CaseInput::Flag(flag) => Subject {
                key: flag.subject_key.clone(),
                attributes: Value::Object(flag.subject_attributes.clone()),
                flag_attributes: Attributes::from_json(&flag.subject_attributes),
                bandit: None,
            },
            CaseInput::Bandit(case) => Subject {
                key: case.subject_key.clone(),
                attributes: serde_json::to_value(&case.subject_attributes).unwrap_or_default(),
                flag_attributes: crate::party::reference::subject_attributes(&case.subject_attributes).flag_attributes,
                bandit: Some(BanditSubject {
                    flag: case.flag.clone(),
                    context: case.subject_attributes.clone(),
                    actions: case.actions.clone(),
                }),
            },
        }
    }

    /// What tells two subjects apart: key, attributes and bandit actions.
    pub fn identity(&self) -> String {
        format!("{}\u{0}{}\u{0}{:?}", self.key, self.attributes, self.request().bandit_actions)
    }
}

/// The distinct subjects of a group's test files, in file order.
pub fn subjects_of(suite: &Suite, group: usize) -> Vec<Subject> {
    let mut seen = BTreeSet::new();
    suite
        .cases
        .iter()
        .filter(|case| case.group == group)
        .map(|case| Subject::of(&case.input))
        .filter(|subject| seen.insert(subject.identity()))
        .collect()
}

/// What a group's subjects are compared against.
pub(crate) struct Oracle {
    pub(crate) config: Configuration,
    pub(crate) models: Option<BanditModels>,
}

pub(crate) fn load_oracle(flags: &std::path::Path, models: Option<&std::path::Path>) -> Result<Oracle, String> {
    let read = |path: &std::path::Path| std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()));
    let config = Configuration::from_json(&read(flags)?).map_err(|e| format!("{}: {e}", flags.display()))?;
    let models = match models {
        Some(path) => Some(BanditModels::from_json(&read(path)?).map_err(|e| format!("{}: {e}", path.display()))?),
        None => None,
    };
    Ok(Oracle { config, models })
}

/// Every party's precomputation of one suite, checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrecomputeReport {
    /// [`PRECOMPUTE_REPORT_VERSION`].
    pub report_version: u32,
    /// The tool that wrote it.
    pub tool: Tool,
    /// The suite root.
    pub suite: PathBuf,
    /// One per party, in the order given.
    pub parties: Vec<PartyPrecompute>,
}

impl PrecomputeReport {
    /// The command's exit code: [`exit_codes::ERRORS`] when a party could
    /// not precompute some subjects, else [`exit_codes::FAILURES`] when
    /// some precomputation differs from the reference, else success.
    pub fn exit_code(&self) -> i32 {
        if self.parties.iter().any(|r| !r.errors.is_empty()) {
            exit_codes::ERRORS
        } else if self.parties.iter().any(|r| !r.differences.is_empty()) {
            exit_codes::FAILURES
        } else {
            exit_codes::SUCCESS
        }
    }
}

/// Checks every party's precomputation of `suite` (see [`check`]).
pub fn run(suite: &Suite, parties: Vec<Box<dyn Party>>, now: Timestamp) -> PrecomputeReport {
    PrecomputeReport {
        report_version: PRECOMPUTE_REPORT_VERSION,
        tool: Tool { name: "ufc-harness".into(), version: env!("CARGO_PKG_VERSION").into() },
        suite: suite.root.clone(),
        parties: parties.into_iter().map(|mut party| check(suite, party.as_mut(), now)).collect(),
    }
}

/// Precomputes every subject of every group of `suite` with `party` and
/// compares each flag, and each bandit subject's action, with the
/// reference. Groups whose configuration does not load are left out.
pub fn check(suite: &Suite, party: &mut dyn Party, now: Timestamp) -> PartyPrecompute {
    check_session(suite, &mut Session::new(party), now)
}

/// As [`check`], over a session already driving the party. A party the
/// session will not ask to precompute is skipped as a whole, with the
/// session's reason.
pub fn check_session(suite: &Suite, session: &mut Session<'_>, now: Timestamp) -> PartyPrecompute {
    let mut report = PartyPrecompute { party: session.info().name.clone(), ..PartyPrecompute::default() };
    for (index, group) in suite.groups.iter().enumerate() {
        let subjects = subjects_of(suite, index);
        if subjects.is_empty() {
            continue;
        }
        let oracle = match load_oracle(&group.flags, group.bandit_models.as_deref()) {
            Ok(oracle) => oracle,
            Err(err) => {
                report.errors.push(format!("{}: {err}", group.name));
                continue;
            }
        };
        if let Err(err) = session.configure(&format!("group {:?}", group.name), &group.config_set()) {
            report.errors.push(err);
            continue;
        }
        for subject in subjects {
            match session.precompute(&subject.request()) {
                Ok(document) => match PrecomputedConfiguration::from_value(&document) {
                    Ok(precomputed) => {
                        report.subjects += 1;
                        let mut differ = Differ { group: &group.name, subject: &subject, report: &mut report };
                        compare_subject(&mut differ, &oracle.config, &precomputed, now);
                        compare_bandit(&mut differ, &oracle, &precomputed, now);
                    }
                    Err(err) => report
                        .errors
                        .push(format!("{}/{}: not a precomputed configuration: {err}", group.name, subject.key)),
                },
                Err(unsupported @ PartyError::Unsupported { .. }) => {
                    return PartyPrecompute {
                        party: report.party,
                        skipped: Some(unsupported.to_string()),
                        ..PartyPrecompute::default()
                    };
                }
                Err(err) => report.errors.push(format!("{}/{}: {err}", group.name, subject.key)),
            }
        }
    }
    report
}

/// Records differences for one subject of one group.
struct Differ<'a> {
    group: &'a str,
    subject: &'a Subject,
    report: &'a mut PartyPrecompute,
}

impl Differ<'_> {
    fn differ(&mut self, flag: &str, field: &str, expected: Value, actual: Value) {
        self.report.differences.push(PrecomputeDifference {
            group: self.group.to_owned(),
            subject_key: self.subject.key.clone(),
            flag: flag.to_owned(),
            field: field.to_owned(),
            expected,
            actual,
        });
    }
}

/// The reference's choice for a bandit subject against the precomputed
/// bandit entry of its flag. A flag the reference does not assign has no
/// precomputed action either.
fn compare_bandit(differ: &mut Differ<'_>, oracle: &Oracle, precomputed: &PrecomputedConfiguration, now: Timestamp) {
    let whole = differ.subject;
    let Some(subject) = &whole.bandit else { return };
    differ.report.bandits_compared += 1;
    let attributes = crate::party::reference::subject_attributes(&subject.context);
    let actions: Vec<Action> = subject.actions.iter().map(crate::party::reference::action).collect();
    let request = BanditRequest::new(&subject.flag, &whole.key, &attributes, &actions, "");
    let outcome = oracle.config.evaluate_bandit(oracle.models.as_ref(), &request, now);
    let choice = outcome.choice.filter(|_| outcome.flag.code == FlagEvaluationCode::Match);
    let entry = precomputed.bandit(&subject.flag);
    let (choice, entry) = match (choice, entry) {
        (None, None) => return,
        (Some(choice), Some(entry)) => (choice, entry),
        (choice, entry) => {
            let expected = choice.map_or(Value::Null, |c| Value::from(c.action.key.as_str()));
            differ.differ(
                &subject.flag,
                "banditAction",
                expected,
                entry.map_or(Value::Null, |e| Value::from(e.action.as_str())),
            );
            return;
        }
    };
    let flag = subject.flag.as_str();
    if choice.action.key != entry.action {
        differ.differ(
            flag,
            "banditAction",
            Value::from(choice.action.key.as_str()),
            Value::from(entry.action.as_str()),
        );
    }
    if choice.bandit_key != entry.bandit_key {
        differ.differ(flag, "banditKey", Value::from(choice.bandit_key), Value::from(entry.bandit_key.as_str()));
    }
    if choice.model_version != entry.model_version {
        differ.differ(
            flag,
            "modelVersion",
            Value::from(choice.model_version),
            Value::from(entry.model_version.as_str()),
        );
    }
    // Probabilities and gaps are sums of products: the cores may round differently.
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 || (a.is_nan() && b.is_nan());
    if !close(choice.probability, entry.action_probability) {
        differ.differ(
            flag,
            "actionProbability",
            Value::from(choice.probability),
            Value::from(entry.action_probability),
        );
    }
    if !close(choice.optimality_gap, entry.optimality_gap) {
        differ.differ(flag, "optimalityGap", Value::from(choice.optimality_gap), Value::from(entry.optimality_gap));
    }
}

fn compare_subject(
    differ: &mut Differ<'_>,
    reference: &Configuration,
    precomputed: &PrecomputedConfiguration,
    now: Timestamp,
) {
    let subject = differ.subject;
    for flag_key in reference.flag_keys() {
        let Some(FlagEntry::Valid(flag)) = reference.flag(flag_key) else { continue };
        differ.report.flags_compared += 1;
        let request = FlagRequest::new(flag_key, &subject.key, &subject.flag_attributes, flag.variation_type);
        let outcome = reference.evaluate(&request, now);
        let assigned = outcome.code == FlagEvaluationCode::Match;
        let looked_up = precomputed.assignment(flag_key, flag.variation_type);
        let Some(entry) = looked_up.flag else {
            if assigned || looked_up.code == FlagEvaluationCode::UnexpectedConfigurationError {
                differ.differ(flag_key, "assigned", Value::Bool(assigned), Value::Bool(false));
            }
            continue;
        };
        if !assigned {
            differ.differ(flag_key, "assigned", Value::Bool(false), Value::Bool(true));
            continue;
        }
        if entry.variation_type != flag.variation_type {
            let (expected, actual) = (flag.variation_type.as_str(), entry.variation_type.as_str());
            differ.differ(flag_key, "variationType", Value::from(expected), Value::from(actual));
            continue;
        }
        let expected_value = outcome.value().map_or(Value::Null, TypedValue::to_json);
        let actual_value = entry.value.as_ref().map_or_else(|| entry.raw_value.clone(), TypedValue::to_json);
        if !json_equal(&expected_value, &actual_value) {
            differ.differ(flag_key, "variationValue", expected_value, actual_value);
        }
        let Some(decision) = outcome.decision else { continue };
        let do_log = decision.allocation.do_log;
        if entry.do_log != do_log {
            differ.differ(flag_key, "doLog", Value::Bool(do_log), Value::Bool(entry.do_log));
        }
        // Keys and extraLogging may be left out when nothing is logged (RS).
        if let Some(actual) = entry.variation_key() {
            if actual != &*decision.split.variation_key {
                differ.differ(
                    flag_key,
                    "variationKey",
                    Value::from(&*decision.split.variation_key),
                    Value::from(actual),
                );
            }
        }
        if let Some(actual) = &entry.allocation_key {
            if actual.as_str() != &*decision.allocation.key {
                differ.differ(
                    flag_key,
                    "allocationKey",
                    Value::from(&*decision.allocation.key),
                    Value::from(actual.as_str()),
                );
            }
        }
        if entry.split.is_some() && entry.extra_logging() != decision.split.extra_logging.as_slice() {
            let as_json = |pairs: &[(String, String)]| {
                Value::Object(pairs.iter().map(|(k, v)| (k.clone(), Value::from(v.as_str()))).collect())
            };
            differ.differ(
                flag_key,
                "extraLogging",
                as_json(&decision.split.extra_logging),
                as_json(entry.extra_logging()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reference() -> Configuration {
        let flag = |key: &str, value: Value, do_log: bool| {
            json!({"key": key, "enabled": true, "variationType": "INTEGER", "totalShards": 10,
                   "variations": {"v": {"key": "v", "value": value}},
                   "allocations": [{"key": "all", "doLog": do_log, "rules": [{"conditions": [
                        {"attribute": "tier", "operator": "ONE_OF", "value": ["gold"]}]}],
                       "splits": [{"variationKey": "v", "shards": [], "extraLogging": {"h": "x"}}]}]})
        };
        let document = json!({"flags": {"seven": flag("seven", json!(7), true), "quiet": flag("quiet", json!(1), false),
                                        "broken": flag("broken", json!(2.5), true)}});
        Configuration::from_value(&document).unwrap_or_default()
    }

    fn differences(attributes: Value, flags: Value) -> Vec<(String, String)> {
        let map = attributes.as_object().cloned().unwrap_or_default();
        let subject =
            Subject { key: "s".into(), flag_attributes: Attributes::from_json(&map), attributes, bandit: None };
        let precomputed = PrecomputedConfiguration::from_value(&json!({"format": "PRECOMPUTED", "flags": flags}));
        let mut report = PartyPrecompute::default();
        let mut differ = Differ { group: "g", subject: &subject, report: &mut report };
        compare_subject(&mut differ, &reference(), &precomputed.unwrap_or_default(), Timestamp::UNIX_EPOCH);
        assert_eq!(report.flags_compared, 3);
        report.differences.into_iter().map(|d| (d.flag, d.field)).collect()
    }

    fn entry(value: Value, do_log: bool) -> Value {
        json!({"allocationKey": "all", "variationKey": "v", "variationType": "INTEGER", "variationValue": value,
               "extraLogging": {"h": "x"}, "doLog": do_log})
    }

    #[test]
    fn a_faithful_precomputation_has_no_differences() {
        let flags = json!({"seven": entry(json!(7), true), "quiet": {"variationType": "INTEGER", "variationValue": 1, "doLog": false}});
        assert_eq!(differences(json!({"tier": "gold"}), flags), vec![]);
        assert_eq!(differences(json!({"tier": "silver"}), json!({})), vec![]);
    }

    #[test]
    fn wrong_missing_and_extra_assignments_are_each_named() {
        let flags = json!({"seven": entry(json!(8), false), "broken": entry(json!(2.5), true)});
        let found = differences(json!({"tier": "gold"}), flags);
        let expected = [("broken", "assigned"), ("quiet", "assigned"), ("seven", "variationValue"), ("seven", "doLog")];
        assert_eq!(found, expected.map(|(f, d)| (f.to_owned(), d.to_owned())).to_vec());
        let found = differences(json!({"tier": "silver"}), json!({"seven": entry(json!(7), true)}));
        assert_eq!(found, vec![("seven".to_owned(), "assigned".to_owned())]);
    }

    /// A single-action bandit of the built-in fixtures: the reference
    /// chooses `red` with probability 1 and gap 0.
    fn bandit_differences(entry: Value) -> Vec<(String, String)> {
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ufc-fixtures/bandits");
        let oracle = load_oracle(&fixtures.join("flags-v1.json"), Some(&fixtures.join("bandit-models-v1.json")));
        let oracle = oracle.unwrap_or_else(|err| unreachable!("the bandit fixtures load: {err}"));
        let context = ContextAttributes::default();
        let actions: Vec<ActionInput> = serde_json::from_value(
            json!([{"actionKey": "red", "numericAttributes": {"price": 100}, "categoricalAttributes": {}}]),
        )
        .unwrap_or_default();
        let subject = Subject {
            key: "only-red-189".into(),
            attributes: json!({"numericAttributes": {}, "categoricalAttributes": {}}),
            flag_attributes: Attributes::new(),
            bandit: Some(BanditSubject { flag: "bf-single".into(), context, actions }),
        };
        let precomputed = PrecomputedConfiguration::from_value(&json!({"flags": {}, "bandits": {"bf-single": entry}}));
        let mut report = PartyPrecompute::default();
        let mut differ = Differ { group: "g", subject: &subject, report: &mut report };
        compare_bandit(&mut differ, &oracle, &precomputed.unwrap_or_default(), Timestamp::UNIX_EPOCH);
        assert_eq!(report.bandits_compared, 1);
        report.differences.into_iter().map(|d| (d.flag, d.field)).collect()
    }

    fn bandit_entry(action: &str, probability: f64) -> Value {
        json!({"banditKey": "score-bandit", "action": action, "actionProbability": probability, "optimalityGap": 0.0,
               "modelVersion": "score-v1"})
    }

    #[test]
    fn precomputed_bandit_actions_are_checked_against_the_reference_choice() {
        let names =
            |pairs: &[(&str, &str)]| pairs.iter().map(|(f, d)| ((*f).to_owned(), (*d).to_owned())).collect::<Vec<_>>();
        assert_eq!(bandit_differences(bandit_entry("red", 1.0)), names(&[]));
        assert_eq!(bandit_differences(bandit_entry("red", 1.0 - 1e-12)), names(&[]), "rounding is tolerated");
        assert_eq!(bandit_differences(bandit_entry("red", 0.5)), names(&[("bf-single", "actionProbability")]));
        assert_eq!(bandit_differences(bandit_entry("blue", 1.0)), names(&[("bf-single", "banditAction")]));
    }
}
