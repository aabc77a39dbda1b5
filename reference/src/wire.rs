//! Serde types of the UFC file formats, exactly as written on disk. They are
//! crate-private: `compile` turns them into evaluation types.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::Value;

/// The top of `flags-v1.json`. Flags and bandit links stay raw JSON here so
/// that each one is parsed, and fails, on its own.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConfigurationWire {
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub format: Option<String>,
    #[serde(default)]
    pub environment: Option<EnvironmentWire>,
    /// Checked to be a map here; its flags are read from the document
    /// itself, so that a large configuration is not copied to be read.
    #[allow(dead_code)] // read for its shape only
    pub flags: MapShape,
    #[serde(default)]
    pub bandits: Option<serde_json::Map<String, Value>>,
    #[serde(default)]
    pub bandit_references: Option<serde_json::Map<String, Value>>,
}

/// A JSON object whose members are not read (only that it is one).
pub(crate) struct MapShape;

impl<'de> Deserialize<'de> for MapShape {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = MapShape;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<MapShape, A::Error> {
                while map.next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?.is_some() {}
                Ok(MapShape)
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

#[derive(Deserialize)]
pub(crate) struct EnvironmentWire {
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FlagWire {
    pub key: String,
    pub enabled: bool,
    pub variation_type: String,
    pub variations: HashMap<String, VariationWire>,
    pub allocations: Vec<AllocationWire>,
    pub total_shards: i64,
}

/// `value` stays raw for `compile` to check: a bool, a number or a
/// string, or the flag is unreadable (see `compile::variation_value`).
#[derive(Deserialize)]
pub(crate) struct VariationWire {
    pub key: String,
    pub value: Value,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AllocationWire {
    pub key: String,
    #[serde(default)]
    pub rules: Vec<RuleWire>,
    #[serde(default)]
    pub start_at: Option<String>,
    #[serde(default)]
    pub end_at: Option<String>,
    pub splits: Vec<SplitWire>,
    #[serde(default = "default_do_log")]
    pub do_log: bool,
}

fn default_do_log() -> bool {
    true
}

/// Each condition stays raw here and is read on its own: one that cannot be
/// read (not an object, no `attribute` or `operator` string) makes only
/// that condition false, as RS reads it (and as JS evaluates it), not the
/// whole flag invalid.
#[derive(Deserialize)]
pub(crate) struct RuleWire {
    pub conditions: Vec<Value>,
}

/// A condition's `value` stays raw: whether it is valid depends on the
/// operator, and an invalid one makes only that condition false.
#[derive(Deserialize)]
pub(crate) struct ConditionWire {
    pub attribute: String,
    pub operator: String,
    #[serde(default)]
    pub value: Value,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SplitWire {
    pub shards: Vec<ShardWire>,
    pub variation_key: String,
    /// Absent means none; `null` makes the flag unreadable, as in RS (JS
    /// reads it as none; PY and the JVM drop the configuration).
    #[serde(default)]
    pub extra_logging: HashMap<String, String>,
}

#[derive(Deserialize)]
pub(crate) struct ShardWire {
    pub salt: String,
    pub ranges: Vec<RangeWire>,
}

#[derive(Deserialize)]
pub(crate) struct RangeWire {
    pub start: i64,
    pub end: i64,
}

/// One entry of the RS-style `bandits` map: `{ key, flagKey, variationKey, variationValue }`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BanditVariationWire {
    pub key: String,
    pub flag_key: String,
    pub variation_key: String,
    pub variation_value: String,
}

/// One entry of the JS-style `banditReferences` map.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BanditReferenceWire {
    #[serde(default)]
    #[expect(dead_code, reason = "read for validation only")]
    pub model_version: Option<String>,
    pub flag_variations: Vec<BanditFlagVariationWire>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BanditFlagVariationWire {
    pub key: String,
    pub flag_key: String,
    #[serde(default)]
    #[expect(dead_code, reason = "parsed for validation; the spec says it does not restrict the link")]
    pub allocation_key: Option<String>,
    pub variation_key: String,
    pub variation_value: String,
}
