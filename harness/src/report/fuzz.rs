//! What a finished fuzz run ([`FuzzReport`]) looks like to people and to
//! machines: `summary.md`, `summary.json` ([`FuzzSummary`], format version
//! [`FUZZ_SUMMARY_VERSION`], described by
//! `docs/report-schemas/fuzz-summary.schema.json`), the lines the command
//! prints when it is done, and its progress line.
//!
//! Nothing here runs or writes anything: [`crate::fuzz::write_findings`]
//! puts the two summaries next to the finding suites.

use std::path::Path;

use serde::{Deserialize, Serialize};
use ufc_protocol::report::{Severity, Tool};
use ufc_protocol::SdkInfo;

use crate::fuzz::{Budget, Field, Finding, FuzzProgress, FuzzReport};

/// The file name of the summary for people.
pub const SUMMARY_MARKDOWN: &str = "summary.md";

/// The file name of the summary as a page ([`super::page::fuzz`]).
pub const SUMMARY_HTML: &str = "summary.html";

/// The file name of the summary for machines.
pub const SUMMARY_JSON: &str = "summary.json";

/// The format version of `summary.json`. A field that changes meaning or
/// shape bumps it; the change is recorded in the schema's description.
/// 2: findings are deviations from the reference, with every details and
/// event field; unminimized counts by reason; coverage; `repeat` and
/// `nondeterministic` (`fuzz --repeat`).
pub const FUZZ_SUMMARY_VERSION: u32 = 2;

/// `summary.json`: the run, what each party answered, and every finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FuzzSummary {
    /// [`FUZZ_SUMMARY_VERSION`].
    pub report_version: u32,
    /// The tool that wrote it.
    pub tool: Tool,
    /// The seed of every batch.
    pub seed: u64,
    /// When the run was to stop.
    pub budget: SummaryBudget,
    /// Cases per batch.
    pub batch_size: usize,
    /// Whether bandit batches were mixed in.
    pub bandits: bool,
    /// Whether batches with damaged flags were mixed in.
    pub malformed: bool,
    /// Whether configurations were given in the CLIENT format.
    pub obfuscated: bool,
    /// Fresh processes each batch was put to, per party (1 without `--repeat`).
    pub repeat: u32,
    /// The share of the campaign's batches this run generated (`--partition K/N`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
    /// Wall time of the run, minimization included.
    pub duration_seconds: f64,
    /// Batches generated.
    pub batches: u64,
    /// Cases generated.
    pub cases: u64,
    /// Disagreeing cases seen.
    pub disagreements: u64,
    /// Deviations seen (a disagreeing case has one or more).
    pub deviations: u64,
    /// Deviations put down to a finding already made.
    pub explained: u64,
    /// Deviations that repeated a case already queued or minimized.
    pub repeated: u64,
    /// Deviations minimized.
    pub minimized: u64,
    /// Deviations never minimized, by reason.
    pub unminimized: SummaryUnminimized,
    /// Round trips spent minimizing.
    pub minimize_steps: u64,
    /// Seconds spent minimizing.
    pub minimize_seconds: f64,
    /// How often each feature occurred, among generated and disagreeing cases.
    pub coverage: Vec<SummaryCoverage>,
    /// Batches skipped because the reference could not load them.
    pub skipped_batches: u64,
    /// Each party, the reference first.
    pub parties: Vec<SummaryParty>,
    /// Distinct findings, in report order (by signature text).
    pub findings: Vec<SummaryFinding>,
    /// Batches a party sat out (the first 100).
    pub party_failures: Vec<SummaryPartyFailure>,
    /// Parties that answered a case differently in different processes.
    pub nondeterministic: Vec<SummaryNondeterminism>,
}

/// A party whose answers differed between processes (`fuzz --repeat`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SummaryNondeterminism {
    /// The party.
    pub party: String,
    /// The first batch it was seen in.
    pub batch: u64,
    /// The ids of that batch's cases it answered differently.
    pub case_ids: Vec<String>,
    /// Cases it answered differently over the run.
    pub occurrences: u64,
    /// Its file, relative to the summary: the batch's configuration and
    /// each case's answers, per process.
    pub file: String,
    /// The command that regenerates the batch (add `--sdk`).
    pub reproduce: String,
}

/// Deviations never minimized, by reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SummaryUnminimized {
    /// Still queued when a duration budget ran out.
    pub run_ended: u64,
    /// Seen while the queue of cases to minimize was full.
    pub queue_full: u64,
}

/// One feature's counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SummaryCoverage {
    /// The feature's name.
    pub feature: String,
    /// Generated cases that have it.
    pub cases: u64,
    /// Disagreeing cases that have it.
    pub disagreeing: u64,
}

/// A run's budget.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SummaryBudget {
    /// Stop once this many cases were generated.
    Cases(u64),
    /// Stop generating batches after this many seconds.
    DurationSeconds(f64),
}

/// One party of a run, on the generated batches (minimization excluded).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SummaryParty {
    /// Its name in the run (`reference`, `python`, ...).
    pub name: String,
    /// The SDK behind it.
    pub sdk: SdkInfo,
    /// Cases it answered.
    pub cases_answered: u64,
    /// Seconds inside its `configure` and `evaluate` calls.
    pub busy_seconds: f64,
    /// Cases answered per busy second (0 when idle).
    pub cases_per_second: f64,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SummaryFinding {
    /// Its id: the signature's slug, also the name of its suite directory.
    pub id: String,
    /// The signature, as text.
    pub signature: String,
    /// The known cause it is filed under (`docs/divergences.md`), if any.
    pub cause: Option<String>,
    /// The most telling field on which the parties differ from the reference.
    pub field: Field,
    /// Every field on which they differ from it.
    pub fields: Vec<Field>,
    /// How much it matters: its most severe field.
    pub severity: Severity,
    /// The parties that differ from the reference this way.
    pub parties: Vec<String>,
    /// Every party on the minimized case, grouped by agreement; the
    /// reference's class first.
    pub classes: Vec<Vec<String>>,
    /// What the minimized case involves.
    pub features: Vec<String>,
    /// `flag` or `bandit`.
    pub kind: FindingKind,
    /// How many disagreeing cases were put down to it.
    pub occurrences: u64,
    /// The size of the minimized case.
    pub minimized: MinimizedSize,
    /// Round trips spent minimizing it.
    pub minimize_steps: usize,
    /// The batch it was first seen in.
    pub batch: u64,
    /// The id of the disagreeing case in that batch.
    pub case_id: String,
    /// Its suite directory, relative to the summary: `ufc-harness run
    /// --suite <dir>` replays it.
    pub suite: String,
    /// The command that regenerates the batch it came from (add `--sdk`).
    pub reproduce: String,
    /// Other signatures filed under the same cause.
    pub variants: Vec<String>,
    /// The side most independent cores take, where three or more answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub majority: Option<crate::cores::Majority>,
}

/// Whether a finding is about flag or bandit cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    /// Flag assignments.
    Flag,
    /// Bandit actions.
    Bandit,
}

/// How small a minimized case is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MinimizedSize {
    /// Cases in it.
    pub cases: usize,
    /// Flags in its configuration.
    pub flags: usize,
    /// Bytes of its configuration documents, as compact JSON.
    pub configuration_bytes: usize,
}

/// A batch a party sat out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SummaryPartyFailure {
    /// The party.
    pub party: String,
    /// The batch.
    pub batch: u64,
    /// What went wrong.
    pub message: String,
}

/// `summary.json` of `report`.
pub fn summary(report: &FuzzReport) -> FuzzSummary {
    let options = &report.options;
    FuzzSummary {
        report_version: FUZZ_SUMMARY_VERSION,
        tool: Tool { name: "ufc-harness".into(), version: env!("CARGO_PKG_VERSION").into() },
        seed: options.seed,
        budget: match options.budget {
            Budget::Cases(n) => SummaryBudget::Cases(n),
            Budget::Duration(d) => SummaryBudget::DurationSeconds(d.as_secs_f64()),
        },
        batch_size: options.batch_size,
        bandits: options.bandits,
        malformed: options.malformed,
        obfuscated: options.obfuscated,
        repeat: options.repeat,
        partition: options.partition.map(|p| p.to_string()),
        duration_seconds: report.elapsed.as_secs_f64(),
        batches: report.batches,
        cases: report.cases,
        disagreements: report.disagreements,
        deviations: report.deviations,
        explained: report.explained,
        repeated: report.repeated,
        minimized: report.minimized,
        unminimized: SummaryUnminimized {
            run_ended: report.unminimized.run_ended,
            queue_full: report.unminimized.queue_full,
        },
        minimize_steps: report.minimize_steps,
        minimize_seconds: report.minimize_time.as_secs_f64(),
        coverage: report
            .coverage
            .iter()
            .map(|(feature, count)| SummaryCoverage {
                feature: feature.name(),
                cases: count.cases,
                disagreeing: count.disagreeing,
            })
            .collect(),
        skipped_batches: report.skipped_batches,
        parties: report
            .throughput
            .iter()
            .zip(&report.parties)
            .map(|(stats, info)| SummaryParty {
                name: stats.party.clone(),
                sdk: info.sdk.clone(),
                cases_answered: stats.cases,
                busy_seconds: stats.busy.as_secs_f64(),
                cases_per_second: stats.cases_per_second(),
            })
            .collect(),
        findings: report.findings.iter().map(|finding| summary_finding(report, finding)).collect(),
        party_failures: report
            .party_failures
            .iter()
            .map(|f| SummaryPartyFailure { party: f.party.clone(), batch: f.batch, message: f.message.clone() })
            .collect(),
        nondeterministic: report
            .nondeterministic
            .iter()
            .map(|n| SummaryNondeterminism {
                party: n.party.clone(),
                batch: n.batch,
                case_ids: n.cases.iter().map(|c| c.case_id.clone()).collect(),
                occurrences: n.occurrences,
                file: n.file().display().to_string(),
                reproduce: n.reproduce_command(options),
            })
            .collect(),
    }
}

fn summary_finding(report: &FuzzReport, finding: &Finding) -> SummaryFinding {
    let signature = &finding.signature;
    let scenario = &finding.scenario;
    let bytes = |v: &serde_json::Value| serde_json::to_string(v).map_or(0, |s| s.len());
    SummaryFinding {
        id: signature.slug(),
        signature: signature.text(),
        cause: signature.cause().map(str::to_owned),
        field: signature.field,
        fields: finding.deviation.fields.clone(),
        severity: finding.deviation.severity(),
        parties: signature.parties.clone(),
        classes: finding.disagreement.classes.clone(),
        features: signature.features.iter().map(|f| f.name()).collect(),
        kind: if finding.is_bandit() { FindingKind::Bandit } else { FindingKind::Flag },
        occurrences: finding.occurrences,
        minimized: MinimizedSize {
            cases: scenario.cases.len(),
            flags: scenario.flag_count(),
            configuration_bytes: bytes(&scenario.flags) + scenario.bandit_models.as_ref().map_or(0, bytes),
        },
        minimize_steps: finding.minimize_steps,
        batch: finding.batch,
        case_id: finding.original_case_id.clone(),
        suite: signature.slug(),
        reproduce: finding.reproduce_command(&report.options),
        variants: finding.variants.clone(),
        majority: finding.majority.clone(),
    }
}

fn budget_text(budget: Budget) -> String {
    match budget {
        Budget::Cases(n) => format!("{n} cases"),
        Budget::Duration(d) => format!("{:.0?}", d),
    }
}

/// `summary.md`: the run, throughput per party, and a table of findings.
pub fn markdown(report: &FuzzReport) -> String {
    let mut md = String::from("# Differential fuzzing\n\n");
    md.push_str(&format!(
        "Seed {}, budget {}, batch size {}: {} batches, {} cases in {:.1} s. \
         {} disagreeing cases, {} distinct findings.\n\n",
        report.options.seed,
        budget_text(report.options.budget),
        report.options.batch_size,
        report.batches,
        report.cases,
        report.elapsed.as_secs_f64(),
        report.disagreements,
        report.findings.len(),
    ));
    md.push_str(&format!("{}\n\n", deviations_text(report)));
    md.push_str("## Throughput\n\n| party | SDK | cases | busy (s) | cases/s |\n|---|---|---:|---:|---:|\n");
    for (stats, info) in report.throughput.iter().zip(&report.parties) {
        md.push_str(&format!(
            "| {} | {} {} | {} | {:.2} | {:.0} |\n",
            stats.party,
            info.sdk.package.as_deref().unwrap_or(&info.sdk.name),
            info.sdk.version,
            stats.cases,
            stats.busy.as_secs_f64(),
            stats.cases_per_second()
        ));
    }
    // The run's own rate: every case over the wall time, minimizing included.
    md.push_str(&format!(
        "| whole run | – | {} | {:.2} (wall) | {:.0} |\n",
        report.cases,
        report.elapsed.as_secs_f64(),
        whole_run_rate(report)
    ));
    md.push_str("\n## Findings\n\n");
    if report.findings.is_empty() {
        md.push_str("None: every party agreed with the reference on every case.\n");
    } else {
        md.push_str("| # | cause | differs | parties | majority | features | seen | cases | suite |\n|---:|---|---|---|---|---|---:|---:|---|\n");
        for (i, f) in report.findings.iter().enumerate() {
            let fields: Vec<&str> = f.deviation.fields.iter().map(|x| x.as_str()).collect();
            let classes: Vec<String> = f.disagreement.classes.iter().map(|c| c.join(", ")).collect();
            md.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | [`{}`]({}/) |\n",
                i + 1,
                f.signature.cause().map_or_else(|| "unclassified".to_owned(), |c| format!("`{c}`")),
                fields.join(", "),
                classes.join(" / "),
                f.majority.as_ref().map_or_else(|| "–".to_owned(), |m| m.text()),
                f.signature.features.iter().map(|x| format!("`{x}`")).collect::<Vec<_>>().join(" "),
                f.occurrences,
                f.scenario.cases.len(),
                f.signature.slug(),
                f.signature.slug(),
            ));
        }
        md.push_str("\nEach directory is a suite: `ufc-harness run --suite <dir>` replays it; `finding.json` holds every party's answers and the command that regenerates the batch.\n");
    }
    md.push_str(&coverage_markdown(report));
    if !report.nondeterministic.is_empty() {
        md.push_str(&format!(
            "\n## Nondeterministic parties\n\nEach batch was put to every party in {} fresh processes; these answered a case differently from one process to another (not counted as disagreements).\n\n| party | first batch | cases there | cases in all | answers |\n|---|---:|---:|---:|---|\n",
            report.options.repeat
        ));
        for n in &report.nondeterministic {
            let file = n.file().display().to_string();
            md.push_str(&format!(
                "| {} | {} | {} | {} | [`{file}`]({file}) |\n",
                n.party,
                n.batch,
                n.cases.len(),
                n.occurrences
            ));
        }
    }
    if !report.party_failures.is_empty() {
        md.push_str("\n## Batches a party sat out\n\n| party | batch | why |\n|---|---:|---|\n");
        for failure in &report.party_failures {
            md.push_str(&format!(
                "| {} | {} | {} |\n",
                failure.party,
                failure.batch,
                failure.message.replace('|', "\\|")
            ));
        }
    }
    md
}

/// Where the deviations went: explained, repeated, minimized, or not, and why.
fn deviations_text(report: &FuzzReport) -> String {
    let left = report.unminimized;
    format!(
        "{} deviations from the reference: {} explained by a finding, {} repeats of a case already queued, \
         {} minimized ({} round trips, {:.1} s); {} left unminimized ({} still queued when the time ran out, \
         {} seen while the queue was full).",
        report.deviations,
        report.explained,
        report.repeated,
        report.minimized,
        report.minimize_steps,
        report.minimize_time.as_secs_f64(),
        left.total(),
        left.run_ended,
        left.queue_full,
    )
}

/// The coverage table: each feature, how often it was generated and how
/// often it took part in a disagreement; features never generated are
/// listed, so that a blind spot shows.
fn coverage_markdown(report: &FuzzReport) -> String {
    let mut md = String::from("\n## Coverage\n\n| feature | cases | disagreeing | share |\n|---|---:|---:|---:|\n");
    for (feature, count) in &report.coverage {
        let share = if count.cases > 0 { 100.0 * count.disagreeing as f64 / count.cases as f64 } else { 0.0 };
        md.push_str(&format!("| `{}` | {} | {} | {:.1}% |\n", feature, count.cases, count.disagreeing, share));
    }
    let missing = never_generated(report);
    if !missing.is_empty() {
        md.push_str(&format!("\nNever generated: {}.\n", missing.join(", ")));
    }
    md
}

/// Features the analysis knows that no generated case had.
fn never_generated(report: &FuzzReport) -> Vec<String> {
    crate::fuzz::feature::catalogue()
        .into_iter()
        .filter(|f| !report.coverage.contains_key(f))
        .map(|f| format!("`{f}`"))
        .collect()
}

/// The coverage table for the terminal: the features, fewest cases first.
fn coverage_terminal(report: &FuzzReport) -> String {
    let mut rows: Vec<_> = report.coverage.iter().collect();
    rows.sort_by_key(|(feature, count)| (count.cases, feature.name()));
    let mut text = String::from("coverage (feature: cases, disagreeing):\n");
    let line: Vec<String> = rows.iter().map(|(f, c)| format!("{f}: {} / {}", c.cases, c.disagreeing)).collect();
    for chunk in line.chunks(4) {
        text.push_str(&format!("  {}\n", chunk.join("; ")));
    }
    let missing = never_generated(report);
    if !missing.is_empty() {
        text.push_str(&format!("  never generated: {}\n", missing.join(", ").replace('`', "")));
    }
    text
}

/// The run's own rate: every case over the whole wall time, minimizing
/// included.
fn whole_run_text(report: &FuzzReport) -> String {
    format!(
        "  whole run  {:>10.0} cases/s of wall time ({:.1} of {:.1} s minimizing)",
        whole_run_rate(report),
        report.minimize_time.as_secs_f64(),
        report.elapsed.as_secs_f64()
    )
}

/// Cases per second of the whole run's wall time.
fn whole_run_rate(report: &FuzzReport) -> f64 {
    let seconds = report.elapsed.as_secs_f64();
    if seconds > 0.0 {
        report.cases as f64 / seconds
    } else {
        0.0
    }
}

/// What the command prints when the run is over and its findings are
/// written under `out`: totals, throughput, each finding with its suite
/// and the command that regenerates it.
pub fn terminal(report: &FuzzReport, out: &Path) -> String {
    let mut text = format!(
        "{} cases in {} batches, {:.1}s; {} disagreements; {} distinct findings\n",
        report.cases,
        report.batches,
        report.elapsed.as_secs_f64(),
        report.disagreements,
        report.findings.len()
    );
    text.push_str("throughput, per second of each party's busy time (configure, evaluate, its answers read):\n");
    for t in &report.throughput {
        text.push_str(&format!("  {:<10} {:>10.0} cases/s\n", t.party, t.cases_per_second()));
    }
    text.push_str(&format!("{}\n", whole_run_text(report)));
    text.push_str(&format!("{}\n", deviations_text(report)));
    text.push_str(&coverage_terminal(report));
    for failure in &report.party_failures {
        text.push_str(&format!("  party failure: {failure:?}\n"));
    }
    for n in &report.nondeterministic {
        text.push_str(&format!(
            "nondeterministic: {} answered {} cases differently in {} fresh processes (first in batch {})\n  answers: {}\n",
            n.party,
            n.occurrences,
            report.options.repeat,
            n.batch,
            out.join(n.file()).display()
        ));
    }
    // The SDKs, as `--sdk` names them: every party but the reference.
    let sdks = report.parties.iter().skip(1).map(|p| p.name.as_str()).collect::<Vec<_>>().join(",");
    for finding in &report.findings {
        let signature = &finding.signature;
        text.push_str(&format!("finding [{}]: {}\n", signature.cause().unwrap_or("unclassified"), signature.text()));
        if let Some(majority) = &finding.majority {
            text.push_str(&format!("  majority: {}\n", majority.text()));
        }
        text.push_str(&format!("  suite: {}\n", out.join(signature.slug()).display()));
        text.push_str(&format!("  reproduce: {} --sdk {}\n", finding.reproduce_command(&report.options), sdks));
    }
    if !report.findings.is_empty() || !report.nondeterministic.is_empty() {
        text.push_str(&format!("summary: {}\n", out.join(SUMMARY_MARKDOWN).display()));
    }
    text
}

/// The progress line, redrawn in place after every batch.
pub fn progress_line(progress: &FuzzProgress) -> String {
    format!(
        "\r\x1b[2K{} cases, {} batches, {} disagreements, {} findings, {:.0}s",
        progress.cases,
        progress.batches,
        progress.disagreements,
        progress.findings,
        progress.elapsed.as_secs_f64()
    )
}

/// Erases the progress line.
pub const PROGRESS_CLEAR: &str = "\r\x1b[2K";
