//! What changed against a baseline ([`crate::baseline`]), as the section
//! each output format leads with: regressions first, each named with what
//! it was and is and why it fails now; then how many cases were fixed, new,
//! removed and unchanged.

use std::collections::HashMap;
use std::fmt::Write;

use ufc_protocol::report::{ChangeReport, Status};

use super::junit::escape;
use super::terminal::Style;
use crate::baseline::Comparison;
use crate::run::{CaseOutcome, RunResult};

/// How many of the fixed, new and removed cases are listed by name.
const LISTED: usize = 20;

fn status_name(status: Option<Status>) -> &'static str {
    status.map_or("absent", Status::as_str)
}

/// Why a case fails now, in a few words: its causes, its error, or its
/// first failing difference.
fn why(outcome: Option<&CaseOutcome>, result: &RunResult) -> String {
    let Some(o) = outcome else { return String::new() };
    if !o.causes.is_empty() {
        return o.causes.join(", ");
    }
    if let Some(error) = &o.error {
        return super::cut(error, 80);
    }
    o.differences
        .iter()
        .find(|d| result.fail_on.contains(&d.severity))
        .map(|d| {
            format!("{}: expected {}, got {}", d.field, super::short(&d.expected.0, 30), super::short(&d.actual.0, 30))
        })
        .unwrap_or_default()
}

struct Outcomes<'a>(HashMap<(&'a str, &'a str), &'a CaseOutcome>);

impl<'a> Outcomes<'a> {
    fn of(result: &'a RunResult) -> Outcomes<'a> {
        Outcomes(result.outcomes.iter().map(|o| ((o.party.as_str(), o.case_id.as_str()), o)).collect())
    }
    fn get(&self, change: &ChangeReport) -> Option<&'a CaseOutcome> {
        self.0.get(&(change.party.as_str(), change.case_id.as_str())).copied()
    }
}

fn party_label(change: &ChangeReport) -> String {
    match &change.baseline_party {
        Some(old) => format!("{} (against {old})", change.party),
        None => change.party.clone(),
    }
}

fn counts_line(comparison: &Comparison) -> String {
    let c = &comparison.report.counts;
    format!(
        "{} regression{}, {} fixed, {} new, {} removed, {} unchanged",
        c.regressions,
        if c.regressions == 1 { "" } else { "s" },
        c.fixed,
        c.new,
        c.removed,
        c.unchanged
    )
}

fn others(comparison: &Comparison) -> [(&'static str, &[ChangeReport]); 3] {
    let r = &comparison.report;
    [("fixed", &r.fixed), ("new", &r.new), ("removed", &r.removed)]
}

/// The terminal's section: put before everything else.
pub fn terminal(comparison: &Comparison, result: &RunResult, style: Style) -> String {
    let outcomes = Outcomes::of(result);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        style.bold(&format!("Against {}: {}", comparison.report.baseline, counts_line(comparison)))
    );
    for change in &comparison.report.regressions {
        let _ = writeln!(
            out,
            "  {} {} {}: {} -> {}  {}",
            style.red("REGRESSION"),
            party_label(change),
            change.case_id,
            status_name(change.before),
            status_name(change.now),
            why(outcomes.get(change), result)
        );
    }
    // Fixed cases by name; new and removed ones are many when a suite or
    // an SDK changes, so the terminal counts them and says where they are.
    let fixed = &comparison.report.fixed;
    for change in fixed.iter().take(LISTED) {
        let _ = writeln!(
            out,
            "  {} {} {}: {} -> {}",
            style.green("FIXED"),
            party_label(change),
            change.case_id,
            status_name(change.before),
            status_name(change.now)
        );
    }
    if fixed.len() > LISTED {
        let _ = writeln!(out, "  FIXED ... and {} more", fixed.len() - LISTED);
    }
    let gone = absent_parties(comparison, result);
    if !gone.is_empty() {
        let _ = writeln!(out, "  {} the baseline's {} did not run now", style.yellow("note:"), gone.join(", "));
    }
    out.push('\n');
    out
}

/// Parties whose cases are all removed: in the baseline, not in this run.
fn absent_parties(comparison: &Comparison, result: &RunResult) -> Vec<String> {
    let mut gone: Vec<String> = Vec::new();
    for change in &comparison.report.removed {
        if !result.parties.iter().any(|p| p.name == change.party) && !gone.contains(&change.party) {
            gone.push(change.party.clone());
        }
    }
    gone
}

/// The terminal's last line under `--fail-on-regression`: the verdict that
/// sets the exit code.
pub fn terminal_verdict(comparison: &Comparison, style: Style) -> String {
    let verdict =
        if comparison.report.regressions.is_empty() { style.green("NO REGRESSION") } else { style.red("REGRESSED") };
    format!("{verdict} against {}: {}\n", comparison.report.baseline, counts_line(comparison))
}

/// The Markdown section, put right after the title.
pub fn markdown(comparison: &Comparison, result: &RunResult) -> String {
    let outcomes = Outcomes::of(result);
    let mut out = String::new();
    let _ = writeln!(out, "## Against the baseline\n");
    let _ = writeln!(out, "Baseline: `{}`: **{}**.\n", comparison.report.baseline, counts_line(comparison));
    if !comparison.report.regressions.is_empty() {
        let _ = writeln!(out, "| regression | party | was | now | why |");
        let _ = writeln!(out, "|---|---|---|---|---|");
        for change in &comparison.report.regressions {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} |",
                change.case_id,
                party_label(change),
                status_name(change.before),
                status_name(change.now),
                why(outcomes.get(change), result).replace('|', "\\|")
            );
        }
        out.push('\n');
    }
    for (label, list) in others(comparison) {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(out, "<details><summary>{} {label}</summary>\n", list.len());
        for change in list.iter().take(LISTED) {
            let _ = writeln!(
                out,
                "- `{}` ({}): {} → {}",
                change.case_id,
                party_label(change),
                status_name(change.before),
                status_name(change.now)
            );
        }
        if list.len() > LISTED {
            let _ = writeln!(out, "- ... and {} more (the JSON report lists them all)", list.len() - LISTED);
        }
        let _ = writeln!(out, "\n</details>\n");
    }
    out
}

/// The HTML page's section body (escaped HTML): the counts, the
/// regressions as a table, then how many were fixed, new and removed.
pub fn html(comparison: &Comparison, result: &RunResult) -> String {
    let outcomes = Outcomes::of(result);
    let mut out = format!(
        "<p>Baseline: <code>{}</code>: <strong>{}</strong>.</p>\n",
        escape(&comparison.report.baseline),
        escape(&counts_line(comparison))
    );
    let rows: Vec<Vec<String>> = comparison
        .report
        .regressions
        .iter()
        .map(|change| {
            vec![
                change.case_id.clone(),
                party_label(change),
                status_name(change.before).to_owned(),
                status_name(change.now).to_owned(),
                why(outcomes.get(change), result),
            ]
        })
        .collect();
    if !rows.is_empty() {
        out.push_str(&super::page::table(&["regression", "party", "was", "now", "why"], &rows, &[]));
    }
    let others: Vec<String> =
        others(comparison).iter().map(|(label, list)| format!("{} {label}", list.len())).collect();
    let _ = writeln!(out, "<p>{}.</p>", escape(&others.join(", ")));
    out
}

/// The JUnit `<testsuite>` of the regressions, put first in `<testsuites>`
/// so that a CI's test tab shows them at the top; one failed test case per
/// regression.
pub fn junit(comparison: &Comparison, result: &RunResult) -> String {
    let outcomes = Outcomes::of(result);
    let regressions = &comparison.report.regressions;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "  <testsuite name=\"regressions against {}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\">",
        escape(&comparison.report.baseline),
        regressions.len(),
        regressions.len()
    );
    for change in regressions {
        let message = format!("{} -> {}", status_name(change.before), status_name(change.now));
        let _ = writeln!(
            out,
            "    <testcase classname=\"regression.{}\" name=\"{}\"><failure type=\"regression\" message=\"{}\">{}</failure></testcase>",
            escape(&change.party),
            escape(&change.case_id),
            escape(&message),
            escape(&format!("{}: {}", party_label(change), why(outcomes.get(change), result)))
        );
    }
    out.push_str("  </testsuite>\n");
    out
}
