//! One named test per case of the divergence catalogue
//! (`test-cases/divergences/<id>/`): its `divergence.toml` is complete and
//! names the cases of its suite, the README indexes it, and the reference
//! passes every case at every severity, details text included. Filter by
//! id: `cargo test --test divergence_catalogue -- regex`.

use std::path::{Path, PathBuf};

use libtest_mimic::{Arguments, Failed, Trial};
use serde::Deserialize;
use ufc_harness::compare::Severity;
use ufc_harness::party::reference::ReferenceParty;
use ufc_harness::party::Party;
use ufc_harness::run::{self, RunSettings, Status};
use ufc_harness::suite::Suite;

/// The fields every `divergence.toml` must have (others may be added).
#[derive(Debug, Deserialize)]
#[expect(dead_code, reason = "read to check that every field is present and well typed")]
struct Divergence {
    id: String,
    title: String,
    spec_section: String,
    suite_file: String,
    cases: Vec<String>,
    rs: String,
    js: String,
    reference: String,
    reference_why: String,
    rs_core_sdks: Vec<String>,
    js_core_sdks: Vec<String>,
    predicted_to_differ: Vec<String>,
    observed_python: String,
    observed_node: String,
    observed_rust: String,
}

fn catalogue() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../test-cases/divergences")
}

fn main() {
    let args = Arguments::from_args();
    let root = catalogue();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .map(|entries| entries.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_dir()).collect())
        .unwrap_or_default();
    dirs.sort();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap_or_default();
    let mut trials = vec![Trial::test("catalogue-is-not-empty", {
        let count = dirs.len();
        move || if count >= 15 { Ok(()) } else { Err(format!("only {count} divergences in the catalogue").into()) }
    })];
    for dir in dirs {
        let id = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let indexed = readme.contains(&format!("`{id}`"));
        trials.push(Trial::test(id.clone(), move || check(&dir, &id, indexed)));
    }
    libtest_mimic::run(&args, trials).exit();
}

fn check(dir: &Path, id: &str, indexed: bool) -> Result<(), Failed> {
    if !indexed {
        return Err(format!("README.md does not list `{id}`").into());
    }
    let text = std::fs::read_to_string(dir.join("divergence.toml")).map_err(|e| format!("divergence.toml: {e}"))?;
    let divergence: Divergence = toml::from_str(&text).map_err(|e| format!("divergence.toml: {e}"))?;
    if divergence.id != id {
        return Err(format!("divergence.toml says id {:?} in directory {id:?}", divergence.id).into());
    }
    if !dir.join(&divergence.suite_file).is_file() {
        return Err(format!("suite_file {:?} does not exist", divergence.suite_file).into());
    }
    let suite = Suite::load(dir).map_err(|e| e.to_string())?;
    if !suite.load_errors.is_empty() {
        return Err(format!("{:?}", suite.load_errors).into());
    }
    let ids: Vec<&str> = suite.cases.iter().map(|c| c.id.as_str()).collect();
    if ids != divergence.cases.iter().map(String::as_str).collect::<Vec<_>>() {
        return Err(format!("divergence.toml lists cases {:?}, the suite has {ids:?}", divergence.cases).into());
    }
    let parties: Vec<Box<dyn Party>> = vec![Box::new(ReferenceParty::new(chrono::Utc::now()))];
    let settings =
        RunSettings { fail_on: vec![Severity::Critical, Severity::Major, Severity::Minor], ..RunSettings::default() };
    let result = run::run(&suite, parties, &settings, &|_, _, _| {});
    let failures: Vec<String> = result
        .outcomes
        .iter()
        .filter(|o| o.status != Status::Passed)
        .map(|o| {
            let first = o.differences.first();
            format!(
                "{} {}: {} expected {} got {}",
                o.case_id,
                o.status.as_str(),
                first.map_or("-", |d| d.field.as_str()),
                first.map_or(String::new(), |d| d.expected.to_string()),
                first.map_or(String::new(), |d| d.actual.to_string())
            )
        })
        .collect();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n").into())
    }
}
