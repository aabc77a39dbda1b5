//! `bandit`: `Configuration::evaluate_bandit` (and `_details`) over the bandit test
//! subjects: one benchmark per flag (without details), plus `all` with and
//! without details; throughput in evaluations.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ufc_benches::{now, BanditSubject, Fixtures};
use ufc_reference::bandit::{BanditModels, BanditRequest};
use ufc_reference::Configuration;

fn request(subject: &BanditSubject) -> BanditRequest<'_> {
    BanditRequest::new(
        &subject.flag,
        &subject.subject_key,
        &subject.attributes,
        &subject.actions,
        &subject.default_variation,
    )
}

fn bandits(c: &mut Criterion) {
    let fixtures = Fixtures::load();
    let now = now();
    let mut group = c.benchmark_group("bandit");
    for bandit_group in &fixtures.bandit_groups {
        let (Ok(config), Ok(models)) =
            (Configuration::from_json(&bandit_group.config_json), BanditModels::from_json(&bandit_group.models_json))
        else {
            eprintln!("ufc-benches: {}: bandit configuration or models do not load", bandit_group.name);
            continue;
        };
        let mut flags: Vec<&str> = bandit_group.subjects.iter().map(|s| s.flag.as_str()).collect();
        flags.sort_unstable();
        flags.dedup();
        let mut workloads: Vec<(String, Vec<&BanditSubject>, bool)> = flags
            .iter()
            .map(|flag| {
                let subjects = bandit_group.subjects.iter().filter(|s| s.flag == *flag).collect();
                (Fixtures::label(&bandit_group.name, flag), subjects, false)
            })
            .collect();
        let everyone: Vec<&BanditSubject> = bandit_group.subjects.iter().collect();
        if everyone.is_empty() {
            continue;
        }
        workloads.push((Fixtures::label(&bandit_group.name, "all"), everyone.clone(), false));
        workloads.push((Fixtures::label(&bandit_group.name, "all"), everyone, true));

        for (label, subjects, with_details) in &workloads {
            let mode = if *with_details { "details" } else { "plain" };
            group.throughput(Throughput::Elements(subjects.len() as u64));
            group.bench_with_input(BenchmarkId::new(mode, label), subjects, |b, subjects| {
                b.iter(|| {
                    for subject in subjects {
                        let request = request(subject);
                        let outcome = if *with_details {
                            let (outcome, details) =
                                config.evaluate_bandit_details(Some(&models), black_box(&request), now);
                            black_box(details);
                            outcome
                        } else {
                            config.evaluate_bandit(Some(&models), black_box(&request), now)
                        };
                        // The events a logger would receive, as SDK calls build them.
                        black_box((outcome.assignment_event(&request, now), outcome.bandit_event(&request, now)));
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
    targets = bandits
}
criterion_main!(benches);
