//! The crate's contract, checked with seeded draws: the same seed gives the
//! same values, and what is meant to be valid UFC loads in the reference
//! with no errors.

use serde_json::Value;
use ufc_reference::bandit::BanditModels;
use ufc_reference::Configuration;
use ufc_strategies::{bandit_scenario, flag_scenario, malformed_configuration, partitioned_flag, Generator};

fn seed(n: u8) -> [u8; 32] {
    let mut bytes = [0_u8; 32];
    bytes[0] = n;
    bytes[31] = 0x5e;
    bytes
}

/// Loads `document`, failing on any error, the flags' included.
fn assert_loads(document: &Value) {
    let config = Configuration::from_value(document).expect("a valid document");
    assert!(config.flag_errors().is_empty(), "{:?}\n{document}", config.flag_errors());
}

#[test]
fn a_seed_gives_the_same_values_twice() {
    let (mut first, mut second) = (Generator::from_seed(seed(1)), Generator::from_seed(seed(1)));
    for _ in 0..20 {
        assert_eq!(first.draw(&flag_scenario()), second.draw(&flag_scenario()));
        assert_eq!(first.draw(&bandit_scenario()), second.draw(&bandit_scenario()));
        assert_eq!(first.draw(&malformed_configuration()), second.draw(&malformed_configuration()));
        let partitioned = |g: &mut Generator| g.draw(&partitioned_flag()).map(|f| (f.configuration, f.fractions));
        assert_eq!(partitioned(&mut first), partitioned(&mut second));
    }
    let mut other = Generator::from_seed(seed(2));
    let draws = |g: &mut Generator| (0..5).map(|_| g.draw(&flag_scenario())).collect::<Vec<_>>();
    assert_ne!(draws(&mut Generator::from_seed(seed(1))), draws(&mut other));
}

#[test]
fn generated_configurations_load_cleanly_in_the_reference() {
    let mut generator = Generator::from_seed(seed(3));
    for _ in 0..100 {
        let scenario = generator.draw(&flag_scenario()).expect("flag scenarios never reject");
        assert_loads(&scenario.flags);
        assert!(!scenario.cases.is_empty());
        assert!(scenario.bandit_models.is_none());
    }
}

#[test]
fn generated_bandit_scenarios_load_cleanly_in_the_reference() {
    let mut generator = Generator::from_seed(seed(4));
    for _ in 0..50 {
        let scenario = generator.draw(&bandit_scenario()).expect("bandit scenarios never reject");
        assert_loads(&scenario.flags);
        let models = BanditModels::from_value(&scenario.bandit_models.unwrap_or_default()).expect("a models document");
        assert!(models.errors().is_empty(), "{:?}", models.errors());
    }
}

#[test]
fn partitioned_flags_own_the_whole_shard_space() {
    let mut generator = Generator::from_seed(seed(5));
    for _ in 0..50 {
        let flag = generator.draw(&partitioned_flag()).expect("partitioned flags never reject");
        assert_loads(&flag.configuration);
        let total: f64 = flag.fractions.iter().map(|(_, share)| share).sum();
        assert!((total - 1.0).abs() < 1e-9, "{:?} of {}", flag.fractions, flag.total_shards);
    }
}
