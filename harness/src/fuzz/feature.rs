//! What a generated case involves, as typed features.
//!
//! A feature is read off the documents themselves (the configuration and
//! the case), never off the generator, so a minimized or replayed case has
//! the same features as a generated one. Features name what may explain a
//! divergence: the operators of the conditions a flag holds and what is
//! odd about their values, the kinds of the attributes they read, dates,
//! `doLog`, the variation type, invalid or `"null"` variation values,
//! duplicate keys, blank or non-ASCII keys, bandit peculiarities.
//!
//! [`Analysis`] works a scenario out once per flag, so that the features of
//! every case of a large batch cost little more than its attributes: the
//! coverage table counts the features of every generated case.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::fmt;

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};
use ufc_reference::rules::{Check, Condition};
use ufc_reference::VariationType;

use super::Scenario;
use ufc_protocol::CaseInput;

/// A condition operator, as the configuration spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Operator {
    /// `ONE_OF`.
    OneOf,
    /// `NOT_ONE_OF`.
    NotOneOf,
    /// `MATCHES`.
    Matches,
    /// `NOT_MATCHES`.
    NotMatches,
    /// `GT`.
    Gt,
    /// `GTE`.
    Gte,
    /// `LT`.
    Lt,
    /// `LTE`.
    Lte,
    /// `IS_NULL`.
    IsNull,
    /// Any other spelling.
    Unknown,
}

impl Operator {
    const ALL: [(Operator, &'static str); 9] = [
        (Operator::OneOf, "ONE_OF"),
        (Operator::NotOneOf, "NOT_ONE_OF"),
        (Operator::Matches, "MATCHES"),
        (Operator::NotMatches, "NOT_MATCHES"),
        (Operator::Gt, "GT"),
        (Operator::Gte, "GTE"),
        (Operator::Lt, "LT"),
        (Operator::Lte, "LTE"),
        (Operator::IsNull, "IS_NULL"),
    ];

    fn parse(s: &str) -> Operator {
        Operator::ALL.iter().find(|(_, name)| *name == s).map_or(Operator::Unknown, |(op, _)| *op)
    }

    /// The configuration's spelling (`UNKNOWN` for any other).
    pub fn as_str(self) -> &'static str {
        Operator::ALL.iter().find(|(op, _)| *op == self).map_or("UNKNOWN", |(_, name)| name)
    }

    fn is_comparison(self) -> bool {
        matches!(self, Operator::Gt | Operator::Gte | Operator::Lt | Operator::Lte)
    }
}

/// A variation type other than `STRING` (the plain one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FlagType {
    /// `INTEGER`.
    Integer,
    /// `NUMERIC`.
    Numeric,
    /// `BOOLEAN`.
    Boolean,
    /// `JSON`.
    Json,
    /// A spelling no SDK knows.
    Unknown,
}

/// Where in the format an odd string or number sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Position {
    /// The key of a flag.
    FlagKey,
    /// The subject key.
    SubjectKey,
    /// The name of an attribute a condition reads.
    AttributeName,
    /// A variation's `key` field.
    VariationKey,
    /// An allocation's `key`.
    AllocationKey,
    /// A bandit action key.
    ActionKey,
}

impl Position {
    fn as_str(self) -> &'static str {
        match self {
            Position::FlagKey => "flag-key",
            Position::SubjectKey => "subject-key",
            Position::AttributeName => "attr-name",
            Position::VariationKey => "variation-key",
            Position::AllocationKey => "allocation-key",
            Position::ActionKey => "action-key",
        }
    }
}

/// What is odd about a key or name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TextShape {
    /// Empty or only whitespace.
    Blank,
    /// Leading or trailing whitespace around other text.
    Padded,
    /// With a control character (NUL, a newline...), which printers escape.
    Control,
    /// Outside ASCII.
    NonAscii,
}

impl TextShape {
    fn of(text: &str) -> Option<TextShape> {
        if text.trim().is_empty() {
            Some(TextShape::Blank)
        } else if text.chars().any(char::is_control) {
            Some(TextShape::Control)
        } else if text.trim() != text {
            Some(TextShape::Padded)
        } else if !text.is_ascii() {
            Some(TextShape::NonAscii)
        } else {
            None
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            TextShape::Blank => "blank",
            TextShape::Padded => "padded",
            TextShape::Control => "control",
            TextShape::NonAscii => "non-ascii",
        }
    }
}

/// Where keys can repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Repeated {
    /// Two variations share a `key` field.
    VariationKey,
    /// Two allocations share a `key`.
    AllocationKey,
    /// Two bandit actions share a key.
    ActionKey,
}

/// One thing a case involves. The names ([`Feature::name`]) are what
/// summaries, slugs and the cause table use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Feature {
    /// The case asks for a flag the configuration does not have.
    FlagMissing,
    /// An odd key or name.
    Text(Position, TextShape),
    /// Keys that repeat.
    Duplicate(Repeated),
    /// `enabled: false`.
    Disabled,
    /// A variation type other than `STRING`.
    VariationType(FlagType),
    /// The case asks for another type than the flag's.
    TypeMismatch,
    /// A split names a variation that no variation has.
    VariationMissing,
    /// A split's variation is found by map key or by `key` field, not both.
    VariationKeyMismatch,
    /// A served variation's value does not convert to the flag's type.
    VariationInvalidValue,
    /// A JSON flag's served variation is the text `null`.
    VariationJsonNull,
    /// A served numeric value beyond exact `f64` integers, or `-0`.
    VariationNumberEdge,
    /// A JSON variation whose text holds an integer beyond exact `f64`
    /// integers.
    VariationJsonBigInteger,
    /// A served fractional value that takes 16 or 17 significant digits
    /// (where a parser that is not correctly rounded can be one bit off).
    VariationLongDecimal,
    /// An allocation has a start or end date.
    Dates,
    /// A date that is not RFC 3339.
    DateInvalid,
    /// A date that is not a string.
    DateNotString,
    /// An RFC 3339 date whose second is 60 (a leap second).
    DateLeapSecond,
    /// An allocation without `doLog`.
    DoLogAbsent,
    /// `doLog: false`.
    DoLogFalse,
    /// `rules: null`.
    RulesNull,
    /// An allocation without splits.
    SplitsNone,
    /// A split with extra logging.
    ExtraLogging,
    /// A split with shards.
    Shards,
    /// A split with several shards (layered).
    ShardsLayered,
    /// A shard with several ranges.
    ShardsMultipleRanges,
    /// `totalShards` that is not a positive whole number.
    ShardsTotalOdd,
    /// A range that is empty, reversed, negative or beyond `totalShards`.
    ShardsRangeOdd,
    /// A condition with this operator.
    Op(Operator),
    /// A condition the reference compiles as invalid.
    Invalid(Operator),
    /// A regex condition whose value is not a string.
    RegexNonString,
    /// `(?i)` and the like.
    RegexInlineFlag,
    /// Look-ahead or look-behind.
    RegexLookAround,
    /// `\1`...
    RegexBackReference,
    /// `\d`, `\w`, `\s`, `\b`, `\p`.
    RegexClassEscape,
    /// A comparison with a number.
    CompareNumber,
    /// A comparison with a semantic version.
    CompareSemver,
    /// ... with build metadata.
    CompareSemverBuild,
    /// ... with a pre-release.
    CompareSemverPrerelease,
    /// A comparison with a string that parses as a number.
    CompareNumericString,
    /// A version JS accepts and RS does not (`v1.2.3`, padded).
    CompareSemverLenient,
    /// A `ONE_OF` list with non-string members.
    OneOfNonString,
    /// A `ONE_OF` list with number-like strings.
    OneOfNumberLike,
    /// An empty `ONE_OF` list.
    OneOfEmpty,
    /// `IS_NULL` with a value that is not a bool.
    IsNullNonBool,
    /// A bool attribute read by a comparison.
    AttrBoolCompared,
    /// A condition on `id` with no `id` attribute (the subject key is read).
    AttrIdFallback,
    /// A read attribute the subject lacks.
    AttrMissing,
    /// A read attribute that is null.
    AttrNull,
    /// A bool attribute.
    AttrBool,
    /// A number attribute.
    AttrNumber,
    /// A number JS prints differently from Rust.
    AttrNumberExotic,
    /// An integer beyond 2^53.
    AttrNumberBeyond2p53,
    /// A string attribute.
    AttrString,
    /// A string JS `Number()` reads and Rust does not.
    AttrStringNumberLenient,
    /// A string that is a version only to a lenient parser.
    AttrStringSemverLenient,
    /// A string outside ASCII.
    AttrStringNonAscii,
    /// An array or object attribute.
    AttrStructured,
    /// Only `bandits` links flags to bandits.
    BanditLinksBanditsOnly,
    /// Only `banditReferences` links flags to bandits.
    BanditLinksReferencesOnly,
    /// No bandit links at all.
    BanditNoLinks,
    /// A linked bandit without a model.
    BanditModelMissing,
    /// No actions supplied.
    BanditNoActions,
    /// An action key outside ASCII.
    BanditNonAsciiActionKey,
    /// A numeric attribute that is not a number.
    BanditNumericNotANumber,
    /// An empty categorical attribute.
    BanditCategoricalEmpty,
    /// A number among categorical attributes.
    BanditCategoricalNumber,
    /// ... one JS prints differently.
    BanditCategoricalNumberExotic,
    /// A bool among categorical attributes.
    BanditCategoricalBool,
    /// A null among categorical attributes.
    BanditCategoricalNull,
    /// A fractional number in a bandit model that takes 16 or 17
    /// significant digits.
    BanditLongDecimal,
    /// Actions that are alike in everything the model scores (equal best scores).
    BanditTiedActions,
}

impl Feature {
    /// The name: `op:ONE_OF`, `attr:number-exotic`, `doLog:absent`...
    pub fn name(self) -> String {
        match self {
            Feature::Text(position, shape) => format!("{}:{}", position.as_str(), shape.as_str()),
            Feature::Op(op) => format!("op:{}", op.as_str()),
            Feature::Invalid(op) => format!("{}:invalid", op.as_str()),
            named => NAMED.iter().find(|(f, _)| *f == named).map_or("?", |(_, name)| name).to_owned(),
        }
    }

    /// Whether the feature only describes what is there (an operator, an
    /// attribute's plain kind, a variation type, shards) rather than
    /// something odd. A signature whose features are all descriptive says
    /// little about its cause, so it never stands for other disagreements.
    pub fn is_descriptive(self) -> bool {
        matches!(
            self,
            Feature::Op(_)
                | Feature::VariationType(FlagType::Integer | FlagType::Numeric | FlagType::Boolean | FlagType::Json)
                | Feature::Shards
                | Feature::ShardsLayered
                | Feature::ShardsMultipleRanges
                | Feature::CompareNumber
                | Feature::CompareSemver
                | Feature::AttrBool
                | Feature::AttrNumber
                | Feature::AttrString
                | Feature::ExtraLogging
                | Feature::Dates
        )
    }
}

/// The name of every feature that is not made of a position and a shape
/// or of an operator: what [`Feature::name`] says, and (with those) the
/// list [`catalogue`] gives.
const NAMED: &[(Feature, &str)] = &[
    (Feature::VariationType(FlagType::Integer), "variation-type:INTEGER"),
    (Feature::VariationType(FlagType::Numeric), "variation-type:NUMERIC"),
    (Feature::VariationType(FlagType::Boolean), "variation-type:BOOLEAN"),
    (Feature::VariationType(FlagType::Json), "variation-type:JSON"),
    (Feature::VariationType(FlagType::Unknown), "variation-type:unknown"),
    (Feature::Duplicate(Repeated::VariationKey), "variation:duplicate-key"),
    (Feature::Duplicate(Repeated::AllocationKey), "allocation:duplicate-key"),
    (Feature::Duplicate(Repeated::ActionKey), "bandit:duplicate-action"),
    (Feature::FlagMissing, "flag:missing"),
    (Feature::Disabled, "disabled"),
    (Feature::TypeMismatch, "type-mismatch"),
    (Feature::VariationMissing, "variation:missing"),
    (Feature::VariationKeyMismatch, "variation:key-mismatch"),
    (Feature::VariationInvalidValue, "variation:invalid-value"),
    (Feature::VariationJsonNull, "variation:json-null"),
    (Feature::VariationNumberEdge, "variation:number-edge"),
    (Feature::VariationJsonBigInteger, "variation:json-big-integer"),
    (Feature::VariationLongDecimal, "variation:long-decimal"),
    (Feature::Dates, "dates"),
    (Feature::DateInvalid, "dates:invalid"),
    (Feature::DateNotString, "dates:not-a-string"),
    (Feature::DateLeapSecond, "dates:leap-second"),
    (Feature::DoLogAbsent, "doLog:absent"),
    (Feature::DoLogFalse, "doLog:false"),
    (Feature::RulesNull, "rules:null"),
    (Feature::SplitsNone, "splits:none"),
    (Feature::ExtraLogging, "extra-logging"),
    (Feature::Shards, "shards"),
    (Feature::ShardsLayered, "shards:layered"),
    (Feature::ShardsMultipleRanges, "shards:multiple-ranges"),
    (Feature::ShardsTotalOdd, "shards:total-odd"),
    (Feature::ShardsRangeOdd, "shards:range-odd"),
    (Feature::RegexNonString, "regex:non-string"),
    (Feature::RegexInlineFlag, "regex:inline-flag"),
    (Feature::RegexLookAround, "regex:look-around"),
    (Feature::RegexBackReference, "regex:back-reference"),
    (Feature::RegexClassEscape, "regex:class-escape"),
    (Feature::CompareNumber, "compare:number"),
    (Feature::CompareSemver, "compare:semver"),
    (Feature::CompareSemverBuild, "compare:semver-build"),
    (Feature::CompareSemverPrerelease, "compare:semver-prerelease"),
    (Feature::CompareNumericString, "compare:numeric-string"),
    (Feature::CompareSemverLenient, "compare:semver-lenient"),
    (Feature::OneOfNonString, "one-of:non-string"),
    (Feature::OneOfNumberLike, "one-of:number-like"),
    (Feature::OneOfEmpty, "one-of:empty"),
    (Feature::IsNullNonBool, "is-null:non-bool"),
    (Feature::AttrBoolCompared, "attr:bool-compared"),
    (Feature::AttrIdFallback, "attr:id-fallback"),
    (Feature::AttrMissing, "attr:missing"),
    (Feature::AttrNull, "attr:null"),
    (Feature::AttrBool, "attr:bool"),
    (Feature::AttrNumber, "attr:number"),
    (Feature::AttrNumberExotic, "attr:number-exotic"),
    (Feature::AttrNumberBeyond2p53, "attr:number-beyond-2p53"),
    (Feature::AttrString, "attr:string"),
    (Feature::AttrStringNumberLenient, "attr:string-number-lenient"),
    (Feature::AttrStringSemverLenient, "attr:string-semver-lenient"),
    (Feature::AttrStringNonAscii, "attr:string-non-ascii"),
    (Feature::AttrStructured, "attr:structured"),
    (Feature::BanditLinksBanditsOnly, "bandit:links-bandits-only"),
    (Feature::BanditLinksReferencesOnly, "bandit:links-references-only"),
    (Feature::BanditNoLinks, "bandit:no-links"),
    (Feature::BanditModelMissing, "bandit:model-missing"),
    (Feature::BanditNoActions, "bandit:no-actions"),
    (Feature::BanditNonAsciiActionKey, "bandit:non-ascii-action-key"),
    (Feature::BanditNumericNotANumber, "bandit:numeric-not-a-number"),
    (Feature::BanditCategoricalEmpty, "bandit:categorical-empty"),
    (Feature::BanditCategoricalNumber, "bandit:categorical-number"),
    (Feature::BanditCategoricalNumberExotic, "bandit:categorical-number-exotic"),
    (Feature::BanditCategoricalBool, "bandit:categorical-bool"),
    (Feature::BanditCategoricalNull, "bandit:categorical-null"),
    (Feature::BanditLongDecimal, "bandit:long-decimal"),
    (Feature::BanditTiedActions, "bandit:tied-actions"),
];

/// Every feature the analysis can report: the coverage table names those
/// no generated case had.
pub fn catalogue() -> Vec<Feature> {
    let positions = [
        Position::FlagKey,
        Position::SubjectKey,
        Position::AttributeName,
        Position::VariationKey,
        Position::AllocationKey,
        Position::ActionKey,
    ];
    let shapes = [TextShape::Blank, TextShape::Padded, TextShape::Control, TextShape::NonAscii];
    let operators = Operator::ALL.map(|(op, _)| op);
    let mut all: Vec<Feature> = NAMED.iter().map(|(feature, _)| *feature).collect();
    all.extend(positions.iter().flat_map(|p| shapes.iter().map(|s| Feature::Text(*p, *s))));
    all.extend(operators.iter().copied().chain([Operator::Unknown]).map(Feature::Op));
    all.extend(operators.iter().copied().map(Feature::Invalid));
    all
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl Serialize for Feature {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.name())
    }
}

/// What one flag involves, worked out once for all the cases that ask for it.
#[derive(Debug, Default)]
struct FlagAnalysis {
    features: BTreeSet<Feature>,
    /// The flag's type as configured (`None`: unknown).
    flag_type: Option<String>,
    /// Attributes its conditions read.
    read: BTreeSet<String>,
    /// Attributes its comparisons read.
    compared: BTreeSet<String>,
}

/// A scenario's features, worked out per flag on first use.
pub struct Analysis<'s> {
    scenario: &'s Scenario,
    flags: HashMap<&'s str, FlagAnalysis>,
    bandit: Option<BTreeSet<Feature>>,
}

impl<'s> Analysis<'s> {
    /// Analysis of `scenario` (nothing is worked out yet).
    pub fn new(scenario: &'s Scenario) -> Analysis<'s> {
        Analysis { scenario, flags: HashMap::new(), bandit: None }
    }

    /// The features of case `index`, sorted.
    pub fn case_features(&mut self, index: usize) -> Vec<Feature> {
        let scenario = self.scenario;
        let Some(input) = scenario.cases.get(index) else { return Vec::new() };
        let (flag_key, subject_key) = super::flag_and_subject(input);
        let mut out = BTreeSet::new();
        if let Some(shape) = TextShape::of(subject_key) {
            out.insert(Feature::Text(Position::SubjectKey, shape));
        }
        let Some(flag) = scenario.flags.get("flags").and_then(|f| f.get(flag_key)) else {
            out.insert(Feature::FlagMissing);
            return out.into_iter().collect();
        };
        let analysis = self.flags.entry(flag_key).or_insert_with(|| analyse_flag(flag_key, flag));
        out.extend(analysis.features.iter().copied());
        // A flag case's attributes are read where they are; only a bandit
        // case's two maps are merged.
        let attributes: Cow<'_, Map<String, Value>> = match input {
            CaseInput::Flag(case) => {
                if Some(case.variation_type.as_str()) != analysis.flag_type.as_deref() {
                    out.insert(Feature::TypeMismatch);
                }
                Cow::Borrowed(&case.subject_attributes)
            }
            CaseInput::Bandit(case) => {
                let mut merged = case.subject_attributes.numeric_attributes.clone();
                merged.extend(case.subject_attributes.categorical_attributes.clone());
                Cow::Owned(merged)
            }
        };
        // JS `Number(true)` is 1; RS compares no bool (spec 8.2).
        if analysis.compared.iter().any(|attribute| attributes.get(attribute).is_some_and(Value::is_boolean)) {
            out.insert(Feature::AttrBoolCompared);
        }
        for attribute in &analysis.read {
            attribute_features(attribute, attributes.get(attribute), &mut out);
        }
        if let CaseInput::Bandit(case) = input {
            let links = self.bandit.get_or_insert_with(|| bandit_link_features(scenario));
            out.extend(links.iter().copied());
            bandit_case_features(case, &mut out);
        }
        out.into_iter().collect()
    }
}

/// The features of case `target` of `scenario`.
pub fn features(scenario: &Scenario, target: usize) -> Vec<Feature> {
    Analysis::new(scenario).case_features(target)
}

fn flag_type(name: &str) -> Option<FlagType> {
    match VariationType::parse(name) {
        Some(VariationType::String) => None,
        Some(VariationType::Integer) => Some(FlagType::Integer),
        Some(VariationType::Numeric) => Some(FlagType::Numeric),
        Some(VariationType::Boolean) => Some(FlagType::Boolean),
        Some(VariationType::Json) => Some(FlagType::Json),
        None => Some(FlagType::Unknown),
    }
}

fn analyse_flag(flag_key: &str, flag: &Value) -> FlagAnalysis {
    let mut analysis = FlagAnalysis::default();
    let out = &mut analysis.features;
    if let Some(shape) = TextShape::of(flag_key) {
        out.insert(Feature::Text(Position::FlagKey, shape));
    }
    if flag.get("enabled") == Some(&Value::Bool(false)) {
        out.insert(Feature::Disabled);
    }
    let type_name = flag.get("variationType").and_then(Value::as_str).unwrap_or("?");
    analysis.flag_type = VariationType::parse(type_name).map(|t| t.as_str().to_owned());
    if let Some(t) = flag_type(type_name) {
        out.insert(Feature::VariationType(t));
    }
    let parsed_type = VariationType::parse(type_name);
    variation_features(flag, parsed_type, out);
    let allocations: &[Value] = flag.get("allocations").and_then(Value::as_array).map_or(&[], Vec::as_slice);
    let mut allocation_keys = BTreeSet::new();
    for allocation in allocations {
        if let Some(key) = allocation.get("key").and_then(Value::as_str) {
            if !allocation_keys.insert(key) {
                out.insert(Feature::Duplicate(Repeated::AllocationKey));
            }
            if let Some(shape) = TextShape::of(key) {
                out.insert(Feature::Text(Position::AllocationKey, shape));
            }
        }
        date_features(allocation, out);
        match allocation.get("doLog") {
            None => {
                out.insert(Feature::DoLogAbsent);
            }
            Some(Value::Bool(false)) => {
                out.insert(Feature::DoLogFalse);
            }
            _ => {}
        }
        match allocation.get("rules") {
            Some(Value::Array(rules)) => {
                let conditions =
                    rules.iter().flat_map(|r| r.get("conditions").and_then(Value::as_array).into_iter().flatten());
                for condition in conditions {
                    let operator = condition_features(condition, out);
                    if let Some(attribute) = condition.get("attribute").and_then(Value::as_str) {
                        if let Some(shape) = TextShape::of(attribute) {
                            out.insert(Feature::Text(Position::AttributeName, shape));
                        }
                        analysis.read.insert(attribute.to_owned());
                        if operator.is_comparison() {
                            analysis.compared.insert(attribute.to_owned());
                        }
                    }
                }
            }
            Some(Value::Null) => {
                out.insert(Feature::RulesNull);
            }
            _ => {}
        }
        split_features(allocation, out);
    }
    analysis
}

/// Features of the variations some split serves, found by the `key` field
/// and by the map key.
fn variation_features(flag: &Value, parsed_type: Option<VariationType>, out: &mut BTreeSet<Feature>) {
    let variations = flag.get("variations").and_then(Value::as_object);
    let mut keys = BTreeSet::new();
    for variation in variations.into_iter().flat_map(|v| v.values()) {
        if let Some(key) = variation.get("key").and_then(Value::as_str) {
            if !keys.insert(key) {
                out.insert(Feature::Duplicate(Repeated::VariationKey));
            }
            if let Some(shape) = TextShape::of(key) {
                out.insert(Feature::Text(Position::VariationKey, shape));
            }
        }
    }
    let served: BTreeSet<&str> = served_variation_keys(flag).collect();
    for key in served {
        let by_field =
            variations.and_then(|v| v.values().find(|var| var.get("key").and_then(Value::as_str) == Some(key)));
        let by_map_key = variations.and_then(|v| v.get(key));
        match (by_field, by_map_key) {
            (None, None) => {
                out.insert(Feature::VariationMissing);
            }
            (Some(_), None) | (None, Some(_)) => {
                out.insert(Feature::VariationKeyMismatch);
            }
            _ => {}
        }
        let (Some(variation), Some(variation_type)) = (by_field.or(by_map_key), parsed_type) else { continue };
        let value = variation.get("value").unwrap_or(&Value::Null);
        if variation_type.convert(value).is_none() {
            out.insert(Feature::VariationInvalidValue);
        }
        if variation_type == VariationType::Json && value.as_str().map(str::trim) == Some("null") {
            out.insert(Feature::VariationJsonNull);
        }
        let parsed = value
            .as_str()
            .filter(|_| variation_type == VariationType::Json)
            .and_then(|text| serde_json::from_str(text).ok());
        if parsed.as_ref().is_some_and(|parsed| any_number(parsed, beyond_exact_f64)) {
            out.insert(Feature::VariationJsonBigInteger);
        }
        if let Value::Number(n) = value {
            let beyond = beyond_exact_f64(n);
            let negative_zero = n.as_f64().is_some_and(|f| f == 0.0 && f.is_sign_negative());
            if beyond || negative_zero {
                out.insert(Feature::VariationNumberEdge);
            }
            if long_decimal(n) {
                out.insert(Feature::VariationLongDecimal);
            }
        }
    }
}

/// The significant digits of the shortest decimal that reads back as `f`.
fn significant_digits(f: f64) -> usize {
    let scientific = format!("{:e}", f.abs());
    scientific.split('e').next().map_or(0, |mantissa| mantissa.chars().filter(char::is_ascii_digit).count())
}

/// The `variationKey` of every split of the flag, in document order.
pub(crate) fn served_variation_keys(flag: &Value) -> impl Iterator<Item = &str> {
    flag.get("allocations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|a| a.get("splits").and_then(Value::as_array).into_iter().flatten())
        .filter_map(|s| s.get("variationKey").and_then(Value::as_str))
}

fn date_features(allocation: &Value, out: &mut BTreeSet<Feature>) {
    for field in ["startAt", "endAt"] {
        match allocation.get(field) {
            None | Some(Value::Null) => {}
            Some(Value::String(text)) => {
                out.insert(Feature::Dates);
                match chrono::DateTime::parse_from_rfc3339(text) {
                    Err(_) => {
                        out.insert(Feature::DateInvalid);
                    }
                    // chrono keeps a leap second as a nanosecond count past 10^9.
                    Ok(date) if chrono::Timelike::nanosecond(&date) >= 1_000_000_000 => {
                        out.insert(Feature::DateLeapSecond);
                    }
                    Ok(_) => {}
                }
            }
            Some(_) => {
                out.insert(Feature::Dates);
                out.insert(Feature::DateNotString);
            }
        }
    }
}

fn split_features(allocation: &Value, out: &mut BTreeSet<Feature>) {
    let splits: &[Value] = allocation.get("splits").and_then(Value::as_array).map_or(&[], Vec::as_slice);
    if splits.is_empty() {
        out.insert(Feature::SplitsNone);
    }
    for split in splits {
        if split.get("extraLogging").is_some() {
            out.insert(Feature::ExtraLogging);
        }
        let shards: &[Value] = split.get("shards").and_then(Value::as_array).map_or(&[], Vec::as_slice);
        if !shards.is_empty() {
            out.insert(Feature::Shards);
        }
        if shards.len() > 1 {
            out.insert(Feature::ShardsLayered);
        }
        for shard in shards {
            let total = shard.get("totalShards").or_else(|| split.get("totalShards"));
            let total = total.and_then(Value::as_f64);
            if total.is_some_and(|t| t < 1.0 || t.fract() != 0.0 || t > f64::from(u32::MAX)) {
                out.insert(Feature::ShardsTotalOdd);
            }
            let ranges: &[Value] = shard.get("ranges").and_then(Value::as_array).map_or(&[], Vec::as_slice);
            if ranges.len() > 1 {
                out.insert(Feature::ShardsMultipleRanges);
            }
            for range in ranges {
                let start = range.get("start").and_then(Value::as_f64);
                let end = range.get("end").and_then(Value::as_f64);
                let odd = match (start, end) {
                    (Some(s), Some(e)) => s >= e || s < 0.0 || s.fract() != 0.0 || e.fract() != 0.0,
                    _ => true,
                };
                if odd {
                    out.insert(Feature::ShardsRangeOdd);
                }
            }
        }
    }
}

/// Adds a condition's features; returns its operator.
fn condition_features(condition: &Value, out: &mut BTreeSet<Feature>) -> Operator {
    let spelled = condition.get("operator").and_then(Value::as_str).unwrap_or("?");
    let operator = Operator::parse(spelled);
    let attribute = condition.get("attribute").and_then(Value::as_str).unwrap_or("");
    let value = condition.get("value").unwrap_or(&Value::Null);
    out.insert(Feature::Op(operator));
    // What the reference makes of the condition: invalid ones are where
    // RS and JS part ways most (spec 8.6–8.8).
    let compiled = Condition::compile(attribute, spelled, value);
    if matches!(compiled.check, Check::Invalid { .. }) {
        out.insert(Feature::Invalid(operator));
    }
    match operator {
        Operator::Matches | Operator::NotMatches => regex_features(value, out),
        Operator::Gt | Operator::Gte | Operator::Lt | Operator::Lte => comparison_features(value, out),
        Operator::OneOf | Operator::NotOneOf => {
            if let Value::Array(items) = value {
                if items.is_empty() {
                    out.insert(Feature::OneOfEmpty);
                }
                if items.iter().any(|i| !i.is_string()) {
                    out.insert(Feature::OneOfNonString);
                }
                let number_like = |s: &str| !s.trim().is_empty() && s.trim().parse::<f64>().is_ok();
                if items.iter().filter_map(Value::as_str).any(number_like) {
                    out.insert(Feature::OneOfNumberLike);
                }
            }
        }
        Operator::IsNull if !value.is_boolean() => {
            out.insert(Feature::IsNullNonBool);
        }
        Operator::IsNull | Operator::Unknown => {}
    }
    operator
}

fn regex_features(value: &Value, out: &mut BTreeSet<Feature>) {
    let Some(pattern) = value.as_str() else {
        out.insert(Feature::RegexNonString);
        return;
    };
    if pattern.contains("(?i") {
        out.insert(Feature::RegexInlineFlag);
    }
    if ["(?=", "(?!", "(?<=", "(?<!"].iter().any(|p| pattern.contains(p)) {
        out.insert(Feature::RegexLookAround);
    }
    if (1..=9).any(|d| pattern.contains(&format!("\\{d}"))) {
        out.insert(Feature::RegexBackReference);
    }
    if ["\\d", "\\w", "\\s", "\\b", "\\p"].iter().any(|p| pattern.contains(p)) {
        out.insert(Feature::RegexClassEscape);
    }
}

fn comparison_features(value: &Value, out: &mut BTreeSet<Feature>) {
    match value {
        Value::Number(_) => {
            out.insert(Feature::CompareNumber);
        }
        Value::String(s) => {
            if semver::Version::parse(s).is_ok() {
                out.insert(Feature::CompareSemver);
                if s.contains('+') {
                    out.insert(Feature::CompareSemverBuild);
                }
                if s.contains('-') {
                    out.insert(Feature::CompareSemverPrerelease);
                }
            } else if s.parse::<f64>().is_ok() {
                out.insert(Feature::CompareNumericString);
            } else if lenient_semver(s) {
                out.insert(Feature::CompareSemverLenient);
            }
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

fn attribute_features(name: &str, value: Option<&Value>, out: &mut BTreeSet<Feature>) {
    match value {
        None if name == "id" => {
            out.insert(Feature::AttrIdFallback);
        }
        None => {
            out.insert(Feature::AttrMissing);
        }
        Some(Value::Null) => {
            out.insert(Feature::AttrNull);
        }
        Some(Value::Bool(_)) => {
            out.insert(Feature::AttrBool);
        }
        Some(Value::Number(n)) => {
            out.insert(Feature::AttrNumber);
            if n.as_f64().is_some_and(renders_differently_in_js) {
                out.insert(Feature::AttrNumberExotic);
            }
            if beyond_exact_f64(n) {
                out.insert(Feature::AttrNumberBeyond2p53);
            }
        }
        Some(Value::String(s)) => {
            out.insert(Feature::AttrString);
            // JS `Number(x)` accepts these, Rust's parser does not (spec 8.2).
            let trimmed = s.trim();
            let js_number = trimmed.is_empty()
                || trimmed.starts_with("0x")
                || trimmed.starts_with("0X")
                || trimmed == "Infinity"
                || (trimmed != s && trimmed.parse::<f64>().is_ok());
            if js_number && s.parse::<f64>().is_err() {
                out.insert(Feature::AttrStringNumberLenient);
            }
            if lenient_semver(s) {
                out.insert(Feature::AttrStringSemverLenient);
            }
            if !s.is_ascii() {
                out.insert(Feature::AttrStringNonAscii);
            }
        }
        Some(_) => {
            out.insert(Feature::AttrStructured);
        }
    }
}

/// How the flags document links flags to bandits, and whether every linked
/// bandit has a model.
fn bandit_link_features(scenario: &Scenario) -> BTreeSet<Feature> {
    let mut out = BTreeSet::new();
    let links = |key: &str| scenario.flags.get(key).and_then(Value::as_object).filter(|m| !m.is_empty());
    let (bandits, references) = (links("bandits"), links("banditReferences"));
    match (bandits.is_some(), references.is_some()) {
        (true, false) => out.insert(Feature::BanditLinksBanditsOnly),
        (false, true) => out.insert(Feature::BanditLinksReferencesOnly),
        (false, false) => out.insert(Feature::BanditNoLinks),
        (true, true) => false,
    };
    let models = scenario.bandit_models.as_ref().and_then(|m| m.get("bandits")).and_then(Value::as_object);
    let linked = bandits.into_iter().chain(references).flat_map(|m| m.keys());
    if linked.into_iter().any(|key| !models.is_some_and(|m| m.contains_key(key))) {
        out.insert(Feature::BanditModelMissing);
    }
    if models.is_some_and(|m| m.values().any(|model| any_number(model, long_decimal))) {
        out.insert(Feature::BanditLongDecimal);
    }
    out
}

/// Whether `value` holds, at any depth, a number that `test` accepts.
fn any_number(value: &Value, test: fn(&serde_json::Number) -> bool) -> bool {
    match value {
        Value::Number(n) => test(n),
        Value::Array(items) => items.iter().any(|item| any_number(item, test)),
        Value::Object(map) => map.values().any(|item| any_number(item, test)),
        _ => false,
    }
}

/// An integer beyond the integers an `f64` holds exactly (2^53).
fn beyond_exact_f64(n: &serde_json::Number) -> bool {
    n.as_i64().map_or(n.is_u64(), |i| i.unsigned_abs() > 1 << 53)
}

/// A fractional number that takes 16 or 17 significant digits.
fn long_decimal(n: &serde_json::Number) -> bool {
    n.as_f64().is_some_and(is_long_decimal)
}

fn is_long_decimal(f: f64) -> bool {
    f.fract() != 0.0 && significant_digits(f) >= 16
}

fn bandit_case_features(case: &ufc_protocol::BanditCase, out: &mut BTreeSet<Feature>) {
    if case.actions.is_empty() {
        out.insert(Feature::BanditNoActions);
    }
    let mut keys = BTreeSet::new();
    for action in &case.actions {
        if !keys.insert(action.action_key.as_str()) {
            out.insert(Feature::Duplicate(Repeated::ActionKey));
        }
        if let Some(shape) = TextShape::of(&action.action_key) {
            out.insert(Feature::Text(Position::ActionKey, shape));
        }
        if !action.action_key.is_ascii() {
            out.insert(Feature::BanditNonAsciiActionKey);
        }
    }
    // Two distinct actions with the same attributes score the same under
    // any model: their tie is broken by key order.
    let distinct: Vec<_> = case.actions.iter().filter(|a| keys.remove(a.action_key.as_str())).collect();
    if distinct.iter().enumerate().any(|(i, a)| distinct[i + 1..].iter().any(|b| a.attributes == b.attributes)) {
        out.insert(Feature::BanditTiedActions);
    }
    let contexts = std::iter::once(&case.subject_attributes).chain(case.actions.iter().map(|a| &a.attributes));
    for context in contexts {
        if context.numeric_attributes.values().any(|v| !v.is_number()) {
            out.insert(Feature::BanditNumericNotANumber);
        }
        for value in context.categorical_attributes.values() {
            match value {
                Value::String(s) if s.is_empty() => {
                    out.insert(Feature::BanditCategoricalEmpty);
                }
                Value::Number(n) => {
                    out.insert(Feature::BanditCategoricalNumber);
                    if n.as_f64().is_some_and(renders_differently_in_js) {
                        out.insert(Feature::BanditCategoricalNumberExotic);
                    }
                }
                Value::Bool(_) => {
                    out.insert(Feature::BanditCategoricalBool);
                }
                Value::Null => {
                    out.insert(Feature::BanditCategoricalNull);
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scenario(flag: Value, case_attributes: Value) -> Scenario {
        Scenario {
            flags: json!({"flags": {"f": flag}}),
            bandit_models: None,
            cases: vec![CaseInput::Flag(ufc_protocol::FlagCase {
                flag: "f".into(),
                variation_type: ufc_protocol::VariationType::String,
                default_value: json!("d"),
                subject_key: "s".into(),
                subject_attributes: case_attributes.as_object().cloned().unwrap_or_default(),
            })],
            obfuscated: false,
        }
    }

    #[test]
    fn duplicate_keys_and_odd_texts_are_features() {
        let flag = json!({
            "key": "f", "enabled": true, "variationType": "STRING",
            "variations": {"a": {"key": "a", "value": "x"}, "b": {"key": "a", "value": "y"}},
            "allocations": [
                {"key": "same", "rules": [{"conditions": [{"attribute": " country", "operator": "ONE_OF", "value": []}]}],
                 "splits": [{"variationKey": "a", "shards": []}], "doLog": true},
                {"key": "same", "splits": [{"variationKey": "a", "shards": []}], "doLog": true}
            ]
        });
        let got = features(&scenario(flag, json!({" country": "ü"})), 0);
        for want in [
            Feature::Duplicate(Repeated::VariationKey),
            Feature::Duplicate(Repeated::AllocationKey),
            Feature::Text(Position::AttributeName, TextShape::Padded),
            Feature::OneOfEmpty,
            Feature::AttrStringNonAscii,
            Feature::Op(Operator::OneOf),
        ] {
            assert!(got.contains(&want), "{want} missing from {got:?}");
        }
        assert!(!got.contains(&Feature::DoLogAbsent), "{got:?}");
    }

    #[test]
    fn the_catalogue_names_each_feature_once() {
        let all = catalogue();
        let names: BTreeSet<String> = all.iter().map(|f| f.name()).collect();
        assert_eq!(names.len(), all.len());
        assert!(!names.contains("?"), "a feature without a name: {names:?}");
        assert!(all.contains(&Feature::BanditTiedActions) && all.contains(&Feature::Op(Operator::Unknown)));
        // Every feature the analysis can give has a name (one once had none and showed as `?`).
        let source = include_str!("feature.rs");
        for inserted in source.split("out.insert(Feature::").skip(1) {
            let variant = inserted.split(|c: char| !c.is_alphanumeric()).next().unwrap_or_default();
            let named = format!("(Feature::{variant}");
            let parametric = ["Text", "Op", "Invalid", "VariationType", "Duplicate"].contains(&variant);
            assert!(parametric || source.contains(&named), "Feature::{variant} has no name");
        }
    }

    #[test]
    fn names_are_stable() {
        assert_eq!(Feature::Op(Operator::NotMatches).name(), "op:NOT_MATCHES");
        assert_eq!(Feature::Invalid(Operator::IsNull).name(), "IS_NULL:invalid");
        assert_eq!(Feature::Text(Position::SubjectKey, TextShape::Blank).name(), "subject-key:blank");
        assert_eq!(serde_json::to_value(Feature::AttrNumberExotic).unwrap(), json!("attr:number-exotic"));
        assert!(Feature::Op(Operator::Gt).is_descriptive());
        assert!(!Feature::VariationInvalidValue.is_descriptive());
    }

    #[test]
    fn leap_seconds_and_long_decimals_are_features() {
        let flag = |end_at: &str, value: f64| {
            json!({
                "key": "f", "enabled": true, "variationType": "NUMERIC",
                "variations": {"v": {"key": "v", "value": value}},
                "allocations": [{"key": "a", "endAt": end_at, "splits": [{"variationKey": "v", "shards": []}]}]
            })
        };
        let got = features(&scenario(flag("2024-01-01T12:00:60Z", -431658.47852331965), json!({})), 0);
        assert!(got.contains(&Feature::DateLeapSecond) && got.contains(&Feature::VariationLongDecimal), "{got:?}");
        let got = features(&scenario(flag("2024-01-01T12:00:59Z", 0.25), json!({})), 0);
        assert!(!got.contains(&Feature::DateLeapSecond) && !got.contains(&Feature::VariationLongDecimal), "{got:?}");
        assert_eq!(significant_digits(-431658.47852331965), 17);
        let json_flag = json!({
            "key": "f", "enabled": true, "variationType": "JSON",
            "variations": {"v": {"key": "v", "value": "{\"n\": [9007199254740993]}"}},
            "allocations": [{"key": "a", "splits": [{"variationKey": "v", "shards": []}]}]
        });
        let got = features(&scenario(json_flag, json!({})), 0);
        assert!(got.contains(&Feature::VariationJsonBigInteger), "{got:?}");
        assert!(any_number(&json!({"modelData": {"actionProbabilityFloor": 0.9999999999999999}}), long_decimal));
        assert!(!any_number(&json!({"modelData": {"gamma": 1.0, "floor": 0.5}}), long_decimal));
        assert_eq!(significant_digits(0.25), 2);
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
