//! SDK version history (`ufc-harness history`): one suite across every
//! published version of an SDK in a range, each installed beside the pinned
//! one and run against the reference; then, per divergence cause and per
//! case group, the first and last version that shows it: which release
//! introduced a difference and which fixed it. Rendering is in
//! [`crate::report::history`].
//!
//! A version no adapter can drive (not installable, no such API) is listed
//! as skipped with the reason, never dropped.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::expectations::KnownFailures;
use crate::install;
use crate::locations;
use crate::parties::PartySelection;
use crate::party::adapter::AdapterOptions;
use crate::run::{self, RunOptions, RunSettings, Status, Summary};

/// The history report's format version.
pub const HISTORY_REPORT_VERSION: u32 = 1;

/// What to run.
#[derive(Debug, Clone)]
pub struct HistoryOptions {
    /// The SDK, as its bundled adapter is named (`python`, `node`, ...).
    pub sdk: String,
    /// The lowest version to run.
    pub from: semver::Version,
    /// The highest version to run.
    pub to: semver::Version,
    /// The suite.
    pub suite: PathBuf,
    /// The reference's clock.
    pub now: ufc_reference::Timestamp,
    /// How adapters are started.
    pub adapter_options: AdapterOptions,
}

/// The finished history.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryReport {
    /// [`HISTORY_REPORT_VERSION`].
    pub report_version: u32,
    /// The SDK.
    pub sdk: String,
    /// The suite.
    pub suite: PathBuf,
    /// The range asked for, as `FROM..TO`.
    pub range: String,
    /// Every published version in the range, oldest first.
    pub versions: Vec<VersionRun>,
    /// Per divergence cause, where it shows.
    pub causes: Vec<Span>,
    /// Per case group (the first part of a case id), where it fails.
    pub groups: Vec<Span>,
}

/// One version's run.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionRun {
    /// The SDK version.
    pub version: String,
    /// The adapter that drove it (`python`, `python-pure`).
    pub adapter: String,
    /// Its totals, when it ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<Summary>,
    /// Why it did not run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

/// Where one cause (or group) shows: the first and last version, and how
/// many cases per version that ran.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Span {
    /// The cause id (or `uncatalogued`), or the group.
    pub name: String,
    /// The oldest version showing it.
    pub first: String,
    /// The newest version showing it.
    pub last: String,
    /// Failing cases per version, for every version that ran (0 where it
    /// does not show), oldest first.
    pub cases: Vec<VersionCount>,
}

/// Failing cases at one version.
#[derive(Debug, Clone, Serialize)]
pub struct VersionCount {
    /// The version.
    pub version: String,
    /// Its failing cases.
    pub cases: usize,
}

/// A history that could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HistoryError {
    /// The registry's version list could not be read.
    #[error(transparent)]
    Versions(#[from] install::InstallError),
    /// No published version lies in the range.
    #[error("no published version of {sdk} lies in {range}")]
    EmptyRange {
        /// The SDK.
        sdk: String,
        /// The range.
        range: String,
    },
}

/// Which bundled adapter drives `version` of `sdk`: the Python SDK moved
/// onto the Rust core in 4.0, so its 3.x releases need the pure-Python
/// adapter.
pub fn adapter_for(sdk: &str, version: &semver::Version) -> String {
    match (sdk, version.major) {
        ("python", 3) => "python-pure".to_owned(),
        _ => sdk.to_owned(),
    }
}

/// The failing statuses: a failure, whether or not a manifest expected it.
fn failing(status: Status) -> bool {
    matches!(status, Status::Failed | Status::KnownFailure | Status::Errored)
}

/// The sentence that says why a version could not run: the first line of
/// the error, and the adapter's last words (an `ImportError`, say) when the
/// error carries its stderr.
fn reason_of(error: &str) -> String {
    let first = error.lines().next().unwrap_or_default();
    match error.lines().rev().map(str::trim).find(|l| !l.is_empty()).filter(|last| *last != first) {
        Some(last) => format!("{first} ({last})"),
        None => first.to_owned(),
    }
}

/// Runs the suite across the range.
pub fn history(options: &HistoryOptions) -> Result<HistoryReport, HistoryError> {
    let range = format!("{}..{}", options.from, options.to);
    let mut published: Vec<semver::Version> = install::published_versions(&options.sdk)?
        .iter()
        .filter_map(|v| semver::Version::parse(v).ok())
        .filter(|v| *v >= options.from && *v <= options.to && v.pre.is_empty())
        .collect();
    published.sort();
    published.dedup();
    if published.is_empty() {
        return Err(HistoryError::EmptyRange { sdk: options.sdk.clone(), range });
    }
    let mut versions = Vec::new();
    // (version, cause or group) -> failing cases
    let mut by_cause: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut by_group: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut ran = Vec::new();
    for version in &published {
        let adapter = adapter_for(&options.sdk, version);
        let name = format!("{adapter}@{version}");
        eprintln!("history: {name} ...");
        let run_options = RunOptions {
            suite: options.suite.clone(),
            filter: None,
            obfuscated: false,
            precomputed: None,
            parties: PartySelection {
                sdks: vec![name.clone()],
                options: options.adapter_options.clone(),
                ..PartySelection::default()
            },
            known_failures: None,
            strict: false,
            now: options.now,
            settings: RunSettings::default(),
        };
        let result = match run::run_suite(&run_options, &|_, _, _| {}) {
            Ok(result) => result,
            Err(err) => {
                versions.push(VersionRun {
                    version: version.to_string(),
                    adapter,
                    summary: None,
                    skipped: Some(err.to_string()),
                });
                continue;
            }
        };
        let summary = result.party_summary(&name);
        // A version whose adapter never started, or lost every case, did not
        // really run: skipped, with what went wrong.
        if summary.total > 0 && summary.errored == summary.total {
            let error = result.outcomes.iter().find(|o| o.party == name).and_then(|o| o.error.clone());
            let reason = error.as_deref().map_or_else(|| "every case errored".to_owned(), reason_of);
            versions.push(VersionRun { version: version.to_string(), adapter, summary: None, skipped: Some(reason) });
            continue;
        }
        let manifest = locations::known_failures(&adapter).and_then(|path| KnownFailures::load(&path).ok());
        for outcome in result.outcomes.iter().filter(|o| o.party == name && failing(o.status)) {
            let causes = manifest.as_ref().map(|m| m.causes_of(&outcome.case_id)).unwrap_or_default();
            let causes = if causes.is_empty() { vec!["uncatalogued"] } else { causes };
            for cause in causes {
                *by_cause.entry(cause.to_owned()).or_default().entry(version.to_string()).or_default() += 1;
            }
            let group = outcome.case_id.split('/').next().unwrap_or_default().to_owned();
            *by_group.entry(group).or_default().entry(version.to_string()).or_default() += 1;
        }
        ran.push(version.to_string());
        versions.push(VersionRun { version: version.to_string(), adapter, summary: Some(summary), skipped: None });
    }
    let spans = |counts: BTreeMap<String, BTreeMap<String, usize>>| -> Vec<Span> {
        counts
            .into_iter()
            .filter_map(|(name, per_version)| {
                let showing: Vec<&String> = ran.iter().filter(|v| per_version.contains_key(*v)).collect();
                let (first, last) = (showing.first()?, showing.last()?);
                Some(Span {
                    name,
                    first: (*first).clone(),
                    last: (*last).clone(),
                    cases: ran
                        .iter()
                        .map(|v| VersionCount { version: v.clone(), cases: per_version.get(v).copied().unwrap_or(0) })
                        .collect(),
                })
            })
            .collect()
    };
    Ok(HistoryReport {
        report_version: HISTORY_REPORT_VERSION,
        sdk: options.sdk.clone(),
        suite: options.suite.clone(),
        range,
        versions,
        causes: spans(by_cause),
        groups: spans(by_group),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_3_needs_the_pure_python_adapter() {
        let version = |v: &str| semver::Version::parse(v).unwrap();
        assert_eq!(adapter_for("python", &version("3.7.0")), "python-pure");
        assert_eq!(adapter_for("python", &version("4.0.0")), "python");
        assert_eq!(adapter_for("node", &version("3.10.2")), "node");
    }

    #[test]
    fn a_skip_reason_keeps_the_adapters_last_words() {
        let error = "hello failed: adapter exited\nadapter stderr (last lines):\n  File x\nModuleNotFoundError: No module named 'semver'\n";
        assert_eq!(reason_of(error), "hello failed: adapter exited (ModuleNotFoundError: No module named 'semver')");
        assert_eq!(reason_of("one line"), "one line");
    }
}
