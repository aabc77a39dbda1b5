//! A loaded flag configuration: parsed once, compiled once, evaluated many
//! times. One malformed flag becomes a [`FlagConfigError`] for that flag
//! alone; the others evaluate normally.

use serde_json::Value;

use crate::compile::compile_flag;
use crate::envelope;
use crate::error::{expected, json_path, member, ConfigurationError, FlagConfigError};
pub use crate::flag::{Allocation, BanditLink, Flag, FlagEntry, Rule, ShardRange, ShardRule, Split, Variation};
use crate::keymap::KeyMap;
use crate::obfuscation::{reveal_flag, Naming};
use crate::text::SharedStr;
use crate::wire::{BanditReferenceWire, BanditVariationWire, ConfigurationWire};

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
        let flags = document.get("flags").and_then(Value::as_object).into_iter().flatten();
        for (key, raw) in flags {
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
                Ok(entries) => links
                    .extend(entries.into_iter().map(|e| link(e.flag_key, e.key, e.variation_key, e.variation_value))),
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
                Ok(reference) => links.extend(
                    reference
                        .flag_variations
                        .into_iter()
                        .map(|e| link(e.flag_key, e.key, e.variation_key, e.variation_value)),
                ),
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

/// A flag's link to a bandit, by flag key: the two wire forms (`bandits`
/// entries and `banditReferences`) carry the same four fields.
fn link(flag_key: String, bandit_key: String, variation_key: String, variation_value: String) -> (String, BanditLink) {
    (flag_key, BanditLink { bandit_key, variation_value, variation_key })
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
              "negative-shards": {"key": "z", "enabled": true, "variationType": "STRING", "variations": {}, "allocations": [], "totalShards": -1},
              "zero-shards": {"key": "z0", "enabled": true, "variationType": "STRING", "variations": {}, "allocations": [], "totalShards": 0},
              "bad-date": {"key": "d", "enabled": true, "variationType": "STRING", "variations": {}, "totalShards": 10,
                 "allocations": [{"key": "a", "startAt": "tomorrow", "splits": []}]}
            }}"#,
        )
        .unwrap();
        assert!(matches!(config.flag("good"), Some(FlagEntry::Valid(_))));
        let paths: Vec<&str> = config.flag_errors().iter().map(|e| e.path.as_str()).collect();
        assert!(paths.contains(&"$.flags[\"bad-allocations\"].allocations"), "{paths:?}");
        assert!(paths.contains(&"$.flags[\"negative-shards\"].totalShards"), "{paths:?}");
        // Zero shards loads: only an evaluation that needs a shard fails.
        assert!(matches!(config.flag("zero-shards"), Some(FlagEntry::Valid(_))));
        assert!(paths.contains(&"$.flags[\"bad-date\"].allocations[0].startAt"), "{paths:?}");
        assert_eq!(config.flag_errors().len(), 3);
    }
}
