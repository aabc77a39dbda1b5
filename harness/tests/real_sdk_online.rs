//! The online capability of the bundled adapters, proven against their real
//! SDKs: `harness/adapters/smoke.py --only-online` serves the shared flags
//! file from a loopback HTTP server, inits the SDK against it, evaluates,
//! changes the configuration and waits (bounded) for a poll to bring it,
//! checks the events, the SDK's cache and a throwing logger where offered,
//! and that no request follows `stopClient`. One test per adapter that
//! declares `online` (python, node, rust, python-pure, js-client, java), so
//! they run side by side; the Rust SDK polls every 30 s whatever it is asked,
//! so its test takes about half a minute.
//!
//! Installing the adapters needs the package registries the first time.

// Test helpers outside #[test] functions fail by panicking too.
#![allow(clippy::panic)]

mod common;

use std::process::Command;

/// Runs the online smoke check against one installed adapter and asserts
/// it declared `online` and passed; returns its output for further checks.
fn online_smoke(name: &str) -> String {
    common::install(&[name]);
    let cache = ufc_harness::install::cache_dir();
    let run = ufc_harness::install::installed_command(name, &cache)
        .and_then(|command| command.into_iter().next())
        .unwrap_or_else(|| panic!("{name} is not installed in {}", cache.display()));
    let smoke = ufc_harness::locations::adapters_source_dir().join("smoke.py");
    let output = Command::new("python3").arg(&smoke).arg(&run).arg("--only-online").output().expect("python3 runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let tail: String =
        stderr.lines().rev().take(20).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n");
    assert!(!stdout.contains("online: not declared"), "{name} does not declare online:\n{stdout}");
    assert!(output.status.success() && stdout.contains("online: ok"), "{name}:\n{stdout}\nstderr tail:\n{tail}");
    stdout
}

#[test]
fn python_serves_polls_and_stops_online() {
    let out = online_smoke("python");
    // eppo-server-sdk wraps its logger in its own cache on request and
    // swallows a logger's exception.
    assert!(out.contains("the SDK swallows a throwing logger's error"), "{out}");
}

#[test]
fn node_serves_polls_and_stops_online() {
    let out = online_smoke("node");
    assert!(out.contains("the SDK swallows a throwing logger's error"), "{out}");
}

#[test]
fn rust_serves_polls_and_stops_online() {
    let out = online_smoke("rust");
    // The eppo crate calls its logger bare: a panic there escapes.
    assert!(out.contains("the SDK lets a throwing logger's error escape the evaluation"), "{out}");
}

#[test]
fn python_pure_serves_polls_and_stops_online() {
    let out = online_smoke("python-pure");
    // 3.7.0 catches a logger's exception and logs it.
    assert!(out.contains("the SDK swallows a throwing logger's error"), "{out}");
}

#[test]
fn js_client_serves_polls_and_stops_online() {
    let out = online_smoke("js-client");
    // The JS core's own fetching path, named as itself on the wire; it
    // catches a logger's exception and logs it.
    assert!(out.contains("sdkName='js-client-sdk-common'"), "{out}");
    assert!(out.contains("the SDK swallows a throwing logger's error"), "{out}");
}

#[test]
fn java_serves_polls_and_stops_online() {
    let out = online_smoke("java");
    // The JVM core catches a logger's exception around the call and logs it.
    assert!(out.contains("the SDK swallows a throwing logger's error"), "{out}");
    // What the SDK's ordinary start does: one synchronous fetch before init returns.
    assert!(out.contains("the SDK says initialized=True"), "{out}");
}
