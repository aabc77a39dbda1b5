//! `ufc-harness report`: the cross-SDK report (`ufc_harness::cross_sdk`),
//! written as one Markdown file and one HTML report page, atomically.

use std::path::{Path, PathBuf};

use anyhow::Context;
use ufc_harness::bench::BenchReport;
use ufc_harness::cross_sdk::{self, CrossSdkOptions};
use ufc_harness::report;

use super::parse_now;
use super::parties::PartyArgs;

#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  ufc-harness report --sdk python,node,rust            # writes reports/cross-sdk.{md,html}
  ufc-harness report --sdk node --suite shared=../shared/eppo-sdk-test-data --out /tmp/r
  ufc-harness report --sdk python,node --json reports/cross-sdk.json
  ufc-harness report --sdk python,node --badges reports/badges
  ufc-harness report --sdk python,node --no-scenarios               # suites only, no lifecycle section

  ufc-harness report --sdk python,node --bench reports/bench.json  # bench --format json, charted")]
pub(super) struct ReportArgs {
    #[command(flatten)]
    parties: PartyArgs,
    /// Suites as LABEL=DIR (repeatable); default: shared=../shared/eppo-sdk-test-data
    /// (when present) and builtin=the built-in suite.
    #[arg(long, value_name = "LABEL=DIR")]
    suite: Vec<String>,
    /// Folder to write cross-sdk.md and cross-sdk.html into.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    out: PathBuf,
    /// Fix the reference's clock (RFC 3339).
    #[arg(long, value_name = "RFC3339")]
    now: Option<String>,
    /// Also write the combined run as the JSON report (docs/report-schema.json) to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Also write one shields.io endpoint badge (JSON) per SDK, over every suite, into this folder.
    #[arg(long, value_name = "DIR")]
    badges: Option<PathBuf>,
    /// A benchmark report (`ufc-harness bench --format json`) to chart in the
    /// HTML page; default: bench.json in the --out folder, when present.
    #[arg(long, value_name = "FILE")]
    bench: Option<PathBuf>,
    /// Leave out the lifecycle section (the scenarios need adapters that
    /// declare "online"; without it they are shown as skipped).
    #[arg(long)]
    no_scenarios: bool,
    /// Folder of scenario files for the lifecycle section; default: the
    /// built-in test-cases/scenarios.
    #[arg(long, value_name = "DIR", conflicts_with = "no_scenarios")]
    scenarios: Option<PathBuf>,
}

pub(super) fn report_command(args: ReportArgs) -> anyhow::Result<i32> {
    let mut suites: Vec<(String, PathBuf)> = Vec::new();
    for item in &args.suite {
        let (label, dir) = item.split_once('=').with_context(|| format!("--suite {item:?}: expected LABEL=DIR"))?;
        suites.push((label.to_owned(), PathBuf::from(dir)));
    }
    if suites.is_empty() {
        suites = cross_sdk::default_suites();
    }
    let bench = read_bench(args.bench.as_deref(), &args.out.join("bench.json"))?;
    let options = CrossSdkOptions { suites, parties: args.parties.selection(), now: parse_now(args.now.as_deref())? };
    let mut finished = cross_sdk::cross_sdk(&options, &super::progress_line())?;
    if !args.no_scenarios {
        let dir = args.scenarios.clone().unwrap_or_else(ufc_harness::scenario::builtin_dir);
        finished = cross_sdk::with_scenarios(finished, &options, &dir)?;
    }
    let markdown_path = args.out.join("cross-sdk.md");
    let html_path = args.out.join("cross-sdk.html");
    report::write_atomically(&markdown_path, report::cross_sdk::markdown(&finished).as_bytes())
        .with_context(|| format!("writing {}", markdown_path.display()))?;
    report::write_atomically(&html_path, report::cross_sdk::html(&finished, bench.as_ref()).as_bytes())
        .with_context(|| format!("writing {}", html_path.display()))?;
    if let Some(path) = &args.json {
        report::write_atomically(path, report::json::render(&finished.combined).as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(dir) = &args.badges {
        report::badges::write(&finished.combined, dir)
            .with_context(|| format!("writing badges into {}", dir.display()))?;
    }
    outln!("wrote {} and {}", markdown_path.display(), html_path.display());
    Ok(finished.combined.exit_code())
}

/// The benchmark report to chart: `given`, or `default` when it exists.
fn read_bench(given: Option<&Path>, default: &Path) -> anyhow::Result<Option<BenchReport>> {
    let path = match given {
        Some(path) => path,
        None if default.is_file() => default,
        None => return Ok(None),
    };
    let text = std::fs::read_to_string(path).with_context(|| format!("--bench: reading {}", path.display()))?;
    let bench = serde_json::from_str(&text).with_context(|| {
        format!("--bench: {} is not a benchmark report (`ufc-harness bench --format json`)", path.display())
    })?;
    Ok(Some(bench))
}
