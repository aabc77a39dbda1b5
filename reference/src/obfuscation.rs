//! The obfuscated (CLIENT) configuration format of spec section 6, and the
//! two encodings it and the precomputed format (section 7) use: MD5 hex
//! digests for what the evaluator only ever compares, base64 for what it
//! must read back.
//!
//! A CLIENT flag is revealed into the plain layout before it is compiled:
//! base64 fields are decoded, operator digests are named, IS_NULL digests
//! become bools. Flag keys, attribute names and ONE_OF values cannot be
//! decoded, so they stay digests and the evaluator hashes the caller's side
//! instead (see [`Naming`]).

use base64::Engine;
use md5::{Digest, Md5};
use serde_json::{Map, Value};

use crate::error::{member, FlagConfigError};

/// How a configuration writes flag keys, attribute names and ONE_OF values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Naming {
    /// As they are (`SERVER` format).
    #[default]
    Plain,
    /// As lowercase hex MD5 digests (`CLIENT` format).
    Md5,
}

impl Naming {
    /// The form `text` takes in a configuration of this naming.
    pub fn name(self, text: &str) -> std::borrow::Cow<'_, str> {
        match self {
            Naming::Plain => std::borrow::Cow::Borrowed(text),
            Naming::Md5 => std::borrow::Cow::Owned(md5_hex(text)),
        }
    }
}

/// The MD5 digest of `text`.
pub fn md5_digest(text: &str) -> [u8; 16] {
    Md5::digest(text.as_bytes()).into()
}

/// Reads a digest written as [`md5_hex`] writes it (32 lowercase hex
/// digits); anything else is no digest, and matches nothing.
pub fn parse_md5_hex(hex: &str) -> Option<[u8; 16]> {
    let digit = |c: u8| HEX.iter().position(|h| *h == c).and_then(|d| u8::try_from(d).ok());
    let bytes = hex.as_bytes();
    if bytes.len() != 32 {
        return None;
    }
    let mut digest = [0u8; 16];
    for (slot, pair) in digest.iter_mut().zip(bytes.chunks_exact(2)) {
        *slot = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(digest)
}

/// The lowercase hex MD5 digest of `text`.
pub fn md5_hex(text: &str) -> String {
    let mut hex = String::with_capacity(32);
    for byte in md5_digest(text) {
        hex.push(char::from(HEX[usize::from(byte >> 4)]));
        hex.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    hex
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Decodes base64 text (padding optional) that holds UTF-8.
pub fn decode_base64(text: &str) -> Option<String> {
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    String::from_utf8(engine.decode(text).ok()?).ok()
}

/// The operators a condition may name, for reading their digests back.
const OPERATORS: [&str; 9] = ["MATCHES", "NOT_MATCHES", "GT", "GTE", "LT", "LTE", "ONE_OF", "NOT_ONE_OF", "IS_NULL"];

fn operator_named_by(digest: &str) -> Option<&'static str> {
    OPERATORS.into_iter().find(|op| md5_hex(op) == digest)
}

/// Rewrites one CLIENT-format flag into the plain layout (everything
/// decoded except the digests of [`Naming::Md5`]). `path` locates the flag,
/// for errors: a field that should be base64 and is not makes the flag
/// invalid, as any malformed field does.
pub(crate) fn reveal_flag(key: &str, raw: &Value, path: &str) -> Result<Value, FlagConfigError> {
    let mut flag = raw.clone();
    let Some(fields) = flag.as_object_mut() else {
        // Not an object: compiling reports it with the usual message.
        return Ok(flag);
    };
    let variation_type = fields.get("variationType").and_then(Value::as_str).unwrap_or_default().to_owned();
    let reveal = Reveal { key };
    if let Some(Value::Object(variations)) = fields.get_mut("variations") {
        let at = member(path, "variations");
        let mut revealed = Map::new();
        for (name, variation) in std::mem::take(variations) {
            let here = member(&at, &name);
            let name = reveal.text(&name, &here)?;
            let mut variation = variation;
            if let Some(entry) = variation.as_object_mut() {
                reveal.field(entry, "key", &here)?;
                if let Some(Value::String(encoded)) = entry.get("value") {
                    let text = reveal.text(encoded, &member(&here, "value"))?;
                    entry.insert("value".into(), typed_variation_value(&variation_type, text));
                }
            }
            revealed.insert(name, variation);
        }
        *variations = revealed;
    }
    if let Some(Value::Array(allocations)) = fields.get_mut("allocations") {
        for (index, allocation) in allocations.iter_mut().enumerate() {
            let at = format!("{}[{index}]", member(path, "allocations"));
            if let Some(allocation) = allocation.as_object_mut() {
                reveal.allocation(allocation, &at)?;
            }
        }
    }
    Ok(flag)
}

/// Writes a plain (SERVER) configuration in the CLIENT format, as spec
/// section 6 says: the inverse of revealing it, used to put generated
/// configurations to SDKs that read the format. Values a field cannot hold
/// (a number inside ONE_OF, a string for IS_NULL) are left as they are, so
/// an invalid condition stays invalid; bandit links are dropped.
pub fn obfuscate_configuration(plain: &Value) -> Value {
    let mut document = plain.clone();
    let Some(fields) = document.as_object_mut() else { return document };
    fields.insert("format".into(), Value::String("CLIENT".into()));
    fields.remove("bandits");
    fields.remove("banditReferences");
    if let Some(Value::Object(flags)) = fields.get_mut("flags") {
        *flags = std::mem::take(flags).into_iter().map(|(key, flag)| (md5_hex(&key), obfuscate_flag(flag))).collect();
    }
    document
}

pub(crate) fn encode(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// The text a value is encoded from: strings as they are, the rest as JSON.
pub(crate) fn string_form(value: &Value) -> String {
    value.as_str().map_or_else(|| value.to_string(), str::to_owned)
}

/// Replaces `entry[name]`, when present, by `f` of it.
fn rewrite(entry: &mut Map<String, Value>, name: &str, f: impl FnOnce(&Value) -> Value) {
    if let Some(value) = entry.get_mut(name) {
        *value = f(value);
    }
}

fn encode_string(value: &Value) -> Value {
    value.as_str().map_or_else(|| value.clone(), |text| Value::String(encode(text)))
}

fn obfuscate_flag(mut flag: Value) -> Value {
    let Some(fields) = flag.as_object_mut() else { return flag };
    rewrite(fields, "key", |key| key.as_str().map_or_else(|| key.clone(), |k| Value::String(md5_hex(k))));
    if let Some(Value::Object(variations)) = fields.get_mut("variations") {
        *variations = std::mem::take(variations)
            .into_iter()
            .map(|(name, mut variation)| {
                if let Some(entry) = variation.as_object_mut() {
                    rewrite(entry, "key", encode_string);
                    rewrite(entry, "value", |value| Value::String(encode(&string_form(value))));
                }
                (encode(&name), variation)
            })
            .collect();
    }
    let allocations = fields.get_mut("allocations").and_then(Value::as_array_mut).into_iter().flatten();
    for allocation in allocations.filter_map(Value::as_object_mut) {
        for name in ["key", "startAt", "endAt"] {
            rewrite(allocation, name, encode_string);
        }
        let rules = allocation.get_mut("rules").and_then(Value::as_array_mut).into_iter().flatten();
        for rule in rules {
            let conditions = rule.get_mut("conditions").and_then(Value::as_array_mut).into_iter().flatten();
            conditions.filter_map(Value::as_object_mut).for_each(obfuscate_condition);
        }
        let splits = allocation.get_mut("splits").and_then(Value::as_array_mut).into_iter().flatten();
        for split in splits.filter_map(Value::as_object_mut) {
            rewrite(split, "variationKey", encode_string);
            let shards = split.get_mut("shards").and_then(Value::as_array_mut).into_iter().flatten();
            shards.filter_map(Value::as_object_mut).for_each(|shard| rewrite(shard, "salt", encode_string));
            if let Some(Value::Object(extra)) = split.get_mut("extraLogging") {
                *extra = std::mem::take(extra)
                    .into_iter()
                    .map(|(name, value)| (encode(&name), Value::String(encode(&string_form(&value)))))
                    .collect();
            }
        }
    }
    flag
}

fn obfuscate_condition(condition: &mut Map<String, Value>) {
    let operator = condition.get("operator").and_then(Value::as_str).map(str::to_owned);
    let digest = |value: &Value| value.as_str().map_or_else(|| value.clone(), |text| Value::String(md5_hex(text)));
    rewrite(condition, "attribute", digest);
    rewrite(condition, "operator", digest);
    rewrite(condition, "value", |value| match (operator.as_deref(), value) {
        (Some("ONE_OF" | "NOT_ONE_OF"), Value::Array(items)) => Value::Array(items.iter().map(digest).collect()),
        (Some("ONE_OF" | "NOT_ONE_OF"), other) => other.clone(),
        (Some("IS_NULL"), Value::Bool(b)) => Value::String(md5_hex(&b.to_string())),
        (Some("IS_NULL"), other) => other.clone(),
        (_, Value::String(_) | Value::Number(_)) => Value::String(encode(&string_form(value))),
        (_, other) => other.clone(),
    });
}

/// A decoded variation value back in the JSON type its flag's type stores:
/// numbers and bools were base64 of their text; STRING and JSON values are
/// strings either way. Text that does not read as the type stays a string,
/// so the flag reports the same `ASSIGNMENT_ERROR` a plain one would.
pub(crate) fn typed_variation_value(variation_type: &str, text: String) -> Value {
    let parsed = match variation_type {
        "INTEGER" | "NUMERIC" => serde_json::from_str::<serde_json::Number>(&text).ok().map(Value::Number),
        "BOOLEAN" => match text.as_str() {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        _ => None,
    };
    parsed.unwrap_or(Value::String(text))
}

/// Decoding within one flag, which errors name.
struct Reveal<'a> {
    key: &'a str,
}

impl Reveal<'_> {
    fn text(&self, encoded: &str, at: &str) -> Result<String, FlagConfigError> {
        decode_base64(encoded).ok_or_else(|| {
            FlagConfigError::new(
                self.key,
                at.to_owned(),
                format!("expected base64 text of UTF-8 (CLIENT format), found {encoded:?}"),
            )
        })
    }

    /// Decodes `entry[name]` in place when it is a string.
    fn field(&self, entry: &mut Map<String, Value>, name: &str, at: &str) -> Result<(), FlagConfigError> {
        if let Some(Value::String(encoded)) = entry.get(name) {
            let text = self.text(encoded, &member(at, name))?;
            entry.insert(name.to_owned(), Value::String(text));
        }
        Ok(())
    }

    fn allocation(&self, allocation: &mut Map<String, Value>, at: &str) -> Result<(), FlagConfigError> {
        for name in ["key", "startAt", "endAt"] {
            self.field(allocation, name, at)?;
        }
        if let Some(Value::Array(rules)) = allocation.get_mut("rules") {
            for (r, rule) in rules.iter_mut().enumerate() {
                let Some(Value::Array(conditions)) = rule.get_mut("conditions") else { continue };
                for (c, condition) in conditions.iter_mut().enumerate() {
                    if let Some(condition) = condition.as_object_mut() {
                        let here = format!("{}[{r}].conditions[{c}]", member(at, "rules"));
                        self.condition(condition, &here)?;
                    }
                }
            }
        }
        if let Some(Value::Array(splits)) = allocation.get_mut("splits") {
            for (s, split) in splits.iter_mut().enumerate() {
                let Some(split) = split.as_object_mut() else { continue };
                let here = format!("{}[{s}]", member(at, "splits"));
                self.field(split, "variationKey", &here)?;
                if let Some(Value::Array(shards)) = split.get_mut("shards") {
                    for (i, shard) in shards.iter_mut().enumerate() {
                        if let Some(shard) = shard.as_object_mut() {
                            self.field(shard, "salt", &format!("{}[{i}]", member(&here, "shards")))?;
                        }
                    }
                }
                if let Some(Value::Object(extra)) = split.get_mut("extraLogging") {
                    let at = member(&here, "extraLogging");
                    let mut revealed = Map::new();
                    for (name, value) in std::mem::take(extra) {
                        let here = member(&at, &name);
                        let value = match value {
                            Value::String(encoded) => Value::String(self.text(&encoded, &here)?),
                            other => other,
                        };
                        revealed.insert(self.text(&name, &here)?, value);
                    }
                    *extra = revealed;
                }
            }
        }
        Ok(())
    }

    /// Names the operator and decodes the value; the attribute stays a
    /// digest, and so do ONE_OF values. An operator digest that names no
    /// known operator is left as is: the condition is then invalid (always
    /// false), as an unknown operator is in a plain configuration.
    fn condition(&self, condition: &mut Map<String, Value>, at: &str) -> Result<(), FlagConfigError> {
        let Some(operator) = condition.get("operator").and_then(Value::as_str).and_then(operator_named_by) else {
            return Ok(());
        };
        condition.insert("operator".into(), Value::String(operator.into()));
        match operator {
            "ONE_OF" | "NOT_ONE_OF" => {}
            "IS_NULL" => {
                let digest = condition.get("value").and_then(Value::as_str).map(str::to_owned);
                if let Some(digest) = digest {
                    let truth = [true, false].into_iter().find(|b| md5_hex(&b.to_string()) == digest);
                    if let Some(truth) = truth {
                        condition.insert("value".into(), Value::Bool(truth));
                    }
                }
            }
            _ => self.field(condition, "value", at)?,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn digests_and_base64_match_known_values() {
        // Digests from the spec's examples, computed independently (`md5sum`).
        assert_eq!(md5_hex("true"), "b326b5062b2f0e69046810717534cb09");
        assert_eq!(md5_hex("ONE_OF"), "27457ce369f2a74203396a35ef537c0b");
        assert_eq!(decode_base64("cGk=").as_deref(), Some("pi"));
        assert_eq!(decode_base64("cGk").as_deref(), Some("pi"));
        assert_eq!(decode_base64(""), Some(String::new()));
        assert_eq!(decode_base64("not base64!"), None);
        assert_eq!(parse_md5_hex(&md5_hex("true")), Some(md5_digest("true")));
        assert_eq!(parse_md5_hex("B326B5062B2F0E69046810717534CB09"), None, "digests are written in lowercase");
        assert_eq!(parse_md5_hex("b326"), None);
    }

    #[test]
    fn a_client_flag_is_revealed_except_for_its_digests() {
        let flag = json!({
            "key": md5_hex("f"), "enabled": true, "variationType": "NUMERIC", "totalShards": 10,
            "variations": {"cGk=": {"key": "cGk=", "value": "Mi41"}},
            "allocations": [{"key": "YQ==", "startAt": "MjAyMC0wMS0wMVQwMDowMDowMFo=",
                "rules": [{"conditions": [
                    {"operator": md5_hex("ONE_OF"), "attribute": md5_hex("country"), "value": [md5_hex("US")]},
                    {"operator": md5_hex("GTE"), "attribute": md5_hex("age"), "value": "MTg="},
                    {"operator": md5_hex("IS_NULL"), "attribute": md5_hex("x"), "value": md5_hex("false")}]}],
                "splits": [{"variationKey": "cGk=", "extraLogging": {"aA==": "dg=="},
                    "shards": [{"salt": "c2FsdA==", "ranges": [{"start": 0, "end": 10}]}]}]}]
        });
        let plain = reveal_flag("f", &flag, "$.flags.f").unwrap();
        assert_eq!(plain["variations"], json!({"pi": {"key": "pi", "value": 2.5}}));
        let allocation = &plain["allocations"][0];
        assert_eq!(allocation["key"], "a");
        assert_eq!(allocation["startAt"], "2020-01-01T00:00:00Z");
        let conditions = &allocation["rules"][0]["conditions"];
        assert_eq!(
            conditions[0],
            json!({"operator": "ONE_OF", "attribute": md5_hex("country"), "value": [md5_hex("US")]})
        );
        assert_eq!(conditions[1]["operator"], "GTE");
        assert_eq!(conditions[1]["value"], "18");
        assert_eq!(conditions[2]["value"], false);
        let split = &allocation["splits"][0];
        assert_eq!(split["variationKey"], "pi");
        assert_eq!(split["extraLogging"], json!({"h": "v"}));
        assert_eq!(split["shards"][0]["salt"], "salt");
    }

    #[test]
    fn text_that_is_not_base64_names_its_path() {
        let flag = json!({"variationType": "STRING", "variations": {"cGk=": {"key": "%%%", "value": "cGk="}}, "allocations": []});
        let err = reveal_flag("f", &flag, "$.flags.f").unwrap_err();
        assert_eq!(err.path, "$.flags.f.variations[\"cGk=\"].key");
        assert!(err.message.contains("base64"), "{}", err.message);
    }

    fn b64(text: &str) -> String {
        encode(text)
    }

    #[test]
    fn obfuscating_writes_what_revealing_reads() {
        let plain = json!({"format": "SERVER", "flags": {"f": {
            "key": "f", "enabled": true, "variationType": "INTEGER", "totalShards": 10,
            "variations": {"three": {"key": "three", "value": 3}},
            "allocations": [{"key": "a", "endAt": "2099-01-01T00:00:00Z",
                "rules": [{"conditions": [
                    {"attribute": "country", "operator": "ONE_OF", "value": ["US", 5]},
                    {"attribute": "age", "operator": "GT", "value": 18},
                    {"attribute": "x", "operator": "IS_NULL", "value": true}]}],
                "splits": [{"variationKey": "three", "extraLogging": {"h": "v"},
                    "shards": [{"salt": "s", "ranges": [{"start": 0, "end": 10}]}]}]}]}},
            "bandits": {}});
        let client = obfuscate_configuration(&plain);
        assert_eq!(client["format"], "CLIENT");
        assert!(client.get("bandits").is_none());
        let flag = &client["flags"][md5_hex("f")];
        assert_eq!(flag["variations"][b64("three")], json!({"key": b64("three"), "value": b64("3")}));
        let conditions = &flag["allocations"][0]["rules"][0]["conditions"];
        // The number in ONE_OF stays a number: the condition stays invalid.
        assert_eq!(conditions[0]["value"], json!([md5_hex("US"), 5]));
        assert_eq!(conditions[1]["value"], b64("18"));
        assert_eq!(conditions[2]["value"], md5_hex("true"));
        let revealed = reveal_flag("f", flag, "$").unwrap();
        assert_eq!(revealed["variations"], plain["flags"]["f"]["variations"]);
        assert_eq!(revealed["allocations"][0]["endAt"], "2099-01-01T00:00:00Z");
        assert_eq!(revealed["allocations"][0]["splits"], plain["flags"]["f"]["allocations"][0]["splits"]);
        assert_eq!(revealed["allocations"][0]["rules"][0]["conditions"][2]["value"], true);
    }

    /// A CLIENT configuration with one flag: `country` ONE_OF US → "us",
    /// `id` ONE_OF vip → "vip", `age` GTE 18 → "adult", else "other"; and a
    /// second flag whose variation key is not base64.
    fn client_configuration() -> crate::Configuration {
        let condition = |attribute: &str, operator: &str, value: Value| json!({"attribute": md5_hex(attribute), "operator": md5_hex(operator), "value": value});
        let allocation = |key: &str, conditions: Vec<Value>, variation: &str| {
            json!({"key": b64(key), "rules": [{"conditions": conditions}], "doLog": true,
                   "splits": [{"variationKey": b64(variation), "shards": []}]})
        };
        let variations: Map<String, Value> = ["us", "vip", "adult", "other"]
            .iter()
            .map(|v| (b64(v), json!({"key": b64(v), "value": b64(&v.to_uppercase())})))
            .collect();
        let document = json!({"format": "CLIENT", "environment": {"name": "Test"}, "flags": {
            md5_hex("greeting"): {"key": md5_hex("greeting"), "enabled": true, "variationType": "STRING", "totalShards": 10000,
                "variations": variations,
                "allocations": [
                    allocation("by-country", vec![condition("country", "ONE_OF", json!([md5_hex("US")]))], "us"),
                    allocation("by-id", vec![condition("id", "ONE_OF", json!([md5_hex("vip")]))], "vip"),
                    allocation("by-age", vec![condition("age", "GTE", json!(b64("18")))], "adult"),
                    {"key": b64("rest"), "splits": [{"variationKey": b64("other"), "shards": []}]}]},
            md5_hex("broken"): {"key": md5_hex("broken"), "enabled": true, "variationType": "STRING", "totalShards": 1,
                "variations": {"%": {"key": "%", "value": ""}}, "allocations": []}
        }});
        crate::Configuration::from_value(&document).unwrap()
    }

    #[test]
    fn a_client_configuration_evaluates_by_digest() {
        use crate::{AttributeValue, Attributes, FlagRequest, Timestamp, VariationType};
        let config = client_configuration();
        let serve = |subject: &str, attributes: &[(&str, AttributeValue)]| {
            let attributes: Attributes = attributes.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
            let request = FlagRequest::new("greeting", subject, &attributes, VariationType::String);
            let (outcome, details) = config.evaluate_details(&request, Timestamp::UNIX_EPOCH);
            let event = outcome.assignment_event(&request, Timestamp::UNIX_EPOCH).map(|e| e.to_json());
            (outcome.value().map(|v| v.to_json()), details.to_json(), event)
        };
        let (value, details, event) = serve("alice", &[("country", AttributeValue::String("US".into()))]);
        assert_eq!(value, Some(json!("US")));
        assert_eq!(details["variationKey"], "us");
        assert_eq!(details["matchedAllocation"]["key"], "by-country");
        let event = event.unwrap();
        assert_eq!(
            (&event["featureFlag"], &event["allocation"], &event["variation"]),
            (&json!("greeting"), &json!("by-country"), &json!("us"))
        );
        // `id` falls back to the subject key, hashed like any attribute.
        assert_eq!(serve("vip", &[]).0, Some(json!("VIP")));
        assert_eq!(serve("bob", &[("age", AttributeValue::Number(18.0))]).0, Some(json!("ADULT")));
        assert_eq!(
            serve("bob", &[("age", AttributeValue::Number(17.0)), ("country", AttributeValue::String("CA".into()))]).0,
            Some(json!("OTHER"))
        );
        // One flag with undecodable text is an error for that flag alone.
        assert_eq!(config.flag_errors().len(), 1);
        assert!(config.flag_errors()[0].path.contains("variations"), "{:?}", config.flag_errors());
    }

    #[test]
    fn variation_values_regain_their_json_type() {
        assert_eq!(typed_variation_value("INTEGER", "3".into()), json!(3));
        assert_eq!(typed_variation_value("NUMERIC", "-0.5".into()), json!(-0.5));
        assert_eq!(typed_variation_value("BOOLEAN", "true".into()), json!(true));
        assert_eq!(typed_variation_value("JSON", "{}".into()), json!("{}"));
        assert_eq!(typed_variation_value("STRING", "3".into()), json!("3"));
        // Not a number: stays text, and the flag reports ASSIGNMENT_ERROR.
        assert_eq!(typed_variation_value("INTEGER", "three".into()), json!("three"));
    }
}
