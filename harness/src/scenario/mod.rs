//! Scenarios: an SDK's life against the mock Eppo CDN, as a timeline of
//! steps (`test-cases/scenarios/*.json`, format in `docs/scenarios.md`,
//! schema `docs/scenario.schema.json`).
//!
//! This module is the file format and its loading; [`run`] drives a party
//! through a scenario and judges each step.

pub mod pipeline;
pub mod run;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;
use ufc_protocol::{CaseInput, InitOption, LoggerMode};

/// One scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Scenario {
    /// The schema the file follows, for editors; not used.
    #[serde(rename = "$schema", default)]
    pub schema: Option<String>,
    /// The name: case ids are `scenario/<name>/<step>`.
    pub name: String,
    /// What the scenario checks and why, in a sentence or two.
    pub description: String,
    /// Named configurations, paths relative to the scenario file.
    pub configurations: BTreeMap<String, Configuration>,
    /// The timeline.
    pub steps: Vec<Step>,
    /// Where the scenario was read from (set on load).
    #[serde(skip)]
    pub file: PathBuf,
}

/// A configuration the CDN can serve and the reference can evaluate.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Configuration {
    /// `flags-v1.json`.
    pub flags: PathBuf,
    /// `bandit-models-v1.json`.
    #[serde(default)]
    pub bandits: Option<PathBuf>,
}

/// One step of the timeline: one action, then its expectations.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Step {
    /// The step's name: the last part of its case id.
    pub name: String,
    /// What happens.
    #[serde(flatten)]
    pub action: Action,
    /// What must hold once it happened.
    #[serde(default)]
    pub expect: StepExpectations,
}

/// What a step does.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Action {
    /// Put CDN endpoints in a state (and release held requests).
    Cdn(CdnChange),
    /// Build the SDK's online client against the CDN.
    Init(InitOptions),
    /// Evaluate cases and judge them against the configuration in force.
    Evaluate(Evaluation),
    /// Wait until a condition holds, within a deadline derived from the
    /// poll interval.
    WaitFor(Wait),
    /// Let time pass (so many poll intervals) to check what did not happen.
    Observe(Observe),
    /// Shut the online client down.
    Stop(bool),
}

/// New states for some endpoints.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CdnChange {
    /// The flag configuration endpoint.
    #[serde(default)]
    pub config: Option<StateSpec>,
    /// The bandit models endpoint.
    #[serde(default)]
    pub bandits: Option<StateSpec>,
    /// `false` closes the CDN's port, so that connections are refused (and
    /// open ones dropped), until a change with `true` listens again.
    #[serde(default)]
    pub listening: Option<bool>,
}

/// An endpoint state, as a scenario writes it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum StateSpec {
    /// Serve a named configuration's document (`flags`, or `bandits` for
    /// the bandit endpoint).
    Serve(String),
    /// Fail with this status.
    Fail(u16),
    /// Hold requests until the next change.
    Hang,
    /// Drop connections.
    Close,
    /// Answer JSON that does not parse.
    InvalidJson,
    /// Answer JSON of the wrong shape.
    WrongFormat,
}

/// `init` options; the SDK key defaults to [`DEFAULT_SDK_KEY`].
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InitOptions {
    /// The poll interval.
    pub poll_interval_ms: u64,
    /// The SDK's start-up timeout.
    #[serde(default)]
    pub init_timeout_ms: Option<u64>,
    /// The SDK key.
    #[serde(default)]
    pub sdk_key: Option<String>,
    /// The SDK's assignment cache.
    #[serde(default)]
    pub assignment_cache: bool,
    /// The SDK's bandit cache.
    #[serde(default)]
    pub bandit_cache: bool,
    /// The loggers.
    #[serde(default)]
    pub logger: LoggerMode,
    /// Wait for the SDK's start.
    #[serde(default = "yes")]
    pub wait_for_init: bool,
}

fn yes() -> bool {
    true
}

/// The SDK key scenarios use unless they say otherwise.
pub const DEFAULT_SDK_KEY: &str = "scenario-sdk-key";

/// An evaluation step.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Evaluation {
    /// The configuration the SDK should be serving: the name of one, or
    /// null for none (every case then expects its default and no event).
    pub in_force: Option<String>,
    /// The cases, asked one at a time.
    pub cases: Vec<ScenarioCase>,
}

/// A case of a scenario.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScenarioCase {
    /// What to evaluate (the protocol's case, `kind` included).
    #[serde(flatten)]
    pub input: CaseInput,
    /// Whether the loggers should receive this assignment: absent, as the
    /// reference says (`doLog`); false for an assignment a dedup cache
    /// should swallow.
    #[serde(default)]
    pub logs: Option<bool>,
}

/// A wait.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Wait {
    /// The condition.
    pub until: Condition,
    /// The deadline, in poll intervals (each stretched by the jitter
    /// allowance), plus [`run::SLACK`].
    pub within_polls: u32,
}

/// What a wait waits for.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub enum Condition {
    /// The CDN saw at least this many flag configuration requests since the
    /// step began.
    ConfigRequests(usize),
    /// The CDN saw at least this many bandit model requests since the step began.
    BanditRequests(usize),
    /// The case is answered as the named configuration (or, null, as no
    /// configuration) says.
    Serves {
        /// The case.
        case: Box<ScenarioCase>,
        /// The configuration.
        #[serde(rename = "inForce")]
        in_force: Option<String>,
    },
}

/// An observation span.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Observe {
    /// How many poll intervals.
    pub polls: u32,
}

/// Expectations of a step; each is checked only when given.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StepExpectations {
    /// `init`: whether it succeeded (false: the SDK raised).
    #[serde(default)]
    pub init_ok: Option<bool>,
    /// `init`: the longest the answer may take, in milliseconds, as the
    /// harness measures it (a start-up timeout is kept).
    #[serde(default)]
    pub init_at_most_ms: Option<u64>,
    /// Flag configuration requests during the step.
    #[serde(default)]
    pub config_requests: Option<Count>,
    /// Bandit model requests during the step.
    #[serde(default)]
    pub bandit_requests: Option<Count>,
    /// Every flag configuration request during the step carries these
    /// query parameters (`"*"`: any value).
    #[serde(default)]
    pub query: BTreeMap<String, String>,
    /// Every flag configuration request during the step but the first
    /// carries these headers (names in lower case; `"*"`: any value).
    #[serde(default)]
    pub later_headers: BTreeMap<String, String>,
    /// Logger calls the party reports (`drainEvents`) during the step,
    /// those of evaluations included.
    #[serde(default)]
    pub logger_calls: Option<Count>,
}

/// Bounds on a count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Count {
    /// At least.
    #[serde(default)]
    pub at_least: Option<usize>,
    /// At most.
    #[serde(default)]
    pub at_most: Option<usize>,
}

impl Count {
    /// Whether `n` is within the bounds.
    pub fn admits(&self, n: usize) -> bool {
        self.at_least.is_none_or(|least| n >= least) && self.at_most.is_none_or(|most| n <= most)
    }

    /// The bounds in words.
    pub fn describe(&self) -> Value {
        serde_json::json!({"atLeast": self.at_least, "atMost": self.at_most})
    }
}

/// A scenario file that could not be used.
#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", file.display())]
pub struct ScenarioError {
    /// The file.
    pub file: PathBuf,
    /// What is wrong, with the JSON path where there is one.
    pub message: String,
}

impl Scenario {
    /// Reads and checks one scenario file.
    pub fn load(file: &Path) -> Result<Scenario, ScenarioError> {
        let fail = |message: String| ScenarioError { file: file.to_owned(), message };
        let text = std::fs::read_to_string(file).map_err(|e| fail(e.to_string()))?;
        let mut reader = serde_json::Deserializer::from_str(&text);
        let mut scenario: Scenario = serde_path_to_error::deserialize(&mut reader)
            .map_err(|e| fail(format!("at {}: {}", e.path(), e.inner())))?;
        scenario.file = file.to_owned();
        scenario.check().map_err(fail)?;
        Ok(scenario)
    }

    /// Every `*.json` scenario in `dir`, by file name.
    pub fn load_dir(dir: &Path) -> Result<Vec<Scenario>, ScenarioError> {
        let entries =
            std::fs::read_dir(dir).map_err(|e| ScenarioError { file: dir.to_owned(), message: e.to_string() })?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .collect();
        files.sort();
        files.iter().map(|file| Scenario::load(file)).collect()
    }

    /// The path of a configuration file, resolved against the scenario's folder.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        self.file.parent().unwrap_or(Path::new(".")).join(path)
    }

    /// Names refer to configurations, step names are unique, the first
    /// step that needs a client comes after an `init`.
    fn check(&self) -> Result<(), String> {
        let known = |name: &Option<String>, at: &str| match name {
            Some(name) if !self.configurations.contains_key(name) => {
                Err(format!("at {at}: no configuration named {name:?}"))
            }
            _ => Ok(()),
        };
        let mut names = std::collections::BTreeSet::new();
        let mut initialised = false;
        for (index, step) in self.steps.iter().enumerate() {
            let at = format!("steps[{index}] ({:?})", step.name);
            if !names.insert(step.name.as_str()) {
                return Err(format!("at {at}: a second step of that name"));
            }
            match &step.action {
                Action::Cdn(change) => {
                    for spec in [&change.config, &change.bandits].into_iter().flatten() {
                        if let StateSpec::Serve(name) = spec {
                            known(&Some(name.clone()), &at)?;
                        }
                    }
                }
                Action::Init(_) => initialised = true,
                Action::Evaluate(evaluation) => known(&evaluation.in_force, &at)?,
                Action::WaitFor(Wait { until: Condition::Serves { in_force, .. }, .. }) => known(in_force, &at)?,
                Action::WaitFor(_) | Action::Observe(_) | Action::Stop(_) => {}
            }
            let needs_client = matches!(step.action, Action::Evaluate(_) | Action::WaitFor(_) | Action::Stop(_));
            if needs_client && !initialised {
                return Err(format!("at {at}: the step needs an SDK client, and no init comes before it"));
            }
        }
        if let Some((name, _)) = self.configurations.iter().find(|(_, c)| !self.resolve(&c.flags).is_file()) {
            return Err(format!(
                "configuration {name:?}: no file {}",
                self.resolve(&self.configurations[name].flags).display()
            ));
        }
        Ok(())
    }

    /// The init options and poll intervals the scenario relies on, for the
    /// skip decision: an option is needed when a step asks for it, the
    /// poll interval (and `pollInterval`) only when a step waits or observes.
    pub fn needs(&self) -> (Vec<InitOption>, Vec<u64>) {
        let mut options = Vec::new();
        let mut intervals = Vec::new();
        let timed = self.steps.iter().any(|s| matches!(s.action, Action::WaitFor(_) | Action::Observe(_)));
        for step in &self.steps {
            let Action::Init(init) = &step.action else { continue };
            // Only a timed scenario depends on the interval being honoured.
            if timed {
                intervals.push(init.poll_interval_ms);
            }
            let wanted = [
                (timed, InitOption::PollInterval),
                (init.init_timeout_ms.is_some(), InitOption::InitTimeout),
                (init.assignment_cache, InitOption::AssignmentCache),
                (init.bandit_cache, InitOption::BanditCache),
                (init.logger == LoggerMode::Throwing, InitOption::ThrowingLogger),
                (init.sdk_key.is_some() || !step.expect.query.is_empty(), InitOption::SdkKey),
            ];
            for (needed, option) in wanted {
                if needed && !options.contains(&option) {
                    options.push(option);
                }
            }
        }
        let asks_key = self.steps.iter().any(|s| s.expect.query.contains_key("apiKey"));
        if asks_key && !options.contains(&InitOption::SdkKey) {
            options.push(InitOption::SdkKey);
        }
        (options, intervals)
    }

    /// Whether any case is a bandit case.
    pub fn has_bandit_cases(&self) -> bool {
        let bandit = |case: &ScenarioCase| matches!(case.input, CaseInput::Bandit(_));
        self.steps.iter().any(|step| match &step.action {
            Action::Evaluate(evaluation) => evaluation.cases.iter().any(bandit),
            Action::WaitFor(Wait { until: Condition::Serves { case, .. }, .. }) => bandit(case),
            _ => false,
        })
    }
}

/// `test-cases/scenarios` of the checkout.
pub fn builtin_dir() -> PathBuf {
    crate::locations::checkout().join("test-cases").join("scenarios")
}
