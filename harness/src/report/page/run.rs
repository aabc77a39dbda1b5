//! A run (`run --html`, the cross-SDK `report`) as a [`Page`]: the summary
//! per party with its pass-share chart, the cause × party matrix, bench
//! throughput when a benchmark report is at hand, and every case.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use ufc_protocol::report::{Severity, Status};

use super::svg::{Bar, BarChart, BarRow, Segment};
use super::{escape, CaseList, CaseRow, Cause, Cell, Page, Section};
use crate::bench::BenchReport;
use crate::cores::Core;
use crate::report::markdown::cause_of;
use crate::run::{CaseOutcome, RunResult};

/// What a run's page shows besides the run itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct Extras<'a> {
    /// The page's title; default "UFC conformance report".
    pub title: Option<&'a str>,
    /// A benchmark of the same parties, for the throughput chart.
    pub bench: Option<&'a BenchReport>,
}

/// The page of `result`.
pub fn page(result: &RunResult, extras: Extras<'_>) -> Page {
    let cases = case_list(result);
    let mut intro = vec![
        format!("Suite: {}", result.suite.display()),
        format!(
            "Failing severities: {}. Known failures are differences the SDK's manifest (harness/expectations) \
             files under a divergence cause (docs/divergences.md); they do not fail the run.",
            result.fail_on.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        ),
    ];
    if result.repeat > 1 {
        intro.push(format!("Each party answered every case in {} fresh processes.", result.repeat));
    }
    let mut sections = vec![
        Section { id: "summary".into(), heading: "Summary per SDK".into(), body: summary(result) },
        Section {
            id: "matrix".into(),
            heading: "Divergence causes × SDKs".into(),
            body: super::matrix::render(&cases),
        },
    ];
    if let Some(bench) = extras.bench {
        sections.push(Section {
            id: "bench".into(),
            heading: "Evaluation throughput".into(),
            body: bench_charts(bench),
        });
    }
    if !result.load_errors.is_empty() || !result.config_errors.is_empty() {
        sections.push(Section { id: "problems".into(), heading: "Input problems".into(), body: problems(result) });
    }
    Page { title: extras.title.unwrap_or("UFC conformance report").to_owned(), intro, sections, cases: Some(cases) }
}

/// The per-party table and the pass-share chart.
fn summary(result: &RunResult) -> String {
    let repeated = result.repeat > 1;
    let mut header =
        vec!["party", "SDK", "core", "passed", "known failures", "failed", "errored", "unexpected passes", "skipped"];
    if repeated {
        header.push("nondeterministic");
    }
    header.push("pass share");
    let mut rows = Vec::new();
    let mut bars = Vec::new();
    for p in &result.parties {
        let s = result.party_summary(&p.name);
        let answered = s.total - s.skipped;
        let share =
            if answered > 0 { format!("{:.1}%", 100.0 * s.passed as f64 / answered as f64) } else { "–".into() };
        let mut row = vec![
            p.name.clone(),
            format!("{} {}", p.sdk.package.as_deref().unwrap_or(&p.sdk.name), p.sdk.version),
            Core::of(&p.sdk).map_or("–", Core::label).to_owned(),
        ];
        let mut counts = vec![s.passed, s.known_failures, s.failed, s.errored, s.unexpected_passes, s.skipped];
        if repeated {
            counts.push(s.nondeterministic);
        }
        row.extend(counts.iter().map(usize::to_string));
        row.push(share.clone());
        rows.push(row);
        let parts = [
            (s.passed, Status::Passed),
            (s.known_failures, Status::KnownFailure),
            (s.failed, Status::Failed),
            (s.errored, Status::Errored),
            (s.unexpected_passes, Status::UnexpectedPass),
            (s.nondeterministic, Status::Nondeterministic),
            (s.skipped, Status::Skipped),
        ];
        let segments = parts
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, status)| Segment {
                value: *n as f64 / s.total.max(1) as f64,
                class: status.as_str().into(),
                title: format!("{}: {n} of {}", status.as_str(), s.total),
            })
            .collect();
        bars.push(BarRow { label: p.name.clone(), bars: vec![Bar { segments, text: format!("{share} passed") }] });
    }
    let numeric: Vec<usize> = (3..header.len()).collect();
    let mut out = super::table(&header, &rows, &numeric);
    let legend = [Status::Passed, Status::KnownFailure, Status::Failed, Status::Errored, Status::UnexpectedPass]
        .into_iter()
        .chain(repeated.then_some(Status::Nondeterministic))
        .chain([Status::Skipped])
        .map(|s| (s.as_str().to_owned(), s.as_str().replace('-', " ")))
        .collect();
    let chart = BarChart {
        title: "Cases per party by verdict (pass share: passed of the cases it answered)".into(),
        rows: bars,
        max: 1.0,
        legend,
    };
    out.push_str(&chart.render());
    out
}

/// One chart per bench mode: each measured party's evaluations per second.
fn bench_charts(bench: &BenchReport) -> String {
    let mut modes: Vec<String> = Vec::new();
    let mut by_mode: BTreeMap<String, Vec<BarRow>> = BTreeMap::new();
    for m in &bench.measurements {
        let mode = m.mode.to_string();
        if !modes.contains(&mode) {
            modes.push(mode.clone());
        }
        let Some(rate) = m.outcome.evaluations_per_second() else { continue };
        by_mode.entry(mode).or_default().push(BarRow {
            label: m.party.clone(),
            bars: vec![Bar {
                segments: vec![Segment {
                    value: rate,
                    class: "rate".into(),
                    title: format!("{} ({}): {rate:.0}/s", m.party, m.sdk),
                }],
                text: format!("{}/s", si(rate)),
            }],
        });
    }
    let mut out = format!(
        "<p>From the benchmark of {} ({} iterations per loop, {}, {} cores): each party's in-process loop, \
         no pipe in the timing (reports/bench.md).</p>\n<div class=\"charts\">",
        escape(&bench.generated_at),
        bench.iterations,
        escape(&bench.machine.cpu),
        bench.machine.cores
    );
    for mode in modes {
        let rows = by_mode.remove(&mode).unwrap_or_default();
        let chart = BarChart { title: format!("{mode}: evaluations per second"), rows, max: 0.0, legend: Vec::new() };
        out.push_str(&chart.render());
    }
    out.push_str("</div>\n");
    out
}

/// `2966949` → `2.97 M`.
fn si(value: f64) -> String {
    match value {
        v if v >= 1e6 => format!("{:.2} M", v / 1e6),
        v if v >= 1e3 => format!("{:.1} k", v / 1e3),
        v => format!("{v:.0}"),
    }
}

/// Files that could not be read and flags that could not be loaded, with
/// paths under the working directory shown relative to it (a checked-in
/// report then names no one's checkout).
fn problems(result: &RunResult) -> String {
    let here = std::env::current_dir().map(|d| format!("{}/", d.display())).unwrap_or_default();
    let relative = |text: &str| if here.len() > 1 { text.replace(&here, "") } else { text.to_owned() };
    let mut out = String::from("<ul class=\"problems\">");
    for e in &result.load_errors {
        let file = relative(&e.file.display().to_string());
        let _ = write!(out, "<li>{}: {} ({})</li>", escape(&file), escape(&e.message), escape(&e.path));
    }
    for e in &result.config_errors {
        let _ = write!(out, "<li>{}</li>", escape(&relative(e)));
    }
    out.push_str("</ul>\n");
    out
}

/// Every outcome as a cell: one row per case id, one column per party.
pub fn case_list(result: &RunResult) -> CaseList {
    let mut list = CaseList { parties: result.parties.iter().map(|p| p.name.clone()).collect(), ..CaseList::default() };
    let column: BTreeMap<&str, usize> = result.parties.iter().enumerate().map(|(i, p)| (p.name.as_str(), i)).collect();
    let mut row_of: BTreeMap<&str, usize> = BTreeMap::new();
    for o in &result.outcomes {
        let Some(&party) = column.get(o.party.as_str()) else { continue };
        let row = match row_of.get(o.case_id.as_str()) {
            Some(&row) => row,
            None => {
                let group = list.group_index(super::group_of(&o.case_id));
                list.cases.push(CaseRow { id: o.case_id.clone(), group, cells: vec![None; list.parties.len()] });
                row_of.insert(&o.case_id, list.cases.len() - 1);
                list.cases.len() - 1
            }
        };
        let cell = cell(&mut list, o);
        list.cases[row].cells[party] = Some(cell);
    }
    list
}

/// One outcome as a cell, its cause interned in `list`.
fn cell(list: &mut CaseList, o: &CaseOutcome) -> Cell {
    let severity = super::worst(o.differences.iter().map(|d| d.severity));
    let filed = !matches!(o.status, Status::Passed | Status::Skipped);
    let causes = if filed {
        vec![list.cause_index(Cause { name: cause_of(o), about: o.known_failure.clone() })]
    } else {
        Vec::new()
    };
    Cell { status: o.status, severity, causes, detail: detail(o), requests: crate::report::request_lines(o) }
}

/// What the cell opens; `None` for a plain pass.
fn detail(o: &CaseOutcome) -> Option<String> {
    if o.differences.is_empty()
        && o.error.is_none()
        && o.skip_reason.is_none()
        && o.process_replies.is_empty()
        && o.request_log.is_empty()
    {
        return None;
    }
    let mut body = String::new();
    if let Some(e) = &o.error {
        let _ = writeln!(body, "error: {e}");
    }
    if let Some(r) = &o.skip_reason {
        let _ = writeln!(body, "skipped: {r}");
    }
    for (process, said) in crate::report::process_answers(o) {
        let _ = writeln!(body, "process {process}: {said}");
    }
    for d in &o.differences {
        let _ = writeln!(body, "[{}] {}", d.severity.as_str(), d.field);
        // Full diffs only where something does not pass; a passing cell
        // lists its minor fields, which keeps the page small.
        if o.status != Status::Passed {
            body.push_str(&crate::report::json_diff(&d.expected.0, &d.actual.0));
        } else if d.severity == Severity::Minor {
            let _ = writeln!(
                body,
                "  expected {}\n  actual   {}",
                crate::report::short(&d.expected.0, 120),
                crate::report::short(&d.actual.0, 120)
            );
        }
    }
    if let Some(t) = &o.stderr_tail {
        let _ = writeln!(body, "stderr:\n{t}");
    }
    Some(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_bench_mode_charts_its_measured_parties() {
        let measured = |mode: &str, party: &str, rate: f64| {
            serde_json::json!({"mode": mode, "party": party, "sdk": format!("{party} 1"), "status": "measured",
                "evaluationsPerSecond": rate, "elapsedSeconds": 1.0})
        };
        let bench: BenchReport = serde_json::from_value(serde_json::json!({
            "reportVersion": 1, "tool": {"name": "ufc-harness", "version": "0"}, "generatedAt": "2026-01-01T00:00:00Z",
            "machine": {"cpu": "a CPU", "cores": 2, "os": "linux", "arch": "x86_64"}, "suite": "s", "flag": "f",
            "banditFlag": "b", "iterations": 10, "flagSubjects": 1, "skippedModes": [],
            "measurements": [measured("assign", "reference", 2_000_000.0), measured("assign", "node", 500_000.0),
                {"mode": "bandit", "party": "rust", "sdk": "rust 1", "status": "unsupported", "capability": "bandits"},
                measured("bandit", "reference", 100_000.0)],
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        let html = bench_charts(&bench);
        assert_eq!(html.matches("<figure class=\"chart\">").count(), 2, "one chart per mode: {html}");
        assert!(html.contains("assign: evaluations per second") && html.contains(">2.00 M/s</text>"), "{html}");
        // node at a quarter of the reference's rate, on the same scale.
        assert!(html.contains("width=\"360.0\"") && html.contains("width=\"90.0\""), "{html}");
        assert!(!html.contains(">rust<"), "an unmeasured party has no bar: {html}");
    }

    #[test]
    fn large_rates_read_in_thousands_and_millions() {
        assert_eq!((si(2_966_949.0), si(25_976.0), si(512.4)), ("2.97 M".into(), "26.0 k".into(), "512".into()));
    }
}
