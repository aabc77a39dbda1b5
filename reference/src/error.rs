//! Errors: something in the input is broken. (Why a default value was
//! served is an evaluation outcome, not an error: see `eval`.)

/// A document that is not a UFC configuration (or bandit model file) at
/// all. Nothing in it can be evaluated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigurationError {
    /// The bytes are not JSON.
    #[error("not valid JSON at line {line}, column {column}: {message}")]
    Json {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the JSON parser expected.
        message: String,
    },
    /// Valid JSON, but not the expected shape at `path`.
    #[error("at {path}: {message}")]
    Shape {
        /// JSON path of the offending value, e.g. `$.flags`.
        path: String,
        /// What was expected there.
        message: String,
    },
}

/// A flag that cannot be asked about: not in the configuration, or not
/// readable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum FlagLookupError {
    /// No flag has the key.
    #[error("flag {flag:?} is not in the configuration")]
    Unknown {
        /// The key asked for.
        flag: String,
    },
    /// The flag could not be read.
    #[error("flag {flag:?} cannot be evaluated: {source}")]
    Invalid {
        /// The key asked for.
        flag: String,
        /// What is wrong with it.
        #[source]
        source: Box<FlagConfigError>,
    },
}

/// A condition that cannot be evaluated: an unknown operator or a value the
/// operator cannot use. The condition is false; its flag still works (spec
/// section 1's operator table).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ConditionError {
    /// The operator is not one UFC defines.
    #[error("unknown operator {operator:?}")]
    UnknownOperator {
        /// The operator as written.
        operator: String,
    },
    /// The configured value is not what the operator needs.
    #[error("{operator} needs {expected}, found {found}")]
    WrongValue {
        /// The operator.
        operator: String,
        /// What it needs, e.g. `a bool`.
        expected: &'static str,
        /// The value as written (JSON).
        found: String,
    },
    /// The condition itself cannot be read: not an object, or without an
    /// `attribute` or `operator` string.
    #[error("unreadable condition: {message}")]
    Unreadable {
        /// What was expected, as the JSON reader reports it.
        message: String,
    },
    /// A `MATCHES`/`NOT_MATCHES` pattern that Rust's `regex` rejects (or
    /// that compiles too large).
    #[error("{operator} pattern {pattern:?} is not a valid regex")]
    InvalidRegex {
        /// The operator.
        operator: String,
        /// The pattern as written.
        pattern: String,
        /// Why the regex crate rejected it.
        #[source]
        source: regex::Error,
    },
}

impl ConditionError {
    pub(crate) fn wrong_value(operator: &str, expected: &'static str, found: &serde_json::Value) -> ConditionError {
        ConditionError::WrongValue { operator: operator.to_owned(), expected, found: found.to_string() }
    }
}

/// Parses bytes as JSON, or says where they stop being JSON.
pub(crate) fn parse_json(bytes: &[u8]) -> Result<serde_json::Value, ConfigurationError> {
    serde_json::from_slice(bytes).map_err(|err| ConfigurationError::Json {
        line: err.line(),
        column: err.column(),
        message: err.to_string(),
    })
}

/// One flag (or bandit link or model) that could not be read. It evaluates
/// to `UNEXPECTED_CONFIGURATION_ERROR`; the rest of the document works.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("at {path}: {message}")]
#[non_exhaustive]
pub struct FlagConfigError {
    /// The flag key (or bandit key) at fault.
    pub key: String,
    /// JSON path of the offending value, e.g. `$.flags["x"].allocations[0].splits`.
    pub path: String,
    /// What was expected there.
    pub message: String,
}

impl FlagConfigError {
    pub(crate) fn new(key: &str, path: String, message: impl Into<String>) -> FlagConfigError {
        FlagConfigError { key: key.to_owned(), path, message: message.into() }
    }
}

/// Renders a `serde_path_to_error` path under `prefix` in JSONPath style,
/// e.g. `$.flags["my-flag"].allocations[0]`.
pub fn json_path(prefix: &str, path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = prefix.to_owned();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if is_identifier(key) {
                    out.push('.');
                    out.push_str(key);
                } else {
                    out.push_str(&format!("[{}]", serde_json::Value::String(key.clone())));
                }
            }
            Segment::Unknown => out.push_str(".?"),
        }
    }
    out
}

/// `$.flags["some-key"]`-style member access for any key.
pub fn member(prefix: &str, key: &str) -> String {
    if is_identifier(key) {
        format!("{prefix}.{key}")
    } else {
        format!("{prefix}[{}]", serde_json::Value::String(key.to_owned()))
    }
}

fn is_identifier(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Rewords serde's `invalid type: X, expected Y` as `expected Y, found X`,
/// so every error says what was expected first.
pub fn expected(err: &serde_json::Error) -> String {
    let message = err.to_string();
    let message = match message.strip_prefix("invalid type: ").and_then(|rest| rest.split_once(", expected ")) {
        Some((found, wanted)) => format!("expected {wanted}, found {found}"),
        None => message,
    };
    // Serde names the Rust types; say what they are in the file instead.
    [
        ("struct FlagWire", "a flag object"),
        ("struct AllocationWire", "an allocation object"),
        ("struct RuleWire", "a rule object"),
        ("struct ConditionWire", "a condition object"),
        ("struct SplitWire", "a split object"),
        ("struct ShardWire", "a shard object"),
        ("struct RangeWire", "a range object"),
        ("struct VariationWire", "a variation object"),
        ("struct ConfigurationWire", "a UFC configuration object"),
        ("struct BanditVariationWire", "a bandit variation object"),
        ("struct BanditReferenceWire", "a bandit reference object"),
        ("struct BanditFlagVariationWire", "a bandit flag variation object"),
        ("struct BanditModel", "a bandit model object"),
        ("struct ModelData", "a modelData object"),
        ("struct ActionCoefficients", "an action coefficients object"),
        ("struct NumericCoefficient", "a numeric coefficient object"),
        ("struct CategoricalCoefficient", "a categorical coefficient object"),
        ("expected i64", "expected an integer"),
        ("expected u32", "expected a non-negative integer"),
        ("expected f64", "expected a number"),
    ]
    .iter()
    .fold(message, |text, (from, to)| text.replace(from, to))
}
