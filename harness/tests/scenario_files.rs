//! The built-in scenarios against `docs/scenario.schema.json`, and the
//! loader's errors: every file validates and loads; the schema and the
//! loader both refuse what the format does not allow.

// Helpers outside #[test] functions fail by panicking too.
#![allow(clippy::panic)]

use std::path::Path;

use serde_json::{json, Value};
use ufc_harness::scenario::{builtin_dir, Scenario};

fn schema() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/scenario.schema.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let schema: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("not a schema: {e}"))
}

fn builtin() -> Vec<(std::path::PathBuf, Value)> {
    let mut files: Vec<_> = std::fs::read_dir(builtin_dir())
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
            let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path, value)
        })
        .collect()
}

#[test]
fn every_builtin_scenario_validates_and_loads() {
    let validator = schema();
    let files = builtin();
    assert!(files.len() >= 15, "{} scenarios", files.len());
    for (path, value) in &files {
        let errors: Vec<String> =
            validator.iter_errors(value).map(|e| format!("{e} at {}", e.instance_path())).collect();
        assert!(errors.is_empty(), "{}:\n{}", path.display(), errors.join("\n"));
        let scenario = Scenario::load(path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            Some(scenario.name.as_str()),
            path.file_stem().and_then(|s| s.to_str()),
            "file named after the scenario"
        );
    }
}

/// Writes `value` into a scenario file beside the fixtures and loads it.
fn load(value: &Value) -> Result<Scenario, String> {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ufc-fixtures/scenarios/greeting-v1.json");
    let mut value = value.clone();
    value["configurations"]["v1"]["flags"] = json!(fixtures);
    let file = dir.path().join("s.json");
    std::fs::write(&file, value.to_string()).unwrap_or_else(|e| panic!("{e}"));
    Scenario::load(&file).map_err(|e| e.to_string())
}

#[test]
fn the_schema_and_the_loader_refuse_what_the_format_does_not_allow() {
    let validator = schema();
    let good = json!({"name": "s", "description": "d", "configurations": {"v1": {"flags": "x.json"}},
        "steps": [{"name": "cdn", "cdn": {"config": {"serve": "v1"}}},
                  {"name": "init", "init": {"pollIntervalMs": 1000}},
                  {"name": "eval", "evaluate": {"inForce": "v1", "cases": [{"kind": "flag", "flag": "greeting",
                    "variationType": "STRING", "defaultValue": "d", "subjectKey": "a", "subjectAttributes": {}}]}}]});
    assert!(validator.is_valid(&good));
    load(&good).unwrap_or_else(|e| panic!("{e}"));

    let mut two_actions = good.clone();
    two_actions["steps"][0]["init"] = json!({"pollIntervalMs": 1000});
    assert!(!validator.is_valid(&two_actions));
    assert!(load(&two_actions).is_err());

    let mut unknown_configuration = good.clone();
    unknown_configuration["steps"][2]["evaluate"]["inForce"] = json!("v9");
    let error = load(&unknown_configuration).err().unwrap_or_default();
    assert!(error.contains("steps[2]") && error.contains("v9"), "{error}");

    let mut no_init = good.clone();
    no_init["steps"].as_array_mut().map(|steps| steps.remove(1));
    let error = load(&no_init).err().unwrap_or_default();
    assert!(error.contains("no init comes before it"), "{error}");

    let mut typo = good.clone();
    typo["steps"][1]["init"]["pollIntervalMS"] = json!(5);
    assert!(!validator.is_valid(&typo));
    let error = load(&typo).err().unwrap_or_default();
    assert!(error.contains("pollIntervalMS"), "{error}");

    let mut bad_state = good;
    bad_state["steps"][0]["cdn"]["config"] = json!("explode");
    assert!(!validator.is_valid(&bad_state));
    assert!(load(&bad_state).is_err());
}
