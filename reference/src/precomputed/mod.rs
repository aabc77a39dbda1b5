//! Precomputed configurations (spec section 7): the assignments of one
//! subject, computed by a server, that a client SDK serves by lookup. The
//! reference reads them, plain or obfuscated (`obfuscated: true`: map keys
//! are `md5(salt + flagKey)`, string fields base64), so that an SDK's
//! precomputed client can be checked against the same answers; and it
//! writes them ([`write`]), so that a client SDK can be given a precomputed
//! configuration whose every answer the reference knows.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::bandit::{Action, ActionChoice, BanditEvent, SubjectAttributes};
use crate::compile::variation_type_at;
use crate::envelope;
use crate::error::{expected, json_path, member, ConfigurationError, FlagConfigError};
use crate::eval::FlagEvaluationCode;
use crate::events::AssignmentEvent;
use crate::flag::Split;
use crate::obfuscation::{decode_base64, md5_hex, typed_variation_value};
use crate::value::{Attributes, TypedValue, VariationType};
use crate::Timestamp;

pub mod write;

/// A loaded (or written) precomputed configuration.
#[derive(Debug, Default)]
pub struct PrecomputedConfiguration {
    subject_key: Option<String>,
    subject_attributes: Attributes,
    /// The envelope's `subjectAttributes` as written, for writing it again.
    subject_attributes_wire: Option<Value>,
    /// The envelope's `precomputed.fetchedAt`.
    fetched_at: Option<String>,
    /// The response's `createdAt`.
    created_at: Option<String>,
    environment_name: Option<String>,
    salt: String,
    obfuscated: bool,
    flags: HashMap<String, Result<PrecomputedFlag, FlagConfigError>>,
    bandits: HashMap<String, Result<PrecomputedBandit, FlagConfigError>>,
}

/// One precomputed assignment, decoded. The RS core leaves out
/// `allocationKey`, `variationKey` and `extraLogging` when `doLog` is
/// false; the JS core always writes them.
#[derive(Debug)]
pub struct PrecomputedFlag {
    /// `allocationKey`, when written.
    pub allocation_key: Option<String>,
    /// `variationType`.
    pub variation_type: VariationType,
    /// `variationValue` as the flag's type; `None` when it is not of it.
    pub value: Option<TypedValue>,
    /// `variationValue` as written (decoded).
    pub raw_value: Value,
    /// `variationKey` and `extraLogging` as a split, for the event; `None`
    /// when `variationKey` is not written.
    pub split: Option<Split>,
    /// `doLog`.
    pub do_log: bool,
}

/// One precomputed bandit action, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct PrecomputedBandit {
    /// `banditKey`.
    pub bandit_key: String,
    /// `action`.
    pub action: String,
    /// `actionProbability`.
    pub action_probability: f64,
    /// `optimalityGap`.
    pub optimality_gap: f64,
    /// `modelVersion`.
    pub model_version: String,
    /// `actionNumericAttributes`.
    pub action_numeric_attributes: Map<String, Value>,
    /// `actionCategoricalAttributes`.
    pub action_categorical_attributes: Map<String, Value>,
}

/// The result of looking up a flag.
#[derive(Debug, Clone, Copy)]
pub struct PrecomputedOutcome<'c> {
    /// `MATCH`, `FLAG_UNRECOGNIZED_OR_DISABLED` (not precomputed),
    /// `TYPE_MISMATCH`, `ASSIGNMENT_ERROR` (value not of its type) or
    /// `UNEXPECTED_CONFIGURATION_ERROR` (entry unreadable).
    pub code: FlagEvaluationCode,
    /// The entry, when it was found and readable.
    pub flag: Option<&'c PrecomputedFlag>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResponseWire {
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    obfuscated: bool,
    #[serde(default)]
    salt: String,
    #[serde(default)]
    environment: Option<EnvironmentWire>,
    flags: Map<String, Value>,
    #[serde(default)]
    bandits: Map<String, Value>,
}

#[derive(Deserialize)]
struct EnvironmentWire {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FlagWire {
    #[serde(default)]
    allocation_key: Option<String>,
    #[serde(default)]
    variation_key: Option<String>,
    variation_type: String,
    variation_value: Value,
    #[serde(default)]
    extra_logging: Option<Map<String, Value>>,
    #[serde(default = "yes")]
    do_log: bool,
}

fn yes() -> bool {
    true
}

/// A number, or `null` read as NaN: JSON has no infinities or NaN, and the
/// JS core (`JSON.stringify`) and the reference's writer write them as null.
fn number_or_null<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(deserializer)?.unwrap_or(f64::NAN))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BanditWire {
    bandit_key: String,
    action: String,
    #[serde(deserialize_with = "number_or_null")]
    action_probability: f64,
    #[serde(deserialize_with = "number_or_null")]
    optimality_gap: f64,
    model_version: String,
    #[serde(default)]
    action_numeric_attributes: Map<String, Value>,
    #[serde(default)]
    action_categorical_attributes: Map<String, Value>,
}

/// The entries of `map` that could not be read, by key.
fn errors_by_key<T>(map: &HashMap<String, Result<T, FlagConfigError>>) -> Vec<&FlagConfigError> {
    let mut errors: Vec<&FlagConfigError> = map.values().filter_map(|entry| entry.as_ref().err()).collect();
    errors.sort_by(|a, b| a.key.cmp(&b.key));
    errors
}

impl PrecomputedConfiguration {
    /// Parses a precomputed configuration: the configuration-wire envelope
    /// (whose `precomputed` entry names the subject) or the bare response.
    /// Fails only when the document is not one at all; an unreadable entry
    /// is an error for that flag or bandit alone.
    pub fn from_json(bytes: &[u8]) -> Result<PrecomputedConfiguration, ConfigurationError> {
        PrecomputedConfiguration::from_value(&crate::error::parse_json(bytes)?)
    }

    /// As [`PrecomputedConfiguration::from_json`], from a parsed document.
    pub fn from_value(document: &Value) -> Result<PrecomputedConfiguration, ConfigurationError> {
        let response = envelope::open(document, envelope::Part::Precomputed)?;
        let wire: ResponseWire =
            serde_path_to_error::deserialize(&*response).map_err(|err| ConfigurationError::Shape {
                path: json_path("$", err.path()),
                message: format!("{} (reading a precomputed response)", expected(err.inner())),
            })?;
        let subject = document.get("precomputed").filter(|_| envelope::is_envelope(document));
        let mut config = PrecomputedConfiguration {
            subject_key: subject.and_then(|s| s.get("subjectKey")).and_then(Value::as_str).map(str::to_owned),
            subject_attributes: subject
                .and_then(|s| s.get("subjectAttributes"))
                .map(subject_attributes)
                .unwrap_or_default(),
            subject_attributes_wire: subject.and_then(|s| s.get("subjectAttributes")).cloned(),
            fetched_at: subject.and_then(|s| s.get("fetchedAt")).and_then(Value::as_str).map(str::to_owned),
            created_at: wire.created_at,
            environment_name: wire.environment.and_then(|e| e.name),
            obfuscated: wire.obfuscated,
            salt: wire.salt,
            ..PrecomputedConfiguration::default()
        };
        let text = Text { obfuscated: wire.obfuscated };
        for (key, raw) in &wire.flags {
            let path = member("$.flags", key);
            config.flags.insert(key.clone(), read_flag(key, raw, &path, text));
        }
        for (key, raw) in &wire.bandits {
            let path = member("$.bandits", key);
            config.bandits.insert(key.clone(), read_bandit(key, raw, &path, text));
        }
        Ok(config)
    }

    /// Whether `document` is a precomputed configuration rather than a flag
    /// configuration: an envelope with a `precomputed` entry, or a bare
    /// response whose `format` is `PRECOMPUTED`.
    pub fn describes(document: &Value) -> bool {
        (envelope::is_envelope(document) && document.get("precomputed").is_some())
            || document.get("format").and_then(Value::as_str) == Some("PRECOMPUTED")
    }

    /// The subject the assignments were computed for, when the envelope says.
    pub fn subject_key(&self) -> Option<&str> {
        self.subject_key.as_deref()
    }

    /// That subject's attributes (categorical and numeric merged).
    pub fn subject_attributes(&self) -> &Attributes {
        &self.subject_attributes
    }

    /// `environment.name`.
    pub fn environment_name(&self) -> Option<&str> {
        self.environment_name.as_deref()
    }

    /// Whether keys are digests and strings base64.
    pub fn is_obfuscated(&self) -> bool {
        self.obfuscated
    }

    /// The key `flag_key` is stored under: `md5(salt + flagKey)` when
    /// obfuscated (the salt as written, not decoded).
    fn stored_key(&self, flag_key: &str) -> String {
        if self.obfuscated {
            md5_hex(&format!("{}{flag_key}", self.salt))
        } else {
            flag_key.to_owned()
        }
    }

    /// Every entry that could not be read: the flags', then the bandits',
    /// each by key. The entries sit in hash maps, whose order changes from
    /// one process to the next; the list must not.
    pub fn errors(&self) -> Vec<&FlagConfigError> {
        let mut errors = errors_by_key(&self.flags);
        errors.extend(errors_by_key(&self.bandits));
        errors
    }

    /// Looks up `flag_key`, asked for as `expected_type`.
    pub fn assignment(&self, flag_key: &str, expected_type: VariationType) -> PrecomputedOutcome<'_> {
        let outcome = |code, flag| PrecomputedOutcome { code, flag };
        match self.flags.get(&self.stored_key(flag_key)) {
            None => outcome(FlagEvaluationCode::FlagUnrecognizedOrDisabled, None),
            Some(Err(_)) => outcome(FlagEvaluationCode::UnexpectedConfigurationError, None),
            Some(Ok(flag)) if flag.variation_type != expected_type => {
                outcome(FlagEvaluationCode::TypeMismatch, Some(flag))
            }
            Some(Ok(flag)) if flag.value.is_none() => outcome(FlagEvaluationCode::AssignmentError, Some(flag)),
            Some(Ok(flag)) => outcome(FlagEvaluationCode::Match, Some(flag)),
        }
    }

    /// The precomputed bandit action of `flag_key`, if any.
    pub fn bandit(&self, flag_key: &str) -> Option<&PrecomputedBandit> {
        self.bandits.get(&self.stored_key(flag_key))?.as_ref().ok()
    }

    /// The bandit event a precomputed client logs when it serves
    /// `flag_key`'s precomputed action (spec section 5): the reference's
    /// event shape, with the envelope's subject and the entry's action.
    /// `None` when the flag is not served or has no bandit entry.
    pub fn bandit_event(&self, flag_key: &str, now: Timestamp) -> Option<Value> {
        if self.assignment(flag_key, VariationType::String).code != FlagEvaluationCode::Match {
            return None;
        }
        let entry = self.bandit(flag_key)?;
        let wire = self.subject_attributes_wire.as_ref().unwrap_or(&Value::Null);
        let subject = if wire.get("numericAttributes").is_some() || wire.get("categoricalAttributes").is_some() {
            SubjectAttributes::from_value(wire)
        } else {
            wire.as_object().map(SubjectAttributes::from_flat).unwrap_or_default()
        };
        let action =
            Action::from_json(&entry.action, &entry.action_numeric_attributes, &entry.action_categorical_attributes);
        let choice = ActionChoice {
            bandit_key: &entry.bandit_key,
            action: &action,
            probability: entry.action_probability,
            optimality_gap: entry.optimality_gap,
            model_version: &entry.model_version,
        };
        let event = BanditEvent {
            flag_key,
            subject_key: self.subject_key.as_deref()?,
            subject: &subject.context,
            choice,
            timestamp: now,
        };
        Some(event.to_json())
    }

    /// The details of a lookup, in the shared test files' shape. There is
    /// no rule or allocation order to report: `matchedRule` and
    /// `matchedAllocation` are null and the description names the
    /// allocation.
    pub fn details(&self, flag_key: &str, outcome: &PrecomputedOutcome<'_>) -> Value {
        let flag = outcome.flag;
        let served = outcome.code == FlagEvaluationCode::Match;
        let bandit = self.bandit(flag_key).filter(|_| served);
        let description = match (outcome.code, flag) {
            (FlagEvaluationCode::Match, Some(flag)) => match &flag.allocation_key {
                Some(allocation) => format!("Precomputed assignment from allocation \"{allocation}\"."),
                None => "Precomputed assignment.".to_owned(),
            },
            (FlagEvaluationCode::TypeMismatch, Some(flag)) => {
                format!(
                    "Flag \"{flag_key}\" has variation type {}, but another type was requested",
                    flag.variation_type
                )
            }
            (FlagEvaluationCode::AssignmentError, Some(flag)) => format!(
                "Variation ({}) is configured for type {}, but is set to incompatible value",
                flag.variation_key().unwrap_or_default(),
                flag.variation_type
            ),
            (FlagEvaluationCode::UnexpectedConfigurationError, _) => {
                format!("Flag \"{flag_key}\" has an unreadable precomputed entry")
            }
            _ => format!("Unrecognized or disabled flag: {flag_key}"),
        };
        serde_json::json!({
            "environmentName": self.environment_name,
            "flagEvaluationCode": outcome.code.as_str(),
            "flagEvaluationDescription": description,
            "banditKey": bandit.map(|b| b.bandit_key.as_str()),
            "banditAction": bandit.map(|b| b.action.as_str()),
            "variationKey": flag.filter(|_| served).and_then(PrecomputedFlag::variation_key),
            "variationValue": flag.filter(|_| served).and_then(|f| f.value.as_ref()).map(TypedValue::to_json),
            "matchedRule": null,
            "matchedAllocation": null,
            "unmatchedAllocations": [],
            "unevaluatedAllocations": [],
        })
    }
}

impl PrecomputedFlag {
    /// `variationKey`, when written.
    pub fn variation_key(&self) -> Option<&str> {
        self.split.as_ref().map(|split| &*split.variation_key)
    }

    /// `extraLogging`, sorted by key (empty when not written).
    pub fn extra_logging(&self) -> &[(String, String)] {
        self.split.as_ref().map_or(&[], |split| split.extra_logging.as_slice())
    }
}

impl<'c> PrecomputedOutcome<'c> {
    /// The served value; `None` means the caller's default is served.
    pub fn value(&self) -> Option<&'c TypedValue> {
        self.flag.filter(|_| self.code == FlagEvaluationCode::Match)?.value.as_ref()
    }

    /// The assignment event, for a served value whose entry has `doLog`.
    pub fn assignment_event<'a>(
        &self,
        flag_key: &'a str,
        subject_key: &'a str,
        subject_attributes: &'a Attributes,
        now: Timestamp,
    ) -> Option<AssignmentEvent<'a>>
    where
        'c: 'a,
    {
        let flag = self.flag.filter(|f| self.code == FlagEvaluationCode::Match && f.do_log)?;
        Some(AssignmentEvent {
            flag_key,
            allocation_key: flag.allocation_key.as_deref()?,
            split: flag.split.as_ref()?,
            subject_key,
            subject_attributes,
            timestamp: now,
        })
    }
}

impl PrecomputedBandit {
    /// The bandit event fields a precomputed bandit determines (spec
    /// section 5), in the reference's event shape; the subject's attribute
    /// maps are the caller's.
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "banditKey": self.bandit_key,
            "action": self.action,
            "actionProbability": self.action_probability,
            "optimalityGap": self.optimality_gap,
            "modelVersion": self.model_version,
            "actionNumericAttributes": self.action_numeric_attributes,
            "actionCategoricalAttributes": self.action_categorical_attributes,
        })
    }
}

/// `{categoricalAttributes, numericAttributes}` merged (categorical wins a
/// clash, as for bandit flags), or a flat map.
fn subject_attributes(value: &Value) -> Attributes {
    let pick = |key: &str| value.get(key).and_then(Value::as_object);
    let empty = Map::new();
    match (pick("numericAttributes"), pick("categoricalAttributes")) {
        (None, None) => value.as_object().map(Attributes::from_json).unwrap_or_default(),
        (numeric, categorical) => {
            Attributes::from_context_json(numeric.unwrap_or(&empty), categorical.unwrap_or(&empty))
        }
    }
}

/// Reading string fields: as they are, or base64-decoded.
#[derive(Clone, Copy)]
struct Text {
    obfuscated: bool,
}

impl Text {
    fn read(self, key: &str, text: &str, path: &str) -> Result<String, FlagConfigError> {
        if !self.obfuscated {
            return Ok(text.to_owned());
        }
        decode_base64(text).ok_or_else(|| {
            FlagConfigError::new(key, path.to_owned(), format!("expected base64 text of UTF-8, found {text:?}"))
        })
    }

    /// A map whose keys and string values are read; `number` parses values
    /// of an obfuscated numeric map back into numbers.
    fn map(
        self,
        key: &str,
        map: &Map<String, Value>,
        path: &str,
        number: bool,
    ) -> Result<Map<String, Value>, FlagConfigError> {
        map.iter()
            .map(|(name, value)| {
                let here = member(path, name);
                let value = match value {
                    Value::String(text) if self.obfuscated => {
                        let text = self.read(key, text, &here)?;
                        match number.then(|| serde_json::from_str::<serde_json::Number>(&text).ok()).flatten() {
                            Some(n) => Value::Number(n),
                            None => Value::String(text),
                        }
                    }
                    other => other.clone(),
                };
                Ok((self.read(key, name, &here)?, value))
            })
            .collect()
    }
}

fn read_flag(key: &str, raw: &Value, path: &str, text: Text) -> Result<PrecomputedFlag, FlagConfigError> {
    let wire: FlagWire = serde_path_to_error::deserialize(raw)
        .map_err(|err| FlagConfigError::new(key, json_path(path, err.path()), expected(err.inner())))?;
    let variation_type = variation_type_at(key, &wire.variation_type, path)?;
    let raw_value = match (&wire.variation_value, text.obfuscated) {
        (Value::String(encoded), true) => {
            typed_variation_value(variation_type.as_str(), text.read(key, encoded, &member(path, "variationValue"))?)
        }
        (value, _) => value.clone(),
    };
    let extra = text.map(key, &wire.extra_logging.unwrap_or_default(), &member(path, "extraLogging"), false)?;
    let mut extra_logging: Vec<(String, String)> =
        extra.into_iter().map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_owned))).collect();
    extra_logging.sort();
    let allocation_key = wire.allocation_key.map(|k| text.read(key, &k, &member(path, "allocationKey"))).transpose()?;
    let variation_key = wire.variation_key.map(|k| text.read(key, &k, &member(path, "variationKey"))).transpose()?;
    Ok(PrecomputedFlag {
        allocation_key,
        variation_type,
        value: variation_type.convert(&raw_value),
        raw_value,
        split: variation_key.map(|variation_key| Split {
            shards: Vec::new(),
            variation_key: variation_key.into(),
            extra_logging,
        }),
        do_log: wire.do_log,
    })
}

fn read_bandit(key: &str, raw: &Value, path: &str, text: Text) -> Result<PrecomputedBandit, FlagConfigError> {
    let wire: BanditWire = serde_path_to_error::deserialize(raw)
        .map_err(|err| FlagConfigError::new(key, json_path(path, err.path()), expected(err.inner())))?;
    Ok(PrecomputedBandit {
        bandit_key: text.read(key, &wire.bandit_key, &member(path, "banditKey"))?,
        action: text.read(key, &wire.action, &member(path, "action"))?,
        action_probability: wire.action_probability,
        optimality_gap: wire.optimality_gap,
        model_version: text.read(key, &wire.model_version, &member(path, "modelVersion"))?,
        action_numeric_attributes: text.map(
            key,
            &wire.action_numeric_attributes,
            &member(path, "actionNumericAttributes"),
            true,
        )?,
        action_categorical_attributes: text.map(
            key,
            &wire.action_categorical_attributes,
            &member(path, "actionCategoricalAttributes"),
            false,
        )?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use serde_json::json;

    const SALT: &str = "c2FsdA==";

    /// One precomputed response, plain and obfuscated the way spec section
    /// 7 says, from the same table.
    fn response(obfuscated: bool) -> Value {
        let b64 = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
        let text = |t: &str| if obfuscated { b64(t) } else { t.to_owned() };
        let key = |k: &str| if obfuscated { md5_hex(&format!("{SALT}{k}")) } else { k.to_owned() };
        let value = |v: Value| match (&v, obfuscated) {
            (Value::String(s), true) => Value::String(b64(s)),
            (other, true) => Value::String(b64(&other.to_string())),
            (_, false) => v,
        };
        let flag = |allocation: &str,
                    variation: &str,
                    variation_type: &str,
                    v: Value,
                    extra: &[(&str, &str)],
                    do_log: bool| {
            let extra: Map<String, Value> = extra.iter().map(|(k, v)| (text(k), Value::String(text(v)))).collect();
            json!({"allocationKey": text(allocation), "variationKey": text(variation), "variationType": variation_type,
                   "variationValue": value(v), "extraLogging": extra, "doLog": do_log})
        };
        json!({"format": "PRECOMPUTED", "obfuscated": obfuscated, "salt": SALT, "environment": {"name": "Test"},
            "flags": {
                key("color"): flag("a-1", "v-red", "STRING", json!("red"), &[("holdout", "h1")], true),
                key("limit"): flag("a-2", "v-42", "INTEGER", json!(42), &[], false),
                key("ratio"): flag("a-3", "v-pi", "NUMERIC", json!(3.25), &[], true),
                key("on"): flag("a-4", "v-on", "BOOLEAN", json!(true), &[], true),
                key("blob"): flag("a-5", "v-j", "JSON", json!("{\"a\":1}"), &[], true),
                key("wrong"): flag("a-6", "v-w", "INTEGER", json!("many"), &[], true),
                key("broken"): {"variationType": "STRING"}
            },
            "bandits": {key("color"): {"banditKey": text("recs"), "action": text("show"), "actionProbability": 0.5,
                "optimalityGap": 0.25, "modelVersion": text("v9"),
                "actionNumericAttributes": {text("price"): value(json!(9.5))},
                "actionCategoricalAttributes": {text("kind"): text("promo")}}}
        })
    }

    fn load(obfuscated: bool) -> PrecomputedConfiguration {
        let document = json!({"version": 1, "precomputed": {"subjectKey": "alice",
            "subjectAttributes": {"numericAttributes": {"age": 30}, "categoricalAttributes": {"country": "US"}},
            "response": response(obfuscated).to_string()}});
        PrecomputedConfiguration::from_value(&document).unwrap()
    }

    #[test]
    fn lookups_serve_typed_values_or_say_why_not() {
        for obfuscated in [false, true] {
            let config = load(obfuscated);
            let value = |flag: &str, t: VariationType| config.assignment(flag, t).value().map(TypedValue::to_json);
            assert_eq!(value("color", VariationType::String), Some(json!("red")), "obfuscated: {obfuscated}");
            assert_eq!(value("limit", VariationType::Integer), Some(json!(42)));
            assert_eq!(value("ratio", VariationType::Numeric), Some(json!(3.25)));
            assert_eq!(value("on", VariationType::Boolean), Some(json!(true)));
            assert_eq!(value("blob", VariationType::Json), Some(json!({"a": 1})));
            let code = |flag: &str, t: VariationType| config.assignment(flag, t).code;
            assert_eq!(code("color", VariationType::Integer), FlagEvaluationCode::TypeMismatch);
            assert_eq!(code("missing", VariationType::String), FlagEvaluationCode::FlagUnrecognizedOrDisabled);
            assert_eq!(code("wrong", VariationType::Integer), FlagEvaluationCode::AssignmentError);
            assert_eq!(code("broken", VariationType::String), FlagEvaluationCode::UnexpectedConfigurationError);
            assert_eq!(config.errors().len(), 1);
        }
    }

    #[test]
    fn the_envelope_names_the_subject_and_events_follow_do_log() {
        for obfuscated in [false, true] {
            let config = load(obfuscated);
            assert_eq!(config.subject_key(), Some("alice"));
            assert_eq!(config.subject_attributes().len(), 2);
            let outcome = config.assignment("color", VariationType::String);
            let event = outcome.assignment_event("color", "alice", config.subject_attributes(), Timestamp::UNIX_EPOCH);
            let event = event.map(|e| e.to_json()).unwrap_or_default();
            assert_eq!(event["allocation"], "a-1");
            assert_eq!(event["variation"], "v-red");
            assert_eq!(event["holdout"], "h1");
            let quiet = config.assignment("limit", VariationType::Integer);
            assert!(quiet
                .assignment_event("limit", "alice", config.subject_attributes(), Timestamp::UNIX_EPOCH)
                .is_none());
            let details = config.details("color", &outcome);
            assert_eq!((&details["variationKey"], &details["banditAction"]), (&json!("v-red"), &json!("show")));
        }
    }

    #[test]
    fn a_non_finite_number_written_as_null_reads_as_nan() {
        // JSON has no infinities: JSON.stringify (and the reference's writer) write null.
        let document = json!({"format": "PRECOMPUTED", "flags": {}, "bandits": {"f": {"banditKey": "b",
            "action": "a", "actionProbability": 1.0, "optimalityGap": null, "modelVersion": "v"}}});
        let config = PrecomputedConfiguration::from_value(&document).unwrap();
        assert!(config.errors().is_empty(), "{:?}", config.errors());
        let bandit = config.bandit("f").unwrap();
        assert!(bandit.optimality_gap.is_nan() && bandit.action_probability == 1.0);
    }

    #[test]
    fn bandits_decode_their_attribute_maps() {
        let plain = load(false).bandit("color").cloned();
        let obfuscated = load(true).bandit("color").cloned();
        assert_eq!(plain, obfuscated);
        let bandit = plain.unwrap();
        assert_eq!(bandit.action_numeric_attributes, *json!({"price": 9.5}).as_object().unwrap());
        assert_eq!(bandit.action_categorical_attributes, *json!({"kind": "promo"}).as_object().unwrap());
        assert!(load(true).bandit("limit").is_none());
    }

    #[test]
    fn entries_without_do_log_may_leave_out_their_keys() {
        // The RS core writes only type, value and doLog when doLog is false.
        let document = json!({"format": "PRECOMPUTED", "salt": "", "flags": {
            "quiet": {"variationType": "INTEGER", "variationValue": 7, "doLog": false}}});
        let config = PrecomputedConfiguration::from_value(&document).unwrap();
        let outcome = config.assignment("quiet", VariationType::Integer);
        assert_eq!(outcome.value().map(TypedValue::to_json), Some(json!(7)));
        let flag = outcome.flag.unwrap();
        assert_eq!((flag.allocation_key.as_deref(), flag.variation_key(), flag.extra_logging()), (None, None, &[][..]));
        assert!(config.errors().is_empty());
    }

    #[test]
    fn precomputed_documents_are_told_from_flag_configurations() {
        assert!(PrecomputedConfiguration::describes(&json!({"version": 1, "precomputed": {}})));
        assert!(PrecomputedConfiguration::describes(&response(false)));
        assert!(!PrecomputedConfiguration::describes(&json!({"version": 1, "config": {"response": "{}"}})));
        assert!(!PrecomputedConfiguration::describes(&json!({"format": "SERVER", "flags": {}})));
        // Only an envelope's `precomputed` entry counts, not a flag of that name.
        assert!(!PrecomputedConfiguration::describes(&json!({"flags": {}, "precomputed": {}})));
    }

    #[test]
    fn a_document_that_is_not_precomputed_names_the_path() {
        let err = PrecomputedConfiguration::from_value(&json!({"flags": []})).unwrap_err().to_string();
        assert!(err.contains("$.flags") && err.contains("precomputed"), "{err}");
    }
}
