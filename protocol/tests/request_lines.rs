//! `Request::from_line` reads what the harness writes, whichever path it
//! takes (the one-pass `evaluate` reading or the derived one), and says
//! what is wrong with a malformed case.

use std::borrow::Cow;

use serde_json::json;
use ufc_protocol::{
    ActionInput, BanditCase, CaseInput, ContextAttributes, FlagCase, Request, Source, VariationType, WireCase,
};

fn cases() -> Vec<CaseInput> {
    let attributes = ContextAttributes {
        numeric_attributes: json!({"age": 30.5}).as_object().cloned().unwrap_or_default(),
        categorical_attributes: json!({"country": "US", "odd": 7}).as_object().cloned().unwrap_or_default(),
    };
    vec![
        CaseInput::Flag(FlagCase {
            flag: "greeting".into(),
            variation_type: VariationType::Json,
            default_value: json!({"a": [1, null]}),
            subject_key: "".into(),
            subject_attributes: json!({"country": "US", "age": 30, "n": null, "ok": true})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        }),
        CaseInput::Bandit(BanditCase {
            flag: "banner".into(),
            default_value: json!("control"),
            subject_key: "alice".into(),
            subject_attributes: attributes.clone(),
            actions: vec![
                ActionInput { action_key: "nike".into(), attributes: attributes.clone() },
                ActionInput { action_key: "".into(), attributes: ContextAttributes::default() },
            ],
        }),
    ]
}

#[test]
fn an_evaluate_line_reads_back_as_written() {
    let inputs = cases();
    let written = Request::Evaluate {
        id: 7,
        cases: inputs
            .iter()
            .enumerate()
            .map(|(i, input)| WireCase { case_id: Cow::Owned(format!("c{i}")), input: Cow::Borrowed(input) })
            .collect(),
    };
    let line = serde_json::to_string(&written).expect("serializes");
    let Request::Evaluate { id, cases } = Request::from_line(&line).expect("reads") else {
        panic!("not an evaluate: {line}")
    };
    assert_eq!(id, 7);
    let read: Vec<(String, CaseInput)> =
        cases.into_iter().map(|c| (c.case_id.into_owned(), c.input.into_owned())).collect();
    let expected: Vec<(String, CaseInput)> =
        inputs.into_iter().enumerate().map(|(i, c)| (format!("c{i}"), c)).collect();
    assert_eq!(read, expected);
    // The derived reading (which other ops take) agrees.
    let Ok(Request::Evaluate { cases: derived, .. }) = serde_json::from_str::<Request>(&line) else { panic!("{line}") };
    assert_eq!(
        derived.into_iter().map(|c| c.input.into_owned()).collect::<Vec<_>>(),
        expected.into_iter().map(|c| c.1).collect::<Vec<_>>()
    );
}

#[test]
fn other_ops_read_too_and_op_may_come_last() {
    let line = r#"{"id": 3, "flags": {"path": "/x/flags.json"}, "bandits": null, "op": "configure"}"#;
    let read = Request::from_line(line).expect("reads");
    assert!(matches!(read, Request::Configure { id: 3, flags: Source::Path(_), bandits: None, .. }), "{read:?}");
    let line = r#"{"cases": [], "id": 4, "op": "evaluate"}"#;
    assert!(matches!(Request::from_line(line), Ok(Request::Evaluate { id: 4, ref cases }) if cases.is_empty()));
}

#[test]
fn a_malformed_case_is_named() {
    let error = |case: serde_json::Value| {
        let line = json!({"id": 1, "op": "evaluate", "cases": [case]}).to_string();
        Request::from_line(&line).expect_err("malformed").to_string()
    };
    let flag = json!({"caseId": "a", "kind": "flag", "flag": "f", "defaultValue": 1, "subjectKey": "s", "subjectAttributes": {}});
    assert!(error(flag.clone()).contains("variationType"), "{}", error(flag));
    let mut listed = flag.clone();
    listed["variationType"] = json!("STRING");
    listed["subjectAttributes"] = json!([1]);
    assert!(error(listed.clone()).contains("subjectAttributes"), "{}", error(listed));
    let mut bandit = flag.clone();
    bandit["kind"] = json!("bandit");
    assert!(error(bandit.clone()).contains("actions"), "{}", error(bandit));
    let mut unknown = flag;
    unknown["kind"] = json!("precomputed");
    assert!(error(unknown.clone()).contains("unknown variant"), "{}", error(unknown));
}
