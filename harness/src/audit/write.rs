//! Writes assignment rows as a warehouse would unload them to Parquet
//! (string columns under the default names, Snappy-compressed), so that
//! tests and the throughput measurement audit real Parquet files.

use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, Field as ArrowField, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use serde_json::Value;

/// Rows per row group.
const GROUP: usize = 64 * 1024;

/// Writes logger events (JSON objects with the seeds' fields) to `path` as
/// Parquet: `featureFlag`, `allocation`, `experiment`, `variation`,
/// `subject`, `subjectAttributes` (JSON text), `timestamp`, `sdkName`,
/// `sdkVersion`, all strings.
pub fn write_events_parquet(path: &Path, events: &mut dyn Iterator<Item = Value>) -> Result<u64, String> {
    let names = [
        "featureFlag",
        "allocation",
        "experiment",
        "variation",
        "subject",
        "subjectAttributes",
        "timestamp",
        "sdkName",
        "sdkVersion",
    ];
    let schema =
        Arc::new(Schema::new(names.iter().map(|n| ArrowField::new(*n, DataType::Utf8, true)).collect::<Vec<_>>()));
    let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let properties = WriterProperties::builder().set_compression(Compression::SNAPPY).build();
    let mut writer = ArrowWriter::try_new(file, schema.clone(), Some(properties)).map_err(|e| e.to_string())?;
    let mut written = 0u64;
    loop {
        let chunk: Vec<Value> = events.take(GROUP).collect();
        if chunk.is_empty() {
            break;
        }
        let text = |event: &Value, name: &str| -> Option<String> {
            let value = match name {
                "sdkName" => event.pointer("/metaData/sdkName").or_else(|| event.pointer("/metaData/sdkLanguage")),
                "sdkVersion" => event.pointer("/metaData/sdkVersion"),
                _ => event.get(name),
            }?;
            Some(match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
        };
        let columns: Vec<ArrayRef> = names
            .iter()
            .map(|name| Arc::new(chunk.iter().map(|e| text(e, name)).collect::<StringArray>()) as ArrayRef)
            .collect();
        let batch = RecordBatch::try_new(schema.clone(), columns).map_err(|e| e.to_string())?;
        writer.write(&batch).map_err(|e| e.to_string())?;
        written += chunk.len() as u64;
    }
    writer.close().map_err(|e| e.to_string())?;
    Ok(written)
}
