//! Which parties a pipeline talks to: bundled SDK adapters by name, any
//! program speaking the protocol (`NAME=COMMAND`), and adapters named in a
//! config file (`ufc-harness.toml`). Resolving installs bundled adapters that
//! are missing; starting turns an adapter that cannot start into an
//! [`UnavailableParty`], so its cases error and the run goes on.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::install::{self, InstallError};
use crate::locations;
use crate::party::adapter::{AdapterOptions, AdapterParty};
use crate::party::unavailable::UnavailableParty;
use crate::party::Party;

/// The SDK parties a command asked for.
#[derive(Debug, Clone, Default)]
pub struct PartySelection {
    /// Bundled adapters or names from the config file (`--sdk`).
    pub sdks: Vec<String>,
    /// `NAME=COMMAND` adapters (`--adapter`), run by `sh -c`.
    pub adapters: Vec<String>,
    /// The config file; `./ufc-harness.toml` when present and not given.
    pub config_file: Option<PathBuf>,
    /// How adapters are started and waited for.
    pub options: AdapterOptions,
}

/// An SDK party to start.
#[derive(Debug, Clone, PartialEq)]
pub struct PartySpec {
    /// Its name in reports.
    pub name: String,
    /// The command that starts its adapter.
    pub command: Vec<String>,
    /// Its known-failure manifest, if it has one.
    pub known_failures: Option<PathBuf>,
}

/// A selection that cannot be resolved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SelectionError {
    /// The config file cannot be read.
    #[error("reading {}: {source}", path.display())]
    ReadConfig {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The config file is not a valid adapter config.
    #[error("{} is not a valid adapter config: {source}", path.display())]
    InvalidConfig {
        /// The file.
        path: PathBuf,
        /// What is wrong, with its place.
        #[source]
        source: toml::de::Error,
    },
    /// An `--adapter` value without `=`.
    #[error("--adapter {0:?}: expected NAME=COMMAND")]
    AdapterSyntax(String),
    /// A name that cannot name an SDK.
    #[error("{0:?} cannot name an SDK: use letters, digits, '-' or '_' (then @VERSION for another SDK version), and not \"reference\"")]
    BadName(String),
    /// A bundled adapter could not be installed.
    #[error(transparent)]
    Install(#[from] InstallError),
}

/// The config file: `[adapters.NAME] command = "..." | [...], known_failures = "FILE"`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    adapters: BTreeMap<String, AdapterEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdapterEntry {
    command: CommandLine,
    #[serde(default)]
    known_failures: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum CommandLine {
    Shell(String),
    Argv(Vec<String>),
}

impl CommandLine {
    fn argv(self) -> Vec<String> {
        match self {
            CommandLine::Shell(line) => shell(&line),
            CommandLine::Argv(argv) => argv,
        }
    }
}

fn shell(line: &str) -> Vec<String> {
    vec!["sh".into(), "-c".into(), format!("exec {line}")]
}

impl PartySelection {
    /// The start commands, installing bundled adapters that are missing.
    pub fn resolve(&self) -> Result<Vec<PartySpec>, SelectionError> {
        let config_path =
            self.config_file.clone().or_else(|| Some(PathBuf::from("ufc-harness.toml")).filter(|p| p.is_file()));
        let config = match &config_path {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|source| SelectionError::ReadConfig { path: path.clone(), source })?;
                toml::from_str::<ConfigFile>(&text)
                    .map_err(|source| SelectionError::InvalidConfig { path: path.clone(), source })?
            }
            None => ConfigFile::default(),
        };
        let config_dir = config_path.as_deref().and_then(Path::parent).map(Path::to_owned).unwrap_or_default();
        let mut entries = config.adapters;
        let mut specs = Vec::new();
        for item in &self.adapters {
            let Some((name, command)) = item.split_once('=') else {
                return Err(SelectionError::AdapterSyntax(item.clone()));
            };
            check_name(name)?;
            specs.push(PartySpec { name: name.to_owned(), command: shell(command), known_failures: manifest_of(name) });
        }
        let cache = install::cache_dir();
        for name in &self.sdks {
            check_name(name)?;
            if specs.iter().any(|s| &s.name == name) {
                continue;
            }
            if let Some(entry) = entries.remove(name) {
                let known_failures = entry.known_failures.map(|p| config_dir.join(p)).or_else(|| manifest_of(name));
                specs.push(PartySpec { name: name.clone(), command: entry.command.argv(), known_failures });
                continue;
            }
            let command = match install::installed(name, &cache) {
                install::Installed::Current(command) => command,
                install::Installed::Stale => {
                    eprintln!("the {name} adapter changed since it was installed: installing it again ...");
                    install::install(name, &cache)?
                }
                install::Installed::Missing => {
                    eprintln!("installing the {name} adapter into {} ...", cache.display());
                    install::install(name, &cache)?
                }
            };
            specs.push(PartySpec { name: name.clone(), command, known_failures: manifest_of(name) });
        }
        Ok(specs)
    }
}

/// A name is letters, digits, '-' and '_', optionally followed by
/// `@VERSION` (a bundled adapter at another SDK version).
fn check_name(name: &str) -> Result<(), SelectionError> {
    let (base, version) = install::split_version(name);
    let word = |text: &str, extra: &str| {
        !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || extra.contains(c))
    };
    if base == "reference" || !word(base, "-_") || version.is_some_and(|v| !word(v, ".+-")) {
        return Err(SelectionError::BadName(name.to_owned()));
    }
    Ok(())
}

/// The manifest of an SDK: its adapter's, whatever the version (entries
/// carry the versions they apply to).
fn manifest_of(name: &str) -> Option<PathBuf> {
    locations::known_failures(install::split_version(name).0)
}

/// Starts every SDK party at once (start-up is the slow part). One that
/// fails to start becomes an [`UnavailableParty`].
pub fn spawn(specs: &[PartySpec], options: &AdapterOptions) -> Vec<Box<dyn Party>> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = specs
            .iter()
            .map(|spec| {
                let options = options.clone();
                scope.spawn(move || -> Box<dyn Party> {
                    match AdapterParty::spawn(&spec.name, spec.command.clone(), options) {
                        Ok(party) => Box::new(party),
                        Err(err) => {
                            eprintln!("warning: {err}");
                            Box::new(UnavailableParty::new(&spec.name, err.to_string()))
                        }
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .zip(specs)
            .map(|(h, spec)| {
                h.join().unwrap_or_else(|_| Box::new(UnavailableParty::new(&spec.name, "start-up panicked".into())))
            })
            .collect()
    })
}
