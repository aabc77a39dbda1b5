//! Reading assignment logs: JSON lines of logger events, CSV with mapped
//! columns, and Parquet (through the Apache Arrow crates). Each reader
//! hands rows over in batches, so an export of any size is audited in
//! bounded memory; a row that cannot be read becomes a [`RowError`] and the
//! reading goes on. A file that cannot be opened, or a table without the
//! columns the audit needs, is a [`ReadError`] (bad input).

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use rayon::prelude::*;
use serde::Deserialize;
use serde_json::{Map, Value};
use ufc_reference::{Attributes, Timestamp};

use super::rows::{parse_timestamp, Columns, Field, LogRow, RowError, RowPlace};

/// Rows handed over at a time.
pub const BATCH: usize = 64 * 1024;

/// The format of a log file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One logger event (a JSON object) a line.
    JsonLines,
    /// A header line, then one assignment a record.
    Csv,
    /// A Parquet file with one assignment a row.
    Parquet,
}

impl LogFormat {
    /// By extension: `.csv`, `.parquet`/`.pq`, anything else JSON lines.
    pub fn of(path: &Path) -> LogFormat {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("csv") => LogFormat::Csv,
            Some("parquet" | "pq") => LogFormat::Parquet,
            _ => LogFormat::JsonLines,
        }
    }
}

/// A log that cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Not readable.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

fn file_error(path: &Path, message: impl std::fmt::Display) -> ReadError {
    ReadError::File { path: path.to_owned(), message: message.to_string() }
}

/// Reads `path` (the `file`-th log) and calls `each` with every batch.
pub fn read_log(
    path: &Path,
    file: usize,
    columns: &Columns,
    each: &mut dyn FnMut(Vec<Result<LogRow, RowError>>),
) -> Result<(), ReadError> {
    match LogFormat::of(path) {
        LogFormat::JsonLines => read_json_lines(path, file, each),
        LogFormat::Csv => read_csv(path, file, columns, each),
        LogFormat::Parquet => read_parquet(path, file, columns, each),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventWire {
    #[serde(default)]
    feature_flag: Option<String>,
    #[serde(default)]
    allocation: Option<String>,
    #[serde(default)]
    experiment: Option<String>,
    variation: String,
    subject: String,
    #[serde(default)]
    subject_attributes: Option<Map<String, Value>>,
    timestamp: Value,
    #[serde(default)]
    meta_data: Option<Map<String, Value>>,
}

fn read_json_lines(
    path: &Path,
    file: usize,
    each: &mut dyn FnMut(Vec<Result<LogRow, RowError>>),
) -> Result<(), ReadError> {
    let reader = BufReader::with_capacity(1 << 20, File::open(path).map_err(|e| file_error(path, e))?);
    let mut lines: Vec<(u64, String)> = Vec::with_capacity(BATCH);
    let flush = |lines: &mut Vec<(u64, String)>, each: &mut dyn FnMut(Vec<Result<LogRow, RowError>>)| {
        let rows = lines.par_iter().map(|(line, text)| parse_event(text, RowPlace { file, line: *line })).collect();
        lines.clear();
        each(rows);
    };
    for (index, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| file_error(path, format!("line {}: {e}", index + 1)))?;
        if line.trim().is_empty() {
            continue;
        }
        lines.push((index as u64 + 1, line));
        if lines.len() == BATCH {
            flush(&mut lines, each);
        }
    }
    flush(&mut lines, each);
    Ok(())
}

fn parse_event(text: &str, at: RowPlace) -> Result<LogRow, RowError> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let event: EventWire = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let path = if path == "." { "$".to_owned() } else { format!("$.{path}") };
        RowError { at, message: format!("at {path}: {}", err.inner()) }
    })?;
    let timestamp = match &event.timestamp {
        Value::String(text) => parse_timestamp(text),
        Value::Number(n) => n.as_i64().and_then(chrono::DateTime::from_timestamp_millis),
        _ => None,
    }
    .ok_or_else(|| RowError {
        at,
        message: format!(
            "at $.timestamp: expected an RFC 3339 date-time or epoch milliseconds, found {}",
            event.timestamp
        ),
    })?;
    let meta = |key: &str| event.meta_data.as_ref().and_then(|m| m.get(key)).and_then(Value::as_str).map(str::to_owned);
    Ok(LogRow {
        flag: event.feature_flag,
        allocation: event.allocation,
        experiment: event.experiment,
        variation: event.variation,
        subject: event.subject,
        attributes: event.subject_attributes.as_ref().map(Attributes::from_json).unwrap_or_default(),
        timestamp,
        sdk_name: meta("sdkName").or_else(|| meta("sdkLanguage")),
        sdk_version: meta("sdkVersion"),
        at,
    })
}

/// The fields a table must have: subject, variation and timestamp, and
/// the experiment or both flag and allocation.
fn check_columns(path: &Path, has: &dyn Fn(Field) -> bool, columns: &Columns) -> Result<(), ReadError> {
    for field in [Field::Subject, Field::Variation, Field::Timestamp] {
        if !has(field) {
            return Err(file_error(
                path,
                format!(
                    "no column {:?} (map another with --columns {}=COLUMN)",
                    columns.name(field),
                    field_name(field)
                ),
            ));
        }
    }
    let named = has(Field::Experiment) || (has(Field::Flag) && has(Field::Allocation));
    if !named {
        return Err(file_error(
            path,
            format!(
                "no column {:?}, and not both {:?} and {:?}: the experiment cannot be told",
                columns.name(Field::Experiment),
                columns.name(Field::Flag),
                columns.name(Field::Allocation)
            ),
        ));
    }
    Ok(())
}

fn field_name(field: Field) -> &'static str {
    Field::ALL.iter().find(|(f, _, _)| *f == field).map_or("", |(_, name, _)| name)
}

/// A row from its fields as text (CSV and Parquet share this).
fn row_from_fields(get: &dyn Fn(Field) -> Option<String>, at: RowPlace, columns: &Columns) -> Result<LogRow, RowError> {
    let required = |field: Field| {
        get(field).filter(|v| !v.is_empty()).ok_or_else(|| RowError {
            at,
            message: format!("column {:?} ({}) is empty", columns.name(field), field_name(field)),
        })
    };
    let subject = required(Field::Subject)?;
    let variation = required(Field::Variation)?;
    let timestamp_text = required(Field::Timestamp)?;
    let timestamp: Timestamp = parse_timestamp(&timestamp_text).ok_or_else(|| RowError {
        at,
        message: format!(
            "column {:?}: expected an RFC 3339 date-time, found {timestamp_text:?}",
            columns.name(Field::Timestamp)
        ),
    })?;
    let attributes = match get(Field::Attributes).filter(|t| !t.trim().is_empty()) {
        None => Attributes::new(),
        Some(text) => match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(map)) => Attributes::from_json(&map),
            _ => {
                return Err(RowError {
                    at,
                    message: format!(
                        "column {:?}: expected a JSON object of attributes, found {text:?}",
                        columns.name(Field::Attributes)
                    ),
                })
            }
        },
    };
    let optional = |field: Field| get(field).filter(|v| !v.is_empty());
    Ok(LogRow {
        flag: optional(Field::Flag),
        allocation: optional(Field::Allocation),
        experiment: optional(Field::Experiment),
        variation,
        subject,
        attributes,
        timestamp,
        sdk_name: optional(Field::SdkName),
        sdk_version: optional(Field::SdkVersion),
        at,
    })
}

fn read_csv(
    path: &Path,
    file: usize,
    columns: &Columns,
    each: &mut dyn FnMut(Vec<Result<LogRow, RowError>>),
) -> Result<(), ReadError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(BufReader::with_capacity(1 << 20, File::open(path).map_err(|e| file_error(path, e))?));
    let headers = reader.headers().map_err(|e| file_error(path, format!("header line: {e}")))?.clone();
    let index: Vec<(Field, Option<usize>)> = Field::ALL
        .iter()
        .map(|(field, _, _)| (*field, headers.iter().position(|h| h == columns.name(*field))))
        .collect();
    let position = |field: Field| index.iter().find(|(f, _)| *f == field).and_then(|(_, i)| *i);
    check_columns(path, &|field| position(field).is_some(), columns)?;
    let mut records: Vec<(u64, Result<csv::StringRecord, String>)> = Vec::with_capacity(BATCH);
    let flush = |records: &mut Vec<(u64, Result<csv::StringRecord, String>)>,
                 each: &mut dyn FnMut(Vec<Result<LogRow, RowError>>)| {
        let rows = records
            .par_iter()
            .map(|(line, record)| {
                let at = RowPlace { file, line: *line };
                let record = record.as_ref().map_err(|message| RowError { at, message: message.clone() })?;
                let get = |field: Field| position(field).and_then(|i| record.get(i)).map(str::to_owned);
                row_from_fields(&get, at, columns)
            })
            .collect();
        records.clear();
        each(rows);
    };
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(0, |p| p.line());
                records.push((line, Ok(record.clone())));
            }
            Err(err) => {
                let line = err.position().map_or(0, |p| p.line());
                if matches!(err.kind(), csv::ErrorKind::Io(_)) {
                    return Err(file_error(path, err));
                }
                records.push((line, Err(format!("not a CSV record: {err}"))));
            }
        }
        if records.len() == BATCH {
            flush(&mut records, each);
        }
    }
    flush(&mut records, each);
    Ok(())
}

/// A Parquet column read as text, whatever its Arrow string or time type.
fn cell(batch: &RecordBatch, column: usize, row: usize) -> Option<String> {
    let array = batch.column(column);
    if array.is_null(row) {
        return None;
    }
    let millis = |t: i64| chrono::DateTime::from_timestamp_millis(t).map(|t| t.to_rfc3339());
    match array.data_type() {
        DataType::Utf8 => Some(array.as_string::<i32>().value(row).to_owned()),
        DataType::LargeUtf8 => Some(array.as_string::<i64>().value(row).to_owned()),
        DataType::Utf8View => Some(array.as_string_view().value(row).to_owned()),
        DataType::Timestamp(unit, _) => {
            let raw = match unit {
                TimeUnit::Second => array.as_primitive::<arrow_array::types::TimestampSecondType>().value(row) * 1000,
                TimeUnit::Millisecond => {
                    array.as_primitive::<arrow_array::types::TimestampMillisecondType>().value(row)
                }
                TimeUnit::Microsecond => {
                    array.as_primitive::<arrow_array::types::TimestampMicrosecondType>().value(row) / 1000
                }
                TimeUnit::Nanosecond => {
                    array.as_primitive::<arrow_array::types::TimestampNanosecondType>().value(row) / 1_000_000
                }
            };
            millis(raw)
        }
        DataType::Int64 => millis(array.as_primitive::<arrow_array::types::Int64Type>().value(row)),
        _ => None,
    }
}

fn read_parquet(
    path: &Path,
    file: usize,
    columns: &Columns,
    each: &mut dyn FnMut(Vec<Result<LogRow, RowError>>),
) -> Result<(), ReadError> {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let opened = File::open(path).map_err(|e| file_error(path, e))?;
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(opened).map_err(|e| file_error(path, format!("not Parquet: {e}")))?;
    let schema = builder.schema().clone();
    let index: Vec<(Field, Option<usize>)> =
        Field::ALL.iter().map(|(field, _, _)| (*field, schema.index_of(columns.name(*field)).ok())).collect();
    let position = |field: Field| index.iter().find(|(f, _)| *f == field).and_then(|(_, i)| *i);
    check_columns(path, &|field| position(field).is_some(), columns)?;
    for (field, column) in &index {
        let Some(column) = column else { continue };
        let data_type = schema.field(*column).data_type();
        let text = matches!(data_type, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View);
        let time = matches!(data_type, DataType::Timestamp(..) | DataType::Int64) && *field == Field::Timestamp;
        if !text && !time {
            return Err(file_error(
                path,
                format!("column {:?} has type {data_type}; expected a string column", columns.name(*field)),
            ));
        }
    }
    let reader = builder.with_batch_size(BATCH).build().map_err(|e| file_error(path, e))?;
    let mut first_row: u64 = 1;
    for batch in reader {
        let batch = batch.map_err(|e| file_error(path, format!("row group after row {first_row}: {e}")))?;
        let rows = (0..batch.num_rows())
            .into_par_iter()
            .map(|row| {
                let at = RowPlace { file, line: first_row + row as u64 };
                let get = |field: Field| position(field).and_then(|column| cell(&batch, column, row));
                row_from_fields(&get, at, columns)
            })
            .collect();
        first_row += batch.num_rows() as u64;
        each(rows);
    }
    Ok(())
}
