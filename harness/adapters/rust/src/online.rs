//! The online ops (capability `online`, docs/protocol.md "Online ops"):
//! `init` builds the SDK's ordinary client against the harness's mock CDN
//! with its poller running, `drainEvents` hands out what the logger got
//! outside any case, `stopClient` stops the poller.
//!
//! What `eppo` 5.2 offers, read from its sources: `ClientConfig::base_url`;
//! `Client::start_poller_thread` always runs the core's default poller
//! (`ConfigurationPollerConfig::default()`: every 30 s, minus a uniform
//! draw of up to 3 s), with no knob, so `pollIntervalMs` is not honoured;
//! `PollerThread::wait_for_configuration_timeout` bounds the start-up; no
//! dedup cache; the logger is a closure the client calls bare, so a logger
//! that panics unwinds through the evaluation (that case then errors).
//!
//! The requests are read with types of this module: `ufc-protocol` does
//! not define these ops yet.

use std::sync::Arc;
use std::time::{Duration, Instant};

use eppo::{AssignmentEvent, ClientConfig};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::{Adapter, Recorder, Refusal, Result};

/// The ops this module answers.
const OPS: [&str; 3] = ["init", "drainEvents", "stopClient"];
/// How long `init` waits for the first configuration when not told.
const DEFAULT_INIT_TIMEOUT: Duration = Duration::from_secs(5);

/// What the loggers do with each call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
enum LoggerMode {
    #[default]
    Recording,
    Throwing,
}

/// The parameters of `init`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct InitRequest {
    base_url: String,
    sdk_key: String,
    /// Required by the protocol; the SDK polls on its own fixed cadence.
    #[allow(dead_code)]
    poll_interval_ms: u64,
    #[serde(default)]
    init_timeout_ms: Option<u64>,
    #[serde(default)]
    assignment_cache: bool,
    #[serde(default)]
    bandit_cache: bool,
    #[serde(default)]
    logger: LoggerMode,
    #[serde(default = "yes")]
    wait_for_init: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(tag = "op")]
enum OnlineRequest {
    #[serde(rename = "init")]
    Init {
        id: u64,
        #[serde(flatten)]
        init: InitRequest,
    },
    #[serde(rename = "drainEvents")]
    DrainEvents { id: u64 },
    #[serde(rename = "stopClient")]
    StopClient { id: u64 },
}

/// Whether this build answers the online ops: the bounded start-up wait
/// arrived in `eppo` 5.2.
pub(crate) const OFFERED: bool = cfg!(eppo_wait_timeout);

/// The `online` object of the `hello` answer.
pub(crate) fn describe(hello: &mut Map<String, Value>) {
    if !OFFERED {
        return;
    }
    #[cfg(eppo_wait_timeout)]
    {
        use eppo_core::configuration_poller::ConfigurationPollerConfig as Poller;
        let (interval, jitter) = (Poller::DEFAULT_POLL_INTERVAL, Poller::DEFAULT_POLL_JITTER);
        hello.insert(
            "online".into(),
            json!({
                // The only interval there is: scenarios asking for a shorter
                // one are skipped.
                "minPollIntervalMs": interval.as_millis() as u64,
                "pollJitter": format!(
                    "fixed: every {} s minus a uniform draw from [0, {} s]; the interval cannot be set",
                    interval.as_secs(), jitter.as_secs()
                ),
                "options": ["initTimeout", "throwingLogger", "sdkKey"],
            }),
        );
    }
}

impl Adapter {
    /// The answer to an online op, or None when `line` is not one.
    pub(crate) fn online(&mut self, line: &str) -> Option<String> {
        let fields: Map<String, Value> = serde_json::from_str(line).ok()?;
        let op = fields.get("op").and_then(Value::as_str)?;
        if !OPS.contains(&op) {
            return None;
        }
        let op = op.to_owned();
        let id = fields.get("id").and_then(Value::as_u64);
        let request = match serde_json::from_value::<OnlineRequest>(Value::Object(fields)) {
            Ok(request) => request,
            Err(e) => return Some(refuse(id, &op, &e.to_string())),
        };
        let (id, answer) = match request {
            OnlineRequest::Init { id, init } => (id, self.init(&init)),
            OnlineRequest::DrainEvents { id } => (id, Ok(self.recorder.drain())),
            OnlineRequest::StopClient { id } => (id, Ok(self.stop_client())),
        };
        Some(match answer {
            Ok(mut fields) => {
                fields.insert("id".into(), id.into());
                fields.insert("ok".into(), true.into());
                Value::Object(fields).to_string()
            }
            Err(error) => refuse(Some(id), &op, &error),
        })
    }

    fn init(&mut self, req: &InitRequest) -> Result<Map<String, Value>> {
        if !OFFERED {
            return Err(format!("eppo {}: no bounded start-up wait (5.2 and later)", env!("EPPO_SDK_VERSION")));
        }
        if req.assignment_cache || req.bandit_cache {
            return Err("the eppo crate has no assignment or bandit dedup cache".into());
        }
        self.stop_client();
        let recorder = Arc::new(Recorder::new(req.logger == LoggerMode::Throwing));
        self.recorder = recorder.clone();
        let mut client = ClientConfig::from_api_key(req.sdk_key.clone())
            .base_url(format!("{}/api", req.base_url.trim_end_matches('/')))
            .assignment_logger(move |event: AssignmentEvent| recorder.record(event))
            .to_client();
        let started = Instant::now();
        let poller = client.start_poller_thread().map_err(|e| format!("starting the SDK poller: {e}"))?;
        let waited = if req.wait_for_init {
            let timeout = req.init_timeout_ms.map_or(DEFAULT_INIT_TIMEOUT, Duration::from_millis);
            Some(wait(&poller, timeout))
        } else {
            None
        };
        let elapsed_ms = started.elapsed().as_millis() as u64;
        // The client stays, poller and all, even when the start failed: the
        // harness may evaluate (defaults) and watch its requests.
        self.client = Some((client, Some(poller)));
        let initialized = match waited {
            None => Value::Null,
            Some(Ok(initialized)) => initialized.into(),
            Some(Err(error)) => return Err(error),
        };
        let mut fields = Map::new();
        fields.insert("initialized".into(), initialized);
        fields.insert("elapsedMs".into(), elapsed_ms.into());
        Ok(fields)
    }

    /// Stop the poller (waiting for its thread); the client keeps serving
    /// its last configuration.
    pub(crate) fn stop_client(&mut self) -> Map<String, Value> {
        if let Some(poller) = self.client.as_mut().and_then(|(_, poller)| poller.take()) {
            if let Err(e) = poller.shutdown() {
                eprintln!("adapter: stopping the SDK poller: {e}");
            }
        }
        Map::new()
    }
}

/// The SDK's bounded wait: the first configuration arrived (true), the
/// timeout passed while it keeps polling (false), or it gave up (an error:
/// a 401 stops its poller for good, as does an invalid base URL).
#[cfg(eppo_wait_timeout)]
fn wait(poller: &eppo::PollerThread, timeout: Duration) -> Result<bool> {
    match poller.wait_for_configuration_timeout(timeout) {
        Ok(()) => Ok(true),
        Err(eppo::Error::Timeout) => Ok(false),
        Err(e) => Err(format!("the SDK gave up initialising: {e}")),
    }
}

#[cfg(not(eppo_wait_timeout))]
fn wait(_: &eppo::PollerThread, _: Duration) -> Result<bool> {
    Err("no bounded start-up wait before eppo 5.2".into())
}

fn refuse(id: Option<u64>, op: &str, error: &str) -> String {
    eprintln!("adapter: {op} failed: {error}");
    Refusal::line(id, error)
}
