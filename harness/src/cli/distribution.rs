//! `ufc-harness distribution`: a sample-ratio-mismatch check of one flag's
//! split over synthetic subjects, with a chi-square p-value.

use std::path::PathBuf;

use anyhow::{bail, Context};
use ufc_harness::distribution::{self, Verdict};
use ufc_harness::exit_codes;

use super::parse_now;

#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  ufc-harness distribution --config ../shared/eppo-sdk-test-data/ufc/flags-v1.json \\
      --flag new-user-onboarding --subjects 1000000 --attributes '{\"country\": \"Germany\"}'
  ufc-harness distribution --config flags-v1.json --flag my-experiment --subjects 10000000 --format json

Exit codes: 0 the counts fit the split, 1 sample-ratio mismatch, 2 usage error,
3 the expected shares cannot be predicted (see the notes).")]
pub(super) struct DistributionArgs {
    /// The flag configuration (flags-v1.json).
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
    /// Output: text or json.
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    format: String,
}

pub(super) fn distribution_command(args: DistributionArgs) -> anyhow::Result<i32> {
    let now = parse_now(args.now.as_deref())?;
    let bytes = std::fs::read(&args.config).with_context(|| format!("reading {}", args.config.display()))?;
    let config = ufc_reference::Configuration::from_json(&bytes)
        .with_context(|| format!("{} is not a UFC configuration", args.config.display()))?;
    let attributes: serde_json::Value =
        serde_json::from_str(&args.attributes).context("--attributes must be a JSON object")?;
    let Some(map) = attributes.as_object() else {
        bail!("--attributes must be a JSON object, found {attributes}");
    };
    let attributes = ufc_reference::Attributes::from_json(map);
    let report =
        distribution::distribution(&config, &args.flag, args.subjects, &attributes, now).map_err(anyhow::Error::msg)?;
    if args.format == "json" {
        outln!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        out!("{}", distribution::render_text(&report));
    }
    Ok(match report.verdict {
        Verdict::Consistent => exit_codes::SUCCESS,
        Verdict::Mismatch => exit_codes::FAILURES,
        Verdict::Unpredictable => exit_codes::ERRORS,
    })
}
