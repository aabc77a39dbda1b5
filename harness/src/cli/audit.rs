//! `ufc-harness audit` and `ufc-harness audit-merge`: assignment logs
//! against the reference. Arguments become [`AuditOptions`]; the library
//! does the rest.

use std::path::PathBuf;

use anyhow::{bail, Context};
use ufc_harness::audit::render::{render, AuditFormat};
use ufc_harness::audit::rows::Columns;
use ufc_harness::audit::{self, AuditOptions, AuditReport, DEFAULT_SRM_THRESHOLD};

#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  ufc-harness audit --config flags-v1.json --log assignments.jsonl
  ufc-harness audit --config flags-v1.json --config-history configs/ --log export.parquet --format html --out audit.html
  ufc-harness audit --config flags-v1.json --log export.csv \\
      --columns subject=user_id,experiment=experiment_name,variation=variant_name,timestamp=ts_assigned
  ufc-harness audit --config flags-v1.json --log part-*.jsonl --partition 2/4 --format json --out audit-2.json
  ufc-harness audit-merge audit-1.json audit-2.json audit-3.json audit-4.json

Logs: *.csv is CSV (a header line), *.parquet Parquet, anything else JSON lines of logger events
(featureFlag, allocation, experiment, variation, subject, subjectAttributes, timestamp, metaData).
Fields for --columns: flag, allocation, experiment, variation, subject, attributes (a JSON object),
timestamp, sdk_name, sdk_version.

Exit codes: 0 clean, 1 misassignments or a sample-ratio mismatch, 2 bad input,
3 unreadable rows (the count and the first offending line of each file are reported).")]
pub(super) struct AuditArgs {
    /// The flag configuration (flags-v1.json; CLIENT and configuration-wire files work too).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// A directory of configurations with `createdAt`: each row is checked
    /// against the one in force at its timestamp.
    #[arg(long, value_name = "DIR")]
    config_history: Option<PathBuf>,
    /// Assignment logs (JSON lines, CSV or Parquet by extension).
    #[arg(long, value_name = "FILE", num_args = 1.., required = true)]
    log: Vec<PathBuf>,
    /// Column names of a CSV or Parquet export, as FIELD=COLUMN pairs.
    #[arg(long, value_name = "MAP", default_value = "")]
    columns: String,
    /// Family-wise p-value threshold of the sample-ratio test (Bonferroni-corrected over experiments).
    #[arg(long, value_name = "P", default_value_t = DEFAULT_SRM_THRESHOLD)]
    srm_threshold: f64,
    /// Audit only the subjects of partition K of N (a stable hash of the
    /// subject key); merge the partial JSON reports with `audit-merge`.
    #[arg(long, value_name = "K/N")]
    partition: Option<ufc_harness::partition::Partition>,
    /// Output: text, json (docs/report-schemas/audit.schema.json), markdown or html.
    #[arg(long, default_value = "text", value_parser = ["text", "json", "markdown", "html"])]
    format: String,
    /// Write the report here instead of stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(clap::Args)]
pub(super) struct AuditMergeArgs {
    /// Partial audit reports (`audit --partition K/N --format json`), one per partition.
    #[arg(value_name = "REPORT", required = true)]
    reports: Vec<PathBuf>,
    /// Output: text, json, markdown or html.
    #[arg(long, default_value = "json", value_parser = ["text", "json", "markdown", "html"])]
    format: String,
    /// Write the report here instead of stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

pub(super) fn audit_command(args: AuditArgs) -> anyhow::Result<i32> {
    if !(args.srm_threshold > 0.0 && args.srm_threshold < 1.0) {
        bail!("--srm-threshold {}: expected a p-value between 0 and 1", args.srm_threshold);
    }
    let options = AuditOptions {
        config: args.config,
        config_history: args.config_history,
        logs: args.log,
        columns: Columns::parse(&args.columns).map_err(anyhow::Error::msg)?,
        srm_threshold: args.srm_threshold,
        partition: args.partition.map(|p| (p.index(), p.count())),
    };
    let report = audit::audit(&options)?;
    write(&report, &args.format, args.out.as_ref())?;
    Ok(report.exit_code())
}

pub(super) fn audit_merge_command(args: AuditMergeArgs) -> anyhow::Result<i32> {
    let mut parts = Vec::new();
    for path in &args.reports {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let mut deserializer = serde_json::Deserializer::from_str(&text);
        let report: AuditReport = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
            anyhow::anyhow!("{}: at $.{}: {} (expected an audit report)", path.display(), err.path(), err.inner())
        })?;
        parts.push(report);
    }
    let merged = audit::merge(&parts)?;
    write(&merged, &args.format, args.out.as_ref())?;
    Ok(merged.exit_code())
}

fn write(report: &AuditReport, format: &str, out: Option<&PathBuf>) -> anyhow::Result<()> {
    let format: AuditFormat = format.parse().map_err(anyhow::Error::msg)?;
    let text = render(report, format);
    match out {
        None => out!("{text}"),
        Some(path) => ufc_harness::report::write_atomically(path, text.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?,
    }
    Ok(())
}
