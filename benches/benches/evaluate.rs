//! `evaluate`: every fixture flag over the subjects of its test files,
//! evaluated plain (`Configuration::evaluate`) and with details
//! (`Configuration::evaluate_details`). One benchmark per flag and mode,
//! plus `all` (every subject of every flag); throughput in evaluations.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ufc_benches::{now, Fixtures};
use ufc_reference::{Attributes, Configuration, FlagRequest, VariationType};

struct Workload<'a> {
    label: String,
    requests: Vec<(&'a str, &'a str, &'a Attributes, VariationType)>,
}

fn evaluate(c: &mut Criterion) {
    let fixtures = Fixtures::load();
    let now = now();
    let mut group = c.benchmark_group("evaluate");
    for flag_group in &fixtures.flag_groups {
        let Ok(config) = Configuration::from_json(&flag_group.config_json) else {
            eprintln!("ufc-benches: {}: configuration does not load", flag_group.name);
            continue;
        };
        let mut workloads: Vec<Workload<'_>> = flag_group
            .flags
            .iter()
            .map(|flag| Workload {
                label: Fixtures::label(&flag_group.name, &flag.flag),
                requests: flag
                    .subjects
                    .iter()
                    .map(|(key, attributes)| (flag.flag.as_str(), key.as_str(), attributes, flag.variation_type))
                    .collect(),
            })
            .collect();
        workloads.sort_by(|a, b| a.label.cmp(&b.label));
        let all = Workload {
            label: Fixtures::label(&flag_group.name, "all"),
            requests: workloads.iter().flat_map(|w| w.requests.iter().copied()).collect(),
        };
        workloads.push(all);
        // A group with only bandit tests has no flag subjects to time.
        workloads.retain(|w| !w.requests.is_empty());

        for workload in &workloads {
            group.throughput(Throughput::Elements(workload.requests.len() as u64));
            group.bench_with_input(BenchmarkId::new("plain", &workload.label), workload, |b, workload| {
                b.iter(|| {
                    for &(flag, subject, attributes, expected) in &workload.requests {
                        let request = FlagRequest::new(flag, subject, attributes, expected);
                        black_box(config.evaluate(black_box(&request), now));
                    }
                })
            });
            group.bench_with_input(BenchmarkId::new("details", &workload.label), workload, |b, workload| {
                b.iter(|| {
                    for &(flag, subject, attributes, expected) in &workload.requests {
                        let request = FlagRequest::new(flag, subject, attributes, expected);
                        black_box(config.evaluate_details(black_box(&request), now));
                    }
                })
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(2));
    targets = evaluate
}
criterion_main!(benches);
