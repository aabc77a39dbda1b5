//! Whatever bytes or JSON the parser is given, it returns `Ok` or `Err` and
//! never panics; whatever it accepts evaluates without panicking.

use proptest::prelude::*;
use ufc_reference::bandit::BanditModels;
use ufc_reference::precomputed::PrecomputedConfiguration;
use ufc_reference::{AttributeValue, Attributes, Configuration, FlagRequest, VariationType};
use ufc_strategies::malformed::{arbitrary_json, damaged_client_configuration, damaged_configuration};

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
