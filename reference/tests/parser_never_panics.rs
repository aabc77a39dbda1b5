//! Whatever bytes or JSON the parser is given, it returns `Ok` or `Err` and
//! never panics; whatever it accepts evaluates without panicking.

use proptest::prelude::*;
use serde_json::{json, Value};
use ufc_reference::bandit::BanditModels;
use ufc_reference::precomputed::PrecomputedConfiguration;
use ufc_reference::{AttributeValue, Attributes, Configuration, FlagRequest, VariationType};

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("JSON numbers are finite", |f| f.is_finite()).prop_map(Value::from),
        prop_oneof![
            Just("STRING".to_owned()),
            Just("ONE_OF".to_owned()),
            Just("MATCHES".to_owned()),
            Just("GT".to_owned()),
            Just("IS_NULL".to_owned()),
            Just("(".to_owned()),
            Just("1.2.3".to_owned()),
            Just("2024-01-01T00:00:00Z".to_owned()),
            ".{0,8}"
        ]
        .prop_map(Value::from),
    ];
    let keys = prop_oneof![
        Just("flags".to_owned()),
        Just("key".to_owned()),
        Just("enabled".to_owned()),
        Just("variationType".to_owned()),
        Just("variations".to_owned()),
        Just("allocations".to_owned()),
        Just("totalShards".to_owned()),
        Just("rules".to_owned()),
        Just("conditions".to_owned()),
        Just("splits".to_owned()),
        Just("shards".to_owned()),
        Just("ranges".to_owned()),
        Just("value".to_owned()),
        "[a-z]{1,6}"
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((keys.clone(), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

/// A valid flag with one field replaced by arbitrary JSON.
fn damaged_configuration() -> impl Strategy<Value = Value> {
    let base = json!({
        "environment": {"name": "Prop"},
        "flags": {"f": {
            "key": "f", "enabled": true, "variationType": "STRING", "totalShards": 100,
            "variations": {"a": {"key": "a", "value": "A"}},
            "allocations": [{"key": "al", "rules": [{"conditions": [{"attribute": "x", "operator": "GT", "value": 1}]}],
                "splits": [{"variationKey": "a", "shards": [{"salt": "s", "ranges": [{"start": 0, "end": 50}]}]}]}]
        }}
    });
    let pointers = prop_oneof![
        Just("/flags/f/variationType"),
        Just("/flags/f/totalShards"),
        Just("/flags/f/variations"),
        Just("/flags/f/variations/a/value"),
        Just("/flags/f/allocations"),
        Just("/flags/f/allocations/0/rules"),
        Just("/flags/f/allocations/0/rules/0/conditions/0/operator"),
        Just("/flags/f/allocations/0/rules/0/conditions/0/value"),
        Just("/flags/f/allocations/0/splits/0/shards/0/ranges/0/end"),
        Just("/flags/f/allocations/0/splits/0/variationKey"),
        Just("/flags/f"),
    ];
    (pointers, arbitrary_json()).prop_map(move |(pointer, replacement)| {
        let mut config = base.clone();
        if let Some(slot) = config.pointer_mut(pointer) {
            *slot = replacement;
        }
        config
    })
}

/// A valid CLIENT-format (obfuscated) flag with one field replaced by
/// arbitrary JSON.
fn damaged_client_configuration() -> impl Strategy<Value = Value> {
    use base64::Engine;
    let b64 = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
    let md5 = ufc_reference::obfuscation::md5_hex;
    let base = json!({
        "format": "CLIENT", "environment": {"name": "Prop"},
        "flags": {md5("f"): {
            "key": md5("f"), "enabled": true, "variationType": "STRING", "totalShards": 100,
            "variations": {b64("a"): {"key": b64("a"), "value": b64("A")}},
            "allocations": [{"key": b64("al"), "startAt": b64("2001-01-01T00:00:00Z"),
                "rules": [{"conditions": [{"attribute": md5("x"), "operator": md5("ONE_OF"), "value": [md5("2")]}]}],
                "splits": [{"variationKey": b64("a"), "extraLogging": {b64("k"): b64("v")},
                    "shards": [{"salt": b64("s"), "ranges": [{"start": 0, "end": 50}]}]}]}]
        }}
    });
    let f = md5("f");
    let pointers = prop_oneof![
        Just("/variations"),
        Just("/variations/YQ==/value"),
        Just("/allocations/0/key"),
        Just("/allocations/0/startAt"),
        Just("/allocations/0/rules/0/conditions/0/operator"),
        Just("/allocations/0/rules/0/conditions/0/attribute"),
        Just("/allocations/0/rules/0/conditions/0/value"),
        Just("/allocations/0/splits/0/variationKey"),
        Just("/allocations/0/splits/0/extraLogging"),
        Just("/allocations/0/splits/0/shards/0/salt"),
        Just(""),
    ];
    (pointers, arbitrary_json()).prop_map(move |(pointer, replacement)| {
        let mut config = base.clone();
        if let Some(slot) = config.pointer_mut(&format!("/flags/{f}{pointer}")) {
            *slot = replacement;
        }
        config
    })
}

fn evaluate_everything(config: &Configuration) {
    let mut attributes = Attributes::new();
    attributes.insert("x".into(), AttributeValue::Number(2.0));
    // A CLIENT configuration lists digests; "f" is the flag the strategies name.
    for key in config.flag_keys().into_iter().chain(["f"]) {
        for t in VariationType::ALL {
            let request = FlagRequest::new(key, "subject", &attributes, t);
            let _ = config.evaluate(&request, chrono::Utc::now());
            let _ = config.evaluate_details(&request, chrono::Utc::now());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, rng_seed: proptest::test_runner::RngSeed::Fixed(7), ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = Configuration::from_json(&bytes);
        let _ = BanditModels::from_json(&bytes);
        let _ = PrecomputedConfiguration::from_json(&bytes);
    }

    #[test]
    fn arbitrary_json_never_panics(document in arbitrary_json()) {
        if let Ok(config) = Configuration::from_value(&document) {
            evaluate_everything(&config);
        }
        let _ = BanditModels::from_value(&document);
        if let Ok(precomputed) = PrecomputedConfiguration::from_value(&document) {
            for t in VariationType::ALL {
                let outcome = precomputed.assignment("f", t);
                let _ = precomputed.details("f", &outcome);
            }
        }
    }

    #[test]
    fn damaged_flags_are_errors_for_that_flag_only(document in damaged_configuration()) {
        let config = Configuration::from_value(&document).expect("the document shape is intact");
        evaluate_everything(&config);
    }

    #[test]
    fn damaged_client_flags_are_errors_for_that_flag_only(document in damaged_client_configuration()) {
        let config = Configuration::from_value(&document).expect("the document shape is intact");
        evaluate_everything(&config);
    }
}
