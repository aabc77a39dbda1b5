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
    /// Which of its published versions to run.
    pub versions: Versions,
    /// The suite.
    pub suite: PathBuf,
    /// The reference's clock.
    pub now: ufc_reference::Timestamp,
    /// How adapters are started.
    pub adapter_options: AdapterOptions,
}

/// Which published versions a history runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Versions {
    /// Every release from the first to the second, inclusive (`FROM..TO`).
    Range(semver::Version, semver::Version),
    /// These releases (`A,B,C`): for an SDK too slow to build at every
    /// release, one chosen set.
    List(Vec<semver::Version>),
}

impl Versions {
    /// `FROM..TO` or `A,B,C` (one version is a list of one).
    pub fn parse(text: &str) -> Result<Versions, String> {
        let version = |v: &str| {
            semver::Version::parse(v.trim()).map_err(|e| format!("{:?} is not a version (x.y.z): {e}", v.trim()))
        };
        match text.split_once("..") {
            Some((from, to)) => {
                let (from, to) = (version(from)?, version(to)?);
                if from > to {
                    return Err(format!("{text:?}: {from} comes after {to}"));
                }
                Ok(Versions::Range(from, to))
            }
            None => text.split(',').map(version).collect::<Result<_, _>>().map(Versions::List),
        }
    }

    /// The published releases it selects, oldest first, once each;
    /// pre-releases only when listed by name. What is not a version is
    /// ignored (a registry may list other tags).
    fn select(&self, published: &[String]) -> Vec<semver::Version> {
        let mut versions: Vec<semver::Version> = published
            .iter()
            .filter_map(|v| semver::Version::parse(v).ok())
            .filter(|v| match self {
                Versions::Range(from, to) => v >= from && v <= to && v.pre.is_empty(),
                Versions::List(listed) => listed.contains(v),
            })
            .collect();
        versions.sort();
        versions.dedup();
        versions
    }
}

impl std::fmt::Display for Versions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Versions::Range(from, to) => write!(f, "{from}..{to}"),
            Versions::List(listed) => {
                let listed: Vec<String> = listed.iter().map(ToString::to_string).collect();
                f.write_str(&listed.join(","))
            }
        }
    }
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
    /// The versions asked for, as `FROM..TO` or `A,B,C`.
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
    // An adapter that answered with a refusal said why in it; what follows
    // on its stderr is a stack trace, not a reason.
    if first.contains("refused") {
        return first.to_owned();
    }
    match error.lines().rev().map(str::trim).find(|l| !l.is_empty()).filter(|last| *last != first) {
        Some(last) => format!("{first} ({last})"),
        None => first.to_owned(),
    }
}

/// Runs the suite across the range.
pub fn history(options: &HistoryOptions) -> Result<HistoryReport, HistoryError> {
    let range = options.versions.to_string();
    let published = options.versions.select(&install::published_versions(&options.sdk)?);
    if published.is_empty() {
        return Err(HistoryError::EmptyRange { sdk: options.sdk.clone(), range });
    }
    // A listed version the registry does not serve is reported, not dropped.
    let mut versions: Vec<VersionRun> = match &options.versions {
        Versions::List(listed) => listed
            .iter()
            .filter(|v| !published.contains(v))
            .map(|v| VersionRun {
                version: v.to_string(),
                adapter: adapter_for(&options.sdk, v),
                summary: None,
                skipped: Some("the registry does not serve this version".to_owned()),
            })
            .collect(),
        Versions::Range(..) => Vec::new(),
    };
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
    versions.sort_by_key(|run| semver::Version::parse(&run.version).ok());
    Ok(HistoryReport {
        report_version: HISTORY_REPORT_VERSION,
        sdk: options.sdk.clone(),
        suite: options.suite.clone(),
        range,
        versions,
        causes: spans(&ran, by_cause),
        groups: spans(&ran, by_group),
    })
}

/// Per name, the first and last of the versions that ran (`ran`, oldest
/// first) showing failing cases, and the count at every one of them.
fn spans(ran: &[String], counts: BTreeMap<String, BTreeMap<String, usize>>) -> Vec<Span> {
    counts
        .into_iter()
        .filter_map(|(name, per_version)| {
            let mut showing = ran.iter().filter(|v| per_version.get(*v).is_some_and(|n| *n > 0));
            let first = showing.next()?.clone();
            let last = showing.next_back().cloned().unwrap_or_else(|| first.clone());
            let cases = ran
                .iter()
                .map(|v| VersionCount { version: v.clone(), cases: per_version.get(v).copied().unwrap_or(0) })
                .collect();
            Some(Span { name, first, last, cases })
        })
        .collect()
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
    fn a_range_holds_the_releases_between_its_ends_and_a_list_its_own() {
        let published: Vec<String> =
            ["4.4.1", "3.0.0", "4.0.0-beta.1", "latest", "4.4.1", "2.9.9", "4.5.0", "3.7.0"].map(String::from).into();
        let selected = |text: &str| -> Vec<String> {
            Versions::parse(text).unwrap().select(&published).iter().map(ToString::to_string).collect()
        };
        assert_eq!(selected("3.0.0..4.4.1"), ["3.0.0", "3.7.0", "4.4.1"]);
        assert!(selected("5.0.0..6.0.0").is_empty());
        // A list takes what it names and the registry serves, pre-releases too.
        assert_eq!(selected("4.5.0, 3.0.0,9.9.9,4.0.0-beta.1"), ["3.0.0", "4.0.0-beta.1", "4.5.0"]);
        assert_eq!(selected("3.7.0"), ["3.7.0"]);
    }

    #[test]
    fn a_version_selection_reads_back_as_written() {
        assert_eq!(Versions::parse("3.0.0..4.4.1").map(|v| v.to_string()), Ok("3.0.0..4.4.1".to_owned()));
        assert_eq!(Versions::parse("5.2.1,3.0.1").map(|v| v.to_string()), Ok("5.2.1,3.0.1".to_owned()));
        for bad in ["4.4.1..3.0.0", "3..4", "latest", "3.0.0,", ""] {
            assert!(Versions::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_span_runs_from_the_first_to_the_last_version_showing_it() {
        let ran: Vec<String> = ["1.0.0", "1.1.0", "1.2.0", "1.3.0"].map(String::from).into();
        let counts = |pairs: &[(&str, usize)]| -> BTreeMap<String, usize> {
            pairs.iter().map(|(v, n)| ((*v).to_owned(), *n)).collect()
        };
        let mut by_cause = BTreeMap::new();
        // Introduced in 1.1.0, fixed in 1.3.0, with a gap at 1.2.0 (and a
        // count for a version that did not run, which must be ignored).
        by_cause.insert("regex".to_owned(), counts(&[("1.1.0", 2), ("1.2.0", 0), ("1.2.5", 9)]));
        by_cause.insert("dates".to_owned(), counts(&[("1.0.0", 1), ("1.3.0", 4)]));
        by_cause.insert("never".to_owned(), counts(&[("0.9.0", 3)]));
        let spans = spans(&ran, by_cause);
        let summary: Vec<(&str, &str, &str, Vec<usize>)> = spans
            .iter()
            .map(|s| (s.name.as_str(), s.first.as_str(), s.last.as_str(), s.cases.iter().map(|c| c.cases).collect()))
            .collect();
        assert_eq!(
            summary,
            [("dates", "1.0.0", "1.3.0", vec![1, 0, 0, 4]), ("regex", "1.1.0", "1.1.0", vec![0, 2, 0, 0])]
        );
    }

    #[test]
    fn a_skip_reason_keeps_the_adapters_last_words() {
        let error = "hello failed: adapter exited\nadapter stderr (last lines):\n  File x\nModuleNotFoundError: No module named 'semver'\n";
        assert_eq!(reason_of(error), "hello failed: adapter exited (ModuleNotFoundError: No module named 'semver')");
        assert_eq!(reason_of("one line"), "one line");
        let refused = "hello failed: the adapter refused hello: missing API: X\nadapter stderr (last lines):\n    at serve (adapter.js:1)\n";
        assert_eq!(reason_of(refused), "hello failed: the adapter refused hello: missing API: X");
    }
}
