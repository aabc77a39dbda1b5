//! Reads the resolved versions of the `eppo` and `eppo_core` crates from
//! Cargo.lock, so the adapter reports the exact SDK version it was built
//! against and compiles the API that version has (install.sh builds any
//! published `eppo`); the build fails when it cannot.
//!
//! The API differences the adapter bridges, as cfgs:
//! - `eppo_str`: `eppo` 4.0 and later take subject keys as the core's
//!   `Str` and attributes as `Arc<Attributes>` (3.x: `&str`, `&Attributes`);
//! - `eppo_wait_timeout`: `PollerThread::wait_for_configuration_timeout`
//!   arrived in `eppo` 5.2.0;
//! - `eppo_tagged_values`: `eppo_core` 4.0 and later give a detail's
//!   variation value as `{"type", "value"}` (before: the bare JSON value);
//! - `eppo_precompute`: `eppo_core` 7.0 and later can precompute.

/// The version Cargo.lock resolved for `name`. Each package is a
/// `[[package]]` block: `name = "..."` then `version = "..."`.
fn locked(lock: &str, name: &str) -> Option<String> {
    lock.split("[[package]]")
        .find(|block| block.lines().any(|l| l.trim() == format!("name = \"{name}\"")))?
        .lines()
        .find_map(|l| l.trim().strip_prefix("version = "))
        .map(|v| v.trim_matches('"').to_owned())
}

/// `5.2.1` -> (5, 2).
fn major_minor(version: &str) -> Option<(u64, u64)> {
    let mut parts = version.split('.').map(|p| p.parse::<u64>().ok());
    Some((parts.next()??, parts.next()??))
}

fn main() {
    // Read at run time: install.sh builds release manifests of its own.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".to_owned());
    let lock_path = format!("{manifest_dir}/Cargo.lock");
    println!("cargo:rerun-if-changed={lock_path}");
    for cfg in ["eppo_str", "eppo_wait_timeout", "eppo_tagged_values", "eppo_precompute"] {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
    }
    let lock = std::fs::read_to_string(&lock_path).unwrap_or_default();
    // An adapter that cannot say its SDK's version would not get its
    // manifest applied (entries are per version): refuse to build.
    let version = locked(&lock, "eppo").unwrap_or_else(|| panic!("no `eppo` package with a version in {lock_path}"));
    let sdk = major_minor(&version).unwrap_or_else(|| panic!("`eppo` {version} in {lock_path} is not x.y.z"));
    let core = locked(&lock, "eppo_core")
        .as_deref()
        .and_then(major_minor)
        .unwrap_or_else(|| panic!("no `eppo_core` package with an x.y.z version in {lock_path}"));
    println!("cargo:rustc-env=EPPO_SDK_VERSION={version}");
    if sdk >= (4, 0) {
        println!("cargo:rustc-cfg=eppo_str");
    }
    if sdk >= (5, 2) {
        println!("cargo:rustc-cfg=eppo_wait_timeout");
    }
    if core >= (4, 0) {
        println!("cargo:rustc-cfg=eppo_tagged_values");
    }
    if core >= (7, 0) {
        println!("cargo:rustc-cfg=eppo_precompute");
    }
}
