//! The JSON report of `ufc-harness run` (and `report`), format version
//! [`REPORT_VERSION`], described by `docs/report-schema.json`.
//!
//! A field that changes meaning or shape bumps [`REPORT_VERSION`]; the
//! change is recorded in `docs/report-schema.json`'s description.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::capability::Capabilities;
use crate::messages::{CaseResult, SdkInfo};

/// The report's format version: 2 added `repeat`, the `nondeterministic`
/// status and count, and each case's `answers` (`run --repeat`).
pub const REPORT_VERSION: u32 = 2;

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunReport {
    /// [`REPORT_VERSION`].
    pub report_version: u32,
    /// The tool that wrote it.
    pub tool: Tool,
    /// What changed against a baseline (`run --baseline`, `--compare`),
    /// regressions first; absent without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparison: Option<ComparisonReport>,
    /// The suite root (several suites: their labels joined with ` + `).
    pub suite: PathBuf,
    /// Severities that fail a case.
    pub fail_on: Vec<Severity>,
    /// In how many fresh processes each party was asked every case (`run
    /// --repeat`; 1 without it).
    pub repeat: u32,
    /// On the report of one share of a run (`run --partition K/N`): which
    /// share, and every case of the whole run, so that `merge` can put the
    /// shares back together; absent on a whole run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<PartitionReport>,
    /// Totals over every party.
    pub summary: Summary,
    /// Each party, the reference first.
    pub parties: Vec<PartyReport>,
    /// Test files that could not be read.
    pub load_errors: Vec<LoadErrorReport>,
    /// Configuration problems (a malformed flag, a file that is not UFC).
    pub config_errors: Vec<String>,
    /// One entry per case and party, grouped by party.
    pub cases: Vec<CaseReport>,
}

/// The tool that wrote a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    /// `ufc-harness`.
    pub name: String,
    /// Its version.
    pub version: String,
}

/// One party of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartyReport {
    /// Its name in the run (`reference`, `python`, ...).
    pub name: String,
    /// The SDK behind it.
    pub sdk: SdkInfo,
    /// What it declared.
    pub capabilities: Capabilities,
    /// Its totals.
    pub summary: Summary,
}

/// A test file that could not be read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadErrorReport {
    /// The file.
    pub file: PathBuf,
    /// The JSON path of the fault (`$.subjects[3].subjectKey`).
    pub path: String,
    /// What was expected there.
    pub message: String,
}

/// The verdict on one case for one party.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// No difference at a failing severity.
    Passed,
    /// A difference at a failing severity.
    Failed,
    /// The party could not answer (crash, hang, garbage).
    Errored,
    /// The party lacks a capability the case needs.
    Skipped,
    /// Failed, as the known-failure manifest says it does.
    KnownFailure,
    /// Listed as a known failure, but passed: the list is stale.
    UnexpectedPass,
    /// Asked in several fresh processes (`run --repeat`), the party gave
    /// different answers: neither a pass nor a failure.
    Nondeterministic,
}

impl Status {
    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Errored => "errored",
            Status::Skipped => "skipped",
            Status::KnownFailure => "known-failure",
            Status::UnexpectedPass => "unexpected-pass",
            Status::Nondeterministic => "nondeterministic",
        }
    }
}

/// How much a difference matters; the command line chooses which fail a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The served value or bandit action.
    Critical,
    /// Events, details codes and the structure of details.
    Major,
    /// Details wording, extra event fields.
    Minor,
}

impl Severity {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Major => "major",
            Severity::Minor => "minor",
        }
    }
}

/// Totals over a set of case outcomes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Every outcome.
    pub total: usize,
    /// Passed.
    pub passed: usize,
    /// Failed.
    pub failed: usize,
    /// Errored.
    pub errored: usize,
    /// Skipped.
    pub skipped: usize,
    /// Known failures that still fail.
    pub known_failures: usize,
    /// Known failures that now pass.
    pub unexpected_passes: usize,
    /// Cases answered differently by different processes (left out when
    /// none were, as it is in every run without `--repeat`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub nondeterministic: usize,
}

fn is_zero(count: &usize) -> bool {
    *count == 0
}

impl Summary {
    /// Counts one more outcome.
    pub fn add(&mut self, status: Status) {
        self.total += 1;
        match status {
            Status::Passed => self.passed += 1,
            Status::Failed => self.failed += 1,
            Status::Errored => self.errored += 1,
            Status::Skipped => self.skipped += 1,
            Status::KnownFailure => self.known_failures += 1,
            Status::UnexpectedPass => self.unexpected_passes += 1,
            Status::Nondeterministic => self.nondeterministic += 1,
        }
    }
}

/// One field that differs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DifferenceReport {
    /// Where: `value`, `details.flagEvaluationCode`, `assignmentEvents[0].variation`, ...
    pub field: String,
    /// How much it matters.
    pub severity: Severity,
    /// What the test file (for events: the reference) says.
    pub expected: Value,
    /// What the party answered.
    pub actual: Value,
}

/// One case, one party.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseReport {
    /// The case id.
    pub case_id: String,
    /// The party's name.
    pub party: String,
    /// The verdict.
    pub status: Status,
    /// The test file.
    pub file: PathBuf,
    /// Every difference found, failing or not.
    pub differences: Vec<DifferenceReport>,
    /// Why it errored, or what the SDK raised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Why it was skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_reason: Option<String>,
    /// The adapter's recent stderr, for errored cases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr_tail: Option<String>,
    /// The known-failure entry that applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known_failure: Option<String>,
    /// The divergence causes this failure is attributed to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<String>,
    /// What the party answered, as it said it (left out for passed cases).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed: Option<CaseResult>,
    /// What each fresh process answered, in order, when they did not all
    /// answer alike (status `nondeterministic`); empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub answers: Vec<ProcessAnswer>,
    /// How the case moved against the baseline, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<Change>,
    /// `scenarios`: the requests the mock Eppo CDN saw during a failing
    /// scenario, oldest first; empty (and absent) otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub request_log: Vec<RecordedRequest>,
}

/// Which share of a run a report covers (`run --partition K/N`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartitionReport {
    /// K, from 1.
    pub index: u32,
    /// N.
    pub count: u32,
    /// Every case id of the whole run (all shares), in report order.
    pub case_ids: Vec<String>,
    /// What each case of `case_ids` was dealt to its share by, in the same
    /// order, when that is not the case id itself: `scenarios --partition`
    /// deals whole scenarios (their steps depend on each other), so every
    /// step carries its scenario's name. Empty (absent): by case id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub share_keys: Vec<String>,
}

/// How one case moved between a baseline and this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Change {
    /// Passed or was a known failure before; fails now (failed, errored,
    /// nondeterministic), or passed before and is a known failure now.
    Regression,
    /// Failed or was a known failure before; passes now.
    Fixed,
    /// Not in the baseline, or skipped there; run now.
    New,
    /// Run in the baseline; absent or skipped now.
    Removed,
    /// As it was.
    Unchanged,
}

impl Change {
    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Regression => "regression",
            Change::Fixed => "fixed",
            Change::New => "new",
            Change::Removed => "removed",
            Change::Unchanged => "unchanged",
        }
    }
}

/// What changed against a baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ComparisonReport {
    /// What the run was compared with: the baseline report's path, or
    /// `--compare` (each SDK against the one before it).
    pub baseline: String,
    /// How many cases moved each way (unchanged included).
    pub counts: ChangeCounts,
    /// Cases that got worse, in report order.
    pub regressions: Vec<ChangeReport>,
    /// Cases that got better.
    pub fixed: Vec<ChangeReport>,
    /// Cases the baseline did not run.
    pub new: Vec<ChangeReport>,
    /// Cases this run did not run.
    pub removed: Vec<ChangeReport>,
}

/// How many cases moved each way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeCounts {
    /// Got worse.
    pub regressions: usize,
    /// Got better.
    pub fixed: usize,
    /// Not run before.
    pub new: usize,
    /// Not run now.
    pub removed: usize,
    /// As before.
    pub unchanged: usize,
}

/// One case that moved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeReport {
    /// The case id.
    pub case_id: String,
    /// The party, in this run (for a removed case: in the baseline).
    pub party: String,
    /// The party it was compared with, when its name differs (`--compare`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_party: Option<String>,
    /// Its status in the baseline; absent for a case the baseline lacks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Status>,
    /// Its status now; absent for a case this run lacks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub now: Option<Status>,
}

/// One request the mock Eppo CDN received (`ufc-harness scenarios`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordedRequest {
    /// Milliseconds since the CDN started.
    pub at_ms: u64,
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query parameters (`apiKey`, `sdkName`, `sdkVersion`, ...); a
    /// repeated name keeps its last value.
    pub query: std::collections::BTreeMap<String, String>,
    /// The request headers, names in lower case.
    pub headers: std::collections::BTreeMap<String, String>,
    /// What the CDN did: the status it answered (`200`, `304`, `500`), or
    /// `closed` (it dropped the connection), `hung` (it held the request
    /// until its deadline or the client left).
    pub answer: String,
}

/// What one of the fresh processes of `run --repeat` made of a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessAnswer {
    /// Which process, from 1.
    pub process: u32,
    /// Its answer, as it said it; absent when the case was lost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<CaseResult>,
    /// Why the case was lost in that process (a crash, a hang, garbage).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lost: Option<String>,
}
