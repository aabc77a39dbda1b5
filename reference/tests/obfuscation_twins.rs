//! The CLIENT-format twins of the built-in fixtures were written by
//! `ufc-fixtures/obfuscate.py`, a Python implementation of spec section 6
//! independent of this crate. The crate's own obfuscator must write the
//! same documents, and reading either back must give the same flags.

// Test helpers outside #[test] functions fail by panicking too.
#![allow(clippy::panic)]

use std::path::Path;

use serde_json::Value;
use ufc_reference::obfuscation::obfuscate_configuration;

fn read(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

#[test]
fn the_obfuscator_writes_the_twins_the_python_script_wrote() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ufc-fixtures");
    let mut compared = 0;
    for group in ["allocations", "coercions", "operators", "splits"] {
        let plain = read(&fixtures.join(group).join("flags-v1.json"));
        let twin = read(&fixtures.join(group).join("flags-v1-obfuscated.json"));
        assert_eq!(obfuscate_configuration(&plain), twin, "{group}");
        compared += 1;
    }
    assert_eq!(compared, 4);
}
