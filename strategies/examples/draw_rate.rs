//! How fast the generators draw: cases per second and document bytes per
//! case for each scenario kind, on one thread.
//!
//! `cargo run --release -p ufc-strategies --example draw_rate`

use std::time::Instant;

use proptest::strategy::BoxedStrategy;
use ufc_strategies::{
    bandit_scenario, bandit_scenario_with, flag_scenario, flag_scenario_shaped, Generator, Scenario, ScenarioShape,
};

fn measure(name: &str, strategy: &BoxedStrategy<Scenario>, draws: usize) {
    let mut generator = Generator::from_seed([7; 32]);
    let started = Instant::now();
    let (mut cases, mut bytes) = (0_usize, 0_usize);
    for _ in 0..draws {
        let Some(scenario) = generator.draw(strategy) else { continue };
        cases += scenario.cases.len();
        bytes += serde_json::to_string(&scenario.flags).map_or(0, |s| s.len());
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{name:<28} {:>9.0} cases/s  {:>6.1} cases/configuration  {:>7.0} bytes/configuration",
        cases as f64 / seconds,
        cases as f64 / draws as f64,
        bytes as f64 / draws as f64
    );
}

fn main() {
    measure("flag_scenario", &flag_scenario(), 2_000);
    measure("bandit_scenario", &bandit_scenario(), 2_000);
    for cases in [64, 500, 2_000] {
        measure(&format!("flag_scenario dense({cases})"), &flag_scenario_shaped(ScenarioShape::dense(cases)), 40);
    }
    measure("bandit_scenario_with(250..=500)", &bandit_scenario_with(250..=500), 40);
}
