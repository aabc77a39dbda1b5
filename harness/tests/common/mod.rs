//! What the real-SDK tests share: installing bundled adapters once per test
//! binary, running the built-in suite through the binary, and reading the
//! JSON report.

// Each test binary uses a different part of this module.
#![allow(dead_code, clippy::panic)]

use std::collections::HashSet;
use std::process::Command;
use std::sync::Mutex;

use serde_json::Value;

/// Installs the named bundled adapters (each once per test binary); panics
/// with the installer's message when one cannot be installed.
pub fn install(names: &[&str]) {
    static INSTALLED: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    let mut installed = INSTALLED.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let installed = installed.get_or_insert_with(HashSet::new);
    for name in names {
        if installed.contains(*name) {
            continue;
        }
        if let Err(err) = ufc_harness::install::install(name, &ufc_harness::install::cache_dir()) {
            panic!("the {name} adapter installs: {err}");
        }
        installed.insert((*name).to_owned());
    }
}

/// The built-in suite against `sdks` (comma-separated): the exit code and
/// the JSON report.
pub fn run_builtin_suite(sdks: &str, extra: &[&str]) -> (i32, Value) {
    install(&sdks.split(',').collect::<Vec<_>>());
    let output = Command::new(env!("CARGO_BIN_EXE_ufc-harness"))
        .args(["run", "--sdk", sdks, "--format", "json"])
        .args(extra)
        .output()
        .expect("ufc-harness runs");
    let report: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|err| panic!("not a JSON report ({err}); stderr: {}", String::from_utf8_lossy(&output.stderr)));
    (output.status.code().unwrap_or(-1), report)
}

/// The report's entry for one party.
pub fn party<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["parties"]
        .as_array()
        .and_then(|parties| parties.iter().find(|p| p["name"] == name))
        .unwrap_or_else(|| panic!("no party {name} in the report"))
}

/// A party's passed, failed, errored, skipped, known failures, unexpected passes.
pub fn counts(report: &Value, name: &str) -> [u64; 6] {
    let summary = &party(report, name)["summary"];
    ["passed", "failed", "errored", "skipped", "knownFailures", "unexpectedPasses"]
        .map(|key| summary[key].as_u64().unwrap_or(u64::MAX))
}
