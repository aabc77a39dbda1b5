//! shields.io endpoint badges (<https://shields.io/badges/endpoint-badge>),
//! one JSON file per SDK of a run, as Bowtie publishes per implementation:
//! a README shows it with
//! `https://img.shields.io/endpoint?url=<where the file is served>`.
//!
//! The share is of the cases the SDK was judged on: passed (stale known
//! failures pass too) out of every case but the skipped ones. It is
//! rounded down, so that only a run without a failure reads 100 %.

use std::path::{Path, PathBuf};

use serde::Serialize;
use ufc_protocol::report::Summary;

use crate::run::RunResult;

/// One endpoint badge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Badge {
    /// Always 1: the endpoint format's version.
    pub schema_version: u32,
    /// The left side.
    pub label: String,
    /// The right side: `98% conformant`.
    pub message: String,
    /// A shields.io colour name.
    pub color: String,
}

/// The left side of every badge.
pub const LABEL: &str = "Eppo UFC";

/// The badge for one party's totals.
pub fn badge(summary: &Summary) -> Badge {
    let judged = summary.total - summary.skipped;
    let passing = summary.passed + summary.unexpected_passes;
    let (message, color) = match (passing * 100).checked_div(judged) {
        None => ("no cases run".to_owned(), "lightgrey"),
        Some(percent) => {
            let color = match percent {
                100 => "brightgreen",
                95..=99 => "green",
                90..=94 => "yellowgreen",
                75..=89 => "yellow",
                50..=74 => "orange",
                _ => "red",
            };
            (format!("{percent}% conformant"), color)
        }
    };
    Badge { schema_version: 1, label: LABEL.into(), message, color: color.into() }
}

/// Every SDK's badge (the reference has none), by party name.
pub fn badges(result: &RunResult) -> Vec<(String, Badge)> {
    result
        .parties
        .iter()
        .filter(|p| p.name != "reference")
        .map(|p| (p.name.clone(), badge(&result.party_summary(&p.name))))
        .collect()
}

/// The file a party's badge goes to: its name, with anything but letters,
/// digits, `.`, `-`, `_` and `@` replaced, and `.json`.
pub fn file_name(party: &str) -> String {
    let name: String =
        party.chars().map(|c| if c.is_ascii_alphanumeric() || "._-@".contains(c) { c } else { '_' }).collect();
    format!("{name}.json")
}

/// Writes every SDK's badge into `dir`; returns the files written.
pub fn write(result: &RunResult, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for (party, badge) in badges(result) {
        let path = dir.join(file_name(&party));
        let text = serde_json::to_string_pretty(&badge).unwrap_or_default() + "\n";
        super::write_atomically(&path, text.as_bytes())?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(passed: usize, failed: usize, known: usize, skipped: usize) -> Summary {
        Summary {
            total: passed + failed + known + skipped,
            passed,
            failed,
            known_failures: known,
            skipped,
            ..Summary::default()
        }
    }

    #[test]
    fn the_share_is_of_judged_cases_rounded_down() {
        let b = badge(&summary(244, 0, 16, 0));
        assert_eq!((b.message.as_str(), b.color.as_str()), ("93% conformant", "yellowgreen"));
        // 199 of 200 is 99.5 %: not shown as 100 %.
        assert_eq!(badge(&summary(199, 1, 0, 50)).message, "99% conformant");
        assert_eq!(badge(&summary(217, 0, 0, 35)).color, "brightgreen");
        assert_eq!(badge(&summary(1, 3, 0, 0)).color, "red");
        assert_eq!(badge(&summary(0, 0, 0, 4)).message, "no cases run");
        let json = serde_json::to_value(badge(&summary(1, 0, 0, 0))).expect("a badge serializes");
        assert_eq!(json["schemaVersion"], 1);
        assert_eq!(json["label"], LABEL);
    }

    #[test]
    fn file_names_are_safe() {
        assert_eq!(file_name("python@4.3.1"), "python@4.3.1.json");
        assert_eq!(file_name("my sdk/x"), "my_sdk_x.json");
    }
}
