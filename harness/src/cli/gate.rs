//! What `run` and `merge` share as a release gate: the comparison with a
//! baseline (`--baseline`, `--compare`), the exit code it sets
//! (`--fail-on-regression`), badges, and writing every output format.

use std::path::PathBuf;

use anyhow::{bail, Context};
use ufc_harness::baseline::{self, Baseline, Comparison, Verdict};
use ufc_harness::report;
use ufc_harness::run::RunResult;
use ufc_protocol::report::RunReport;

use super::color_enabled;
use super::run::Format;

/// Options of the release gate.
#[derive(clap::Args, Clone, Default)]
pub(super) struct GateArgs {
    /// An earlier JSON run report (run --json, merge --json): every case is
    /// classified as a regression, fixed, new, removed or unchanged against
    /// it, and every output leads with the regressions.
    #[arg(long, value_name = "OLD.json", conflicts_with = "compare")]
    baseline: Option<PathBuf>,
    /// Compare each SDK with the one before it in the list (--sdk
    /// python@4.3.1,python@4.4.1 --compare: 4.3.1 is the baseline of 4.4.1).
    #[arg(long)]
    compare: bool,
    /// Exit 1 only when a case got worse than the baseline (--baseline or
    /// --compare), 0 otherwise, however many cases fail in both.
    #[arg(long)]
    fail_on_regression: bool,
    /// Write one shields.io endpoint badge (JSON) per SDK into this folder.
    #[arg(long, value_name = "DIR")]
    badges: Option<PathBuf>,
}

/// How `run` and `scenarios` judge what they see: the failing severities
/// and the known-failure manifests.
#[derive(clap::Args, Clone)]
pub(super) struct Judging {
    /// Severities that fail a case, or a scenario's step (comma-separated).
    #[arg(long, value_parser = super::severity_parser(), value_delimiter = ',', default_value = "critical,major")]
    pub fail_on: Vec<ufc_harness::compare::Severity>,
    /// Folder of known-failure manifests (<sdk>.toml); default: harness/expectations.
    #[arg(long, value_name = "DIR")]
    pub known_failures: Option<PathBuf>,
    /// Do not fail the run when a listed known failure passes.
    #[arg(long)]
    pub no_strict: bool,
}

/// What `run`, `scenarios` and `merge` share after their run: the files
/// to write, how much to show, and the gate's options.
#[derive(clap::Args, Clone, Default)]
pub(super) struct Finish {
    #[command(flatten)]
    outputs: Outputs,
    /// Show minor differences of passing cases too.
    #[arg(long, short)]
    verbose: bool,
    #[command(flatten)]
    gate: GateArgs,
}

impl Finish {
    /// [`GateArgs::check`].
    pub fn check(&self) -> anyhow::Result<()> {
        self.gate.check()
    }

    /// [`GateArgs::finish`] with these outputs.
    pub fn finish(&self, result: &RunResult, json: RunReport, format: Format) -> anyhow::Result<i32> {
        self.gate.finish(result, json, &self.outputs, format, self.verbose)
    }
}

/// Where the other output formats go, besides stdout.
#[derive(clap::Args, Clone, Default)]
pub(super) struct Outputs {
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
}

impl GateArgs {
    /// Refuses options that make no sense together, before anything runs.
    pub fn check(&self) -> anyhow::Result<()> {
        if self.fail_on_regression && self.baseline.is_none() && !self.compare {
            bail!("--fail-on-regression needs a baseline: --baseline OLD.json or --compare");
        }
        Ok(())
    }

    /// The comparison the options ask for, if any.
    fn comparison(&self, result: &RunResult) -> anyhow::Result<Option<Comparison>> {
        let verdicts: Vec<Verdict> = result
            .outcomes
            .iter()
            .map(|o| Verdict { party: o.party.clone(), case_id: o.case_id.clone(), status: o.status })
            .collect();
        if let Some(path) = &self.baseline {
            return Ok(Some(baseline::against(&Baseline::read(path)?, &verdicts)));
        }
        if self.compare {
            let sdks: Vec<String> =
                result.parties.iter().filter(|p| p.name != "reference").map(|p| p.name.clone()).collect();
            if sdks.len() < 2 {
                bail!("--compare needs at least two SDKs (e.g. --sdk python@4.3.1,python@4.4.1), got {}", sdks.len());
            }
            return Ok(Some(baseline::between_parties(&verdicts, &sdks)));
        }
        Ok(None)
    }

    /// Compares, writes every requested output and prints `format` on
    /// stdout; returns the exit code. `json` is the run's report, which a
    /// share's report extends with its partition.
    pub fn finish(
        &self,
        result: &RunResult,
        mut json: RunReport,
        outputs: &Outputs,
        format: Format,
        verbose: bool,
    ) -> anyhow::Result<i32> {
        let comparison = self.comparison(result)?;
        let comparison = comparison.as_ref();
        if let Some(comparison) = comparison {
            report::json::add_comparison(&mut json, comparison);
        }
        let write = |path: &Option<PathBuf>, text: String| -> anyhow::Result<()> {
            if let Some(path) = path {
                report::write_atomically(path, text.as_bytes())
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            Ok(())
        };
        write(&outputs.json, report::json::to_text(&json))?;
        write(&outputs.junit, report::junit::render_compared(result, comparison))?;
        write(&outputs.markdown, report::markdown::render_compared(result, comparison))?;
        write(&outputs.html, report::html::render_compared(result, comparison))?;
        if let Some(dir) = &self.badges {
            report::badges::write(result, dir).with_context(|| format!("writing badges into {}", dir.display()))?;
        }
        let stdout = match format {
            Format::Text => {
                let style = report::terminal::Style::new(color_enabled());
                let mut text = String::new();
                if let Some(comparison) = comparison {
                    text.push_str(&report::comparison::terminal(comparison, result, style));
                }
                text.push_str(&report::terminal::render(result, style, verbose));
                if let Some(comparison) = comparison {
                    text.push_str(&report::comparison::terminal_verdict(comparison, style));
                }
                text
            }
            Format::Json => report::json::to_text(&json),
            Format::Junit => report::junit::render_compared(result, comparison),
            Format::Markdown => report::markdown::render_compared(result, comparison),
        };
        out!("{stdout}");
        Ok(match comparison {
            Some(comparison) if self.fail_on_regression => comparison.exit_code(!result.load_errors.is_empty()),
            _ => result.exit_code(),
        })
    }
}
