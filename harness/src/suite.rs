//! Suite discovery and loading. A suite is a set of groups; a group is one
//! flag configuration (plus optional bandit models) and the test files that
//! run against it. Two layouts are understood:
//!
//! * Eppo's shared data: `ufc/flags-v1.json` + `ufc/tests/*.json`, and
//!   `ufc/bandit-flags-v1.json` + `ufc/bandit-models-v1.json` +
//!   `ufc/bandit-tests/*.json`. Case id: `<file stem>/<subjectKey>`.
//! * The project's own: `ufc-fixtures/<group>/flags-v1.json` (+
//!   `bandit-models-v1.json`) with `test-cases/<group>/*.json` (+
//!   `test-cases/<group>/bandit-tests/*.json`). Case id:
//!   `<group>/<file stem>/<subjectKey>`.
//!
//! A test file that cannot be read becomes a load error naming the file,
//! the JSON path and what was expected; the other files still load.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value};

use ufc_protocol::{ActionInput, BanditCase, CaseInput, ContextAttributes, FlagCase, Source, VariationType};

pub use crate::compare::Expected;
use crate::observation::{Details, Json};
use crate::party::ConfigSet;

/// A loaded suite.
#[derive(Debug, Default)]
pub struct Suite {
    /// Where it was loaded from.
    pub root: PathBuf,
    /// Configuration groups.
    pub groups: Vec<Group>,
    /// Every case, in load order.
    pub cases: Vec<Case>,
    /// Test files that could not be read.
    pub load_errors: Vec<LoadError>,
}

/// One configuration and the cases that run against it.
#[derive(Debug, Clone)]
pub struct Group {
    /// Group name (`ufc`, `ufc-bandits`, or the project's folder name).
    pub name: String,
    /// `flags-v1.json`.
    pub flags: PathBuf,
    /// `bandit-models-v1.json`, if any.
    pub bandit_models: Option<PathBuf>,
    /// `flags` is an obfuscated (CLIENT) configuration: see
    /// [`Suite::into_obfuscated`].
    pub obfuscated: bool,
}

/// One case: one subject of one test file.
#[derive(Debug, Clone)]
pub struct Case {
    /// Stable id.
    pub id: String,
    /// The test file.
    pub file: PathBuf,
    /// Index into [`Suite::groups`].
    pub group: usize,
    /// What to evaluate.
    pub input: CaseInput,
    /// What the file expects.
    pub expected: Expected,
}

/// A test file that could not be loaded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}: at {path}: {message}", file.display())]
pub struct LoadError {
    /// The file.
    pub file: PathBuf,
    /// JSON path of the fault.
    pub path: String,
    /// What was expected.
    pub message: String,
}

/// `--obfuscated` was asked of a suite with no obfuscated configuration.
#[derive(Debug, thiserror::Error)]
#[error("{}: no flag configuration has an obfuscated twin (flags-v1-obfuscated.json next to flags-v1.json)", .0.display())]
pub struct NoObfuscatedConfiguration(pub PathBuf);

/// A suite directory that has neither layout.
#[derive(Debug, thiserror::Error)]
#[error("{}: not a suite directory: expected ufc/flags-v1.json with ufc/tests/, or ufc-fixtures/<group>/flags-v1.json with test-cases/<group>/", .0.display())]
pub struct NotASuite(pub PathBuf);

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FlagTestFile {
    flag: String,
    variation_type: VariationType,
    default_value: Value,
    subjects: Vec<FlagSubject>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FlagSubject {
    subject_key: String,
    #[serde(default)]
    subject_attributes: Map<String, Value>,
    assignment: Value,
    #[serde(default)]
    evaluation_details: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BanditTestFile {
    flag: String,
    default_value: Value,
    subjects: Vec<BanditSubject>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BanditSubject {
    subject_key: String,
    #[serde(default)]
    subject_attributes: ContextAttributes,
    #[serde(default)]
    actions: Vec<ActionInput>,
    assignment: Value,
    /// Not in Eppo's bandit files; the project's and the fuzzer's may have it.
    #[serde(default)]
    evaluation_details: Option<Value>,
}

impl Suite {
    /// Loads a suite directory in either layout.
    pub fn load(root: &Path) -> Result<Suite, NotASuite> {
        let mut suite = Suite { root: root.to_owned(), ..Suite::default() };
        let eppo = [root.join("ufc"), root.to_owned()]
            .into_iter()
            .find(|dir| dir.join("flags-v1.json").is_file() || dir.join("bandit-flags-v1.json").is_file());
        if let Some(ufc) = eppo {
            if ufc.join("flags-v1.json").is_file() {
                suite.add_group("ufc", ufc.join("flags-v1.json"), None, &ufc.join("tests"), "", false);
            }
            if ufc.join("bandit-flags-v1.json").is_file() {
                let models = Some(ufc.join("bandit-models-v1.json")).filter(|p| p.is_file());
                suite.add_group(
                    "ufc-bandits",
                    ufc.join("bandit-flags-v1.json"),
                    models,
                    &ufc.join("bandit-tests"),
                    "",
                    true,
                );
            }
        } else if root.join("ufc-fixtures").is_dir() && root.join("test-cases").is_dir() {
            for group in sorted_entries(&root.join("ufc-fixtures")).into_iter().filter(|p| p.is_dir()) {
                let name = file_name(&group);
                let flags = group.join("flags-v1.json");
                if !flags.is_file() {
                    continue;
                }
                let models = Some(group.join("bandit-models-v1.json")).filter(|p| p.is_file());
                let tests = root.join("test-cases").join(&name);
                let prefix = format!("{name}/");
                suite.add_group(&name, flags.clone(), models.clone(), &tests, &prefix, false);
                let bandit_tests = tests.join("bandit-tests");
                if bandit_tests.is_dir() {
                    suite.add_group(&format!("{name}-bandits"), flags, models, &bandit_tests, &prefix, true);
                }
            }
        }
        if suite.groups.is_empty() {
            return Err(NotASuite(root.to_owned()));
        }
        make_unique(suite.cases.iter_mut().map(|case| &mut case.id));
        Ok(suite)
    }

    fn add_group(
        &mut self,
        name: &str,
        flags: PathBuf,
        bandit_models: Option<PathBuf>,
        tests: &Path,
        prefix: &str,
        bandit: bool,
    ) {
        let group = self.groups.len();
        self.groups.push(Group { name: name.to_owned(), flags, bandit_models, obfuscated: false });
        let files =
            sorted_entries(tests).into_iter().filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "json"));
        for file in files {
            let loaded = if bandit { load_bandit_file(&file) } else { load_flag_file(&file) };
            match loaded {
                Ok(cases) => {
                    let stem = file_stem(&file);
                    for (subject_key, input, expected) in cases {
                        self.cases.push(Case {
                            id: format!("{prefix}{stem}/{subject_key}"),
                            file: file.clone(),
                            group,
                            input,
                            expected,
                        });
                    }
                }
                Err(err) => self.load_errors.push(err),
            }
        }
    }

    /// The suite's flag cases run against the obfuscated (CLIENT) twin of
    /// their configuration (`flags-v1-obfuscated.json` beside
    /// `flags-v1.json`, spec section 6), the way client SDKs receive it.
    /// Groups without a twin and bandit cases are dropped. `matchedRule`
    /// is not expected: a CLIENT configuration names attributes and ONE_OF
    /// values by digest, so the rule it echoes cannot be the plain one.
    pub fn into_obfuscated(mut self) -> Result<Suite, NoObfuscatedConfiguration> {
        for group in &mut self.groups {
            let twin = group.flags.with_file_name(obfuscated_name(&group.flags));
            if twin.is_file() {
                group.flags = twin;
                group.obfuscated = true;
            }
        }
        let groups = &self.groups;
        self.cases.retain(|case| groups[case.group].obfuscated && matches!(case.input, CaseInput::Flag(_)));
        if self.cases.is_empty() {
            return Err(NoObfuscatedConfiguration(self.root));
        }
        for case in &mut self.cases {
            if let Some(details) = &mut case.expected.details {
                details.unstate("matchedRule");
            }
        }
        Ok(self)
    }

    /// Keeps only the cases whose id matches the glob.
    pub fn retain_matching(&mut self, glob: &globset::GlobMatcher) {
        self.cases.retain(|case| glob.is_match(&case.id));
    }
}

impl Group {
    /// The configuration this group's cases run against, as parties load it.
    pub fn config_set(&self) -> ConfigSet {
        ConfigSet {
            flags: Source::Path(absolute(&self.flags)),
            bandit_models: self.bandit_models.as_deref().map(|p| Source::Path(absolute(p))),
            precomputed: None,
        }
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// Makes ids unique in order: the second `x` becomes `x#2`, the third `x#3`.
/// Suites use it for subjects repeated within a file, the fuzzer for the
/// cases of a scenario.
pub fn make_unique<'a>(ids: impl IntoIterator<Item = &'a mut String>) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for id in ids {
        let count = seen.entry(id.clone()).or_insert(0);
        *count += 1;
        if *count > 1 {
            *id = format!("{id}#{count}");
        }
    }
}

type Loaded = Vec<(String, CaseInput, Expected)>;

fn read_json(file: &Path) -> Result<Value, LoadError> {
    let bytes = std::fs::read(file).map_err(|err| LoadError {
        file: file.to_owned(),
        path: "$".into(),
        message: format!("cannot read the file: {err}"),
    })?;
    serde_json::from_slice(&bytes).map_err(|err| LoadError {
        file: file.to_owned(),
        path: "$".into(),
        message: format!("not valid JSON (line {}, column {}): {err}", err.line(), err.column()),
    })
}

fn parse<T: serde::de::DeserializeOwned>(file: &Path, value: &Value, what: &str) -> Result<T, LoadError> {
    serde_path_to_error::deserialize(value).map_err(|err| LoadError {
        file: file.to_owned(),
        path: ufc_reference::error::json_path("$", err.path()),
        message: format!("{} (reading {what})", ufc_reference::error::expected(err.inner())),
    })
}

fn load_flag_file(file: &Path) -> Result<Loaded, LoadError> {
    let value = read_json(file)?;
    let test: FlagTestFile = parse(file, &value, "a flag test file: {flag, variationType, defaultValue, subjects}")?;
    test.subjects
        .into_iter()
        .enumerate()
        .map(|(index, s)| {
            let expected = expected(file, index, s.assignment, s.evaluation_details)?;
            let input = CaseInput::Flag(FlagCase {
                flag: test.flag.clone(),
                variation_type: test.variation_type,
                default_value: test.default_value.clone(),
                subject_key: s.subject_key.clone(),
                subject_attributes: s.subject_attributes,
            });
            Ok((s.subject_key, input, expected))
        })
        .collect()
}

/// A subject's expectations, read into the types answers are read into.
fn expected(file: &Path, index: usize, assignment: Value, details: Option<Value>) -> Result<Expected, LoadError> {
    let details = match details {
        None | Some(Value::Null) => None,
        Some(details) => {
            Some(Details::from_json(&details, &format!("$.subjects[{index}].evaluationDetails")).map_err(|err| {
                LoadError {
                    file: file.to_owned(),
                    path: err.path,
                    message: format!("expected {}, found {}", err.expected, err.found),
                }
            })?)
        }
    };
    Ok(Expected { value: Json(assignment), details })
}

fn load_bandit_file(file: &Path) -> Result<Loaded, LoadError> {
    let value = read_json(file)?;
    let test: BanditTestFile = parse(file, &value, "a bandit test file: {flag, defaultValue, subjects}")?;
    test.subjects
        .into_iter()
        .enumerate()
        .map(|(index, s)| {
            let expected = expected(file, index, s.assignment, s.evaluation_details)?;
            let input = CaseInput::Bandit(BanditCase {
                flag: test.flag.clone(),
                default_value: test.default_value.clone(),
                subject_key: s.subject_key.clone(),
                subject_attributes: s.subject_attributes,
                actions: s.actions,
            });
            Ok((s.subject_key, input, expected))
        })
        .collect()
}

/// `flags-v1.json` → `flags-v1-obfuscated.json`.
fn obfuscated_name(flags: &Path) -> String {
    format!("{}-obfuscated.json", file_stem(flags))
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(dir).map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect()).unwrap_or_default();
    entries.sort();
    entries
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

fn file_stem(path: &Path) -> String {
    path.file_stem().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// The built-in suite: the repository's `test-cases/` and `ufc-fixtures/`
/// (see [`crate::locations::builtin_suite`]).
pub fn builtin_root() -> PathBuf {
    crate::locations::builtin_suite()
}
