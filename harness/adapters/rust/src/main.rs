//! UFC harness adapter for the Rust SDK (crate `eppo`), protocol v1
//! (docs/protocol.md): one JSON request per line on stdin, one JSON response
//! per line on stdout, diagnostics on stderr.
//!
//! Offline loading: `eppo::Client` 5.2.1 only loads configuration through its
//! poller, which fetches over HTTP, and keeps its configuration store private.
//! So the adapter serves the flag and bandit files itself on a loopback port
//! (127.0.0.1, nothing else) and points the client's `base_url` there: the SDK
//! then parses them with its own fetch code. Nothing leaves the machine.
//!
//! The crate has no bandit API (bandits live only in its core), so the
//! adapter offers no bandit capability.
//!
//! Any published `eppo` from 3.0 builds (install.sh DEST VERSION): the
//! cfgs `build.rs` derives from Cargo.lock bridge the API differences, and
//! a version whose core cannot precompute does not declare `precompute`.
//!
//! Messages are the `ufc-protocol` crate's types: each line is read as a
//! [`Request`] and answered with a [`Response`]. The online ops (capability
//! `online`) are in the `online` module.

mod answer;
mod online;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use std::borrow::Borrow;

use eppo::{
    AssignmentEvent, Attributes, Client, ClientConfig, EvaluationDetails, EvaluationResultWithDetails, PollerThread,
};
#[cfg(eppo_str)]
use eppo_core::Str;
use serde::Serialize;
use serde_json::{Map, Value};
use ufc_protocol::{
    BenchMode, BenchRequest, Capabilities, Capability, CaseInput, CaseResult, FlagCase, Request, Response, SdkInfo,
    Source, VariationType, WireCase, PROTOCOL_VERSION,
};

/// The ops of protocol v1: a request naming another is an unknown op, one
/// naming these that does not parse is malformed.
const OPS: [&str; 9] =
    ["hello", "configure", "evaluate", "bench", "precompute", "init", "drainEvents", "stopClient", "shutdown"];
/// Served when the harness gives no bandit file: no models, not a failed fetch.
const NO_BANDITS: &[u8] = br#"{"bandits":{},"updatedAt":"1970-01-01T00:00:00Z"}"#;
#[cfg(eppo_wait_timeout)]
const LOAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

type Result<T> = std::result::Result<T, String>;

/// Most of a batch's time is spent building and dropping small JSON values
/// (the SDK's details and events, then the answer): mimalloc serves those
/// allocations in about half the time the system allocator takes.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `eppo` 3.x takes subject keys as `&str`: a `String` derefs to it, so the
/// calls below read the same for every version.
#[cfg(not(eppo_str))]
type Str = String;

/// Keeps the events the SDK logs: while `on` (a case is evaluated) for that
/// case, at any other time in `pending` for `drainEvents`; `muted` (bench
/// loops) drops them. The SDK has no assignment cache, so every
/// evaluation's event arrives here. `throwing`: each call is kept, then
/// the logger panics, the only way a Rust logger can fail.
#[derive(Default)]
struct Recorder {
    on: AtomicBool,
    muted: AtomicBool,
    throwing: bool,
    events: Mutex<Vec<AssignmentEvent>>,
    pending: Mutex<(Vec<AssignmentEvent>, u64)>,
}

impl Recorder {
    fn new(throwing: bool) -> Recorder {
        Recorder { throwing, ..Recorder::default() }
    }
    fn start(&self) {
        self.events.lock().unwrap_or_else(|e| e.into_inner()).clear();
        self.muted.store(false, Ordering::SeqCst);
        self.on.store(true, Ordering::SeqCst);
    }
    fn stop(&self) -> Vec<AssignmentEvent> {
        self.on.store(false, Ordering::SeqCst);
        std::mem::take(&mut *self.events.lock().unwrap_or_else(|e| e.into_inner()))
    }
    /// The logger: what the SDK hands it.
    fn record(&self, event: AssignmentEvent) {
        if self.muted.load(Ordering::SeqCst) {
            return;
        }
        if self.on.load(Ordering::SeqCst) {
            self.events.lock().unwrap_or_else(|e| e.into_inner()).push(event);
        } else {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            pending.0.push(event);
            pending.1 += 1;
        }
        if self.throwing {
            // Deliberate: the `throwing` logger of the online ops.
            std::panic::panic_any("harness: throwing logger");
        }
    }
    /// The case failed (a panicking logger, say): what it logged goes to
    /// `pending`, as no result reports it.
    fn abandon(&self) {
        let events = self.stop();
        self.keep_pending(events);
    }
    /// Events no result will report, kept for `drainEvents`.
    fn keep_pending(&self, events: Vec<AssignmentEvent>) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        pending.1 += events.len() as u64;
        pending.0.extend(events);
    }
    /// What arrived outside any case since the last drain, as `drainEvents` answers it.
    fn drain(&self) -> Result<Response> {
        let (events, calls) = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()));
        let events = events.iter().map(serde_json::to_value).collect::<std::result::Result<_, _>>();
        Ok(Response {
            assignment_events: Some(events.map_err(|e| format!("serializing an event: {e}"))?),
            bandit_events: Some(Vec::new()),
            logger_calls: Some(calls),
            ..Response::default()
        })
    }
}

/// The files the loopback server hands to the SDK.
#[derive(Default)]
struct Served {
    flags: Vec<u8>,
    bandits: Option<Vec<u8>>,
}

fn serve(served: Arc<Mutex<Served>>) -> Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("loopback server: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            if let Err(e) = answer(stream, &served) {
                eprintln!("adapter: loopback server: {e}");
            }
        }
    });
    Ok(format!("http://{addr}/api"))
}

fn answer(mut stream: TcpStream, served: &Mutex<Served>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    loop {
        // Skip the headers, up to the blank line.
        let mut header = String::new();
        if reader.read_line(&mut header)? <= 2 {
            break;
        }
    }
    let target = request_line.split_whitespace().nth(1).unwrap_or("");
    let path = target.split('?').next().unwrap_or("");
    let body = {
        let s = served.lock().unwrap_or_else(|e| e.into_inner());
        if path.ends_with("/flag-config/v1/config") {
            Some(s.flags.clone())
        } else if path.ends_with("/flag-config/v1/bandits") {
            Some(s.bandits.clone().unwrap_or_else(|| NO_BANDITS.to_vec()))
        } else {
            None
        }
    };
    let (status, body) = match body {
        Some(body) => ("200 OK", body),
        None => ("404 Not Found", b"not found".to_vec()),
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(&body)
}

struct Adapter {
    recorder: Arc<Recorder>,
    served: Arc<Mutex<Served>>,
    base_url: Option<String>,
    /// The client and its poller (none once `stopClient` stopped it).
    client: Option<(Client<'static>, Option<PollerThread>)>,
}

/// `{"path": FILE}` or `{"inline": OBJECT}` -> the bytes the SDK parses.
fn source(spec: &Source, what: &str) -> Result<Vec<u8>> {
    let bytes = match spec {
        Source::Path(path) => {
            std::fs::read(path).map_err(|e| format!("{what}: cannot read {}: {e}", path.display()))?
        }
        Source::Inline(inline) => serde_json::to_vec(inline).map_err(|e| e.to_string())?,
    };
    // A clear error now beats the poller retrying the bad file until the timeout.
    serde_json::from_slice::<Value>(&bytes).map_err(|e| format!("{what} is not JSON: {e}"))?;
    Ok(bytes)
}

fn attributes(v: Value) -> Result<Arc<Attributes>> {
    serde_json::from_value(v).map(Arc::new).map_err(|e| format!("subjectAttributes: {e}"))
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    let msg =
        payload.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| payload.downcast_ref::<String>().cloned());
    format!("the SDK panicked: {}", msg.unwrap_or_else(|| "(no message)".into()))
}

/// A line that is not a request: the error, the op it names (none when the
/// line is not a JSON object) and its id when that is an integer.
struct Unreadable {
    id: Option<u64>,
    op: Option<String>,
    error: String,
}

/// The error response to a line whose id could not be read: `id` is null,
/// which [`Response`] (an answer to a request) cannot say.
#[derive(Serialize)]
struct Refusal<'a> {
    id: Option<u64>,
    ok: bool,
    error: &'a str,
}

impl Refusal<'_> {
    fn line(id: Option<u64>, error: &str) -> String {
        serde_json::to_string(&Refusal { id, ok: false, error }).unwrap_or_default()
    }
}

/// What a request is answered with: a response, or the results of an
/// `evaluate` written as JSON text (see the `answer` module).
enum Reply {
    Response(Box<Response>),
    Results(String),
}

/// Read one line as a request. One that does not parse is explained the way
/// the protocol's error response documents: not JSON, not a JSON object, an
/// unknown op, or a known op with malformed fields.
fn parse(line: &str) -> std::result::Result<Request<'static>, Unreadable> {
    let malformed = match Request::from_line(line) {
        Ok(request) => return Ok(request),
        Err(e) => e,
    };
    let fields = match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(fields)) => fields,
        Ok(_) => return Err(Unreadable { id: None, op: None, error: "request is not a JSON object".into() }),
        Err(e) => return Err(Unreadable { id: None, op: None, error: format!("request is not JSON: {e}") }),
    };
    let id = fields.get("id").and_then(Value::as_u64);
    let op = fields.get("op").and_then(Value::as_str).unwrap_or("").to_owned();
    let error = if OPS.contains(&op.as_str()) { malformed.to_string() } else { format!("unknown op {op:?}") };
    Err(Unreadable { id, op: Some(op), error })
}

/// The id and op name of a request.
fn id_and_op(request: &Request) -> (u64, &'static str) {
    match request {
        Request::Hello { id, .. } => (*id, "hello"),
        Request::Configure { id, .. } => (*id, "configure"),
        Request::Evaluate { id, .. } => (*id, "evaluate"),
        Request::Bench { id, .. } => (*id, "bench"),
        Request::Precompute { id, .. } => (*id, "precompute"),
        Request::Shutdown { id } => (*id, "shutdown"),
        Request::Init { id, .. } => (*id, "init"),
        Request::DrainEvents { id } => (*id, "drainEvents"),
        Request::StopClient { id } => (*id, "stopClient"),
    }
}

/// Where one case's result goes: the SDK's answer, with the case's events,
/// written to `out`.
struct Answer<'a> {
    adapter: &'a Adapter,
    out: &'a mut Vec<u8>,
    case_id: &'a str,
    default: &'a Value,
}

impl Answer<'_> {
    fn write<T: Serialize>(self, r: EvaluationResultWithDetails<T>) -> Result<()> {
        // On an error before the events are taken, they stay for `abandon`.
        let value = match r.variation {
            Some(v) => serde_json::to_value(v).map_err(|e| e.to_string())?,
            None => self.default.clone(),
        };
        let events = self.adapter.recorder.stop();
        // An `Arc<EvaluationDetails>` from 4.0 on, the bare struct before.
        let details: &EvaluationDetails = r.evaluation_details.borrow();
        let answer = answer::CaseAnswer { case_id: self.case_id, value: &value, details, assignment_events: &events };
        serde_json::to_writer(&mut *self.out, &answer).map_err(|e| {
            self.adapter.recorder.keep_pending(events);
            format!("serializing the answer: {e}")
        })
    }
}

impl Adapter {
    fn client(&self) -> Result<&Client<'static>> {
        self.client.as_ref().map(|(c, _)| c).ok_or_else(|| "no configuration yet: send configure first".into())
    }

    fn hello(&self, protocol: u32) -> Result<Response> {
        if protocol != PROTOCOL_VERSION {
            return Err(format!("this adapter speaks protocol {PROTOCOL_VERSION}, not {protocol}"));
        }
        let sdk =
            SdkInfo { name: "rust".into(), package: Some("eppo".into()), version: env!("EPPO_SDK_VERSION").into() };
        let mut capabilities = vec![Capability::Assign, Capability::Details, Capability::Events, Capability::Bench];
        if cfg!(eppo_precompute) {
            capabilities.push(Capability::Precompute);
        }
        if online::OFFERED {
            capabilities.push(Capability::Online);
        }
        let capabilities = Capabilities::new(capabilities);
        Ok(Response {
            protocol: Some(PROTOCOL_VERSION),
            sdk: Some(sdk),
            capabilities: Some(capabilities),
            online: online::describe(),
            ..Response::default()
        })
    }

    fn configure(&mut self, flags: &Source, bandits: Option<&Source>) -> Result<Response> {
        let flags = source(flags, "flags")?;
        let bandits = bandits.map(|spec| source(spec, "bandits")).transpose()?;
        // The previous poller (an online one too) stops now, without waiting for its thread.
        if let Some(old) = self.client.as_mut().and_then(|(_, poller)| poller.take()) {
            old.stop();
        }
        *self.served.lock().unwrap_or_else(|e| e.into_inner()) = Served { flags, bandits };
        let base_url = match &self.base_url {
            Some(url) => url.clone(),
            None => self.base_url.insert(serve(self.served.clone())?).clone(),
        };
        let recorder = Arc::new(Recorder::default());
        let logger = recorder.clone();
        let mut client = ClientConfig::from_api_key("offline-harness")
            .base_url(base_url)
            .assignment_logger(move |event: AssignmentEvent| logger.record(event))
            .to_client();
        let poller = client.start_poller_thread().map_err(|e| format!("starting the SDK poller: {e}"))?;
        #[cfg(eppo_wait_timeout)]
        let loaded = poller.wait_for_configuration_timeout(LOAD_TIMEOUT);
        // Before 5.2 the wait has no timeout; the harness's request timeout
        // bounds it instead.
        #[cfg(not(eppo_wait_timeout))]
        let loaded = poller.wait_for_configuration();
        loaded.map_err(|e| format!("the SDK did not load the configuration ({e}); is it a valid UFC file?"))?;
        self.client = Some((client, Some(poller)));
        self.recorder = recorder;
        Ok(Response::default())
    }

    /// Evaluates one case and writes its result to `out`.
    fn evaluate_case(&self, out: &mut Vec<u8>, case_id: &str, input: &CaseInput) -> Result<()> {
        let client = self.client()?;
        let case: &FlagCase = match input {
            CaseInput::Flag(case) => case,
            CaseInput::Bandit(_) => return Err("the eppo crate has no bandit API".into()),
        };
        let (flag, default) = (case.flag.as_str(), &case.default_value);
        let subject: Str = case.subject_key.as_str().into();
        let attrs = attributes(Value::Object(case.subject_attributes.clone()))?;
        self.recorder.start();
        let answer = Answer { adapter: self, out, case_id, default };
        match case.variation_type {
            VariationType::String => answer.write(client.get_string_assignment_details(flag, &subject, &attrs)),
            VariationType::Integer => answer.write(client.get_integer_assignment_details(flag, &subject, &attrs)),
            VariationType::Numeric => answer.write(client.get_numeric_assignment_details(flag, &subject, &attrs)),
            VariationType::Boolean => answer.write(client.get_boolean_assignment_details(flag, &subject, &attrs)),
            VariationType::Json => answer.write(client.get_json_assignment_details(flag, &subject, &attrs)),
        }
    }

    /// The `results` of an `evaluate` answer, as JSON text: one result per
    /// case, a case that failed or panicked answered as the SDK's error.
    fn evaluate(&self, cases: &[WireCase]) -> Result<String> {
        self.client()?;
        let mut out = Vec::with_capacity(cases.len() * 1024);
        out.push(b'[');
        for (i, case) in cases.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let start = out.len();
            let result = catch_unwind(AssertUnwindSafe(|| self.evaluate_case(&mut out, &case.case_id, &case.input)))
                .unwrap_or_else(|p| Err(panic_message(p)));
            if let Err(error) = result {
                out.truncate(start);
                self.recorder.abandon();
                serde_json::to_writer(&mut out, &CaseResult::raised(&case.case_id, error))
                    .map_err(|e| e.to_string())?;
            }
        }
        out.push(b']');
        String::from_utf8(out).map_err(|e| format!("internal: the results are not UTF-8: {e}"))
    }

    /// `eppo` 5.2.1 has no precompute call; its pinned core does. The core
    /// is given the same flags file the SDK loaded.
    #[cfg(eppo_precompute)]
    fn precompute(
        &self,
        subject_key: &str,
        subject_attributes: &Value,
        bandit_actions: &Map<String, Value>,
    ) -> Result<Response> {
        self.client()?;
        let flags = self.served.lock().unwrap_or_else(|e| e.into_inner()).flags.clone();
        let metadata = eppo_core::SdkMetadata { name: "rust", version: env!("EPPO_SDK_VERSION") };
        let ufc = eppo_core::ufc::UniversalFlagConfig::from_json(metadata, flags)
            .map_err(|e| format!("the core cannot read the flags: {e}"))?;
        let bandits = match &self.served.lock().unwrap_or_else(|e| e.into_inner()).bandits {
            Some(bytes) => Some(
                serde_json::from_slice(bytes).map_err(|e| format!("the core cannot read the bandit models: {e}"))?,
            ),
            None => None,
        };
        let configuration = eppo_core::Configuration::from_server_response(ufc, bandits);
        let subject = Str::from(subject_key);
        let given = subject_attributes.clone();
        let contextual = given.get("numericAttributes").is_some() || given.get("categoricalAttributes").is_some();
        let context = if contextual {
            serde_json::from_value::<eppo_core::ContextAttributes>(given)
                .map_err(|e| format!("subjectAttributes: {e}"))?
        } else {
            eppo_core::ContextAttributes::from((*attributes(given)?).clone())
        };
        let actions: std::collections::HashMap<
            String,
            std::collections::HashMap<String, eppo_core::ContextAttributes>,
        > = serde_json::from_value(Value::Object(bandit_actions.clone())).map_err(|e| format!("banditActions: {e}"))?;
        let actions = actions
            .into_iter()
            .map(|(flag, actions)| (Str::from(flag), actions.into_iter().map(|(key, a)| (Str::from(key), a)).collect()))
            .collect();
        let precomputed = eppo_core::eval::get_precomputed_configuration(
            Some(&configuration),
            &subject,
            &Arc::new(context),
            &actions,
            chrono::Utc::now(),
        );
        let document = serde_json::to_value(&precomputed)
            .map_err(|e| format!("serializing the precomputed configuration: {e}"))?;
        Ok(Response { configuration: Some(document), ..Response::default() })
    }

    /// Cores before 7.0 have no precomputation (`hello` does not declare it).
    #[cfg(not(eppo_precompute))]
    fn precompute(&self, _: &str, _: &Value, _: &Map<String, Value>) -> Result<Response> {
        Err(format!("eppo {}: its core has no precomputation", env!("EPPO_SDK_VERSION")))
    }

    fn bench(&self, req: &BenchRequest) -> Result<Response> {
        let client = self.client()?;
        let (flag, n) = (req.flag.as_str(), req.iterations);
        let subjects = req
            .subjects
            .iter()
            .map(|s| Ok((Str::from(s.subject_key.as_str()), attributes(s.subject_attributes.clone())?)))
            .collect::<Result<Vec<(Str, Arc<Attributes>)>>>()?;
        if subjects.is_empty() {
            return Err("bench needs at least one subject".into());
        }
        let details = match req.mode {
            BenchMode::Assign => false,
            BenchMode::Details => true,
            BenchMode::Bandit => return Err("the eppo crate has no bandit API".into()),
        };
        self.recorder.stop();
        self.recorder.muted.store(true, Ordering::SeqCst); // the logger drops everything during the loop

        // One boxed closure per typed method, chosen before the clock starts.
        type Call<'c> = Box<dyn Fn(&Str, &Arc<Attributes>) + 'c>;
        macro_rules! typed {
            ($method:ident) => {
                Box::new(move |key: &Str, attrs: &Arc<Attributes>| {
                    let _ = std::hint::black_box(client.$method(flag, key, attrs));
                }) as Call
            };
        }
        let call = match (req.variation_type, details) {
            (VariationType::String, false) => typed!(get_string_assignment),
            (VariationType::Integer, false) => typed!(get_integer_assignment),
            (VariationType::Numeric, false) => typed!(get_numeric_assignment),
            (VariationType::Boolean, false) => typed!(get_boolean_assignment),
            (VariationType::Json, false) => typed!(get_json_assignment),
            (VariationType::String, true) => typed!(get_string_assignment_details),
            (VariationType::Integer, true) => typed!(get_integer_assignment_details),
            (VariationType::Numeric, true) => typed!(get_numeric_assignment_details),
            (VariationType::Boolean, true) => typed!(get_boolean_assignment_details),
            (VariationType::Json, true) => typed!(get_json_assignment_details),
        };
        let start = Instant::now();
        for i in 0..n {
            let (key, attrs) = &subjects[(i % subjects.len() as u64) as usize];
            call(key, attrs);
        }
        let elapsed = start.elapsed().as_nanos() as u64;
        Ok(Response { iterations: Some(n), elapsed_ns: Some(elapsed), ..Response::default() })
    }

    /// Answer one request.
    fn dispatch(&mut self, request: &Request) -> Result<Reply> {
        let response = match request {
            Request::Evaluate { cases, .. } => return self.evaluate(cases).map(Reply::Results),
            Request::Hello { protocol, .. } => self.hello(*protocol),
            Request::Configure { flags, bandits, .. } => self.configure(flags, bandits.as_ref()),
            Request::Bench { bench, .. } => self.bench(bench),
            Request::Precompute { subject_key, subject_attributes, bandit_actions, .. } => {
                self.precompute(subject_key, subject_attributes, bandit_actions)
            }
            Request::Init { init, .. } => self.init(init),
            Request::DrainEvents { .. } => self.recorder.drain(),
            Request::StopClient { .. } | Request::Shutdown { .. } => {
                self.stop_client();
                Ok(Response::default())
            }
        };
        response.map(|r| Reply::Response(Box::new(r)))
    }

    /// Answer one request line, as the line to write; the flag says whether
    /// to exit after answering.
    fn handle(&mut self, line: &str) -> (String, bool) {
        let request = match parse(line) {
            Ok(request) => request,
            Err(Unreadable { id, op, error }) => {
                if let Some(op) = op {
                    eprintln!("adapter: {op} failed: {error}");
                }
                return (Refusal::line(id, &error), false);
            }
        };
        let (id, op) = id_and_op(&request);
        let answer =
            catch_unwind(AssertUnwindSafe(|| self.dispatch(&request))).unwrap_or_else(|p| Err(panic_message(p)));
        let response = match answer {
            // The results are JSON text already: spliced in, not parsed back.
            Ok(Reply::Results(results)) => {
                // Half a megabyte is common: joined, not run through `format!`.
                let head = format!(r#"{{"id":{id},"ok":true,"results":"#);
                let mut line = String::with_capacity(head.len() + results.len() + 1);
                line.push_str(&head);
                line.push_str(&results);
                line.push('}');
                return (line, false);
            }
            Ok(Reply::Response(response)) => Response { id, ok: true, error: None, ..*response },
            Err(error) => {
                eprintln!("adapter: {op} failed: {error}");
                Response { id, ok: false, error: Some(error), ..Response::default() }
            }
        };
        let line = serde_json::to_string(&response)
            .unwrap_or_else(|e| Refusal::line(Some(id), &format!("internal: serializing the response: {e}")));
        (line, op == "shutdown")
    }
}

fn main() {
    // The SDK's HTTP client honours proxy variables; the loopback server must
    // be reached directly.
    std::env::set_var("NO_PROXY", "127.0.0.1");
    std::env::set_var("no_proxy", "127.0.0.1");
    let mut adapter = Adapter { recorder: Arc::default(), served: Arc::default(), base_url: None, client: None };
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        if line.trim().is_empty() {
            continue;
        }
        let (response, shutdown) = adapter.handle(&line);
        let written = stdout.write_all(response.as_bytes()).and_then(|()| stdout.write_all(b"\n"));
        if written.and_then(|()| stdout.flush()).is_err() || shutdown {
            break;
        }
    }
    adapter.stop_client();
    std::process::exit(0);
}
