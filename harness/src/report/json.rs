//! The machine-readable JSON report (format version [`super::REPORT_VERSION`]).

use serde_json::{json, Value};

use crate::run::{RunResult, Status};

/// The report as JSON.
pub fn render(result: &RunResult) -> Value {
    let parties: Vec<Value> = result
        .parties
        .iter()
        .map(|p| {
            json!({
                "name": p.name,
                "sdk": p.sdk,
                "capabilities": p.capabilities,
                "summary": result.party_summary(&p.name),
            })
        })
        .collect();
    let cases: Vec<Value> = result
        .outcomes
        .iter()
        .map(|o| {
            let mut value = serde_json::to_value(o).unwrap_or(Value::Null);
            // What a passing party answered is noise; keep it for the rest.
            if o.status == Status::Passed {
                if let Some(map) = value.as_object_mut() {
                    map.remove("observed");
                }
            }
            value
        })
        .collect();
    let load_errors: Vec<Value> =
        result.load_errors.iter().map(|e| json!({"file": e.file, "path": e.path, "message": e.message})).collect();
    json!({
        "reportVersion": super::REPORT_VERSION,
        "tool": {"name": "ufc-harness", "version": env!("CARGO_PKG_VERSION")},
        "suite": result.suite,
        "failOn": result.fail_on,
        "summary": result.summary(),
        "parties": parties,
        "loadErrors": load_errors,
        "configErrors": result.config_errors,
        "cases": cases,
    })
}
