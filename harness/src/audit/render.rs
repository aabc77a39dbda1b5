//! The audit report as text, JSON, Markdown or HTML (observed against
//! expected shares drawn as bars).

use std::fmt::Write as _;

use super::{AuditReport, ExperimentReport};

/// An output format of `audit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditFormat {
    /// For a terminal.
    Text,
    /// `docs/report-schemas/audit.schema.json`.
    Json,
    /// For a pull request or a wiki.
    Markdown,
    /// A standalone page with bars.
    Html,
}

impl std::str::FromStr for AuditFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(AuditFormat::Text),
            "json" => Ok(AuditFormat::Json),
            "markdown" => Ok(AuditFormat::Markdown),
            "html" => Ok(AuditFormat::Html),
            other => Err(format!("unknown format {other:?}: expected text, json, markdown or html")),
        }
    }
}

/// Renders `report`.
pub fn render(report: &AuditReport, format: AuditFormat) -> String {
    match format {
        AuditFormat::Text => text(report),
        AuditFormat::Json => serde_json::to_string_pretty(report).unwrap_or_default() + "\n",
        AuditFormat::Markdown => markdown(report),
        AuditFormat::Html => html(report),
    }
}

fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "-".to_owned(), |s| format!("{:.2}%", s * 100.0))
}

fn observed_share(experiment: &ExperimentReport, subjects: u64) -> Option<f64> {
    (experiment.subjects > 0).then(|| subjects as f64 / experiment.subjects as f64)
}

fn p_value(experiment: &ExperimentReport) -> String {
    match (experiment.tested, experiment.p_value) {
        (true, Some(p)) => format!("{p:.3e}"),
        _ => "not tested".to_owned(),
    }
}

fn text(report: &AuditReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "audit: {} rows, {} checked, {} misassigned, {} without a configuration in force",
        report.rows, report.checked, report.misassignments.total, report.without_configuration
    );
    for input in &report.inputs {
        if let Some(first) = &input.first_unreadable {
            let _ = writeln!(
                out,
                "  {}: {} unreadable row(s); first at line {}: {}",
                input.path, input.unreadable, first.line, first.message
            );
        }
    }
    let m = &report.misassignments;
    if m.total > 0 {
        for c in &m.by_allocation {
            let _ = writeln!(out, "  misassigned in {} / {}: {}", c.key.0, c.key.1, c.count);
        }
        for c in &m.by_sdk {
            let _ = writeln!(
                out,
                "  misassigned by SDK {} {}: {}",
                c.key.0.as_deref().unwrap_or("?"),
                c.key.1.as_deref().unwrap_or("?"),
                c.count
            );
        }
        for e in &m.examples {
            let _ = writeln!(
                out,
                "  e.g. {}:{} subject {:?} logged {}/{} ({:?}); reference: {}/{}",
                e.file,
                e.line,
                e.subject,
                e.allocation,
                e.variation,
                e.reason,
                e.expected_allocation.as_deref().unwrap_or("-"),
                e.expected_variation.as_deref().unwrap_or("-")
            );
        }
    }
    let _ = writeln!(out, "sample-ratio mismatch: {}", report.srm.correction);
    for e in &report.experiments {
        let _ = writeln!(
            out,
            "  {}{}: {} subjects, {} duplicate rows, p {}{}",
            if e.mismatch { "MISMATCH " } else { "" },
            e.experiment,
            e.subjects,
            e.duplicates,
            p_value(e),
            e.note.as_ref().map(|n| format!(" ({n})")).unwrap_or_default()
        );
        for v in &e.variations {
            let _ = writeln!(
                out,
                "      {:<20} {:>10} observed {:>8}  expected {:>8}",
                v.variation,
                v.subjects,
                percent(observed_share(e, v.subjects)),
                percent(v.expected_share)
            );
        }
    }
    out
}

fn markdown(report: &AuditReport) -> String {
    let mut out = String::from("# Assignment audit\n\n");
    let _ = writeln!(
        out,
        "{} rows, {} checked, **{} misassigned**, {} without a configuration in force.\n",
        report.rows, report.checked, report.misassignments.total, report.without_configuration
    );
    if report.misassignments.total > 0 {
        out.push_str("| flag | allocation | misassigned |\n|---|---|---:|\n");
        for c in &report.misassignments.by_allocation {
            let _ = writeln!(out, "| `{}` | `{}` | {} |", c.key.0, c.key.1, c.count);
        }
        out.push('\n');
    }
    let _ = writeln!(out, "## Sample-ratio mismatch\n\n{}\n", report.srm.correction);
    out.push_str("| experiment | subjects | duplicates | p-value | verdict |\n|---|---:|---:|---:|---|\n");
    for e in &report.experiments {
        let verdict = if e.mismatch {
            "**mismatch**"
        } else if e.tested {
            "ok"
        } else {
            "not tested"
        };
        let _ =
            writeln!(out, "| `{}` | {} | {} | {} | {verdict} |", e.experiment, e.subjects, e.duplicates, p_value(e));
    }
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn html(report: &AuditReport) -> String {
    let mut out = String::from(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Assignment audit</title><style>\
         body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{padding:2px 8px;text-align:left}\
         .bar{height:10px;display:block}.obs{background:#3b6fd1}.exp{background:#aaa}.bad{color:#b00020}\
         </style></head><body><h1>Assignment audit</h1>",
    );
    let _ = write!(
        out,
        "<p>{} rows, {} checked, <b>{} misassigned</b>, {} without a configuration in force.</p><p>{}</p>",
        report.rows,
        report.checked,
        report.misassignments.total,
        report.without_configuration,
        escape(&report.srm.correction)
    );
    for e in &report.experiments {
        let _ = write!(
            out,
            "<h2{}>{}</h2><p>{} subjects, {} duplicate rows, p {}{}</p><table>\
             <tr><th>variation</th><th>subjects</th><th>observed vs expected</th></tr>",
            if e.mismatch { " class=\"bad\"" } else { "" },
            escape(&e.experiment),
            e.subjects,
            e.duplicates,
            p_value(e),
            e.note.as_ref().map(|n| format!(" ({})", escape(n))).unwrap_or_default()
        );
        for v in &e.variations {
            let observed = observed_share(e, v.subjects).unwrap_or_default();
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td style=\"width:300px\">\
                 <span class=\"bar obs\" style=\"width:{:.1}%\" title=\"observed {}\"></span>\
                 <span class=\"bar exp\" style=\"width:{:.1}%\" title=\"expected {}\"></span></td></tr>",
                escape(&v.variation),
                v.subjects,
                observed * 100.0,
                percent(Some(observed)),
                v.expected_share.unwrap_or_default() * 100.0,
                percent(v.expected_share)
            );
        }
        out.push_str("</table>");
    }
    out.push_str("</body></html>\n");
    out
}
