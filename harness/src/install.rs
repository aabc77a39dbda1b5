//! Installing the bundled adapters (`harness/adapters/<name>/install.sh`)
//! into a cache folder. Each install script is idempotent, pins its SDK
//! version, and leaves an executable `run` script that starts the adapter.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The adapters shipped with the harness.
pub const BUNDLED: [&str; 6] = ["python", "python-pure", "node", "js-client", "rust", "java"];

/// Where the adapters' sources live.
pub fn adapters_source_dir() -> PathBuf {
    crate::locations::adapters_source_dir()
}

/// The cache folder: `$UFC_HARNESS_CACHE`, else `target/ufc-adapters` in the
/// checkout.
pub fn cache_dir() -> PathBuf {
    crate::locations::adapter_cache()
}

/// The command that starts an installed bundled adapter, if installed.
pub fn installed_command(name: &str, cache: &Path) -> Option<Vec<String>> {
    let run = cache.join(name).join("run");
    run.is_file().then(|| vec![run.to_string_lossy().into_owned()])
}

/// The SDK versions the adapter's registry publishes, as its install script
/// lists them (`install.sh --list-versions`, one per line).
pub fn published_versions(adapter: &str) -> Result<Vec<String>, InstallError> {
    if !BUNDLED.contains(&adapter) {
        return Err(InstallError::Unknown(adapter.to_owned()));
    }
    let script = adapters_source_dir().join(adapter).join("install.sh");
    let output = Command::new("bash")
        .arg(&script)
        .arg("--list-versions")
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|source| InstallError::Spawn { script: script.display().to_string(), source })?;
    if !output.status.success() {
        return Err(InstallError::Failed { name: adapter.to_owned(), status: output.status.to_string() });
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect())
}

/// `python@4.3.1` → (`python`, `Some("4.3.1")`); `python` → (`python`, `None`).
/// The version is the SDK's: `install.sh DEST VERSION` installs it beside
/// the pinned one, in its own folder of the cache.
pub fn split_version(name: &str) -> (&str, Option<&str>) {
    match name.split_once('@') {
        Some((adapter, version)) => (adapter, Some(version)),
        None => (name, None),
    }
}

/// An adapter that could not be installed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InstallError {
    /// `NAME@VERSION` with a version that cannot be one.
    #[error("{0:?}: the version after '@' must be letters, digits, '.', '+' or '-'")]
    BadVersion(String),
    /// Not one of [`BUNDLED`].
    #[error("no bundled adapter named {0:?} (bundled: python, python-pure, node, js-client, rust, java); use --adapter NAME=COMMAND for others")]
    Unknown(String),
    /// The script failed.
    #[error("installing the {name} adapter failed ({status}); its output is above")]
    Failed {
        /// The adapter.
        name: String,
        /// How the script ended.
        status: String,
    },
    /// The script could not be started.
    #[error("cannot run {script}: {source}")]
    Spawn {
        /// The script.
        script: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Installs (or checks) one bundled adapter; returns its start command.
/// The script's progress goes to this process's stderr.
pub fn install(name: &str, cache: &Path) -> Result<Vec<String>, InstallError> {
    let (adapter, version) = split_version(name);
    if !BUNDLED.contains(&adapter) {
        return Err(InstallError::Unknown(name.to_owned()));
    }
    if let Some(version) = version {
        if version.is_empty() || !version.chars().all(|c| c.is_ascii_alphanumeric() || ".+-".contains(c)) {
            return Err(InstallError::BadVersion(name.to_owned()));
        }
    }
    let script = adapters_source_dir().join(adapter).join("install.sh");
    let dest = cache.join(name);
    let status = Command::new("bash")
        .arg(&script)
        .arg(&dest)
        .args(version)
        .stdout(std::process::Stdio::from(std::io::stderr()))
        .status()
        .map_err(|source| InstallError::Spawn { script: script.display().to_string(), source })?;
    if !status.success() {
        return Err(InstallError::Failed { name: name.to_owned(), status: status.to_string() });
    }
    installed_command(name, cache).ok_or_else(|| InstallError::Failed {
        name: name.to_owned(),
        status: "finished without writing its run script".into(),
    })
}
