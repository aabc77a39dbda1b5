//! `ufc-harness run`: a suite against the reference and any SDKs, compared,
//! known failures applied, and reported to every requested sink.

use std::path::PathBuf;

use clap::ValueEnum;
use ufc_harness::partial;
use ufc_harness::partition::Partition;
use ufc_harness::report;
use ufc_harness::run::{self, RunOptions, RunSettings};
use ufc_reference::precomputed::write::Form;

use super::gate::Finish;
use super::parse_now;
use super::parties::PartyArgs;

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(super) enum Format {
    /// Human-readable summary and diffs.
    Text,
    /// The versioned JSON report.
    Json,
    /// JUnit XML.
    Junit,
    /// Markdown.
    Markdown,
}

#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  ufc-harness run
  ufc-harness run --suite ../shared/eppo-sdk-test-data
  ufc-harness run --suite ../shared/eppo-sdk-test-data --obfuscated
  ufc-harness run --suite ../shared/eppo-sdk-test-data --precomputed --sdk js-client
  ufc-harness run --sdk python,node,rust --markdown summary.md --html matrix.html
  ufc-harness run --adapter mysdk='./my-adapter --offline' --filter 'test-case-regex-flag/*'
  ufc-harness run --sdk python,node --repeat 3   # each SDK in 3 fresh processes; differing answers are nondeterministic
  ufc-harness run --now 2030-01-01T00:00:00Z --format junit > junit.xml
  ufc-harness run --sdk node --baseline previous.json --fail-on-regression   # exit 1 only if worse than before
  ufc-harness run --sdk python@4.3.1,python@4.4.1 --compare                 # what changed between two releases
  ufc-harness run --sdk node --partition 2/3 --json part-2.json             # one of 3 jobs; then `ufc-harness merge`
  ufc-harness run --suite ../shared/eppo-sdk-test-data --sdk node --badges reports/badges")]
pub(super) struct RunArgs {
    /// Suite directory (Eppo layout or the project's); default: the built-in suite.
    #[arg(long, value_name = "DIR")]
    suite: Option<PathBuf>,
    #[command(flatten)]
    parties: PartyArgs,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Fix the evaluation clock of the reference (RFC 3339); default: now.
    #[arg(long, value_name = "RFC3339")]
    now: Option<String>,
    /// Run only cases whose id matches this glob.
    #[arg(long, value_name = "GLOB")]
    filter: Option<String>,
    /// Run the flag cases against each configuration's obfuscated (CLIENT)
    /// twin, flags-v1-obfuscated.json; parties need the "obfuscated" capability.
    #[arg(long)]
    obfuscated: bool,
    /// Put every case to each party's precomputed client: for each subject
    /// the reference writes the precomputed configuration (obfuscated as
    /// Eppo serves clients, or plain), and the party answers from it; values
    /// and events are judged against the reference's evaluation. Parties
    /// need the "precomputed-client" capability; case ids get a
    /// "precomputed:" prefix (--filter matches them without it).
    #[arg(long, value_enum, value_name = "FORM", num_args = 0..=1, default_missing_value = "obfuscated",
          conflicts_with = "obfuscated")]
    precomputed: Option<PrecomputedForm>,
    /// The salt of obfuscated precomputed configurations.
    #[arg(long, value_name = "TEXT", default_value = ufc_harness::precomputed_client::SALT, requires = "precomputed")]
    salt: String,
    #[command(flatten)]
    judging: super::gate::Judging,
    /// Ask every party each configuration's cases in N fresh processes (the
    /// reference too); a case answered differently is "nondeterministic"
    /// (exit code 4), neither passed nor failed. Not with --precomputed.
    #[arg(long, value_name = "N", default_value = "1", value_parser = clap::value_parser!(u32).range(1..),
          conflicts_with = "precomputed")]
    repeat: u32,
    #[command(flatten)]
    finish: Finish,
    /// Run only share K of N of the cases (by a stable hash of each case
    /// id), for one of N CI jobs; `ufc-harness merge` puts their JSON
    /// reports together. Not with --precomputed.
    #[arg(long, value_name = "K/N", conflicts_with = "precomputed")]
    partition: Option<Partition>,
}

/// How `--precomputed` writes each subject's configuration.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(super) enum PrecomputedForm {
    /// Keys md5(salt + flagKey), strings base64: what Eppo serves clients.
    Obfuscated,
    /// Keys and strings as they are.
    Plain,
}

pub(super) fn run_command(args: RunArgs) -> anyhow::Result<i32> {
    let precomputed = args.precomputed.map(|form| match form {
        PrecomputedForm::Obfuscated => Form::Obfuscated { salt: args.salt.clone() },
        PrecomputedForm::Plain => Form::Plain,
    });
    let options = RunOptions {
        suite: args.suite.clone().unwrap_or_else(ufc_harness::suite::builtin_root),
        filter: args.filter.clone(),
        obfuscated: args.obfuscated,
        precomputed,
        parties: args.parties.selection(),
        known_failures: args.judging.known_failures.clone(),
        strict: !args.judging.no_strict,
        now: parse_now(args.now.as_deref())?,
        settings: RunSettings { fail_on: args.judging.fail_on.clone(), repeat: args.repeat },
    };
    args.finish.check()?;
    let (result, partition) = match args.partition {
        Some(partition) => {
            let (result, case_ids) = run::run_suite_partition(&options, partition, &super::progress_line())?;
            (result, Some(partial::partition_report(partition, case_ids)))
        }
        None => (run::run_suite(&options, &super::progress_line())?, None),
    };
    let mut json = report::json::report(&result);
    json.partition = partition;
    args.finish.finish(&result, json, args.format)
}
