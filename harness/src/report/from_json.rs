//! A run known only by its JSON report (`merge`), turned back into a
//! [`RunResult`] so that every other reporter (terminal, JUnit, Markdown,
//! HTML, badges) can render it. What the report leaves out stays out: the
//! answers of passed cases, and the stderr of a process that lost a case
//! under `--repeat`.

use ufc_protocol::report::{CaseReport, RunReport};

use crate::compare::Difference;
use crate::observation::{Answer, Json};
use crate::party::PartyInfo;
use crate::run::{CaseOutcome, RunResult};
use crate::session::CaseReply;
use crate::suite::LoadError;

/// The run a report describes.
pub fn run_result(report: &RunReport) -> RunResult {
    RunResult {
        suite: report.suite.clone(),
        parties: report
            .parties
            .iter()
            .map(|p| PartyInfo { name: p.name.clone(), sdk: p.sdk.clone(), capabilities: p.capabilities.clone() })
            .collect(),
        outcomes: report.cases.iter().map(outcome).collect(),
        load_errors: report
            .load_errors
            .iter()
            .map(|e| LoadError { file: e.file.clone(), path: e.path.clone(), message: e.message.clone() })
            .collect(),
        config_errors: report.config_errors.clone(),
        fail_on: report.fail_on.clone(),
        repeat: report.repeat,
    }
}

fn outcome(case: &CaseReport) -> CaseOutcome {
    CaseOutcome {
        case_id: case.case_id.clone(),
        party: case.party.clone(),
        status: case.status,
        file: case.file.clone(),
        differences: case
            .differences
            .iter()
            .map(|d| Difference {
                field: d.field.clone(),
                severity: d.severity,
                expected: Json(d.expected.clone()),
                actual: Json(d.actual.clone()),
            })
            .collect(),
        error: case.error.clone(),
        skip_reason: case.skip_reason.clone(),
        stderr_tail: case.stderr_tail.clone(),
        known_failure: case.known_failure.clone(),
        causes: case.causes.clone(),
        request_log: case.request_log.clone(),
        // An answer the harness wrote itself parses back; one that does
        // not is left out rather than invented.
        observed: case.observed.as_ref().and_then(|r| Answer::from_wire(r).ok()),
        process_replies: case
            .answers
            .iter()
            .map(|a| match (&a.result, &a.lost) {
                (Some(result), _) => match Answer::from_wire(result) {
                    Ok(answer) => CaseReply::Answered(answer),
                    Err(e) => {
                        CaseReply::Lost { error: format!("unreadable answer in the report: {e}"), stderr_tail: None }
                    }
                },
                (None, lost) => CaseReply::Lost { error: lost.clone().unwrap_or_default(), stderr_tail: None },
            })
            .collect(),
    }
}
