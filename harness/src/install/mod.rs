//! Installing the bundled adapters (`harness/adapters/<name>/install.sh`)
//! into a cache folder. Each install script is idempotent, pins its SDK
//! version, and leaves an executable `run` script that starts the adapter.
//! An install made from other sources than today's is stale ([`stamp`]).

mod stamp;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

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

/// What the cache holds for an adapter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Installed {
    /// Installed from today's sources: the command that starts it.
    Current(Vec<String>),
    /// Installed, but from other sources (changed since, or a checkout
    /// elsewhere): install it again before use.
    Stale,
    /// Not installed.
    Missing,
}

/// What the cache holds for the bundled adapter `name` (`NAME[@VERSION]`).
pub fn installed(name: &str, cache: &Path) -> Installed {
    installed_from(&adapters_source_dir(), name, cache)
}

fn installed_from(sources: &Path, name: &str, cache: &Path) -> Installed {
    let dest = cache.join(name);
    let run = dest.join("run");
    if !run.is_file() {
        return Installed::Missing;
    }
    if !stamp::matches(&dest, &stamp::fingerprint(sources, split_version(name).0, name)) {
        return Installed::Stale;
    }
    Installed::Current(vec![run.to_string_lossy().into_owned()])
}

/// The command that starts an installed bundled adapter, if it is installed
/// from today's sources.
pub fn installed_command(name: &str, cache: &Path) -> Option<Vec<String>> {
    match installed(name, cache) {
        Installed::Current(command) => Some(command),
        Installed::Stale | Installed::Missing => None,
    }
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
        return Err(InstallError::Failed {
            name: adapter.to_owned(),
            status: output.status.to_string(),
            last_words: String::new(),
        });
    }
    Ok(listed_versions(&String::from_utf8_lossy(&output.stdout)))
}

/// The versions in a `--list-versions` answer: one a line, blank lines and
/// surrounding space ignored.
fn listed_versions(text: &str) -> Vec<String> {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect()
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
    #[error("installing the {name} adapter failed ({status}){}", if last_words.is_empty() { "; its output is above".to_owned() } else { format!(": {last_words}") })]
    Failed {
        /// The adapter.
        name: String,
        /// How the script ended.
        status: String,
        /// The script's last line on stderr, which says why (a missing
        /// API, a version the registry does not serve); may be empty.
        last_words: String,
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
    install_from(&adapters_source_dir(), name, cache)
}

fn install_from(sources: &Path, name: &str, cache: &Path) -> Result<Vec<String>, InstallError> {
    let (adapter, version) = checked(name)?;
    let script = sources.join(adapter).join("install.sh");
    let dest = cache.join(name);
    // Taken before the script runs: sources edited meanwhile leave the
    // install stale, never current.
    let fingerprint = stamp::fingerprint(sources, adapter, name);
    let mut child = Command::new("bash")
        .arg(&script)
        .arg(&dest)
        .args(version)
        .stdout(Stdio::from(std::io::stderr()))
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| InstallError::Spawn { script: script.display().to_string(), source })?;
    // Pass the script's progress on as it comes, keeping its last line: a
    // failing script ends with why.
    let mut last_words = String::new();
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("{line}");
            let words = plain(&line);
            if !words.is_empty() {
                last_words = words;
            }
        }
    }
    let status = child.wait().map_err(|source| InstallError::Spawn { script: script.display().to_string(), source })?;
    if !status.success() {
        return Err(InstallError::Failed { name: name.to_owned(), status: status.to_string(), last_words });
    }
    let failed = |status: String| InstallError::Failed { name: name.to_owned(), status, last_words: String::new() };
    if !dest.join("run").is_file() {
        return Err(failed("finished without writing its run script".into()));
    }
    stamp::record(&dest, &fingerprint)
        .map_err(|e| failed(format!("finished, but recording what it was made from failed: {e}")))?;
    match installed_from(sources, name, cache) {
        Installed::Current(command) => Ok(command),
        Installed::Stale | Installed::Missing => Err(failed("its sources changed while it ran; install again".into())),
    }
}

/// A line of a script's output as words: colour codes (`ESC [ ... m`,
/// which build tools print even to a pipe) and other control characters
/// removed, surrounding space trimmed.
fn plain(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // Skip to the end of the escape sequence: a letter ends it.
            for next in chars.by_ref() {
                if next.is_ascii_alphabetic() {
                    break;
                }
            }
        } else if !c.is_control() {
            out.push(c);
        }
    }
    out.trim().to_owned()
}

/// `NAME[@VERSION]` as a bundled adapter and the version to give its
/// script, which becomes an argument: letters, digits, '.', '+', '-' only.
fn checked(name: &str) -> Result<(&str, Option<&str>), InstallError> {
    let (adapter, version) = split_version(name);
    if !BUNDLED.contains(&adapter) {
        return Err(InstallError::Unknown(name.to_owned()));
    }
    if let Some(version) = version {
        if version.is_empty() || !version.chars().all(|c| c.is_ascii_alphanumeric() || ".+-".contains(c)) {
            return Err(InstallError::BadVersion(name.to_owned()));
        }
    }
    Ok((adapter, version))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An adapters' folder with a `python` adapter whose script writes
    /// `run`, and the shared helpers it is made from.
    fn sources() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        let adapter = dir.path().join("python");
        std::fs::create_dir_all(&adapter).expect("adapter folder");
        std::fs::create_dir_all(dir.path().join("python-shared")).expect("shared folder");
        std::fs::write(
            adapter.join("install.sh"),
            "set -e; mkdir -p \"$1\"; printf '#!/bin/sh\\necho hi\\n' > \"$1/run\"; chmod +x \"$1/run\"\n",
        )
        .expect("script");
        std::fs::write(adapter.join("adapter.py"), "print('v1')\n").expect("adapter");
        std::fs::write(dir.path().join("python-shared/common.py"), "X = 1\n").expect("helper");
        dir
    }

    #[test]
    fn an_install_is_stale_once_its_sources_or_shared_helpers_change() {
        let (sources, cache) = (sources(), tempfile::tempdir().expect("cache"));
        let (sources, cache) = (sources.path(), cache.path());
        assert_eq!(installed_from(sources, "python", cache), Installed::Missing);
        let command = install_from(sources, "python", cache).expect("installs");
        assert_eq!(installed_from(sources, "python", cache), Installed::Current(command.clone()));
        // Another version is another install, with a stamp of its own.
        assert_eq!(installed_from(sources, "python@4.3.1", cache), Installed::Missing);

        std::fs::write(sources.join("python/adapter.py"), "print('v2')\n").expect("edit");
        assert_eq!(installed_from(sources, "python", cache), Installed::Stale);
        install_from(sources, "python", cache).expect("installs again");
        assert_eq!(installed_from(sources, "python", cache), Installed::Current(command));

        std::fs::write(sources.join("python-shared/common.py"), "X = 2\n").expect("edit");
        assert_eq!(installed_from(sources, "python", cache), Installed::Stale);

        // What installers leave in the sources is not a change.
        install_from(sources, "python", cache).expect("installs again");
        std::fs::create_dir_all(sources.join("python/__pycache__")).expect("cache folder");
        std::fs::write(sources.join("python/__pycache__/adapter.pyc"), "bytes").expect("pyc");
        assert!(matches!(installed_from(sources, "python", cache), Installed::Current(_)));
    }

    #[test]
    fn an_install_from_a_checkout_elsewhere_is_stale() {
        let (first, second, cache) = (sources(), sources(), tempfile::tempdir().expect("cache"));
        install_from(first.path(), "python", cache.path()).expect("installs");
        // The same files in another place: the run script names the first.
        assert_eq!(installed_from(second.path(), "python", cache.path()), Installed::Stale);
    }

    #[test]
    fn a_name_splits_at_the_first_at_sign() {
        assert_eq!(split_version("python@4.3.1"), ("python", Some("4.3.1")));
        assert_eq!(split_version("js-client"), ("js-client", None));
        assert_eq!(split_version("rust@"), ("rust", Some("")));
    }

    #[test]
    fn only_bundled_adapters_with_plain_versions_are_installed() {
        assert_eq!(checked("java@3.8.0").ok(), Some(("java", Some("3.8.0"))));
        assert_eq!(checked("node").ok(), Some(("node", None)));
        assert_eq!(checked("rust@5.0.0-rc.1+build.2").ok(), Some(("rust", Some("5.0.0-rc.1+build.2"))));
        assert!(matches!(checked("go@1.0.0"), Err(InstallError::Unknown(_))));
        for bad in ["python@", "python@4.3.1;rm -rf", "node@$(id)", "java@3 .8"] {
            assert!(matches!(checked(bad), Err(InstallError::BadVersion(_))), "{bad}");
        }
    }

    #[test]
    fn a_version_list_is_one_version_a_line() {
        assert_eq!(listed_versions("3.0.2\n 4.8.4 \n\n4.14.4"), ["3.0.2", "4.8.4", "4.14.4"]);
        assert!(listed_versions("\n").is_empty());
    }

    #[test]
    fn colour_codes_are_not_words() {
        assert_eq!(plain("\u{1b}[0m\u{1b}[0mjava adapter: missing API: x \r"), "java adapter: missing API: x");
        assert_eq!(plain("\u{1b}[1;31merror\u{1b}[0m: y"), "error: y");
        assert_eq!(plain("  "), "");
    }

    #[test]
    fn a_failed_install_says_why_in_the_scripts_last_words() {
        let failed = |last_words: &str| InstallError::Failed {
            name: "java@1.0.0".into(),
            status: "exit status: 1".into(),
            last_words: last_words.into(),
        };
        assert_eq!(
            failed("java adapter: missing API: x").to_string(),
            "installing the java@1.0.0 adapter failed (exit status: 1): java adapter: missing API: x"
        );
        assert!(failed("").to_string().ends_with("its output is above"));
    }
}
