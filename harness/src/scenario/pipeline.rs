//! `ufc-harness scenarios`: every scenario against every SDK, the SDKs
//! concurrently (one thread and one adapter process each, scenarios in
//! file order), into a [`RunResult`] that the run's sinks and known-failure
//! manifests take as they are.

use std::path::PathBuf;

use crate::expectations::{ConfigurationForm, KnownFailures, ManifestError};
use crate::parties::{self, PartySelection, SelectionError};
use crate::partition::Partition;
use crate::party::Party;
use crate::run::{RunResult, RunSettings};

use super::{Scenario, ScenarioError};

/// What to run.
#[derive(Debug, Clone)]
pub struct ScenarioOptions {
    /// The folder of scenario files.
    pub dir: PathBuf,
    /// Only scenarios whose name matches this glob.
    pub filter: Option<String>,
    /// The SDKs.
    pub parties: PartySelection,
    /// A folder of `<sdk>.toml` manifests instead of each SDK's own.
    pub known_failures: Option<PathBuf>,
    /// A listed known failure that passes fails the run.
    pub strict: bool,
    /// Severities that fail a step.
    pub settings: RunSettings,
}

/// Scenarios that could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScenariosError {
    /// A scenario file is broken.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The filter is not a glob.
    #[error("--filter {pattern:?} is not a glob: {source}")]
    Filter {
        /// The pattern.
        pattern: String,
        /// Why.
        #[source]
        source: globset::Error,
    },
    /// The filter leaves nothing.
    #[error("--filter {0:?} matches no scenario")]
    NothingMatches(String),
    /// The SDKs could not be resolved.
    #[error(transparent)]
    Parties(#[from] SelectionError),
    /// A known-failure manifest is broken.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
}

/// Loads, filters, starts the SDKs, plays, applies the manifests.
pub fn run_scenarios(options: &ScenarioOptions) -> Result<RunResult, ScenariosError> {
    run_scenarios_in(options, None).map(|(result, _)| result)
}

/// Like [`run_scenarios`], but only the scenarios of one share, dealt out
/// by scenario name: a scenario's steps build on each other, so they stay
/// together. Also returns every step case id of the whole run (all
/// shares), in report order, each with its scenario's name, the key that
/// decided its share ([`crate::partial::keyed_partition_report`]).
pub fn run_scenarios_partition(
    options: &ScenarioOptions,
    partition: Partition,
) -> Result<(RunResult, Vec<(String, String)>), ScenariosError> {
    run_scenarios_in(options, Some(partition))
}

fn run_scenarios_in(
    options: &ScenarioOptions,
    partition: Option<Partition>,
) -> Result<(RunResult, Vec<(String, String)>), ScenariosError> {
    let mut scenarios = Scenario::load_dir(&options.dir)?;
    if let Some(pattern) = &options.filter {
        let glob = globset::Glob::new(pattern)
            .map_err(|source| ScenariosError::Filter { pattern: pattern.clone(), source })?
            .compile_matcher();
        scenarios.retain(|s| glob.is_match(&s.name) || glob.is_match(super::run::case_id(&s.name, "")));
        if scenarios.is_empty() {
            return Err(ScenariosError::NothingMatches(pattern.clone()));
        }
    }
    // Every party reports every step of every scenario (skipped or
    // errored ones too), party by party in scenario and step order.
    let whole = match partition {
        Some(_) => scenarios
            .iter()
            .flat_map(|s| s.steps.iter().map(|step| (super::run::case_id(&s.name, &step.name), s.name.clone())))
            .collect(),
        None => Vec::new(),
    };
    if let Some(partition) = partition {
        partition.retain(&mut scenarios, |s| &s.name);
    }
    let specs = options.parties.resolve()?;
    let manifests = KnownFailures::for_parties(&specs, options.known_failures.as_deref())?;
    let parties = parties::spawn(&specs, &options.parties.options);
    let mut result = play_all(&scenarios, parties, &options.settings, &options.dir);
    for (name, manifest) in &manifests {
        manifest.apply(&mut result, name, options.strict, ConfigurationForm::Plain);
    }
    Ok((result, whole))
}

/// Every scenario against every party, the parties in parallel.
pub fn play_all(
    scenarios: &[Scenario],
    mut parties: Vec<Box<dyn Party>>,
    settings: &RunSettings,
    dir: &std::path::Path,
) -> RunResult {
    let infos = parties.iter().map(|p| p.info().clone()).collect();
    let per_party = std::thread::scope(|scope| {
        let handles: Vec<_> = parties
            .iter_mut()
            .map(|party| {
                scope.spawn(move || {
                    scenarios.iter().flat_map(|s| super::run::play(s, party.as_mut(), settings)).collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_default()).collect::<Vec<_>>()
    });
    RunResult {
        suite: dir.to_owned(),
        parties: infos,
        outcomes: per_party.into_iter().flatten().collect(),
        load_errors: Vec::new(),
        config_errors: Vec::new(),
        fail_on: settings.fail_on.clone(),
        repeat: 1,
    }
}
