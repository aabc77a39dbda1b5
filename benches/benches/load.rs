//! `load`: `Configuration::from_json` of each fixture configuration file
//! (`flags-v1.json`, `bandit-flags-v1.json`), and `BanditModels::from_json`
//! of the models; throughput in flags (bandits for the models) per load.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ufc_benches::Fixtures;
use ufc_reference::bandit::BanditModels;
use ufc_reference::Configuration;

fn load(c: &mut Criterion) {
    let fixtures = Fixtures::load();
    let mut files: Vec<(String, &[u8])> = Vec::new();
    for group in &fixtures.flag_groups {
        files.push((Fixtures::label(&group.name, &group.config_file), &group.config_json));
    }
    for group in &fixtures.bandit_groups {
        let label = Fixtures::label(&group.name, &group.config_file);
        if !files.iter().any(|(l, _)| *l == label) {
            files.push((label, &group.config_json));
        }
    }

    let mut group = c.benchmark_group("load");
    for (label, bytes) in &files {
        let Ok(config) = Configuration::from_json(bytes) else {
            eprintln!("ufc-benches: {label}: does not load");
            continue;
        };
        group.throughput(Throughput::Elements(config.flag_keys().len().max(1) as u64));
        group.bench_with_input(BenchmarkId::new("configuration", label), bytes, |b, bytes| {
            b.iter(|| black_box(Configuration::from_json(black_box(bytes))))
        });
    }
    for bandit_group in &fixtures.bandit_groups {
        let label = Fixtures::label(&bandit_group.name, "bandit-models-v1.json");
        let count = serde_json::from_slice::<serde_json::Value>(&bandit_group.models_json)
            .ok()
            .and_then(|v| v.get("bandits").and_then(|b| b.as_object()).map(|b| b.len()))
            .unwrap_or(1);
        group.throughput(Throughput::Elements(count.max(1) as u64));
        group.bench_with_input(BenchmarkId::new("bandit_models", label), &bandit_group.models_json, |b, bytes| {
            b.iter(|| black_box(BanditModels::from_json(black_box(bytes))))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(2));
    targets = load
}
criterion_main!(benches);
