//! `md5_lanes`: the multi-lane MD5 of `md5-lanes` against the scalar paths,
//! in one run.
//!
//! * `hash/*`: hashing alone, one thread, 1M keys `subject-<i>` behind the
//!   salt `traffic-json-flag`: `md5_digest` is the `md-5` crate over each
//!   whole message (`salt-key`, laid out before timing); `lanes/<backend>`
//!   is `Prefix::first_words` in each backend this CPU runs.
//! * `shard_formatted/*`: 10M subjects of one salt sharded on every core,
//!   formatting the keys included (`subject-<i>`, a chunk of 4,096 at a
//!   time into a `KeyBuffer`, as `ufc-harness distribution` does):
//!   `scalar` shards each key with `Sharder::shard`, `lanes` the chunk with
//!   `Sharder::shard_keys_into`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput};
use md5::{Digest, Md5};
use md5_lanes::{Backend, KeyBuffer, Prefix};
use rayon::prelude::*;
use ufc_reference::shard::Sharder;

const SALT: &str = "traffic-json-flag";
const CHUNK: usize = 4096;

fn subject_keys(first: usize, end: usize, keys: &mut KeyBuffer) {
    keys.clear();
    let mut digits = itoa::Buffer::new();
    for i in first..end {
        keys.push_with(|text| {
            text.push_str("subject-");
            text.push_str(digits.format(i));
        });
    }
}

/// Shards `subject-0` … `subject-<n-1>` on every core; returns a checksum.
fn shard_formatted(sharder: &Sharder, n: usize, lanes: bool) -> u64 {
    (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map_init(
            || (KeyBuffer::new(), vec![0u32; CHUNK]),
            |(keys, shards), chunk| {
                let first = chunk * CHUNK;
                subject_keys(first, n.min(first + CHUNK), keys);
                if lanes {
                    sharder.shard_keys_into(keys, shards);
                } else {
                    for (index, shard) in shards.iter_mut().enumerate().take(keys.len()) {
                        *shard = sharder.shard(keys.get(index).unwrap_or_default());
                    }
                }
                shards[..keys.len()].iter().map(|&s| u64::from(s)).sum::<u64>()
            },
        )
        .sum()
}

fn hash(c: &mut Criterion) {
    const KEYS: usize = 1_000_000;
    let keys: Vec<String> = (0..KEYS).map(|i| format!("subject-{i}")).collect();
    let messages: Vec<Vec<u8>> = keys.iter().map(|key| format!("{SALT}-{key}").into_bytes()).collect();
    let prefix = Prefix::new(format!("{SALT}-").as_bytes());
    let mut group = c.benchmark_group("md5_lanes/hash");
    group.throughput(Throughput::Elements(KEYS as u64));
    group.sample_size(20);
    group.bench_function("md5_digest", |b| {
        b.iter(|| {
            for message in &messages {
                let digest = Md5::digest(message);
                black_box(u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]));
            }
        })
    });
    let mut out = vec![0u32; KEYS];
    for backend in Backend::available() {
        group.bench_function(BenchmarkId::new("lanes", backend.name()), |b| {
            b.iter(|| {
                prefix.first_words(backend, &keys[..], &mut out);
                black_box(&out);
            })
        });
    }
    group.finish();
}

fn sharding(c: &mut Criterion) {
    const SUBJECTS: usize = 10_000_000;
    let sharder = Sharder::new(SALT, 10_000);
    assert_eq!(shard_formatted(&sharder, 100_000, true), shard_formatted(&sharder, 100_000, false));
    let mut group = c.benchmark_group("md5_lanes/shard_formatted");
    group.throughput(Throughput::Elements(SUBJECTS as u64));
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    for (name, lanes) in [("scalar", false), ("lanes", true)] {
        group.bench_function(BenchmarkId::new(name, "10M"), |b| {
            b.iter(|| black_box(shard_formatted(&sharder, SUBJECTS, lanes)))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = hash, sharding
}
criterion_main!(benches);
