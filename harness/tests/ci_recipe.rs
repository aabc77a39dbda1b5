//! The CI recipe (`docs/examples/sdk-conformance.yml`, explained in
//! `docs/ci.md`) run here as CI would run it, so that it cannot drift from
//! the harness: every step whose id starts with `ufc-` is taken from the
//! workflow file as written and run by bash, job after job, the matrix job
//! once per share, in one folder (where CI moves the shares' reports
//! between jobs as artifacts). The SDK under test is the fake adapter, the
//! suite the built-in one, and the previous release's report a run made
//! here first. A recipe step that fails, an expression this test cannot
//! fill in, or a missing output fails the test.

// Test helpers outside #[test] functions fail by panicking too.
#![allow(clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use yaml_rust2::{Yaml, YamlLoader};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn workflow() -> Yaml {
    let path = repo().join("docs/examples/sdk-conformance.yml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut docs = YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{}: not YAML: {e}", path.display()));
    docs.pop().unwrap_or_else(|| panic!("{}: empty", path.display()))
}

fn text(value: &Yaml) -> Option<String> {
    match value {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(n) => Some(n.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A step the recipe marks for local checking.
struct Step {
    id: String,
    condition: Option<String>,
    script: String,
}

fn checked_steps(job: &Yaml) -> Vec<Step> {
    job["steps"]
        .as_vec()
        .into_iter()
        .flatten()
        .filter_map(|step| {
            let id = step["id"].as_str()?;
            id.starts_with("ufc-").then(|| Step {
                id: id.to_owned(),
                condition: text(&step["if"]),
                script: step["run"].as_str().unwrap_or_else(|| panic!("step {id} has no run: script")).to_owned(),
            })
        })
        .collect()
}

/// Fills in `${{ matrix.share }}`; any other expression is refused, as this
/// test could not run it the way CI does.
fn fill(script: &str, share: Option<&str>) -> String {
    let filled = match share {
        Some(share) => script.replace("${{ matrix.share }}", share),
        None => script.to_owned(),
    };
    assert!(!filled.contains("${{"), "a checked step uses an expression this test cannot fill in:\n{filled}");
    filled
}

fn run_step(step: &Step, share: Option<&str>, dir: &Path, env: &BTreeMap<String, String>) {
    let script = fill(&step.script, share);
    // What GitHub runs a `run:` step with, when `shell: bash` is not set on Linux runners.
    let output = Command::new("bash")
        .args(["-e", "-c", &script])
        .current_dir(dir)
        .envs(env)
        .output()
        .unwrap_or_else(|e| panic!("bash runs: {e}"));
    assert!(
        output.status.success(),
        "step {} (share {share:?}) failed with {:?}:\n{script}\nstdout:\n{}\nstderr:\n{}",
        step.id,
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_ci_recipe_runs_as_written() {
    let workflow = workflow();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let harness = env!("CARGO_BIN_EXE_ufc-harness").to_owned();
    // The SDK under test: answers wrongly on one group, in this release and
    // the previous one alike, so the gate sees failures but no regression.
    let adapter = format!("{} --wrong-for operators/*", env!("CARGO_BIN_EXE_ufc-fake-adapter"));
    let mut env: BTreeMap<String, String> = workflow["env"]
        .as_hash()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), text(v)?)))
        .collect();
    for required in ["HARNESS", "SUITE", "SDK_NAME", "SDK_ADAPTER", "SHARES", "BASELINE", "FUZZ_CASES"] {
        assert!(env.contains_key(required), "the workflow's env sets {required}");
    }
    let summary = dir.path().join("step-summary.md");
    env.insert("HARNESS".into(), harness.clone());
    env.insert("SUITE".into(), repo().display().to_string());
    env.insert("SDK_ADAPTER".into(), adapter.clone());
    env.insert("FUZZ_CASES".into(), "300".into());
    env.insert("GITHUB_STEP_SUMMARY".into(), summary.display().to_string());
    env.insert("NO_COLOR".into(), "1".into());

    // The previous release's report, where the baseline step would put it.
    let baseline = dir.path().join(&env["BASELINE"]);
    let sdk = format!("{}={adapter}", env["SDK_NAME"]);
    let status = Command::new(&harness)
        .args(["run", "--adapter", &sdk, "--json"])
        .arg(&baseline)
        .current_dir(repo())
        .output()
        .expect("ufc-harness runs")
        .status;
    assert_eq!(status.code(), Some(1), "the previous release fails the operators cases too");

    let jobs = workflow["jobs"].as_hash().cloned().unwrap_or_default();
    let job = |name: &str| jobs.get(&Yaml::String(name.into())).cloned().unwrap_or_else(|| panic!("no job {name}"));
    // The fan-out: one job per share, as many as SHARES says.
    let share_job = job("share");
    let shares: Vec<String> =
        share_job["strategy"]["matrix"]["share"].as_vec().into_iter().flatten().filter_map(text).collect();
    assert_eq!(shares.len().to_string(), env["SHARES"], "matrix.share lists SHARES shares");
    let steps = checked_steps(&share_job);
    assert!(!steps.is_empty());
    for share in &shares {
        for step in &steps {
            run_step(step, Some(share), dir.path(), &env);
        }
    }
    let gate_steps = checked_steps(&job("gate"));
    assert!(gate_steps.iter().any(|s| s.id == "ufc-merge"));
    for step in &gate_steps {
        run_step(step, None, dir.path(), &env);
    }
    let out = dir.path().join("out");
    for file in ["ufc-report.json", "junit.xml", "summary.md", "report.html", "badges/mysdk.json"] {
        assert!(out.join(file).is_file(), "the gate job writes out/{file}");
    }
    let merged: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("ufc-report.json")).expect("the merged report"))
            .expect("JSON");
    assert_eq!(merged["comparison"]["counts"]["regressions"], 0);
    assert!(merged["summary"]["failed"].as_u64().is_some_and(|n| n > 0));
    let written = std::fs::read_to_string(&summary).expect("the job summary");
    assert!(written.contains("## Against the baseline"), "the Markdown report went into the job summary");

    for step in checked_steps(&job("fuzz")) {
        assert_ne!(step.condition.as_deref(), Some("${{ false }}"), "step {} is switched off", step.id);
        run_step(&step, None, dir.path(), &env);
    }
    assert!(out.join("findings/summary.json").is_file(), "the fuzz step writes its findings");
    assert!(out.join("scenarios.xml").is_file(), "the scenarios step writes its JUnit report");
}
