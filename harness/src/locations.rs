//! Where the harness finds its own files: the known-failure manifests, the
//! adapters' sources, the built-in suite and the adapter cache.
//!
//! They live in the project's checkout. The checkout is found, in order:
//! `$UFC_HARNESS_HOME`; the nearest folder above the running binary that
//! holds `harness/expectations/` (a binary under `target/` in a clone); the
//! folder the harness was built from. The first keeps an installed binary
//! usable; the second keeps a moved clone working.

use std::path::{Path, PathBuf};

/// The environment variable naming the checkout.
pub const HOME_VARIABLE: &str = "UFC_HARNESS_HOME";

fn is_checkout(dir: &Path) -> bool {
    dir.join("harness").join("expectations").is_dir()
}

/// The project's checkout.
pub fn checkout() -> PathBuf {
    if let Some(home) = std::env::var_os(HOME_VARIABLE).filter(|v| !v.is_empty()) {
        return PathBuf::from(home);
    }
    let beside_binary = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().skip(1).find(|dir| is_checkout(dir)).map(Path::to_owned));
    beside_binary.unwrap_or_else(|| {
        let built_from = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        built_from.canonicalize().unwrap_or(built_from)
    })
}

/// `harness/expectations/<name>.toml`, when it exists.
pub fn known_failures(name: &str) -> Option<PathBuf> {
    let path = checkout().join("harness").join("expectations").join(format!("{name}.toml"));
    path.is_file().then_some(path)
}

/// Where the bundled adapters' sources live.
pub fn adapters_source_dir() -> PathBuf {
    checkout().join("harness").join("adapters")
}

/// The built-in suite (`test-cases/` and `ufc-fixtures/`): the current
/// directory when it holds one, else the checkout.
pub fn builtin_suite() -> PathBuf {
    let here = PathBuf::from(".");
    if here.join("test-cases").is_dir() && here.join("ufc-fixtures").is_dir() {
        return here;
    }
    checkout()
}

/// The adapter cache: `$UFC_HARNESS_CACHE`, else `target/ufc-adapters` in
/// the checkout.
pub fn adapter_cache() -> PathBuf {
    match std::env::var_os("UFC_HARNESS_CACHE") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => checkout().join("target").join("ufc-adapters"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checkout_holds_the_manifests_and_the_suite() {
        let root = checkout();
        assert!(is_checkout(&root), "{} is not a checkout", root.display());
        assert!(known_failures("node").is_some());
        assert!(known_failures("no-such-sdk").is_none());
        assert!(adapters_source_dir().join("node").join("install.sh").is_file());
    }
}
