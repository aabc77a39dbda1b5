//! The types of this crate against the JSON Schemas in `docs/`: every
//! message the harness writes and every response shape it reads, and the
//! run report, serialized from the types, must validate; and the schemas
//! must reject what the types cannot produce, so a schema that accepts
//! anything fails here too.

// Helpers outside #[test] functions fail by panicking too.
#![allow(clippy::panic)]

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use ufc_protocol::report::{
    CaseReport, Change, ChangeCounts, ChangeReport, ComparisonReport, DifferenceReport, LoadErrorReport,
    PartitionReport, PartyReport, ProcessAnswer, RecordedRequest, RunReport, Severity, Status, Summary, Tool,
    REPORT_VERSION,
};
use ufc_protocol::{
    ActionInput, BanditCase, BenchMode, BenchRequest, BenchSubject, Capabilities, Capability, CaseInput, CaseResult,
    ContextAttributes, FlagCase, InitOption, InitRequest, LoggerMode, OnlineInfo, Request, Response, SdkInfo, Source,
    VariationType, WireCase, PROTOCOL_VERSION,
};

fn docs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("docs")
}

fn validator(relative: &str) -> jsonschema::Validator {
    let path = docs().join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let schema: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{}: not a schema: {e}", path.display()))
}

fn assert_valid(schema: &str, document: &Value) {
    let validator = validator(schema);
    let errors: Vec<String> =
        validator.iter_errors(document).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{schema} rejects {document}:\n{}", errors.join("\n"));
}

fn assert_invalid(schema: &str, document: &Value) {
    assert!(!validator(schema).is_valid(document), "{schema} should reject {document}");
}

fn flag_case() -> CaseInput {
    CaseInput::Flag(FlagCase {
        flag: "greeting".into(),
        variation_type: VariationType::String,
        default_value: json!("hi"),
        subject_key: "alice".into(),
        subject_attributes: json!({"country": "US", "age": 30}).as_object().cloned().unwrap_or_default(),
    })
}

fn bandit_case() -> CaseInput {
    let attributes = ContextAttributes {
        numeric_attributes: json!({"age": 30}).as_object().cloned().unwrap_or_default(),
        categorical_attributes: json!({"country": "US"}).as_object().cloned().unwrap_or_default(),
    };
    CaseInput::Bandit(BanditCase {
        flag: "banner".into(),
        default_value: json!("control"),
        subject_key: "alice".into(),
        subject_attributes: attributes.clone(),
        actions: vec![ActionInput { action_key: "nike".into(), attributes }],
    })
}

fn encoded(request: &Request<'_>) -> Value {
    serde_json::to_value(request).expect("requests serialize")
}

#[test]
fn every_request_the_harness_writes_has_its_schema() {
    let flag = flag_case();
    let bandit = bandit_case();
    assert_valid("protocol/hello.request.schema.json", &encoded(&Request::Hello { id: 0, protocol: PROTOCOL_VERSION }));
    let configure = Request::Configure {
        id: 1,
        flags: Source::Path("/abs/flags-v1.json".into()),
        bandits: Some(Source::Inline(json!({"bandits": {}}))),
        precomputed: None,
    };
    assert_valid("protocol/configure.request.schema.json", &encoded(&configure));
    // Without a precomputed configuration the request is what v1 always wrote.
    assert!(encoded(&configure).get("precomputed").is_none());
    let precomputed = Request::Configure {
        id: 1,
        flags: Source::Path("/abs/flags-v1.json".into()),
        bandits: None,
        precomputed: Some(Source::Inline(precomputed_envelope())),
    };
    assert_valid("protocol/configure.request.schema.json", &encoded(&precomputed));
    let by_path = Request::Configure {
        id: 1,
        flags: Source::Path("/abs/flags-v1.json".into()),
        bandits: None,
        precomputed: Some(Source::Path("/abs/alice.json".into())),
    };
    assert_valid("protocol/configure.request.schema.json", &encoded(&by_path));
    let cases = vec![
        WireCase { case_id: Cow::Borrowed("f/alice"), input: Cow::Borrowed(&flag) },
        WireCase { case_id: Cow::Borrowed("b/alice"), input: Cow::Borrowed(&bandit) },
    ];
    assert_valid("protocol/evaluate.request.schema.json", &encoded(&Request::Evaluate { id: 2, cases }));
    for mode in BenchMode::ALL {
        let bench = BenchRequest {
            mode,
            flag: "greeting".into(),
            variation_type: VariationType::String,
            default_value: json!("hi"),
            subjects: vec![BenchSubject { subject_key: "alice".into(), subject_attributes: json!({"age": 3}) }],
            actions: Vec::new(),
            iterations: 10,
        };
        assert_valid("protocol/bench.request.schema.json", &encoded(&Request::Bench { id: 3, bench }));
    }
    let precompute = Request::Precompute {
        id: 4,
        subject_key: "alice".into(),
        subject_attributes: json!({"age": 3}),
        bandit_actions: json!({"banner": {"nike": {"numericAttributes": {}, "categoricalAttributes": {}}}})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        salt: "salt".into(),
    };
    assert_valid("protocol/precompute.request.schema.json", &encoded(&precompute));
    assert_valid("protocol/shutdown.request.schema.json", &encoded(&Request::Shutdown { id: 5 }));
}

#[test]
fn the_schemas_reject_what_the_types_cannot_write() {
    let mut hello = encoded(&Request::Hello { id: 0, protocol: PROTOCOL_VERSION });
    hello["protocol"] = json!("one");
    assert_invalid("protocol/hello.request.schema.json", &hello);
    let flag = flag_case();
    let mut evaluate = encoded(&Request::Evaluate {
        id: 2,
        cases: vec![WireCase { case_id: Cow::Borrowed("f/alice"), input: Cow::Borrowed(&flag) }],
    });
    evaluate["cases"][0]["variationType"] = json!("TEXT");
    assert_invalid("protocol/evaluate.request.schema.json", &evaluate);
    let configure = |envelope: Value| {
        encoded(&Request::Configure {
            id: 1,
            flags: Source::Path("/abs/flags-v1.json".into()),
            bandits: None,
            precomputed: Some(Source::Inline(envelope)),
        })
    };
    let mut nameless = precomputed_envelope();
    nameless["precomputed"].as_object_mut().map(|p| p.remove("subjectKey"));
    assert_invalid("protocol/configure.request.schema.json", &configure(nameless));
    // A flag configuration is not a precomputed one.
    assert_invalid("protocol/configure.request.schema.json", &configure(json!({"flags": {}})));
}

/// One subject's precomputed configuration, as the reference writes it.
fn precomputed_envelope() -> Value {
    json!({"version": 1, "precomputed": {"subjectKey": "alice",
        "subjectAttributes": {"numericAttributes": {"age": 3}, "categoricalAttributes": {}},
        "fetchedAt": "2025-01-01T00:00:00.000Z",
        "response": "{\"format\":\"PRECOMPUTED\",\"obfuscated\":true,\"salt\":\"s\",\"flags\":{},\"bandits\":{}}"}})
}

#[test]
fn a_configure_request_of_an_older_harness_still_reads() {
    let old = json!({"id": 1, "op": "configure", "flags": {"path": "/abs/flags-v1.json"}, "bandits": null});
    let parsed: Request<'static> = serde_json::from_value(old).expect("a v1 configure parses");
    assert!(matches!(parsed, Request::Configure { precomputed: None, .. }), "{parsed:?}");
    let declared: Capabilities = serde_json::from_value(json!(["assign", "precomputed-client"])).expect("parses");
    assert!(declared.has(&Capability::PrecomputedClient));
    assert_eq!(declared.unknown().count(), 0);
}

/// A response as the harness reads it: parsed into [`Response`] and written
/// back, so what validates is what the types keep.
fn round_trip(response: Value) -> Value {
    let parsed: Response = serde_json::from_value(response).expect("the response parses");
    serde_json::to_value(parsed).expect("responses serialize")
}

#[test]
fn every_response_shape_the_harness_reads_has_its_schema() {
    let hello = Response {
        id: 0,
        ok: true,
        protocol: Some(PROTOCOL_VERSION),
        sdk: Some(SdkInfo { name: "python".into(), package: Some("eppo-server-sdk".into()), version: "4.4.1".into() }),
        capabilities: Some(Capabilities::new(Capability::KNOWN)),
        ..Response::default()
    };
    assert_valid("protocol/hello.response.schema.json", &serde_json::to_value(&hello).expect("serializes"));
    // A capability from a newer protocol is kept, not refused.
    let newer = round_trip(json!({"id": 0, "ok": true, "protocol": 1,
        "sdk": {"name": "x", "package": "x", "version": "1"}, "capabilities": ["assign", "teleport"]}));
    assert_eq!(newer["capabilities"], json!(["assign", "teleport"]));
    assert_valid("protocol/hello.response.schema.json", &newer);

    let answered = CaseResult {
        case_id: "f/alice".into(),
        value: Some(json!("hello")),
        details: None,
        assignment_events: vec![json!({"featureFlag": "greeting"})],
        bandit_events: Vec::new(),
        error: None,
    };
    let raised = CaseResult::raised("f/bob", "TypeError: bad attribute");
    let evaluate = Response { id: 2, ok: true, results: Some(vec![answered, raised]), ..Response::default() };
    assert_valid("protocol/evaluate.response.schema.json", &serde_json::to_value(&evaluate).expect("serializes"));

    let bench = round_trip(json!({"id": 3, "ok": true, "iterations": 10, "elapsedNs": 12345}));
    assert_valid("protocol/bench.response.schema.json", &bench);
    let configure = round_trip(json!({"id": 1, "ok": true}));
    assert_valid("protocol/configure.response.schema.json", &configure);
    let error = round_trip(json!({"id": 1, "ok": false, "error": "no such file"}));
    assert_valid("protocol/error.response.schema.json", &error);
    let precompute = round_trip(json!({"id": 4, "ok": true, "configuration": "{\"precomputed\": {}}"}));
    assert_valid("protocol/precompute.response.schema.json", &precompute);
}

fn answered(case_id: &str, value: &str) -> CaseResult {
    CaseResult { case_id: case_id.into(), value: Some(json!(value)), ..CaseResult::default() }
}

fn summary(passed: usize, failed: usize) -> Summary {
    Summary { total: passed + failed, passed, failed, ..Summary::default() }
}

fn report() -> RunReport {
    let sdk = SdkInfo { name: "node".into(), package: Some("@eppo/node-server-sdk".into()), version: "3.10.2".into() };
    RunReport {
        report_version: REPORT_VERSION,
        tool: Tool { name: "ufc-harness".into(), version: "0.1.0".into() },
        comparison: Some(ComparisonReport {
            baseline: "reports/previous.json".into(),
            counts: ChangeCounts { regressions: 1, fixed: 0, new: 1, removed: 1, unchanged: 1 },
            regressions: vec![ChangeReport {
                case_id: "f/bob".into(),
                party: "node".into(),
                baseline_party: Some("node@3.9.0".into()),
                before: Some(Status::Passed),
                now: Some(Status::KnownFailure),
            }],
            fixed: Vec::new(),
            new: vec![ChangeReport {
                case_id: "f/carol".into(),
                party: "node".into(),
                baseline_party: None,
                before: None,
                now: Some(Status::Nondeterministic),
            }],
            removed: vec![ChangeReport {
                case_id: "f/dave".into(),
                party: "node".into(),
                baseline_party: None,
                before: Some(Status::Failed),
                now: None,
            }],
        }),
        suite: "test-data".into(),
        fail_on: vec![Severity::Critical, Severity::Major],
        repeat: 2,
        partition: Some(PartitionReport {
            index: 2,
            count: 3,
            case_ids: vec!["f/alice".into(), "f/bob".into(), "f/carol".into(), "f/dave".into()],
            share_keys: vec!["f".into(), "f".into(), "f".into(), "f".into()],
        }),
        summary: Summary { nondeterministic: 1, ..summary(1, 1) },
        parties: vec![PartyReport {
            name: "node".into(),
            sdk,
            capabilities: Capabilities::new([Capability::Assign, Capability::Unknown("teleport".into())]),
            summary: summary(1, 1),
        }],
        load_errors: vec![LoadErrorReport {
            file: "ufc/tests/x.json".into(),
            path: "$.subjects[0].subjectKey".into(),
            message: "expected a string".into(),
        }],
        config_errors: vec!["flag \"f\": no variations".into()],
        cases: vec![
            CaseReport {
                case_id: "f/alice".into(),
                party: "node".into(),
                status: Status::Passed,
                file: "ufc/tests/f.json".into(),
                differences: Vec::new(),
                error: None,
                skip_reason: None,
                stderr_tail: None,
                known_failure: None,
                causes: Vec::new(),
                observed: None,
                answers: Vec::new(),
                change: Some(Change::Unchanged),
                request_log: Vec::new(),
            },
            CaseReport {
                case_id: "f/bob".into(),
                party: "node".into(),
                status: Status::KnownFailure,
                file: "ufc/tests/f.json".into(),
                differences: vec![DifferenceReport {
                    field: "details.flagEvaluationCode".into(),
                    severity: Severity::Major,
                    expected: json!("MATCH"),
                    actual: json!("TYPE_MISMATCH"),
                }],
                error: None,
                skip_reason: None,
                stderr_tail: Some("warning".into()),
                known_failure: Some("node.toml: f/*".into()),
                causes: vec!["js-type-mismatch".into()],
                observed: Some(CaseResult::raised("f/bob", "TypeError")),
                answers: Vec::new(),
                change: Some(Change::Regression),
                request_log: Vec::new(),
            },
            CaseReport {
                case_id: "f/carol".into(),
                party: "node".into(),
                status: Status::Nondeterministic,
                file: "ufc/tests/f.json".into(),
                differences: Vec::new(),
                error: None,
                skip_reason: None,
                stderr_tail: None,
                known_failure: None,
                causes: Vec::new(),
                observed: Some(answered("f/carol", "red")),
                answers: vec![
                    ProcessAnswer { process: 1, result: Some(answered("f/carol", "red")), lost: None },
                    ProcessAnswer { process: 2, result: Some(answered("f/carol", "blue")), lost: None },
                    ProcessAnswer { process: 3, result: None, lost: Some("adapter exited with status 3".into()) },
                ],
                change: Some(Change::New),
                request_log: vec![RecordedRequest {
                    at_ms: 1200,
                    method: "GET".into(),
                    path: "/api/flag-config/v1/config".into(),
                    query: [("apiKey".to_owned(), "scenario-sdk-key".to_owned())].into_iter().collect(),
                    headers: [("if-none-match".to_owned(), "\"abc\"".to_owned())].into_iter().collect(),
                    answer: "304".into(),
                }],
            },
        ],
    }
}

#[test]
fn the_run_report_has_its_schema_and_round_trips() {
    let report = report();
    let document = serde_json::to_value(&report).expect("the report serializes");
    assert_valid("report-schema.json", &document);
    let back: RunReport = serde_json::from_value(document.clone()).expect("the report parses back");
    assert_eq!(back, report);

    let mut wrong_version = document.clone();
    wrong_version["reportVersion"] = json!(REPORT_VERSION + 1);
    assert_invalid("report-schema.json", &wrong_version);
    let mut wrong_status = document.clone();
    wrong_status["cases"][0]["status"] = json!("fine");
    assert_invalid("report-schema.json", &wrong_status);
    // A process's entry holds its answer or why it was lost.
    let mut empty_answer = document.clone();
    empty_answer["cases"][2]["answers"][2] = json!({"process": 3});
    assert_invalid("report-schema.json", &empty_answer);
    let mut bad_request = document.clone();
    bad_request["cases"][2]["requestLog"][0]["atMs"] = json!(-1);
    assert_invalid("report-schema.json", &bad_request);
    let mut no_repeat = document.clone();
    no_repeat.as_object_mut().map(|report| report.remove("repeat"));
    assert_invalid("report-schema.json", &no_repeat);
    // The baseline's and the partition's fields are checked too.
    let mut wrong_change = document.clone();
    wrong_change["cases"][0]["change"] = json!("worse");
    assert_invalid("report-schema.json", &wrong_change);
    let mut no_counts = document.clone();
    no_counts["comparison"].as_object_mut().map(|c| c.remove("counts"));
    assert_invalid("report-schema.json", &no_counts);
    let mut share_zero = document;
    share_zero["partition"]["index"] = json!(0);
    assert_invalid("report-schema.json", &share_zero);
}

fn init_request() -> InitRequest {
    InitRequest {
        base_url: "http://127.0.0.1:41234".into(),
        sdk_key: "scenario-sdk-key".into(),
        poll_interval_ms: 1000,
        init_timeout_ms: Some(3000),
        assignment_cache: true,
        bandit_cache: false,
        logger: LoggerMode::Throwing,
        wait_for_init: false,
    }
}

#[test]
fn the_online_ops_have_their_schemas() {
    let init = encoded(&Request::Init { id: 5, init: init_request() });
    assert_valid("protocol/init.request.schema.json", &init);
    assert_eq!(init["op"], "init");
    assert_eq!(init["logger"], "throwing");
    assert_eq!(init["waitForInit"], false);
    let minimal = InitRequest { init_timeout_ms: None, ..init_request() };
    let minimal = encoded(&Request::Init { id: 5, init: minimal });
    assert!(minimal.get("initTimeoutMs").is_none(), "{minimal}");
    assert_valid("protocol/init.request.schema.json", &minimal);
    let drain = encoded(&Request::DrainEvents { id: 6 });
    assert_eq!(drain, json!({"id": 6, "op": "drainEvents"}));
    assert_valid("protocol/drainEvents.request.schema.json", &drain);
    let stop = encoded(&Request::StopClient { id: 7 });
    assert_eq!(stop, json!({"id": 7, "op": "stopClient"}));
    assert_valid("protocol/stopClient.request.schema.json", &stop);

    let hello = Response {
        id: 0,
        ok: true,
        protocol: Some(PROTOCOL_VERSION),
        sdk: Some(SdkInfo { name: "node".into(), package: None, version: "3.10.2".into() }),
        capabilities: Some(Capabilities::new([Capability::Assign, Capability::Online])),
        online: Some(OnlineInfo {
            min_poll_interval_ms: Some(1000),
            poll_jitter: Some("up to 10% of the interval, subtracted".into()),
            options: InitOption::KNOWN.to_vec(),
        }),
        ..Response::default()
    };
    let mut hello = serde_json::to_value(&hello).expect("serializes");
    hello["sdk"]["package"] = json!("@eppo/node-server-sdk");
    assert_valid("protocol/hello.response.schema.json", &round_trip(hello.clone()));

    let initialized = round_trip(json!({"id": 5, "ok": true, "initialized": true, "elapsedMs": 12}));
    assert_valid("protocol/init.response.schema.json", &initialized);
    assert_eq!(initialized["elapsedMs"], 12);
    // "Cannot tell" travels as null, which the types keep as absent: the
    // schema demands the field, so the adapter must write it.
    let unknown: Response =
        serde_json::from_value(json!({"id": 5, "ok": true, "initialized": null})).expect("null parses");
    assert_eq!(unknown.initialized, None);
    assert_valid("protocol/init.response.schema.json", &json!({"id": 5, "ok": true, "initialized": null}));
    let drained = round_trip(json!({"id": 6, "ok": true, "assignmentEvents": [{"featureFlag": "f"}],
        "banditEvents": [], "loggerCalls": 3}));
    assert_valid("protocol/drainEvents.response.schema.json", &drained);
    assert_valid("protocol/stopClient.response.schema.json", &round_trip(json!({"id": 7, "ok": true})));

    // And what the types could never write is refused.
    let mut bad_logger = init.clone();
    bad_logger["logger"] = json!("silent");
    assert_invalid("protocol/init.request.schema.json", &bad_logger);
    let mut no_url = init;
    no_url.as_object_mut().map(|init| init.remove("baseUrl"));
    assert_invalid("protocol/init.request.schema.json", &no_url);
    assert_invalid("protocol/drainEvents.response.schema.json", &json!({"id": 6, "ok": true, "loggerCalls": 1}));
    let mut optionless = hello;
    optionless["online"] = json!({"minPollIntervalMs": 1000});
    assert_invalid("protocol/hello.response.schema.json", &optionless);
}
