//! Checking what SDKs precompute (spec section 7). A server SDK can write
//! every flag's assignment for one subject as a precomputed configuration,
//! which client SDKs then serve by lookup; if the server's precomputation
//! disagrees with evaluation, every client inherits the error. Each subject
//! of a suite's flag test files is precomputed by each party and every flag
//! of the configuration is compared with the reference's evaluation.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::{Map, Value};
use ufc_reference::config::FlagEntry;
use ufc_reference::precomputed::PrecomputedConfiguration;
use ufc_reference::{Configuration, FlagEvaluationCode, FlagRequest, Timestamp, TypedValue};

use crate::compare::json_equal;
use crate::party::reference::attributes_of;
use crate::party::{ConfigSet, Party};
use crate::protocol::{capability, CaseInput, Source};
use crate::suite::Suite;

/// One subject to precompute for.
#[derive(Debug, Clone, PartialEq)]
pub struct Subject {
    /// The subject key.
    pub key: String,
    /// Its attributes.
    pub attributes: Map<String, Value>,
}

/// A place where a party's precomputation and the reference disagree.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrecomputeDifference {
    /// The configuration group.
    pub group: String,
    /// The subject.
    pub subject_key: String,
    /// The flag.
    pub flag: String,
    /// `assigned`, `variationValue`, `variationType`, `variationKey`,
    /// `allocationKey`, `doLog` or `extraLogging`.
    pub field: String,
    /// What the reference's evaluation gives.
    pub expected: Value,
    /// What the party precomputed.
    pub actual: Value,
}

/// What one party precomputed, checked.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PartyPrecompute {
    /// The party.
    pub party: String,
    /// Subjects precomputed.
    pub subjects: usize,
    /// (subject, flag) pairs compared.
    pub flags_compared: usize,
    /// Every disagreement.
    pub differences: Vec<PrecomputeDifference>,
    /// Subjects or groups the party could not precompute, and why.
    pub errors: Vec<String>,
    /// Why the party did not take part at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

/// The distinct subjects of a group's flag test files, in file order.
pub fn subjects_of(suite: &Suite, group: usize) -> Vec<Subject> {
    let mut seen = BTreeSet::new();
    suite
        .cases
        .iter()
        .filter(|case| case.group == group)
        .filter_map(|case| match &case.input {
            CaseInput::Flag(flag) => Some(Subject { key: flag.subject_key.clone(), attributes: flag.subject_attributes.clone() }),
            CaseInput::Bandit(_) => None,
        })
        .filter(|subject| seen.insert((subject.key.clone(), Value::Object(subject.attributes.clone()).to_string())))
        .collect()
}

/// Precomputes every subject of every flag group of `suite` with `party`
/// and compares each flag with the reference. Bandit groups and groups
/// whose configuration does not load are left out.
pub fn check(suite: &Suite, party: &mut dyn Party, now: Timestamp) -> PartyPrecompute {
    let mut report = PartyPrecompute { party: party.info().name.clone(), ..PartyPrecompute::default() };
    if !party.info().can(capability::PRECOMPUTE) {
        report.skipped = Some(format!("{} does not declare the \"precompute\" capability", report.party));
        return report;
    }
    for (index, group) in suite.groups.iter().enumerate() {
        let subjects = subjects_of(suite, index);
        if subjects.is_empty() {
            continue;
        }
        let reference = match std::fs::read(&group.flags).map_err(|e| e.to_string()).and_then(|bytes| {
            Configuration::from_json(&bytes).map_err(|e| e.to_string())
        }) {
            Ok(config) => config,
            Err(err) => {
                report.errors.push(format!("{}: {}: {err}", group.name, group.flags.display()));
                continue;
            }
        };
        if let Err(err) = party.configure(&ConfigSet { flags: Source::Path(group.flags.clone()), bandit_models: None }) {
            report.errors.push(format!("{}: configure failed: {err}", group.name));
            continue;
        }
        for subject in subjects {
            match party.precompute(&subject.key, &subject.attributes) {
                Ok(document) => match PrecomputedConfiguration::from_value(&document) {
                    Ok(precomputed) => {
                        report.subjects += 1;
                        compare_subject(&group.name, &subject, &reference, &precomputed, now, &mut report);
                    }
                    Err(err) => report.errors.push(format!("{}/{}: not a precomputed configuration: {err}", group.name, subject.key)),
                },
                Err(err) => report.errors.push(format!("{}/{}: {err}", group.name, subject.key)),
            }
        }
    }
    report
}

fn compare_subject(
    group: &str,
    subject: &Subject,
    reference: &Configuration,
    precomputed: &PrecomputedConfiguration,
    now: Timestamp,
    report: &mut PartyPrecompute,
) {
    let attributes = attributes_of(&subject.attributes);
    for flag_key in reference.flag_keys() {
        let Some(FlagEntry::Valid(flag)) = reference.flag(flag_key) else { continue };
        report.flags_compared += 1;
        let mut differ = |field: &str, expected: Value, actual: Value| {
            report.differences.push(PrecomputeDifference {
                group: group.to_owned(),
                subject_key: subject.key.clone(),
                flag: flag_key.to_owned(),
                field: field.to_owned(),
                expected,
                actual,
            });
        };
        let request = FlagRequest::new(flag_key, &subject.key, &attributes, flag.variation_type);
        let outcome = reference.evaluate(&request, now);
        let assigned = outcome.code == FlagEvaluationCode::Match;
        let looked_up = precomputed.assignment(flag_key, flag.variation_type);
        let Some(entry) = looked_up.flag else {
            if assigned || looked_up.code == FlagEvaluationCode::UnexpectedConfigurationError {
                differ("assigned", Value::Bool(assigned), Value::Bool(false));
            }
            continue;
        };
        if !assigned {
            differ("assigned", Value::Bool(false), Value::Bool(true));
            continue;
        }
        if entry.variation_type != flag.variation_type {
            differ("variationType", Value::from(flag.variation_type.as_str()), Value::from(entry.variation_type.as_str()));
            continue;
        }
        let expected_value = outcome.value().map_or(Value::Null, TypedValue::to_json);
        let actual_value = entry.value.as_ref().map_or_else(|| entry.raw_value.clone(), TypedValue::to_json);
        if !json_equal(&expected_value, &actual_value) {
            differ("variationValue", expected_value, actual_value);
        }
        let Some(decision) = outcome.decision else { continue };
        let do_log = decision.allocation.do_log;
        if entry.do_log != do_log {
            differ("doLog", Value::Bool(do_log), Value::Bool(entry.do_log));
        }
        // Keys and extraLogging may be left out when nothing is logged (RS).
        if let Some(actual) = entry.variation_key() {
            if actual != &*decision.split.variation_key {
                differ("variationKey", Value::from(&*decision.split.variation_key), Value::from(actual));
            }
        }
        if let Some(actual) = &entry.allocation_key {
            if actual.as_str() != &*decision.allocation.key {
                differ("allocationKey", Value::from(&*decision.allocation.key), Value::from(actual.as_str()));
            }
        }
        if entry.split.is_some() && entry.extra_logging() != decision.split.extra_logging.as_slice() {
            let as_json = |pairs: &[(String, String)]| {
                Value::Object(pairs.iter().map(|(k, v)| (k.clone(), Value::from(v.as_str()))).collect())
            };
            differ("extraLogging", as_json(&decision.split.extra_logging), as_json(entry.extra_logging()));
        }
    }
}

/// A text summary: per party, the counts and the differences grouped by
/// field, with a few examples each.
pub fn render_text(reports: &[PartyPrecompute]) -> String {
    let mut out = String::new();
    for report in reports {
        if let Some(reason) = &report.skipped {
            out.push_str(&format!("{}: skipped: {reason}\n", report.party));
            continue;
        }
        out.push_str(&format!(
            "{}: {} subjects, {} flag assignments compared, {} differences, {} errors\n",
            report.party,
            report.subjects,
            report.flags_compared,
            report.differences.len(),
            report.errors.len()
        ));
        let fields: BTreeSet<&str> = report.differences.iter().map(|d| d.field.as_str()).collect();
        for field in fields {
            let of_field: Vec<&PrecomputeDifference> = report.differences.iter().filter(|d| d.field == field).collect();
            out.push_str(&format!("  {field}: {} differences\n", of_field.len()));
            for d in of_field.iter().take(3) {
                out.push_str(&format!(
                    "    {}/{} flag {:?}: expected {}, precomputed {}\n",
                    d.group, d.subject_key, d.flag, d.expected, d.actual
                ));
            }
        }
        for error in report.errors.iter().take(5) {
            out.push_str(&format!("  error: {error}\n"));
        }
    }
    out
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

    fn differences(subject: Value, flags: Value) -> Vec<(String, String)> {
        let subject = Subject { key: "s".into(), attributes: subject.as_object().cloned().unwrap_or_default() };
        let precomputed = PrecomputedConfiguration::from_value(&json!({"format": "PRECOMPUTED", "flags": flags}));
        let mut report = PartyPrecompute::default();
        compare_subject("g", &subject, &reference(), &precomputed.unwrap_or_default(), Timestamp::UNIX_EPOCH, &mut report);
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
}
