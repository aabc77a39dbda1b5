//! The fuzz engine against a deliberately different party: the reference
//! with two of the JS core's habits grafted on (spec section 8):
//!
//! * numbers are rendered the JS way for `ONE_OF`/`MATCHES` (`1e+21`,
//!   `1e-7`, `0` for -0), by handing the reference those numbers already
//!   rendered as JS strings (which changes nothing for the other operators);
//! * an allocation without `doLog` does not log.
//!
//! The engine must find both, minimize them, classify them apart, and
//! write suites that replay the disagreement through the runner, with a
//! `summary.json` that follows its schema.

use std::time::Duration;

use serde_json::Value;
use ufc_harness::fuzz::{fuzz, scenario_for_batch, write_findings, Budget, Field, Finding, FuzzOptions, FuzzReport};
use ufc_harness::observation::Answer;
use ufc_harness::party::reference::ReferenceParty;
use ufc_harness::party::{ConfigSet, Party, PartyError, PartyInfo, Question, Reply};
use ufc_harness::report::fuzz::{FuzzSummary, SummaryBudget, FUZZ_SUMMARY_VERSION};
use ufc_harness::run::{self, RunSettings, Status};
use ufc_harness::suite::Suite;
use ufc_protocol::{BenchRequest, Capabilities, Capability, CaseInput, Source};
use ufc_reference::Timestamp;

fn now() -> Timestamp {
    chrono::DateTime::parse_from_rfc3339("2025-06-01T12:00:00Z").map(|t| t.to_utc()).unwrap_or_default()
}

/// How JS's `Number.prototype.toString` prints a number (ECMA-262
/// Number::toString): like Rust, but with an exponent from 1e21 up and
/// below 1e-6, and `0` for -0.
fn js_number_to_string(n: f64) -> String {
    if n == 0.0 {
        return "0".into();
    }
    let scientific = format!("{n:e}"); // shortest round-trip digits, e.g. "-1.5e-7"
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (sign, mantissa) = mantissa.strip_prefix('-').map_or(("", mantissa), |m| ("-", m));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let point = exponent + 1; // where the decimal point goes, as in the spec's "n"
    let k = digits.len() as i32;
    let body = if (k..=21).contains(&point) {
        format!("{digits}{}", "0".repeat((point - k) as usize))
    } else if 0 < point && point <= 21 {
        format!("{}.{}", &digits[..point as usize], &digits[point as usize..])
    } else if -6 < point && point <= 0 {
        format!("0.{}{digits}", "0".repeat((-point) as usize))
    } else {
        let rest = if k > 1 { format!(".{}", &digits[1..]) } else { String::new() };
        let sign = if exponent >= 0 { '+' } else { '-' };
        format!("{}{rest}e{sign}{}", &digits[..1], exponent.abs())
    };
    format!("{sign}{body}")
}

#[test]
fn js_rendering_follows_the_ecmascript_rules() {
    assert_eq!(js_number_to_string(1e21), "1e+21");
    assert_eq!(js_number_to_string(1e20), "100000000000000000000");
    assert_eq!(js_number_to_string(1e-7), "1e-7");
    assert_eq!(js_number_to_string(2.5e-8), "2.5e-8");
    assert_eq!(js_number_to_string(1e-6), "0.000001");
    assert_eq!(js_number_to_string(-0.0), "0");
    assert_eq!(js_number_to_string(-1.5), "-1.5");
    assert_eq!(js_number_to_string(42.0), "42");
    assert_eq!(js_number_to_string(0.1 + 0.2), "0.30000000000000004");
    assert_eq!(js_number_to_string(-1e21), "-1e+21");
}

/// The reference with JS number rendering and JS's reading of a missing
/// `doLog`.
struct JsHabits {
    inner: ReferenceParty,
    info: PartyInfo,
    document: Value,
}

impl JsHabits {
    fn new() -> JsHabits {
        let inner = ReferenceParty::new(now());
        let mut info = inner.info().clone();
        info.name = "js-habits".into();
        JsHabits { inner, info, document: Value::Null }
    }

    fn allocation_has_do_log(&self, flag: &str, allocation: &str) -> bool {
        self.document
            .get("flags")
            .and_then(|f| f.get(flag))
            .and_then(|f| f.get("allocations"))
            .and_then(Value::as_array)
            .and_then(|a| a.iter().find(|a| a.get("key").and_then(Value::as_str) == Some(allocation)))
            .is_some_and(|a| a.get("doLog").is_some())
    }
}

impl Party for JsHabits {
    fn info(&self) -> &PartyInfo {
        &self.info
    }

    fn configure(&mut self, config: &ConfigSet) -> Result<(), PartyError> {
        self.document = match &config.flags {
            Source::Inline(document) => document.clone(),
            Source::Path(path) => {
                std::fs::read(path).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok()).unwrap_or(Value::Null)
            }
        };
        self.inner.configure(config)
    }

    fn evaluate(&mut self, cases: &[Question<'_>]) -> Vec<Reply> {
        let inputs: Vec<CaseInput> = cases
            .iter()
            .map(|case| {
                let mut input = case.input.clone();
                if let CaseInput::Flag(flag) = &mut input {
                    for value in flag.subject_attributes.values_mut() {
                        if let Some(n) = value.as_f64().filter(|_| value.is_number()) {
                            if ufc_harness::fuzz::feature::renders_differently_in_js(n) {
                                *value = Value::from(js_number_to_string(n));
                            }
                        }
                    }
                }
                input
            })
            .collect();
        let rewritten: Vec<Question<'_>> =
            cases.iter().zip(&inputs).map(|(case, input)| Question { id: case.id, input }).collect();
        let mut results = self.inner.evaluate(&rewritten);
        for (result, case) in results.iter_mut().zip(cases) {
            let CaseInput::Flag(flag) = case.input else { continue };
            let Ok(Answer::Observed(result)) = result else { continue };
            let matched = result
                .details
                .as_ref()
                .and_then(|d| d.matched_allocation.clone().flatten())
                .map(|allocation| allocation.key);
            if let Some(allocation) = matched {
                if !self.allocation_has_do_log(&flag.flag, &allocation) {
                    result.assignment_events.clear();
                }
            }
        }
        results
    }

    fn bench(&mut self, request: &BenchRequest) -> Result<Duration, PartyError> {
        self.inner.bench(request)
    }
}

fn reference_and_js_habits() -> Vec<Box<dyn Party>> {
    vec![Box::new(ReferenceParty::new(now())), Box::new(JsHabits::new())]
}

fn options() -> FuzzOptions {
    FuzzOptions { seed: 7, budget: Budget::Cases(3_000), batch_size: 32, ..FuzzOptions::default() }
}

fn allocation_count(finding: &Finding) -> usize {
    finding
        .scenario
        .flags
        .get("flags")
        .and_then(Value::as_object)
        .map_or(0, |flags| flags.values().map(|f| f["allocations"].as_array().map_or(0, Vec::len)).sum())
}

fn describe(report: &FuzzReport) -> String {
    report.findings.iter().map(|f| format!("  {} (x{})\n", f.signature.text(), f.occurrences)).collect()
}

#[test]
fn finds_minimizes_classifies_and_writes_replayable_divergences() {
    let mut parties = reference_and_js_habits();
    let report = fuzz(&mut parties, &options(), &|_| {});
    assert!(report.cases >= 3_000 && report.batches > 10, "{} cases in {} batches", report.cases, report.batches);
    assert!(!report.findings.is_empty(), "no findings in {} cases", report.cases);
    let listing = describe(&report);

    // Both divergences, told apart.
    let rendering = report.findings.iter().find(|f| {
        f.signature.field == Field::Value && f.signature.features.iter().any(|x| x.name() == "attr:number-exotic")
    });
    let rendering = rendering.unwrap_or_else(|| unreachable!("no number-rendering finding among:\n{listing}"));
    let rendering_ops = ["op:ONE_OF", "op:NOT_ONE_OF", "op:MATCHES", "op:NOT_MATCHES"];
    assert!(
        rendering.signature.features.iter().any(|x| rendering_ops.contains(&x.name().as_str())),
        "{}",
        rendering.signature.text()
    );
    let logging = report.findings.iter().find(|f| {
        f.signature.field == Field::AssignmentEvent && f.signature.features.iter().any(|x| x.name() == "doLog:absent")
    });
    let logging = logging.unwrap_or_else(|| unreachable!("no doLog finding among:\n{listing}"));
    assert!(logging.occurrences > 1, "the doLog divergence is everywhere; it was seen {} times", logging.occurrences);

    for finding in [rendering, logging] {
        assert_eq!(finding.signature.parties, vec!["js-habits".to_owned()]);
        assert_eq!(finding.disagreement.classes, vec![vec!["reference".to_owned()], vec!["js-habits".to_owned()]]);
        assert!(finding.scenario.flag_count() <= 1, "{}", finding.scenario.flags);
        assert!(allocation_count(finding) <= 2, "{}", finding.scenario.flags);
        assert!(finding.scenario.cases.len() <= 3, "{:?}", finding.scenario.cases);
        assert!(finding.minimize_steps > 0);
    }
    // The rendering finding's subject keeps only what matters: one exotic
    // number attribute.
    let CaseInput::Flag(case) = &rendering.scenario.cases[rendering.target] else { unreachable!("a flag finding") };
    assert_eq!(case.subject_attributes.len(), 1, "{:?}", case.subject_attributes);

    // Written out, each finding is a suite that replays the disagreement.
    let out = tempfile::tempdir().expect("a temporary directory");
    let written = write_findings(&report, out.path()).expect("findings are written");
    assert_eq!(written.len(), report.findings.len());
    let summary = std::fs::read_to_string(out.path().join("summary.md")).expect("summary.md");
    assert!(summary.contains(&rendering.signature.slug()), "{summary}");
    for finding in [rendering, logging] {
        let dir = out.path().join(finding.signature.slug());
        assert!(dir.join("finding.json").is_file());
        let recorded: Value =
            serde_json::from_slice(&std::fs::read(dir.join("finding.json")).expect("finding.json")).expect("JSON");
        assert_eq!(recorded["origin"]["seed"], 7);
        assert!(recorded["cases"][0]["answers"]["js-habits"].is_object(), "{recorded}");
        let suite = Suite::load(&dir).expect("the finding loads as a suite");
        assert!(suite.load_errors.is_empty(), "{:?}", suite.load_errors);
        assert_eq!(suite.cases.len(), finding.scenario.cases.len());
        let result = run::run(&suite, reference_and_js_habits(), &RunSettings::default(), &|_, _, _| {});
        let of = |party: &'static str| result.outcomes.iter().filter(move |o| o.party == party);
        assert!(of("reference").all(|o| o.status == Status::Passed), "{:?}", result.outcomes);
        let replayed = of("js-habits").any(|o| {
            o.status == Status::Failed
                && o.differences.iter().any(|d| {
                    if finding.signature.field == Field::Value {
                        d.field == "value"
                    } else {
                        d.field.starts_with("assignmentEvents")
                    }
                })
        });
        assert!(replayed, "{} did not replay: {:?}", finding.signature.text(), result.outcomes);
    }
}

fn fuzz_summary_schema() -> jsonschema::Validator {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/report-schemas/fuzz-summary.schema.json");
    let schema: Value = serde_json::from_slice(&std::fs::read(path).expect("the schema is readable")).expect("JSON");
    jsonschema::draft202012::new(&schema).expect("the schema compiles")
}

/// A way to spoil a document, and what it is.
type Alteration = (&'static str, fn(&mut Value));

fn schema_errors(validator: &jsonschema::Validator, document: &Value) -> Vec<String> {
    validator.iter_errors(document).map(|e| format!("{} at {}", e, e.instance_path())).collect()
}

#[test]
fn summary_json_follows_its_schema_and_says_what_the_report_says() {
    let options = FuzzOptions { budget: Budget::Cases(600), ..options() };
    let report = fuzz(&mut reference_and_js_habits(), &options, &|_| {});
    assert!(!report.findings.is_empty(), "no findings in {} cases", report.cases);
    let out = tempfile::tempdir().expect("a temporary directory");
    write_findings(&report, out.path()).expect("findings are written");
    let text = std::fs::read(out.path().join("summary.json")).expect("summary.json next to summary.md");
    let summary: Value = serde_json::from_slice(&text).expect("summary.json is JSON");

    let validator = fuzz_summary_schema();
    let errors = schema_errors(&validator, &summary);
    assert!(errors.is_empty(), "summary.json does not follow its schema:\n{}\n{summary:#}", errors.join("\n"));
    // The typed summary reads it back unchanged.
    let typed: FuzzSummary = serde_json::from_value(summary.clone()).expect("summary.json reads as a FuzzSummary");
    assert_eq!(serde_json::to_value(&typed).expect("serializable"), summary);

    assert_eq!(typed.report_version, FUZZ_SUMMARY_VERSION);
    assert_eq!(
        (typed.seed, typed.budget, typed.batches, typed.cases),
        (7, SummaryBudget::Cases(600), report.batches, report.cases)
    );
    let names: Vec<&str> = typed.parties.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["reference", "js-habits"]);
    assert!(typed.parties.iter().all(|p| p.cases_answered > 0 && p.cases_per_second > 0.0), "{:?}", typed.parties);
    assert_eq!(typed.findings.len(), report.findings.len());
    for (entry, finding) in typed.findings.iter().zip(&report.findings) {
        assert_eq!(entry.signature, finding.signature.text());
        assert_eq!(entry.cause.as_deref(), finding.signature.cause());
        assert_eq!(entry.field, finding.signature.field);
        assert_eq!(entry.parties, ["js-habits"]);
        assert_eq!(entry.minimized.cases, finding.scenario.cases.len());
        assert!(out.path().join(&entry.suite).join("finding.json").is_file(), "{}", entry.suite);
    }

    // Documents that are not summaries fail: each alteration alone.
    let alterations: [Alteration; 6] = [
        ("a missing seed", |s| drop(s.as_object_mut().map(|m| m.remove("seed")))),
        ("a version given as text", |s| s["reportVersion"] = Value::from("1")),
        ("an unknown field", |s| s["findings"][0]["field"] = Value::from("colour")),
        ("an extra property", |s| s["parties"][0]["speed"] = Value::from(1)),
        ("a budget of both kinds", |s| s["budget"]["durationSeconds"] = Value::from(1.5)),
        ("a negative count", |s| s["findings"][0]["occurrences"] = Value::from(-1)),
    ];
    for (what, alter) in alterations {
        let mut altered = summary.clone();
        alter(&mut altered);
        assert!(!validator.is_valid(&altered), "{what} passed validation");
    }
    // A duration budget is the other shape the schema allows.
    let mut timed = summary.clone();
    timed["budget"] = serde_json::json!({"durationSeconds": 0.3});
    assert!(schema_errors(&validator, &timed).is_empty());
}

#[test]
fn the_same_seed_generates_the_same_batches_and_findings() {
    let options = options();
    for batch in [0, 1, 17] {
        assert_eq!(scenario_for_batch(&options, batch), scenario_for_batch(&options, batch));
    }
    assert_ne!(scenario_for_batch(&options, 3), scenario_for_batch(&options, 4));
    let other_seed = FuzzOptions { seed: 8, ..options.clone() };
    assert_ne!(scenario_for_batch(&options, 3), scenario_for_batch(&other_seed, 3));

    let short = FuzzOptions { budget: Budget::Cases(600), ..options };
    let signatures =
        |report: FuzzReport| -> Vec<String> { report.findings.iter().map(|f| f.signature.text()).collect() };
    let first = signatures(fuzz(&mut reference_and_js_habits(), &short, &|_| {}));
    let second = signatures(fuzz(&mut reference_and_js_habits(), &short, &|_| {}));
    assert!(!first.is_empty());
    assert_eq!(first, second);
}

#[test]
fn agreeing_parties_make_no_findings_and_report_throughput() {
    let mut parties: Vec<Box<dyn Party>> =
        vec![Box::new(ReferenceParty::new(now())), Box::new(ReferenceParty::new(now()))];
    let options = FuzzOptions { budget: Budget::Cases(1_000), malformed: true, ..options() };
    let progress_calls = std::sync::atomic::AtomicU64::new(0);
    let report = fuzz(&mut parties, &options, &|_| {
        progress_calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    });
    assert_eq!(report.disagreements, 0, "{}", describe(&report));
    assert!(report.findings.is_empty());
    assert_eq!(progress_calls.into_inner(), report.batches);
    assert_eq!(report.throughput.len(), 2);
    for stats in &report.throughput {
        assert!(stats.cases > 0 && stats.cases_per_second() > 0.0, "{stats:?}");
    }
    let out = tempfile::tempdir().expect("a temporary directory");
    write_findings(&report, out.path()).expect("written");
    let summary = std::fs::read_to_string(out.path().join("summary.md")).expect("summary.md");
    assert!(summary.contains("None: every party agreed"), "{summary}");
}

/// The reference, except that it never picks a bandit action.
struct NoActions {
    inner: ReferenceParty,
    info: PartyInfo,
}

impl Party for NoActions {
    fn info(&self) -> &PartyInfo {
        &self.info
    }

    fn configure(&mut self, config: &ConfigSet) -> Result<(), PartyError> {
        self.inner.configure(config)
    }

    fn evaluate(&mut self, cases: &[Question<'_>]) -> Vec<Reply> {
        let mut results = self.inner.evaluate(cases);
        for (result, case) in results.iter_mut().zip(cases) {
            let Ok(Answer::Observed(result)) = result else { continue };
            if let (CaseInput::Bandit(_), Value::Object(value)) = (case.input, &mut result.value.0) {
                value.insert("action".into(), Value::Null);
                result.bandit_events.clear();
            }
        }
        results
    }

    fn bench(&mut self, request: &BenchRequest) -> Result<Duration, PartyError> {
        self.inner.bench(request)
    }
}

#[test]
fn bandit_disagreements_become_bandit_suites() {
    let inner = ReferenceParty::new(now());
    let mut info = inner.info().clone();
    info.name = "no-actions".into();
    let mut parties: Vec<Box<dyn Party>> =
        vec![Box::new(ReferenceParty::new(now())), Box::new(NoActions { inner, info })];
    let options = FuzzOptions { seed: 11, budget: Budget::Cases(800), batch_size: 16, ..FuzzOptions::default() };
    let report = fuzz(&mut parties, &options, &|_| {});
    let finding = report.findings.iter().find(|f| f.is_bandit() && f.signature.field == Field::Value);
    let finding = finding.unwrap_or_else(|| unreachable!("no bandit finding among:\n{}", describe(&report)));
    assert_eq!(finding.scenario.cases.len(), 1);
    let CaseInput::Bandit(case) = &finding.scenario.cases[0] else { unreachable!("a bandit finding") };
    assert_eq!(case.actions.len(), 1, "one action is enough to disagree: {case:?}");

    let out = tempfile::tempdir().expect("a temporary directory");
    write_findings(&report, out.path()).expect("written");
    let dir = out.path().join(finding.signature.slug());
    assert!(dir.join("ufc/bandit-flags-v1.json").is_file());
    assert!(dir.join("ufc/bandit-models-v1.json").is_file());
    let suite = Suite::load(&dir).expect("the finding loads as a suite");
    assert_eq!(suite.cases.len(), 1);
    let inner = ReferenceParty::new(now());
    let mut info = inner.info().clone();
    info.name = "no-actions".into();
    let replay: Vec<Box<dyn Party>> = vec![Box::new(ReferenceParty::new(now())), Box::new(NoActions { inner, info })];
    let result = run::run(&suite, replay, &RunSettings::default(), &|_, _, _| {});
    let statuses: Vec<(&str, Status)> = result.outcomes.iter().map(|o| (o.party.as_str(), o.status)).collect();
    assert_eq!(statuses, vec![("reference", Status::Passed), ("no-actions", Status::Failed)]);
}

#[test]
fn a_duration_budget_stops_the_run() {
    let mut parties: Vec<Box<dyn Party>> = vec![Box::new(ReferenceParty::new(now()))];
    let options = FuzzOptions { budget: Budget::Duration(std::time::Duration::from_millis(300)), ..options() };
    let started = std::time::Instant::now();
    let report = fuzz(&mut parties, &options, &|_| {});
    assert!(report.batches > 0);
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
    assert!(report.findings.is_empty(), "one party cannot disagree with itself");
}

/// JS number rendering again, for a party that says whether it reads the
/// CLIENT format.
fn js_renderer(reads_client_format: bool) -> Box<dyn Party> {
    let mut party = JsHabits::new();
    party.info.capabilities = Capabilities::new(
        party.info.capabilities.iter().filter(|c| reads_client_format || **c != Capability::Obfuscated).cloned(),
    );
    Box::new(party)
}

#[test]
fn obfuscated_fuzzing_gives_client_documents_to_parties_that_read_them() {
    let options = FuzzOptions { obfuscated: true, budget: Budget::Cases(1_500), ..options() };
    for batch in 0..20 {
        let scenario = scenario_for_batch(&options, batch);
        assert!(scenario.obfuscated && scenario.bandit_models.is_none(), "batch {batch}: no bandits, all CLIENT");
        let Source::Inline(document) = scenario.config_set().flags else {
            unreachable!("fuzz configurations are inline")
        };
        assert_eq!(document["format"], "CLIENT");
        let key = scenario.flags["flags"].as_object().and_then(|f| f.keys().next().cloned()).unwrap_or_default();
        assert!(document["flags"].get(ufc_reference::obfuscation::md5_hex(&key)).is_some(), "batch {batch}: {key}");
    }

    // A party that cannot read the format sits every case out.
    let mut parties: Vec<Box<dyn Party>> = vec![Box::new(ReferenceParty::new(now())), js_renderer(false)];
    let report = fuzz(&mut parties, &options, &|_| {});
    assert!(report.findings.is_empty(), "{}", describe(&report));

    // One that can is compared, and its findings replay with --obfuscated.
    let mut parties: Vec<Box<dyn Party>> = vec![Box::new(ReferenceParty::new(now())), js_renderer(true)];
    let report = fuzz(&mut parties, &options, &|_| {});
    let listing = describe(&report);
    let rendering =
        report.findings.iter().find(|f| f.signature.features.iter().any(|x| x.name() == "attr:number-exotic"));
    let rendering = rendering.unwrap_or_else(|| unreachable!("no number-rendering finding among:\n{listing}"));
    assert!(rendering.scenario.obfuscated);
    assert!(rendering.reproduce_command(&options).contains("--obfuscated"));
    let out = tempfile::tempdir().expect("a temporary directory");
    write_findings(&report, out.path()).expect("findings are written");
    let dir = out.path().join(rendering.signature.slug());
    assert!(dir.join("ufc/flags-v1-obfuscated.json").is_file());
    let suite = Suite::load(&dir).expect("the finding loads as a suite");
    let suite = suite.into_obfuscated().expect("the finding has its CLIENT twin");
    let parties: Vec<Box<dyn Party>> = vec![Box::new(ReferenceParty::new(now())), js_renderer(true)];
    let result = run::run(&suite, parties, &RunSettings::default(), &|_, _, _| {});
    let replayed = result.outcomes.iter().any(|o| o.party == "js-habits" && o.status == Status::Failed);
    assert!(replayed, "did not replay: {:?}", result.outcomes);
}

#[test]
fn shares_of_a_seed_fuzz_disjoint_batches() {
    let whole = FuzzOptions { budget: Budget::Cases(600), ..options() };
    let mut batches_of_shares = Vec::new();
    for k in 1..=2 {
        let partition = ufc_harness::partition::Partition::new(k, 2);
        let share = FuzzOptions { partition, ..whole.clone() };
        let report = fuzz(&mut reference_and_js_habits(), &share, &|_| {});
        assert!(!report.findings.is_empty(), "share {k}/2 finds the JS habits too");
        for finding in &report.findings {
            // Share k runs batches k-1, k-1+2, ...: the batch numbers of the whole campaign.
            assert_eq!(finding.batch % 2, u64::from(k - 1), "share {k}/2 ran batch {}", finding.batch);
            assert!(finding.reproduce_command(&share).contains(&format!("--partition {k}/2")));
        }
        batches_of_shares.push(report.findings.iter().map(|f| f.batch).collect::<Vec<_>>());
    }
    assert!(batches_of_shares[0].iter().all(|b| !batches_of_shares[1].contains(b)));
}
