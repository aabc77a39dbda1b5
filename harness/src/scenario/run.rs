//! Drives one party through one scenario against a fresh mock CDN and
//! judges every step: one [`CaseOutcome`] per step, id
//! `scenario/<name>/<step>`, in the run report's types so every sink and
//! the known-failure manifests apply unchanged.
//!
//! Expected values come from the reference evaluated on the configuration
//! the step says is in force (or, for none, the case's default and no
//! event); events are expected as the reference logs them unless the case
//! says the assignment must not be logged (a dedup cache).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use ufc_protocol::{Capability, CaseInput, InitOption, InitRequest, Source};

use super::{Action, CdnChange, Condition, Scenario, ScenarioCase, StateSpec, Step, DEFAULT_SDK_KEY};
use crate::cdn::{Document, Endpoint, EndpointState, MockCdn, RecordedRequest};
use crate::compare::{Difference, Expected, Scope, Severity};
use crate::observation::{Answer, Event, Json, Observation};
use crate::party::reference::ReferenceParty;
use crate::party::{AnswerPart, ConfigSet, Initialized, Party, PartyInfo, Question};
use crate::run::{CaseOutcome, RunSettings, Status};
use crate::session::{CaseReply, Session};
use crate::suite::Case;

/// Poll intervals are stretched by this much for jitter in deadlines
/// (SDKs document up to 10%; a loaded machine adds its own).
pub const JITTER_ALLOWANCE: f64 = 0.25;
/// Added to every deadline: a fetch, its parse, and the harness's own polling.
pub const SLACK: Duration = Duration::from_millis(1500);
/// How often a wait looks again.
const TICK: Duration = Duration::from_millis(25);

/// The case id of a step.
pub fn case_id(scenario: &str, step: &str) -> String {
    format!("scenario/{scenario}/{step}")
}

/// Why `info`'s party cannot play `scenario`, if it cannot.
pub fn skip_reason(scenario: &Scenario, info: &PartyInfo, party: &dyn Party) -> Option<String> {
    let name = &info.name;
    if !info.can(&Capability::Online) {
        return Some(format!("{name} lacks online (the adapter does not declare the \"online\" capability)"));
    }
    if scenario.has_bandit_cases() && !info.can(&Capability::Bandits) {
        return Some(format!("{name} does not declare the \"bandits\" capability"));
    }
    let (options, intervals) = scenario.needs();
    let online = party.online();
    let honours = |option: &InitOption| online.is_some_and(|o| o.honours(option));
    if let Some(missing) = options.iter().find(|o| !honours(o)) {
        return Some(format!(
            "{name}: the SDK does not honour the init option {missing} (not in hello's online.options)"
        ));
    }
    let minimum = online.and_then(|o| o.min_poll_interval_ms).unwrap_or(0);
    if let Some(interval) = intervals.iter().find(|&&i| i < minimum) {
        return Some(format!("{name}: poll interval {interval} ms is below the SDK's minimum of {minimum} ms"));
    }
    None
}

/// Every step of `scenario` for `party`, judged.
pub fn play(scenario: &Scenario, party: &mut dyn Party, settings: &RunSettings) -> Vec<CaseOutcome> {
    let info = party.info().clone();
    if let Some(reason) = skip_reason(scenario, &info, party) {
        return scenario
            .steps
            .iter()
            .map(|step| blank(scenario, step, &info.name, Status::Skipped, |o| o.skip_reason = Some(reason.clone())))
            .collect();
    }
    let cdn = match MockCdn::start() {
        Ok(cdn) => cdn,
        Err(err) => {
            let error = format!("the mock CDN did not start: {err}");
            return scenario
                .steps
                .iter()
                .map(|step| blank(scenario, step, &info.name, Status::Errored, |o| o.error = Some(error.clone())))
                .collect();
        }
    };
    let mut player = Player {
        scenario,
        party,
        info,
        cdn,
        settings,
        poll_interval: None,
        init_error: None,
        references: BTreeMap::new(),
    };
    let outcomes: Vec<CaseOutcome> = scenario.steps.iter().map(|step| player.step(step)).collect();
    // Leave no poller behind for the next scenario.
    if player.poll_interval.is_some() {
        let _ = player.party.stop_client();
    }
    outcomes
}

struct Player<'s, 'p> {
    scenario: &'s Scenario,
    party: &'p mut dyn Party,
    info: PartyInfo,
    cdn: MockCdn,
    settings: &'s RunSettings,
    /// The last `init`'s interval; set once a client is active.
    poll_interval: Option<Duration>,
    /// The last `init` raised: later cases the adapter cannot answer are
    /// the SDK's failure, not the harness's.
    init_error: Option<String>,
    /// A reference configured with each configuration, made on first use.
    references: BTreeMap<String, ReferenceParty>,
}

/// What a step found.
#[derive(Default)]
struct Findings {
    differences: Vec<Difference>,
    error: Option<String>,
    /// The adapter or the harness failed, not the SDK.
    lost: bool,
    observed: Option<Answer>,
    logger_calls: u64,
}

impl Findings {
    fn differ(&mut self, field: impl Into<String>, expected: Value, actual: Value) {
        self.differences.push(Difference {
            field: field.into(),
            severity: Severity::Critical,
            expected: Json(expected),
            actual: Json(actual),
        });
    }
}

impl Player<'_, '_> {
    fn step(&mut self, step: &Step) -> CaseOutcome {
        let first_request = self.cdn.requests().len();
        let mut findings = Findings::default();
        match &step.action {
            Action::Cdn(change) => self.set_cdn(change, &mut findings),
            Action::Init(options) => self.init(options, step, &mut findings),
            Action::Evaluate(evaluation) => {
                self.drain(&mut Findings::default());
                for (index, case) in evaluation.cases.iter().enumerate() {
                    let prefix = if evaluation.cases.len() > 1 { format!("cases[{index}].") } else { String::new() };
                    self.judge_case(step, case, evaluation.in_force.as_deref(), &prefix, &mut findings);
                }
            }
            Action::WaitFor(wait) => self.wait(&wait.until, wait.within_polls, first_request, &mut findings),
            Action::Observe(observe) => std::thread::sleep(self.polls(observe.polls, 0.0)),
            Action::Stop(_) => {
                if let Err(err) = self.party.stop_client() {
                    findings.error = Some(err.to_string());
                    findings.lost = true;
                }
                self.poll_interval = None;
            }
        }
        if step.expect.logger_calls.is_some() && self.poll_interval.is_some() {
            self.drain(&mut findings);
        }
        let requests: Vec<RecordedRequest> = self.cdn.requests();
        self.check_requests(step, &requests, first_request, &mut findings);
        self.outcome(step, findings, requests)
    }

    fn set_cdn(&mut self, change: &CdnChange, findings: &mut Findings) {
        if let Some(listening) = change.listening {
            if let Err(err) = self.cdn.set_listening(listening) {
                let what = if listening { "listen again on its port" } else { "close its port" };
                findings.error = Some(format!("the mock CDN could not {what}: {err}"));
                findings.lost = true;
            }
        }
        for (endpoint, spec) in [(Endpoint::Config, &change.config), (Endpoint::Bandits, &change.bandits)] {
            let Some(spec) = spec else { continue };
            match self.state(endpoint, spec) {
                Ok(state) => self.cdn.set(endpoint, state),
                Err(message) => {
                    findings.error = Some(message);
                    findings.lost = true;
                }
            }
        }
    }

    fn state(&self, endpoint: Endpoint, spec: &StateSpec) -> Result<EndpointState, String> {
        Ok(match spec {
            StateSpec::Serve(name) => {
                let configuration = &self.scenario.configurations[name];
                let path = match endpoint {
                    Endpoint::Bandits => configuration.bandits.as_ref().ok_or_else(|| {
                        format!("configuration {name:?} has no bandits to serve at the bandit endpoint")
                    })?,
                    _ => &configuration.flags,
                };
                let path = self.scenario.resolve(path);
                let body = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                EndpointState::Serve(Document::new(body))
            }
            StateSpec::Fail(status) => EndpointState::Fail(*status),
            StateSpec::Hang => EndpointState::Hang,
            StateSpec::Close => EndpointState::Close,
            StateSpec::InvalidJson => EndpointState::InvalidJson,
            StateSpec::WrongFormat => EndpointState::WrongFormat,
        })
    }

    fn init(&mut self, options: &super::InitOptions, step: &Step, findings: &mut Findings) {
        let request = InitRequest {
            base_url: self.cdn.base_url(),
            sdk_key: options.sdk_key.clone().unwrap_or_else(|| DEFAULT_SDK_KEY.to_owned()),
            poll_interval_ms: options.poll_interval_ms,
            init_timeout_ms: options.init_timeout_ms,
            assignment_cache: options.assignment_cache,
            bandit_cache: options.bandit_cache,
            logger: options.logger,
            wait_for_init: options.wait_for_init,
        };
        self.poll_interval = Some(Duration::from_millis(options.poll_interval_ms));
        self.init_error = None;
        let started = Instant::now();
        let answered = self.party.init(&request);
        let took = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        if let Some(most) = step.expect.init_at_most_ms.filter(|most| took > *most) {
            findings.differ("initElapsedMs", json!({"atMost": most}), json!(took));
        }
        let ok = match answered {
            Ok(Initialized::Ready { initialized, elapsed_ms }) => {
                findings.observed = Some(Answer::Observed(Observation {
                    value: Json(json!({"initialized": initialized, "elapsedMs": elapsed_ms})),
                    ..Observation::default()
                }));
                true
            }
            Ok(Initialized::Raised(error)) => {
                findings.observed = Some(Answer::Raised(error.clone()));
                self.init_error = Some(error);
                false
            }
            Err(err) => {
                findings.error = Some(err.to_string());
                findings.lost = true;
                return;
            }
        };
        if let Some(expected) = step.expect.init_ok {
            if expected != ok {
                let actual = match &self.init_error {
                    Some(error) => json!({"raised": error}),
                    None => json!(true),
                };
                findings.differ("initOk", json!(expected), actual);
            }
        }
    }

    /// The reference's answer to `input` on the configuration named, or,
    /// for none, the default with no event.
    fn expected(&mut self, input: &CaseInput, in_force: Option<&str>) -> Option<Observation> {
        let Some(name) = in_force else {
            let default = match input {
                CaseInput::Flag(case) => case.default_value.clone(),
                CaseInput::Bandit(case) => json!({"variation": case.default_value, "action": null}),
            };
            return Some(Observation { value: Json(default), ..Observation::default() });
        };
        let reference = self.references.entry(name.to_owned()).or_insert_with(|| {
            let configuration = &self.scenario.configurations[name];
            let mut party = ReferenceParty::new(chrono::Utc::now());
            let config = ConfigSet {
                flags: Source::Path(self.scenario.resolve(&configuration.flags)),
                bandit_models: configuration.bandits.as_ref().map(|b| Source::Path(self.scenario.resolve(b))),
                precomputed: None,
            };
            // Loading was checked with the scenario; a failure shows as a lost answer.
            let _ = party.configure(&config);
            party
        });
        match reference.evaluate(&[Question { id: "expected", input }]).pop() {
            Some(Ok(Answer::Observed(observation))) => Some(observation),
            _ => None,
        }
    }

    fn judge_case(
        &mut self,
        step: &Step,
        case: &ScenarioCase,
        in_force: Option<&str>,
        prefix: &str,
        findings: &mut Findings,
    ) {
        let Some(mut reference) = self.expected(&case.input, in_force) else {
            findings.error = Some("the reference could not evaluate the case".into());
            findings.lost = true;
            return;
        };
        if case.logs == Some(false) {
            reference.assignment_events.clear();
            reference.bandit_events.clear();
        }
        let id = case_id(&self.scenario.name, &step.name);
        let mut reply = Session::new(&mut *self.party).ask(&[Question { id: &id, input: &case.input }], false).pop();
        let mut late = Findings::default();
        self.drain(&mut late);
        findings.logger_calls += late.logger_calls;
        if let (Some(CaseReply::Answered(Answer::Observed(observation))), Some(Answer::Observed(drained))) =
            (&mut reply, late.observed)
        {
            observation.assignment_events.extend(drained.assignment_events);
            observation.bandit_events.extend(drained.bandit_events);
        }
        let bandit = matches!(case.input, CaseInput::Bandit(_));
        let scope = Scope {
            details: in_force.is_some() && self.info.gives(AnswerPart::Details, bandit),
            events: self.info.gives(AnswerPart::AssignmentEvents, bandit),
            bandit_events: self.info.gives(AnswerPart::BanditEvents, bandit),
        };
        let expected = Expected { value: reference.value.clone(), details: reference.details.clone() };
        let as_case = Case {
            id,
            file: self.scenario.file.clone(),
            group: 0,
            input: case.input.clone(),
            expected: expected.clone(),
        };
        let reply = reply.unwrap_or(CaseReply::Lost { error: "no reply".into(), stderr_tail: None });
        let judged =
            crate::run::verdict(&as_case, &expected, &self.info.name, reply, Some(&reference), scope, self.settings);
        if judged.status == Status::Errored {
            findings.error = judged.error;
            // After an init the SDK raised from, an unanswerable case is the SDK's doing.
            findings.lost = self.init_error.is_none();
            if let Some(init_error) = &self.init_error {
                findings.differ(
                    format!("{prefix}value"),
                    expected.value.0.clone(),
                    json!({"lost after init raised": init_error}),
                );
            }
        } else if let Some(error) = judged.error {
            findings.error.get_or_insert(error);
        }
        findings.differences.extend(judged.differences.into_iter().map(|mut d| {
            d.field = format!("{prefix}{}", d.field);
            d
        }));
        if findings.observed.is_none() {
            findings.observed = judged.observed;
        }
    }

    /// Collects what the loggers received outside answers, into
    /// `findings.observed` (as an observation's events) and its call count.
    fn drain(&mut self, findings: &mut Findings) {
        match self.party.drain_events() {
            Ok(drained) => {
                findings.logger_calls += drained.logger_calls;
                findings.observed = Some(Answer::Observed(Observation {
                    assignment_events: drained.assignment_events.into_iter().filter_map(event).collect(),
                    bandit_events: drained.bandit_events.into_iter().filter_map(event).collect(),
                    ..Observation::default()
                }));
            }
            Err(err) => findings.error = Some(err.to_string()),
        }
    }

    /// `polls` poll intervals, stretched by `jitter`.
    fn polls(&self, polls: u32, jitter: f64) -> Duration {
        let interval = self.poll_interval.unwrap_or(Duration::from_secs(1));
        interval.mul_f64(f64::from(polls) * (1.0 + jitter))
    }

    fn wait(&mut self, until: &Condition, within_polls: u32, first_request: usize, findings: &mut Findings) {
        let deadline = Instant::now() + self.polls(within_polls, JITTER_ALLOWANCE) + SLACK;
        let requests_to = |cdn: &MockCdn, endpoint: Endpoint| {
            cdn.requests()[first_request..].iter().filter(|r| r.path == endpoint.path()).count()
        };
        loop {
            let (held, seen, wanted) = match until {
                Condition::ConfigRequests(n) => {
                    let seen = requests_to(&self.cdn, Endpoint::Config);
                    (seen >= *n, json!(seen), json!({"configRequests": n}))
                }
                Condition::BanditRequests(n) => {
                    let seen = requests_to(&self.cdn, Endpoint::Bandits);
                    (seen >= *n, json!(seen), json!({"banditRequests": n}))
                }
                Condition::Serves { case, in_force } => {
                    let Some(expected) = self.expected(&case.input, in_force.as_deref()) else {
                        findings.error = Some("the reference could not evaluate the case".into());
                        findings.lost = true;
                        return;
                    };
                    let mut replies =
                        Session::new(&mut *self.party).ask(&[Question { id: "wait", input: &case.input }], false);
                    let seen = match replies.pop() {
                        Some(CaseReply::Answered(Answer::Observed(o))) => o.value.0,
                        Some(CaseReply::Answered(Answer::Raised(e))) => json!({"raised": e}),
                        other => json!({"lost": format!("{other:?}")}),
                    };
                    (
                        crate::observation::json_equal(&seen, &expected.value.0),
                        seen,
                        json!({"serves": expected.value.0}),
                    )
                }
            };
            if held {
                // The wait's own evaluations logged events: they are not the next step's.
                self.drain(&mut Findings::default());
                return;
            }
            if Instant::now() >= deadline {
                findings.differ(
                    "condition",
                    wanted,
                    json!({"lastSeen": seen, "deadlineMs": (deadline - Instant::now()).as_millis()}),
                );
                self.drain(&mut Findings::default());
                return;
            }
            std::thread::sleep(TICK);
        }
    }

    fn check_requests(&self, step: &Step, requests: &[RecordedRequest], first: usize, findings: &mut Findings) {
        let during = &requests[first.min(requests.len())..];
        let to = |endpoint: Endpoint| during.iter().filter(move |r| r.path == endpoint.path());
        let expect = &step.expect;
        let counts = [
            ("configRequests", expect.config_requests, Endpoint::Config),
            ("banditRequests", expect.bandit_requests, Endpoint::Bandits),
        ];
        for (field, count, endpoint) in counts {
            if let Some(count) = count {
                let seen = to(endpoint).count();
                if !count.admits(seen) {
                    findings.differ(field, count.describe(), json!(seen));
                }
            }
        }
        if let Some(count) = expect.logger_calls {
            let seen = usize::try_from(findings.logger_calls).unwrap_or(usize::MAX);
            if !count.admits(seen) {
                findings.differ("loggerCalls", count.describe(), json!(seen));
            }
        }
        for request in to(Endpoint::Config) {
            check_fields("query", &expect.query, &request.query, request, findings);
        }
        let first_config = requests.iter().position(|r| r.path == Endpoint::Config.path());
        for (index, request) in requests.iter().enumerate().skip(first) {
            if request.path == Endpoint::Config.path() && Some(index) != first_config {
                check_fields("headers", &expect.later_headers, &request.headers, request, findings);
            }
        }
    }

    fn outcome(&self, step: &Step, findings: Findings, requests: Vec<RecordedRequest>) -> CaseOutcome {
        let failing = findings.differences.iter().any(|d| self.settings.fail_on.contains(&d.severity));
        let status = if findings.lost {
            Status::Errored
        } else if failing {
            Status::Failed
        } else {
            Status::Passed
        };
        blank(self.scenario, step, &self.info.name, status, |o| {
            o.differences = findings.differences;
            o.error = findings.error;
            o.observed = findings.observed;
            if status != Status::Passed {
                o.stderr_tail = self.party.stderr_tail();
                o.request_log = requests;
            }
        })
    }
}

/// Each expected field is present in `actual` with that value (`*`: any).
fn check_fields(
    what: &str,
    expected: &BTreeMap<String, String>,
    actual: &BTreeMap<String, String>,
    request: &RecordedRequest,
    findings: &mut Findings,
) {
    for (name, want) in expected {
        let got = actual.get(name);
        let fits = got.is_some_and(|got| want == "*" || got == want);
        if !fits {
            let field = format!("{what}.{name}@{}ms", request.at_ms);
            findings.differ(field, json!(want), json!(got));
        }
    }
}

fn event(value: Value) -> Option<Event> {
    match value {
        Value::Object(map) => Some(Event { fields: map.into_iter().map(|(k, v)| (k, Json(v))).collect() }),
        _ => None,
    }
}

fn blank(
    scenario: &Scenario,
    step: &Step,
    party: &str,
    status: Status,
    fill: impl FnOnce(&mut CaseOutcome),
) -> CaseOutcome {
    crate::run::new_outcome(case_id(&scenario.name, &step.name), party, status, scenario.file.clone(), fill)
}

#[cfg(test)]
mod tests {
    use super::super::Count;

    #[test]
    fn counts_admit_their_bounds() {
        let count = Count { at_least: Some(1), at_most: Some(3) };
        assert!(!count.admits(0) && count.admits(1) && count.admits(3) && !count.admits(4));
        assert!(Count::default().admits(0));
    }
}
