//! Installing the bundled adapters (`harness/adapters/<name>/install.sh`)
//! into a cache folder. Each install script is idempotent, pins its SDK
//! version, and leaves an executable `run` script that starts the adapter.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The adapters shipped with the harness.
pub const BUNDLED: [&str; 4] = ["python", "node", "rust", "java"];

/// Where the adapters' sources live.
pub fn adapters_source_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("adapters")
}

/// The cache folder: `$UFC_HARNESS_CACHE`, else `target/ufc-adapters` in the
/// workspace.
pub fn cache_dir() -> PathBuf {
    match std::env::var_os("UFC_HARNESS_CACHE") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("target").join("ufc-adapters"),
    }
}

/// The command that starts an installed bundled adapter, if installed.
pub fn installed_command(name: &str, cache: &Path) -> Option<Vec<String>> {
    let run = cache.join(name).join("run");
    run.is_file().then(|| vec![run.to_string_lossy().into_owned()])
}

/// An adapter that could not be installed.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// Not one of [`BUNDLED`].
    #[error(
        "no bundled adapter named {0:?} (bundled: python, node, rust, java); use --adapter NAME=COMMAND for others"
    )]
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
    if !BUNDLED.contains(&name) {
        return Err(InstallError::Unknown(name.to_owned()));
    }
    let script = adapters_source_dir().join(name).join("install.sh");
    let dest = cache.join(name);
    let status = Command::new("bash")
        .arg(&script)
        .arg(&dest)
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
