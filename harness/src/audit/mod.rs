//! `ufc-harness audit`: assignment logs as a warehouse exports them,
//! checked against the reference.
//!
//! * **Misassignments**: rows whose logged allocation or variation is not
//!   what the reference computes for that subject, its logged attributes
//!   and the configuration in force at the row's timestamp.
//! * **Exposures**: the first exposure per subject and experiment; later
//!   rows for the pair are duplicates (the platform deduplicates them).
//! * **Sample-ratio mismatch** per experiment: subjects per variation (by
//!   their first exposure) against the shares the allocation's shard ranges
//!   promise (`Flag::allocation_variation_shares`), Pearson's chi-square
//!   with `statrs`'s chi-squared tail. Bonferroni: with `m` experiments
//!   tested, each is flagged below `threshold / m`.
//!
//! The report ([`AuditReport`]) holds only sums and first exposures' counts,
//! so reports of partitions (`--partition K/N`, rows split by a stable hash
//! of the subject key, a subject's rows all in one partition) add up to the
//! report of one run: [`merge`]. Subjects are tracked by a 64-bit hash of
//! their key within a run (a collision among 10 million subjects has odds
//! of about 3 in a million).

mod check;
pub mod read;
pub mod render;
pub mod rows;
pub mod write;

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use statrs::distribution::{ChiSquared, ContinuousCDF};
use ufc_reference::Configuration;

pub use self::check::Reason;
use self::check::{check_batch, History, Verdict, Version};
use self::read::{read_log, ReadError};
use self::rows::{Columns, LogRow, RowError};

/// The default SRM threshold: SRM checks run on every experiment, and a
/// false alarm stops one, so they use a strict level.
pub const DEFAULT_SRM_THRESHOLD: f64 = 0.001;
/// Example rows kept per report.
pub const EXAMPLES: usize = 20;
/// An experiment is tested only when every variation expects this many subjects.
pub const MIN_EXPECTED: f64 = 5.0;
/// The report's format version.
pub const AUDIT_VERSION: u32 = 1;

/// What `audit` was asked.
#[derive(Debug, Clone)]
pub struct AuditOptions {
    /// `--config`.
    pub config: PathBuf,
    /// `--config-history`: a directory of configurations with `createdAt`.
    pub config_history: Option<PathBuf>,
    /// `--log` files.
    pub logs: Vec<PathBuf>,
    /// `--columns`.
    pub columns: Columns,
    /// `--srm-threshold`.
    pub srm_threshold: f64,
    /// `--partition K/N` as (K, N), 1-based K.
    pub partition: Option<(u32, u32)>,
}

/// Bad input: nothing was audited.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// A configuration that cannot be read.
    #[error("{path}: {message}")]
    Configuration {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
    /// A log that cannot be read.
    #[error(transparent)]
    Log(#[from] ReadError),
    /// Partial reports that do not belong together.
    #[error("{0}")]
    Merge(String),
}

/// The audit report (`docs/report-schemas/audit.schema.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditReport {
    /// Always `audit`: tells a merge which report it holds.
    pub report_kind: String,
    /// [`AUDIT_VERSION`].
    pub audit_version: u32,
    /// The partition audited (`None`: every row; after a merge too).
    pub partition: Option<Partition>,
    /// The configurations, oldest first.
    pub configurations: Vec<ConfigurationUsed>,
    /// Each log file.
    pub inputs: Vec<InputSummary>,
    /// Rows read and in this partition.
    pub rows: u64,
    /// Rows checked against a configuration.
    pub checked: u64,
    /// Rows older than every configuration of the history (not checked).
    pub without_configuration: u64,
    /// Misassigned rows.
    pub misassignments: Misassignments,
    /// Per experiment: exposures and the SRM test.
    pub experiments: Vec<ExperimentReport>,
    /// The SRM test's settings and outcome.
    pub srm: SrmSummary,
}

/// `--partition K/N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partition {
    /// 1-based.
    pub index: u32,
    /// How many.
    pub count: u32,
}

/// A configuration of the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigurationUsed {
    /// The file.
    pub path: String,
    /// Its `createdAt`.
    pub created_at: Option<String>,
}

/// One log file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InputSummary {
    /// The file.
    pub path: String,
    /// Readable rows in this partition.
    pub rows: u64,
    /// Rows that could not be read (every partition sees all of them).
    pub unreadable: u64,
    /// The first of them.
    pub first_unreadable: Option<Unreadable>,
}

/// An unreadable row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unreadable {
    /// 1-based line (Parquet: row).
    pub line: u64,
    /// What was wrong.
    pub message: String,
}

/// The misassigned rows, counted several ways.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Misassignments {
    /// All of them.
    pub total: u64,
    /// By reason.
    pub by_reason: Vec<Count<Reason>>,
    /// By flag.
    pub by_flag: Vec<Count<String>>,
    /// By flag and logged allocation.
    pub by_allocation: Vec<Count<(String, String)>>,
    /// By SDK name and version (`metaData`).
    pub by_sdk: Vec<Count<(Option<String>, Option<String>)>>,
    /// The first few, in file and line order.
    pub examples: Vec<Example>,
}

/// A count under a key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Count<K> {
    /// The key.
    pub key: K,
    /// How many.
    pub count: u64,
}

/// An example misassigned row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Example {
    /// The file.
    pub file: String,
    /// Its line (Parquet: row).
    pub line: u64,
    /// The subject.
    pub subject: String,
    /// The flag.
    pub flag: String,
    /// The logged allocation.
    pub allocation: String,
    /// The logged variation.
    pub variation: String,
    /// Why.
    pub reason: Reason,
    /// What the reference computes.
    pub expected_allocation: Option<String>,
    /// Likewise.
    pub expected_variation: Option<String>,
    /// The row's timestamp.
    pub timestamp: String,
}

/// One experiment (flag and allocation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExperimentReport {
    /// `<flag>-<allocation>`.
    pub experiment: String,
    /// The flag.
    pub flag: String,
    /// The allocation.
    pub allocation: String,
    /// Rows logged.
    pub rows: u64,
    /// Distinct subjects (first exposures).
    pub subjects: u64,
    /// Rows after a subject's first exposure.
    pub duplicates: u64,
    /// Subjects per variation (by first exposure), with the expected share.
    pub variations: Vec<VariationCount>,
    /// Pearson's statistic; `None` when not tested.
    pub chi_square: Option<f64>,
    /// Variations with an expected share, minus one.
    pub degrees_of_freedom: u32,
    /// `P(χ² ≥ chiSquare)`.
    pub p_value: Option<f64>,
    /// Whether the SRM test ran (see `note`).
    pub tested: bool,
    /// `pValue` below the corrected threshold.
    pub mismatch: bool,
    /// Why it was not tested, or other caveats.
    pub note: Option<String>,
}

/// Subjects of one variation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VariationCount {
    /// The variation key.
    pub variation: String,
    /// Subjects first exposed to it.
    pub subjects: u64,
    /// The share the configuration's ranges promise (`None`: unknown).
    pub expected_share: Option<f64>,
}

/// The SRM test over every experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SrmSummary {
    /// `--srm-threshold`: the family-wise level.
    pub threshold: f64,
    /// Experiments tested.
    pub experiments_tested: u32,
    /// The multiple-testing correction.
    pub correction: String,
    /// Each experiment's threshold: `threshold / experimentsTested`.
    pub per_test_threshold: f64,
    /// The experiments flagged.
    pub mismatched: Vec<String>,
}

impl AuditReport {
    /// 0 clean, 1 misassignments or mismatch, 3 unreadable rows (which
    /// take precedence: the verdict is then incomplete).
    pub fn exit_code(&self) -> i32 {
        if self.inputs.iter().any(|i| i.unreadable > 0) {
            ufc_protocol::exit_codes::ERRORS
        } else if self.misassignments.total > 0 || !self.srm.mismatched.is_empty() {
            ufc_protocol::exit_codes::FAILURES
        } else {
            ufc_protocol::exit_codes::SUCCESS
        }
    }
}

/// Whether `subject` belongs to partition `index` (1-based) of `count`: a
/// stable hash (the reference's MD5 sharding, with its own salt), so a
/// subject's rows all fall in one partition, whichever file they are in.
pub fn in_partition(subject: &str, index: u32, count: u32) -> bool {
    ufc_reference::shard::shard("ufc-audit-partition", subject, count) + 1 == index
}

/// Runs the audit.
pub fn audit(options: &AuditOptions) -> Result<AuditReport, AuditError> {
    let history = load_history(options)?;
    let mut state = State::default();
    let mut inputs = Vec::new();
    for (file, path) in options.logs.iter().enumerate() {
        let mut input =
            InputSummary { path: path.display().to_string(), rows: 0, unreadable: 0, first_unreadable: None };
        let mut each = |batch: Vec<Result<LogRow, RowError>>| {
            let mut rows = Vec::with_capacity(batch.len());
            for row in batch {
                match row {
                    Ok(row) => {
                        if options.partition.is_none_or(|(k, n)| in_partition(&row.subject, k, n)) {
                            rows.push(row);
                        }
                    }
                    Err(err) => {
                        input.unreadable += 1;
                        if input.first_unreadable.is_none() {
                            input.first_unreadable = Some(Unreadable { line: err.at.line, message: err.message });
                        }
                    }
                }
            }
            input.rows += rows.len() as u64;
            let checked = check_batch(&history, &rows);
            for (row, checked) in rows.iter().zip(checked) {
                state.add(row, checked, &options.logs);
            }
        };
        read_log(path, file, &options.columns, &mut each)?;
        inputs.push(input);
    }
    let configurations = history
        .versions
        .iter()
        .map(|v| ConfigurationUsed {
            path: v.path.display().to_string(),
            created_at: v.config.created_at().map(str::to_owned),
        })
        .collect();
    let mut report = state.into_report(&history, inputs, configurations, options.srm_threshold);
    report.partition = options.partition.map(|(index, count)| Partition { index, count });
    Ok(report)
}

fn load_history(options: &AuditOptions) -> Result<History, AuditError> {
    let mut paths = vec![options.config.clone()];
    if let Some(dir) = &options.config_history {
        let entries = std::fs::read_dir(dir)
            .map_err(|e| AuditError::Configuration { path: dir.clone(), message: format!("not a directory: {e}") })?;
        let mut found: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        found.sort();
        if found.is_empty() {
            return Err(AuditError::Configuration {
                path: dir.clone(),
                message: "holds no *.json configuration".into(),
            });
        }
        paths.extend(found.into_iter().filter(|p| *p != options.config));
    }
    let mut versions = Vec::new();
    for path in paths {
        let bytes = std::fs::read(&path)
            .map_err(|e| AuditError::Configuration { path: path.clone(), message: e.to_string() })?;
        let config = Configuration::from_json(&bytes).map_err(|e| AuditError::Configuration {
            path: path.clone(),
            message: format!("not a UFC configuration: {e}"),
        })?;
        if options.config_history.is_some() && config.created_at().and_then(rows::parse_timestamp).is_none() {
            return Err(AuditError::Configuration {
                path,
                message: "at $.createdAt: expected an RFC 3339 date-time (a history orders configurations by it)"
                    .into(),
            });
        }
        versions.push(Version::new(path, config));
    }
    Ok(History::new(versions))
}

/// What the rows add up to, before the SRM test.
#[derive(Default)]
struct State {
    rows: u64,
    checked: u64,
    without_configuration: u64,
    misassigned: u64,
    by_reason: BTreeMap<Reason, u64>,
    by_flag: BTreeMap<String, u64>,
    by_allocation: BTreeMap<(String, String), u64>,
    by_sdk: BTreeMap<(Option<String>, Option<String>), u64>,
    examples: Vec<Example>,
    /// (flag, allocation) → rows, and first exposures by subject hash.
    experiments: BTreeMap<(String, String), ExperimentState>,
}

#[derive(Default)]
struct ExperimentState {
    rows: u64,
    first: HashMap<u64, (ufc_reference::Timestamp, String)>,
}

fn subject_hash(subject: &str) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    subject.hash(&mut hasher);
    hasher.finish()
}

impl State {
    fn add(&mut self, row: &LogRow, checked: check::Checked, files: &[PathBuf]) {
        self.rows += 1;
        match checked.verdict {
            Verdict::NoConfiguration => self.without_configuration += 1,
            Verdict::Agrees => self.checked += 1,
            Verdict::Misassigned { reason, expected_allocation, expected_variation } => {
                self.checked += 1;
                self.misassigned += 1;
                *self.by_reason.entry(reason).or_default() += 1;
                *self.by_flag.entry(checked.flag.clone()).or_default() += 1;
                *self.by_allocation.entry((checked.flag.clone(), checked.allocation.clone())).or_default() += 1;
                *self.by_sdk.entry((row.sdk_name.clone(), row.sdk_version.clone())).or_default() += 1;
                if self.examples.len() < EXAMPLES {
                    self.examples.push(Example {
                        file: files.get(row.at.file).map(|p| p.display().to_string()).unwrap_or_default(),
                        line: row.at.line,
                        subject: row.subject.clone(),
                        flag: checked.flag.clone(),
                        allocation: checked.allocation.clone(),
                        variation: row.variation.clone(),
                        reason,
                        expected_allocation,
                        expected_variation,
                        timestamp: row.timestamp.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    });
                }
            }
        }
        let experiment = self.experiments.entry((checked.flag, checked.allocation)).or_default();
        experiment.rows += 1;
        experiment
            .first
            .entry(subject_hash(&row.subject))
            .and_modify(|first| {
                if row.timestamp < first.0 {
                    *first = (row.timestamp, row.variation.clone());
                }
            })
            .or_insert_with(|| (row.timestamp, row.variation.clone()));
    }

    fn into_report(
        self,
        history: &History,
        inputs: Vec<InputSummary>,
        configurations: Vec<ConfigurationUsed>,
        threshold: f64,
    ) -> AuditReport {
        let experiments = self
            .experiments
            .into_iter()
            .map(|((flag, allocation), state)| {
                let mut by_variation: BTreeMap<String, u64> = BTreeMap::new();
                for (_, variation) in state.first.values() {
                    *by_variation.entry(variation.clone()).or_default() += 1;
                }
                let subjects = state.first.len() as u64;
                ExperimentReport {
                    experiment: format!("{flag}-{allocation}"),
                    rows: state.rows,
                    subjects,
                    duplicates: state.rows - subjects,
                    variations: by_variation
                        .into_iter()
                        .map(|(variation, subjects)| VariationCount { variation, subjects, expected_share: None })
                        .collect(),
                    flag,
                    allocation,
                    chi_square: None,
                    degrees_of_freedom: 0,
                    p_value: None,
                    tested: false,
                    mismatch: false,
                    note: None,
                }
            })
            .collect();
        let mut report = AuditReport {
            report_kind: "audit".into(),
            audit_version: AUDIT_VERSION,
            partition: None,
            configurations,
            inputs,
            rows: self.rows,
            checked: self.checked,
            without_configuration: self.without_configuration,
            misassignments: Misassignments {
                total: self.misassigned,
                by_reason: counts(self.by_reason),
                by_flag: counts(self.by_flag),
                by_allocation: counts(self.by_allocation),
                by_sdk: counts(self.by_sdk),
                examples: self.examples,
            },
            experiments,
            srm: SrmSummary {
                threshold,
                experiments_tested: 0,
                correction: String::new(),
                per_test_threshold: threshold,
                mismatched: Vec::new(),
            },
        };
        expected_shares(&mut report, history);
        test_srm(&mut report);
        report
    }
}

/// Fills each variation's expected share from the newest configuration
/// that has the experiment's allocation, adding the variations it promises
/// that no subject got.
fn expected_shares(report: &mut AuditReport, history: &History) {
    for experiment in &mut report.experiments {
        let found = history.versions.iter().rev().find_map(|version| {
            let flag = version.config.valid_flag(&experiment.flag).ok()?;
            let index = flag.allocations.iter().position(|a| *a.key == *experiment.allocation)?;
            Some(flag.allocation_variation_shares(index))
        });
        match found {
            None => experiment.note = Some("the allocation is in no configuration: no expected shares".into()),
            Some(Err(err)) => experiment.note = Some(format!("no expected shares: {err}")),
            Some(Ok(None)) => experiment.note = Some("no split of the allocation admits anyone".into()),
            Some(Ok(Some(shares))) => {
                for share in shares.into_iter().filter(|s| s.share > 0.0) {
                    match experiment.variations.iter_mut().find(|v| v.variation == share.key) {
                        Some(row) => row.expected_share = Some(share.share),
                        None => experiment.variations.push(VariationCount {
                            variation: share.key.to_owned(),
                            subjects: 0,
                            expected_share: Some(share.share),
                        }),
                    }
                }
                for row in &mut experiment.variations {
                    row.expected_share.get_or_insert(0.0);
                }
                experiment.variations.sort_by(|a, b| a.variation.cmp(&b.variation));
            }
        }
    }
}

/// The chi-square test per experiment, then the Bonferroni correction over
/// those tested.
fn test_srm(report: &mut AuditReport) {
    for experiment in &mut report.experiments {
        experiment.tested = false;
        experiment.mismatch = false;
        experiment.chi_square = None;
        experiment.p_value = None;
        experiment.degrees_of_freedom = 0;
        if experiment.variations.iter().any(|v| v.expected_share.is_none()) {
            continue;
        }
        let total = experiment.subjects as f64;
        let promised: Vec<&VariationCount> =
            experiment.variations.iter().filter(|v| v.expected_share.is_some_and(|s| s > 0.0)).collect();
        if promised.len() < 2 {
            experiment.note.get_or_insert_with(|| "fewer than two variations are promised: nothing to test".into());
            continue;
        }
        if promised.iter().any(|v| v.expected_share.unwrap_or_default() * total < MIN_EXPECTED) {
            experiment.note.get_or_insert_with(|| {
                format!("a variation expects fewer than {MIN_EXPECTED} subjects: too few for the chi-square test")
            });
            continue;
        }
        let mut statistic = 0.0;
        for v in &experiment.variations {
            let expected = v.expected_share.unwrap_or_default() * total;
            if expected > 0.0 {
                statistic += (v.subjects as f64 - expected).powi(2) / expected;
            } else if v.subjects > 0 {
                statistic = f64::INFINITY;
            }
        }
        let dof = promised.len() as u32 - 1;
        let p =
            ChiSquared::new(f64::from(dof))
                .map_or(f64::NAN, |d| if statistic.is_finite() { d.sf(statistic) } else { 0.0 });
        experiment.tested = true;
        experiment.chi_square = Some(statistic);
        experiment.degrees_of_freedom = dof;
        experiment.p_value = Some(p);
    }
    let tested = report.experiments.iter().filter(|e| e.tested).count() as u32;
    let per_test = report.srm.threshold / f64::from(tested.max(1));
    report.srm.experiments_tested = tested;
    report.srm.per_test_threshold = per_test;
    report.srm.correction = format!(
        "Bonferroni: {tested} experiment(s) tested, each flagged when p < {} / {} = {per_test:e}",
        report.srm.threshold,
        tested.max(1)
    );
    report.srm.mismatched.clear();
    for experiment in &mut report.experiments {
        experiment.mismatch = experiment.tested && experiment.p_value.is_some_and(|p| p < per_test);
        if experiment.mismatch {
            report.srm.mismatched.push(experiment.experiment.clone());
        }
    }
}

/// Merges partial reports (one per partition, `--partition K/N`) into the
/// report one run over every row gives: sums, then the SRM test again.
pub fn merge(parts: &[AuditReport]) -> Result<AuditReport, AuditError> {
    let Some(first) = parts.first() else { return Err(AuditError::Merge("no audit reports to merge".into())) };
    let count = first.partition.map_or(1, |p| p.count);
    let mut seen: Vec<u32> = parts.iter().filter_map(|p| p.partition.map(|p| p.index)).collect();
    seen.sort_unstable();
    if parts.iter().any(|p| p.partition.map(|p| p.count) != Some(count)) || seen != (1..=count).collect::<Vec<_>>() {
        return Err(AuditError::Merge(format!(
            "expected the reports of partitions 1/{count} to {count}/{count}, once each; found {:?}",
            parts.iter().map(|p| p.partition.map(|p| format!("{}/{}", p.index, p.count))).collect::<Vec<_>>()
        )));
    }
    if parts.iter().any(|p| p.configurations != first.configurations || p.srm.threshold != first.srm.threshold) {
        return Err(AuditError::Merge("the reports audited different configurations or thresholds".into()));
    }
    let mut merged = first.clone();
    merged.partition = None;
    for part in &parts[1..] {
        if part.inputs.len() != merged.inputs.len()
            || part.inputs.iter().zip(&merged.inputs).any(|(a, b)| a.path != b.path)
        {
            return Err(AuditError::Merge("the reports read different log files".into()));
        }
        for (into, from) in merged.inputs.iter_mut().zip(&part.inputs) {
            into.rows += from.rows;
        }
        merged.rows += part.rows;
        merged.checked += part.checked;
        merged.without_configuration += part.without_configuration;
        let m = &mut merged.misassignments;
        m.total += part.misassignments.total;
        add_counts(&mut m.by_reason, &part.misassignments.by_reason);
        add_counts(&mut m.by_flag, &part.misassignments.by_flag);
        add_counts(&mut m.by_allocation, &part.misassignments.by_allocation);
        add_counts(&mut m.by_sdk, &part.misassignments.by_sdk);
        m.examples.extend(part.misassignments.examples.iter().cloned());
        for experiment in &part.experiments {
            match merged.experiments.iter_mut().find(|e| e.experiment == experiment.experiment) {
                None => merged.experiments.push(experiment.clone()),
                Some(into) => {
                    into.rows += experiment.rows;
                    into.subjects += experiment.subjects;
                    into.duplicates += experiment.duplicates;
                    for v in &experiment.variations {
                        match into.variations.iter_mut().find(|x| x.variation == v.variation) {
                            Some(x) => x.subjects += v.subjects,
                            None => into.variations.push(v.clone()),
                        }
                    }
                    into.variations.sort_by(|a, b| a.variation.cmp(&b.variation));
                    if into.note.is_none() {
                        into.note.clone_from(&experiment.note);
                    }
                }
            }
        }
    }
    // A single run keeps the examples it meets first, in file and line order.
    let order = |e: &Example| (merged.inputs.iter().position(|i| i.path == e.file), e.line);
    merged.misassignments.examples.sort_by_key(order);
    merged.misassignments.examples.truncate(EXAMPLES);
    merged.experiments.sort_by(|a, b| (&a.flag, &a.allocation).cmp(&(&b.flag, &b.allocation)));
    for experiment in &mut merged.experiments {
        // Notes about too few subjects are decided again on the sums.
        if experiment.note.as_deref().is_some_and(|n| n.contains("too few") || n.contains("nothing to test")) {
            experiment.note = None;
        }
    }
    test_srm(&mut merged);
    Ok(merged)
}

fn counts<K>(map: BTreeMap<K, u64>) -> Vec<Count<K>> {
    map.into_iter().map(|(key, count)| Count { key, count }).collect()
}

fn add_counts<K: Clone + Ord>(into: &mut Vec<Count<K>>, from: &[Count<K>]) {
    for count in from {
        match into.iter_mut().find(|c| c.key == count.key) {
            Some(c) => c.count += count.count,
            None => into.push(count.clone()),
        }
    }
    into.sort_by(|a, b| a.key.cmp(&b.key));
}
