//! One logged assignment, as read from any input format, and the mapping
//! from a warehouse table's column names to its fields.

use std::collections::HashMap;

use ufc_reference::{Attributes, Timestamp};

/// A logged assignment: the fields of the SDK loggers' event that the
/// audit reads.
#[derive(Debug, Clone)]
pub struct LogRow {
    /// `featureFlag` (absent: resolved from `experiment`).
    pub flag: Option<String>,
    /// `allocation` (absent: resolved from `experiment`).
    pub allocation: Option<String>,
    /// `experiment` (`<flag>-<allocation>`).
    pub experiment: Option<String>,
    /// `variation`.
    pub variation: String,
    /// `subject`.
    pub subject: String,
    /// `subjectAttributes` (empty when the export has none).
    pub attributes: Attributes,
    /// `timestamp`.
    pub timestamp: Timestamp,
    /// `metaData.sdkName`.
    pub sdk_name: Option<String>,
    /// `metaData.sdkVersion`.
    pub sdk_version: Option<String>,
    /// Where it was read.
    pub at: RowPlace,
}

/// A row's place: the input file (index into the audit's `--log` list) and
/// its 1-based line (CSV: the record's line; Parquet: the row number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RowPlace {
    /// Index of the file in `--log`.
    pub file: usize,
    /// 1-based line or row.
    pub line: u64,
}

impl Default for RowPlace {
    fn default() -> Self {
        RowPlace { file: 0, line: 1 }
    }
}

/// A row that could not be read.
#[derive(Debug, Clone)]
pub struct RowError {
    /// Where.
    pub at: RowPlace,
    /// What was wrong, naming the field and what was expected.
    pub message: String,
}

/// The fields a tabular export can map columns to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// `flag` (default column `featureFlag`).
    Flag,
    /// `allocation`.
    Allocation,
    /// `experiment`.
    Experiment,
    /// `variation`.
    Variation,
    /// `subject`.
    Subject,
    /// `attributes` (default `subjectAttributes`): a JSON object as text.
    Attributes,
    /// `timestamp`.
    Timestamp,
    /// `sdk_name` (default `sdkName`).
    SdkName,
    /// `sdk_version` (default `sdkVersion`).
    SdkVersion,
}

impl Field {
    /// Every field, with its `--columns` name and its default column.
    pub const ALL: [(Field, &'static str, &'static str); 9] = [
        (Field::Flag, "flag", "featureFlag"),
        (Field::Allocation, "allocation", "allocation"),
        (Field::Experiment, "experiment", "experiment"),
        (Field::Variation, "variation", "variation"),
        (Field::Subject, "subject", "subject"),
        (Field::Attributes, "attributes", "subjectAttributes"),
        (Field::Timestamp, "timestamp", "timestamp"),
        (Field::SdkName, "sdk_name", "sdkName"),
        (Field::SdkVersion, "sdk_version", "sdkVersion"),
    ];
}

/// Which column holds each field.
#[derive(Debug, Clone)]
pub struct Columns {
    names: HashMap<Field, String>,
}

impl Default for Columns {
    fn default() -> Self {
        Columns { names: Field::ALL.iter().map(|(f, _, column)| (*f, (*column).to_owned())).collect() }
    }
}

impl Columns {
    /// Parses `--columns subject=user_id,experiment=experiment_name,...`:
    /// the listed fields move to the named columns, the others keep their
    /// default names.
    pub fn parse(text: &str) -> Result<Columns, String> {
        let mut columns = Columns::default();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let Some((field, column)) = item.split_once('=') else {
                return Err(format!("--columns: expected FIELD=COLUMN, found {item:?}"));
            };
            let Some((field, _, _)) = Field::ALL.iter().find(|(_, name, _)| *name == field.trim()) else {
                let names: Vec<&str> = Field::ALL.iter().map(|(_, name, _)| *name).collect();
                return Err(format!("--columns: unknown field {field:?}; expected one of {}", names.join(", ")));
            };
            columns.names.insert(*field, column.trim().to_owned());
        }
        Ok(columns)
    }

    /// The column name of `field`.
    pub fn name(&self, field: Field) -> &str {
        self.names.get(&field).map_or("", String::as_str)
    }
}

/// Reads a timestamp as warehouses write it: RFC 3339, or the same without
/// an offset (taken as UTC, as `YYYY-MM-DD HH:MM:SS[.fff]` exports are).
pub fn parse_timestamp(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(t.to_utc());
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f%#z"].iter().find_map(|format| {
        chrono::NaiveDateTime::parse_from_str(text, format)
            .ok()
            .map(|t| t.and_utc())
            .or_else(|| chrono::DateTime::parse_from_str(text, format).ok().map(|t| t.to_utc()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_map_named_fields_and_keep_the_rest() {
        let columns = Columns::parse("subject=user_id, experiment=experiment_name,timestamp=ts").unwrap_or_default();
        assert_eq!(columns.name(Field::Subject), "user_id");
        assert_eq!(columns.name(Field::Experiment), "experiment_name");
        assert_eq!(columns.name(Field::Variation), "variation");
        let err = Columns::parse("user=id").err().unwrap_or_default();
        assert!(err.contains("unknown field \"user\"") && err.contains("subject"), "{err}");
        assert!(Columns::parse("subject").is_err());
    }

    #[test]
    fn timestamps_with_and_without_offsets() {
        let utc = parse_timestamp("2025-01-02T03:04:05Z");
        assert!(utc.is_some());
        assert_eq!(parse_timestamp("2025-01-02 03:04:05"), utc);
        assert_eq!(parse_timestamp("2025-01-02T04:04:05+01:00"), utc);
        assert_eq!(parse_timestamp("2025-01-02T03:04:05.000"), utc);
        assert_eq!(parse_timestamp("yesterday"), None);
    }
}
