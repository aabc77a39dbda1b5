//! Writing precomputed configurations (spec section 7): every flag the
//! reference assigns to one subject, and the bandit action it chooses for
//! each bandit flag given candidate actions, as the configuration a server
//! hands a client SDK. The obfuscated form is the one Eppo serves to
//! clients: map keys `md5(salt + flagKey)`, string fields base64 (numbers
//! and booleans as the base64 of their text), the salt written as given.
//!
//! The writer produces the same typed value the reader produces, so a
//! written configuration answers lookups directly, and its JSON
//! ([`PrecomputedConfiguration::to_json`]) reads back into the same value.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::{PrecomputedBandit, PrecomputedConfiguration, PrecomputedFlag};
use crate::bandit::{Action, BanditModels, BanditRequest, SubjectAttributes};
use crate::config::FlagEntry;
use crate::eval::FlagEvaluationCode;
use crate::flag::Split;
use crate::obfuscation::{encode, string_form};
use crate::{Configuration, FlagRequest, Timestamp};

/// Whom to precompute for.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// The subject key.
    pub key: &'a str,
    /// Its numeric attributes, raw (flat attributes split by
    /// [`crate::bandit::split_flat`]): merged with the categorical ones for
    /// the flags' rules, cleaned for bandits, and written as they are in
    /// the envelope's `subjectAttributes`.
    pub numeric: &'a Map<String, Value>,
    /// Its categorical attributes, raw.
    pub categorical: &'a Map<String, Value>,
    /// Candidate actions per bandit flag.
    pub bandit_actions: &'a BTreeMap<String, Vec<Action>>,
}

/// How the configuration is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Form {
    /// Keys and strings as they are (`obfuscated: false`, salt empty).
    Plain,
    /// Keys `md5(salt + flagKey)`, strings base64.
    Obfuscated {
        /// The salt, written as given and prefixed as given.
        salt: String,
    },
}

impl PrecomputedConfiguration {
    /// Precomputes `config` (with `models` for bandits) for `subject` at
    /// `now`. A flag is written when the reference serves it a value
    /// (`MATCH`); a bandit entry when its flag's variation is linked to a
    /// bandit that chooses an action. Flags the reference does not serve
    /// (disabled, unmatched, invalid values) are left out, so a client
    /// serves its default for them, as evaluation would.
    pub fn precompute(
        config: &Configuration,
        models: Option<&BanditModels>,
        subject: &Subject<'_>,
        form: &Form,
        now: Timestamp,
    ) -> PrecomputedConfiguration {
        let (obfuscated, salt) = match form {
            Form::Plain => (false, String::new()),
            Form::Obfuscated { salt } => (true, salt.clone()),
        };
        let stamp = now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let attributes = SubjectAttributes::from_json(subject.numeric, subject.categorical);
        let mut written = PrecomputedConfiguration {
            subject_key: Some(subject.key.to_owned()),
            subject_attributes: attributes.flag_attributes.clone(),
            subject_attributes_wire: Some(json!({
                "numericAttributes": subject.numeric,
                "categoricalAttributes": subject.categorical,
            })),
            fetched_at: Some(stamp.clone()),
            created_at: Some(stamp),
            environment_name: config.environment_name().map(str::to_owned),
            salt,
            obfuscated,
            ..PrecomputedConfiguration::default()
        };
        for flag_key in config.flag_keys() {
            let Some(FlagEntry::Valid(flag)) = config.flag(flag_key) else { continue };
            let request = FlagRequest::new(flag_key, subject.key, &attributes.flag_attributes, flag.variation_type);
            let outcome = config.evaluate(&request, now);
            let Some(decision) = outcome.decision.filter(|_| outcome.code == FlagEvaluationCode::Match) else {
                continue;
            };
            let Some(variation) = decision.variation else { continue };
            let entry = PrecomputedFlag {
                allocation_key: Some(decision.allocation.key.to_string()),
                variation_type: flag.variation_type,
                value: variation.typed.clone(),
                raw_value: variation.raw.clone(),
                split: Some(Split {
                    shards: Vec::new(),
                    variation_key: decision.split.variation_key.clone(),
                    extra_logging: decision.split.extra_logging.clone(),
                }),
                do_log: decision.allocation.do_log,
            };
            written.flags.insert(written.stored_key(flag_key), Ok(entry));
        }
        for (flag_key, actions) in subject.bandit_actions {
            let request = BanditRequest::new(flag_key, subject.key, &attributes, actions, "");
            let outcome = config.evaluate_bandit(models, &request, now);
            let Some(choice) = outcome.choice.filter(|_| outcome.flag.code == FlagEvaluationCode::Match) else {
                continue;
            };
            let as_map = |value: Value| match value {
                Value::Object(map) => map,
                _ => Map::new(),
            };
            let entry = PrecomputedBandit {
                bandit_key: choice.bandit_key.to_owned(),
                action: choice.action.key.clone(),
                action_probability: choice.probability,
                optimality_gap: choice.optimality_gap,
                model_version: choice.model_version.to_owned(),
                action_numeric_attributes: as_map(choice.action.attributes.numeric_json()),
                action_categorical_attributes: as_map(choice.action.attributes.categorical_json()),
            };
            written.bandits.insert(written.stored_key(flag_key), Ok(entry));
        }
        written
    }

    /// The configuration-wire envelope (`{"version": 1, "precomputed":
    /// {subjectKey, subjectAttributes, fetchedAt, response}}`, the response
    /// as JSON text, as SDKs receive it), or the bare response when no
    /// subject is known. Unreadable entries of a configuration that was
    /// read are left out.
    pub fn to_json(&self) -> Value {
        let response = self.response_json();
        let Some(subject_key) = &self.subject_key else { return response };
        let mut precomputed = Map::new();
        precomputed.insert("subjectKey".into(), Value::from(subject_key.as_str()));
        precomputed.insert("subjectAttributes".into(), self.subject_attributes_wire.clone().unwrap_or(json!({})));
        if let Some(fetched_at) = &self.fetched_at {
            precomputed.insert("fetchedAt".into(), Value::from(fetched_at.as_str()));
        }
        precomputed.insert("response".into(), Value::String(response.to_string()));
        json!({"version": 1, "precomputed": precomputed})
    }

    /// The precomputed response: `{createdAt, format: "PRECOMPUTED",
    /// obfuscated, salt, environment, flags, bandits}`.
    pub fn response_json(&self) -> Value {
        let text = Text { obfuscated: self.obfuscated };
        // Sorted by stored key, so that one configuration has one text.
        let flags: BTreeMap<&String, Value> =
            self.flags.iter().filter_map(|(key, entry)| Some((key, entry.as_ref().ok()?.to_json(text)))).collect();
        let bandits: BTreeMap<&String, Value> =
            self.bandits.iter().filter_map(|(key, entry)| Some((key, entry.as_ref().ok()?.to_wire(text)))).collect();
        let object = |entries: BTreeMap<&String, Value>| {
            Value::Object(entries.into_iter().map(|(key, value)| (key.clone(), value)).collect())
        };
        let mut response = Map::new();
        if let Some(created_at) = &self.created_at {
            response.insert("createdAt".into(), Value::from(created_at.as_str()));
        }
        response.insert("format".into(), Value::from("PRECOMPUTED"));
        response.insert("obfuscated".into(), Value::Bool(self.obfuscated));
        response.insert("salt".into(), Value::from(self.salt.as_str()));
        response.insert("environment".into(), json!({"name": self.environment_name}));
        response.insert("flags".into(), object(flags));
        response.insert("bandits".into(), object(bandits));
        Value::Object(response)
    }
}

/// Writing string fields: as they are, or base64.
#[derive(Clone, Copy)]
struct Text {
    obfuscated: bool,
}

impl Text {
    fn text(self, text: &str) -> Value {
        Value::String(if self.obfuscated { encode(text) } else { text.to_owned() })
    }

    /// A value that is not a string on the plain wire (a number, a boolean)
    /// becomes the base64 of its text when obfuscated, as the JS core's
    /// `attributeEncodeBase64` writes it.
    fn value(self, value: &Value) -> Value {
        if self.obfuscated {
            Value::String(encode(&string_form(value)))
        } else {
            value.clone()
        }
    }

    fn map(self, map: &Map<String, Value>) -> Value {
        let encode_key = |key: &str| if self.obfuscated { encode(key) } else { key.to_owned() };
        Value::Object(map.iter().map(|(key, value)| (encode_key(key), self.value(value))).collect())
    }
}

impl PrecomputedFlag {
    /// The entry as written: `variationKey`, `allocationKey` and
    /// `extraLogging` are left out when not known (an entry read from the
    /// RS core's output with `doLog` false).
    fn to_json(&self, text: Text) -> Value {
        let mut entry = Map::new();
        if let Some(allocation_key) = &self.allocation_key {
            entry.insert("allocationKey".into(), text.text(allocation_key));
        }
        if let Some(split) = &self.split {
            entry.insert("variationKey".into(), text.text(&split.variation_key));
            let extra: Map<String, Value> =
                split.extra_logging.iter().map(|(k, v)| (k.clone(), Value::from(v.as_str()))).collect();
            entry.insert("extraLogging".into(), text.map(&extra));
        }
        entry.insert("variationType".into(), Value::from(self.variation_type.as_str()));
        entry.insert("variationValue".into(), text.value(&self.raw_value));
        entry.insert("doLog".into(), Value::Bool(self.do_log));
        Value::Object(entry)
    }
}

impl PrecomputedBandit {
    fn to_wire(&self, text: Text) -> Value {
        json!({
            "banditKey": text.text(&self.bandit_key),
            "action": text.text(&self.action),
            "actionProbability": self.action_probability,
            "optimalityGap": self.optimality_gap,
            "modelVersion": text.text(&self.model_version),
            "actionNumericAttributes": text.map(&self.action_numeric_attributes),
            "actionCategoricalAttributes": text.map(&self.action_categorical_attributes),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{TypedValue, VariationType};

    /// Flags of every variation type, with extra logging, a quiet
    /// allocation, and flags the subject is not served (disabled, no rule
    /// matched, a value not of its type).
    fn flags() -> Configuration {
        let flag = |key: &str, kind: &str, value: Value, extra: Value, do_log: bool| {
            json!({"key": key, "enabled": true, "variationType": kind, "totalShards": 10000,
                   "variations": {"v": {"key": "v", "value": value}},
                   "allocations": [{"key": format!("{key}-all"), "doLog": do_log, "rules": [],
                       "splits": [{"variationKey": "v", "shards": [], "extraLogging": extra}]}]})
        };
        let mut document = json!({"environment": {"name": "Test"}, "flags": {
            "color": flag("color", "STRING", json!("red"), json!({"holdout": "h1", "arm": "b"}), true),
            "limit": flag("limit", "INTEGER", json!(42), json!({}), false),
            "ratio": flag("ratio", "NUMERIC", json!(3.25), json!({}), true),
            "on": flag("on", "BOOLEAN", json!(false), json!({}), true),
            "blob": flag("blob", "JSON", json!("{\"a\": [1, 2]}"), json!({}), true),
            "wrong": flag("wrong", "INTEGER", json!(3.5), json!({}), true),
            "off": flag("off", "STRING", json!("x"), json!({}), true),
            "gold": flag("gold", "STRING", json!("y"), json!({}), true),
        }});
        document["flags"]["off"]["enabled"] = json!(false);
        document["flags"]["gold"]["allocations"][0]["rules"] =
            json!([{"conditions": [{"attribute": "tier", "operator": "ONE_OF", "value": ["gold"]}]}]);
        Configuration::from_value(&document).unwrap_or_default()
    }

    fn flat() -> Map<String, Value> {
        json!({"age": 30, "country": "US", "beta": true, "gone": null}).as_object().cloned().unwrap()
    }

    fn subject_attributes() -> SubjectAttributes {
        SubjectAttributes::from_flat(&flat())
    }

    fn written(config: &Configuration, models: Option<&BanditModels>, form: &Form) -> PrecomputedConfiguration {
        let (numeric, categorical) = crate::bandit::split_flat(&flat());
        let mut actions = BTreeMap::new();
        let price = json!({"price": 100}).as_object().cloned().unwrap();
        actions.insert(
            "bf-single".to_owned(),
            vec![Action::from_json("red", &price, json!({"kind": "promo"}).as_object().unwrap())],
        );
        let subject = Subject { key: "alice", numeric: &numeric, categorical: &categorical, bandit_actions: &actions };
        PrecomputedConfiguration::precompute(config, models, &subject, form, Timestamp::UNIX_EPOCH)
    }

    fn forms() -> [Form; 2] {
        [Form::Plain, Form::Obfuscated { salt: "c2FsdA==".into() }]
    }

    #[test]
    fn the_reader_reads_back_what_the_writer_writes() {
        for form in forms() {
            let original = written(&flags(), None, &form);
            let document = original.to_json();
            // The response travels as JSON text inside the envelope, as SDKs get it.
            assert!(document["precomputed"]["response"].is_string(), "{document}");
            let read = PrecomputedConfiguration::from_value(&document).unwrap();
            assert!(read.errors().is_empty(), "{:?}", read.errors());
            assert_eq!(read.to_json(), document, "{form:?}");
            assert_eq!(read.is_obfuscated(), matches!(form, Form::Obfuscated { .. }));
            assert_eq!((read.subject_key(), read.environment_name()), (Some("alice"), Some("Test")));
            assert_eq!(read.subject_attributes(), &subject_attributes().flag_attributes);
            let value = |flag: &str, t: VariationType| read.assignment(flag, t).value().map(TypedValue::to_json);
            assert_eq!(value("color", VariationType::String), Some(json!("red")), "{form:?}");
            assert_eq!(value("limit", VariationType::Integer), Some(json!(42)));
            assert_eq!(value("ratio", VariationType::Numeric), Some(json!(3.25)));
            assert_eq!(value("on", VariationType::Boolean), Some(json!(false)));
            assert_eq!(value("blob", VariationType::Json), Some(json!({"a": [1, 2]})));
            for unserved in ["wrong", "off", "gold"] {
                let code = read.assignment(unserved, VariationType::String).code;
                assert_eq!(code, FlagEvaluationCode::FlagUnrecognizedOrDisabled, "{unserved} is not written");
            }
        }
    }

    #[test]
    fn written_entries_log_as_evaluation_does() {
        let config = flags();
        for form in forms() {
            let read = PrecomputedConfiguration::from_value(&written(&config, None, &form).to_json()).unwrap();
            let attributes = subject_attributes().flag_attributes;
            for (flag, t) in [("color", VariationType::String), ("limit", VariationType::Integer)] {
                let request = FlagRequest::new(flag, "alice", &attributes, t);
                let evaluated = config.evaluate(&request, Timestamp::UNIX_EPOCH);
                let expected = evaluated.assignment_event(&request, Timestamp::UNIX_EPOCH).map(|e| e.to_json());
                let looked_up = read.assignment(flag, t);
                let got = looked_up
                    .assignment_event(flag, "alice", read.subject_attributes(), Timestamp::UNIX_EPOCH)
                    .map(|e| e.to_json());
                assert_eq!(got, expected, "{flag} {form:?}");
            }
            let color = read.assignment("color", VariationType::String).flag.unwrap();
            let extra = [("arm".to_owned(), "b".to_owned()), ("holdout".to_owned(), "h1".to_owned())];
            assert_eq!(color.extra_logging(), &extra[..]);
            assert!(!read.assignment("limit", VariationType::Integer).flag.unwrap().do_log);
        }
    }

    #[test]
    fn bandit_flags_carry_the_action_the_reference_chooses() {
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ufc-fixtures/bandits");
        let read = |name: &str| std::fs::read(fixtures.join(name)).unwrap();
        let config = Configuration::from_json(&read("flags-v1.json")).unwrap();
        let models = BanditModels::from_json(&read("bandit-models-v1.json")).unwrap();
        let mut plain = None;
        for form in forms() {
            let document = written(&config, Some(&models), &form).to_json();
            let back = PrecomputedConfiguration::from_value(&document).unwrap();
            assert_eq!(back.to_json(), document);
            let bandit = back.bandit("bf-single").cloned().unwrap();
            assert_eq!((bandit.bandit_key.as_str(), bandit.action.as_str()), ("score-bandit", "red"));
            assert_eq!((bandit.action_probability, bandit.model_version.as_str()), (1.0, "score-v1"));
            assert_eq!(bandit.action_numeric_attributes, *json!({"price": 100}).as_object().unwrap());
            assert_eq!(bandit.action_categorical_attributes, *json!({"kind": "promo"}).as_object().unwrap());
            assert!(back.bandit("bf-ties").is_none(), "no actions were given for it");
            let value = back.assignment("bf-single", VariationType::String).value().map(TypedValue::to_json);
            assert_eq!(value, Some(json!("single-arm")));
            // Both forms hold the same entries.
            match &plain {
                None => plain = Some(bandit),
                Some(first) => assert_eq!(first, &bandit),
            }
        }
    }

    #[test]
    fn the_obfuscated_form_hides_keys_and_strings_as_eppo_serves_them() {
        let document = written(&flags(), None, &Form::Obfuscated { salt: "pepper".into() }).to_json();
        let response: Value = serde_json::from_str(document["precomputed"]["response"].as_str().unwrap()).unwrap();
        assert_eq!(
            (&response["obfuscated"], &response["salt"], &response["format"]),
            (&json!(true), &json!("pepper"), &json!("PRECOMPUTED"))
        );
        let color = &response["flags"][crate::obfuscation::md5_hex("peppercolor")];
        assert_eq!(color["variationValue"], json!(encode("red")));
        assert_eq!(color["allocationKey"], json!(encode("color-all")));
        assert_eq!(color["extraLogging"][encode("holdout")], json!(encode("h1")));
        let limit = &response["flags"][crate::obfuscation::md5_hex("pepperlimit")];
        assert_eq!((&limit["variationValue"], &limit["doLog"]), (&json!(encode("42")), &json!(false)));
        assert!(response["flags"].get("color").is_none());
        // The envelope names the subject with the JS core's contextual maps.
        assert_eq!(
            document["precomputed"]["subjectAttributes"],
            json!({"numericAttributes": {"age": 30}, "categoricalAttributes": {"beta": true, "country": "US", "gone": null}})
        );
    }
}
