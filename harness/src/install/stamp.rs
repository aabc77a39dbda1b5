//! Whether an installed adapter is still what its sources would install.
//!
//! An install's `run` script names absolute paths into the checkout and its
//! environment was made from the adapter's pins, so a checkout that moved or
//! an adapter whose sources changed (a new pin, a new dependency, edited
//! code a build compiled in) leaves an install that starts old code, or
//! none. Each install records a fingerprint of what it was made from; an
//! install whose fingerprint no longer matches is stale and is installed
//! again before use (the scripts are idempotent, so that is quick when
//! little changed).

use std::path::{Path, PathBuf};

use md5::{Digest, Md5};

/// The file in an install's folder holding its fingerprint.
const STAMP: &str = ".ufc-sources";

/// Folders inside an adapter's sources that are not its sources: what
/// installers or editors leave there.
const NOT_SOURCES: [&str; 6] = ["node_modules", "target", "__pycache__", "venv", ".venv", ".git"];

/// What an install is made from besides its own folder, relative to the
/// adapters' folder: the helpers the scripts or the code pull in.
fn shared_inputs(adapter: &str) -> &'static [&'static str] {
    match adapter {
        "python" | "python-pure" => &["python-shared"],
        "node" | "js-client" => &["npm-adapter.sh"],
        // Built against the protocol crate of this checkout.
        "rust" => &["../../protocol/src", "../../protocol/Cargo.toml"],
        _ => &[],
    }
}

/// The fingerprint of `adapter`'s sources under `sources` (the adapters'
/// folder), for the install named `name` (with its version, if any): every
/// input file's path and bytes, and where the checkout is.
pub(super) fn fingerprint(sources: &Path, adapter: &str, name: &str) -> String {
    let mut files = Vec::new();
    collect(&sources.join(adapter), &mut files);
    for input in shared_inputs(adapter) {
        collect(&sources.join(input), &mut files);
    }
    files.sort();
    let mut hash = Md5::new();
    hash.update(name.as_bytes());
    hash.update([0]);
    hash.update(sources.to_string_lossy().as_bytes());
    for file in files {
        hash.update([0]);
        hash.update(file.to_string_lossy().as_bytes());
        hash.update([0]);
        // An unreadable file counts as empty: it changes the hash when it
        // becomes readable, and the install script says what is wrong.
        hash.update(std::fs::read(&file).unwrap_or_default());
    }
    format!("{:x}", hash.finalize())
}

/// Every file under `path` (or `path` itself), skipping [`NOT_SOURCES`].
fn collect(path: &Path, files: &mut Vec<PathBuf>) {
    let Ok(meta) = std::fs::metadata(path) else { return };
    if meta.is_file() {
        files.push(path.to_path_buf());
        return;
    }
    let Ok(entries) = std::fs::read_dir(path) else { return };
    for entry in entries.flatten() {
        let skipped = entry.file_name().to_str().is_some_and(|n| NOT_SOURCES.contains(&n));
        if !skipped {
            collect(&entry.path(), files);
        }
    }
}

/// Records that the install in `dest` was made from `fingerprint`.
pub(super) fn record(dest: &Path, fingerprint: &str) -> std::io::Result<()> {
    std::fs::write(dest.join(STAMP), format!("{fingerprint}\n"))
}

/// Whether the install in `dest` was made from `fingerprint`.
pub(super) fn matches(dest: &Path, fingerprint: &str) -> bool {
    std::fs::read_to_string(dest.join(STAMP)).is_ok_and(|text| text.trim() == fingerprint)
}
