//! `ufc-harness audit` end to end: a log written by a real SDK's logger (the
//! Python SDK through its adapter) with altered rows and a thinned-out
//! variation; the same rows as CSV and Parquet; partitions merged back to
//! the one-run report; a configuration history; bad input and unreadable
//! rows with their exit codes; the JSON report against its schema.

#![expect(clippy::panic, reason = "test helpers outside #[test] functions fail by panicking too")]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};
use ufc_harness::party::adapter::{AdapterOptions, AdapterParty};
use ufc_harness::party::{ConfigSet, Party, Question};
use ufc_protocol::{CaseInput, FlagCase, Source};
use ufc_reference::{Attributes, Configuration, FlagRequest, Timestamp, VariationType};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn harness(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ufc-harness"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|err| panic!("ufc-harness {args:?} runs: {err}"))
}

fn json_of(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|err| panic!("not JSON ({err}); stderr:\n{}", String::from_utf8_lossy(&output.stderr)))
}

fn schema_violations(report: &Value) -> Vec<String> {
    let path = root().join("docs/report-schemas/audit.schema.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    let schema: Value = serde_json::from_str(&text).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    let validator = jsonschema::draft202012::new(&schema).unwrap_or_else(|err| panic!("not a schema: {err}"));
    validator.iter_errors(report).map(|err| format!("{}: {err}", err.instance_path())).collect()
}

/// Two experiments: `checkout` splits 50/30/20 among subjects whose
/// country is listed (the others get a rollout that does not log), and
/// `pricing` splits 50/50 after a 80 % traffic exposure.
fn configuration(created_at: &str, pricing_split: u32) -> Value {
    let shard = |salt: &str, start: u32, end: u32| json!({"salt": salt, "ranges": [{"start": start, "end": end}]});
    let variations = |keys: &[&str]| -> Value {
        keys.iter().map(|k| ((*k).to_owned(), json!({"key": k, "value": k}))).collect::<serde_json::Map<_, _>>().into()
    };
    json!({
        "createdAt": created_at, "format": "SERVER", "environment": {"name": "Audit"},
        "flags": {
            "checkout": {"key": "checkout", "enabled": true, "variationType": "STRING", "totalShards": 10000,
                "variations": variations(&["control", "one-page", "express"]),
                "allocations": [
                    {"key": "exp", "doLog": true,
                     "rules": [{"conditions": [{"attribute": "country", "operator": "ONE_OF", "value": ["US", "CA"]}]}],
                     "splits": [
                        {"variationKey": "control", "shards": [shard("checkout-split", 0, 5000)]},
                        {"variationKey": "one-page", "shards": [shard("checkout-split", 5000, 8000)]},
                        {"variationKey": "express", "shards": [shard("checkout-split", 8000, 10000)]}]},
                    {"key": "rollout", "doLog": false, "splits": [{"variationKey": "control", "shards": []}]}]},
            "pricing": {"key": "pricing", "enabled": true, "variationType": "STRING", "totalShards": 10000,
                "variations": variations(&["old", "new"]),
                "allocations": [
                    {"key": "exp", "doLog": true, "splits": [
                        {"variationKey": "old", "shards": [shard("pricing-traffic", 0, 8000), shard("pricing-split", 0, pricing_split)]},
                        {"variationKey": "new", "shards": [shard("pricing-traffic", 0, 8000), shard("pricing-split", pricing_split, 10000)]}]}]}
        }
    })
}

fn subject(i: usize) -> (String, Value) {
    let country = ["US", "CA", "DE"][i % 3];
    (format!("user-{i}"), json!({"country": country, "plan": if i.is_multiple_of(2) { "free" } else { "pro" }}))
}

fn write_lines(path: &Path, events: &[Value]) {
    let text: String = events.iter().map(|e| format!("{e}\n")).collect();
    std::fs::write(path, text).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
}

/// The events the Python SDK's assignment logger receives for `subjects`
/// subjects, each asked both flags.
fn python_sdk_events(config_path: &Path, subjects: usize) -> Vec<Value> {
    common::install(&["python"]);
    let cache = ufc_harness::install::cache_dir();
    let command = ufc_harness::install::installed_command("python", &cache).unwrap_or_else(|| {
        panic!(
            "the python adapter is not installed in {} (run `ufc-harness adapters install python`, or set UFC_HARNESS_CACHE)",
            cache.display()
        )
    });
    let mut party = AdapterParty::spawn("python", command, AdapterOptions::default())
        .unwrap_or_else(|err| panic!("the python adapter starts: {err}"));
    let set = ConfigSet { flags: Source::Path(config_path.to_owned()), bandit_models: None, precomputed: None };
    party.configure(&set).unwrap_or_else(|err| panic!("the python SDK loads the configuration: {err}"));
    let inputs: Vec<(String, CaseInput)> = (0..subjects)
        .flat_map(|i| {
            let (key, attributes) = subject(i);
            ["checkout", "pricing"].map(|flag| {
                let case = FlagCase {
                    flag: flag.to_owned(),
                    variation_type: ufc_protocol::VariationType::String,
                    default_value: json!("default"),
                    subject_key: key.clone(),
                    subject_attributes: attributes.as_object().cloned().unwrap_or_default(),
                };
                (format!("{flag}/{key}"), CaseInput::Flag(case))
            })
        })
        .collect();
    let mut events = Vec::new();
    for chunk in inputs.chunks(500) {
        let batch: Vec<Question<'_>> = chunk.iter().map(|(id, input)| Question { id, input }).collect();
        for reply in party.evaluate(&batch) {
            let answer = reply.unwrap_or_else(|err| panic!("the python SDK answers: {err}"));
            let ufc_harness::observation::Answer::Observed(observation) = answer else {
                panic!("the python SDK raised: {answer:?}")
            };
            for event in observation.assignment_events {
                events.push(Value::Object(event.fields.into_iter().map(|(k, v)| (k, v.0)).collect()));
            }
        }
    }
    events
}

#[test]
fn an_audit_of_the_python_sdks_log_finds_exactly_the_altered_rows_and_the_thinned_experiment() {
    let dir = tempfile::tempdir().unwrap_or_else(|err| panic!("a temporary directory: {err}"));
    let config_path = dir.path().join("flags.json");
    std::fs::write(&config_path, configuration("2025-01-01T00:00:00Z", 5000).to_string())
        .unwrap_or_else(|err| panic!("{err}"));
    let mut events = python_sdk_events(&config_path, 6000);
    let count = |events: &[Value], flag: &str| events.iter().filter(|e| e["featureFlag"] == flag).count();
    // Only subjects in the US and Canada log checkout; 80 % log pricing.
    assert!(count(&events, "checkout") > 3500 && count(&events, "pricing") > 4400, "{} events", events.len());
    assert!(events.iter().all(|e| e["metaData"]["sdkName"].is_string() || e["metaData"]["sdkLanguage"].is_string()));

    // A fifth of pricing's "new" rows are lost; a few checkout rows get another variation.
    let mut seen_new: u32 = 0;
    events.retain(|e| {
        if e["featureFlag"] == "pricing" && e["variation"] == "new" {
            seen_new += 1;
            return !seen_new.is_multiple_of(5);
        }
        true
    });
    let mut altered_lines = Vec::new();
    let mut checkout_seen = 0;
    for (index, event) in events.iter_mut().enumerate() {
        if event["featureFlag"] == "checkout" {
            checkout_seen += 1;
            if checkout_seen % 400 == 7 {
                let other = if event["variation"] == "express" { "control" } else { "express" };
                event["variation"] = json!(other);
                altered_lines.push(index as u64 + 1);
            }
        }
    }
    assert!(altered_lines.len() >= 5, "{altered_lines:?}");
    let log = dir.path().join("python.jsonl");
    write_lines(&log, &events);

    let output = harness(
        &["audit", "--config", &config_path.to_string_lossy(), "--log", &log.to_string_lossy(), "--format", "json"],
        dir.path(),
    );
    assert_eq!(output.status.code(), Some(1), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    let report = json_of(&output);
    assert_eq!(schema_violations(&report), Vec::<String>::new());
    let found: Vec<u64> = report["misassignments"]["examples"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["line"].as_u64())
        .collect();
    assert_eq!(report["misassignments"]["total"], json!(altered_lines.len()), "{:#}", report["misassignments"]);
    assert_eq!(found, altered_lines);
    assert!(report["misassignments"]["examples"].as_array().into_iter().flatten().all(|e| e["reason"] == "variation"));
    assert_eq!(report["srm"]["mismatched"], json!(["pricing-exp"]), "{:#}", report["experiments"]);
    assert_eq!(report["srm"]["experimentsTested"], json!(2));
    let by_sdk = &report["misassignments"]["bySdk"][0];
    assert_eq!(by_sdk["count"], json!(altered_lines.len()), "{by_sdk}");
}

/// Events the reference would log for `subjects` subjects at `now`, with
/// every second subject logged twice (a duplicate exposure).
fn reference_events(config: &Value, subjects: usize, now: &str) -> Vec<Value> {
    let config = Configuration::from_value(config).unwrap_or_else(|err| panic!("{err}"));
    let now: Timestamp = chrono::DateTime::parse_from_rfc3339(now).map(|t| t.to_utc()).unwrap_or_default();
    let mut events = Vec::new();
    for i in 0..subjects {
        let (key, attributes) = subject(i);
        let attributes = Attributes::from_json(attributes.as_object().unwrap_or(&serde_json::Map::new()));
        for flag in ["checkout", "pricing"] {
            let request = FlagRequest::new(flag, &key, &attributes, VariationType::String);
            if let Some(event) = config.evaluate(&request, now).assignment_event(&request, now) {
                events.push(event.to_json());
                if i.is_multiple_of(2) {
                    events.push(event.to_json());
                }
            }
        }
    }
    events
}

fn audit_json(dir: &Path, config: &Path, log: &Path, extra: &[&str]) -> (Option<i32>, Value) {
    let (config, log) = (config.to_string_lossy(), log.to_string_lossy());
    let args = [&["audit", "--config", &*config, "--log", &*log][..], extra].concat();
    let output = harness(&[&args[..], &["--format", "json"]].concat(), dir);
    (output.status.code(), json_of(&output))
}

#[test]
fn partitions_merge_to_the_one_run_report_and_every_format_reads_the_same_rows() {
    let dir = tempfile::tempdir().unwrap_or_else(|err| panic!("a temporary directory: {err}"));
    let config = configuration("2025-01-01T00:00:00Z", 5000);
    let config_path = dir.path().join("flags.json");
    std::fs::write(&config_path, config.to_string()).unwrap_or_else(|err| panic!("{err}"));
    let events = reference_events(&config, 3000, "2025-03-01T00:00:00Z");
    let log = dir.path().join("log.jsonl");
    write_lines(&log, &events);

    let (code, whole) = audit_json(dir.path(), &config_path, &log, &[]);
    assert_eq!(code, Some(0), "{whole:#}");
    assert_eq!(whole["misassignments"]["total"], json!(0));
    let pricing = whole["experiments"].as_array().into_iter().flatten().find(|e| e["experiment"] == "pricing-exp");
    let pricing = pricing.cloned().unwrap_or(Value::Null);
    assert!(pricing["duplicates"].as_u64().unwrap_or_default() > 1000, "{pricing:#}");
    assert_eq!(
        pricing["rows"].as_u64(),
        Some(pricing["subjects"].as_u64().unwrap_or(0) + pricing["duplicates"].as_u64().unwrap_or(0))
    );

    // Three partitions, merged: the same report.
    let mut parts = Vec::new();
    for k in 1..=3 {
        let (code, part) = audit_json(dir.path(), &config_path, &log, &["--partition", &format!("{k}/3")]);
        assert_eq!(code, Some(0));
        assert_eq!(part["partition"], json!({"index": k, "count": 3}));
        let path = dir.path().join(format!("part-{k}.json"));
        std::fs::write(&path, part.to_string()).unwrap_or_else(|err| panic!("{err}"));
        parts.push(path.to_string_lossy().into_owned());
    }
    let args: Vec<&str> = ["audit-merge"].into_iter().chain(parts.iter().map(String::as_str)).collect();
    let merged = harness(&args, dir.path());
    assert_eq!(merged.status.code(), Some(0), "{}", String::from_utf8_lossy(&merged.stderr));
    assert_eq!(json_of(&merged), whole);
    let missing = harness(&args[..3], dir.path());
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("partitions 1/3 to 3/3"));

    // The same rows as CSV (mapped columns) and as Parquet.
    let csv_path = dir.path().join("log.csv");
    let mut csv = String::from("user_id,experiment_name,variant_name,ts_assigned,attrs\n");
    for e in &events {
        let attrs = e["subjectAttributes"].to_string().replace('"', "\"\"");
        csv.push_str(&format!(
            "{},{},{},{},\"{attrs}\"\n",
            e["subject"].as_str().unwrap_or_default(),
            e["experiment"].as_str().unwrap_or_default(),
            e["variation"].as_str().unwrap_or_default(),
            e["timestamp"].as_str().unwrap_or_default()
        ));
    }
    std::fs::write(&csv_path, csv).unwrap_or_else(|err| panic!("{err}"));
    let columns =
        "subject=user_id,experiment=experiment_name,variation=variant_name,timestamp=ts_assigned,attributes=attrs";
    let (code, from_csv) = audit_json(dir.path(), &config_path, &csv_path, &["--columns", columns]);
    assert_eq!(code, Some(0), "{from_csv:#}");
    assert_eq!(from_csv["experiments"], whole["experiments"]);

    let parquet_path = dir.path().join("log.parquet");
    ufc_harness::audit::write::write_events_parquet(&parquet_path, &mut events.iter().cloned())
        .unwrap_or_else(|err| panic!("{err}"));
    let (code, from_parquet) = audit_json(dir.path(), &config_path, &parquet_path, &[]);
    assert_eq!(code, Some(0), "{from_parquet:#}");
    assert_eq!(from_parquet["experiments"], whole["experiments"]);
    assert_eq!(from_parquet["rows"], whole["rows"]);

    // The other outputs render the experiments.
    for (format, marker) in [("markdown", "| `pricing-exp` |"), ("html", "class=\"bar obs\""), ("text", "pricing-exp")]
    {
        let output = harness(
            &["audit", "--config", &config_path.to_string_lossy(), "--log", &log.to_string_lossy(), "--format", format],
            dir.path(),
        );
        assert!(String::from_utf8_lossy(&output.stdout).contains(marker), "{format}");
    }
}

#[test]
fn each_row_is_checked_against_the_configuration_in_force_at_its_timestamp() {
    let dir = tempfile::tempdir().unwrap_or_else(|err| panic!("a temporary directory: {err}"));
    let history = dir.path().join("history");
    std::fs::create_dir_all(&history).unwrap_or_else(|err| panic!("{err}"));
    // In March pricing was 50/50; from April, 20/80.
    let march = configuration("2025-03-01T00:00:00Z", 5000);
    let april = configuration("2025-04-01T00:00:00Z", 2000);
    std::fs::write(history.join("a.json"), march.to_string()).unwrap_or_else(|err| panic!("{err}"));
    std::fs::write(history.join("b.json"), april.to_string()).unwrap_or_else(|err| panic!("{err}"));
    let mut events = reference_events(&march, 300, "2025-03-15T00:00:00Z");
    events.extend(reference_events(&april, 300, "2025-04-15T00:00:00Z"));
    let log = dir.path().join("log.jsonl");
    write_lines(&log, &events);
    let config = history.join("b.json");
    let (code, report) = audit_json(dir.path(), &config, &log, &["--config-history", &history.to_string_lossy()]);
    assert_eq!(report["misassignments"]["total"], json!(0), "{report:#}");
    assert_eq!(report["configurations"].as_array().map(Vec::len), Some(2));
    assert!(code == Some(0) || code == Some(1), "{code:?}");
    // Against April's configuration alone, March's rows that changed are misassigned.
    let (code, report) = audit_json(dir.path(), &config, &log, &[]);
    assert_eq!(code, Some(1));
    assert!(report["misassignments"]["total"].as_u64().unwrap_or_default() > 10, "{report:#}");
    // A row from before the first configuration is not checked.
    let early = reference_events(&march, 1, "2025-02-01T00:00:00Z");
    write_lines(&log, &early);
    let (_, report) = audit_json(dir.path(), &config, &log, &["--config-history", &history.to_string_lossy()]);
    assert_eq!(report["withoutConfiguration"], json!(early.len()));
}

#[test]
fn bad_input_exits_2_and_unreadable_rows_exit_3_naming_the_first() {
    let dir = tempfile::tempdir().unwrap_or_else(|err| panic!("a temporary directory: {err}"));
    let config = configuration("2025-01-01T00:00:00Z", 5000);
    let config_path = dir.path().join("flags.json");
    std::fs::write(&config_path, config.to_string()).unwrap_or_else(|err| panic!("{err}"));
    let config_arg = config_path.to_string_lossy().into_owned();

    let csv = dir.path().join("no-subject.csv");
    std::fs::write(&csv, "user,experiment,variation,timestamp\nu,pricing-exp,old,2025-01-01T00:00:00Z\n")
        .unwrap_or_else(|err| panic!("{err}"));
    let output = harness(&["audit", "--config", &config_arg, "--log", &csv.to_string_lossy()], dir.path());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no-subject.csv") && stderr.contains("no column \"subject\""), "{stderr}");

    let output = harness(&["audit", "--config", "missing.json", "--log", &csv.to_string_lossy()], dir.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("missing.json"));
    let output = harness(&["audit", "--config", &config_arg, "--log", "x.jsonl", "--partition", "4/3"], dir.path());
    assert_eq!(output.status.code(), Some(2));

    let mut events = reference_events(&config, 20, "2025-03-01T00:00:00Z");
    let log = dir.path().join("log.jsonl");
    events.insert(3, json!({"featureFlag": "pricing", "subject": "u"}));
    let mut text: String = events.iter().map(|e| format!("{e}\n")).collect();
    text.push_str("{not json\n");
    std::fs::write(&log, text).unwrap_or_else(|err| panic!("{err}"));
    let (code, report) = audit_json(dir.path(), &config_path, &log, &[]);
    assert_eq!(code, Some(3));
    let input = &report["inputs"][0];
    assert_eq!(input["unreadable"], json!(2));
    assert_eq!(input["firstUnreadable"]["line"], json!(4));
    let message = input["firstUnreadable"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("variation"), "{message}");
    assert_eq!(report["rows"], json!(events.len() - 1));
}
