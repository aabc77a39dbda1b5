//! The `ufc-harness` command line: arguments are parsed and validated here,
//! then handed to library code. One submodule per command.

/// `print!` that survives a closed stdout: `ufc-harness run | head` must
/// not panic, and the command's exit code must not change.
macro_rules! out {
    ($($arg:tt)*) => { $crate::cli::write_stdout(&format!($($arg)*)) };
}

/// `println!`, likewise.
macro_rules! outln {
    ($($arg:tt)*) => { $crate::cli::write_stdout(&format!("{}\n", format_args!($($arg)*))) };
}

mod adapters;
mod audit;
mod bench;
mod distribution;
mod eval;
mod fuzz;
mod gate;
mod history;
mod merge;
mod parties;
mod precompute;
mod report;
mod run;
mod scenarios;

use std::io::{IsTerminal, Write};

use std::path::PathBuf;
use ufc_protocol::report::Severity;

use anyhow::Context;
use clap::{Parser, Subcommand};
use ufc_protocol::exit_codes;

#[derive(Parser)]
#[command(name = "ufc-harness", version, about = "Conformance harness and reference evaluator for Eppo UFC SDKs", after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

const EXAMPLES: &str = "\
Examples:
  ufc-harness run                                    # built-in suite against the reference
  ufc-harness run --suite ../shared/eppo-sdk-test-data --format json
  ufc-harness run --sdk python,node,rust --html reports/matrix.html
  ufc-harness adapters install
  ufc-harness eval --config ufc-fixtures/operators/flags-v1.json --flag op-regex \\
      --subject alice --attributes '{\"email\": \"alice@example.com\"}'

Exit codes: 0 all passed, 1 failures, 2 usage or input error, 3 errored cases,
4 nondeterministic answers (--repeat). With --fail-on-regression (and --baseline
or --compare): 1 means a case got worse than the baseline, 0 that none did.";

#[derive(Subcommand)]
enum Command {
    /// Run a suite against the reference and SDKs, compare and report.
    Run(run::RunArgs),
    /// Evaluate one flag (or bandit) for one subject and explain the result.
    Eval(EvalArgs),
    /// Install or list the bundled SDK adapters.
    Adapters(adapters::AdaptersArgs),
    /// Evaluation throughput of the reference and each SDK, in-process, in one run.
    Bench(bench::BenchArgs),
    /// Sample-ratio-mismatch check: a flag's observed split over synthetic subjects against its ranges.
    Distribution(distribution::DistributionArgs),
    /// Differential fuzzing: generated flags and subjects, every party asked, disagreements minimized.
    Fuzz(fuzz::FuzzArgs),
    /// Write the cross-SDK report (Markdown and HTML) over the shared and built-in suites.
    Report(report::ReportArgs),
    /// Check what SDKs precompute for each subject (spec section 7) against the reference.
    Precompute(precompute::PrecomputeArgs),
    /// Run a suite across every published version of an SDK: which release introduced or fixed each divergence.
    History(history::HistoryArgs),
    /// Merge the JSON reports of a run's shares (run --partition K/N) into the whole run's report.
    Merge(merge::MergeArgs),
    /// SDK lifecycle and logging scenarios against a mock Eppo CDN (test-cases/scenarios).
    Scenarios(scenarios::ScenariosArgs),
    /// Audit assignment logs (JSON lines, CSV, Parquet) against the reference: misassignments, exposures, SRM.
    Audit(audit::AuditArgs),
    /// Merge partial audit reports (`audit --partition K/N --format json`) into one.
    AuditMerge(audit::AuditMergeArgs),
}

#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  ufc-harness eval --config flags-v1.json --flag new-user-onboarding --subject alice \\
      --attributes '{\"country\": \"US\"}' --type STRING --default control
  ufc-harness eval --config bandit-flags-v1.json --bandit-models bandit-models-v1.json \\
      --flag banner_bandit_flag --subject alice --attributes '{\"age\": 25, \"country\": \"USA\"}' \\
      --actions '[{\"actionKey\": \"nike\", \"numericAttributes\": {}, \"categoricalAttributes\": {}}]'
  ufc-harness eval --config configuration-wire/precomputed-v1.json --flag string-flag --subject test-subject-key
  ufc-harness eval --config flags-v1.json --flag new-user-onboarding --subject alice \\
      --attributes '{\"country\": \"UK\"}' --explain --format json

--config also takes a configuration-wire envelope (spec section 7), an obfuscated (CLIENT) configuration
(spec section 6), or a precomputed configuration, whose assignments are looked up for its own subject.")]
struct EvalArgs {
    /// The flag configuration (flags-v1.json).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// The flag key.
    #[arg(long)]
    flag: String,
    /// The subject key.
    #[arg(long)]
    subject: String,
    /// Subject attributes as a JSON object.
    #[arg(long, value_name = "JSON", default_value = "{}")]
    attributes: String,
    /// The type to ask for; default: the flag's own type.
    #[arg(long, value_name = "TYPE")]
    r#type: Option<String>,
    /// The default value, as JSON (a bare word is taken as a string).
    #[arg(long, value_name = "VALUE", default_value = "null")]
    default: String,
    /// The evaluation clock (RFC 3339); default: now.
    #[arg(long, value_name = "RFC3339")]
    now: Option<String>,
    /// Bandit form: the candidate actions as a JSON array of
    /// `{actionKey, numericAttributes, categoricalAttributes}`. The
    /// attributes may then be `{numericAttributes, categoricalAttributes}`,
    /// or flat (numbers numeric, the rest categorical).
    #[arg(long, value_name = "JSON")]
    actions: Option<String>,
    /// Bandit form: the bandit models (bandit-models-v1.json).
    #[arg(long, value_name = "FILE", requires = "actions")]
    bandit_models: Option<PathBuf>,
    /// Explain every step: allocations and date windows, each condition
    /// with the value it read, each shard with its salt and computed value,
    /// the result and the logged event (bandits: scores, weights, selection).
    #[arg(long)]
    explain: bool,
    /// `--explain` output: text (the default on a terminal) or json (the
    /// default otherwise; docs/report-schemas/explain.schema.json).
    #[arg(long, value_name = "FORMAT", requires = "explain", value_parser = ["text", "json"])]
    format: Option<String>,
}

/// Runs the command line; returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return if err.use_stderr() { exit_codes::USAGE } else { exit_codes::SUCCESS };
        }
    };
    let result = match cli.command {
        Command::Run(args) => run::run_command(args),
        Command::Eval(args) => eval::eval_command(args),
        Command::Adapters(args) => adapters::adapters_command(args),
        Command::Report(args) => report::report_command(args),
        Command::Fuzz(args) => fuzz::fuzz_command(args),
        Command::Bench(args) => bench::bench_command(args),
        Command::Distribution(args) => distribution::distribution_command(args),
        Command::Precompute(args) => precompute::precompute_command(args),
        Command::History(args) => history::history_command(args),
        Command::Merge(args) => merge::merge_command(args),
        Command::Scenarios(args) => scenarios::scenarios_command(args),
        Command::Audit(args) => audit::audit_command(args),
        Command::AuditMerge(args) => audit::audit_merge_command(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            exit_codes::USAGE
        }
    }
}

fn parse_now(now: Option<&str>) -> anyhow::Result<ufc_reference::Timestamp> {
    match now {
        None => Ok(chrono::Utc::now()),
        Some(text) => chrono::DateTime::parse_from_rfc3339(text)
            .map(|t| t.to_utc())
            .with_context(|| format!("--now {text:?} is not an RFC 3339 date-time")),
    }
}

/// Colour on stdout: only for a terminal, and never when `NO_COLOR` is set.
fn color_enabled() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}

/// Writes to stdout. Errors are dropped: once the reader has gone (a closed
/// pipe) there is nobody to tell, and the run's verdict is in its exit code.
fn write_stdout(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush());
}

/// `--fail-on` values: the severities, by name.
fn severity_parser() -> impl clap::builder::TypedValueParser<Value = Severity> {
    clap::builder::TypedValueParser::map(
        clap::builder::PossibleValuesParser::new(["critical", "major", "minor"]),
        |name| match name.as_str() {
            "critical" => Severity::Critical,
            "major" => Severity::Major,
            // The parser admits only the three names.
            _ => Severity::Minor,
        },
    )
}

/// A progress line on stderr, shown only when stderr is a terminal.
fn progress_line() -> impl Fn(&str, usize, usize) + Sync {
    let show = std::io::stderr().is_terminal();
    move |party: &str, done: usize, total: usize| {
        if show {
            eprint!("\r\x1b[2K{party}: {done}/{total} cases");
            if done == total {
                eprint!("\r\x1b[2K");
            }
        }
    }
}
