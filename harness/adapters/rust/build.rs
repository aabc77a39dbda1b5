//! Reads the resolved version of the `eppo` crate from Cargo.lock so the
//! adapter can report the exact SDK version it was built against; the
//! build fails when it cannot.

fn main() {
    let lock_path = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.lock");
    println!("cargo:rerun-if-changed={lock_path}");
    let lock = std::fs::read_to_string(lock_path).unwrap_or_default();
    // Each package is a `[[package]]` block: `name = "..."` then `version = "..."`.
    let version = lock
        .split("[[package]]")
        .find(|block| block.lines().any(|l| l.trim() == "name = \"eppo\""))
        .and_then(|block| block.lines().find_map(|l| l.trim().strip_prefix("version = ")))
        .map(|v| v.trim_matches('"').to_owned())
        // An adapter that cannot say its SDK's version would not get its
        // manifest applied (entries are per version): refuse to build.
        .unwrap_or_else(|| panic!("no `eppo` package with a version in {lock_path}"));
    println!("cargo:rustc-env=EPPO_SDK_VERSION={version}");
}
