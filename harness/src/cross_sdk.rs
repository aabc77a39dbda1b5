//! The cross-SDK report's pipeline (`ufc-harness report`): every suite
//! against the reference and the SDKs, each also against its obfuscated
//! (CLIENT) twins where it has them, as one combined run, plus what each SDK
//! precomputes for every suite's subjects. Rendering is in
//! [`crate::report::cross_sdk`].

use std::path::PathBuf;

use crate::parties::{self, PartySelection};
use crate::precompute::{self, PartyPrecompute};
use crate::run::{self, RunError, RunOptions, RunResult, RunSettings};
use crate::suite::Suite;

/// What to cover.
#[derive(Debug, Clone)]
pub struct CrossSdkOptions {
    /// Suites by label.
    pub suites: Vec<(String, PathBuf)>,
    /// The SDKs.
    pub parties: PartySelection,
    /// The reference's clock.
    pub now: ufc_reference::Timestamp,
}

/// The finished report.
#[derive(Debug, Clone)]
pub struct CrossSdkReport {
    /// Every suite's run (and its obfuscated twin's), combined; case ids
    /// carry the suite's label.
    pub combined: RunResult,
    /// Per suite label, what each SDK precomputed.
    pub precomputed: Vec<(String, Vec<PartyPrecompute>)>,
    /// When it ran, by the reference's clock.
    pub now: ufc_reference::Timestamp,
    /// The SDKs asked for, as named on the command line.
    pub sdks: Vec<String>,
    /// The lifecycle scenarios against the same SDKs, when they were run
    /// (`report` runs them unless `--no-scenarios`; see [`with_scenarios`]).
    pub scenarios: Option<RunResult>,
}

/// The default suites: `shared` (Eppo's data beside the checkout, when
/// present) and `builtin`.
pub fn default_suites() -> Vec<(String, PathBuf)> {
    let root = crate::locations::builtin_suite();
    let mut suites = Vec::new();
    let shared = root.join("..").join("shared").join("eppo-sdk-test-data");
    if shared.is_dir() {
        suites.push(("shared".into(), shared.canonicalize().unwrap_or(shared)));
    }
    suites.push(("builtin".into(), root));
    suites
}

/// Runs every suite, then precomputes.
pub fn cross_sdk(options: &CrossSdkOptions, progress: run::Progress<'_>) -> Result<CrossSdkReport, RunError> {
    let mut runs = Vec::new();
    for (label, dir) in &options.suites {
        let mut run_options = RunOptions {
            suite: dir.clone(),
            filter: None,
            obfuscated: false,
            precomputed: None,
            parties: options.parties.clone(),
            known_failures: None,
            strict: true,
            now: options.now,
            settings: RunSettings::default(),
        };
        eprintln!("running {label} ({}) ...", dir.display());
        runs.push((label.clone(), run::run_suite(&run_options, progress)?));
        if has_obfuscated_twins(dir) {
            eprintln!("running {label}-obfuscated ...");
            run_options.obfuscated = true;
            runs.push((format!("{label}-obfuscated"), run::run_suite(&run_options, progress)?));
        }
    }
    let combined = RunResult::combine(runs);
    let specs = options.parties.resolve()?;
    let mut precomputed = Vec::new();
    for (label, dir) in &options.suites {
        eprintln!("precomputing {label} ...");
        let suite = Suite::load(dir)?;
        let reports = parties::spawn(&specs, &options.parties.options)
            .iter_mut()
            .map(|party| precompute::check(&suite, party.as_mut(), options.now))
            .collect();
        precomputed.push((label.clone(), reports));
    }
    Ok(CrossSdkReport { combined, precomputed, now: options.now, sdks: options.parties.sdks.clone(), scenarios: None })
}

/// Runs the scenarios in `dir` (every one, each SDK's own manifest,
/// strict like the suites) against the report's SDKs and attaches them.
pub fn with_scenarios(
    mut report: CrossSdkReport,
    options: &CrossSdkOptions,
    dir: &std::path::Path,
) -> Result<CrossSdkReport, crate::scenario::pipeline::ScenariosError> {
    eprintln!("running the scenarios ({}) ...", dir.display());
    let scenario_options = crate::scenario::pipeline::ScenarioOptions {
        dir: dir.to_owned(),
        filter: None,
        parties: options.parties.clone(),
        known_failures: None,
        strict: true,
        settings: RunSettings::default(),
    };
    report.scenarios = Some(crate::scenario::pipeline::run_scenarios(&scenario_options)?);
    Ok(report)
}

fn has_obfuscated_twins(dir: &std::path::Path) -> bool {
    Suite::load(dir).is_ok_and(|suite| suite.into_obfuscated().is_ok())
}
