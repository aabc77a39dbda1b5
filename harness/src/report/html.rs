//! The cross-SDK HTML matrix: one row per case, one column per party; each
//! cell shows the verdict and opens the diff.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::junit::escape;
use crate::run::{CaseOutcome, RunResult, Status};

/// Renders a self-contained HTML page.
pub fn render(result: &RunResult) -> String {
    let mut rows: BTreeMap<&str, BTreeMap<&str, &CaseOutcome>> = BTreeMap::new();
    for o in &result.outcomes {
        rows.entry(o.case_id.as_str()).or_default().insert(o.party.as_str(), o);
    }
    let mut out = String::new();
    out.push_str("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>UFC cross-SDK matrix</title>\n<style>\n");
    out.push_str("body{font-family:system-ui,sans-serif;margin:1.5em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;vertical-align:top;font-size:13px}");
    out.push_str(".passed{background:#e6f4ea}.failed,.errored,.unexpected-pass{background:#fce8e6}.known-failure{background:#fef7e0}.nondeterministic{background:#f3e8fd}.skipped{background:#f1f3f4;color:#666}.minor{background:#f3f9e6}");
    out.push_str(
        "pre{white-space:pre-wrap;max-width:60em;font-size:12px}summary{cursor:pointer}\n</style></head><body>\n",
    );
    let _ = writeln!(
        out,
        "<h1>UFC cross-SDK matrix</h1><p>Suite <code>{}</code></p>",
        escape(&result.suite.display().to_string())
    );
    // Only runs with --repeat can find nondeterminism; the others keep their table.
    let repeated = result.repeat > 1;
    if repeated {
        let _ = writeln!(out, "<p>Each party answered every case in {} fresh processes.</p>", result.repeat);
    }
    let extra_header = if repeated { "<th>nondeterministic</th>" } else { "" };
    let _ = writeln!(out, "<table><tr><th>party</th><th>SDK</th><th>passed</th><th>failed</th><th>errored</th><th>skipped</th><th>known</th><th>unexpected passes</th>{extra_header}</tr>");
    for p in &result.parties {
        let s = result.party_summary(&p.name);
        let extra = if repeated { format!("<td>{}</td>", s.nondeterministic) } else { String::new() };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{} {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>{extra}</tr>",
            escape(&p.name),
            escape(p.sdk.package.as_deref().unwrap_or(&p.sdk.name)),
            escape(&p.sdk.version),
            s.passed,
            s.failed,
            s.errored,
            s.skipped,
            s.known_failures,
            s.unexpected_passes
        );
    }
    out.push_str("</table><h2>Cases</h2><table><tr><th>case</th>");
    for p in &result.parties {
        let _ = write!(out, "<th>{}</th>", escape(&p.name));
    }
    out.push_str("</tr>\n");
    for (case_id, cells) in &rows {
        let _ = write!(out, "<tr><td><code>{}</code></td>", escape(case_id));
        for p in &result.parties {
            match cells.get(p.name.as_str()) {
                None => out.push_str("<td></td>"),
                Some(o) => out.push_str(&cell(o)),
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table></body></html>\n");
    out
}

fn cell(o: &CaseOutcome) -> String {
    let class = if o.status == Status::Passed && !o.differences.is_empty() { "minor" } else { o.status.as_str() };
    let label = if class == "minor" { "passed (minor)" } else { o.status.as_str() };
    if o.differences.is_empty() && o.error.is_none() && o.skip_reason.is_none() && o.process_replies.is_empty() {
        return format!("<td class=\"{class}\">{label}</td>");
    }
    let mut body = String::new();
    if let Some(e) = &o.error {
        let _ = writeln!(body, "error: {e}");
    }
    if let Some(r) = &o.skip_reason {
        let _ = writeln!(body, "skipped: {r}");
    }
    if let Some(k) = &o.known_failure {
        let _ = writeln!(body, "known failure: {k}");
    }
    if !o.causes.is_empty() {
        let _ = writeln!(body, "cause: {}", o.causes.join(", "));
    }
    for (process, said) in super::process_answers(o) {
        let _ = writeln!(body, "process {process}: {said}");
    }
    for d in &o.differences {
        let _ = writeln!(body, "[{}] {}", d.severity.as_str(), d.field);
        // Full diffs only where something fails; a passing cell lists its
        // minor fields, which keeps the page small.
        if o.status != Status::Passed {
            body.push_str(&super::json_diff(&d.expected.0, &d.actual.0));
        }
    }
    if let Some(t) = &o.stderr_tail {
        let _ = writeln!(body, "stderr:\n{t}");
    }
    for line in super::request_lines(o) {
        let _ = writeln!(body, "CDN {line}");
    }
    format!("<td class=\"{class}\"><details><summary>{label}</summary><pre>{}</pre></details></td>", escape(&body))
}
