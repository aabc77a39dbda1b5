//! The Node adapter's byte channels (harness/adapters/node/protocol-io.js):
//! it splits requests on `\n` itself (a `\r` before it dropped, a UTF-8
//! character cut between two reads put back together), writes answers to
//! file descriptor 1 with blocking writes while everything the SDK prints
//! goes to stderr, spells a non-finite value as the protocol does, and
//! answers configure's files from memory. Needs npm to install the adapter.

// Test helpers outside #[test] functions fail by panicking too.
#![allow(clippy::panic)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::Duration;

use serde_json::{json, Value};

// A disabled flag (the SDK logs a line for it), a JSON flag whose variation
// text parses to Infinity, and a STRING flag with a non-ASCII value.
const FLAGS: &str = r#"{"format":"SERVER","createdAt":"2024-01-01T00:00:00Z","environment":{"name":"Test"},"flags":{
 "off":{"key":"off","enabled":false,"variationType":"STRING","variations":{},"allocations":[],"totalShards":10000},
 "big":{"key":"big","enabled":true,"variationType":"JSON","variations":{"v":{"key":"v","value":"[1e999]"}},"allocations":[{"key":"all","doLog":true,"splits":[{"variationKey":"v","shards":[]}]}],"totalShards":10000},
 "word":{"key":"word","enabled":true,"variationType":"STRING","variations":{"v":{"key":"v","value":"שלום"}},"allocations":[{"key":"all","doLog":true,"splits":[{"variationKey":"v","shards":[]}]}],"totalShards":10000}}}"#;

fn case(id: &str, flag: &str, variation_type: &str, default: &str) -> String {
    format!(
        r#"{{"caseId":"{id}","kind":"flag","flag":"{flag}","variationType":"{variation_type}","defaultValue":{default},"subjectKey":"s","subjectAttributes":{{"name":"Zoë"}}}}"#
    )
}

#[test]
fn the_node_adapter_reads_split_lines_and_writes_only_answers_to_stdout() {
    common::install(&["node"]);
    let run = ufc_harness::install::cache_dir().join("node").join("run");
    let mut child = Command::new(run)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the adapter starts");
    let mut stdin = child.stdin.take().expect("stdin");
    let flags = FLAGS.replace('\n', "");
    let evaluate = format!(
        r#"{{"id":2,"op":"evaluate","cases":[{},{},{},{}]}}"#,
        case("off", "off", "STRING", r#""d""#),
        case("big", "big", "JSON", "{}"),
        case("word", "word", "STRING", r#""d""#),
        case("odd", "word", "toString", r#""d""#),
    );
    let mut input = Vec::new();
    input.extend_from_slice(b"{\"id\":0,\"op\":\"hello\",\"protocol\":1}\r\n");
    input.extend_from_slice(format!("{{\"id\":1,\"op\":\"configure\",\"flags\":{{\"inline\":{flags}}}}}\n").as_bytes());
    input.extend_from_slice(evaluate.as_bytes());
    input.extend_from_slice(b"\n{\"id\":3,\"op\":\"shutdown\"}\n");
    // Cut the input inside the first multi-byte character of "שלום" (two bytes each).
    let cut = input.windows(2).position(|w| w == "ש".as_bytes()).expect("the input holds ש") + 1;
    stdin.write_all(&input[..cut]).expect("the adapter reads");
    stdin.flush().expect("the adapter reads");
    sleep(Duration::from_millis(300));
    stdin.write_all(&input[cut..]).expect("the adapter reads");
    drop(stdin);

    let mut stderr = String::new();
    let mut err_pipe = child.stderr.take().expect("stderr");
    let stderr_reader = std::thread::spawn(move || {
        err_pipe.read_to_string(&mut stderr).expect("stderr is UTF-8");
        stderr
    });
    let answers: Vec<Value> = BufReader::new(child.stdout.take().expect("stdout"))
        .lines()
        .map(|line| {
            let line = line.expect("a line");
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("stdout holds only answers, not {line:?}: {e}"))
        })
        .collect();
    assert!(child.wait().expect("the adapter exits").success());
    let stderr = stderr_reader.join().expect("stderr read");

    assert_eq!(answers.iter().map(|a| a["id"].clone()).collect::<Vec<_>>(), [json!(0), json!(1), json!(2), json!(3)]);
    assert!(answers.iter().all(|a| a["ok"] == json!(true)), "{answers:?}");
    let results = answers[2]["results"].as_array().expect("results");
    assert_eq!(results[0]["value"], json!("d"));
    assert_eq!(results[0]["details"]["flagEvaluationCode"], json!("FLAG_UNRECOGNIZED_OR_DISABLED"));
    assert!(stderr.contains("Flag is disabled: off"), "the SDK's log line reaches stderr: {stderr}");
    // The value spells Infinity as the protocol does; the details, like the SDK's own JSON, give null.
    assert_eq!(results[1]["value"], json!(["Infinity"]));
    assert_eq!(results[1]["details"]["variationValue"], json!([null]));
    assert_eq!(results[2]["value"], json!("שלום"));
    assert_eq!(results[2]["assignmentEvents"][0]["subjectAttributes"], json!({"name": "Zoë"}));
    assert_eq!(results[3]["error"], json!("Error: unknown variationType \"toString\""));
}
