//! The cross-SDK report's lifecycle section, from the real binary: the
//! fake adapter honest, with a lifecycle fault, and without the "online"
//! capability, against two built-in scenarios; and `--no-scenarios`
//! leaving the section out.

// Helpers outside #[test] functions fail by panicking too.
#![allow(clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `names` of the built-in scenarios, copied into `dir` with their
/// configuration paths made absolute (they are relative to their folder).
fn scenarios(dir: &Path, names: &[&str]) {
    let root = root().canonicalize().unwrap_or_else(|e| panic!("{e}"));
    for name in names {
        let file = format!("{name}.json");
        let text = std::fs::read_to_string(root.join("test-cases/scenarios").join(&file))
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let text = text.replace("\"../../", &format!("\"{}/", root.display()));
        std::fs::write(dir.join(&file), text).unwrap_or_else(|e| panic!("{e}"));
    }
}

/// `report` over the built-in suite with three fakes; (exit code, Markdown, HTML).
fn report(extra: &[&str]) -> (i32, String, String) {
    let out = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let fake = env!("CARGO_BIN_EXE_ufc-fake-adapter");
    let adapters =
        [format!("honest={fake}"), format!("repoll={fake} --never-repoll"), format!("offline={fake} --without online")];
    let mut args: Vec<String> = vec!["report".into(), "--suite".into(), "builtin=.".into(), "--out".into()];
    args.push(out.path().to_string_lossy().into_owned());
    for adapter in &adapters {
        args.extend(["--adapter".to_owned(), adapter.clone()]);
    }
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    let output = Command::new(env!("CARGO_BIN_EXE_ufc-harness"))
        .args(&args)
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let read = |name: &str| {
        std::fs::read_to_string(out.path().join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}; stderr: {}", String::from_utf8_lossy(&output.stderr)))
    };
    (output.status.code().unwrap_or(-1), read("cross-sdk.md"), read("cross-sdk.html"))
}

#[test]
fn the_report_shows_each_scenario_per_sdk_and_counts_them() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    scenarios(dir.path(), &["first-fetch-500-then-recovers", "logger-one-event-per-assignment"]);
    let (code, markdown, html) = report(&["--scenarios", &dir.path().to_string_lossy()]);
    assert_eq!(code, 0, "the suites pass for every fake; the scenarios do not decide the exit code");

    let section =
        &markdown[markdown.find("## Lifecycle scenarios").unwrap_or_else(|| panic!("no section:\n{markdown}"))..];
    // Per SDK: passed | known | skipped | failed, counted in scenarios.
    assert!(section.contains("| honest | 2 | 0 | 0 | 0 |"), "{section}");
    assert!(section.contains("| repoll | 1 | 0 | 0 | 1 |"), "{section}");
    assert!(section.contains("| offline | – | – | skipped (no online capability) | – |"), "{section}");
    // Per scenario × SDK.
    assert!(section.contains("| scenario | honest | repoll | offline |"), "{section}");
    assert!(
        section.contains("| first-fetch-500-then-recovers | passed | failed | skipped (no online capability) |"),
        "{section}"
    );
    assert!(
        section.contains("| logger-one-event-per-assignment | passed | passed | skipped (no online capability) |"),
        "{section}"
    );

    let page = &html[html.find("<section id=\"lifecycle\">").unwrap_or_else(|| panic!("no lifecycle section"))..];
    let page = &page[..page.find("</section>").unwrap_or(page.len())];
    assert!(page.contains("<tr><td>first-fetch-500-then-recovers</td><td class=\"passed\">passed</td><td class=\"failed\">failed</td><td class=\"skipped\">skipped (no online capability)</td></tr>"), "{page}");
    assert!(page.contains("<tr><td>repoll</td><td class=\"num\">1</td><td class=\"num\">0</td><td class=\"num\">0</td><td class=\"num\">1</td></tr>"), "{page}");
    assert!(
        html.find("id=\"summary\"") < html.find("id=\"lifecycle\""),
        "the lifecycle section follows the suites' summary"
    );
}

#[test]
fn no_scenarios_leaves_the_section_out() {
    let (code, markdown, html) = report(&["--no-scenarios"]);
    assert_eq!(code, 0);
    assert!(!markdown.contains("Lifecycle scenarios") && !html.contains("id=\"lifecycle\""), "{markdown}");
}
