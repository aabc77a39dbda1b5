//! Writes a synthetic assignment log for measuring `audit`: a configuration
//! with two experiments, and N rows of the events the reference logs for
//! subjects `user-0` …, as JSON lines and as Parquet.
//!
//! ```sh
//! cargo run --release -p ufc-harness --example audit_log -- DIR 10000000
//! ufc-harness audit --config DIR/flags.json --log DIR/log.jsonl
//! ufc-harness audit --config DIR/flags.json --log DIR/log.parquet
//! ```

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use serde_json::{json, Value};
use ufc_reference::{AttributeValue, Attributes, Configuration, FlagRequest, VariationType};

const FLAGS: &str = r#"{"createdAt": "2025-01-01T00:00:00Z", "format": "SERVER", "environment": {"name": "Bench"},
 "flags": {
  "checkout": {"key": "checkout", "enabled": true, "variationType": "STRING", "totalShards": 10000,
    "variations": {"control": {"key": "control", "value": "control"}, "one-page": {"key": "one-page", "value": "one-page"},
                   "express": {"key": "express", "value": "express"}},
    "allocations": [{"key": "exp", "doLog": true,
      "rules": [{"conditions": [{"attribute": "country", "operator": "ONE_OF", "value": ["US", "CA"]}]}],
      "splits": [{"variationKey": "control", "shards": [{"salt": "checkout-split", "ranges": [{"start": 0, "end": 5000}]}]},
                 {"variationKey": "one-page", "shards": [{"salt": "checkout-split", "ranges": [{"start": 5000, "end": 8000}]}]},
                 {"variationKey": "express", "shards": [{"salt": "checkout-split", "ranges": [{"start": 8000, "end": 10000}]}]}]},
      {"key": "everyone", "doLog": true, "splits": [{"variationKey": "control", "shards": []}]}]},
  "pricing": {"key": "pricing", "enabled": true, "variationType": "STRING", "totalShards": 10000,
    "variations": {"old": {"key": "old", "value": "old"}, "new": {"key": "new", "value": "new"}},
    "allocations": [{"key": "exp", "doLog": true, "splits": [
      {"variationKey": "old", "shards": [{"salt": "pricing-split", "ranges": [{"start": 0, "end": 5000}]}]},
      {"variationKey": "new", "shards": [{"salt": "pricing-split", "ranges": [{"start": 5000, "end": 10000}]}]}]}]}}}"#;

fn main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().ok_or("usage: audit_log DIR ROWS")?);
    let rows: usize = args.next().and_then(|n| n.parse().ok()).ok_or("usage: audit_log DIR ROWS")?;
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("flags.json"), FLAGS).map_err(|e| e.to_string())?;
    let config = Configuration::from_json(FLAGS.as_bytes()).map_err(|e| e.to_string())?;
    let start = chrono::DateTime::parse_from_rfc3339("2025-02-01T00:00:00Z").map_err(|e| e.to_string())?.to_utc();
    let events = move |i: usize| -> Value {
        let subject = format!("user-{}", i / 2);
        let mut attributes = Attributes::new();
        attributes.insert("country".into(), AttributeValue::String(["US", "CA", "DE"][(i / 2) % 3].into()));
        attributes.insert("plan".into(), AttributeValue::String(if i % 4 < 2 { "free" } else { "pro" }.into()));
        let flag = if i.is_multiple_of(2) { "checkout" } else { "pricing" };
        let now = start + chrono::Duration::milliseconds(i as i64);
        let request = FlagRequest::new(flag, &subject, &attributes, VariationType::String);
        let outcome = config.evaluate(&request, now);
        outcome.assignment_event(&request, now).map_or(Value::Null, |e| {
            let mut event = e.to_json();
            event["metaData"] = json!({"sdkName": "bench", "sdkVersion": "1.0.0"});
            event
        })
    };
    let jsonl = dir.join("log.jsonl");
    let mut out = BufWriter::new(std::fs::File::create(&jsonl).map_err(|e| e.to_string())?);
    for i in 0..rows {
        writeln!(out, "{}", events(i)).map_err(|e| e.to_string())?;
    }
    out.flush().map_err(|e| e.to_string())?;
    let written =
        ufc_harness::audit::write::write_events_parquet(&dir.join("log.parquet"), &mut (0..rows).map(events))?;
    eprintln!("wrote {rows} rows to {} and {written} to log.parquet", jsonl.display());
    Ok(())
}
