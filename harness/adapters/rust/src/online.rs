//! The online ops (capability `online`, docs/protocol.md section 7): `init`
//! builds the SDK's ordinary client against the harness's mock CDN with its
//! poller running; `drainEvents` (the recorder's) hands out what the logger
//! got outside any case; `stopClient` stops the poller.
//!
//! What `eppo` 5.2 offers, read from its sources: `ClientConfig::base_url`;
//! `Client::start_poller_thread` always runs the core's default poller
//! (`ConfigurationPollerConfig::default()`: every 30 s, minus a uniform
//! draw of up to 3 s), with no knob, so `pollIntervalMs` is not honoured;
//! `PollerThread::wait_for_configuration_timeout` bounds the start-up; no
//! dedup cache; the logger is a closure the client calls bare, so a logger
//! that panics unwinds through the evaluation (that case then errors).

use std::sync::Arc;
use std::time::{Duration, Instant};

use eppo::{AssignmentEvent, ClientConfig};
use ufc_protocol::{InitOption, InitRequest, LoggerMode, OnlineInfo, Response};

use crate::{Adapter, Recorder, Result};

/// How long `init` waits for the first configuration when not told.
const DEFAULT_INIT_TIMEOUT: Duration = Duration::from_secs(5);

/// Whether this build answers the online ops: the bounded start-up wait
/// arrived in `eppo` 5.2.
pub(crate) const OFFERED: bool = cfg!(eppo_wait_timeout);

/// The `online` object of the `hello` answer.
#[cfg(eppo_wait_timeout)]
pub(crate) fn describe() -> Option<OnlineInfo> {
    use eppo_core::configuration_poller::ConfigurationPollerConfig as Poller;
    let (interval, jitter) = (Poller::DEFAULT_POLL_INTERVAL, Poller::DEFAULT_POLL_JITTER);
    Some(OnlineInfo {
        // The only interval there is: a scenario asking for a shorter one is skipped.
        min_poll_interval_ms: Some(interval.as_millis() as u64),
        poll_jitter: Some(format!(
            "fixed: every {} s minus a uniform draw from [0, {} s]; the interval cannot be set",
            interval.as_secs(),
            jitter.as_secs()
        )),
        options: vec![InitOption::InitTimeout, InitOption::ThrowingLogger, InitOption::SdkKey],
    })
}

#[cfg(not(eppo_wait_timeout))]
pub(crate) fn describe() -> Option<OnlineInfo> {
    None
}

impl Adapter {
    pub(crate) fn init(&mut self, req: &InitRequest) -> Result<Response> {
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
        // Not waiting is a wait of zero: the SDK's answer whether the first
        // configuration is already there (it has no other way to tell).
        let timeout = match req.wait_for_init {
            true => req.init_timeout_ms.map_or(DEFAULT_INIT_TIMEOUT, Duration::from_millis),
            false => Duration::ZERO,
        };
        let initialized = wait(&poller, timeout);
        let elapsed_ms = started.elapsed().as_millis() as u64;
        // The client stays, poller and all, even when the start failed: the
        // harness may evaluate (defaults) and watch its requests.
        self.client = Some((client, Some(poller)));
        Ok(Response { initialized: Some(initialized?), elapsed_ms: Some(elapsed_ms), ..Response::default() })
    }

    /// Stop the poller (waiting for its thread); the client keeps serving
    /// its last configuration.
    pub(crate) fn stop_client(&mut self) {
        if let Some(poller) = self.client.as_mut().and_then(|(_, poller)| poller.take()) {
            if let Err(e) = poller.shutdown() {
                eprintln!("adapter: stopping the SDK poller: {e}");
            }
        }
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
