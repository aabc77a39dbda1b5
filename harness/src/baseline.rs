//! Baselines: what got worse (or better) since an earlier run. Each case of
//! this run is set against the same case of a baseline, an earlier JSON run
//! report (`run --baseline OLD.json`), or, with `--compare`, against the
//! same case of the SDK named before it in the same run (`--sdk
//! python@4.3.1,python@4.4.1`), and classified as a [`Change`].
//!
//! The classification goes by what a status means for a release:
//! passed (or a stale known failure, which passes), a known failure,
//! failing (failed, errored, nondeterministic), or not run (skipped).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::Deserialize;
pub use ufc_protocol::report::{Change, ChangeCounts, ChangeReport, ComparisonReport};
use ufc_protocol::report::{Status, REPORT_VERSION};

/// Where a case stands, for a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standing {
    Passes,
    Known,
    Fails,
    NotRun,
}

fn standing(status: Option<Status>) -> Standing {
    match status {
        Some(Status::Passed | Status::UnexpectedPass) => Standing::Passes,
        Some(Status::KnownFailure) => Standing::Known,
        Some(Status::Failed | Status::Errored | Status::Nondeterministic) => Standing::Fails,
        Some(Status::Skipped) | None => Standing::NotRun,
    }
}

/// How a case moved from `before` (its baseline status, if the baseline
/// has it) to `now`.
pub fn classify(before: Option<Status>, now: Option<Status>) -> Change {
    use Standing::*;
    match (standing(before), standing(now)) {
        (NotRun, NotRun) => Change::Unchanged,
        (NotRun, _) => Change::New,
        (_, NotRun) => Change::Removed,
        (Passes, Known | Fails) | (Known, Fails) => Change::Regression,
        (Known | Fails, Passes) => Change::Fixed,
        _ => Change::Unchanged,
    }
}

/// One case's verdict, as a comparison needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The party.
    pub party: String,
    /// The case id.
    pub case_id: String,
    /// Its status.
    pub status: Status,
}

/// An earlier run's verdicts, in its report's order.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// Where it came from (the report's path).
    pub label: String,
    /// Its verdicts.
    pub verdicts: Vec<Verdict>,
}

/// A baseline report that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("--baseline {}: {message}", file.display())]
pub struct BaselineError {
    file: std::path::PathBuf,
    message: String,
}

/// The part of a run report a baseline needs: every report version so far
/// has these fields, so any earlier report of this harness will do.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BaselineReport {
    report_version: u32,
    cases: Vec<BaselineCase>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BaselineCase {
    case_id: String,
    party: String,
    status: Status,
}

impl Baseline {
    /// Reads an earlier JSON run report (`run --json`, `run --format json`,
    /// `report --json`, `merge`).
    pub fn read(file: &Path) -> Result<Baseline, BaselineError> {
        let error = |message: String| BaselineError { file: file.to_owned(), message };
        let text = std::fs::read_to_string(file).map_err(|e| error(e.to_string()))?;
        let mut deserializer = serde_json::Deserializer::from_str(&text);
        let report: BaselineReport = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
            error(format!("at {}: {} (expected a JSON run report, docs/report-schema.json)", e.path(), e.inner()))
        })?;
        if report.report_version > REPORT_VERSION {
            return Err(error(format!(
                "reportVersion {} is newer than this harness reads ({REPORT_VERSION})",
                report.report_version
            )));
        }
        let verdicts = report
            .cases
            .into_iter()
            .map(|c| Verdict { party: c.party, case_id: c.case_id, status: c.status })
            .collect();
        Ok(Baseline { label: file.display().to_string(), verdicts })
    }
}

/// What changed, with each case's [`Change`] to look up.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// The report's `comparison` field.
    pub report: ComparisonReport,
    changes: HashMap<(String, String), Change>,
}

impl Comparison {
    /// How the case of `party` moved; `None` for a party not compared
    /// (`--compare`'s first SDK, the reference).
    pub fn change_of(&self, party: &str, case_id: &str) -> Option<Change> {
        self.changes.get(&(party.to_owned(), case_id.to_owned())).copied()
    }

    /// The exit code under `--fail-on-regression`: 1 when a case got worse
    /// than the baseline; else 3 when test files could not be read (the
    /// comparison is then incomplete); else 0.
    pub fn exit_code(&self, load_errors: bool) -> i32 {
        if !self.report.regressions.is_empty() {
            ufc_protocol::exit_codes::FAILURES
        } else if load_errors {
            ufc_protocol::exit_codes::ERRORS
        } else {
            ufc_protocol::exit_codes::SUCCESS
        }
    }
}

/// This run's verdicts against a baseline's, case by case (party and case id).
pub fn against(baseline: &Baseline, current: &[Verdict]) -> Comparison {
    let pairs: Vec<(String, String)> = parties_of(current).into_iter().map(|p| (p.clone(), p)).collect();
    let mut builder = Builder::new(baseline.label.clone());
    builder.compare(&baseline.verdicts, current, &pairs);
    // Parties of the baseline that did not run at all: all removed.
    let running: HashSet<&str> = current.iter().map(|v| v.party.as_str()).collect();
    let gone: Vec<(String, String)> = parties_of(&baseline.verdicts)
        .into_iter()
        .filter(|p| !running.contains(p.as_str()))
        .map(|p| (p.clone(), p))
        .collect();
    builder.compare(&baseline.verdicts, &[], &gone);
    builder.finish()
}

/// `--compare`: each SDK's verdicts against those of the SDK before it in
/// `sdks` (the first is the baseline of the second, the second of the
/// third, ...), case by case id.
pub fn between_parties(current: &[Verdict], sdks: &[String]) -> Comparison {
    let pairs: Vec<(String, String)> = sdks.windows(2).map(|w| (w[0].clone(), w[1].clone())).collect();
    let mut builder = Builder::new("--compare".into());
    builder.compare(current, current, &pairs);
    builder.finish()
}

fn parties_of(verdicts: &[Verdict]) -> Vec<String> {
    let mut parties: Vec<String> = Vec::new();
    for v in verdicts {
        if !parties.contains(&v.party) {
            parties.push(v.party.clone());
        }
    }
    parties
}

struct Builder {
    report: ComparisonReport,
    changes: HashMap<(String, String), Change>,
}

impl Builder {
    fn new(baseline: String) -> Builder {
        Builder {
            report: ComparisonReport {
                baseline,
                counts: ChangeCounts::default(),
                regressions: Vec::new(),
                fixed: Vec::new(),
                new: Vec::new(),
                removed: Vec::new(),
            },
            changes: HashMap::new(),
        }
    }

    /// For each (baseline party, party): the party's cases in `current`
    /// order, then the baseline party's cases that `current` lacks.
    fn compare(&mut self, baseline: &[Verdict], current: &[Verdict], pairs: &[(String, String)]) {
        for (old, new) in pairs {
            let before: HashMap<&str, Status> =
                baseline.iter().filter(|v| &v.party == old).map(|v| (v.case_id.as_str(), v.status)).collect();
            let mut present = HashSet::new();
            for verdict in current.iter().filter(|v| &v.party == new) {
                present.insert(verdict.case_id.as_str());
                let was = before.get(verdict.case_id.as_str()).copied();
                self.record(old, new, &verdict.case_id, was, Some(verdict.status));
            }
            for verdict in baseline.iter().filter(|v| &v.party == old && !present.contains(v.case_id.as_str())) {
                self.record(old, new, &verdict.case_id, Some(verdict.status), None);
            }
        }
    }

    fn record(&mut self, old: &str, new: &str, case_id: &str, before: Option<Status>, now: Option<Status>) {
        let change = classify(before, now);
        let entry = || ChangeReport {
            case_id: case_id.to_owned(),
            party: new.to_owned(),
            baseline_party: (old != new).then(|| old.to_owned()),
            before,
            now,
        };
        let counts = &mut self.report.counts;
        match change {
            Change::Regression => {
                counts.regressions += 1;
                self.report.regressions.push(entry());
            }
            Change::Fixed => {
                counts.fixed += 1;
                self.report.fixed.push(entry());
            }
            Change::New => {
                counts.new += 1;
                self.report.new.push(entry());
            }
            Change::Removed => {
                counts.removed += 1;
                self.report.removed.push(entry());
            }
            Change::Unchanged => counts.unchanged += 1,
        }
        if now.is_some() {
            self.changes.insert((new.to_owned(), case_id.to_owned()), change);
        }
    }

    fn finish(self) -> Comparison {
        Comparison { report: self.report, changes: self.changes }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(party: &str, case_id: &str, status: Status) -> Verdict {
        Verdict { party: party.into(), case_id: case_id.into(), status }
    }

    #[test]
    fn statuses_move_as_a_release_sees_them() {
        use Status::*;
        assert_eq!(classify(Some(Passed), Some(Failed)), Change::Regression);
        assert_eq!(classify(Some(KnownFailure), Some(Errored)), Change::Regression);
        assert_eq!(classify(Some(Passed), Some(Nondeterministic)), Change::Regression);
        assert_eq!(classify(Some(Passed), Some(KnownFailure)), Change::Regression);
        assert_eq!(classify(Some(KnownFailure), Some(UnexpectedPass)), Change::Fixed);
        assert_eq!(classify(Some(Failed), Some(Passed)), Change::Fixed);
        assert_eq!(classify(Some(Failed), Some(KnownFailure)), Change::Unchanged);
        assert_eq!(classify(Some(KnownFailure), Some(KnownFailure)), Change::Unchanged);
        assert_eq!(classify(None, Some(Failed)), Change::New);
        assert_eq!(classify(Some(Skipped), Some(Passed)), Change::New);
        assert_eq!(classify(Some(Passed), None), Change::Removed);
        assert_eq!(classify(Some(Failed), Some(Skipped)), Change::Removed);
        assert_eq!(classify(Some(Skipped), Some(Skipped)), Change::Unchanged);
    }

    #[test]
    fn a_baseline_comparison_lists_every_move_in_case_order() {
        let baseline = Baseline {
            label: "old.json".into(),
            verdicts: vec![
                verdict("node", "a", Status::Passed),
                verdict("node", "b", Status::Failed),
                verdict("node", "gone", Status::Passed),
                verdict("java", "a", Status::Passed),
            ],
        };
        let current = [
            verdict("node", "a", Status::Failed),
            verdict("node", "b", Status::Passed),
            verdict("node", "c", Status::Passed),
        ];
        let comparison = against(&baseline, &current);
        let ids = |list: &[ChangeReport]| list.iter().map(|c| format!("{}:{}", c.party, c.case_id)).collect::<Vec<_>>();
        assert_eq!(ids(&comparison.report.regressions), ["node:a"]);
        assert_eq!(ids(&comparison.report.fixed), ["node:b"]);
        assert_eq!(ids(&comparison.report.new), ["node:c"]);
        assert_eq!(ids(&comparison.report.removed), ["node:gone", "java:a"]);
        assert_eq!(comparison.change_of("node", "a"), Some(Change::Regression));
        assert_eq!(comparison.exit_code(false), 1);
    }

    #[test]
    fn compare_sets_each_sdk_against_the_one_before_it() {
        let current = [
            verdict("reference", "a", Status::Passed),
            verdict("py@1", "a", Status::Passed),
            verdict("py@1", "b", Status::KnownFailure),
            verdict("py@2", "a", Status::Failed),
            verdict("py@2", "b", Status::Passed),
        ];
        let comparison = between_parties(&current, &["py@1".into(), "py@2".into()]);
        assert_eq!(comparison.report.counts.regressions, 1);
        assert_eq!(comparison.report.regressions[0].baseline_party.as_deref(), Some("py@1"));
        assert_eq!(comparison.report.counts.fixed, 1);
        assert_eq!(comparison.change_of("reference", "a"), None);
        assert_eq!(comparison.change_of("py@1", "a"), None);
        let unchanged = between_parties(&current[..3], &["py@1".into()]);
        assert_eq!(unchanged.report.counts, ChangeCounts::default());
        assert_eq!(unchanged.exit_code(false), 0);
        assert_eq!(unchanged.exit_code(true), 3);
    }
}
