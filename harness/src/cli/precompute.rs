//! `ufc-harness precompute`: each SDK precomputes every flag for each
//! subject of a suite, and the result is checked against the reference
//! ([`ufc_harness::precompute`]); the report is rendered by
//! [`ufc_harness::report::precompute`].

use anyhow::bail;
use ufc_harness::report;
use ufc_harness::suite::Suite;

use super::parse_now;
use super::parties::{self, PartyArgs};

#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  ufc-harness precompute --sdk node,rust
  ufc-harness precompute --sdk node --suite ../shared/eppo-sdk-test-data --format json

SDKs take part when their adapter declares the \"precompute\" capability (Node and Rust today).
This checks what SDKs write; what client SDKs read is checked by `ufc-harness run --precomputed`.
Exit codes: 0 every precomputed assignment agrees, 1 differences, 2 usage error,
3 a party could not precompute some subjects.")]
pub(super) struct PrecomputeArgs {
    #[command(flatten)]
    parties: PartyArgs,
    /// Suite directory; default: the built-in suite.
    #[arg(long, value_name = "DIR")]
    suite: Option<std::path::PathBuf>,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Fix the reference's clock (RFC 3339); default: now.
    #[arg(long, value_name = "RFC3339")]
    now: Option<String>,
}

#[derive(Clone, Copy, clap::ValueEnum, PartialEq, Eq)]
enum Format {
    /// Counts and differences grouped by field.
    Text,
    /// Every difference, as JSON (`docs/report-schemas/precompute.schema.json`).
    Json,
}

pub(super) fn precompute_command(args: PrecomputeArgs) -> anyhow::Result<i32> {
    let now = parse_now(args.now.as_deref())?;
    let root = args.suite.clone().unwrap_or_else(ufc_harness::suite::builtin_root);
    let suite = Suite::load(&root)?;
    let specs = parties::resolve(&args.parties)?;
    if specs.is_empty() {
        bail!("precompute needs at least one SDK: --sdk node or --adapter NAME=COMMAND");
    }
    let checked = ufc_harness::precompute::run(&suite, parties::spawn(&specs, &args.parties), now);
    match args.format {
        Format::Text => out!("{}", report::precompute::text(&checked.parties)),
        Format::Json => out!("{}", report::precompute::json(&checked)),
    }
    Ok(checked.exit_code())
}
