//! The precedence rules of `../shared/ufc-spec.md` where the reference used
//! to stand alone: each test is a minimal configuration on which every SDK
//! core that answers agrees (RS, JS, PY, JVM, driven through the harness;
//! `docs/reference.md`, "Precedence"), and fails if the reference-only
//! outcome comes back.

use serde_json::{json, Value};
use ufc_reference::bandit::{Action, BanditModels, BanditRequest, SubjectAttributes};
use ufc_reference::{Attributes, Configuration, FlagEvaluationCode, FlagRequest, Timestamp, VariationType};

fn configuration(flag: Value) -> Configuration {
    let document = json!({"environment": {"name": "Test"}, "flags": {"f": flag}});
    Configuration::from_value(&document).expect("the document is a UFC configuration")
}

/// Value (or `None` for the default), details and whether an event is logged.
fn evaluate(config: &Configuration, subject: &str, attributes: Value) -> (Option<Value>, Value, bool) {
    let attributes = Attributes::from_json(attributes.as_object().expect("attributes are an object"));
    let request = FlagRequest::new("f", subject, &attributes, VariationType::String);
    let (outcome, details) = config.evaluate_details(&request, Timestamp::UNIX_EPOCH);
    let event = outcome.assignment_event(&request, Timestamp::UNIX_EPOCH).is_some();
    (outcome.value().map(|v| v.to_json()), details.to_json(), event)
}

fn allocation(key: &str, variation: &str, rules: Value, shards: Value) -> Value {
    json!({"key": key, "rules": rules, "doLog": true, "splits": [{"variationKey": variation, "shards": shards}]})
}

fn flag(allocations: Vec<Value>, total_shards: u32) -> Value {
    json!({"key": "f", "enabled": true, "variationType": "STRING", "totalShards": total_shards,
           "variations": {"on": {"key": "on", "value": "on"}, "off": {"key": "off", "value": "off"}},
           "allocations": allocations})
}

fn one_of(attribute: &str, value: &str) -> Value {
    json!([{"conditions": [{"attribute": attribute, "operator": "ONE_OF", "value": [value]}]}])
}

fn keys(list: &Value) -> Vec<(String, String)> {
    list.as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            (
                a["key"].as_str().unwrap_or("?").to_owned(),
                a["allocationEvaluationCode"].as_str().unwrap_or("?").to_owned(),
            )
        })
        .collect()
}

fn pair(key: &str, code: &str) -> (String, String) {
    (key.to_owned(), code.to_owned())
}

/// `totalShards: 0` used to make the whole flag invalid at load. Every core
/// loads it and serves an allocation that needs no shard (RS panics only
/// when it hashes, JS never admits a hashed shard, PY and the JVM serve the
/// default there); so the reference fails the evaluation only at the split
/// that needs the subject's shard, and a flag broken in one allocation
/// still serves the others.
#[test]
fn zero_total_shards_fails_only_where_a_shard_is_needed() {
    let shards = json!([{"salt": "s", "ranges": [{"start": 0, "end": 5000}]}]);
    let config = configuration(flag(
        vec![
            allocation("by-rule", "on", one_of("a", "x"), json!([])),
            allocation("gold-sharded", "off", one_of("tier", "gold"), shards),
            allocation("rest", "on", json!([]), json!([])),
        ],
        0,
    ));
    assert!(config.flag_errors().is_empty(), "{:?}", config.flag_errors());

    // Before the broken allocation: served, with its event.
    let (value, details, event) = evaluate(&config, "hit", json!({"a": "x"}));
    assert_eq!((value, details["flagEvaluationCode"].clone(), event), (Some(json!("on")), json!("MATCH"), true));

    // Past it, when its rule rejects the subject: the later allocation serves.
    let (value, details, event) = evaluate(&config, "plain", json!({}));
    assert_eq!((value, details["flagEvaluationCode"].clone(), event), (Some(json!("on")), json!("MATCH"), true));
    assert_eq!(
        keys(&details["unmatchedAllocations"]),
        [pair("by-rule", "FAILING_RULE"), pair("gold-sharded", "FAILING_RULE")]
    );
    assert_eq!(details["matchedAllocation"]["key"], "rest");

    // At it: the default, no event, the allocation and those after it unevaluated.
    let (value, details, event) = evaluate(&config, "gold", json!({"tier": "gold"}));
    assert_eq!((value, event), (None, false));
    assert_eq!(details["flagEvaluationCode"], FlagEvaluationCode::UnexpectedConfigurationError.as_str());
    assert_eq!(keys(&details["unmatchedAllocations"]), [pair("by-rule", "FAILING_RULE")]);
    assert_eq!(
        keys(&details["unevaluatedAllocations"]),
        [pair("gold-sharded", "UNEVALUATED"), pair("rest", "UNEVALUATED")]
    );
    let description = details["flagEvaluationDescription"].as_str().unwrap_or_default();
    assert!(description.contains("\"gold-sharded\"") && description.contains("totalShards is 0"), "{description}");
}

/// With no shards, RS skips a shard whose range is written exactly `0..0`
/// (its "covers every shard" test), so that split admits everyone.
#[test]
fn zero_total_shards_with_the_empty_full_range_admits() {
    let full = json!([{"salt": "s", "ranges": [{"start": 0, "end": 0}]}]);
    let config = configuration(flag(vec![allocation("all", "off", json!([]), full)], 0));
    let (value, details, _) = evaluate(&config, "anyone", json!({}));
    assert_eq!((value, details["flagEvaluationCode"].clone()), (Some(json!("off")), json!("MATCH")));
}

/// A condition that cannot be read used to make the whole flag invalid at
/// load (`UNEXPECTED_CONFIGURATION_ERROR`). RS reads each condition on its
/// own and counts an unreadable one as false, and JS evaluates such a
/// condition as false too: the rule fails and the next allocation serves,
/// with the same details in both cores.
#[test]
fn an_unreadable_condition_is_false_and_the_flag_still_serves() {
    let unreadable = [
        json!({"operator": "ONE_OF", "value": ["x"]}),
        json!({"attribute": "a", "value": ["x"]}),
        json!({"attribute": 5, "operator": "ONE_OF", "value": ["x"]}),
        json!({"attribute": "a", "operator": 3, "value": ["x"]}),
        json!({"operator": "IS_NULL", "value": true}),
        json!(5),
        Value::Null,
    ];
    for condition in unreadable {
        let rules = json!([{"conditions": [condition]}]);
        let config = configuration(flag(
            vec![allocation("by-rule", "on", rules, json!([])), allocation("rest", "off", json!([]), json!([]))],
            10,
        ));
        assert!(config.flag_errors().is_empty(), "{condition}: {:?}", config.flag_errors());
        let (value, details, event) = evaluate(&config, "hit", json!({"a": "x"}));
        assert_eq!(
            (value, details["flagEvaluationCode"].clone(), event),
            (Some(json!("off")), json!("MATCH"), true),
            "{condition}"
        );
        assert_eq!(keys(&details["unmatchedAllocations"]), [pair("by-rule", "FAILING_RULE")], "{condition}");
    }
}

/// Where the cores disagree, values follow RS, which cannot read a flag
/// whose variation value is not a bool, number or string, or whose split
/// has `extraLogging: null` (JS evaluates both; PY drops the whole
/// configuration).
#[test]
fn flags_rs_cannot_read_are_invalid() {
    let null_value = json!({"key": "f", "enabled": true, "variationType": "STRING", "totalShards": 10,
        "variations": {"on": {"key": "on", "value": "on"}, "bad": {"key": "bad", "value": null}},
        "allocations": [allocation("all", "on", json!([]), json!([]))]});
    let null_logging = json!({"key": "f", "enabled": true, "variationType": "STRING", "totalShards": 10,
        "variations": {"on": {"key": "on", "value": "on"}},
        "allocations": [{"key": "all", "splits": [{"variationKey": "on", "shards": [], "extraLogging": null}]}]});
    for (flag, path) in [
        (null_value, "$.flags.f.variations.bad.value"),
        (null_logging, "$.flags.f.allocations[0].splits[0].extraLogging"),
    ] {
        let config = configuration(flag);
        let paths: Vec<&str> = config.flag_errors().iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, [path]);
        let (value, details, _) = evaluate(&config, "anyone", json!({}));
        assert_eq!((value, details["flagEvaluationCode"].clone()), (None, json!("UNEXPECTED_CONFIGURATION_ERROR")));
    }
}

/// Bandits: the reference used to replace the flag's `MATCH` with
/// `NON_BANDIT_VARIATION`, `NO_ACTIONS_SUPPLIED_FOR_BANDIT` or
/// `BANDIT_ERROR` when no action was chosen. RS and JS both keep the flag's
/// code and description; both name the bandit in `banditKey` when the
/// variation is linked and no action is supplied.
#[test]
fn bandit_details_keep_the_flags_code() {
    let rules = |want: &str| json!([{"conditions": [{"attribute": "want", "operator": "ONE_OF", "value": [want]}]}]);
    let document = json!({"environment": {"name": "Test"}, "flags": {"bf": {
        "key": "bf", "enabled": true, "variationType": "STRING", "totalShards": 10000,
        "variations": {"arm": {"key": "arm", "value": "arm"}, "plain": {"key": "plain", "value": "plain"},
                       "ghost": {"key": "ghost", "value": "ghost"}},
        "allocations": [allocation("to-plain", "plain", rules("plain"), json!([])),
                        allocation("to-ghost", "ghost", rules("ghost"), json!([])),
                        allocation("to-arm", "arm", json!([]), json!([]))]}},
        "bandits": {"armb": [{"key": "armb", "flagKey": "bf", "variationKey": "arm", "variationValue": "arm"}],
                    "ghostb": [{"key": "ghostb", "flagKey": "bf", "variationKey": "ghost", "variationValue": "ghost"}]}});
    let config = Configuration::from_value(&document).expect("loads");
    let models = BanditModels::from_value(&json!({"bandits": {"armb": {"banditKey": "armb", "modelVersion": "v1",
        "modelData": {"gamma": 1.0, "defaultActionScore": 0.0, "actionProbabilityFloor": 0.0, "coefficients": {}}}}}))
    .expect("loads");
    let actions = [Action::from_value(&json!({"actionKey": "a1"})).expect("an action")];

    // (want, actions supplied) → (variation, banditKey, banditAction)
    let cases = [
        ("plain", true, "plain", Value::Null, Value::Null),
        ("ghost", true, "ghost", json!("ghostb"), Value::Null),
        ("", false, "arm", json!("armb"), Value::Null),
        ("", true, "arm", json!("armb"), json!("a1")),
    ];
    for (want, supplied, variation, bandit_key, bandit_action) in cases {
        let subject = SubjectAttributes::from_value(&json!({"categoricalAttributes": {"want": want}}));
        let offered: &[Action] = if supplied { &actions } else { &[] };
        let request = BanditRequest::new("bf", "alice", &subject, offered, "default");
        let (outcome, details) = config.evaluate_bandit_details(Some(&models), &request, Timestamp::UNIX_EPOCH);
        let details = details.to_json();
        let case = format!("want {want:?}, actions {supplied}");
        assert_eq!(outcome.variation, variation, "{case}");
        assert_eq!(details["flagEvaluationCode"], "MATCH", "{case}");
        let description = details["flagEvaluationDescription"].as_str().unwrap_or_default();
        assert!(description.contains("allocation \"to-"), "{case}: {description}");
        assert_eq!(
            (details["banditKey"].clone(), details["banditAction"].clone()),
            (bandit_key, bandit_action),
            "{case}"
        );
    }
}
