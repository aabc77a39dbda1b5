//! The cross-SDK report's lifecycle section: the scenario run
//! ([`crate::scenario::pipeline::run_scenarios`]) folded to one verdict per
//! scenario and SDK, counted per SDK, as Markdown and as a page section.
//!
//! A scenario is judged by its worst step: one failing step fails it, a
//! known failure makes it known, and it is skipped only when every step was.

use std::fmt::Write as _;

use ufc_protocol::report::Status;
use ufc_protocol::Capability;

use super::page::{escape, Section};
use crate::run::RunResult;

/// One scenario's verdict for one SDK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every step that ran passed.
    Passed,
    /// A step differs as the SDK's manifest says it does.
    Known,
    /// No step ran, for a reason the scenario gave (a knob the SDK lacks).
    Skipped,
    /// No step ran: the adapter does not declare `online`.
    NoOnline,
    /// A step failed, errored, passed against its manifest or was unsteady.
    Failed,
}

impl Verdict {
    /// How the verdict reads in a table.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Passed => "passed",
            Verdict::Known => "known failure",
            Verdict::Skipped => "skipped",
            Verdict::NoOnline => "skipped (no online capability)",
            Verdict::Failed => "failed",
        }
    }

    /// The page's cell class (the run page's status classes).
    fn class(self) -> &'static str {
        match self {
            Verdict::Passed => "passed",
            Verdict::Known => "known-failure",
            Verdict::Skipped | Verdict::NoOnline => "skipped",
            Verdict::Failed => "failed",
        }
    }
}

/// Per SDK, how many scenarios ended how.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SdkLine {
    /// The SDK's party name.
    pub sdk: String,
    /// Scenarios passed.
    pub passed: usize,
    /// Scenarios that are known failures.
    pub known: usize,
    /// Scenarios skipped (for any reason).
    pub skipped: usize,
    /// Scenarios failed.
    pub failed: usize,
    /// Whether the adapter declares `online` at all.
    pub online: bool,
}

/// The section's content.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lifecycle {
    /// One per SDK, in the run's party order.
    pub sdks: Vec<SdkLine>,
    /// Scenario names in the run's order, each with one verdict per SDK
    /// (`None` where the SDK has no step of it).
    pub scenarios: Vec<(String, Vec<Option<Verdict>>)>,
}

/// One scenario's steps for one party, counted.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    steps: usize,
    skipped: usize,
    known: bool,
    failed: bool,
}

/// Folds the scenario run's steps (`scenario/<name>/<step>`) to scenarios.
pub fn fold(result: &RunResult) -> Lifecycle {
    let parties: Vec<&str> = result.parties.iter().map(|p| p.name.as_str()).collect();
    let online: Vec<bool> = result.parties.iter().map(|p| p.can(&Capability::Online)).collect();
    let mut tally: Vec<(String, Vec<Tally>)> = Vec::new();
    for o in &result.outcomes {
        let Some(party) = parties.iter().position(|p| *p == o.party) else { continue };
        let name = scenario_of(&o.case_id).to_owned();
        let index = match tally.iter().position(|(n, _)| *n == name) {
            Some(index) => index,
            None => {
                tally.push((name, vec![Tally::default(); parties.len()]));
                tally.len() - 1
            }
        };
        let slot = &mut tally[index].1[party];
        slot.steps += 1;
        slot.skipped += usize::from(o.status == Status::Skipped);
        slot.known |= o.status == Status::KnownFailure;
        slot.failed |= super::page::matrix::is_unexpected(o.status);
    }
    let mut sdks: Vec<SdkLine> = parties
        .iter()
        .zip(&online)
        .map(|(sdk, &online)| SdkLine { sdk: (*sdk).to_owned(), online, ..SdkLine::default() })
        .collect();
    let scenarios = tally
        .into_iter()
        .map(|(name, per_party)| {
            let verdicts = per_party
                .iter()
                .enumerate()
                .map(|(party, t)| {
                    let verdict = match () {
                        _ if t.steps == 0 => return None,
                        _ if t.failed => Verdict::Failed,
                        _ if t.known => Verdict::Known,
                        _ if t.skipped == t.steps && !online[party] => Verdict::NoOnline,
                        _ if t.skipped == t.steps => Verdict::Skipped,
                        _ => Verdict::Passed,
                    };
                    let line = &mut sdks[party];
                    match verdict {
                        Verdict::Passed => line.passed += 1,
                        Verdict::Known => line.known += 1,
                        Verdict::Skipped | Verdict::NoOnline => line.skipped += 1,
                        Verdict::Failed => line.failed += 1,
                    }
                    Some(verdict)
                })
                .collect();
            (name, verdicts)
        })
        .collect();
    Lifecycle { sdks, scenarios }
}

/// `scenario/<name>/<step>` → `<name>`; other ids stay whole.
fn scenario_of(case_id: &str) -> &str {
    let rest = case_id.strip_prefix("scenario/").unwrap_or(case_id);
    rest.split_once('/').map_or(rest, |(name, _)| name)
}

/// The per-SDK cell of the counts table: the counts, or why there are none.
fn counts(line: &SdkLine) -> [String; 4] {
    if !line.online {
        let why = Verdict::NoOnline.label().to_owned();
        return ["–".into(), "–".into(), why, "–".into()];
    }
    [line.passed, line.known, line.skipped, line.failed].map(|n| n.to_string())
}

const INTRO: &str = "SDK lifecycle and logging scenarios (test-cases/scenarios/, `ufc-harness scenarios`) \
against a mock Eppo CDN; a scenario fails when any of its steps does.";

/// The Markdown section.
pub fn markdown(lifecycle: &Lifecycle) -> String {
    let mut out = format!(
        "## Lifecycle scenarios\n\n{INTRO}\n\n| SDK | passed | known | skipped | failed |\n|---|---:|---:|---:|---:|\n"
    );
    for line in &lifecycle.sdks {
        let [passed, known, skipped, failed] = counts(line);
        let _ = writeln!(out, "| {} | {passed} | {known} | {skipped} | {failed} |", line.sdk);
    }
    let names: Vec<&str> = lifecycle.sdks.iter().map(|l| l.sdk.as_str()).collect();
    let _ = write!(out, "\n| scenario | {} |\n|---|{}\n", names.join(" | "), "---|".repeat(names.len()));
    for (scenario, verdicts) in &lifecycle.scenarios {
        let cells: Vec<&str> = verdicts.iter().map(|v| v.map_or("–", Verdict::label)).collect();
        let _ = writeln!(out, "| {scenario} | {} |", cells.join(" | "));
    }
    out
}

/// The page section (id `lifecycle`).
pub fn section(lifecycle: &Lifecycle) -> Section {
    let rows: Vec<Vec<String>> = lifecycle
        .sdks
        .iter()
        .map(|line| {
            let [passed, known, skipped, failed] = counts(line);
            vec![line.sdk.clone(), passed, known, skipped, failed]
        })
        .collect();
    let mut body = format!("<p>{}</p>\n", escape(INTRO));
    body.push_str(&super::page::table(&["SDK", "passed", "known", "skipped", "failed"], &rows, &[1, 2, 3, 4]));
    body.push_str("<table class=\"plain\"><thead><tr><th>scenario</th>");
    for line in &lifecycle.sdks {
        let _ = write!(body, "<th>{}</th>", escape(&line.sdk));
    }
    body.push_str("</tr></thead><tbody>\n");
    for (scenario, verdicts) in &lifecycle.scenarios {
        let _ = write!(body, "<tr><td>{}</td>", escape(scenario));
        for verdict in verdicts {
            match verdict {
                Some(v) => {
                    let _ = write!(body, "<td class=\"{}\">{}</td>", v.class(), escape(v.label()));
                }
                None => body.push_str("<td>–</td>"),
            }
        }
        body.push_str("</tr>\n");
    }
    body.push_str("</tbody></table>\n");
    Section { id: "lifecycle".into(), heading: "Lifecycle scenarios".into(), body }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_id_names_its_scenario() {
        assert_eq!(scenario_of("scenario/poll-picks-up-change/after"), "poll-picks-up-change");
        assert_eq!(scenario_of("scenario/solo"), "solo");
        assert_eq!(scenario_of("other"), "other");
    }
}
