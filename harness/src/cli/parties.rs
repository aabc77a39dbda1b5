//! Which parties a command talks to: the reference, bundled SDK adapters
//! (`--sdk`), any program speaking the protocol (`--adapter NAME=COMMAND`)
//! and adapters named in a config file (`ufc-harness.toml`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use serde::Deserialize;
use ufc_harness::install;
use ufc_harness::party::adapter::{AdapterOptions, AdapterParty};
use ufc_harness::party::unavailable::UnavailableParty;
use ufc_harness::party::Party;

/// Options shared by every command that drives SDKs.
#[derive(clap::Args, Clone)]
pub(super) struct PartyArgs {
    /// SDKs to drive: bundled adapters (python, node, rust) or names from the config file.
    #[arg(long, value_delimiter = ',', value_name = "NAME,...")]
    pub sdk: Vec<String>,
    /// Any adapter program: NAME=COMMAND (run by `sh -c`). Repeatable.
    #[arg(long, value_name = "NAME=COMMAND")]
    pub adapter: Vec<String>,
    /// Adapter config file (default: ./ufc-harness.toml when present).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Seconds an adapter has to start and answer `hello`.
    #[arg(long, value_name = "SECS", default_value = "60")]
    pub startup_timeout: f64,
    /// Seconds an adapter has to answer each request.
    #[arg(long, value_name = "SECS", default_value = "30")]
    pub request_timeout: f64,
    /// Restarts allowed per adapter after a crash or hang.
    #[arg(long, value_name = "N", default_value = "3")]
    pub max_restarts: u32,
}

/// The config file: `[adapters.NAME] command = "..." | [...], known_failures = "FILE"`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    adapters: std::collections::BTreeMap<String, AdapterEntry>,
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

/// An SDK party to start.
pub(super) struct PartySpec {
    pub name: String,
    pub command: Vec<String>,
    pub known_failures: Option<PathBuf>,
}

/// Resolves `--sdk`, `--adapter` and the config file into start commands,
/// installing bundled adapters that are missing.
pub(super) fn resolve(args: &PartyArgs) -> anyhow::Result<Vec<PartySpec>> {
    let config_path = args.config.clone().or_else(|| Some(PathBuf::from("ufc-harness.toml")).filter(|p| p.is_file()));
    let config = match &config_path {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            toml::from_str::<ConfigFile>(&text)
                .with_context(|| format!("{} is not a valid adapter config", path.display()))?
        }
        None => ConfigFile::default(),
    };
    let config_dir = config_path.as_deref().and_then(Path::parent).map(Path::to_owned).unwrap_or_default();
    let mut entries = config.adapters;
    let mut specs = Vec::new();
    for item in &args.adapter {
        let Some((name, command)) = item.split_once('=') else {
            bail!("--adapter {item:?}: expected NAME=COMMAND");
        };
        check_name(name)?;
        specs.push(PartySpec {
            name: name.to_owned(),
            command: shell(command),
            known_failures: default_manifest(name),
        });
    }
    let cache = install::cache_dir();
    for name in &args.sdk {
        check_name(name)?;
        if specs.iter().any(|s| &s.name == name) {
            continue;
        }
        if let Some(entry) = entries.remove(name) {
            let known_failures = entry.known_failures.map(|p| config_dir.join(p)).or_else(|| default_manifest(name));
            specs.push(PartySpec { name: name.clone(), command: entry.command.argv(), known_failures });
            continue;
        }
        let command = match install::installed_command(name, &cache) {
            Some(command) => command,
            None => {
                eprintln!("installing the {name} adapter into {} ...", cache.display());
                install::install(name, &cache)?
            }
        };
        specs.push(PartySpec { name: name.clone(), command, known_failures: default_manifest(name) });
    }
    Ok(specs)
}

fn check_name(name: &str) -> anyhow::Result<()> {
    if name.is_empty()
        || name == "reference"
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        bail!("{name:?} cannot name an SDK: use letters, digits, '-' or '_', and not \"reference\"");
    }
    Ok(())
}

/// `harness/expectations/<name>.toml`, when it exists.
fn default_manifest(name: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("expectations").join(format!("{name}.toml"));
    path.is_file().then_some(path)
}

/// Starts every SDK party at once (start-up is the slow part). One that
/// fails to start becomes an [`UnavailableParty`], so its cases error and
/// the rest of the run goes on.
pub(super) fn spawn(specs: &[PartySpec], args: &PartyArgs) -> Vec<Box<dyn Party>> {
    let options = AdapterOptions {
        startup_timeout: Duration::from_secs_f64(args.startup_timeout.max(0.1)),
        request_timeout: Duration::from_secs_f64(args.request_timeout.max(0.1)),
        max_restarts: args.max_restarts,
        ..AdapterOptions::default()
    };
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
