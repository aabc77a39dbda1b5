//! A loaded flag configuration: parsed once, compiled once, evaluated many
//! times. One malformed flag becomes a [`FlagConfigError`] for that flag
//! alone; the others evaluate normally.

use std::sync::Arc;

use serde_json::Value;

use crate::compile::compile_flag;
use crate::envelope;
use crate::error::{expected, json_path, member, ConfigurationError, FlagConfigError};
use crate::keymap::KeyMap;
use crate::obfuscation::{reveal_flag, Naming};
use crate::rules::Condition;
use crate::shard::Sharder;
use crate::text::SharedStr;
use crate::value::{TypedValue, VariationType};
use crate::wire::{BanditReferenceWire, BanditVariationWire, ConfigurationWire};
use crate::Timestamp;

/// A compiled UFC flag configuration (`flags-v1.json`).
#[derive(Debug, Default)]
pub struct Configuration {
    environment_name: Option<SharedStr>,
    created_at: Option<String>,
    format: Option<String>,
    naming: Naming,
    flags: KeyMap<FlagEntry>,
    errors: Vec<FlagConfigError>,
    bandit_links: KeyMap<Vec<BanditLink>>,
}

/// A flag as loaded: compiled, or the reason it could not be.
#[derive(Debug)]
pub enum FlagEntry {
    /// Ready to evaluate.
    Valid(Flag),
    /// Could not be read; evaluates to `UNEXPECTED_CONFIGURATION_ERROR`.
    Invalid(FlagConfigError),
}

/// A compiled flag.
#[derive(Debug)]
pub struct Flag {
    /// The `key` field.
    pub key: String,
    /// `enabled`.
    pub enabled: bool,
    /// `variationType`.
    pub variation_type: VariationType,
    /// Variations by their `key` field.
    pub variations: KeyMap<Variation>,
    /// Allocations in order.
    pub allocations: Vec<Allocation>,
    /// `totalShards` (positive).
    pub total_shards: u32,
    /// How many distinct salts the flag's shards use (see [`ShardRule::salt_index`]).
    pub distinct_salts: usize,
}

/// A variation with its value converted to the flag's type.
#[derive(Debug)]
pub struct Variation {
    /// The variation key.
    pub key: String,
    /// The value as configured.
    pub raw: Value,
    /// The value converted to the flag's type, or `None` when incompatible
    /// (which yields `ASSIGNMENT_ERROR` if it is ever selected).
    pub typed: Option<TypedValue>,
    /// The details' `variationValue`: the converted value as callers
    /// receive it (parsed, for JSON), or the raw value when incompatible.
    /// Prepared once, shared by every detailed evaluation.
    pub details_value: Arc<Value>,
    /// The `ASSIGNMENT_ERROR` description, prepared when the value is
    /// incompatible with the flag's type.
    pub assignment_error: Option<Box<str>>,
}

/// A compiled allocation.
#[derive(Debug)]
pub struct Allocation {
    /// The allocation key (copied cheaply into the details that name it).
    pub key: SharedStr,
    /// Rules (OR of ANDs); empty passes.
    pub rules: Vec<Rule>,
    /// Inclusive start.
    pub start_at: Option<Timestamp>,
    /// Inclusive end.
    pub end_at: Option<Timestamp>,
    /// Splits in order.
    pub splits: Vec<Split>,
    /// Whether a match logs an assignment event.
    pub do_log: bool,
}

/// A compiled rule.
#[derive(Debug)]
pub struct Rule {
    /// Conditions, all of which must hold.
    pub conditions: Vec<Condition>,
    /// The rule as written, echoed in details as `matchedRule` (shared, so
    /// that echoing it does not copy it).
    pub raw: Arc<Value>,
}

/// A compiled split.
#[derive(Debug)]
pub struct Split {
    /// Shards, all of which must match (none: always matches).
    pub shards: Vec<ShardRule>,
    /// The variation it serves.
    pub variation_key: SharedStr,
    /// `extraLogging`, sorted by key.
    pub extra_logging: Vec<(String, String)>,
}

/// A salt and the ranges of shards it admits.
#[derive(Debug)]
pub struct ShardRule {
    /// The pre-salted sharder.
    pub sharder: Sharder,
    /// Half-open ranges; any one admits.
    pub ranges: Vec<ShardRange>,
    /// The salt's number within its flag: shards with the same salt share it,
    /// so an evaluation hashes each salt at most once.
    pub salt_index: usize,
    /// The ranges cover every shard, so the rule admits every subject
    /// without hashing.
    pub always_admits: bool,
}

/// A half-open range of shards `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardRange {
    /// Inclusive.
    pub start: u32,
    /// Exclusive.
    pub end: u32,
}

impl ShardRule {
    /// Whether the subject's shard falls in any range.
    #[inline]
    pub fn admits(&self, subject_key: &str) -> bool {
        self.always_admits || self.admits_shard(self.sharder.shard(subject_key))
    }

    /// Whether `shard` falls in any range.
    #[inline]
    pub fn admits_shard(&self, shard: u32) -> bool {
        self.ranges.iter().any(|r| r.start <= shard && shard < r.end)
    }
}

/// A link from a flag's variation to a bandit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BanditLink {
    /// The bandit key.
    pub bandit_key: String,
    /// The flag's variation value (a string) that is linked.
    pub variation_value: String,
    /// The variation key.
    pub variation_key: String,
}

impl Configuration {
    /// Parses and compiles a configuration. Fails only when the document is
    /// not a UFC configuration at all (not JSON, not an object, no `flags`
    /// map); a malformed flag is recorded in [`Configuration::flag_errors`].
    pub fn from_json(bytes: &[u8]) -> Result<Configuration, ConfigurationError> {
        Configuration::from_value(&crate::error::parse_json(bytes)?)
    }

    /// As [`Configuration::from_json`], from an already parsed document. A
    /// configuration-wire envelope (spec section 7) is opened first.
    pub fn from_value(document: &Value) -> Result<Configuration, ConfigurationError> {
        let document = &*envelope::open(document, envelope::Part::Flags)?;
        if !document.is_object() {
            return Err(ConfigurationError::Shape {
                path: "$".into(),
                message: format!("expected a UFC configuration object with a \"flags\" map, found {}", kind(document)),
            });
        }
        let wire: ConfigurationWire = serde_path_to_error::deserialize(document).map_err(|err| {
            ConfigurationError::Shape { path: json_path("$", err.path()), message: expected(err.inner()) }
        })?;
        // Spec section 6: a CLIENT configuration hashes names and encodes
        // values; each flag is revealed, then compiled like any other.
        let naming = if wire.format.as_deref() == Some("CLIENT") { Naming::Md5 } else { Naming::Plain };
        let mut config = Configuration {
            environment_name: wire.environment.and_then(|e| e.name).map(SharedStr::from),
            created_at: wire.created_at,
            format: wire.format,
            naming,
            ..Configuration::default()
        };
        for (key, raw) in &wire.flags {
            let path = member("$.flags", key);
            let compiled = match naming {
                Naming::Plain => compile_flag(key, raw, &path, naming),
                Naming::Md5 => reveal_flag(key, raw, &path).and_then(|plain| compile_flag(key, &plain, &path, naming)),
            };
            let entry = match compiled {
                Ok(flag) => FlagEntry::Valid(flag),
                Err(err) => {
                    config.errors.push(err.clone());
                    FlagEntry::Invalid(err)
                }
            };
            config.flags.insert(key.clone(), entry);
        }
        config.read_bandit_links(wire.bandits.as_ref(), wire.bandit_references.as_ref());
        Ok(config)
    }

    /// Reads bandit links from both the RS-style `bandits` map and the
    /// JS-style `banditReferences` map (spec section 1). A bad entry is
    /// recorded as an error and skipped.
    fn read_bandit_links(
        &mut self,
        bandits: Option<&serde_json::Map<String, Value>>,
        references: Option<&serde_json::Map<String, Value>>,
    ) {
        let mut links: Vec<(String, BanditLink)> = Vec::new();
        for (bandit_key, raw) in bandits.into_iter().flatten() {
            let path = member("$.bandits", bandit_key);
            match serde_path_to_error::deserialize::<_, Vec<BanditVariationWire>>(raw) {
                Ok(entries) => links.extend(entries.into_iter().map(|e| {
                    (
                        e.flag_key,
                        BanditLink {
                            bandit_key: e.key,
                            variation_value: e.variation_value,
                            variation_key: e.variation_key,
                        },
                    )
                })),
                Err(err) => self.errors.push(FlagConfigError::new(
                    bandit_key,
                    json_path(&path, err.path()),
                    expected(err.inner()),
                )),
            }
        }
        for (bandit_key, raw) in references.into_iter().flatten() {
            let path = member("$.banditReferences", bandit_key);
            match serde_path_to_error::deserialize::<_, BanditReferenceWire>(raw) {
                Ok(reference) => links.extend(reference.flag_variations.into_iter().map(|e| {
                    (
                        e.flag_key,
                        BanditLink {
                            bandit_key: e.key,
                            variation_value: e.variation_value,
                            variation_key: e.variation_key,
                        },
                    )
                })),
                Err(err) => self.errors.push(FlagConfigError::new(
                    bandit_key,
                    json_path(&path, err.path()),
                    expected(err.inner()),
                )),
            }
        }
        for (flag_key, link) in links {
            let entry = self.bandit_links.entry(flag_key).or_default();
            if !entry.contains(&link) {
                entry.push(link);
            }
        }
    }

    /// `environment.name`.
    pub fn environment_name(&self) -> Option<&str> {
        self.environment_name.as_deref()
    }

    /// `environment.name`, cheap to clone.
    pub fn environment_name_shared(&self) -> Option<&SharedStr> {
        self.environment_name.as_ref()
    }

    /// `createdAt` as written.
    pub fn created_at(&self) -> Option<&str> {
        self.created_at.as_deref()
    }

    /// `format` as written (`SERVER`, `CLIENT`, ...).
    pub fn format(&self) -> Option<&str> {
        self.format.as_deref()
    }

    /// How flag keys, attribute names and ONE_OF values are written
    /// (digests in a CLIENT configuration).
    pub fn naming(&self) -> Naming {
        self.naming
    }

    /// The flag under `key` (the key of the `flags` map), hashed first in a
    /// CLIENT configuration.
    pub fn flag(&self, key: &str) -> Option<&FlagEntry> {
        self.flags.get(&*self.naming.name(key))
    }

    /// All flag keys as the `flags` map writes them (digests in a CLIENT
    /// configuration), sorted.
    pub fn flag_keys(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = self.flags.keys().map(String::as_str).collect();
        keys.sort_unstable();
        keys
    }

    /// Every flag or bandit link that could not be read.
    pub fn flag_errors(&self) -> &[FlagConfigError] {
        &self.errors
    }

    /// The bandit linked to `flag_key`'s variation with value `variation_value`.
    pub fn bandit_link(&self, flag_key: &str, variation_value: &str) -> Option<&BanditLink> {
        self.bandit_links.get(flag_key)?.iter().find(|link| link.variation_value == variation_value)
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_json_names_line_and_column() {
        let err = Configuration::from_json(b"{\n  \"flags\": [").unwrap_err();
        assert!(matches!(err, ConfigurationError::Json { line: 2, .. }), "{err}");
    }

    #[test]
    fn not_a_configuration_names_the_path_and_what_was_expected() {
        let err = Configuration::from_json(b"[1, 2]").unwrap_err().to_string();
        assert!(err.contains("at $:") && err.contains("\"flags\" map"), "{err}");
        let err = Configuration::from_json(br#"{"flags": 3}"#).unwrap_err().to_string();
        assert!(err.contains("$.flags") && err.contains("expected a map"), "{err}");
        let err = Configuration::from_json(br#"{"environment": {}}"#).unwrap_err().to_string();
        assert!(err.contains("flags"), "{err}");
    }

    #[test]
    fn one_bad_flag_does_not_take_down_the_others() {
        let config = Configuration::from_json(
            br#"{"flags": {
              "good": {"key": "good", "enabled": true, "variationType": "STRING", "variations": {}, "allocations": [], "totalShards": 10},
              "bad-allocations": {"key": "b", "enabled": true, "variationType": "STRING", "variations": {}, "allocations": {}, "totalShards": 10},
              "zero-shards": {"key": "z", "enabled": true, "variationType": "STRING", "variations": {}, "allocations": [], "totalShards": 0},
              "bad-date": {"key": "d", "enabled": true, "variationType": "STRING", "variations": {}, "totalShards": 10,
                 "allocations": [{"key": "a", "startAt": "tomorrow", "splits": []}]}
            }}"#,
        )
        .unwrap();
        assert!(matches!(config.flag("good"), Some(FlagEntry::Valid(_))));
        let paths: Vec<&str> = config.flag_errors().iter().map(|e| e.path.as_str()).collect();
        assert!(paths.contains(&"$.flags[\"bad-allocations\"].allocations"), "{paths:?}");
        assert!(paths.contains(&"$.flags[\"zero-shards\"].totalShards"), "{paths:?}");
        assert!(paths.contains(&"$.flags[\"bad-date\"].allocations[0].startAt"), "{paths:?}");
        assert_eq!(config.flag_errors().len(), 3);
    }
}
