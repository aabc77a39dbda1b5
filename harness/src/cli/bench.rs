//! `ufc-harness bench`: arguments into [`BenchOptions`], the benchmark run
//! by [`ufc_harness::bench`], the report rendered by
//! [`ufc_harness::report::bench`] to stdout and `reports/bench.md`.

use std::path::PathBuf;

use anyhow::Context;
use ufc_harness::bench::{BenchOptions, BenchPlan, BenchProgress};
use ufc_harness::report;
use ufc_protocol::exit_codes;

use super::parties::{self, PartyArgs};

#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  ufc-harness bench --sdk python,node,rust
  ufc-harness bench --sdk rust --flag kill-switch --n 200000
  ufc-harness bench --suite . --flag op-regex --bandit-flag bf-ties
  ufc-harness bench --sdk node --format json --out -")]
pub(super) struct BenchArgs {
    #[command(flatten)]
    parties: PartyArgs,
    /// Suite whose configuration and subjects are used; default: the shared
    /// Eppo data when present, else the built-in suite.
    #[arg(long, value_name = "DIR")]
    suite: Option<PathBuf>,
    /// The flag for the assign and details loops.
    #[arg(long, default_value = "new-user-onboarding")]
    flag: String,
    /// The flag for the bandit loop.
    #[arg(long, default_value = "banner_bandit_flag")]
    bandit_flag: String,
    /// Evaluations per loop (a tenth as many run first, untimed, to warm up).
    #[arg(long, default_value = "100000")]
    n: u64,
    /// Where to write the Markdown table; "-" for nowhere.
    #[arg(long, value_name = "FILE", default_value = "reports/bench.md")]
    out: String,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(Clone, Copy, clap::ValueEnum, PartialEq, Eq)]
enum Format {
    /// The Markdown table.
    Text,
    /// The whole report, as JSON (`docs/report-schemas/bench.schema.json`).
    Json,
}

pub(super) fn bench_command(args: BenchArgs) -> anyhow::Result<i32> {
    let options = BenchOptions {
        suite: args.suite.clone().unwrap_or_else(ufc_harness::bench::default_suite),
        flag: args.flag.clone(),
        bandit_flag: args.bandit_flag.clone(),
        iterations: args.n,
    };
    let plan = BenchPlan::new(&options)?;
    let sdks = parties::spawn(&parties::resolve(&args.parties)?, &args.parties);
    let bench = plan.run(sdks, &|event| match event {
        BenchProgress::ModeSkipped(skipped) => {
            eprintln!("note: {}; the {} loop is skipped", skipped.reason, skipped.mode)
        }
        BenchProgress::Measuring { party, mode } => eprintln!("bench: {party} {mode} ..."),
    });
    match args.format {
        Format::Text => out!("{}", report::bench::table(&bench)),
        Format::Json => out!("{}", report::bench::json(&bench)),
    }
    if args.out != "-" {
        let command = format!("ufc-harness bench --sdk {} --n {}", args.parties.sdk.join(","), args.n);
        let path = PathBuf::from(&args.out);
        report::write_atomically(&path, report::bench::document(&bench, &command).as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(exit_codes::SUCCESS)
}
