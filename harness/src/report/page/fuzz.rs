//! A fuzz run as a [`Page`] (`summary.html` beside `summary.md`): one row
//! per finding, grouped by cause, one column per party; a differing cell
//! opens the party's answer to the minimized case diffed against the
//! reference's, and the minimized case itself.

use std::fmt::Write as _;

use serde_json::Value;
use ufc_protocol::report::Status;

use super::svg::{Bar, BarChart, BarRow, Segment};
use super::{CaseList, CaseRow, Cause, Cell, Page, Section};
use crate::fuzz::{Finding, FuzzReport};

/// The page of a finished fuzz run.
pub fn page(report: &FuzzReport) -> Page {
    let cases = case_list(report);
    let options = &report.options;
    let intro = vec![
        format!(
            "Seed {}, batch size {}: {} batches, {} cases in {:.1} s; {} disagreeing cases, {} distinct findings.",
            options.seed,
            options.batch_size,
            report.batches,
            report.cases,
            report.elapsed.as_secs_f64(),
            report.disagreements,
            report.findings.len()
        ),
        "Each finding is a minimized suite beside this page: `ufc-harness run --suite <finding>` replays it; \
         summary.md and summary.json say the same for people and machines."
            .into(),
    ];
    Page {
        title: "UFC differential fuzzing".into(),
        intro,
        sections: vec![
            Section { id: "summary".into(), heading: "Throughput per party".into(), body: throughput(report) },
            Section {
                id: "matrix".into(),
                heading: "Divergence causes × SDKs".into(),
                body: super::matrix::render(&cases),
            },
        ],
        cases: Some(cases),
    }
}

/// Cases per busy second, as a chart.
fn throughput(report: &FuzzReport) -> String {
    let rows = report
        .throughput
        .iter()
        .map(|t| {
            let rate = t.cases_per_second();
            BarRow {
                label: t.party.clone(),
                bars: vec![Bar {
                    segments: vec![Segment {
                        value: rate,
                        class: "rate".into(),
                        title: format!("{}: {} cases in {:.2} s busy", t.party, t.cases, t.busy.as_secs_f64()),
                    }],
                    text: format!("{rate:.0} cases/s"),
                }],
            }
        })
        .collect();
    BarChart { title: "Cases answered per second of busy time".into(), rows, max: 0.0, legend: Vec::new() }.render()
}

/// One row per finding.
pub fn case_list(report: &FuzzReport) -> CaseList {
    let mut list = CaseList { parties: report.parties.iter().map(|p| p.name.clone()).collect(), ..CaseList::default() };
    for finding in &report.findings {
        let cause_name = finding.signature.cause().unwrap_or("unclassified").to_owned();
        let group = list.group_index(&cause_name);
        let cause = list.cause_index(Cause { name: cause_name, about: None });
        let minimized = minimized_case(finding);
        let agreeing: &[String] = finding.disagreement.classes.first().map_or(&[], Vec::as_slice);
        let cells = list
            .parties
            .iter()
            .map(|party| {
                let answered = finding.disagreement.classes.iter().any(|class| class.contains(party));
                let cell = if agreeing.contains(party) {
                    Cell {
                        status: Status::Passed,
                        severity: None,
                        causes: Vec::new(),
                        detail: None,
                        requests: Vec::new(),
                    }
                } else if !answered {
                    Cell {
                        status: Status::Skipped,
                        severity: None,
                        causes: Vec::new(),
                        detail: Some("skipped: the party did not answer the minimized case".into()),
                        requests: Vec::new(),
                    }
                } else {
                    // Parties of the signature deviate this way; any other
                    // differs from the reference some other way.
                    let this_way = finding.signature.parties.contains(party);
                    Cell {
                        status: Status::Failed,
                        severity: this_way.then(|| finding.deviation.severity()),
                        causes: if this_way { vec![cause] } else { Vec::new() },
                        detail: Some(detail(report, finding, party, &minimized)),
                        requests: Vec::new(),
                    }
                };
                Some(cell)
            })
            .collect();
        list.cases.push(CaseRow { id: finding.signature.slug(), group, cells });
    }
    list
}

/// A differing party's cell: the finding, its answer diffed against the
/// reference's, and the minimized case.
fn detail(report: &FuzzReport, finding: &Finding, party: &str, minimized: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "finding: {}", finding.signature.text());
    let fields: Vec<&str> = finding.deviation.fields.iter().map(|f| f.as_str()).collect();
    let _ = writeln!(out, "differs on: {}", fields.join(", "));
    if let Some(majority) = &finding.majority {
        let _ = writeln!(out, "majority: {}", majority.text());
    }
    let _ = writeln!(
        out,
        "seen {} time(s), first in batch {} (case {})",
        finding.occurrences, finding.batch, finding.original_case_id
    );
    let _ = writeln!(out, "replay: ufc-harness run --suite {} --sdk {party}", finding.signature.slug());
    let _ = writeln!(out, "regenerate: {} --sdk {party}", finding.reproduce_command(&report.options));
    let target = finding.target;
    let case_id = finding.case_ids.get(target).map_or("", String::as_str);
    let wire = |name: &str| -> Value {
        finding
            .answers
            .iter()
            .find(|a| a.party == name)
            .map(|a| match (&a.failure, a.cases.get(target).and_then(Option::as_ref)) {
                (Some(failure), _) => serde_json::json!({ "failure": failure }),
                (None, Some(answer)) => {
                    comparable(serde_json::to_value(answer.to_wire(case_id)).unwrap_or(Value::Null))
                }
                (None, None) => Value::Null,
            })
            .unwrap_or(Value::Null)
    };
    let reference = report.parties.first().map_or("reference", |p| p.name.as_str());
    let _ = writeln!(
        out,
        "\nthe target case, {reference}'s answer (expected) against {party}'s (actual), \
         without the clock readings and event metaData no comparison weighs:"
    );
    out.push_str(&crate::report::json_diff(&wire(reference), &wire(party)));
    out.push('\n');
    out.push_str(minimized);
    out
}

/// A wire answer as the comparison sees it: no clock readings, no event
/// `metaData` (they differ between any two processes and mean nothing).
fn comparable(mut answer: Value) -> Value {
    for events in ["assignmentEvents", "banditEvents"] {
        for event in answer.get_mut(events).and_then(Value::as_array_mut).into_iter().flatten() {
            if let Some(fields) = event.as_object_mut() {
                fields.remove("metaData");
            }
        }
    }
    crate::compare::without_clock(&answer).0
}

/// The minimized case: its size, the case asked and its configuration.
fn minimized_case(finding: &Finding) -> String {
    let scenario = &finding.scenario;
    let mut out = format!(
        "minimized case: {} case(s), {} flag(s){}\n",
        scenario.cases.len(),
        scenario.flag_count(),
        if scenario.obfuscated { ", given in the CLIENT (obfuscated) format" } else { "" }
    );
    if let Some(input) = scenario.cases.get(finding.target) {
        let input = serde_json::to_value(input).unwrap_or(Value::Null);
        let _ = writeln!(out, "case asked:\n{}", crate::report::pretty_sorted(&input));
    }
    let _ = writeln!(out, "configuration (flags-v1.json):\n{}", crate::report::pretty_sorted(&scenario.flags));
    if let Some(models) = &scenario.bandit_models {
        let _ = writeln!(out, "bandit models (bandit-models-v1.json):\n{}", crate::report::pretty_sorted(models));
    }
    out
}
