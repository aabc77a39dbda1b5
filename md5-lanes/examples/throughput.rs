//! One thread: the scalar `md-5` crate against every backend this CPU
//! runs, on the same keys behind one salt, in alternating rounds.
//!
//! `cargo run --release -p md5-lanes --example throughput [KEYS] [ROUNDS]`
//!
//! Hashing alone: each key's whole message (`salt-subject-<i>`) is laid out
//! before timing, so `md-5` does nothing but hash, and the lanes hash the
//! same keys behind a [`Prefix`] of the salt. Each contender's time is the
//! median over the rounds of the time this thread spent on a CPU (Linux's
//! `/proc/thread-self/schedstat`, so that other work on a busy machine
//! counts less), and wall-clock time where that file is missing.

use std::hint::black_box;
use std::time::Instant;

use md5::{Digest, Md5};
use md5_lanes::{Backend, Prefix};

const SALT: &str = "traffic-json-flag";

/// Nanoseconds this thread has run on a CPU, if the kernel says.
fn on_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Seconds `work` took: on a CPU when known, else wall-clock.
fn time(work: impl FnOnce()) -> f64 {
    let (cpu, wall) = (on_cpu_ns(), Instant::now());
    work();
    match (cpu, on_cpu_ns()) {
        (Some(before), Some(after)) => (after - before) as f64 / 1e9,
        _ => wall.elapsed().as_secs_f64(),
    }
}

fn median(mut seconds: Vec<f64>) -> f64 {
    seconds.sort_by(f64::total_cmp);
    seconds[seconds.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let count: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(10_000_000);
    let rounds: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(5).max(1);
    let keys: Vec<String> = (0..count).map(|i| format!("subject-{i}")).collect();
    let messages: Vec<Vec<u8>> = keys.iter().map(|key| format!("{SALT}-{key}").into_bytes()).collect();
    let prefix = Prefix::new(format!("{SALT}-").as_bytes());
    let backends = Backend::available();

    let mut scalar = Vec::new();
    let mut lanes = vec![Vec::new(); backends.len()];
    let mut out = vec![0u32; count];
    for _ in 0..rounds {
        scalar.push(time(|| {
            let mut sum = 0u32;
            for message in &messages {
                let digest = Md5::digest(message);
                sum = sum.wrapping_add(u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]));
            }
            black_box(sum);
        }));
        for (backend, times) in backends.iter().zip(&mut lanes) {
            times.push(time(|| prefix.first_words(*backend, &keys[..], &mut out)));
            black_box(&out);
        }
    }
    let scalar = median(scalar);
    println!("{count} keys, one thread, salt {SALT:?}, median of {rounds} rounds");
    println!("{:<22} {:>8.3} s  {:>7.1} M/s  1.00x", "md-5 (scalar)", scalar, count as f64 / scalar / 1e6);
    for (backend, times) in backends.iter().zip(lanes) {
        let seconds = median(times);
        println!(
            "{:<22} {:>8.3} s  {:>7.1} M/s  {:.2}x",
            format!("lanes {backend} ({})", backend.lanes()),
            seconds,
            count as f64 / seconds / 1e6,
            scalar / seconds
        );
    }
}
