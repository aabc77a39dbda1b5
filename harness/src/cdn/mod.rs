//! A mock Eppo CDN: a real HTTP server on a loopback port that serves the
//! endpoints SDKs fetch, in whatever state a scenario puts each of them,
//! and records every request it receives.
//!
//! * [`MockCdn::start`] binds `127.0.0.1:0` and serves from a thread of its
//!   own until dropped; [`MockCdn::base_url`] is what an SDK is pointed at.
//! * [`MockCdn::set`] puts one [`Endpoint`] in an [`EndpointState`]: serve a
//!   document (with an ETag, so `If-None-Match` earns a 304), fail with a
//!   status, hang, close the connection, answer invalid JSON or a document
//!   of the wrong format. A change of state also releases every request
//!   held by [`EndpointState::Hang`], which is then answered per the new
//!   state.
//! * [`MockCdn::requests`] is the log: time since start, method, path, query
//!   parameters and headers of each request, and what was answered.
//!
//! The server is hyper's HTTP/1 connection driver on a current-thread tokio
//! runtime ([`server`]); [`fetch`] is the tiny blocking client the fake
//! adapter and the tests use.

pub mod fetch;
mod server;

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
pub use ufc_protocol::report::RecordedRequest;

/// An endpoint SDKs fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Endpoint {
    /// `/api/flag-config/v1/config`: the flag configuration (server SDKs).
    Config,
    /// `/api/flag-config/v1/bandits`: the bandit models.
    Bandits,
    /// `/assignments`: precomputed assignments for one subject (client SDKs).
    Precomputed,
}

impl Endpoint {
    /// Every endpoint.
    pub const ALL: [Endpoint; 3] = [Endpoint::Config, Endpoint::Bandits, Endpoint::Precomputed];

    /// The path the SDKs request it at.
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::Config => "/api/flag-config/v1/config",
            Endpoint::Bandits => "/api/flag-config/v1/bandits",
            Endpoint::Precomputed => "/assignments",
        }
    }

    /// The endpoint at `path`, if any.
    pub fn at(path: &str) -> Option<Endpoint> {
        Endpoint::ALL.into_iter().find(|e| e.path() == path)
    }

    /// A JSON document that parses but is not what the endpoint serves:
    /// the fields are there with the wrong types.
    fn wrong_format_document(self) -> &'static str {
        match self {
            Endpoint::Config => {
                r#"{"createdAt": "2024-04-17T19:40:53.716Z", "format": "SERVER", "environment": {"name": "Test"}, "flags": ["not", "a", "map", "of", "flags"]}"#
            }
            Endpoint::Bandits => r#"{"bandits": ["not", "a", "map", "of", "models"], "updatedAt": 12}"#,
            Endpoint::Precomputed => r#"{"format": "PRECOMPUTED", "flags": "not a map"}"#,
        }
    }
}

/// A document served with its ETag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The body.
    pub body: Bytes,
    /// The entity tag, quoted as it travels (`"1a2b..."`).
    pub etag: String,
}

impl Document {
    /// `body`, with an ETag derived from its bytes: the same document keeps
    /// its tag across states, a changed one gets a new tag.
    pub fn new(body: impl Into<Bytes>) -> Document {
        let body = body.into();
        // Not for security: a stable hash of the content is enough to tell
        // two documents apart.
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        body.hash(&mut hasher);
        Document { etag: format!("\"{:016x}-{}\"", hasher.finish(), body.len()), body }
    }
}

/// What an endpoint does with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointState {
    /// 200 with the document, or 304 to an `If-None-Match` naming its ETag.
    Serve(Document),
    /// This status with a short text body.
    Fail(u16),
    /// Hold the request without answering until the state changes (then
    /// answer per the new state) or the hang deadline passes (then close).
    Hang,
    /// Drop the connection without an answer.
    Close,
    /// 200 with a body that is not JSON.
    InvalidJson,
    /// 200 with JSON of the wrong shape for the endpoint.
    WrongFormat,
}

/// Shared between the handle and the server.
#[derive(Debug)]
struct Shared {
    started: Instant,
    states: Mutex<HashMap<Endpoint, EndpointState>>,
    log: Mutex<Vec<RecordedRequest>>,
    /// Bumped on every state change; held requests watch it.
    generation: tokio::sync::watch::Sender<u64>,
    hang_deadline: Duration,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking handler leaves plain data behind, still usable.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A running mock CDN; stops when dropped.
#[derive(Debug)]
pub struct MockCdn {
    shared: Arc<Shared>,
    address: std::net::SocketAddr,
    commands: tokio::sync::mpsc::UnboundedSender<server::Command>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// How long [`EndpointState::Hang`] holds a request by default.
pub const DEFAULT_HANG_DEADLINE: Duration = Duration::from_secs(30);

impl MockCdn {
    /// Starts a CDN on `127.0.0.1` (a free port) with every endpoint
    /// failing 404 until told otherwise.
    pub fn start() -> std::io::Result<MockCdn> {
        MockCdn::with_hang_deadline(DEFAULT_HANG_DEADLINE)
    }

    /// As [`MockCdn::start`], holding hung requests at most `hang_deadline`.
    pub fn with_hang_deadline(hang_deadline: Duration) -> std::io::Result<MockCdn> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
        listener.set_nonblocking(true)?;
        let address = listener.local_addr()?;
        let states = Endpoint::ALL.into_iter().map(|e| (e, EndpointState::Fail(404))).collect();
        let shared = Arc::new(Shared {
            started: Instant::now(),
            states: Mutex::new(states),
            log: Mutex::new(Vec::new()),
            generation: tokio::sync::watch::channel(0).0,
            hang_deadline,
        });
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let (commands, received) = tokio::sync::mpsc::unbounded_channel();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let serving = Arc::clone(&shared);
        let thread = std::thread::Builder::new().name(format!("mock-cdn-{}", address.port())).spawn(move || {
            runtime.block_on(server::serve(listener, serving, received, stopped));
        })?;
        Ok(MockCdn { shared, address, commands, stop: Some(stop), thread: Some(thread) })
    }

    /// Closes the CDN's port (`false`: connections are refused, the open
    /// ones dropped) or listens on it again (`true`); returns once that
    /// holds. Listening again fails if something else took the port
    /// meanwhile.
    pub fn set_listening(&self, listening: bool) -> std::io::Result<()> {
        let (done, result) = std::sync::mpsc::channel();
        let gone = || std::io::Error::other("the mock CDN has stopped");
        self.commands.send(server::Command::Listen(listening, done)).map_err(|_| gone())?;
        result.recv().map_err(|_| gone())?
    }

    /// `http://127.0.0.1:PORT`, what an SDK is given as its base URL.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The address it listens on.
    pub fn address(&self) -> std::net::SocketAddr {
        self.address
    }

    /// Puts `endpoint` in `state`, releasing every request held so far.
    pub fn set(&self, endpoint: Endpoint, state: EndpointState) {
        lock(&self.shared.states).insert(endpoint, state);
        self.shared.generation.send_modify(|g| *g += 1);
    }

    /// The state `endpoint` is in.
    pub fn state(&self, endpoint: Endpoint) -> EndpointState {
        state_of(&self.shared, endpoint)
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.log).clone()
    }

    /// How many requests reached `endpoint` so far.
    pub fn count(&self, endpoint: Endpoint) -> usize {
        lock(&self.shared.log).iter().filter(|r| r.path == endpoint.path()).count()
    }

    /// Milliseconds since the CDN started, on the log's clock.
    pub fn now_ms(&self) -> u64 {
        elapsed_ms(&self.shared)
    }
}

fn state_of(shared: &Shared, endpoint: Endpoint) -> EndpointState {
    lock(&shared.states).get(&endpoint).cloned().unwrap_or(EndpointState::Fail(404))
}

fn elapsed_ms(shared: &Shared) -> u64 {
    u64::try_from(shared.started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

impl Drop for MockCdn {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
