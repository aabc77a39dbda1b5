//! Benchmark orchestration (`ufc-harness bench`): every party's in-process
//! loop (the `bench` op of the adapter protocol) over the same flag, subject
//! keys and attributes, in one run, as evaluations per second and as a ratio
//! to the reference.
//!
//! This module owns choosing the workloads from a suite ([`BenchPlan`]) and
//! running them through a [`Session`] per party; the session decides what a
//! party can be asked. The outcome is a typed [`BenchReport`], a versioned
//! public format ([`BENCH_REPORT_VERSION`], `docs/report-schemas/bench.schema.json`);
//! [`crate::report::bench`] renders it.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use ufc_protocol::report::Tool;
use ufc_protocol::{
    ActionInput, BanditCase, BenchMode, BenchRequest, BenchSubject, Capability, CaseInput, VariationType,
};

use crate::party::reference::ReferenceParty;
use crate::party::{ConfigSet, Party, PartyError};
use crate::session::Session;
use crate::suite::{Case, NotASuite, Suite};

/// The bench report's format version.
pub const BENCH_REPORT_VERSION: u32 = 1;

/// The name the reference party goes by; ratios are taken against it.
const REFERENCE: &str = "reference";

/// What to benchmark.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchOptions {
    /// The suite whose configuration and subjects are used.
    pub suite: PathBuf,
    /// The flag for the `assign` and `details` loops.
    pub flag: String,
    /// The flag for the `bandit` loop.
    pub bandit_flag: String,
    /// Evaluations per loop (a tenth as many run first, untimed, to warm up).
    pub iterations: u64,
}

/// The suite `bench` uses when none is given: the shared Eppo data next to
/// the checkout when present, else the built-in suite.
pub fn default_suite() -> PathBuf {
    let builtin = crate::suite::builtin_root();
    let shared = builtin.join("..").join("shared").join("eppo-sdk-test-data");
    if shared.is_dir() {
        shared
    } else {
        builtin
    }
}

/// Why a benchmark could not be planned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BenchError {
    /// The suite did not load.
    #[error(transparent)]
    Suite(#[from] NotASuite),
    /// No flag test case of the suite asks for the chosen flag.
    #[error("no test case in {} asks for flag {flag:?}; pick one with --flag", suite.display())]
    NoFlagCase {
        /// The suite root.
        suite: PathBuf,
        /// The flag asked for.
        flag: String,
    },
}

/// One loop to time: a mode, the configuration it runs under, the request.
#[derive(Debug, Clone)]
struct Workload {
    config: ConfigSet,
    request: BenchRequest,
}

/// The workloads chosen from a suite, ready to run against parties.
#[derive(Debug, Clone)]
pub struct BenchPlan {
    options: BenchOptions,
    workloads: Vec<Workload>,
    skipped: Vec<SkippedMode>,
}

/// Something worth telling while a benchmark runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BenchProgress<'a> {
    /// A mode has no workload in this suite and is not run at all.
    ModeSkipped(&'a SkippedMode),
    /// A party is about to be configured and timed in a mode.
    Measuring {
        /// The party.
        party: &'a str,
        /// The mode.
        mode: BenchMode,
    },
}

impl BenchPlan {
    /// Loads the suite and picks the workloads: for `assign` and `details`,
    /// the subjects of the first test file that asks for the flag; for
    /// `bandit`, the well-typed subjects of the first test file that asks
    /// for the bandit flag, with its first subject's actions. A suite with
    /// no such bandit case skips the bandit loop.
    pub fn new(options: &BenchOptions) -> Result<BenchPlan, BenchError> {
        let suite = Suite::load(&options.suite)?;
        Self::for_suite(&suite, options)
    }

    /// As [`BenchPlan::new`], over a suite already loaded.
    pub fn for_suite(suite: &Suite, options: &BenchOptions) -> Result<BenchPlan, BenchError> {
        let mut workloads = Vec::new();
        let mut skipped = Vec::new();
        let flag_cases: Vec<_> = suite
            .cases
            .iter()
            .filter_map(|c| match &c.input {
                CaseInput::Flag(f) if f.flag == options.flag => Some((c, f)),
                _ => None,
            })
            .collect();
        let flag_cases = first_file_only(flag_cases);
        let Some((case, first)) = flag_cases.first() else {
            return Err(BenchError::NoFlagCase { suite: suite.root.clone(), flag: options.flag.clone() });
        };
        let subjects: Vec<BenchSubject> = flag_cases
            .iter()
            .map(|(_, f)| BenchSubject {
                subject_key: f.subject_key.clone(),
                subject_attributes: serde_json::Value::Object(f.subject_attributes.clone()),
            })
            .collect();
        for mode in [BenchMode::Assign, BenchMode::Details] {
            workloads.push(Workload {
                config: suite.groups[case.group].config_set(),
                request: BenchRequest {
                    mode,
                    flag: options.flag.clone(),
                    variation_type: first.variation_type,
                    default_value: first.default_value.clone(),
                    subjects: subjects.clone(),
                    actions: Vec::new(),
                    iterations: options.iterations,
                },
            });
        }
        let bandit_cases: Vec<_> = suite
            .cases
            .iter()
            .filter_map(|c| match &c.input {
                CaseInput::Bandit(b) if b.flag == options.bandit_flag && !b.actions.is_empty() && well_typed(b) => {
                    Some((c, b))
                }
                _ => None,
            })
            .collect();
        let bandit_cases = first_file_only(bandit_cases);
        if let Some((case, first)) = bandit_cases.first() {
            let actions: Vec<ActionInput> = first.actions.clone();
            workloads.push(Workload {
                config: suite.groups[case.group].config_set(),
                request: BenchRequest {
                    mode: BenchMode::Bandit,
                    flag: options.bandit_flag.clone(),
                    variation_type: VariationType::String,
                    default_value: first.default_value.clone(),
                    subjects: bandit_cases
                        .iter()
                        .map(|(_, b)| BenchSubject {
                            subject_key: b.subject_key.clone(),
                            subject_attributes: serde_json::to_value(&b.subject_attributes).unwrap_or_default(),
                        })
                        .collect(),
                    actions,
                    iterations: options.iterations,
                },
            });
        } else {
            skipped.push(SkippedMode {
                mode: BenchMode::Bandit,
                reason: format!("no bandit case for {:?} in this suite", options.bandit_flag),
            });
        }
        Ok(BenchPlan { options: options.clone(), workloads, skipped })
    }

    /// Times every workload on the reference (created here, with the
    /// current clock) and then on each of `sdks`, each through a
    /// [`Session`]: configure, a warm-up loop of a tenth of the iterations,
    /// then the timed loop.
    pub fn run(&self, sdks: Vec<Box<dyn Party>>, progress: &dyn Fn(BenchProgress<'_>)) -> BenchReport {
        let mut parties: Vec<Box<dyn Party>> = vec![Box::new(ReferenceParty::new(chrono::Utc::now()))];
        parties.extend(sdks);
        for skipped in &self.skipped {
            progress(BenchProgress::ModeSkipped(skipped));
        }
        let mut measurements = Vec::new();
        for load in &self.workloads {
            for party in parties.iter_mut() {
                let mut session = Session::new(party.as_mut());
                let info = session.info().clone();
                let mode = load.request.mode;
                progress(BenchProgress::Measuring { party: &info.name, mode });
                let outcome = measure(&mut session, load);
                measurements.push(BenchMeasurement {
                    mode,
                    party: info.name.clone(),
                    sdk: format!("{} {}", info.sdk.package.as_deref().unwrap_or(&info.sdk.name), info.sdk.version),
                    outcome,
                    vs_reference: None,
                });
            }
        }
        let reference_rates: Vec<(BenchMode, f64)> = measurements
            .iter()
            .filter(|m| m.party == REFERENCE)
            .filter_map(|m| m.outcome.evaluations_per_second().map(|rate| (m.mode, rate)))
            .collect();
        for m in &mut measurements {
            let reference = reference_rates.iter().find(|(mode, _)| *mode == m.mode).map(|(_, rate)| *rate);
            m.vs_reference = m.outcome.evaluations_per_second().zip(reference).map(|(rate, r)| rate / r);
        }
        BenchReport {
            report_version: BENCH_REPORT_VERSION,
            tool: Tool { name: "ufc-harness".into(), version: env!("CARGO_PKG_VERSION").into() },
            generated_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            machine: Machine::detect(),
            suite: self.options.suite.clone(),
            flag: self.options.flag.clone(),
            bandit_flag: self.options.bandit_flag.clone(),
            iterations: self.options.iterations,
            flag_subjects: self.workloads.first().map_or(0, |l| l.request.subjects.len()),
            skipped_modes: self.skipped.clone(),
            measurements,
        }
    }
}

/// Configures the party for one workload and times it. A party that lacks
/// what the mode needs is told apart from one that failed.
fn measure(session: &mut Session<'_>, load: &Workload) -> BenchOutcome {
    if let Err(error) = session.configure("the bench configuration", &load.config) {
        return BenchOutcome::Failed { error };
    }
    let warmup = BenchRequest { iterations: (load.request.iterations / 10).max(1), ..load.request.clone() };
    let timed = session.bench(&warmup).and_then(|_| session.bench(&load.request));
    match timed {
        Ok(elapsed) => {
            let elapsed_seconds = elapsed.as_secs_f64();
            BenchOutcome::Measured {
                evaluations_per_second: load.request.iterations as f64 / elapsed_seconds.max(1e-9),
                elapsed_seconds,
            }
        }
        Err(PartyError::Unsupported { capability, .. }) => {
            BenchOutcome::Unsupported { capability: Capability::parse(&capability) }
        }
        Err(err) => BenchOutcome::Failed { error: err.to_string() },
    }
}

/// The cases from the same test file as the first one: one file's subjects,
/// as its test file lists them.
fn first_file_only<T>(cases: Vec<(&Case, T)>) -> Vec<(&Case, T)> {
    let Some(file) = cases.first().map(|(case, _)| case.file.clone()) else { return cases };
    cases.into_iter().filter(|(case, _)| case.file == file).collect()
}

/// Whether a bandit case's subject and actions are typed as their kinds say.
/// The `*.dynamic-typing.json` files mistype attributes on purpose and some
/// SDKs refuse those calls outright; a speed loop wants inputs every SDK
/// accepts, not a type error timed 100,000 times.
fn well_typed(case: &BanditCase) -> bool {
    case.subject_attributes.is_well_typed() && case.actions.iter().all(|a| a.attributes.is_well_typed())
}

/// A benchmark run: what was timed, where, and how fast each party went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BenchReport {
    /// [`BENCH_REPORT_VERSION`].
    pub report_version: u32,
    /// The tool that wrote it.
    pub tool: Tool,
    /// When the run finished (RFC 3339, UTC, whole seconds).
    pub generated_at: String,
    /// The machine it ran on.
    pub machine: Machine,
    /// The suite root.
    pub suite: PathBuf,
    /// The flag of the `assign` and `details` loops.
    pub flag: String,
    /// The flag of the `bandit` loop.
    pub bandit_flag: String,
    /// Evaluations per timed loop.
    pub iterations: u64,
    /// Subjects the `assign` and `details` loops cycle through.
    pub flag_subjects: usize,
    /// Modes not run at all, and why.
    pub skipped_modes: Vec<SkippedMode>,
    /// One per mode and party, modes in run order, the reference first.
    pub measurements: Vec<BenchMeasurement>,
}

impl BenchReport {
    /// The reference's rate in `mode`, if it was measured.
    pub fn reference_rate(&self, mode: BenchMode) -> Option<f64> {
        self.measurements
            .iter()
            .find(|m| m.mode == mode && m.party == REFERENCE)
            .and_then(|m| m.outcome.evaluations_per_second())
    }
}

/// A mode the run left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkippedMode {
    /// The mode.
    pub mode: BenchMode,
    /// Why, in a sentence.
    pub reason: String,
}

/// One party in one mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BenchMeasurement {
    /// The mode.
    pub mode: BenchMode,
    /// The party (`reference`, `node`, ...).
    pub party: String,
    /// The SDK behind it: package (or name) and version.
    pub sdk: String,
    /// The rate, or why there is none.
    #[serde(flatten)]
    pub outcome: BenchOutcome,
    /// This rate over the reference's in the same mode, when both were measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vs_reference: Option<f64>,
}

/// What timing one party in one mode gave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum BenchOutcome {
    /// The timed loop ran.
    Measured {
        /// Iterations over the timed loop's duration.
        evaluations_per_second: f64,
        /// How long the timed loop took, by the party's monotonic clock.
        elapsed_seconds: f64,
    },
    /// The party does not declare a capability the mode needs.
    Unsupported {
        /// The capability it lacks (`bench`, `bandits`, ...).
        capability: Capability,
    },
    /// Configuring or timing failed.
    Failed {
        /// What happened.
        error: String,
    },
}

impl BenchOutcome {
    /// The rate, when measured.
    pub fn evaluations_per_second(&self) -> Option<f64> {
        match self {
            BenchOutcome::Measured { evaluations_per_second, .. } => Some(*evaluations_per_second),
            _ => None,
        }
    }
}

/// The machine a benchmark ran on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Machine {
    /// The CPU model (`/proc/cpuinfo`), or `unknown CPU`.
    pub cpu: String,
    /// Cores available to this process.
    pub cores: usize,
    /// The operating system (`linux`, `macos`, ...).
    pub os: String,
    /// The architecture (`x86_64`, `aarch64`, ...).
    pub arch: String,
}

impl Machine {
    /// This machine.
    pub fn detect() -> Machine {
        let cpu = std::fs::read_to_string(Path::new("/proc/cpuinfo"))
            .ok()
            .and_then(|text| {
                text.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split(':').nth(1))
                    .map(|s| s.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown CPU".into());
        Machine {
            cpu,
            cores: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            os: std::env::consts::OS.into(),
            arch: std::env::consts::ARCH.into(),
        }
    }
}

impl fmt::Display for Machine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, {} cores available, {} {}", self.cpu, self.cores, self.os, self.arch)
    }
}
