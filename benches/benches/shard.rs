//! `shard`: `Sharder::shard` against a bare `Md5::digest` of the same bytes
//! (`salt + "-" + key`, concatenated before timing so the baseline does
//! nothing but hash), over the fixtures' real salts and subject keys and
//! over UUID-shaped keys; `Sharder::shard_many` over 1M keys.
//!
//! `shard_bulk`: `Sharder::shard_many` over 10M distinct `String` keys,
//! prepared before timing (the "10M keys in under 2 s on two cores").

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput};
use md5::{Digest, Md5};
use ufc_benches::{shard_salts, uuid_keys, Fixtures};
use ufc_reference::shard::Sharder;

/// The same (salt, key) pairs, as a sharder and key and as the bytes a bare
/// MD5 hashes.
struct Inputs {
    name: &'static str,
    sharders: Vec<Sharder>,
    pairs: Vec<(usize, String)>,
    concatenated: Vec<Vec<u8>>,
}

impl Inputs {
    fn new(name: &'static str, salts: &[(String, u32)], keys: &[String]) -> Inputs {
        let sharders = salts.iter().map(|(salt, total)| Sharder::new(salt, *total)).collect();
        let mut pairs = Vec::new();
        let mut concatenated = Vec::new();
        for key in keys {
            for (index, (salt, _)) in salts.iter().enumerate() {
                pairs.push((index, key.clone()));
                concatenated.push(format!("{salt}-{key}").into_bytes());
            }
        }
        Inputs { name, sharders, pairs, concatenated }
    }
}

fn shard(c: &mut Criterion) {
    let fixtures = Fixtures::load();
    let salts: Vec<(String, u32)> = fixtures.flag_groups.iter().flat_map(|g| shard_salts(&g.config_json)).collect();
    let mut fixture_keys: Vec<String> = fixtures
        .flag_groups
        .iter()
        .flat_map(|g| &g.flags)
        .flat_map(|f| f.subjects.iter().map(|(key, _)| key.clone()))
        .collect();
    fixture_keys.sort();
    fixture_keys.dedup();
    let inputs = [
        // Real salts × real subject keys: mostly one MD5 block.
        Inputs::new("fixture", &salts, &fixture_keys),
        // Real salts × UUID keys: salt + "-" + 36 bytes, one or two blocks.
        Inputs::new("uuid", &salts, &uuid_keys(1000)),
    ];

    let mut group = c.benchmark_group("shard");
    for input in &inputs {
        group.throughput(Throughput::Elements(input.pairs.len() as u64));
        group.bench_with_input(BenchmarkId::new("md5_digest", input.name), input, |b, input| {
            b.iter(|| {
                for bytes in &input.concatenated {
                    let digest = Md5::digest(bytes);
                    black_box(u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]));
                }
            })
        });
        group.bench_with_input(BenchmarkId::new("sharder", input.name), input, |b, input| {
            b.iter(|| {
                for (index, key) in &input.pairs {
                    black_box(input.sharders[*index].shard(key));
                }
            })
        });
    }

    let keys = uuid_keys(1_000_000);
    let sharder = Sharder::new(salts.first().map_or("salt", |(s, _)| s.as_str()), 10_000);
    group.throughput(Throughput::Elements(keys.len() as u64));
    group.sample_size(20);
    group.bench_function(BenchmarkId::new("shard_many", "1M"), |b| b.iter(|| black_box(sharder.shard_many(&keys))));
    group.finish();
}

fn shard_bulk(c: &mut Criterion) {
    const KEYS: usize = 10_000_000;
    let keys = uuid_keys(KEYS);
    let mut group = c.benchmark_group("shard_bulk");
    group.throughput(Throughput::Elements(KEYS as u64));
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    // Two real salts from the shared data: with a 36-byte key the first
    // fits MD5's one-block limit (55 bytes), the second needs two blocks.
    for (label, salt) in
        [("10M/one-block", "traffic-json-flag"), ("10M/two-blocks", "traffic-new-user-onboarding-experiment")]
    {
        let sharder = Sharder::new(salt, 10_000);
        group
            .bench_function(BenchmarkId::new("shard_many", label), |b| b.iter(|| black_box(sharder.shard_many(&keys))));
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = shard, shard_bulk
}
criterion_main!(benches);
