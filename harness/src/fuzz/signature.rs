//! What a disagreement is and how it is named.
//!
//! Each party's answer is compared with the reference's, field by field,
//! with the severities `run` uses ([`Field::severity`]): whether it raised,
//! the value (typed: `1` and `"1"` differ), every field of the details
//! (only between parties that both give details), and the events (only
//! between parties that both report them: whether one was logged, and its
//! fields, timestamps and metadata aside).
//!
//! A **disagreement** on one case is the partition of the parties into
//! classes that answered alike. It is made of **deviations**: parties that
//! differ from the reference in the same way, that is on the same most
//! telling kind of field ([`Field::kind`]) and alike among themselves on
//! it. A deviation is what a finding is about, so that one party's
//! divergence is one finding whatever the other parties do on that case;
//! lesser fields of the same parties (events that follow from another
//! value) come and go with it. The minimizer keeps a candidate only if it
//! shows the same deviation ([`Deviation::same_as`]).
//!
//! A **signature** is the deviating parties, the most telling field, and the
//! typed features ([`Feature`]) of the minimized case. Findings are kept one
//! per known cause and deviation ([`Signature::cause_key`]), else one per
//! signature.

use std::collections::BTreeSet;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::feature::Feature;
use crate::observation::{Answer, Details, Event, Observation};
use crate::party::{AnswerPart, PartyInfo};
use ufc_protocol::report::Severity;
use ufc_protocol::CaseInput;

/// A field of the details other than the code and the description.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DetailsField {
    /// `environmentName`.
    EnvironmentName,
    /// `banditKey`.
    BanditKey,
    /// `banditAction`.
    BanditAction,
    /// `variationKey`.
    VariationKey,
    /// `variationValue`.
    VariationValue,
    /// `matchedRule`.
    MatchedRule,
    /// `matchedAllocation`.
    MatchedAllocation,
    /// `unmatchedAllocations`.
    UnmatchedAllocations,
    /// `unevaluatedAllocations`.
    UnevaluatedAllocations,
    /// A field outside the shared shape.
    Other,
}

/// A field on which parties can disagree, most telling first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    /// One party raised an error where another answered.
    Error,
    /// The served value (bandits: `{variation, action}`).
    Value,
    /// `details.flagEvaluationCode`.
    DetailsCode,
    /// Another field of the details' content.
    Details(DetailsField),
    /// `details.flagEvaluationDescription`: wording.
    DetailsWording,
    /// Whether (how many) assignment events were logged.
    AssignmentEvent,
    /// A field both parties' assignment events have, with other values.
    AssignmentEventContent,
    /// Whether (how many) bandit events were logged.
    BanditEvent,
    /// A field both parties' bandit events have, with other values.
    BanditEventContent,
    /// An event field one party logs and the other does not.
    EventExtraField,
}

impl Field {
    /// The name: `value`, `details-code`, `details.matchedRule`...
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Error => "error",
            Field::Value => "value",
            Field::DetailsCode => "details-code",
            Field::Details(field) => match field {
                DetailsField::EnvironmentName => "details.environmentName",
                DetailsField::BanditKey => "details.banditKey",
                DetailsField::BanditAction => "details.banditAction",
                DetailsField::VariationKey => "details.variationKey",
                DetailsField::VariationValue => "details.variationValue",
                DetailsField::MatchedRule => "details.matchedRule",
                DetailsField::MatchedAllocation => "details.matchedAllocation",
                DetailsField::UnmatchedAllocations => "details.unmatchedAllocations",
                DetailsField::UnevaluatedAllocations => "details.unevaluatedAllocations",
                DetailsField::Other => "details.other",
            },
            Field::DetailsWording => "details-wording",
            Field::AssignmentEvent => "assignment-event",
            Field::AssignmentEventContent => "assignment-event-content",
            Field::BanditEvent => "bandit-event",
            Field::BanditEventContent => "bandit-event-content",
            Field::EventExtraField => "event-extra-field",
        }
    }

    /// How much it matters, as `run` rates the same field.
    pub fn severity(self) -> Severity {
        match self {
            Field::Error | Field::Value => Severity::Critical,
            Field::DetailsWording | Field::EventExtraField => Severity::Minor,
            _ => Severity::Major,
        }
    }

    /// Fields of one kind tell of one divergence. A value and a details
    /// code are one kind: both say the evaluation went another way, and
    /// whether the value shows it depends only on whether the default
    /// happens to equal the variation served.
    pub fn kind(self) -> u8 {
        match self {
            Field::Error => 0,
            Field::Value | Field::DetailsCode => 1,
            Field::Details(_) => 2,
            Field::DetailsWording => 3,
            Field::AssignmentEvent | Field::AssignmentEventContent => 4,
            Field::BanditEvent | Field::BanditEventContent => 5,
            Field::EventExtraField => 6,
        }
    }

    /// The part of an answer the field is in.
    pub fn part(self) -> AnswerPart {
        match self {
            Field::Error | Field::Value => AnswerPart::Value,
            Field::DetailsCode | Field::Details(_) | Field::DetailsWording => AnswerPart::Details,
            Field::AssignmentEvent | Field::AssignmentEventContent | Field::EventExtraField => {
                AnswerPart::AssignmentEvents
            }
            Field::BanditEvent | Field::BanditEventContent => AnswerPart::BanditEvents,
        }
    }
}

impl Field {
    /// Every field, most telling first.
    pub const ALL: [Field; 19] = [
        Field::Error,
        Field::Value,
        Field::DetailsCode,
        Field::Details(DetailsField::EnvironmentName),
        Field::Details(DetailsField::BanditKey),
        Field::Details(DetailsField::BanditAction),
        Field::Details(DetailsField::VariationKey),
        Field::Details(DetailsField::VariationValue),
        Field::Details(DetailsField::MatchedRule),
        Field::Details(DetailsField::MatchedAllocation),
        Field::Details(DetailsField::UnmatchedAllocations),
        Field::Details(DetailsField::UnevaluatedAllocations),
        Field::Details(DetailsField::Other),
        Field::DetailsWording,
        Field::AssignmentEvent,
        Field::AssignmentEventContent,
        Field::BanditEvent,
        Field::BanditEventContent,
        Field::EventExtraField,
    ];

    /// The field [`Field::as_str`] names.
    pub fn parse(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.as_str() == name)
    }
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Field::parse(&name).ok_or_else(|| serde::de::Error::custom(format!("unknown field {name:?}")))
    }
}

impl Serialize for Field {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Which parties answered alike, and on what the classes differ.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Disagreement {
    /// Classes of parties that answered alike, by name; the class of the
    /// first party (the reference) comes first, the others in party order.
    pub classes: Vec<Vec<String>>,
    /// The fields on which some two classes differ, most telling first.
    pub fields: Vec<Field>,
    /// The ways parties differ from the reference.
    pub deviations: Vec<Deviation>,
}

/// Parties that differ from the reference in one way.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Deviation {
    /// The parties, in party order.
    pub parties: Vec<String>,
    /// The fields on which they differ from the reference, most telling first.
    pub fields: Vec<Field>,
}

impl Deviation {
    /// The most telling field.
    pub fn field(&self) -> Field {
        self.fields.first().copied().unwrap_or(Field::Value)
    }

    /// How much it matters: its most severe field.
    pub fn severity(&self) -> Severity {
        self.fields.iter().map(|f| f.severity()).min().unwrap_or(Severity::Minor)
    }

    /// Whether `other` is the same deviation, as far as minimizing and
    /// deduplicating go: the same parties, and a most telling field of the
    /// same kind.
    pub fn same_as(&self, other: &Deviation) -> bool {
        self.parties == other.parties && self.field().kind() == other.field().kind()
    }
}

/// A deviation's parties and most telling field, plus the features of
/// its minimized case: what a finding is, and what makes two the same.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Signature {
    /// The parties that differ from the reference.
    pub parties: Vec<String>,
    /// The most telling field that differs.
    pub field: Field,
    /// What the minimized case involves, sorted.
    pub features: Vec<Feature>,
}

/// A known cause: the features that name it, and the kinds of field it
/// shows in (any, when empty). A cause with no features is named by the
/// field alone.
struct Cause {
    id: &'static str,
    features: &'static [&'static str],
    kinds: &'static [u8],
}

const fn cause(id: &'static str, features: &'static [&'static str]) -> Cause {
    Cause { id, features, kinds: &[] }
}

/// Value and details code (see [`Field::kind`]).
const EVALUATION: &[u8] = &[1];
/// The other details fields and the wording.
const DETAILS: &[u8] = &[2, 3];

/// Known causes, most specific first. A finding is filed under the first
/// cause whose features its minimized case has and whose kinds include its
/// field's; the ids are those of `test-cases/divergences/` and
/// `docs/divergences.md`.
const CAUSES: &[Cause] = &[
    Cause { id: "event-extra-fields", features: &[], kinds: &[6] },
    Cause {
        id: "rs-description-escapes",
        features: &["allocation-key:control", "variation-key:control", "subject-key:control", "flag-key:control"],
        kinds: &[3],
    },
    Cause { id: "duplicate-allocation-keys", features: &["allocation:duplicate-key"], kinds: DETAILS },
    Cause { id: "rs-details-comparison-values-as-strings", features: &["compare:number"], kinds: &[2] },
    Cause { id: "python-details-json-null", features: &["variation:json-null"], kinds: &[2] },
    cause("duplicate-variation-keys", &["variation:duplicate-key"]),
    cause("one-of-non-string-elements", &["one-of:non-string"]),
    cause("regex-look-ahead", &["regex:look-around", "regex:back-reference"]),
    cause("regex-inline-flag", &["regex:inline-flag"]),
    cause("regex-unicode-digit", &["regex:class-escape"]),
    cause("invalid-regex", &["regex:non-string", "MATCHES:invalid", "NOT_MATCHES:invalid"]),
    cause("is-null-non-bool", &["is-null:non-bool", "IS_NULL:invalid"]),
    cause("one-of-number-rendering", &["one-of:number-like", "attr:number-exotic", "bandit:categorical-number-exotic"]),
    cause("numeric-string-parsing", &["compare:numeric-string", "attr:string-number-lenient", "attr:bool-compared"]),
    cause("semver-build-metadata", &["compare:semver-build"]),
    cause("semver-v-prefix", &["compare:semver-lenient", "attr:string-semver-lenient"]),
    cause("invalid-operator-values", &["GT:invalid", "GTE:invalid", "LT:invalid", "LTE:invalid"]),
    cause("rules-null", &["rules:null"]),
    cause("invalid-variation-value", &["variation:invalid-value"]),
    Cause { id: "json-null-variation", features: &["variation:json-null"], kinds: EVALUATION },
    cause("variation-key-mismatch", &["variation:key-mismatch"]),
    cause("split-names-missing-variation", &["variation:missing"]),
    cause("disabled-flag-wrong-type", &["disabled"]),
    cause("blank-subject-key", &["subject-key:blank"]),
    Cause { id: "type-mismatch-allocation-lists", features: &["type-mismatch"], kinds: DETAILS },
    Cause { id: "missing-do-log", features: &["doLog:absent"], kinds: &[4] },
    Cause { id: "rs-extra-logging-overrides-event-fields", features: &["extra-logging"], kinds: &[4] },
    cause("leap-second-date", &["dates:leap-second"]),
    cause("non-rfc3339-date", &["dates:invalid", "dates:not-a-string"]),
    Cause { id: "integer-1e20", features: &["variation-type:INTEGER"], kinds: EVALUATION },
    cause("bandit-categorical-empty-string", &["bandit:categorical-empty"]),
    cause("bandit-tie-break-utf16", &["bandit:non-ascii-action-key"]),
    cause("bandit-links-one-map-only", &["bandit:links-bandits-only", "bandit:links-references-only"]),
    cause("bandit-no-actions", &["bandit:no-actions"]),
    cause("bandit-model-missing", &["bandit:model-missing"]),
    cause(
        "bandit-dynamic-typing",
        &[
            "bandit:numeric-not-a-number",
            "bandit:categorical-bool",
            "bandit:categorical-number",
            "bandit:categorical-null",
        ],
    ),
    Cause { id: "js-blank-action-key", features: &["action-key:blank"], kinds: EVALUATION },
    Cause { id: "rs-float-parsing-precision", features: &["variation:long-decimal"], kinds: EVALUATION },
    Cause { id: "js-json-number-precision", features: &["variation:json-big-integer"], kinds: EVALUATION },
    // Last: generated models often hold such numbers, and a more telling
    // feature should name the cause when there is one.
    cause("rs-float-parsing-precision", &["bandit:long-decimal"]),
];

impl Signature {
    /// A signature from a deviation and features.
    pub fn new(deviation: &Deviation, features: Vec<Feature>) -> Signature {
        Signature { parties: deviation.parties.clone(), field: deviation.field(), features }
    }

    /// The known cause this signature's features point to, if any.
    pub fn cause(&self) -> Option<&'static str> {
        let names: Vec<String> = self.features.iter().map(|f| f.name()).collect();
        let kind = self.field.kind();
        CAUSES
            .iter()
            .filter(|c| c.kinds.is_empty() || c.kinds.contains(&kind))
            .find(|c| c.features.is_empty() || c.features.iter().any(|f| names.iter().any(|g| g == f)))
            .map(|c| c.id)
    }

    /// What makes two findings one: the cause, the deviating parties and
    /// the kind of field when the cause is known, else the whole signature.
    pub fn cause_key(&self) -> String {
        match self.cause() {
            Some(cause) => format!("{cause} | {} | kind {}", self.parties.join("+"), self.field.kind()),
            None => self.text(),
        }
    }

    /// Whether the signature says anything about a cause: it has a feature
    /// that is more than a description of what is there.
    pub fn is_telling(&self) -> bool {
        self.features.iter().any(|f| !f.is_descriptive())
    }

    /// `value | node vs reference | op:ONE_OF, attr:number-exotic`.
    pub fn text(&self) -> String {
        let features = if self.features.is_empty() {
            "no particular feature".to_owned()
        } else {
            self.features.iter().map(|f| f.name()).collect::<Vec<_>>().join(", ")
        };
        format!("{} | {} vs reference | {}", self.field.as_str(), self.parties.join("+"), features)
    }

    /// A directory name: readable, at most about 100 characters, unique per
    /// signature (a hash of the full text ends it).
    pub fn slug(&self) -> String {
        let mut readable = format!("{}--{}-vs-reference", self.field.as_str(), self.parties.join("+"));
        // The odd features first, operators next, plain descriptions last:
        // the name should say what is involved before it runs out of room.
        let mut by_weight: Vec<&Feature> = self.features.iter().collect();
        by_weight.sort_by_key(|f| match f {
            _ if !f.is_descriptive() => 0,
            Feature::Op(_) => 1,
            _ => 2,
        });
        for feature in by_weight {
            let name = feature.name();
            if readable.len() + name.len() > 90 {
                break;
            }
            readable.push_str("--");
            readable.push_str(&name);
        }
        format!("{}--{:08x}", sanitize(&readable), fnv1a(self.text().as_bytes()) as u32)
    }
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

/// What one party answered for one case, with what of it is compared.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Facts<'a> {
    /// `None`: the party raised (compared as an error and nothing else).
    observation: Option<&'a Observation>,
    details: bool,
    /// Whether `matchedRule` is compared: not for a CLIENT configuration,
    /// whose rules the details echo hashed (as `run --obfuscated` does).
    matched_rule: bool,
    assignment_events: bool,
    bandit_events: bool,
}

/// What of an answer is compared, given what the party declared and
/// whether the configuration was obfuscated.
pub(crate) fn observe<'a>(info: &PartyInfo, input: &CaseInput, answer: &'a Answer, obfuscated: bool) -> Facts<'a> {
    let bandit = matches!(input, CaseInput::Bandit(_));
    Facts {
        observation: match answer {
            Answer::Observed(observation) => Some(observation),
            Answer::Raised(_) => None,
        },
        details: info.gives(AnswerPart::Details, bandit),
        matched_rule: !obfuscated,
        assignment_events: info.gives(AnswerPart::AssignmentEvents, bandit),
        bandit_events: bandit && info.gives(AnswerPart::BanditEvents, bandit),
    }
}

/// Fields below this severity are not compared.
pub(crate) fn differing_fields(a: &Facts<'_>, b: &Facts<'_>, least: Severity, out: &mut BTreeSet<Field>) {
    let mut add = |field: Field| {
        if field.severity() <= least {
            out.insert(field);
        }
    };
    let (Some(x), Some(y)) = (a.observation, b.observation) else {
        if a.observation.is_some() != b.observation.is_some() {
            add(Field::Error);
        }
        return;
    };
    if x.value != y.value {
        add(Field::Value);
    }
    if a.details && b.details {
        if let (Some(dx), Some(dy)) = (&x.details, &y.details) {
            details_fields(dx, dy, a.matched_rule && b.matched_rule, &mut add);
        }
    }
    if a.assignment_events && b.assignment_events {
        let (count, content) = (Field::AssignmentEvent, Field::AssignmentEventContent);
        event_fields(&x.assignment_events, &y.assignment_events, (count, content), &mut add);
    }
    if a.bandit_events && b.bandit_events {
        event_fields(&x.bandit_events, &y.bandit_events, (Field::BanditEvent, Field::BanditEventContent), &mut add);
    }
}

/// Compares two parties' details field by field; a field one of them does
/// not state is not compared.
fn details_fields(x: &Details, y: &Details, matched_rule: bool, add: &mut impl FnMut(Field)) {
    fn differs<T: PartialEq>(a: &Option<Option<T>>, b: &Option<Option<T>>) -> bool {
        matches!((a, b), (Some(a), Some(b)) if a != b)
    }
    let checks = [
        (differs(&x.flag_evaluation_code, &y.flag_evaluation_code), Field::DetailsCode),
        (differs(&x.flag_evaluation_description, &y.flag_evaluation_description), Field::DetailsWording),
        (differs(&x.environment_name, &y.environment_name), Field::Details(DetailsField::EnvironmentName)),
        (differs(&x.bandit_key, &y.bandit_key), Field::Details(DetailsField::BanditKey)),
        (differs(&x.bandit_action, &y.bandit_action), Field::Details(DetailsField::BanditAction)),
        (differs(&x.variation_key, &y.variation_key), Field::Details(DetailsField::VariationKey)),
        (differs(&x.variation_value, &y.variation_value), Field::Details(DetailsField::VariationValue)),
        (matched_rule && differs(&x.matched_rule, &y.matched_rule), Field::Details(DetailsField::MatchedRule)),
        (differs(&x.matched_allocation, &y.matched_allocation), Field::Details(DetailsField::MatchedAllocation)),
        (
            differs(&x.unmatched_allocations, &y.unmatched_allocations),
            Field::Details(DetailsField::UnmatchedAllocations),
        ),
        (
            differs(&x.unevaluated_allocations, &y.unevaluated_allocations),
            Field::Details(DetailsField::UnevaluatedAllocations),
        ),
    ];
    for (differ, field) in checks {
        if differ {
            add(field);
        }
    }
    let other_differs = x.other.iter().any(|(key, value)| y.other.iter().any(|(k, v)| k == key && v != value));
    if other_differs {
        add(Field::Details(DetailsField::Other));
    }
}

/// Compares two parties' events: how many, then each field both have
/// (timestamps and metadata aside, as `run` does), then fields only one has.
fn event_fields(x: &[Event], y: &[Event], (count, content): (Field, Field), add: &mut impl FnMut(Field)) {
    if x.len() != y.len() {
        add(count);
        return;
    }
    for (a, b) in x.iter().zip(y) {
        for (key, value) in a.fields.iter().filter(|(key, _)| crate::compare::event_field_compared(key)) {
            match b.get(key) {
                // The `evaluationDetails` some cores attach carry their own
                // clock readings: those never agree.
                Some(other)
                    if other != value
                        && crate::compare::without_clock(other.as_value())
                            != crate::compare::without_clock(value.as_value()) =>
                {
                    add(content)
                }
                Some(_) => {}
                None => add(Field::EventExtraField),
            }
        }
        if b.fields.iter().any(|(key, _)| crate::compare::event_field_compared(key) && a.get(key).is_none()) {
            add(Field::EventExtraField);
        }
    }
}

/// The disagreement among the parties that answered (`None` entries did
/// not take part), or `None` when they all agree on every field at least as
/// severe as `least`. The first party is the reference and must have
/// answered.
pub(crate) fn disagreement(names: &[&str], facts: &[Option<Facts<'_>>], least: Severity) -> Option<Disagreement> {
    let reference = facts.first()?.as_ref()?;
    let name = |i: usize| names.get(i).copied().unwrap_or("?").to_owned();
    // How each party differs from the reference.
    let differences: Vec<Option<BTreeSet<Field>>> = facts
        .iter()
        .map(|party| {
            let mut fields = BTreeSet::new();
            differing_fields(reference, party.as_ref()?, least, &mut fields);
            Some(fields)
        })
        .collect();
    if differences.iter().flatten().all(BTreeSet::is_empty) {
        return None;
    }
    // Classes: a party joins the first class whose first member it agrees
    // with on every field both report.
    let mut classes: Vec<(usize, Vec<usize>)> = Vec::new();
    for (index, party) in facts.iter().enumerate() {
        let Some(party) = party else { continue };
        let home = classes.iter_mut().find(|(representative, _)| {
            let mut fields = BTreeSet::new();
            if let Some(rep) = &facts[*representative] {
                differing_fields(rep, party, least, &mut fields);
            }
            fields.is_empty()
        });
        match home {
            Some((_, members)) => members.push(index),
            None => classes.push((index, vec![index])),
        }
    }
    let mut fields = BTreeSet::new();
    for (i, (a, _)) in classes.iter().enumerate() {
        for (b, _) in &classes[i + 1..] {
            if let (Some(x), Some(y)) = (&facts[*a], &facts[*b]) {
                differing_fields(x, y, least, &mut fields);
            }
        }
    }
    // Deviations: parties whose most telling difference from the reference
    // is of one kind, alike among themselves on that kind.
    let mut deviations: Vec<(usize, u8, Vec<usize>, BTreeSet<Field>)> = Vec::new();
    for (index, party_fields) in differences.iter().enumerate() {
        let Some(top) = party_fields.as_ref().and_then(|f| f.first()).map(|f| f.kind()) else { continue };
        let party_fields = party_fields.as_ref().cloned().unwrap_or_default();
        let alike = |representative: usize| {
            let mut between = BTreeSet::new();
            if let (Some(a), Some(b)) = (&facts[representative], &facts[index]) {
                differing_fields(a, b, least, &mut between);
            }
            !between.iter().any(|f| f.kind() == top)
        };
        match deviations.iter_mut().find(|(rep, kind, _, _)| *kind == top && alike(*rep)) {
            Some((_, _, members, all)) => {
                members.push(index);
                all.extend(party_fields);
            }
            None => deviations.push((index, top, vec![index], party_fields)),
        }
    }
    Some(Disagreement {
        classes: classes.into_iter().map(|(_, members)| members.into_iter().map(name).collect()).collect(),
        fields: fields.into_iter().collect(),
        deviations: deviations
            .into_iter()
            .map(|(_, _, members, all)| Deviation {
                parties: members.into_iter().map(name).collect(),
                fields: all.into_iter().collect(),
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzz::feature::{Operator, Position, TextShape};
    use crate::observation::{Details, Event, Json, Observation};
    use serde_json::{json, Map, Value};

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

    fn names(parties: &[&str]) -> Vec<String> {
        parties.iter().map(|p| (*p).to_owned()).collect()
    }

    #[test]
    fn values_are_compared_with_their_types() {
        let all = info("a", &["assign", "details", "events"]);
        let input = flag_input();
        let (one, one_float, one_string) =
            (served(json!(1), None, 0), served(json!(1.0), None, 0), served(json!("1"), None, 0));
        let facts = [
            Some(observe(&all, &input, &one, false)),
            Some(observe(&all, &input, &one_float, false)),
            Some(observe(&all, &input, &one_string, false)),
        ];
        let d = disagreement(&["r", "x", "y"], &facts, Severity::Minor).expect("a disagreement");
        assert_eq!(d.classes, vec![names(&["r", "x"]), names(&["y"])]);
        assert_eq!(d.fields, vec![Field::Value]);
        assert_eq!(d.deviations, vec![Deviation { parties: names(&["y"]), fields: vec![Field::Value] }]);
    }

    #[test]
    fn an_error_differs_from_an_answer_and_only_in_that() {
        let all = info("a", &["assign", "details", "events"]);
        let input = flag_input();
        let (raised, answer) = (Answer::Raised("boom".into()), served(json!(1), Some("MATCH"), 1));
        let facts = [Some(observe(&all, &input, &answer, false)), Some(observe(&all, &input, &raised, false))];
        let d = disagreement(&["r", "x"], &facts, Severity::Minor).expect("a disagreement");
        assert_eq!(d.fields, vec![Field::Error]);
        let other = Answer::Raised("another message".into());
        let facts = [Some(observe(&all, &input, &raised, false)), Some(observe(&all, &input, &other, false))];
        assert_eq!(disagreement(&["r", "x"], &facts, Severity::Minor), None, "two errors agree whatever they say");
    }

    #[test]
    fn details_and_events_count_only_where_both_parties_report_them() {
        let full = info("r", &["assign", "details", "events"]);
        let bare = info("b", &["assign"]);
        let input = flag_input();
        let reference = served(json!(1), Some("MATCH"), 1);
        let plain = served(json!(1), None, 0);
        let facts = [Some(observe(&full, &input, &reference, false)), Some(observe(&bare, &input, &plain, false))];
        assert_eq!(disagreement(&["r", "b"], &facts, Severity::Minor), None);
        let other = served(json!(1), Some("ASSIGNMENT_ERROR"), 0);
        let facts = [Some(observe(&full, &input, &reference, false)), Some(observe(&full, &input, &other, false))];
        let d = disagreement(&["r", "o"], &facts, Severity::Minor).expect("a disagreement");
        assert_eq!(d.fields, vec![Field::DetailsCode, Field::AssignmentEvent]);
        assert_eq!(d.deviations[0].field(), Field::DetailsCode);
        let value_too = Deviation { fields: vec![Field::Value, Field::DetailsCode], ..d.deviations[0].clone() };
        assert!(d.deviations[0].same_as(&value_too));
        let events_only = Deviation { fields: vec![Field::AssignmentEvent], ..d.deviations[0].clone() };
        assert!(!d.deviations[0].same_as(&events_only));
    }

    #[test]
    fn details_are_compared_field_by_field_with_severities() {
        let full = info("r", &["assign", "details"]);
        let input = flag_input();
        let details = |rule: Value, description: &str| {
            Answer::Observed(Observation {
                value: Json(json!(1)),
                details: Some(Details {
                    flag_evaluation_code: Some(Some("MATCH".into())),
                    flag_evaluation_description: Some(Some(description.into())),
                    matched_rule: Some(Some(Json(rule))),
                    ..Details::default()
                }),
                ..Observation::default()
            })
        };
        let reference = details(json!({"conditions": [{"value": 10}]}), "matched");
        let strings = details(json!({"conditions": [{"value": "10"}]}), "matched");
        let worded = details(json!({"conditions": [{"value": 10}]}), "it matched");
        let facts = [
            Some(observe(&full, &input, &reference, false)),
            Some(observe(&full, &input, &strings, false)),
            Some(observe(&full, &input, &worded, false)),
        ];
        let d = disagreement(&["r", "x", "y"], &facts, Severity::Minor).expect("a disagreement");
        assert_eq!(
            d.deviations,
            vec![
                Deviation { parties: names(&["x"]), fields: vec![Field::Details(DetailsField::MatchedRule)] },
                Deviation { parties: names(&["y"]), fields: vec![Field::DetailsWording] },
            ]
        );
        assert_eq!(d.deviations[0].severity(), Severity::Major);
        assert_eq!(d.deviations[1].severity(), Severity::Minor);
        let major = disagreement(&["r", "x", "y"], &facts, Severity::Major).expect("a disagreement");
        assert_eq!(major.deviations.len(), 1, "wording is below the threshold: {major:?}");
    }

    #[test]
    fn one_party_deviates_the_same_way_whatever_another_does() {
        let all = info("a", &["assign", "details", "events"]);
        let input = flag_input();
        let reference = served(json!(1), Some("MATCH"), 1);
        let raised = Answer::Raised("TypeError".into());
        let other_value = served(json!(2), Some("MATCH"), 1);
        let alone = [Some(observe(&all, &input, &reference, false)), Some(observe(&all, &input, &raised, false)), None];
        let with_another = [
            Some(observe(&all, &input, &reference, false)),
            Some(observe(&all, &input, &raised, false)),
            Some(observe(&all, &input, &other_value, false)),
        ];
        let a = disagreement(&["r", "p", "n"], &alone, Severity::Minor).expect("a disagreement");
        let b = disagreement(&["r", "p", "n"], &with_another, Severity::Minor).expect("a disagreement");
        assert_eq!(a.deviations[0], b.deviations[0], "p's deviation does not depend on n");
        assert_eq!(b.deviations.len(), 2);
        // When every SDK answers alike against the reference, they are one deviation.
        let agreeing = [
            Some(observe(&all, &input, &reference, false)),
            Some(observe(&all, &input, &other_value, false)),
            Some(observe(&all, &input, &other_value, false)),
        ];
        let c = disagreement(&["r", "p", "n"], &agreeing, Severity::Minor).expect("a disagreement");
        assert_eq!(c.deviations.len(), 1);
        assert_eq!(c.deviations[0].parties, names(&["p", "n"]));
    }

    #[test]
    fn fields_round_trip_through_their_names() {
        for field in Field::ALL {
            assert_eq!(Field::parse(field.as_str()), Some(field));
        }
        assert_eq!(Field::parse("nonsense"), None);
    }

    #[test]
    fn slugs_are_plain_and_distinct() {
        let s = Signature {
            parties: names(&["node"]),
            field: Field::Value,
            features: vec![Feature::Op(Operator::OneOf), Feature::AttrNumberExotic],
        };
        let slug = s.slug();
        assert!(slug.starts_with("value--node-vs-reference--attr-number-exotic--op-one_of--"), "{slug}");
        let many = Signature {
            features: vec![
                Feature::AttrNumber,
                Feature::AttrNumberExotic,
                Feature::AttrString,
                Feature::OneOfNumberLike,
                Feature::DoLogAbsent,
                Feature::Op(Operator::OneOf),
                Feature::Text(Position::SubjectKey, TextShape::NonAscii),
            ],
            ..s.clone()
        };
        assert!(many.slug().len() <= 110, "{}", many.slug());
        assert!(slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_'), "{slug}");
        let other = Signature { features: vec![Feature::Op(Operator::OneOf)], ..s.clone() };
        assert_ne!(slug, other.slug());
    }

    #[test]
    fn descriptive_signatures_are_not_telling() {
        let plain = Signature {
            parties: names(&["python"]),
            field: Field::Value,
            features: vec![Feature::Op(Operator::Gt), Feature::AttrNumber],
        };
        assert!(!plain.is_telling());
        assert_eq!(plain.cause(), None);
        let odd = Signature { features: vec![Feature::Op(Operator::Gt), Feature::AttrBoolCompared], ..plain.clone() };
        assert!(odd.is_telling());
        assert_eq!(odd.cause(), Some("numeric-string-parsing"));
        // A feature names a cause only in the kinds of field the cause shows in.
        let echoed = Signature { field: Field::Details(DetailsField::MatchedRule), ..plain.clone() };
        let echoed = Signature { features: vec![Feature::Op(Operator::Gt), Feature::CompareNumber], ..echoed };
        assert_eq!(echoed.cause(), Some("rs-details-comparison-values-as-strings"));
        assert_eq!(Signature { field: Field::Value, ..echoed }.cause(), None);
    }

    #[test]
    fn causes_the_fuzzer_found_are_named() {
        let on =
            |field: Field, feature: Feature| Signature { parties: names(&["node"]), field, features: vec![feature] };
        assert_eq!(on(Field::Value, Feature::DateLeapSecond).cause(), Some("leap-second-date"));
        assert_eq!(
            on(Field::Value, Feature::Text(Position::ActionKey, TextShape::Blank)).cause(),
            Some("js-blank-action-key")
        );
        assert_eq!(on(Field::Value, Feature::VariationLongDecimal).cause(), Some("rs-float-parsing-precision"));
        assert_eq!(on(Field::Error, Feature::BanditCategoricalNull).cause(), Some("bandit-dynamic-typing"));
        assert_eq!(on(Field::Value, Feature::VariationJsonBigInteger).cause(), Some("js-json-number-precision"));
        assert_eq!(
            on(Field::BanditEventContent, Feature::BanditLongDecimal).cause(),
            Some("rs-float-parsing-precision")
        );
        // A long decimal in a variation says nothing about an event.
        assert_eq!(on(Field::AssignmentEventContent, Feature::VariationLongDecimal).cause(), None);
    }
}
