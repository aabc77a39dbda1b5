//! `ufc-fake-adapter`: a TEST FIXTURE, not an adapter for any SDK.
//!
//! It speaks the adapter protocol with the reference evaluator behind it, so
//! it answers correctly, and it can be told to misbehave in each of the ways
//! the harness must survive: crash, hang, write garbage or the wrong id,
//! start slowly, leave right after `hello`, flood stderr, answer wrongly,
//! refuse batches, lose or reorder results, hold answers back until more
//! requests arrive, speak another protocol, or
//! answer differently in every process (`--nondeterministic`), answer chosen
//! cases wrongly (`--wrong-for GLOB`) or lack a capability (`--without`).
//! `harness/tests/adapter_faults.rs` and `harness/tests/repeat.rs` drive it.
//!
//! It is also an `online` adapter ([`online`]): `init` polls the mock CDN
//! with a plain GET and answers from the reference; the lifecycle faults
//! (`--never-repoll`, `--log-twice`, ...) break one scenario promise each,
//! for `harness/tests/scenario_faults.rs`.
//!
//! Counters (`--crash-after N` and the like) count `evaluate` requests within
//! one process: the first N are answered, the next one misbehaves. With
//! `--once-only --state FILE`, only the process that creates FILE misbehaves;
//! the processes the harness restarts afterwards behave, which is how the
//! tests see recovery.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

#[path = "fake/online.rs"]
mod online;
use serde_json::{json, Value};
use ufc_harness::party::reference::ReferenceParty;
use ufc_harness::party::{ConfigSet, Party, Question};
use ufc_protocol::{
    Capabilities, Capability, CaseResult, InitOption, OnlineInfo, Request, Response, SdkInfo, Source, PROTOCOL_VERSION,
};

/// A fake adapter for the harness's own tests. Misbehaves on request.
#[derive(Debug, Parser)]
#[command(name = "ufc-fake-adapter", version)]
struct Misbehaviour {
    /// Exit with status 3 instead of answering evaluate request N+1.
    #[arg(long, value_name = "N")]
    crash_after: Option<u64>,
    /// Stop answering (sleep forever) at evaluate request N+1.
    #[arg(long, value_name = "N")]
    hang_after: Option<u64>,
    /// Write a non-JSON line instead of answering evaluate request N+1.
    #[arg(long, value_name = "N")]
    garbage_after: Option<u64>,
    /// Answer evaluate request N+1 with another request's id.
    #[arg(long, value_name = "N")]
    wrong_id_after: Option<u64>,
    /// Answer `ok: false` to evaluate requests after the first N.
    #[arg(long, value_name = "N")]
    refuse_after: Option<u64>,
    /// Exit 0 right after answering hello.
    #[arg(long)]
    exit_early: bool,
    /// Sleep this many milliseconds before answering hello.
    #[arg(long, value_name = "MS")]
    slow_start: Option<u64>,
    /// Write megabytes to stderr, continuously, from a thread.
    #[arg(long)]
    stderr_flood: bool,
    /// Return a wrong value for every case.
    #[arg(long)]
    wrong_answers: bool,
    /// Return a wrong value for the cases whose id matches this glob
    /// (repeatable): a regression planted in chosen cases.
    #[arg(long, value_name = "GLOB")]
    wrong_for: Vec<String>,
    /// Do not declare this capability (repeatable), so that the cases
    /// needing it are skipped.
    #[arg(long, value_name = "CAPABILITY")]
    without: Vec<String>,
    /// Reword every details description, and change nothing else: a
    /// difference of minor severity only.
    #[arg(long)]
    reworded: bool,
    /// Answer the cases whose id has an odd byte sum with a value that
    /// carries this process's id: every process answers them differently
    /// (the other cases stay right).
    #[arg(long)]
    nondeterministic: bool,
    /// Return each batch's results in reverse order.
    #[arg(long)]
    reverse_results: bool,
    /// Leave out the last result of every batch (after any reversal).
    #[arg(long)]
    drop_last_result: bool,
    /// Write no answer to the first N-1 evaluate requests until the N-th has
    /// arrived, then all N in order: a harness that waits for each answer
    /// before it sends the next request never gets one.
    #[arg(long, value_name = "N")]
    hold_answers: Option<u64>,
    /// Answer hello with this protocol version (and `ok: false` unless it is
    /// the harness's own, as a well-behaved adapter of another version would).
    #[arg(long, value_name = "N", default_value_t = PROTOCOL_VERSION)]
    protocol: u32,
    /// Read every precomputed configuration as if it held no flag and no
    /// bandit (as a client that looks entries up under the wrong keys does).
    #[arg(long)]
    precomputed_unread: bool,
    /// Misbehave only in the first process: the one that creates `--state`.
    #[arg(long, requires = "state")]
    once_only: bool,
    /// Marker file for `--once-only`.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// Faults of the online client.
    #[command(flatten)]
    lifecycle: online::Lifecycle,
}

impl Misbehaviour {
    /// The same flags with every misbehaviour off.
    fn none() -> Misbehaviour {
        Misbehaviour::parse_from(["ufc-fake-adapter"])
    }

    /// Whether the `count`-th evaluate request (0-based) trips `after`.
    fn trips(after: Option<u64>, count: u64) -> bool {
        after.is_some_and(|n| count >= n)
    }
}

fn main() {
    let mut told = Misbehaviour::parse();
    if told.once_only {
        if let Some(state) = &told.state {
            if state.exists() {
                told = Misbehaviour::none();
            } else if let Err(err) = std::fs::write(state, b"the first fake adapter process ran\n") {
                eprintln!("fake adapter: cannot write {}: {err}", state.display());
                std::process::exit(2);
            }
        }
    }
    if told.stderr_flood {
        std::thread::spawn(flood_stderr);
    }
    let mut globs = globset::GlobSetBuilder::new();
    for pattern in &told.wrong_for {
        match globset::Glob::new(pattern) {
            Ok(glob) => {
                globs.add(glob);
            }
            Err(err) => {
                eprintln!("fake adapter: --wrong-for {pattern:?} is not a glob: {err}");
                std::process::exit(2);
            }
        }
    }
    let wrong_for = globs.build().unwrap_or_else(|_| globset::GlobSet::empty());
    let mut party = ReferenceParty::new(chrono::Utc::now());
    let mut evaluations = 0u64;
    let mut held: Vec<Response> = Vec::new();
    let mut client: Option<online::Client> = None;
    // Stopped clients told to keep polling must outlive their stop.
    let mut retired: Vec<online::Client> = Vec::new();
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let request = serde_json::from_str::<Value>(&line).and_then(serde_json::from_value::<Request<'static>>);
        let request = match request {
            Ok(request) => request,
            Err(err) => {
                eprintln!("fake adapter: cannot read the request {line:?}: {err}");
                continue;
            }
        };
        match request {
            Request::Hello { id, .. } => {
                if let Some(ms) = told.slow_start {
                    eprintln!("fake adapter: starting slowly ({ms}ms), as told");
                    std::thread::sleep(Duration::from_millis(ms));
                }
                let speaks_ours = told.protocol == PROTOCOL_VERSION;
                answer(&Response {
                    id,
                    ok: speaks_ours,
                    error: (!speaks_ours).then(|| format!("the fake adapter speaks protocol {}", told.protocol)),
                    protocol: Some(told.protocol),
                    sdk: Some(SdkInfo {
                        name: "fake".into(),
                        package: Some("ufc-fake-adapter".into()),
                        version: env!("CARGO_PKG_VERSION").into(),
                    }),
                    // The reference's, but for the CLIENT format and precomputing.
                    capabilities: Some(Capabilities::new(Capability::KNOWN.into_iter().filter(|c| {
                        ![Capability::Obfuscated, Capability::Precompute].contains(c)
                            && !told.without.iter().any(|name| name == c.as_str())
                    }))),
                    online: Some(OnlineInfo {
                        min_poll_interval_ms: Some(50),
                        poll_jitter: Some("none: polls every interval exactly".into()),
                        options: InitOption::KNOWN.to_vec(),
                    }),
                    ..Response::default()
                });
                if told.exit_early {
                    eprintln!("fake adapter: leaving right after hello, as told");
                    std::process::exit(0);
                }
            }
            Request::Precompute { id, .. } => {
                answer(&Response {
                    id,
                    ok: false,
                    error: Some("the fake adapter does not precompute".into()),
                    ..Response::default()
                });
            }
            Request::Configure { id, flags, bandits, precomputed } => {
                let precomputed = match precomputed {
                    Some(source) if told.precomputed_unread => {
                        eprintln!("fake adapter: reading the precomputed configuration as empty, as told");
                        Some(emptied(source))
                    }
                    other => other,
                };
                let outcome = party.configure(&ConfigSet { flags, bandit_models: bandits, precomputed });
                answer(&Response {
                    id,
                    ok: outcome.is_ok(),
                    error: outcome.err().map(|e| e.to_string()),
                    ..Response::default()
                });
            }
            Request::Evaluate { id, cases } if client.is_some() => {
                let results = client.as_mut().map(|c| c.evaluate(&cases)).unwrap_or_default();
                answer(&Response { id, ok: true, results: Some(results), ..Response::default() });
            }
            Request::Evaluate { id, cases } => {
                let count = evaluations;
                evaluations += 1;
                eprintln!("fake adapter: evaluate #{count}: {} cases", cases.len());
                if Misbehaviour::trips(told.crash_after, count) {
                    eprintln!("fake adapter: crashing at evaluate #{count}, as told");
                    std::process::exit(3);
                }
                if Misbehaviour::trips(told.hang_after, count) {
                    eprintln!("fake adapter: hanging at evaluate #{count}, as told");
                    loop {
                        std::thread::sleep(Duration::from_secs(3600));
                    }
                }
                if Misbehaviour::trips(told.garbage_after, count) {
                    write_line("this is not JSON: the fake adapter was told to write garbage");
                    continue;
                }
                if Misbehaviour::trips(told.refuse_after, count) {
                    answer(&Response {
                        id,
                        ok: false,
                        error: Some("the fake adapter refuses this batch".into()),
                        ..Response::default()
                    });
                    continue;
                }
                let questions: Vec<Question<'_>> =
                    cases.iter().map(|c| Question { id: c.case_id.as_ref(), input: c.input.as_ref() }).collect();
                let mut results: Vec<CaseResult> = party
                    .evaluate(&questions)
                    .into_iter()
                    .zip(&questions)
                    .map(|(reply, question)| match reply {
                        Ok(answer) => answer.to_wire(question.id),
                        Err(lost) => CaseResult::raised(question.id, lost.message),
                    })
                    .collect();
                if told.wrong_answers {
                    results.iter_mut().for_each(spoil);
                }
                results.iter_mut().filter(|r| wrong_for.is_match(&r.case_id)).for_each(spoil);
                if told.reworded {
                    results.iter_mut().for_each(reword);
                }
                if told.nondeterministic {
                    let pid = std::process::id();
                    results.iter_mut().filter(|r| odd_byte_sum(&r.case_id)).for_each(|r| mark_process(r, pid));
                }
                if told.reverse_results {
                    results.reverse();
                }
                if told.drop_last_result {
                    results.pop();
                }
                let id = if Misbehaviour::trips(told.wrong_id_after, count) { id + 1000 } else { id };
                held.push(Response { id, ok: true, results: Some(results), ..Response::default() });
                if told.hold_answers.is_some_and(|n| count + 1 < n) {
                    eprintln!("fake adapter: holding the answer to evaluate #{count}, as told");
                    continue;
                }
                held.drain(..).for_each(|response| answer(&response));
            }
            Request::Bench { id, bench } => {
                let outcome = party.bench(&bench);
                answer(&Response {
                    id,
                    ok: outcome.is_ok(),
                    iterations: outcome.is_ok().then_some(bench.iterations),
                    elapsed_ns: outcome.as_ref().ok().map(|elapsed| elapsed.as_nanos() as u64),
                    error: outcome.err().map(|e| e.to_string()),
                    ..Response::default()
                });
            }
            Request::Init { id, init } => {
                if let Some(mut old) = client.take() {
                    old.stop();
                    retired.push(old);
                }
                let started = std::time::Instant::now();
                let (new, initialized) = online::Client::start(init, told.lifecycle.clone());
                client = Some(new);
                let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
                answer(&Response { id, ok: true, initialized, elapsed_ms: Some(elapsed_ms), ..Response::default() });
            }
            Request::DrainEvents { id } => {
                let calls = client.as_mut().map_or(0, online::Client::drain);
                answer(&Response {
                    id,
                    ok: true,
                    assignment_events: Some(Vec::new()),
                    bandit_events: Some(Vec::new()),
                    logger_calls: Some(calls),
                    ..Response::default()
                });
            }
            Request::StopClient { id } => {
                if let Some(mut stopped) = client.take() {
                    stopped.stop();
                    retired.push(stopped);
                }
                answer(&Response { id, ok: true, ..Response::default() });
            }
            Request::Shutdown { id } => {
                answer(&Response { id, ok: true, ..Response::default() });
                std::process::exit(0);
            }
        }
    }
}

/// A value the test files never expect: strings and numbers changed,
/// booleans flipped, anything else wrapped.
fn spoil(result: &mut CaseResult) {
    let spoiled = match result.value.take() {
        Some(Value::String(s)) => json!(format!("{s}-spoiled")),
        Some(Value::Number(n)) if n.is_i64() => json!(n.as_i64().unwrap_or_default().wrapping_add(1)),
        Some(Value::Number(n)) => json!(n.as_f64().unwrap_or_default() + 1.5),
        Some(Value::Bool(b)) => json!(!b),
        other => json!({ "spoiled": other }),
    };
    result.value = Some(spoiled);
}

/// Rewrites the details' description (`--reworded`).
fn reword(result: &mut CaseResult) {
    if let Some(Value::Object(details)) = &mut result.details {
        if let Some(Value::String(description)) = details.get("flagEvaluationDescription") {
            let reworded = format!("In other words: {description}");
            details.insert("flagEvaluationDescription".into(), Value::from(reworded));
        }
    }
}

/// Whether `--nondeterministic` touches the case: the same cases in every
/// process, and about half of any suite.
fn odd_byte_sum(case_id: &str) -> bool {
    case_id.bytes().map(u64::from).sum::<u64>() % 2 == 1
}

/// Mixes the process id into the value: a string carries it, anything
/// else is wrapped with it (adding it to a number could vanish in rounding).
fn mark_process(result: &mut CaseResult, pid: u32) {
    if let Some(error) = &mut result.error {
        // A raised error is the answer: it carries the process id instead.
        error.push_str(&format!(" (process {pid})"));
        return;
    }
    let marked = match result.value.take() {
        Some(Value::String(s)) => json!(format!("{s}-process-{pid}")),
        other => json!({ "process": pid, "value": other }),
    };
    result.value = Some(marked);
}

fn answer(response: &Response) {
    match serde_json::to_string(response) {
        Ok(line) => write_line(&line),
        Err(err) => eprintln!("fake adapter: cannot encode the answer: {err}"),
    }
}

fn write_line(line: &str) {
    let mut stdout = std::io::stdout().lock();
    if writeln!(stdout, "{line}").and_then(|()| stdout.flush()).is_err() {
        // The harness has gone; nothing left to answer.
        std::process::exit(0);
    }
}

/// Writes about a kilobyte per line to stderr until the process ends. Each
/// line takes the stderr lock on its own, so the main thread's own logging
/// interleaves: if the harness stopped draining stderr, that logging would
/// block and the fake would stop answering.
fn flood_stderr() {
    let padding = "x".repeat(1000);
    for n in 0u64.. {
        if writeln!(std::io::stderr(), "fake adapter: flood line {n} {padding}").is_err() {
            return;
        }
    }
}

/// An inline precomputed envelope with its response's flags and bandits
/// removed; a path is left as it is (the harness sends envelopes inline).
fn emptied(source: Source) -> Source {
    let Source::Inline(mut envelope) = source else { return source };
    let response = envelope.pointer("/precomputed/response").and_then(Value::as_str).map(str::to_owned);
    if let Some(mut response) = response.and_then(|text| serde_json::from_str::<Value>(&text).ok()) {
        response["flags"] = json!({});
        response["bandits"] = json!({});
        envelope["precomputed"]["response"] = Value::String(response.to_string());
    }
    Source::Inline(envelope)
}
