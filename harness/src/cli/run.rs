//! `ufc-harness run`: a suite against the reference and any SDKs, compared,
//! known failures applied, and reported to every requested sink.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::ValueEnum;
use ufc_harness::compare::Severity;
use ufc_harness::expectations::KnownFailures;
use ufc_harness::party::reference::ReferenceParty;
use ufc_harness::party::Party;
use ufc_harness::report;
use ufc_harness::run::{self, RunResult, RunSettings};
use ufc_harness::suite::Suite;
use ufc_protocol::exit_codes;

use super::parties::{self, PartyArgs};
use super::{color_enabled, parse_now};

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
  ufc-harness run --sdk python,node,rust --markdown summary.md --html matrix.html
  ufc-harness run --adapter mysdk='./my-adapter --offline' --filter 'test-case-regex-flag/*'
  ufc-harness run --now 2030-01-01T00:00:00Z --format junit > junit.xml")]
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
    /// Severities that fail a case (comma-separated).
    #[arg(long, value_parser = super::severity_parser(), value_delimiter = ',', default_value = "critical,major")]
    fail_on: Vec<Severity>,
    /// Folder of known-failure manifests (<sdk>.toml); default: harness/expectations.
    #[arg(long, value_name = "DIR")]
    known_failures: Option<PathBuf>,
    /// Do not fail the run when a listed known failure passes.
    #[arg(long)]
    no_strict: bool,
    /// Also write the JSON report to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Also write a JUnit XML report to this file.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Also write a Markdown report to this file.
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
    /// Also write the HTML cross-SDK matrix to this file.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Show minor differences of passing cases too.
    #[arg(long, short)]
    verbose: bool,
}

pub(super) fn run_command(args: RunArgs) -> anyhow::Result<i32> {
    let now = parse_now(args.now.as_deref())?;
    let root = args.suite.clone().unwrap_or_else(ufc_harness::suite::builtin_root);
    let settings = RunSettings { fail_on: args.fail_on.clone() };
    let selection = Selection { filter: args.filter.as_deref(), obfuscated: args.obfuscated };
    let result =
        run_suite(&root, selection, &args.parties, args.known_failures.as_deref(), !args.no_strict, now, &settings)?;
    write_reports(&result, &args)?;
    let stdout = match args.format {
        Format::Text => report::terminal::render(&result, report::terminal::Style::new(color_enabled()), args.verbose),
        Format::Json => report::json::render(&result),
        Format::Junit => report::junit::render(&result),
        Format::Markdown => report::markdown::render(&result),
    };
    out!("{stdout}");
    Ok(exit_code(&result))
}

/// Which cases of a suite run.
#[derive(Clone, Copy, Default)]
pub(super) struct Selection<'a> {
    /// Only case ids matching this glob.
    pub filter: Option<&'a str>,
    /// The flag cases, against the obfuscated twins of their configurations.
    pub obfuscated: bool,
}

/// Loads a suite, starts the parties, runs, and applies known failures.
pub(super) fn run_suite(
    root: &std::path::Path,
    selection: Selection<'_>,
    party_args: &PartyArgs,
    known_failures: Option<&std::path::Path>,
    strict: bool,
    now: ufc_reference::Timestamp,
    settings: &RunSettings,
) -> anyhow::Result<RunResult> {
    let mut suite = Suite::load(root)?;
    if selection.obfuscated {
        suite = suite.into_obfuscated()?;
    }
    if let Some(pattern) = selection.filter {
        let glob = globset::Glob::new(pattern).with_context(|| format!("--filter {pattern:?} is not a glob"))?;
        suite.retain_matching(&glob.compile_matcher());
        if suite.cases.is_empty() {
            bail!("--filter {pattern:?} matches no case in {}", root.display());
        }
    }
    let specs = parties::resolve(party_args)?;
    // Manifests are checked before anything runs: a broken one is a usage error.
    let mut manifests = Vec::new();
    for spec in &specs {
        let path = match known_failures {
            Some(dir) => Some(dir.join(format!("{}.toml", spec.name))).filter(|p| p.is_file()),
            None => spec.known_failures.clone(),
        };
        if let Some(path) = path {
            manifests.push((spec.name.clone(), KnownFailures::load(&path)?));
        }
    }
    let mut all: Vec<Box<dyn Party>> = vec![Box::new(ReferenceParty::new(now))];
    all.extend(parties::spawn(&specs, party_args));

    let show_progress = std::io::stderr().is_terminal();
    let progress = |party: &str, done: usize, total: usize| {
        if show_progress {
            eprint!("\r\x1b[2K{party}: {done}/{total} cases");
            if done == total {
                eprint!("\r\x1b[2K");
            }
        }
    };
    let mut result = run::run(&suite, all, settings, &progress);
    for (name, manifest) in &manifests {
        manifest.apply(&mut result, name, strict);
    }
    Ok(result)
}

fn write_reports(result: &RunResult, args: &RunArgs) -> anyhow::Result<()> {
    let write = |path: &Option<PathBuf>, text: String| -> anyhow::Result<()> {
        if let Some(path) = path {
            report::write_atomically(path, text.as_bytes()).with_context(|| format!("writing {}", path.display()))?;
        }
        Ok(())
    };
    write(&args.json, report::json::render(result))?;
    write(&args.junit, report::junit::render(result))?;
    write(&args.markdown, report::markdown::render(result))?;
    write(&args.html, report::html::render(result))?;
    Ok(())
}

/// See the exit-code table in the README and [`exit_codes`].
pub(super) fn exit_code(result: &RunResult) -> i32 {
    let s = result.summary();
    if s.errored > 0 || !result.load_errors.is_empty() {
        exit_codes::ERRORS
    } else if s.failed > 0 || s.unexpected_passes > 0 {
        exit_codes::FAILURES
    } else {
        exit_codes::SUCCESS
    }
}
