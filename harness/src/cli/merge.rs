//! `ufc-harness merge`: the JSON reports of a run's shares (`run
//! --partition K/N`, one per CI job) put back together into the whole
//! run's report ([`ufc_harness::partial::merge`]), then written and judged
//! as `run` would have: every output format, a baseline, badges, and the
//! same exit code.

use std::path::PathBuf;

use ufc_harness::partial;
use ufc_harness::report;

use super::gate::Finish;
use super::run::Format;

#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  ufc-harness run --sdk node --partition 1/3 --json part-1.json   # in job 1 (and 2/3, 3/3 in jobs 2 and 3)
  ufc-harness merge part-*.json --json full.json --junit junit.xml --markdown summary.md
  ufc-harness merge part-*.json --baseline previous.json --fail-on-regression

Exit codes: as run's, for the merged run; 2 when the reports are not the shares of one run
(a share missing or given twice, another suite, other SDKs).")]
pub(super) struct MergeArgs {
    /// The shares' JSON reports (run --partition K/N --json FILE), in any order.
    #[arg(value_name = "REPORT.json", required = true)]
    reports: Vec<PathBuf>,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    #[command(flatten)]
    finish: Finish,
}

pub(super) fn merge_command(args: MergeArgs) -> anyhow::Result<i32> {
    args.finish.check()?;
    let mut shares = Vec::with_capacity(args.reports.len());
    for path in &args.reports {
        shares.push((path.clone(), partial::read_report(path)?));
    }
    let merged = partial::merge(shares)?;
    let result = report::from_json::run_result(&merged);
    args.finish.finish(&result, merged, args.format)
}
