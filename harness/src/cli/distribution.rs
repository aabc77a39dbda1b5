//! `ufc-harness distribution`: a sample-ratio-mismatch check of one flag's
//! split over synthetic subjects, with a chi-square p-value. Arguments
//! become [`DistributionOptions`]; the library does the rest.

use std::path::PathBuf;

use anyhow::{bail, Context};
use ufc_harness::distribution::{self, DistributionOptions};
use ufc_harness::report::distribution::{render, DistributionFormat};

use super::parse_now;

#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  ufc-harness distribution --config ../shared/eppo-sdk-test-data/ufc/flags-v1.json \\
      --flag new-user-onboarding --subjects 1000000 --attributes '{\"country\": \"Germany\"}'
  ufc-harness distribution --config flags-v1.json --flag my-experiment --subjects 10000000 --format json
  ufc-harness distribution --config flags-v1.json --flag my-experiment --format html > shares.html

Exit codes: 0 the counts fit the split, 1 sample-ratio mismatch, 2 usage error,
3 the expected shares cannot be predicted (see the notes).")]
pub(super) struct DistributionArgs {
    /// The flag configuration (flags-v1.json; a CLIENT configuration works too).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// The flag key.
    #[arg(long)]
    flag: String,
    /// How many synthetic subjects (`subject-0` …) to evaluate.
    #[arg(long, default_value = "1000000")]
    subjects: usize,
    /// Attributes every synthetic subject has, as a JSON object.
    #[arg(long, value_name = "JSON", default_value = "{}")]
    attributes: String,
    /// The evaluation clock (RFC 3339); default: now.
    #[arg(long, value_name = "RFC3339")]
    now: Option<String>,
    /// Output: text, markdown, json (schema: docs/report-schemas/distribution.schema.json)
    /// or html (a self-contained page charting observed against expected shares).
    #[arg(long, default_value = "text", value_parser = ["text", "markdown", "json", "html"])]
    format: String,
}

pub(super) fn distribution_command(args: DistributionArgs) -> anyhow::Result<i32> {
    let attributes: serde_json::Value =
        serde_json::from_str(&args.attributes).context("--attributes must be a JSON object")?;
    let Some(map) = attributes.as_object() else {
        bail!("--attributes must be a JSON object, found {attributes}");
    };
    let options = DistributionOptions {
        config: args.config,
        flag: args.flag,
        subjects: args.subjects,
        attributes: ufc_reference::Attributes::from_json(map),
        now: parse_now(args.now.as_deref())?,
        format: args.format.parse::<DistributionFormat>().map_err(anyhow::Error::msg)?,
    };
    let report = distribution::check(&options)?;
    out!("{}", render(&report, options.format));
    Ok(report.verdict.exit_code())
}
