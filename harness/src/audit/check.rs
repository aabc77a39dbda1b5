//! Each logged row against the reference: the configuration in force at
//! the row's timestamp, evaluated for the row's subject and logged
//! attributes at that time, says which allocation and variation the SDK
//! should have logged.

use std::collections::HashMap;
use std::path::PathBuf;

use rayon::prelude::*;
use ufc_reference::config::FlagEntry;
use ufc_reference::{Configuration, FlagRequest, Timestamp};

use super::rows::LogRow;

/// One configuration of the history.
pub struct Version {
    /// Where it was read.
    pub path: PathBuf,
    /// `createdAt`, when it has one.
    pub created_at: Option<Timestamp>,
    /// The configuration.
    pub config: Configuration,
    /// `<flag>-<allocation>` → (flag, allocation): resolves exports that
    /// log only the experiment.
    experiments: HashMap<String, (String, String)>,
}

impl Version {
    /// A loaded configuration.
    pub fn new(path: PathBuf, config: Configuration) -> Version {
        let created_at = config.created_at().and_then(super::rows::parse_timestamp);
        let mut experiments = HashMap::new();
        for key in config.flag_keys() {
            if let Some(FlagEntry::Valid(flag)) = config.flag(key) {
                for allocation in &flag.allocations {
                    experiments.insert(
                        format!("{}-{}", flag.key, &*allocation.key),
                        (flag.key.clone(), allocation.key.to_string()),
                    );
                }
            }
        }
        Version { path, created_at, config, experiments }
    }
}

/// Configurations ordered by `createdAt`; with one, it is in force always.
pub struct History {
    /// Oldest first.
    pub versions: Vec<Version>,
}

impl History {
    /// The versions, sorted by `createdAt` (those without one first).
    pub fn new(mut versions: Vec<Version>) -> History {
        versions.sort_by_key(|v| v.created_at);
        History { versions }
    }

    /// The configuration in force at `t`: the latest created at or before
    /// `t`. `None` when every one was created after `t` (a history of one
    /// is in force whatever its date).
    pub fn at(&self, t: Timestamp) -> Option<&Version> {
        if self.versions.len() == 1 {
            return self.versions.first();
        }
        self.versions.iter().rev().find(|v| v.created_at.is_none_or(|c| c <= t))
    }
}

/// Why a row was not what the reference computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Reason {
    /// Same allocation, another variation.
    Variation,
    /// Another allocation decided.
    Allocation,
    /// The reference logs nothing for this subject (default served, or
    /// the deciding allocation does not log).
    NotAssigned,
    /// The flag is not in the configuration, or cannot be read.
    UnknownFlag,
}

/// The verdict on one row.
#[derive(Debug, Clone)]
pub enum Verdict {
    /// As the reference computes.
    Agrees,
    /// Not: why, and what the reference computes (allocation, variation).
    Misassigned { reason: Reason, expected_allocation: Option<String>, expected_variation: Option<String> },
    /// No configuration was in force at the row's timestamp.
    NoConfiguration,
}

/// A checked row: the flag and allocation it was resolved to, and the verdict.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The flag (logged, or resolved from the experiment).
    pub flag: String,
    /// The allocation (likewise).
    pub allocation: String,
    /// The verdict.
    pub verdict: Verdict,
}

/// Checks a batch of rows, on every core. This is the audit's one call
/// into evaluation (and so into MD5 sharding): a faster bulk sharder can
/// replace the per-row evaluation here without touching the rest.
pub fn check_batch(history: &History, rows: &[LogRow]) -> Vec<Checked> {
    rows.par_iter().with_min_len(256).map(|row| check_row(history, row)).collect()
}

fn check_row(history: &History, row: &LogRow) -> Checked {
    let Some(version) = history.at(row.timestamp) else {
        let (flag, allocation) = logged_names(row, None);
        return Checked { flag, allocation, verdict: Verdict::NoConfiguration };
    };
    let (flag_key, allocation_key) = logged_names(row, Some(version));
    let config = &version.config;
    let variation_type = match config.flag(&flag_key) {
        Some(FlagEntry::Valid(flag)) => flag.variation_type,
        _ => {
            let verdict = misassigned(Reason::UnknownFlag, None, None);
            return Checked { flag: flag_key, allocation: allocation_key, verdict };
        }
    };
    let request = FlagRequest::new(&flag_key, &row.subject, &row.attributes, variation_type);
    let outcome = config.evaluate(&request, row.timestamp);
    let verdict = match outcome.assignment_event(&request, row.timestamp) {
        None => misassigned(
            Reason::NotAssigned,
            outcome.decision.map(|d| d.allocation.key.to_string()),
            outcome.decision.filter(|_| outcome.value().is_some()).map(|d| d.split.variation_key.to_string()),
        ),
        Some(event) => {
            let expected_variation = &*event.split.variation_key;
            if event.allocation_key != allocation_key {
                misassigned(
                    Reason::Allocation,
                    Some(event.allocation_key.to_owned()),
                    Some(expected_variation.to_owned()),
                )
            } else if expected_variation != row.variation {
                misassigned(
                    Reason::Variation,
                    Some(event.allocation_key.to_owned()),
                    Some(expected_variation.to_owned()),
                )
            } else {
                Verdict::Agrees
            }
        }
    };
    Checked { flag: flag_key, allocation: allocation_key, verdict }
}

fn misassigned(reason: Reason, expected_allocation: Option<String>, expected_variation: Option<String>) -> Verdict {
    Verdict::Misassigned { reason, expected_allocation, expected_variation }
}

/// The row's flag and allocation: as logged, or split from the experiment
/// by the configuration (`<flag>-<allocation>`, where both may hold `-`).
fn logged_names(row: &LogRow, version: Option<&Version>) -> (String, String) {
    if let (Some(flag), Some(allocation)) = (&row.flag, &row.allocation) {
        return (flag.clone(), allocation.clone());
    }
    let experiment = row.experiment.as_deref().unwrap_or_default();
    if let Some((flag, allocation)) = version.and_then(|v| v.experiments.get(experiment)) {
        return (flag.clone(), allocation.clone());
    }
    match (&row.flag, &row.allocation) {
        (Some(flag), None) => {
            let allocation = experiment.strip_prefix(flag.as_str()).and_then(|r| r.strip_prefix('-')).unwrap_or("");
            (flag.clone(), allocation.to_owned())
        }
        (None, Some(allocation)) => {
            let flag = experiment.strip_suffix(allocation.as_str()).and_then(|r| r.strip_suffix('-')).unwrap_or("");
            (flag.to_owned(), allocation.clone())
        }
        _ => (experiment.to_owned(), String::new()),
    }
}
