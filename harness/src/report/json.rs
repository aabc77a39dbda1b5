//! The machine-readable JSON report: a [`RunReport`] (format version
//! [`REPORT_VERSION`], `docs/report-schema.json`) built from a finished run.

use ufc_protocol::report::{
    CaseReport, DifferenceReport, LoadErrorReport, PartyReport, ProcessAnswer, RunReport, Status, Tool, REPORT_VERSION,
};

use crate::baseline::Comparison;
use crate::run::{CaseOutcome, RunResult};
use crate::session::CaseReply;

/// The report of a run.
pub fn report(result: &RunResult) -> RunReport {
    RunReport {
        report_version: REPORT_VERSION,
        tool: Tool { name: "ufc-harness".into(), version: env!("CARGO_PKG_VERSION").into() },
        comparison: None,
        suite: result.suite.clone(),
        fail_on: result.fail_on.clone(),
        repeat: result.repeat,
        partition: None,
        summary: result.summary(),
        parties: result
            .parties
            .iter()
            .map(|p| PartyReport {
                name: p.name.clone(),
                sdk: p.sdk.clone(),
                capabilities: p.capabilities.clone(),
                summary: result.party_summary(&p.name),
            })
            .collect(),
        load_errors: result
            .load_errors
            .iter()
            .map(|e| LoadErrorReport { file: e.file.clone(), path: e.path.clone(), message: e.message.clone() })
            .collect(),
        config_errors: result.config_errors.clone(),
        cases: result.outcomes.iter().map(case_report).collect(),
    }
}

/// The report as pretty JSON text, with a final newline.
pub fn render(result: &RunResult) -> String {
    to_text(&report(result))
}

/// Adds what changed against a baseline: the comparison leads the report,
/// and each case says how it moved.
pub fn add_comparison(report: &mut RunReport, comparison: &Comparison) {
    report.comparison = Some(comparison.report.clone());
    for case in &mut report.cases {
        case.change = comparison.change_of(&case.party, &case.case_id);
    }
}

/// A report as pretty JSON text, with a final newline.
pub fn to_text(report: &RunReport) -> String {
    serde_json::to_string_pretty(report).unwrap_or_default() + "\n"
}

fn case_report(outcome: &CaseOutcome) -> CaseReport {
    CaseReport {
        case_id: outcome.case_id.clone(),
        party: outcome.party.clone(),
        status: outcome.status,
        file: outcome.file.clone(),
        differences: outcome
            .differences
            .iter()
            .map(|d| DifferenceReport {
                field: d.field.clone(),
                severity: d.severity,
                expected: super::sorted(&d.expected.0),
                actual: super::sorted(&d.actual.0),
            })
            .collect(),
        error: outcome.error.clone(),
        skip_reason: outcome.skip_reason.clone(),
        stderr_tail: outcome.stderr_tail.clone(),
        known_failure: outcome.known_failure.clone(),
        causes: outcome.causes.clone(),
        // What a passing party answered is noise; keep it for the rest.
        observed: match outcome.status {
            Status::Passed => None,
            _ => outcome.observed.as_ref().map(|answer| answer.to_wire(&outcome.case_id)),
        },
        answers: outcome
            .process_replies
            .iter()
            .zip(1..)
            .map(|(reply, process)| process_answer(&outcome.case_id, process, reply))
            .collect(),
        change: None,
        request_log: outcome.request_log.clone(),
    }
}

/// One process's reply, as the report carries it.
pub fn process_answer(case_id: &str, process: u32, reply: &CaseReply) -> ProcessAnswer {
    let (result, lost) = match reply {
        CaseReply::Answered(answer) => (Some(answer.to_wire(case_id)), None),
        CaseReply::Lost { error, .. } => (None, Some(error.clone())),
        // A process is never asked a case it cannot answer; say so if one was.
        CaseReply::Skipped { reason } => (None, Some(format!("skipped: {reason}"))),
    };
    ProcessAnswer { process, result, lost }
}
