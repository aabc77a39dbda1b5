//! The HTML report page (issue 15): what `run --html` embeds for the page's
//! script is every outcome of the run's JSON report, with its status,
//! worst severity, cause and diff; the static cause × party matrix counts
//! the same cells; a fuzz run writes `summary.html` whose rows are its
//! findings, each opening the minimized case; `distribution --format html`
//! charts observed against expected shares. The page in a real browser is
//! checked by `harness/browser-check` (`.ci/run`).

// Helpers outside #[test] functions fail by panicking too.
#![allow(clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const FAKE: &str = env!("CARGO_BIN_EXE_ufc-fake-adapter");
const NOW: &str = "2026-01-01T00:00:00Z";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn harness(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ufc-harness"))
        .args(args)
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("ufc-harness does not start: {e}"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The case list the page embeds for its script.
fn embedded(html: &str) -> Value {
    let start = r#"<script type="application/json" id="ufc-data">"#;
    let from = html.find(start).unwrap_or_else(|| panic!("no embedded data in the page")) + start.len();
    let to = from + html[from..].find("</script>").unwrap_or_else(|| panic!("the data element is not closed"));
    serde_json::from_str(&html[from..to]).unwrap_or_else(|e| panic!("the embedded data is not JSON: {e}"))
}

fn strings(value: &Value) -> Vec<&str> {
    value.as_array().map(|items| items.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
}

/// The worst severity of a JSON report case's differences.
fn worst(case: &Value) -> Option<&'static str> {
    let severities: Vec<&str> = case["differences"]
        .as_array()
        .map(|d| d.iter().filter_map(|d| d["severity"].as_str()).collect())
        .unwrap_or_default();
    ["critical", "major", "minor"].into_iter().find(|s| severities.contains(s))
}

#[test]
fn a_run_page_embeds_every_outcome_and_its_matrix_counts_them() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("no temporary directory: {e}"));
    // A manifest for the fake that spoils values: the dates cases are a
    // known failure under a planted cause, the rest fail uncatalogued.
    let manifests = dir.path().join("expectations");
    std::fs::create_dir_all(&manifests).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        manifests.join("wrong.toml"),
        "[[known]]\ncause = \"planted-spoiled-values\"\nseverity = \"critical\"\n\
         reason = \"The fake spoils every value <on purpose>.\"\ncases = [\"allocations/dates/*\"]\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let (html_path, json_path) = (dir.path().join("run.html"), dir.path().join("run.json"));
    let wrong = format!("wrong={FAKE} --wrong-answers");
    let reworded = format!("reworded={FAKE} --reworded");
    let output = harness(&[
        "run",
        "--filter",
        "allocations/*",
        "--now",
        NOW,
        "--adapter",
        &wrong,
        "--adapter",
        &reworded,
        "--known-failures",
        &manifests.display().to_string(),
        "--json",
        &json_path.display().to_string(),
        "--html",
        &html_path.display().to_string(),
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
    let (html, report) = (read(&html_path), read(&json_path));
    let report: Value = serde_json::from_str(&report).unwrap_or_else(|e| panic!("{e}"));
    let data = embedded(&html);

    let parties = strings(&data["parties"]);
    assert_eq!(parties, ["reference", "wrong", "reworded"]);
    let causes: Vec<&str> =
        data["causes"].as_array().map_or(Vec::new(), |c| c.iter().filter_map(|c| c["name"].as_str()).collect());
    let rows = data["cases"].as_array().unwrap_or_else(|| panic!("no cases"));
    let cases = report["cases"].as_array().unwrap_or_else(|| panic!("no cases in the report"));
    let mut known = 0;
    let mut failed = 0;
    for case in cases {
        let (id, party) = (case["caseId"].as_str().unwrap_or_default(), case["party"].as_str().unwrap_or_default());
        let row = rows.iter().find(|r| r["id"] == id).unwrap_or_else(|| panic!("{id} is not on the page"));
        let group = &data["groups"][row["g"].as_u64().unwrap_or(u64::MAX) as usize];
        assert!(id.starts_with(&format!("{}/", group.as_str().unwrap_or("?"))), "{id} is in group {group}");
        let column = parties.iter().position(|p| *p == party).unwrap_or_else(|| panic!("{party} has no column"));
        let cell = &row["cells"][column];
        assert_eq!(cell["s"], case["status"], "{id} [{party}]");
        assert_eq!(cell["v"].as_str(), worst(case), "{id} [{party}]: the worst severity");
        let named: Vec<&str> = cell["c"]
            .as_array()
            .map(|c| c.iter().filter_map(|i| causes.get(usize::try_from(i.as_u64()?).ok()?).copied()).collect())
            .unwrap_or_default();
        match case["status"].as_str() {
            Some("known-failure") => {
                known += 1;
                assert_eq!(named, ["planted-spoiled-values"], "{id}");
            }
            Some("failed") => {
                failed += 1;
                assert_eq!(named, ["uncatalogued: value (critical)"], "{id}");
                let detail = cell["d"].as_str().unwrap_or_default();
                assert!(detail.contains("[critical] value") && detail.contains("--- expected"), "{id}: {detail}");
                assert!(detail.contains("-spoiled"), "{id}: the diff shows the spoiled value: {detail}");
            }
            Some("passed") if party == "reworded" => {
                assert_eq!(cell["v"], "minor", "{id}: reworded details are a minor difference");
                assert!(cell["d"].as_str().unwrap_or_default().contains("flagEvaluationDescription"), "{id}");
            }
            _ => assert!(named.is_empty(), "{id} [{party}]: a pass is filed under no cause"),
        }
    }
    assert!(known > 0 && failed > 0, "{known} known failures, {failed} failures");
    assert_eq!(rows.len(), cases.iter().filter(|c| c["party"] == "reference").count(), "one row per case");

    // The matrix counts the same cells: the planted cause a known cell, the
    // rest an unexpected (outlined) one; its reason is the row's tooltip.
    let planted = causes.iter().position(|c| *c == "planted-spoiled-values").unwrap_or(usize::MAX);
    assert!(
        html.contains(&format!(
            "class=\"m sev-critical known\"><button type=\"button\" data-party=\"wrong\" data-cause=\"{planted}\""
        )),
        "the planted cause's cell"
    );
    assert!(html.contains(&format!("data-cause=\"{planted}\" title=\"wrong: {known} case(s), all known failures, worst critical\">{known}</button>")));
    assert!(html.contains(&format!("title=\"wrong: {failed} case(s), {failed} not in the known-failure manifest, worst critical\">{failed}</button>")));
    assert!(html.contains("title=\"The fake spoils every value &lt;on purpose&gt;.\">planted-spoiled-values</th>"));
    // The summary names every party with its counts, and charts them.
    let summary = &report["parties"][1]["summary"];
    assert!(html.contains(&format!(
        "<td>wrong</td><td>ufc-fake-adapter 0.1.0</td><td>–</td><td class=\"num\">0</td><td class=\"num\">{}</td><td class=\"num\">{}</td>",
        summary["knownFailures"], summary["failed"]
    )));
    assert!(html.contains("<figure class=\"chart\">") && html.contains("class=\"seg-known-failure\""));
    // Self-contained: nothing is loaded from anywhere.
    assert!(!html.contains(" src=") && !html.contains("<link") && !html.contains("@import"));
}

#[test]
fn a_failing_scenario_step_opens_with_its_mock_cdn_request_log() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("no temporary directory: {e}"));
    let (html_path, json_path) = (dir.path().join("scenarios.html"), dir.path().join("scenarios.json"));
    // Never polling again after a failed first fetch fails the recovery step.
    let repoll = format!("repoll={FAKE} --never-repoll");
    let output = harness(&[
        "scenarios",
        "--filter",
        "first-fetch-500-then-recovers",
        "--adapter",
        &repoll,
        "--html",
        &html_path.to_string_lossy(),
        "--json",
        &json_path.to_string_lossy(),
    ]);
    assert_eq!(output.status.code(), Some(1), "the fault fails a step: {}", String::from_utf8_lossy(&output.stderr));
    let report: Value = serde_json::from_str(&read(&json_path)).unwrap_or_else(|e| panic!("{e}"));
    let failing: Vec<&Value> =
        report["cases"].as_array().into_iter().flatten().filter(|c| c["status"] == "failed").collect();
    assert!(!failing.is_empty(), "a failing step");

    let data = embedded(&read(&html_path));
    for case in failing {
        let id = case["caseId"].as_str().unwrap_or_default();
        let log = case["requestLog"].as_array().unwrap_or_else(|| panic!("{id}: no requestLog in the JSON report"));
        let row = data["cases"].as_array().into_iter().flatten().find(|r| r["id"] == id);
        let cell = row.map_or(&Value::Null, |r| &r["cells"][0]);
        let lines = strings(&cell["r"]);
        assert_eq!(lines.len(), log.len(), "{id}: one line a request: {cell}");
        for (line, request) in lines.iter().zip(log) {
            let (at, path) = (request["atMs"].as_u64().unwrap_or(u64::MAX), request["path"].as_str().unwrap_or("?"));
            assert!(line.starts_with(&format!("+{at} ms GET {path}")), "{id}: {line} is not {request}");
            assert!(line.ends_with(&format!("-> {}", request["answer"].as_str().unwrap_or("?"))), "{line}");
        }
        assert!(cell["d"].is_string(), "{id}: the cell opens (it has a diff or an error)");
    }
    // A passing step carries no log.
    let passing = data["cases"].as_array().into_iter().flatten().filter(|r| r["cells"][0]["s"] == "passed");
    assert!(passing.clone().count() > 0 && passing.into_iter().all(|r| r["cells"][0].get("r").is_none()));
}

#[test]
fn a_fuzz_run_writes_a_page_whose_findings_open_their_minimized_case() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("no temporary directory: {e}"));
    let out = dir.path().join("findings");
    let wrong = format!("wrong={FAKE} --wrong-answers");
    let out_arg = out.display().to_string();
    let args = [
        "fuzz",
        "--seed",
        "3",
        "--cases",
        "32",
        "--batch-size",
        "32",
        "--no-bandits",
        "--adapter",
        &wrong,
        "--out",
        &out_arg,
    ];
    let output = harness(&args);
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
    let summary: Value = serde_json::from_str(&read(&out.join("summary.json"))).unwrap_or_else(|e| panic!("{e}"));
    let findings = summary["findings"].as_array().unwrap_or_else(|| panic!("no findings"));
    assert!(!findings.is_empty());
    let html = read(&out.join("summary.html"));
    let data = embedded(&html);
    let rows = data["cases"].as_array().unwrap_or_else(|| panic!("no rows"));
    let ids: Vec<&str> = rows.iter().filter_map(|r| r["id"].as_str()).collect();
    let expected: Vec<&str> = findings.iter().filter_map(|f| f["id"].as_str()).collect();
    assert_eq!(ids, expected, "one row per finding, in the summary's order");
    for (row, finding) in rows.iter().zip(findings) {
        assert_eq!(row["cells"][0]["s"], "passed", "the reference agrees with itself");
        let cell = &row["cells"][1];
        assert_eq!((&cell["s"], &cell["v"]), (&Value::from("failed"), &finding["severity"]));
        let detail = cell["d"].as_str().unwrap_or_default();
        assert!(
            detail.contains(&format!(
                "replay: ufc-harness run --suite {} --sdk wrong",
                finding["suite"].as_str().unwrap_or("?")
            )),
            "{detail}"
        );
        let case: Value =
            serde_json::from_str(&read(&out.join(finding["suite"].as_str().unwrap_or("?")).join("finding.json")))
                .unwrap_or_else(|e| panic!("{e}"));
        let flags = case["cases"][0]["input"]["flag"].as_str().unwrap_or("?");
        assert!(detail.contains("minimized case: ") && detail.contains("configuration (flags-v1.json)"), "{detail}");
        assert!(detail.contains(&format!("\"flag\": \"{flags}\"")), "the case asked is shown: {detail}");
    }
}

#[test]
fn a_distribution_page_charts_observed_against_expected_shares() {
    let distribution = |format: &str| {
        let config = "ufc-fixtures/splits/flags-v1.json";
        let output = harness(
            &["distribution", "--config", config, "--flag", "sp-layered", "--subjects", "2000"]
                .into_iter()
                .chain(["--now", NOW, "--format", format])
                .collect::<Vec<_>>(),
        );
        assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
        output.stdout
    };
    let html = String::from_utf8(distribution("html")).unwrap_or_else(|e| panic!("{e}"));
    let json = distribution("json");
    let report: Value = serde_json::from_slice(&json).unwrap_or_else(|e| panic!("{e}"));
    let rows = report["rows"].as_array().unwrap_or_else(|| panic!("no rows"));
    let expected_bars = rows.iter().filter(|r| r["observedShare"].as_f64() > Some(0.0)).count()
        + rows.iter().filter(|r| r["expectedShare"].as_f64() > Some(0.0)).count();
    assert_eq!(
        html.matches("<rect class=\"seg-observed\"").count() + html.matches("<rect class=\"seg-expected\"").count(),
        expected_bars
    );
    assert!(html.contains("<p class=\"good\" id=\"verdict\">chi-square"), "the verdict is shown");
    assert!(!html.contains("<script"), "a page without cases needs no code");
}
