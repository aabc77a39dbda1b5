//! The online ops of protocol v1 (capability `online`): the parameters of
//! `init`, and what an online adapter says about its SDK's knobs in its
//! `hello` answer (`docs/protocol.md`, "Online ops").
//!
//! They are optional and additive: an adapter that does not declare
//! `online` is never sent `init`, `drainEvents` or `stopClient`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What the SDK's loggers do with each call (`logger` of `init`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LoggerMode {
    /// Every call is recorded (the default).
    #[default]
    Recording,
    /// Every call is recorded, then the logger raises, to see that a
    /// failing logger does not change what the SDK serves.
    Throwing,
}

/// The parameters of an `init` request: build the SDK's ordinary client
/// against a base URL (the mock CDN) with these options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InitRequest {
    /// Where the SDK fetches; it appends its usual paths.
    pub base_url: String,
    /// The SDK key the SDK sends (`apiKey`).
    pub sdk_key: String,
    /// How often the SDK polls.
    pub poll_interval_ms: u64,
    /// The SDK's own start-up timeout, where it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_timeout_ms: Option<u64>,
    /// The SDK's own assignment dedup cache on.
    #[serde(default)]
    pub assignment_cache: bool,
    /// The SDK's own bandit action dedup cache on.
    #[serde(default)]
    pub bandit_cache: bool,
    /// What the loggers do.
    #[serde(default)]
    pub logger: LoggerMode,
    /// Answer once the SDK's initialisation finished (true), or right after
    /// constructing the client (false).
    #[serde(default = "yes")]
    pub wait_for_init: bool,
}

fn yes() -> bool {
    true
}

/// An `init` option an SDK may or may not honour (`online.options` of the
/// `hello` answer).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum InitOption {
    /// `pollInterval`: the poll interval is the one asked for.
    PollInterval,
    /// `initTimeout`: the SDK has a start-up timeout and takes `initTimeoutMs`.
    InitTimeout,
    /// `assignmentCache`: the SDK has an assignment dedup cache to switch on.
    AssignmentCache,
    /// `banditCache`: the SDK has a bandit action dedup cache to switch on.
    BanditCache,
    /// `throwingLogger`: the adapter can install a logger that raises.
    ThrowingLogger,
    /// `sdkKey`: the SDK key is the one asked for.
    SdkKey,
    /// An option this version does not define (kept, ignored).
    Unknown(String),
}

impl InitOption {
    /// Every option this version defines.
    pub const KNOWN: [InitOption; 6] = [
        InitOption::PollInterval,
        InitOption::InitTimeout,
        InitOption::AssignmentCache,
        InitOption::BanditCache,
        InitOption::ThrowingLogger,
        InitOption::SdkKey,
    ];

    /// The wire name.
    pub fn as_str(&self) -> &str {
        match self {
            InitOption::PollInterval => "pollInterval",
            InitOption::InitTimeout => "initTimeout",
            InitOption::AssignmentCache => "assignmentCache",
            InitOption::BanditCache => "banditCache",
            InitOption::ThrowingLogger => "throwingLogger",
            InitOption::SdkKey => "sdkKey",
            InitOption::Unknown(name) => name,
        }
    }

    /// The option a wire name stands for.
    pub fn parse(name: &str) -> InitOption {
        InitOption::KNOWN
            .into_iter()
            .find(|known| known.as_str() == name)
            .unwrap_or_else(|| InitOption::Unknown(name.to_owned()))
    }
}

impl fmt::Display for InitOption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for InitOption {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for InitOption {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Ok(InitOption::parse(&name))
    }
}

/// What an online adapter says about its SDK in `hello` (`online`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OnlineInfo {
    /// The smallest poll interval the SDK accepts; none means any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_poll_interval_ms: Option<u64>,
    /// How the SDK jitters its polls, in words, for reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll_jitter: Option<String>,
    /// The `init` options the SDK honours.
    #[serde(default)]
    pub options: Vec<InitOption>,
}

impl OnlineInfo {
    /// Whether the SDK honours `option`.
    pub fn honours(&self, option: &InitOption) -> bool {
        self.options.contains(option)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_defaults_are_the_documented_ones() {
        let init: InitRequest =
            serde_json::from_str(r#"{"baseUrl": "http://127.0.0.1:1", "sdkKey": "k", "pollIntervalMs": 1000}"#)
                .expect("a minimal init parses");
        assert_eq!(init.logger, LoggerMode::Recording);
        assert!(init.wait_for_init);
        assert!(!init.assignment_cache && !init.bandit_cache);
        assert_eq!(init.init_timeout_ms, None);
    }

    #[test]
    fn options_round_trip_and_unknown_ones_are_kept() {
        for option in InitOption::KNOWN {
            let json = serde_json::to_string(&option).expect("serializes");
            assert_eq!(serde_json::from_str::<InitOption>(&json).expect("parses"), option);
        }
        let info: OnlineInfo =
            serde_json::from_str(r#"{"minPollIntervalMs": 1000, "options": ["sdkKey", "warp"]}"#).expect("parses");
        assert!(info.honours(&InitOption::SdkKey));
        assert!(!info.honours(&InitOption::PollInterval));
        assert_eq!(info.options[1], InitOption::Unknown("warp".into()));
    }
}
