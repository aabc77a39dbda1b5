//! The messages of protocol v1: requests the harness writes to an
//! adapter's stdin and the responses it reads from its stdout, one JSON
//! object per line (`docs/protocol.md`; schemas in `docs/protocol/`).
//!
//! These are wire types: they say what travels, not how the harness models
//! cases and answers. Values an SDK may get wrong on purpose (attributes of
//! the wrong type, malformed details) stay raw JSON here, so that they reach
//! each party unchanged and are judged by the harness, not by this parser.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::capability::{BenchMode, Capabilities};
use crate::online::{InitRequest, OnlineInfo};

/// The type a flag evaluation asks for (`variationType` on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VariationType {
    /// `STRING`.
    String,
    /// `INTEGER`.
    Integer,
    /// `NUMERIC`.
    Numeric,
    /// `BOOLEAN`.
    Boolean,
    /// `JSON`.
    Json,
}

impl VariationType {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            VariationType::String => "STRING",
            VariationType::Integer => "INTEGER",
            VariationType::Numeric => "NUMERIC",
            VariationType::Boolean => "BOOLEAN",
            VariationType::Json => "JSON",
        }
    }

    /// The type a wire name stands for.
    pub fn parse(name: &str) -> Option<VariationType> {
        [
            VariationType::String,
            VariationType::Integer,
            VariationType::Numeric,
            VariationType::Boolean,
            VariationType::Json,
        ]
        .into_iter()
        .find(|t| t.as_str() == name)
    }
}

/// One evaluation to perform: a flag for a subject, or a bandit action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum CaseInput {
    /// A flag assignment.
    Flag(FlagCase),
    /// A bandit action.
    Bandit(BanditCase),
}

/// A flag assignment request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlagCase {
    /// The flag key.
    pub flag: String,
    /// The type the caller asks for.
    pub variation_type: VariationType,
    /// The default value.
    pub default_value: Value,
    /// The subject key.
    pub subject_key: String,
    /// The subject's attributes.
    pub subject_attributes: Map<String, Value>,
}

/// A bandit action request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BanditCase {
    /// The flag key.
    pub flag: String,
    /// The default variation (a string).
    pub default_value: Value,
    /// The subject key.
    pub subject_key: String,
    /// `{numericAttributes, categoricalAttributes}` as the test file gives them.
    pub subject_attributes: ContextAttributes,
    /// The candidate actions.
    pub actions: Vec<ActionInput>,
}

/// Numeric and categorical attribute maps, kept as raw JSON so that wrongly
/// typed values reach each party unchanged.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextAttributes {
    /// Attributes meant as numbers.
    #[serde(default)]
    pub numeric_attributes: Map<String, Value>,
    /// Attributes meant as categories.
    #[serde(default)]
    pub categorical_attributes: Map<String, Value>,
}

impl ContextAttributes {
    /// Whether every numeric attribute is a number and every categorical one
    /// a string: what the typed SDK APIs accept without a type error.
    pub fn is_well_typed(&self) -> bool {
        self.numeric_attributes.values().all(Value::is_number)
            && self.categorical_attributes.values().all(Value::is_string)
    }
}

/// A candidate bandit action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionInput {
    /// The action key.
    pub action_key: String,
    /// The action's attributes.
    #[serde(flatten)]
    pub attributes: ContextAttributes,
}

/// A case as sent in an `evaluate` request.
///
/// Read in one pass through [`FlatCase`]: the derived reading of a
/// flattened, tagged enum buffers every case into an intermediate tree
/// twice, which was a tenth of the Rust adapter's time on fuzzed batches.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", try_from = "FlatCase")]
pub struct WireCase<'a> {
    /// The case id.
    pub case_id: Cow<'a, str>,
    /// The evaluation.
    #[serde(flatten)]
    pub input: Cow<'a, CaseInput>,
}

/// A [`WireCase`] as it travels: every field of either kind at one level.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FlatCase {
    case_id: String,
    kind: CaseKind,
    flag: String,
    variation_type: Option<VariationType>,
    default_value: Value,
    subject_key: String,
    subject_attributes: Value,
    actions: Option<Vec<ActionInput>>,
}

/// `kind` on the wire.
#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum CaseKind {
    Flag,
    Bandit,
}

impl TryFrom<FlatCase> for WireCase<'_> {
    type Error = String;

    fn try_from(case: FlatCase) -> Result<Self, String> {
        let FlatCase { case_id, kind, flag, variation_type, default_value, subject_key, subject_attributes, actions } =
            case;
        let input = match kind {
            CaseKind::Flag => CaseInput::Flag(FlagCase {
                flag,
                variation_type: variation_type.ok_or("a flag case needs `variationType`")?,
                default_value,
                subject_key,
                subject_attributes: match subject_attributes {
                    Value::Object(map) => map,
                    other => return Err(format!("`subjectAttributes` of a flag case must be an object, not {other}")),
                },
            }),
            CaseKind::Bandit => CaseInput::Bandit(BanditCase {
                flag,
                default_value,
                subject_key,
                subject_attributes: serde_json::from_value(subject_attributes)
                    .map_err(|e| format!("`subjectAttributes` of a bandit case: {e}"))?,
                actions: actions.ok_or("a bandit case needs `actions`")?,
            }),
        };
        Ok(WireCase { case_id: Cow::Owned(case_id), input: Cow::Owned(input) })
    }
}

/// What a party answered for one case.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseResult {
    /// The case id.
    pub case_id: String,
    /// The value (bandits: `{variation, action}`); absent on error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// Evaluation details in the shared files' shape, if the party gives them.
    #[serde(default)]
    pub details: Option<Value>,
    /// Events handed to the assignment logger.
    #[serde(default)]
    pub assignment_events: Vec<Value>,
    /// Events handed to the bandit logger.
    #[serde(default)]
    pub bandit_events: Vec<Value>,
    /// Set when the party raised instead of answering (an SDK exception):
    /// the SDK's behaviour, compared like any answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl CaseResult {
    /// The SDK raised instead of answering.
    pub fn raised(case_id: &str, message: impl Into<String>) -> CaseResult {
        CaseResult { case_id: case_id.to_owned(), error: Some(message.into()), ..CaseResult::default() }
    }
}

/// Where a configuration comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// A file the adapter reads.
    Path(std::path::PathBuf),
    /// The document itself.
    Inline(Value),
}

/// Requests, tagged by `op`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum Request<'a> {
    /// Handshake.
    Hello {
        /// Sequence number.
        id: u64,
        /// Protocol version.
        protocol: u32,
    },
    /// Load a configuration.
    Configure {
        /// Sequence number.
        id: u64,
        /// `flags-v1.json`.
        flags: Source,
        /// `bandit-models-v1.json`, if any.
        #[serde(default)]
        bandits: Option<Source>,
        /// A precomputed configuration (`precomputed-client`): the
        /// configuration-wire envelope `{"version": 1, "precomputed":
        /// {subjectKey, subjectAttributes, response}}` computed from
        /// `flags`. When given, `evaluate` and `bench` are answered by the
        /// SDK's precomputed client until the next `configure`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        precomputed: Option<Source>,
    },
    /// Evaluate a batch.
    Evaluate {
        /// Sequence number.
        id: u64,
        /// The cases.
        cases: Vec<WireCase<'a>>,
    },
    /// Time an in-process loop.
    Bench {
        /// Sequence number.
        id: u64,
        /// The loop's parameters.
        #[serde(flatten)]
        bench: BenchRequest,
    },
    /// Every flag of the loaded configuration for one subject, as a
    /// precomputed configuration.
    Precompute {
        /// Sequence number.
        id: u64,
        /// The subject.
        #[serde(rename = "subjectKey")]
        subject_key: String,
        /// Its attributes: flat (numbers numeric, the rest categorical) or
        /// `{numericAttributes, categoricalAttributes}`.
        #[serde(rename = "subjectAttributes")]
        subject_attributes: Value,
        /// Candidate actions per bandit flag:
        /// `{flagKey: {actionKey: {numericAttributes, categoricalAttributes}}}`.
        #[serde(rename = "banditActions", default, skip_serializing_if = "serde_json::Map::is_empty")]
        bandit_actions: serde_json::Map<String, Value>,
        /// The salt for obfuscated keys, if the SDK takes one.
        salt: String,
    },
    /// Build the SDK's online client against a base URL (capability
    /// `online`); a later `init` replaces it.
    Init {
        /// Sequence number.
        id: u64,
        /// The client's parameters.
        #[serde(flatten)]
        init: InitRequest,
    },
    /// Every event the loggers received since the last `evaluate` or
    /// `drainEvents` that no result reported (capability `online`).
    #[serde(rename = "drainEvents")]
    DrainEvents {
        /// Sequence number.
        id: u64,
    },
    /// Shut the online client down, keeping the adapter (capability `online`).
    #[serde(rename = "stopClient")]
    StopClient {
        /// Sequence number.
        id: u64,
    },
    /// Stop.
    Shutdown {
        /// Sequence number.
        id: u64,
    },
}

impl Request<'static> {
    /// Reads one request line.
    ///
    /// `evaluate`, the one large request (hundreds of cases), is read in
    /// one pass once its `op` is known: the derived reading of an
    /// internally tagged enum first copies the whole line into an
    /// intermediate tree. Every other op takes the derived path.
    pub fn from_line(line: &str) -> serde_json::Result<Request<'static>> {
        #[derive(Deserialize)]
        struct Op<'a> {
            #[serde(borrow)]
            op: Cow<'a, str>,
        }
        #[derive(Deserialize)]
        struct Evaluate {
            id: u64,
            cases: Vec<WireCase<'static>>,
        }
        if serde_json::from_str::<Op<'_>>(line).is_ok_and(|o| o.op == "evaluate") {
            let Evaluate { id, cases } = serde_json::from_str(line)?;
            return Ok(Request::Evaluate { id, cases });
        }
        serde_json::from_str(line)
    }
}

/// The parameters of a `bench` request.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BenchRequest {
    /// What each iteration does.
    pub mode: BenchMode,
    /// The flag.
    pub flag: String,
    /// Its type.
    pub variation_type: VariationType,
    /// The default value.
    pub default_value: Value,
    /// Subjects cycled through.
    pub subjects: Vec<BenchSubject>,
    /// Bandit actions (mode `bandit`).
    #[serde(default)]
    pub actions: Vec<ActionInput>,
    /// Loop length.
    pub iterations: u64,
}

/// A subject of a bench loop.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BenchSubject {
    /// The subject key.
    pub subject_key: String,
    /// Flat attributes (assign/details) or `{numericAttributes, categoricalAttributes}` (bandit).
    pub subject_attributes: Value,
}

/// Any response: `id`, `ok`, and the op's fields.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Response {
    /// The request's sequence number.
    pub id: u64,
    /// Whether the request succeeded.
    pub ok: bool,
    /// The error, when not ok.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `hello`: the protocol version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<u32>,
    /// `hello`: the SDK.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdk: Option<SdkInfo>,
    /// `hello`: capabilities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Capabilities>,
    /// `evaluate`: one result per case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results: Option<Vec<CaseResult>>,
    /// `bench`: iterations run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iterations: Option<u64>,
    /// `bench`: elapsed nanoseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elapsed_ns: Option<u64>,
    /// `precompute`: the precomputed configuration (an envelope, or the
    /// bare response), as a JSON value or as the JSON text the SDK wrote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<Value>,
    /// `hello` of an `online` adapter: its SDK's knobs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online: Option<OnlineInfo>,
    /// `init`: whether the SDK reports having a configuration; none when it
    /// cannot tell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initialized: Option<bool>,
    /// `init`: how long the SDK's start took, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elapsed_ms: Option<u64>,
    /// `drainEvents`: assignment events no result reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignment_events: Option<Vec<Value>>,
    /// `drainEvents`: bandit events no result reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bandit_events: Option<Vec<Value>>,
    /// `drainEvents`: how often the loggers were called in that span (a
    /// throwing logger's calls included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logger_calls: Option<u64>,
}

/// The SDK behind an adapter.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SdkInfo {
    /// Short name (`python`, `node`, `rust`, ...).
    pub name: String,
    /// The package it wraps.
    #[serde(default)]
    pub package: Option<String>,
    /// The package version.
    #[serde(default)]
    pub version: String,
}
