//! `ufc-harness fuzz`: differential fuzzing of the reference against SDKs,
//! with findings minimized, classified and written out as suites. The
//! arguments become one [`FuzzOptions`]; the run is one [`fuzz::fuzz`]
//! call; what it prints is rendered by [`ufc_harness::report::fuzz`].

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;
use ufc_protocol::report::Severity;

use anyhow::{bail, Context};
use ufc_harness::fuzz::{self, Budget, FuzzOptions, FuzzProgress};
use ufc_harness::partition::Partition;
use ufc_harness::party::reference::ReferenceParty;
use ufc_harness::party::Party;
use ufc_harness::report::fuzz as render;

use super::parse_now;
use super::parties::{self, PartyArgs};

#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  ufc-harness fuzz --sdk python,node --duration 60s --seed 1
  ufc-harness fuzz --sdk node --cases 20000 --out target/findings
  ufc-harness fuzz --sdk node --obfuscated --duration 30s   # the JS core's CLIENT-format path
  ufc-harness fuzz --sdk python,node --repeat 3 --cases 2000  # each batch in 3 fresh processes per SDK
  ufc-harness fuzz --sdk python,node,rust --duration 120s --least-severity minor  # wording and extra event fields too
  ufc-harness fuzz --sdk node --cases 5000 --partition 2/4   # job 2 of 4 on one seed: its own batches
  ufc-harness run --suite target/findings/<finding> --sdk python,node   # replay one finding

Exit codes: 0 no disagreement, 1 findings written, 2 usage error, 3 a party failed,
4 a party answered differently in different processes (--repeat).")]
pub(super) struct FuzzArgs {
    #[command(flatten)]
    parties: PartyArgs,
    /// Seed; the same seed and budget generate the same cases.
    #[arg(long, default_value = "1")]
    seed: u64,
    /// Stop after this many generated cases.
    #[arg(long, value_name = "N", conflicts_with = "duration")]
    cases: Option<u64>,
    /// Stop after this long (e.g. 60s, 5m).
    #[arg(long, value_name = "TIME")]
    duration: Option<String>,
    /// Cases per batch: one configuration, one configure per party, its
    /// cases sent in requests of at most 128, all in flight at once.
    #[arg(long, default_value = "1024")]
    batch_size: usize,
    /// Do not generate bandit batches.
    #[arg(long)]
    no_bandits: bool,
    /// Also generate malformed configurations.
    #[arg(long)]
    malformed: bool,
    /// Give every configuration in the obfuscated (CLIENT) format; SDKs
    /// without the "obfuscated" capability sit out, bandits are off.
    #[arg(long)]
    obfuscated: bool,
    /// Put each batch to every party in N fresh processes; a party whose
    /// answers differ between them is a "nondeterministic" finding.
    #[arg(long, value_name = "N", default_value = "1", value_parser = clap::value_parser!(u32).range(1..))]
    repeat: u32,
    /// The least severe difference that counts, as `run --fail-on` counts
    /// them: minor adds the details' wording and event fields only one
    /// side logs (replay those with `run --fail-on critical,major,minor`).
    #[arg(long, value_name = "SEVERITY", value_parser = super::severity_parser(), default_value = "major")]
    least_severity: Severity,
    /// Generate only share K of N of the seed's batches (K-1, K-1+N, ...),
    /// for one of N CI jobs fuzzing the same seed: the jobs' cases are
    /// disjoint, and each spends the whole budget.
    #[arg(long, value_name = "K/N")]
    partition: Option<Partition>,
    /// Where to write finding suites, summary.md, summary.html and summary.json.
    #[arg(long, value_name = "DIR", default_value = "target/fuzz-findings")]
    out: PathBuf,
}

fn parse_duration(text: &str) -> anyhow::Result<Duration> {
    let (number, unit) =
        text.trim().split_at(text.trim().find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(text.trim().len()));
    let value: f64 =
        number.parse().with_context(|| format!("--duration {text:?}: expected a number and a unit, e.g. 60s"))?;
    let seconds = match unit {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        other => bail!("--duration {text:?}: unknown unit {other:?} (use ms, s, m or h)"),
    };
    Ok(Duration::from_secs_f64(seconds))
}

impl FuzzArgs {
    /// The fuzzing settings the arguments ask for.
    fn options(&self) -> anyhow::Result<FuzzOptions> {
        let budget = match (self.cases, &self.duration) {
            (Some(n), _) => Budget::Cases(n),
            (None, Some(d)) => Budget::Duration(parse_duration(d)?),
            (None, None) => Budget::Cases(10_000),
        };
        Ok(FuzzOptions {
            seed: self.seed,
            budget,
            batch_size: self.batch_size.max(1),
            bandits: !self.no_bandits,
            malformed: self.malformed,
            obfuscated: self.obfuscated,
            repeat: self.repeat,
            least_severity: self.least_severity,
            partition: self.partition,
            ..FuzzOptions::default()
        })
    }
}

pub(super) fn fuzz_command(args: FuzzArgs) -> anyhow::Result<i32> {
    let options = args.options()?;
    let specs = parties::resolve(&args.parties)?;
    if specs.is_empty() {
        bail!("fuzzing needs at least one SDK: --sdk python,node or --adapter NAME=COMMAND");
    }
    let mut all: Vec<Box<dyn Party>> = vec![Box::new(ReferenceParty::new(parse_now(None)?))];
    all.extend(parties::spawn(&specs, &args.parties));

    let show_progress = std::io::stderr().is_terminal();
    let progress = |p: &FuzzProgress| {
        if show_progress {
            eprint!("{}", render::progress_line(p));
        }
    };
    let report = fuzz::fuzz(&mut all, &options, &progress);
    if show_progress {
        eprint!("{}", render::PROGRESS_CLEAR);
    }
    fuzz::write_findings(&report, &args.out).with_context(|| format!("writing findings to {}", args.out.display()))?;
    out!("{}", render::terminal(&report, &args.out));
    Ok(report.exit_code())
}
