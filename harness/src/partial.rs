//! Runs split across jobs: the report of one share of a run (`run` or
//! `scenarios --partition K/N`, [`crate::partition`]) and [`merge`], which puts the
//! shares' JSON reports back together into the report the whole run would
//! have written: the same cases in the same order, the same totals, the
//! same configuration errors, and so the same exit code.
//!
//! A share's report carries every case id of the whole run
//! ([`PartitionReport::case_ids`]): that is how the merge knows the case
//! order, and how it notices a missing share or shares of different runs.
//! A run dealt out by other keys than the case ids (`scenarios
//! --partition`, by scenario name) carries each case's key too
//! ([`PartitionReport::share_keys`]), so the merge checks every case
//! against the share its key falls in.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use ufc_protocol::report::{PartitionReport, RunReport, Summary, REPORT_VERSION};

use crate::partition::Partition;
use crate::suite::Suite;

/// Every case id of `suite`, in the order a run reports them (group by
/// group, each group in case order).
pub fn case_ids(suite: &Suite) -> Vec<String> {
    (0..suite.groups.len())
        .flat_map(|group| suite.cases.iter().filter(move |c| c.group == group).map(|c| c.id.clone()))
        .collect()
}

/// The partition field of a share's report.
pub fn partition_report(partition: Partition, case_ids: Vec<String>) -> PartitionReport {
    PartitionReport { index: partition.index(), count: partition.count(), case_ids, share_keys: Vec::new() }
}

/// The partition field of a share of a run dealt out by other keys than
/// the case ids (`scenarios --partition`: by scenario name): every case id
/// of the whole run, in report order, each with the key that decides its
/// share.
pub fn keyed_partition_report(partition: Partition, cases: Vec<(String, String)>) -> PartitionReport {
    let (case_ids, share_keys) = cases.into_iter().unzip();
    PartitionReport { index: partition.index(), count: partition.count(), case_ids, share_keys }
}

/// Shares that cannot be merged; the message names the file and what
/// does not fit.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MergeError {
    /// No report was given.
    #[error("merge needs at least one report")]
    Nothing,
    /// A file could not be read or is not a run report.
    #[error("{}: {message}", file.display())]
    Unreadable {
        /// The file.
        file: PathBuf,
        /// Why.
        message: String,
    },
    /// A report is not the report of a share.
    #[error("{}: not the report of a share of a run (no \"partition\"; write it with run --partition K/N)", file.display())]
    NotAShare {
        /// The file.
        file: PathBuf,
    },
    /// The shares do not fit together.
    #[error("{}: {what} differs from {}'s", file.display(), first.display())]
    Mismatch {
        /// The report that differs.
        file: PathBuf,
        /// The first report.
        first: PathBuf,
        /// Which field (`$.suite`, `$.partition.count`, ...).
        what: String,
    },
    /// Shares are missing or given twice.
    #[error("shares of {count}: {problem}")]
    Shares {
        /// N.
        count: u32,
        /// Which shares are missing or repeated.
        problem: String,
    },
    /// A case that is not where the share says it should be.
    #[error("{}: case {case_id:?} ({party}) {problem}", file.display())]
    Case {
        /// The report.
        file: PathBuf,
        /// The case.
        case_id: String,
        /// Its party.
        party: String,
        /// What is wrong.
        problem: String,
    },
}

/// Reads one share's JSON report.
pub fn read_report(file: &Path) -> Result<RunReport, MergeError> {
    let unreadable = |message: String| MergeError::Unreadable { file: file.to_owned(), message };
    let text = std::fs::read_to_string(file).map_err(|e| unreadable(e.to_string()))?;
    let mut deserializer = serde_json::Deserializer::from_str(&text);
    let report: RunReport = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        unreadable(format!("at {}: {} (expected a run report, docs/report-schema.json)", e.path(), e.inner()))
    })?;
    if report.report_version != REPORT_VERSION {
        return Err(unreadable(format!(
            "reportVersion {} (this harness merges reportVersion {REPORT_VERSION})",
            report.report_version
        )));
    }
    Ok(report)
}

/// The whole run's report, from the reports of all its shares (any order).
pub fn merge(shares: Vec<(PathBuf, RunReport)>) -> Result<RunReport, MergeError> {
    let mut shares = shares.into_iter();
    let (first_file, first) = shares.next().ok_or(MergeError::Nothing)?;
    let universe = first.partition.clone().ok_or_else(|| MergeError::NotAShare { file: first_file.clone() })?;
    if !universe.share_keys.is_empty() && universe.share_keys.len() != universe.case_ids.len() {
        return Err(MergeError::Unreadable {
            file: first_file,
            message: format!(
                "$.partition.shareKeys has {} entries for {} caseIds (expected one key per case id)",
                universe.share_keys.len(),
                universe.case_ids.len()
            ),
        });
    }
    let position: HashMap<&str, usize> = universe.case_ids.iter().enumerate().map(|(i, id)| (id.as_str(), i)).collect();
    let party_index: HashMap<&str, usize> =
        first.parties.iter().enumerate().map(|(i, p)| (p.name.as_str(), i)).collect();
    let mut seen_shares = BTreeSet::new();
    let mut cases = Vec::new();
    for (file, report) in std::iter::once((first_file.clone(), first.clone())).chain(shares) {
        let partition = report.partition.as_ref().ok_or_else(|| MergeError::NotAShare { file: file.clone() })?;
        same_run(&first_file, &first, &universe, &file, &report, partition)?;
        if !seen_shares.insert(partition.index) {
            return Err(MergeError::Shares {
                count: universe.count,
                problem: format!("share {} is given twice (again in {})", partition.index, file.display()),
            });
        }
        let share = Partition::new(partition.index, partition.count).ok_or_else(|| MergeError::Mismatch {
            file: file.clone(),
            first: first_file.clone(),
            what: "$.partition.index (not between 1 and the count)".into(),
        })?;
        for case in report.cases {
            let problem = match (position.get(case.case_id.as_str()), party_index.get(case.party.as_str())) {
                (None, _) => Some("is not among $.partition.caseIds".to_owned()),
                (_, None) => Some("names a party not in $.parties".to_owned()),
                (Some(&at), Some(_)) if !share.contains(share_key(&universe, at, &case.case_id)) => Some(format!(
                    "belongs to share {}, not {share}",
                    crate::partition::share_of(share_key(&universe, at, &case.case_id), share.count())
                )),
                _ => None,
            };
            if let Some(problem) = problem {
                return Err(MergeError::Case { file, case_id: case.case_id, party: case.party, problem });
            }
            cases.push(case);
        }
    }
    let missing: Vec<String> =
        (1..=universe.count).filter(|k| !seen_shares.contains(k)).map(|k| k.to_string()).collect();
    if !missing.is_empty() {
        return Err(MergeError::Shares {
            count: universe.count,
            problem: format!("missing share {}", missing.join(", ")),
        });
    }
    // Every lookup below succeeded in the loop above.
    cases.sort_by_key(|c| (party_index.get(c.party.as_str()).copied(), position.get(c.case_id.as_str()).copied()));
    if let Some(pair) = cases.windows(2).find(|w| w[0].party == w[1].party && w[0].case_id == w[1].case_id) {
        return Err(MergeError::Case {
            file: first_file,
            case_id: pair[0].case_id.clone(),
            party: pair[0].party.clone(),
            problem: "is reported twice".into(),
        });
    }
    let mut merged = first;
    merged.partition = None;
    merged.comparison = None;
    merged.summary = summary(cases.iter().map(|c| c.status));
    for party in &mut merged.parties {
        party.summary = summary(cases.iter().filter(|c| c.party == party.name).map(|c| c.status));
    }
    merged.cases = cases;
    Ok(merged)
}

/// What decided the share of the case id `id`, at `at` in the whole run's
/// case ids: its share key, or the id itself.
fn share_key<'a>(universe: &'a PartitionReport, at: usize, id: &'a str) -> &'a str {
    universe.share_keys.get(at).map_or(id, String::as_str)
}

fn summary(statuses: impl Iterator<Item = ufc_protocol::report::Status>) -> Summary {
    let mut summary = Summary::default();
    statuses.for_each(|s| summary.add(s));
    summary
}

/// Whether `report` is a share of the same run as `first`: everything but
/// its cases and totals must be equal.
fn same_run(
    first_file: &Path,
    first: &RunReport,
    universe: &PartitionReport,
    file: &Path,
    report: &RunReport,
    partition: &PartitionReport,
) -> Result<(), MergeError> {
    fn parties(r: &RunReport) -> Vec<(&String, &ufc_protocol::SdkInfo, &ufc_protocol::Capabilities)> {
        r.parties.iter().map(|p| (&p.name, &p.sdk, &p.capabilities)).collect()
    }
    let checks: [(&str, bool); 10] = [
        ("$.tool", report.tool == first.tool),
        ("$.suite", report.suite == first.suite),
        ("$.failOn", report.fail_on == first.fail_on),
        ("$.repeat", report.repeat == first.repeat),
        ("$.parties (names, versions, capabilities)", parties(report) == parties(first)),
        ("$.loadErrors", report.load_errors == first.load_errors),
        ("$.configErrors", report.config_errors == first.config_errors),
        ("$.partition.count", partition.count == universe.count),
        ("$.partition.caseIds (the cases of the whole run)", partition.case_ids == universe.case_ids),
        ("$.partition.shareKeys", partition.share_keys == universe.share_keys),
    ];
    match checks.iter().find(|(_, same)| !same) {
        Some((what, _)) => {
            Err(MergeError::Mismatch { file: file.to_owned(), first: first_file.to_owned(), what: (*what).to_owned() })
        }
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Share `k` of 2 of a run of cases `a`..`d` for one party, holding the
    /// cases of its share.
    fn share(k: u32, suite: &str) -> (PathBuf, RunReport) {
        let ids = ["a", "b", "c", "d"];
        let partition = Partition::new(k, 2).expect("a share");
        let cases: Vec<_> = ids
            .iter()
            .filter(|id| partition.contains(id))
            .map(|id| json!({"caseId": id, "party": "sdk", "status": "passed", "file": "t.json", "differences": []}))
            .collect();
        // Totals are recomputed by the merge; these are left at zero.
        let summary = json!({"total": 0, "passed": 0, "failed": 0, "errored": 0, "skipped": 0, "knownFailures": 0, "unexpectedPasses": 0});
        let report = json!({
            "reportVersion": REPORT_VERSION, "tool": {"name": "ufc-harness", "version": "0"}, "suite": suite,
            "failOn": ["critical"], "repeat": 1,
            "partition": {"index": k, "count": 2, "caseIds": ids},
            "summary": summary,
            "parties": [{"name": "sdk", "sdk": {"name": "sdk", "version": "1"}, "capabilities": [], "summary": summary}],
            "loadErrors": [], "configErrors": [], "cases": cases,
        });
        (PathBuf::from(format!("share-{k}.json")), serde_json::from_value(report).expect("a run report"))
    }

    #[test]
    fn shares_merge_in_case_order_with_totals() {
        let shares = vec![share(2, "s"), share(1, "s")];
        let merged = merge(shares).expect("the shares merge");
        let ids: Vec<&str> = merged.cases.iter().map(|c| c.case_id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c", "d"]);
        assert_eq!((merged.summary.total, merged.summary.passed, merged.parties[0].summary.passed), (4, 4, 4));
        assert!(merged.partition.is_none());
    }

    #[test]
    fn shares_of_different_runs_are_refused_naming_the_field() {
        let error = merge(vec![share(1, "one suite"), share(2, "another")]).expect_err("different suites");
        assert!(error.to_string().contains("share-2.json: $.suite differs from share-1.json's"), "{error}");
        let mut other_cases = share(2, "s");
        if let Some(p) = other_cases.1.partition.as_mut() {
            p.case_ids.push("e".into());
        }
        let error = merge(vec![share(1, "s"), other_cases]).expect_err("different cases");
        assert!(error.to_string().contains("$.partition.caseIds"), "{error}");
        let whole = (PathBuf::from("whole.json"), RunReport { partition: None, ..share(1, "s").1 });
        assert!(matches!(merge(vec![whole]), Err(MergeError::NotAShare { .. })));
    }

    /// Share `k` of 2 of a run whose cases are dealt out by `keys` (one per
    /// case `a`..`d`), holding the cases whose key is in share `k`.
    fn keyed_share(k: u32, keys: [&str; 4]) -> (PathBuf, RunReport) {
        let (file, mut report) = share(k, "s");
        let partition = Partition::new(k, 2).expect("a share");
        let pairs: Vec<(String, String)> =
            ["a", "b", "c", "d"].iter().zip(keys).map(|(id, key)| ((*id).into(), key.into())).collect();
        report.cases = share(1, "s").1.cases.into_iter().chain(share(2, "s").1.cases).collect();
        report.cases.retain(|c| pairs.iter().any(|(id, key)| *id == c.case_id && partition.contains(key)));
        report.cases.sort_by(|x, y| x.case_id.cmp(&y.case_id));
        report.partition = Some(keyed_partition_report(partition, pairs));
        (file, report)
    }

    #[test]
    fn keyed_shares_are_checked_by_their_keys_not_their_case_ids() {
        // By id, a and b are in share 1 and c and d in share 2; by these
        // keys it is the other way round.
        let keys = ["z", "z", "x", "x"];
        let one = Partition::new(1, 2).expect("a share");
        assert!(one.contains("a") && !one.contains("z") && one.contains("x"));
        let merged = merge(vec![keyed_share(2, keys), keyed_share(1, keys)]).expect("the keyed shares merge");
        let ids: Vec<&str> = merged.cases.iter().map(|c| c.case_id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c", "d"]);
        // Case a put in share 1, where its id (not its key) falls, is refused.
        let (file, mut wrong) = keyed_share(1, keys);
        wrong.cases.extend(share(1, "s").1.cases.into_iter().filter(|c| c.case_id == "a"));
        let error = merge(vec![(file, wrong), keyed_share(2, keys)]).expect_err("a case in the wrong share");
        assert!(error.to_string().contains("case \"a\" (sdk) belongs to share 2, not 1/2"), "{error}");
    }
}
