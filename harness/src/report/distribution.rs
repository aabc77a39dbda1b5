//! Renders a finished [`DistributionReport`] (`ufc-harness distribution`):
//! aligned text for a terminal, Markdown for a CI summary, an HTML page
//! ([`super::page::distribution`]), and JSON, the report serialized as it is (schema: `docs/report-schemas/distribution.schema.json`).

use std::fmt::Write as _;

use crate::distribution::{DistributionReport, DistributionRow, Verdict, SUBJECT_PREFIX};

/// The output formats of `ufc-harness distribution`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DistributionFormat {
    /// Aligned text (the default).
    #[default]
    Text,
    /// A Markdown table.
    Markdown,
    /// The report as pretty JSON.
    Json,
    /// A self-contained HTML page with the observed and expected shares as a chart.
    Html,
}

impl std::str::FromStr for DistributionFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "text" => Ok(DistributionFormat::Text),
            "markdown" => Ok(DistributionFormat::Markdown),
            "json" => Ok(DistributionFormat::Json),
            "html" => Ok(DistributionFormat::Html),
            other => Err(format!("unknown format {other:?}: expected text, markdown, json or html")),
        }
    }
}

/// The report in `format`, ending in a newline.
pub fn render(report: &DistributionReport, format: DistributionFormat) -> String {
    match format {
        DistributionFormat::Text => render_text(report),
        DistributionFormat::Markdown => render_markdown(report),
        DistributionFormat::Json => render_json(report),
        DistributionFormat::Html => super::page::render(&super::page::distribution::page(report)),
    }
}

/// The report as pretty JSON (field names as the schema documents them).
pub fn render_json(report: &DistributionReport) -> String {
    let mut json = serde_json::to_string_pretty(report).unwrap_or_default();
    json.push('\n');
    json
}

/// A row's variation as people read it.
pub(crate) fn name(row: &DistributionRow) -> String {
    row.variation.clone().unwrap_or_else(|| "(default)".to_owned())
}

/// A share as a percentage, `?` when unknown.
pub(crate) fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "?".to_owned(), |s| format!("{:.3} %", s * 100.0))
}

/// The test's result in one sentence, or `None` when there was no test.
pub(crate) fn conclusion(report: &DistributionReport) -> Option<String> {
    let (chi_square, p) = (report.chi_square?, report.p_value?);
    let verdict = match report.verdict {
        Verdict::Consistent => format!("consistent with the configured split (alpha {})", report.alpha),
        _ => format!("SAMPLE RATIO MISMATCH (p < {})", report.alpha),
    };
    Some(format!(
        "chi-square {chi_square:.3} with {} degree(s) of freedom, p = {p:.4}: {verdict}",
        report.degrees_of_freedom
    ))
}

/// `subject-0 .. subject-<N-1>`, each key wrapped in `quote`.
pub(crate) fn subject_range(report: &DistributionReport, quote: &str) -> String {
    let last = report.subjects.saturating_sub(1);
    format!("{quote}{SUBJECT_PREFIX}0{quote} .. {quote}{SUBJECT_PREFIX}{last}{quote}")
}

pub(crate) const NO_TEST: &str = "expected shares cannot be predicted: no test";

/// The report as aligned text, one line per row, then the test's result.
pub fn render_text(report: &DistributionReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Flag {}: {} subjects ({})", report.flag, report.subjects, subject_range(report, ""));
    let width = report.rows.iter().map(|r| name(r).chars().count()).chain([9]).max().unwrap_or(9);
    let _ = writeln!(out, "  {:<width$}  {:>10}  {:>10}  {:>10}", "variation", "subjects", "observed", "expected");
    for row in &report.rows {
        let _ = writeln!(
            out,
            "  {:<width$}  {:>10}  {:>10}  {:>10}",
            name(row),
            row.observed,
            percent(Some(row.observed_share)),
            percent(row.expected_share)
        );
    }
    let _ = writeln!(out, "{}", conclusion(report).as_deref().unwrap_or(NO_TEST));
    for note in &report.notes {
        let _ = writeln!(out, "note: {note}");
    }
    out
}

/// The report as Markdown: a heading, a table of rows, the result, notes.
pub fn render_markdown(report: &DistributionReport) -> String {
    let mut out = String::new();
    let (flag, subjects, range) = (&report.flag, report.subjects, subject_range(report, "`"));
    let _ = writeln!(
        out,
        "## Distribution of `{flag}`\n\n{subjects} subjects ({range}), verdict **{}**.\n",
        report.verdict.as_str()
    );
    let _ = writeln!(out, "| variation | subjects | observed | expected |\n|---|---:|---:|---:|");
    for row in &report.rows {
        let variation = row.variation.as_ref().map_or_else(|| "(default)".to_owned(), |v| format!("`{v}`"));
        let _ = writeln!(
            out,
            "| {variation} | {} | {} | {} |",
            row.observed,
            percent(Some(row.observed_share)),
            percent(row.expected_share)
        );
    }
    let _ = writeln!(out, "\n{}", conclusion(report).as_deref().unwrap_or(NO_TEST));
    if !report.notes.is_empty() {
        out.push('\n');
        for note in &report.notes {
            let _ = writeln!(out, "- note: {note}");
        }
    }
    out
}
