//! The command line's stdout when the reader goes away early
//! (`ufc-harness run --format json | head -1`): no panic, same exit code.

use std::io::Read;
use std::process::{Command, Stdio};

#[test]
fn a_closed_stdout_neither_panics_nor_changes_the_exit_code() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ufc-harness"))
        .args(["run", "--format", "json"])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ufc-harness starts");
    // Read one byte, then hang up: the report is far larger than a pipe's buffer.
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut first = [0u8; 1];
    stdout.read_exact(&mut first).expect("the report starts");
    drop(stdout);
    let mut stderr = String::new();
    child.stderr.take().expect("piped stderr").read_to_string(&mut stderr).expect("stderr is text");
    let status = child.wait().expect("ufc-harness ends");
    assert_eq!(&first, b"{");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(status.code(), Some(0), "the built-in suite passes whether or not anyone reads the report");
}
