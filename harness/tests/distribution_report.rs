//! `ufc-harness distribution`: its JSON output against the published schema
//! (`docs/report-schemas/distribution.schema.json`), and the check on CLIENT
//! (obfuscated) configurations, which it reads through the reference.
// A test that cannot read its fixtures fails with the file at fault.
#![expect(clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use ufc_harness::distribution::{distribution, DistributionReport, Verdict};
use ufc_reference::{Attributes, Configuration, Timestamp};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn now() -> Timestamp {
    chrono::DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z").map(|t| t.to_utc()).unwrap_or_default()
}

fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|err| panic!("reading {}: {err}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|err| panic!("{} is not JSON: {err}", path.display()))
}

/// Runs `ufc-harness distribution --format json` and returns its exit code and parsed output.
fn distribution_json(config: &str, flag: &str, attributes: &str) -> (i32, Value) {
    let output = Command::new(env!("CARGO_BIN_EXE_ufc-harness"))
        .args(["distribution", "--config", config, "--flag", flag, "--subjects", "2000"])
        .args(["--attributes", attributes, "--now", "2025-01-01T00:00:00Z", "--format", "json"])
        .current_dir(root())
        .output()
        .expect("ufc-harness runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let json = serde_json::from_str(&stdout).unwrap_or_else(|err| {
        panic!("{flag}: stdout is not JSON ({err}): {stdout}\nstderr: {}", String::from_utf8_lossy(&output.stderr))
    });
    (output.status.code().unwrap_or(-1), json)
}

#[test]
fn json_output_matches_its_schema() {
    let schema = read_json(&root().join("docs/report-schemas/distribution.schema.json"));
    let validator = jsonschema::validator_for(&schema).expect("the schema is a valid JSON Schema");
    let config = "ufc-fixtures/splits/flags-v1.json";
    let runs = [
        (config, "sp-partial", r#"{"country": "NZ"}"#, 0),
        (config, "sp-layered", "{}", 0),
        // A rule on `id` without an `id` attribute: unpredictable, nulls throughout.
        ("ufc-fixtures/operators/flags-v1.json", "op-id", "{}", 3),
    ];
    for (config, flag, attributes, code) in runs {
        let (exit, json) = distribution_json(config, flag, attributes);
        let errors: Vec<String> = validator.iter_errors(&json).map(|e| format!("{}: {e}", e.instance_path())).collect();
        assert!(errors.is_empty(), "{flag}: the report breaks the schema: {errors:#?}\n{json:#}");
        assert_eq!(exit, code, "{flag}: {json:#}");
    }
    // The schema is strict: an unknown field or a wrong verdict is caught.
    let (_, mut json) = distribution_json(config, "sp-layered", "{}");
    json["verdict"] = Value::from("fine");
    assert!(!validator.is_valid(&json));
}

/// Every flag of a fixture group that ships an obfuscated twin.
fn obfuscated_groups() -> Vec<(String, Configuration, Configuration)> {
    let mut groups = Vec::new();
    let entries = std::fs::read_dir(root().join("ufc-fixtures")).expect("ufc-fixtures is listed");
    let mut dirs: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    dirs.sort();
    for dir in dirs {
        let twin = dir.join("flags-v1-obfuscated.json");
        if !twin.exists() {
            continue;
        }
        let load = |path: &Path| {
            Configuration::from_value(&read_json(path)).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
        };
        groups.push((dir.display().to_string(), load(&dir.join("flags-v1.json")), load(&twin)));
    }
    assert!(!groups.is_empty(), "ufc-fixtures has obfuscated twins");
    groups
}

fn report(config: &Configuration, flag: &str, attributes: &Attributes) -> DistributionReport {
    distribution(config, flag, 1000, attributes, now()).unwrap_or_else(|err| panic!("{flag}: {err}"))
}

/// The obfuscated twin of a configuration gives the same report, rules and
/// all: eligibility is the evaluator's, with attribute names hashed.
#[test]
fn an_obfuscated_configuration_gets_the_same_report_as_its_plain_twin() {
    let attribute_sets = [
        serde_json::json!({}),
        serde_json::json!({"country": "NZ", "tier": "gold", "plan": "pro", "enrolled": "true", "beta": true}),
        serde_json::json!({"id": "user-7", "email": "a@example.com", "a": 11, "case": "2"}),
    ];
    let mut compared = 0;
    for (group, plain, obfuscated) in obfuscated_groups() {
        for flag in plain.flag_keys() {
            if plain.valid_flag(flag).is_err() {
                continue;
            }
            for attributes in &attribute_sets {
                let attributes = Attributes::from_json(attributes.as_object().expect("an object"));
                let want = report(&plain, flag, &attributes);
                let got = report(&obfuscated, flag, &attributes);
                assert_eq!(got, want, "{group}: flag {flag}");
                compared += 1;
            }
        }
    }
    assert!(compared > 10, "only {compared} reports compared");
}

/// What re-deriving eligibility outside the evaluator got wrong: in a CLIENT
/// configuration the rule names a digest, so the rule's allocation must
/// still be found eligible for attributes that satisfy it.
#[test]
fn a_rule_in_an_obfuscated_configuration_admits_matching_attributes() {
    let twin = root().join("ufc-fixtures/splits/flags-v1-obfuscated.json");
    let config = Configuration::from_value(&read_json(&twin)).expect("the obfuscated splits load");
    assert_eq!(config.format(), Some("CLIENT"));
    let nz = Attributes::from_json(serde_json::json!({"country": "NZ"}).as_object().expect("an object"));
    let shares = config.population_shares("sp-partial", &nz, now()).expect("predictable");
    let rule_allocation = shares
        .allocations
        .iter()
        .find(|a| !a.eligibility.allocation.rules.is_empty())
        .expect("sp-partial has an allocation with a rule");
    assert!(rule_allocation.eligibility.is_eligible(), "{shares:#?}");
    assert!(rule_allocation.share > 0.0, "{shares:#?}");
    let report = report(&config, "sp-partial", &nz);
    assert_ne!(report.verdict, Verdict::Unpredictable, "{report:#?}");
}

#[test]
fn markdown_output_is_a_table_with_the_verdict() {
    let output = Command::new(env!("CARGO_BIN_EXE_ufc-harness"))
        .args(["distribution", "--config", "ufc-fixtures/splits/flags-v1.json", "--flag", "sp-layered"])
        .args(["--subjects", "2000", "--now", "2025-01-01T00:00:00Z", "--format", "markdown"])
        .current_dir(root())
        .output()
        .expect("ufc-harness runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.starts_with("## Distribution of `sp-layered`"), "{text}");
    assert!(
        text.contains("| variation | subjects | observed | expected |") && text.contains("| (default) |"),
        "{text}"
    );
    assert!(text.contains("verdict **consistent**"), "{text}");
}
