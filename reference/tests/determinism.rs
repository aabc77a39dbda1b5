//! The oracle answers the same whatever the process: two variations that
//! share a `key` used to be resolved in a hash map's order, which changes
//! from one map (and one process) to the next.

use ufc_reference::{Attributes, Configuration, FlagRequest, Timestamp, VariationType};

fn configuration(variations: &str) -> Configuration {
    let document = format!(
        r#"{{"environment": {{"name": "Test"}}, "flags": {{"f": {{"key": "f", "enabled": true,
        "variationType": "INTEGER", "totalShards": 10000, "variations": {variations},
        "allocations": [{{"key": "all", "doLog": true, "splits": [{{"variationKey": "x", "shards": []}}]}}]}}}}}}"#
    );
    Configuration::from_json(document.as_bytes()).expect("the configuration loads")
}

fn value(config: &Configuration) -> Option<serde_json::Value> {
    let attributes = Attributes::new();
    let request = FlagRequest::new("f", "alice", &attributes, VariationType::Integer);
    config.evaluate(&request, Timestamp::UNIX_EPOCH).value().map(|v| v.to_json())
}

#[test]
fn variations_sharing_a_key_resolve_the_same_way_every_time() {
    // Many maps, many hash orders: every load must give one answer.
    let shared = r#"{"b": {"key": "x", "value": 2}, "a": {"key": "x", "value": 1}, "c": {"key": "x", "value": 3}}"#;
    let answers: Vec<_> = (0..64).map(|_| value(&configuration(shared))).collect();
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
    // None is stored under "x": the greatest map key wins.
    assert_eq!(answers[0], Some(serde_json::json!(3)));

    // The one stored under the shared key wins, wherever it stands.
    let canonical =
        r#"{"z": {"key": "x", "value": 26}, "x": {"key": "x", "value": 24}, "a": {"key": "x", "value": 1}}"#;
    let answers: Vec<_> = (0..64).map(|_| value(&configuration(canonical))).collect();
    assert!(answers.iter().all(|a| *a == Some(serde_json::json!(24))), "{answers:?}");
}
