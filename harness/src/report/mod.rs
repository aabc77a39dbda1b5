//! Reporters: each turns a finished [`RunResult`](crate::run::RunResult)
//! (or, in [`fuzz`], a finished fuzz run) into one output format. Nothing
//! else in the harness formats results for people or machines. The JSON
//! report's shape is a versioned public format (see `docs/report-schema.json`), and so is the
//! fuzz run's `summary.json` (`docs/report-schemas/fuzz-summary.schema.json`).

pub mod badges;
pub mod bench;
pub mod comparison;
pub mod cross_sdk;
pub mod distribution;
pub mod explain;
pub mod from_json;
pub mod fuzz;
pub mod history;
pub mod html;
pub mod json;
pub mod junit;
pub mod lifecycle;
pub mod markdown;
pub mod page;
pub mod precompute;
pub mod terminal;

use std::io::Write;
use std::path::Path;

use serde_json::Value;

pub use ufc_protocol::report::REPORT_VERSION;

/// Writes `bytes` to `path` atomically: a temporary file in the same
/// directory, flushed, then renamed over the target, so a reader never sees
/// a half-written report.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "report".into());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Pretty JSON with object keys sorted, so diffs line up field by field.
pub fn pretty_sorted(value: &Value) -> String {
    serde_json::to_string_pretty(&sorted(value)).unwrap_or_default()
}

/// `value` with every object's keys sorted. Key order means nothing in
/// JSON, and some SDKs iterate their maps in another order in every
/// process: reports written from sorted values read the same each run.
pub(crate) fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k.clone(), sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// A unified diff (patience algorithm) of two JSON values, pretty-printed
/// with sorted keys.
pub fn json_diff(expected: &Value, actual: &Value) -> String {
    let old = pretty_sorted(expected) + "\n";
    let new = pretty_sorted(actual) + "\n";
    similar::TextDiff::configure()
        .algorithm(similar::Algorithm::Patience)
        .diff_lines(&old, &new)
        .unified_diff()
        .context_radius(3)
        .header("expected", "actual")
        .to_string()
}

/// What each process of `run --repeat` said to a nondeterministic case, in
/// order, as (process, text): the answer as one line of JSON in the
/// protocol's shape (without the `caseId`, named already, and without empty
/// parts), or `lost: <why>`.
pub fn process_answers(outcome: &crate::run::CaseOutcome) -> Vec<(u32, String)> {
    outcome
        .process_replies
        .iter()
        .zip(1..)
        .map(|(reply, process)| {
            let answer = json::process_answer(&outcome.case_id, process, reply);
            let text = match (answer.result, answer.lost) {
                (Some(result), _) => {
                    let mut value = serde_json::to_value(result).unwrap_or(Value::Null);
                    if let Some(object) = value.as_object_mut() {
                        object.remove("caseId");
                        object.retain(|_, part| !(part.is_null() || part.as_array().is_some_and(Vec::is_empty)));
                    }
                    value.to_string()
                }
                (None, lost) => format!("lost: {}", lost.unwrap_or_default()),
            };
            (process, text)
        })
        .collect()
}

/// A short one-line JSON rendering (keys sorted), cut at `max` characters.
pub fn short(value: &Value, max: usize) -> String {
    cut(&sorted(value).to_string(), max)
}

/// `text`, cut at `max` characters (an ellipsis marks the cut).
pub fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let kept: String = text.chars().take(max.saturating_sub(1)).collect();
        format!("{kept}…")
    }
}

/// The mock CDN's request log of a scenario step, one line a request
/// (`+1203 ms GET /api/flag-config/v1/config?apiKey=k if-none-match="x" -> 304`);
/// empty for every other case.
pub fn request_lines(outcome: &crate::run::CaseOutcome) -> Vec<String> {
    outcome
        .request_log
        .iter()
        .map(|r| {
            let query: Vec<String> = r.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let query = if query.is_empty() { String::new() } else { format!("?{}", query.join("&")) };
            let tag = r.headers.get("if-none-match").map(|t| format!(" if-none-match={t}")).unwrap_or_default();
            format!("+{} ms {} {}{query}{tag} -> {}", r.at_ms, r.method, r.path, r.answer)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn values_read_the_same_whatever_order_an_sdk_gave_their_keys_in() {
        let one: serde_json::Value =
            serde_json::from_str(r#"{"mistake": 1.0, "brand": {"z": 1, "a": [{"y": 2, "b": 3}]}}"#).unwrap();
        let other: serde_json::Value =
            serde_json::from_str(r#"{"brand": {"a": [{"b": 3, "y": 2}], "z": 1}, "mistake": 1.0}"#).unwrap();
        assert_eq!(super::short(&one, 200), super::short(&other, 200));
        assert_eq!(super::short(&one, 200), r#"{"brand":{"a":[{"b":3,"y":2}],"z":1},"mistake":1.0}"#);
        assert_eq!(super::sorted(&one).to_string(), super::sorted(&other).to_string());
        assert_eq!(super::short(&json!([3, 1]), 10), "[3,1]", "arrays keep their order");
    }
}
