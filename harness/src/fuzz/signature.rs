//! What a disagreement is and how it is named.
//!
//! A **disagreement** on one case is a partition of the parties into classes
//! that answered alike, plus the fields on which the classes differ: the
//! value (typed: `1` and `"1"` differ), the details' `flagEvaluationCode`
//! (only between parties that both give details), whether an assignment or
//! bandit event was logged (only between parties that both report events),
//! or that a party raised an error. The minimizer keeps a candidate only if
//! it shows the same *kind* of disagreement ([`Disagreement::same_kind`]):
//! the same classes, and a most telling field of the same kind.
//!
//! A **signature** is the classes, the most telling field, and the features
//! of the minimized case that may explain it: the operators of the
//! remaining conditions and what is odd about their values, the kinds of
//! the attributes they read, dates, `doLog`, the variation type, invalid or
//! `"null"` variation values, blank subject keys, bandit peculiarities. One
//! signature is one finding.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use ufc_reference::rules::{Check, Condition};
use ufc_reference::VariationType;

use super::Scenario;
use crate::observation::{Answer, Json};
use crate::party::{AnswerPart, PartyInfo};
use ufc_protocol::CaseInput;

/// A field on which parties can disagree, most telling first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Field {
    /// One party raised an error where another answered.
    Error,
    /// The served value (bandits: `{variation, action}`).
    Value,
    /// `details.flagEvaluationCode`.
    DetailsCode,
    /// Whether an assignment event was logged.
    AssignmentEvent,
    /// Whether a bandit event was logged.
    BanditEvent,
}

impl Field {
    /// Kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Error => "error",
            Field::Value => "value",
            Field::DetailsCode => "details-code",
            Field::AssignmentEvent => "assignment-event",
            Field::BanditEvent => "bandit-event",
        }
    }

    /// Fields of one kind tell of one divergence. A value and a details
    /// code are one kind: both say the evaluation went another way, and
    /// whether the value shows it depends only on whether the default
    /// happens to equal the variation served.
    fn kind(self) -> u8 {
        match self {
            Field::Error => 0,
            Field::Value | Field::DetailsCode => 1,
            Field::AssignmentEvent => 2,
            Field::BanditEvent => 3,
        }
    }
}

/// Which parties agree with which, and on what they differ.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Disagreement {
    /// Classes of parties that answered alike, by name; the class of the
    /// first party (the reference) comes first, the others in party order.
    pub classes: Vec<Vec<String>>,
    /// The fields on which some two classes differ, most telling first.
    pub fields: Vec<Field>,
}

impl Disagreement {
    /// The most telling field that differs.
    pub fn field(&self) -> Field {
        self.fields.first().copied().unwrap_or(Field::Value)
    }

    /// Whether `other` is the same disagreement, as far as minimizing and
    /// deduplicating go: the same classes, and a most telling field of the
    /// same kind. Lesser fields may come and go: a value divergence stays
    /// one whether or not the events also differ (that depends on `doLog`,
    /// which the minimizer is free to simplify away).
    pub fn same_kind(&self, other: &Disagreement) -> bool {
        self.classes == other.classes && self.field().kind() == other.field().kind()
    }
}

/// A disagreement's classes and most telling field, plus the features of
/// its minimized case: what a finding is, and what makes two the same.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Signature {
    /// Who agrees with whom.
    pub classes: Vec<Vec<String>>,
    /// The most telling field that differs.
    pub field: Field,
    /// What the minimized case involves (`op:ONE_OF`, `attr:number-exotic`,
    /// `doLog:absent`, ...), sorted.
    pub features: Vec<String>,
}

/// Features that name a known cause, most specific first. A finding is
/// filed under the first cause whose features its minimized case has; the
/// ids are those of `test-cases/divergences/` and `docs/divergences.md`.
const CAUSES: &[(&str, &[&str])] = &[
    ("one-of-non-string-elements", &["one-of:non-string"]),
    ("regex-look-ahead", &["regex:look-around", "regex:back-reference"]),
    ("regex-inline-flag", &["regex:inline-flag"]),
    ("regex-unicode-digit", &["regex:class-escape"]),
    ("invalid-regex", &["regex:non-string", "MATCHES:invalid", "NOT_MATCHES:invalid"]),
    ("is-null-non-bool", &["is-null:non-bool", "IS_NULL:invalid"]),
    ("one-of-number-rendering", &["one-of:number-like", "attr:number-exotic", "bandit:categorical-number-exotic"]),
    ("numeric-string-parsing", &["compare:numeric-string", "attr:string-number-lenient", "attr:bool-compared"]),
    ("semver-build-metadata", &["compare:semver-build"]),
    ("semver-v-prefix", &["compare:semver-lenient", "attr:string-semver-lenient"]),
    ("invalid-operator-values", &["GT:invalid", "GTE:invalid", "LT:invalid", "LTE:invalid"]),
    ("rules-null", &["rules:null"]),
    ("invalid-variation-value", &["variation:invalid-value"]),
    ("json-null-variation", &["variation:json-null"]),
    ("variation-key-mismatch", &["variation:key-mismatch"]),
    ("split-names-missing-variation", &["variation:missing"]),
    ("disabled-flag-wrong-type", &["disabled"]),
    ("blank-subject-key", &["subject-key:blank"]),
    ("missing-do-log", &["doLog:absent"]),
    ("non-rfc3339-date", &["dates"]),
    ("integer-1e20", &["variation-type:INTEGER"]),
    ("bandit-categorical-empty-string", &["bandit:categorical-empty"]),
    ("bandit-tie-break-utf16", &["bandit:non-ascii-action-key"]),
    ("bandit-links-one-map-only", &["bandit:links-bandits-only", "bandit:links-references-only"]),
    ("bandit-no-actions", &["bandit:no-actions"]),
    ("bandit-model-missing", &["bandit:model-missing"]),
    ("bandit-dynamic-typing", &["bandit:numeric-not-a-number", "bandit:categorical-bool", "bandit:categorical-number"]),
];

impl Signature {
    /// The known cause this signature's features point to, if any.
    pub fn cause(&self) -> Option<&'static str> {
        CAUSES
            .iter()
            .find(|(_, features)| features.iter().any(|f| self.features.iter().any(|g| g == f)))
            .map(|(cause, _)| *cause)
    }

    /// What makes two findings one: the cause and who disagrees with whom
    /// when the cause is known, else the whole signature.
    pub fn cause_key(&self) -> String {
        match self.cause() {
            Some(cause) => format!("{cause} | {}", classes_text(&self.classes)),
            None => self.text(),
        }
    }

    /// A signature from a disagreement and features.
    pub fn new(disagreement: &Disagreement, features: Vec<String>) -> Signature {
        Signature { classes: disagreement.classes.clone(), field: disagreement.field(), features }
    }

    /// `value | reference+python vs node | op:ONE_OF, attr:number-exotic`.
    pub fn text(&self) -> String {
        let features =
            if self.features.is_empty() { "no particular feature".to_owned() } else { self.features.join(", ") };
        format!("{} | {} | {}", self.field.as_str(), classes_text(&self.classes), features)
    }

    /// A directory name: readable, at most about 100 characters, unique per
    /// signature (a hash of the full text ends it).
    pub fn slug(&self) -> String {
        let mut readable = format!("{}--{}", self.field.as_str(), classes_text(&self.classes).replace(" vs ", "-vs-"));
        // Operators first, then the odd kinds of attribute (`number-exotic`),
        // then the rest, plain attribute kinds last: the name should say what
        // is involved before it runs out of room.
        let mut by_weight: Vec<&String> = self.features.iter().collect();
        by_weight.sort_by_key(|f| match f.strip_prefix("attr:") {
            _ if f.starts_with("op:") => 0,
            Some(kind) if kind.contains('-') => 1,
            Some(_) => 3,
            None => 2,
        });
        for feature in by_weight {
            if readable.len() + feature.len() > 90 {
                break;
            }
            readable.push_str("--");
            readable.push_str(feature);
        }
        format!("{}--{:08x}", sanitize(&readable), fnv1a(self.text().as_bytes()) as u32)
    }
}

fn classes_text(classes: &[Vec<String>]) -> String {
    classes.iter().map(|c| c.join("+")).collect::<Vec<_>>().join(" vs ")
}

/// Lowercase ASCII letters, digits, `_` (for `_` and `+`) and dashes only;
/// runs of dashes are kept to at most two, so `--` still separates parts.
fn sanitize(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| match c {
            c if c.is_ascii_alphanumeric() => c.to_ascii_lowercase(),
            '_' | '+' => '_',
            _ => '-',
        })
        .collect();
    while out.contains("---") {
        out = out.replace("---", "--");
    }
    out.trim_matches('-').to_owned()
}

/// FNV-1a: a hash that is the same on every platform and Rust version, so
/// slugs are stable.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// What one party answered for one case, reduced to the compared facts.
/// `None` fields are not compared (the party does not give them).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Facts<'a> {
    raised: bool,
    value: Option<&'a Json>,
    code: Option<&'a str>,
    assignment_event: Option<bool>,
    bandit_event: Option<bool>,
}

/// Reduces an answer to what is compared, given what the party declared.
pub(crate) fn observe<'a>(info: &PartyInfo, input: &CaseInput, answer: &'a Answer) -> Facts<'a> {
    let observation = match answer {
        Answer::Observed(observation) => observation,
        Answer::Raised(_) => {
            // An error is compared as an error and nothing else.
            return Facts { raised: true, value: None, code: None, assignment_event: None, bandit_event: None };
        }
    };
    let bandit = matches!(input, CaseInput::Bandit(_));
    let gives_details = info.gives(AnswerPart::Details, bandit);
    Facts {
        raised: false,
        value: Some(&observation.value),
        code: gives_details
            .then(|| observation.details.as_ref().and_then(|d| d.flag_evaluation_code.as_ref()?.as_deref()))
            .flatten(),
        assignment_event: info
            .gives(AnswerPart::AssignmentEvents, bandit)
            .then_some(!observation.assignment_events.is_empty()),
        bandit_event: (bandit && info.gives(AnswerPart::BanditEvents, bandit))
            .then_some(!observation.bandit_events.is_empty()),
    }
}

fn differing_fields(a: &Facts<'_>, b: &Facts<'_>, out: &mut BTreeSet<Field>) {
    if a.raised || b.raised {
        if a.raised != b.raised {
            out.insert(Field::Error);
        }
        return;
    }
    if let (Some(x), Some(y)) = (a.value, b.value) {
        if x != y {
            out.insert(Field::Value);
        }
    }
    if let (Some(x), Some(y)) = (a.code, b.code) {
        if x != y {
            out.insert(Field::DetailsCode);
        }
    }
    if let (Some(x), Some(y)) = (a.assignment_event, b.assignment_event) {
        if x != y {
            out.insert(Field::AssignmentEvent);
        }
    }
    if let (Some(x), Some(y)) = (a.bandit_event, b.bandit_event) {
        if x != y {
            out.insert(Field::BanditEvent);
        }
    }
}

/// The disagreement among the parties that answered (`None` entries did
/// not take part), or `None` when they all agree.
pub(crate) fn disagreement(names: &[&str], facts: &[Option<Facts<'_>>]) -> Option<Disagreement> {
    // Greedy partition: a party joins the first class whose first member it
    // agrees with on every field both report.
    let mut classes: Vec<(usize, Vec<usize>)> = Vec::new();
    for (index, party) in facts.iter().enumerate() {
        let Some(party) = party else { continue };
        let home = classes.iter_mut().find(|(representative, _)| {
            let mut fields = BTreeSet::new();
            if let Some(rep) = &facts[*representative] {
                differing_fields(rep, party, &mut fields);
            }
            fields.is_empty()
        });
        match home {
            Some((_, members)) => members.push(index),
            None => classes.push((index, vec![index])),
        }
    }
    if classes.len() < 2 {
        return None;
    }
    let mut fields = BTreeSet::new();
    for (i, (a, _)) in classes.iter().enumerate() {
        for (b, _) in &classes[i + 1..] {
            if let (Some(x), Some(y)) = (&facts[*a], &facts[*b]) {
                differing_fields(x, y, &mut fields);
            }
        }
    }
    Some(Disagreement {
        classes: classes
            .into_iter()
            .map(|(_, members)| members.into_iter().map(|i| names.get(i).copied().unwrap_or("?").to_owned()).collect())
            .collect(),
        fields: fields.into_iter().collect(),
    })
}

// ---------------------------------------------------------------------------
// Features

/// The features of case `target` of `scenario` and of the flag it asks for.
pub fn features(scenario: &Scenario, target: usize) -> Vec<String> {
    let mut out = BTreeSet::new();
    let Some(input) = scenario.cases.get(target) else { return Vec::new() };
    let (flag_key, subject_key) = match input {
        CaseInput::Flag(case) => (case.flag.as_str(), case.subject_key.as_str()),
        CaseInput::Bandit(case) => (case.flag.as_str(), case.subject_key.as_str()),
    };
    if subject_key.trim().is_empty() {
        out.insert("subject-key:blank".to_owned());
    } else if !subject_key.is_ascii() {
        out.insert("subject-key:non-ascii".to_owned());
    }
    let attributes: Map<String, Value> = match input {
        CaseInput::Flag(case) => case.subject_attributes.clone(),
        CaseInput::Bandit(case) => {
            let mut merged = case.subject_attributes.numeric_attributes.clone();
            merged.extend(case.subject_attributes.categorical_attributes.clone());
            merged
        }
    };
    let flag = scenario.flags.get("flags").and_then(|f| f.get(flag_key));
    match flag {
        None => {
            out.insert("flag:missing".to_owned());
        }
        Some(flag) => flag_features(flag, input, &attributes, &mut out),
    }
    if let CaseInput::Bandit(case) = input {
        bandit_features(scenario, case, &mut out);
    }
    out.into_iter().collect()
}

fn flag_features(flag: &Value, input: &CaseInput, attributes: &Map<String, Value>, out: &mut BTreeSet<String>) {
    if flag.get("enabled") == Some(&Value::Bool(false)) {
        out.insert("disabled".into());
    }
    let flag_type = flag.get("variationType").and_then(Value::as_str).unwrap_or("?");
    let parsed_type = VariationType::parse(flag_type);
    if parsed_type.is_none() {
        out.insert(format!("variation-type:unknown({flag_type})"));
    } else if flag_type != "STRING" {
        out.insert(format!("variation-type:{flag_type}"));
    }
    if let CaseInput::Flag(case) = input {
        if case.variation_type.as_str() != flag_type {
            out.insert("type-mismatch".into());
        }
    }
    // Variations that some split serves, by the `key` field and the map key.
    let variations = flag.get("variations").and_then(Value::as_object);
    let allocations: &[Value] = flag.get("allocations").and_then(Value::as_array).map_or(&[], Vec::as_slice);
    let served: BTreeSet<&str> = allocations
        .iter()
        .flat_map(|a| a.get("splits").and_then(Value::as_array).into_iter().flatten())
        .filter_map(|s| s.get("variationKey").and_then(Value::as_str))
        .collect();
    for key in &served {
        let by_field =
            variations.and_then(|v| v.values().find(|var| var.get("key").and_then(Value::as_str) == Some(key)));
        let by_map_key = variations.and_then(|v| v.get(*key));
        match (by_field, by_map_key) {
            (None, None) => {
                out.insert("variation:missing".into());
            }
            (Some(_), None) | (None, Some(_)) => {
                out.insert("variation:key-mismatch".into());
            }
            _ => {}
        }
        if let (Some(variation), Some(variation_type)) = (by_field.or(by_map_key), parsed_type) {
            let value = variation.get("value").unwrap_or(&Value::Null);
            if variation_type.convert(value).is_none() {
                out.insert("variation:invalid-value".into());
            }
            if variation_type == VariationType::Json && value.as_str().map(str::trim) == Some("null") {
                out.insert("variation:json-null".into());
            }
        }
    }
    let mut read = BTreeSet::new();
    let mut compared = BTreeSet::new();
    for allocation in allocations {
        if allocation.get("startAt").is_some() || allocation.get("endAt").is_some() {
            out.insert("dates".into());
        }
        match allocation.get("doLog") {
            None => {
                out.insert("doLog:absent".into());
            }
            Some(Value::Bool(false)) => {
                out.insert("doLog:false".into());
            }
            _ => {}
        }
        match allocation.get("rules") {
            Some(Value::Array(rules)) => {
                for condition in
                    rules.iter().flat_map(|r| r.get("conditions").and_then(Value::as_array).into_iter().flatten())
                {
                    condition_features(condition, out);
                    if let Some(attribute) = condition.get("attribute").and_then(Value::as_str) {
                        read.insert(attribute.to_owned());
                        let operator = condition.get("operator").and_then(Value::as_str).unwrap_or_default();
                        if ["GT", "GTE", "LT", "LTE"].contains(&operator) {
                            compared.insert(attribute.to_owned());
                        }
                    }
                }
            }
            Some(Value::Null) => {
                out.insert("rules:null".into());
            }
            _ => {}
        }
        let splits: &[Value] = allocation.get("splits").and_then(Value::as_array).map_or(&[], Vec::as_slice);
        if splits.is_empty() {
            out.insert("splits:none".into());
        }
        for split in splits {
            if split.get("extraLogging").is_some() {
                out.insert("extra-logging".into());
            }
            let shards: &[Value] = split.get("shards").and_then(Value::as_array).map_or(&[], Vec::as_slice);
            if !shards.is_empty() {
                out.insert("shards".into());
            }
            if shards.len() > 1 {
                out.insert("shards:layered".into());
            }
            if shards.iter().any(|s| s.get("ranges").and_then(Value::as_array).is_some_and(|r| r.len() > 1)) {
                out.insert("shards:multiple-ranges".into());
            }
        }
    }
    // JS `Number(true)` is 1; RS compares no bool (spec 8.2).
    if compared.iter().any(|attribute| attributes.get(attribute).is_some_and(Value::is_boolean)) {
        out.insert("attr:bool-compared".into());
    }
    for attribute in &read {
        attribute_features(attribute, attributes.get(attribute), out);
    }
}

fn condition_features(condition: &Value, out: &mut BTreeSet<String>) {
    let operator = condition.get("operator").and_then(Value::as_str).unwrap_or("?");
    let attribute = condition.get("attribute").and_then(Value::as_str).unwrap_or("");
    let value = condition.get("value").unwrap_or(&Value::Null);
    out.insert(format!("op:{operator}"));
    // What the reference makes of the condition: invalid ones are where
    // RS and JS part ways most (spec 8.6–8.8).
    let compiled = Condition::compile(attribute, operator, value);
    if matches!(compiled.check, Check::Invalid { .. }) {
        out.insert(format!("{operator}:invalid"));
    }
    match operator {
        "MATCHES" | "NOT_MATCHES" => {
            let Some(pattern) = value.as_str() else {
                out.insert("regex:non-string".into());
                return;
            };
            if pattern.contains("(?i") {
                out.insert("regex:inline-flag".into());
            }
            if ["(?=", "(?!", "(?<=", "(?<!"].iter().any(|p| pattern.contains(p)) {
                out.insert("regex:look-around".into());
            }
            if (1..=9).any(|d| pattern.contains(&format!("\\{d}"))) {
                out.insert("regex:back-reference".into());
            }
            if ["\\d", "\\w", "\\s", "\\b", "\\p"].iter().any(|p| pattern.contains(p)) {
                out.insert("regex:class-escape".into());
            }
        }
        "GT" | "GTE" | "LT" | "LTE" => match value {
            Value::Number(_) => {
                out.insert("compare:number".into());
            }
            Value::String(s) => {
                if semver::Version::parse(s).is_ok() {
                    out.insert("compare:semver".into());
                    if s.contains('+') {
                        out.insert("compare:semver-build".into());
                    }
                    if s.contains('-') {
                        out.insert("compare:semver-prerelease".into());
                    }
                } else if s.parse::<f64>().is_ok() {
                    out.insert("compare:numeric-string".into());
                } else if lenient_semver(s) {
                    out.insert("compare:semver-lenient".into());
                }
            }
            _ => {}
        },
        "ONE_OF" | "NOT_ONE_OF" => {
            if let Value::Array(items) = value {
                if items.iter().any(|i| !i.is_string()) {
                    out.insert("one-of:non-string".into());
                }
                if items
                    .iter()
                    .filter_map(Value::as_str)
                    .any(|s| !s.trim().is_empty() && s.trim().parse::<f64>().is_ok())
                {
                    out.insert("one-of:number-like".into());
                }
            }
        }
        "IS_NULL" if !value.is_boolean() => {
            out.insert("is-null:non-bool".into());
        }
        _ => {}
    }
}

/// A version JS accepts and RS does not: a `v` prefix or surrounding space.
fn lenient_semver(s: &str) -> bool {
    let trimmed = s.trim();
    let bare = trimmed.strip_prefix('v').or_else(|| trimmed.strip_prefix('V')).unwrap_or(trimmed);
    bare != s && semver::Version::parse(bare).is_ok()
}

/// Whether JS prints this number differently from Rust's `f64` display
/// (exponent notation at and above 1e21 and below 1e-6; `-0` as `0`).
pub fn renders_differently_in_js(n: f64) -> bool {
    let magnitude = n.abs();
    (n == 0.0 && n.is_sign_negative()) || magnitude >= 1e21 || (magnitude > 0.0 && magnitude < 1e-6)
}

fn attribute_features(name: &str, value: Option<&Value>, out: &mut BTreeSet<String>) {
    match value {
        None if name == "id" => {
            out.insert("attr:id-fallback".into());
        }
        None => {
            out.insert("attr:missing".into());
        }
        Some(Value::Null) => {
            out.insert("attr:null".into());
        }
        Some(Value::Bool(_)) => {
            out.insert("attr:bool".into());
        }
        Some(Value::Number(n)) => {
            out.insert("attr:number".into());
            if n.as_f64().is_some_and(renders_differently_in_js) {
                out.insert("attr:number-exotic".into());
            }
            if n.as_i64().map_or(n.is_u64(), |i| i.unsigned_abs() > 1 << 53) {
                out.insert("attr:number-beyond-2^53".into());
            }
        }
        Some(Value::String(s)) => {
            out.insert("attr:string".into());
            // JS `Number(x)` accepts these, Rust's parser does not (spec 8.2).
            let trimmed = s.trim();
            let js_number = trimmed.is_empty()
                || trimmed.starts_with("0x")
                || trimmed.starts_with("0X")
                || trimmed == "Infinity"
                || (trimmed != s && trimmed.parse::<f64>().is_ok());
            if js_number && s.parse::<f64>().is_err() {
                out.insert("attr:string-number-lenient".into());
            }
            if lenient_semver(s) {
                out.insert("attr:string-semver-lenient".into());
            }
            if !s.is_ascii() {
                out.insert("attr:string-non-ascii".into());
            }
        }
        Some(_) => {
            out.insert("attr:structured".into());
        }
    }
}

fn bandit_features(scenario: &Scenario, case: &ufc_protocol::BanditCase, out: &mut BTreeSet<String>) {
    let has = |key: &str| scenario.flags.get(key).is_some_and(|v| v.as_object().is_some_and(|m| !m.is_empty()));
    match (has("bandits"), has("banditReferences")) {
        (true, false) => {
            out.insert("bandit:links-bandits-only".into());
        }
        (false, true) => {
            out.insert("bandit:links-references-only".into());
        }
        (false, false) => {
            out.insert("bandit:no-links".into());
        }
        (true, true) => {}
    }
    let models = scenario.bandit_models.as_ref().and_then(|m| m.get("bandits")).and_then(Value::as_object);
    let linked: BTreeSet<&str> = scenario
        .flags
        .get("bandits")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|m| m.keys().map(String::as_str))
        .chain(
            scenario
                .flags
                .get("banditReferences")
                .and_then(Value::as_object)
                .into_iter()
                .flat_map(|m| m.keys().map(String::as_str)),
        )
        .collect();
    if linked.iter().any(|key| !models.is_some_and(|m| m.contains_key(*key))) {
        out.insert("bandit:model-missing".into());
    }
    if case.actions.is_empty() {
        out.insert("bandit:no-actions".into());
    }
    let keys: Vec<&str> = case.actions.iter().map(|a| a.action_key.as_str()).collect();
    if keys.iter().collect::<BTreeSet<_>>().len() < keys.len() {
        out.insert("bandit:duplicate-action".into());
    }
    if keys.iter().any(|k| !k.is_ascii()) {
        out.insert("bandit:non-ascii-action-key".into());
    }
    let contexts = std::iter::once(&case.subject_attributes).chain(case.actions.iter().map(|a| &a.attributes));
    for context in contexts {
        if context.numeric_attributes.values().any(|v| !v.is_number()) {
            out.insert("bandit:numeric-not-a-number".into());
        }
        for value in context.categorical_attributes.values() {
            match value {
                Value::String(s) if s.is_empty() => {
                    out.insert("bandit:categorical-empty".into());
                }
                Value::Number(n) => {
                    out.insert("bandit:categorical-number".into());
                    if n.as_f64().is_some_and(renders_differently_in_js) {
                        out.insert("bandit:categorical-number-exotic".into());
                    }
                }
                Value::Bool(_) => {
                    out.insert("bandit:categorical-bool".into());
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observation::{Details, Event, Observation};
    use serde_json::json;

    fn info(name: &str, capabilities: &[&str]) -> PartyInfo {
        PartyInfo {
            name: name.into(),
            sdk: ufc_protocol::SdkInfo::default(),
            capabilities: ufc_protocol::Capabilities::new(
                capabilities.iter().map(|c| ufc_protocol::Capability::parse(c)),
            ),
        }
    }

    fn flag_input() -> CaseInput {
        CaseInput::Flag(ufc_protocol::FlagCase {
            flag: "f".into(),
            variation_type: ufc_protocol::VariationType::Integer,
            default_value: json!(0),
            subject_key: "s".into(),
            subject_attributes: Map::new(),
        })
    }

    /// An answer serving `value`, with a details code and assignment events
    /// when given.
    fn served(value: Value, code: Option<&str>, assignment_events: usize) -> Answer {
        Answer::Observed(Observation {
            value: Json(value),
            details: code.map(|code| Details { flag_evaluation_code: Some(Some(code.into())), ..Details::default() }),
            assignment_events: vec![Event::default(); assignment_events],
            bandit_events: Vec::new(),
        })
    }

    #[test]
    fn values_are_compared_with_their_types() {
        let all = info("a", &["assign", "details", "events"]);
        let input = flag_input();
        let (one, one_float, one_string) =
            (served(json!(1), None, 0), served(json!(1.0), None, 0), served(json!("1"), None, 0));
        let facts = [
            Some(observe(&all, &input, &one)),
            Some(observe(&all, &input, &one_float)),
            Some(observe(&all, &input, &one_string)),
        ];
        let d = disagreement(&["r", "x", "y"], &facts).expect("a disagreement");
        assert_eq!(d.classes, vec![vec!["r".to_owned(), "x".to_owned()], vec!["y".to_owned()]]);
        assert_eq!(d.fields, vec![Field::Value]);
    }

    #[test]
    fn an_error_differs_from_an_answer_and_only_in_that() {
        let all = info("a", &["assign", "details", "events"]);
        let input = flag_input();
        let (raised, answer) = (Answer::Raised("boom".into()), served(json!(1), Some("MATCH"), 1));
        let facts = [Some(observe(&all, &input, &answer)), Some(observe(&all, &input, &raised))];
        let d = disagreement(&["r", "x"], &facts).expect("a disagreement");
        assert_eq!(d.fields, vec![Field::Error]);
        let other = Answer::Raised("another message".into());
        let facts = [Some(observe(&all, &input, &raised)), Some(observe(&all, &input, &other))];
        assert_eq!(disagreement(&["r", "x"], &facts), None, "two errors agree whatever they say");
    }

    #[test]
    fn details_and_events_count_only_where_both_parties_report_them() {
        let full = info("r", &["assign", "details", "events"]);
        let bare = info("b", &["assign"]);
        let input = flag_input();
        let reference = served(json!(1), Some("MATCH"), 1);
        let plain = served(json!(1), None, 0);
        let facts = [Some(observe(&full, &input, &reference)), Some(observe(&bare, &input, &plain))];
        assert_eq!(disagreement(&["r", "b"], &facts), None);
        let other = served(json!(1), Some("ASSIGNMENT_ERROR"), 0);
        let facts = [Some(observe(&full, &input, &reference)), Some(observe(&full, &input, &other))];
        let d = disagreement(&["r", "o"], &facts).expect("a disagreement");
        assert_eq!(d.fields, vec![Field::DetailsCode, Field::AssignmentEvent]);
        assert_eq!(d.field(), Field::DetailsCode);
        let value_too = Disagreement { fields: vec![Field::Value, Field::DetailsCode], ..d.clone() };
        assert!(d.same_kind(&value_too));
        let events_only = Disagreement { fields: vec![Field::AssignmentEvent], ..d.clone() };
        assert!(!d.same_kind(&events_only));
    }

    #[test]
    fn slugs_are_plain_and_distinct() {
        let s = Signature {
            classes: vec![vec!["reference".into(), "python".into()], vec!["node".into()]],
            field: Field::Value,
            features: vec!["op:ONE_OF".into(), "attr:number-exotic".into()],
        };
        let slug = s.slug();
        assert!(slug.starts_with("value--reference_python-vs-node--op-one_of--attr-number-exotic--"), "{slug}");
        let many = Signature {
            features: [
                "attr:number",
                "attr:number-exotic",
                "attr:string",
                "one-of:number-like",
                "doLog:absent",
                "op:ONE_OF",
            ]
            .map(String::from)
            .to_vec(),
            ..s.clone()
        };
        assert!(
            many.slug().starts_with("value--reference_python-vs-node--op-one_of--attr-number-exotic--"),
            "{}",
            many.slug()
        );
        assert!(many.slug().len() <= 110, "{}", many.slug());
        assert!(slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_'), "{slug}");
        let other = Signature { features: vec!["op:ONE_OF".into()], ..s.clone() };
        assert_ne!(slug, other.slug());
    }

    #[test]
    fn js_renders_exotic_numbers_differently() {
        assert!(renders_differently_in_js(1e21));
        assert!(renders_differently_in_js(1e-7));
        assert!(renders_differently_in_js(-0.0));
        assert!(!renders_differently_in_js(0.0));
        assert!(!renders_differently_in_js(1.5));
        assert!(!renders_differently_in_js(1e20));
    }
}
