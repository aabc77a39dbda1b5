//! The fake adapter's online client: polls the mock CDN over a plain GET,
//! evaluates with the reference, and logs through a recording (or
//! throwing) logger with an optional dedup cache. Each [`Lifecycle`] fault
//! breaks one promise a scenario checks, so `harness/tests/scenario_faults.rs`
//! can show every scenario failing against the fault it is meant to catch.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::Value;
use ufc_harness::cdn::fetch;
use ufc_harness::party::reference::ReferenceParty;
use ufc_harness::party::{ConfigSet, Party, Question};
use ufc_protocol::{CaseInput, CaseResult, InitRequest, LoggerMode, Source, WireCase};

/// Lifecycle faults (`ufc-fake-adapter --help`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Lifecycle {
    /// Fetch the configuration once, never poll again.
    #[arg(long)]
    pub never_repoll: bool,
    /// Keep the first configuration fetched, ignoring every change.
    #[arg(long)]
    pub ignore_updates: bool,
    /// Replace a good configuration with a bad one (invalid JSON, wrong
    /// format): serve defaults afterwards.
    #[arg(long)]
    pub accept_bad_config: bool,
    /// Treat a 304 as "no configuration".
    #[arg(long)]
    pub drop_on_304: bool,
    /// Never send If-None-Match.
    #[arg(long)]
    pub no_etag: bool,
    /// Fetch the bandit models once, never again.
    #[arg(long)]
    pub no_bandit_refetch: bool,
    /// Raise for every case while no configuration has arrived.
    #[arg(long)]
    pub raise_before_init: bool,
    /// Raise for a bandit case when the bandit endpoint served no model.
    #[arg(long)]
    pub raise_without_model: bool,
    /// Let init wait three times its start-up timeout.
    #[arg(long)]
    pub ignore_init_timeout: bool,
    /// Send another SDK key than the one given.
    #[arg(long)]
    pub wrong_sdk_key: bool,
    /// Poll four times per interval.
    #[arg(long)]
    pub poll_fast: bool,
    /// Keep polling after stopClient.
    #[arg(long)]
    pub poll_after_stop: bool,
    /// Hand every event to the logger twice.
    #[arg(long)]
    pub log_twice: bool,
    /// Hand no event to the logger.
    #[arg(long)]
    pub log_nothing: bool,
    /// Let a throwing logger's exception escape: the case raises.
    #[arg(long)]
    pub logger_escapes: bool,
    /// Ignore assignmentCache: log every assignment.
    #[arg(long)]
    pub no_dedup: bool,
    /// Deduplicate even with the cache off.
    #[arg(long)]
    pub dedup_always: bool,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What the poller fetched.
#[derive(Default)]
struct Store {
    party: Option<ReferenceParty>,
    flags: Option<Value>,
    bandits: Option<Value>,
    etag: Option<String>,
    bandits_fetched: bool,
    /// Attempts so far (a failure counts).
    attempts: u64,
}

/// An online client: a poller thread and the logger's state.
pub struct Client {
    store: Arc<Mutex<Store>>,
    stopped: Arc<AtomicBool>,
    poller: Option<std::thread::JoinHandle<()>>,
    request: InitRequest,
    faults: Lifecycle,
    /// (subject, flag) -> (allocation, variation) last logged.
    cache: HashMap<(String, String), (Value, Value)>,
    logger_calls: u64,
}

impl Client {
    /// Starts polling; with `waitForInit`, returns after the first attempt
    /// (or the start-up timeout).
    pub fn start(request: InitRequest, faults: Lifecycle) -> (Client, Option<bool>) {
        let store = Arc::new(Mutex::new(Store::default()));
        let stopped = Arc::new(AtomicBool::new(false));
        let poller = {
            let (store, stopped, request, faults) =
                (Arc::clone(&store), Arc::clone(&stopped), request.clone(), faults.clone());
            std::thread::spawn(move || poll(&store, &stopped, &request, &faults))
        };
        let client = Client {
            store,
            stopped,
            poller: Some(poller),
            request: request.clone(),
            faults,
            cache: HashMap::new(),
            logger_calls: 0,
        };
        if request.wait_for_init {
            let timeout = Duration::from_millis(request.init_timeout_ms.unwrap_or(5000));
            let timeout = if client.faults.ignore_init_timeout { timeout * 3 } else { timeout };
            let deadline = Instant::now() + timeout;
            while lock(&client.store).attempts == 0 && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        let initialized = lock(&client.store).party.is_some();
        (client, Some(initialized))
    }

    /// Answers cases from the configuration in force, logging as told.
    pub fn evaluate(&mut self, cases: &[WireCase<'_>]) -> Vec<CaseResult> {
        let questions: Vec<Question<'_>> =
            cases.iter().map(|c| Question { id: c.case_id.as_ref(), input: c.input.as_ref() }).collect();
        let mut store = lock(&self.store);
        if store.party.is_none() && self.faults.raise_before_init {
            return questions.iter().map(|q| CaseResult::raised(q.id, "no configuration yet")).collect();
        }
        let no_models = store
            .bandits
            .as_ref()
            .and_then(|b| b.get("bandits"))
            .and_then(Value::as_object)
            .is_some_and(|m| m.is_empty());
        if no_models && self.faults.raise_without_model {
            let raised = |q: &Question<'_>| match q.input {
                CaseInput::Bandit(_) => CaseResult::raised(q.id, "no model for this bandit"),
                CaseInput::Flag(_) => CaseResult { case_id: q.id.to_owned(), ..CaseResult::default() },
            };
            if questions.iter().any(|q| matches!(q.input, CaseInput::Bandit(_))) {
                return questions.iter().map(raised).collect();
            }
        }
        let mut empty = ReferenceParty::new(chrono::Utc::now());
        let party: &mut ReferenceParty = store.party.as_mut().unwrap_or(&mut empty);
        let replies = party.evaluate(&questions);
        drop(store);
        replies
            .into_iter()
            .zip(&questions)
            .map(|(reply, question)| match reply {
                Ok(answer) => self.log(answer.to_wire(question.id)),
                Err(lost) => CaseResult::raised(question.id, lost.message),
            })
            .collect()
    }

    /// Applies the dedup cache, the logger and the logging faults.
    fn log(&mut self, mut result: CaseResult) -> CaseResult {
        let dedup = (self.request.assignment_cache && !self.faults.no_dedup) || self.faults.dedup_always;
        if dedup {
            result.assignment_events.retain(|event| {
                let key = (text(event, "subject"), text(event, "featureFlag"));
                let seen = (
                    event.get("allocation").cloned().unwrap_or_default(),
                    event.get("variation").cloned().unwrap_or_default(),
                );
                self.cache.insert(key, seen.clone()) != Some(seen)
            });
        }
        if self.faults.log_nothing {
            result.assignment_events.clear();
            result.bandit_events.clear();
        }
        if self.faults.log_twice {
            result.assignment_events = result.assignment_events.iter().flat_map(|e| [e.clone(), e.clone()]).collect();
        }
        let called = !(result.assignment_events.is_empty() && result.bandit_events.is_empty());
        if self.request.logger == LoggerMode::Throwing && called && self.faults.logger_escapes {
            return CaseResult::raised(&result.case_id, "the logger raised: recording logger told to throw");
        }
        result
    }

    /// Logger calls outside answers (none: every call is reported with its case).
    pub fn drain(&mut self) -> u64 {
        std::mem::take(&mut self.logger_calls)
    }

    /// Stops the poller (unless told to keep polling).
    pub fn stop(&mut self) {
        if self.faults.poll_after_stop {
            return;
        }
        self.stopped.store(true, Ordering::SeqCst);
        if let Some(poller) = self.poller.take() {
            let _ = poller.join();
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.stopped.store(true, Ordering::SeqCst);
    }
}

fn text(event: &Value, field: &str) -> String {
    event.get(field).and_then(Value::as_str).unwrap_or_default().to_owned()
}

fn poll(store: &Mutex<Store>, stopped: &AtomicBool, request: &InitRequest, faults: &Lifecycle) {
    let mut interval = Duration::from_millis(request.poll_interval_ms.max(1));
    if faults.poll_fast {
        interval /= 4;
    }
    loop {
        fetch_once(store, request, faults);
        lock(store).attempts += 1;
        if faults.never_repoll {
            return;
        }
        let next = Instant::now() + interval;
        while Instant::now() < next {
            if stopped.load(Ordering::SeqCst) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

fn fetch_once(store: &Mutex<Store>, request: &InitRequest, faults: &Lifecycle) {
    let key = if faults.wrong_sdk_key { "not-the-key-given" } else { request.sdk_key.as_str() };
    let query = format!("apiKey={key}&sdkName=fake&sdkVersion={}", env!("CARGO_PKG_VERSION"));
    let url = format!("{}/api/flag-config/v1/config?{query}", request.base_url);
    let etag = if faults.no_etag { None } else { lock(store).etag.clone() };
    let headers: Vec<(&str, &str)> = etag.iter().map(|tag| ("If-None-Match", tag.as_str())).collect();
    let Ok(answer) = fetch::get(&url, &headers, Duration::from_secs(10)) else { return };
    let mut guard = lock(store);
    match answer.status {
        304 if faults.drop_on_304 => {
            guard.party = None;
            guard.flags = None;
        }
        200 => {}
        _ => return,
    }
    if answer.status != 200 {
        return;
    }
    let flags =
        serde_json::from_slice::<Value>(&answer.body).ok().filter(|v| v.get("flags").is_some_and(Value::is_object));
    let Some(flags) = flags else {
        if faults.accept_bad_config {
            guard.party = Some(ReferenceParty::new(chrono::Utc::now()));
            guard.flags = None;
        }
        return;
    };
    if faults.ignore_updates && guard.flags.is_some() {
        return;
    }
    guard.etag = answer.header("etag").map(str::to_owned);
    let wants_bandits = flags.get("banditReferences").and_then(Value::as_object).is_some_and(|r| !r.is_empty());
    let refetch = !(faults.no_bandit_refetch && guard.bandits_fetched);
    if wants_bandits && refetch {
        drop(guard);
        let url = format!("{}/api/flag-config/v1/bandits?{query}", request.base_url);
        let models = fetch::get(&url, &[], Duration::from_secs(10))
            .ok()
            .filter(|a| a.status == 200)
            .and_then(|a| serde_json::from_slice::<Value>(&a.body).ok())
            .filter(|v| v.get("bandits").is_some_and(Value::is_object));
        guard = lock(store);
        guard.bandits_fetched = true;
        if models.is_some() {
            guard.bandits = models;
        }
    }
    let mut party = ReferenceParty::new(chrono::Utc::now());
    let config = ConfigSet {
        flags: Source::Inline(flags.clone()),
        bandit_models: guard.bandits.clone().map(Source::Inline),
        precomputed: None,
    };
    if party.configure(&config).is_ok() {
        guard.party = Some(party);
        guard.flags = Some(flags);
    }
}
