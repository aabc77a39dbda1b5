//! `ufc-harness bench`: every party's in-process loop over the same flag,
//! subject keys and attributes, in one run, as evaluations per second and
//! as a ratio to the reference. Writes the table to `reports/bench.md`.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{bail, Context};
use ufc_harness::party::reference::ReferenceParty;
use ufc_harness::party::{ConfigSet, Party};
use ufc_harness::report;
use ufc_harness::session::Session;
use ufc_harness::suite::{Case, Suite};
use ufc_protocol::exit_codes;
use ufc_protocol::{
    ActionInput, BanditCase, BenchMode, BenchRequest, BenchSubject, Capability, CaseInput, VariationType,
};

use super::parse_now;
use super::parties::{self, PartyArgs};

#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  ufc-harness bench --sdk python,node,rust
  ufc-harness bench --sdk rust --flag kill-switch --n 200000
  ufc-harness bench --suite . --flag op-regex --bandit-flag bf-ties")]
pub(super) struct BenchArgs {
    #[command(flatten)]
    parties: PartyArgs,
    /// Suite whose configuration and subjects are used; default: the shared
    /// Eppo data when present, else the built-in suite.
    #[arg(long, value_name = "DIR")]
    suite: Option<PathBuf>,
    /// The flag for the assign and details loops.
    #[arg(long, default_value = "new-user-onboarding")]
    flag: String,
    /// The flag for the bandit loop.
    #[arg(long, default_value = "banner_bandit_flag")]
    bandit_flag: String,
    /// Evaluations per loop (a tenth as many run first, untimed, to warm up).
    #[arg(long, default_value = "100000")]
    n: u64,
    /// Where to write the Markdown table; "-" for nowhere.
    #[arg(long, value_name = "FILE", default_value = "reports/bench.md")]
    out: String,
}

struct Workload {
    mode: BenchMode,
    config: ConfigSet,
    request: BenchRequest,
}

fn workloads(suite: &Suite, args: &BenchArgs) -> anyhow::Result<Vec<Workload>> {
    let mut out = Vec::new();
    let config_of = |group: usize| suite.groups[group].config_set();
    let flag_cases: Vec<_> = suite
        .cases
        .iter()
        .filter_map(|c| match &c.input {
            CaseInput::Flag(f) if f.flag == args.flag => Some((c, f)),
            _ => None,
        })
        .collect();
    let flag_cases = first_file_only(flag_cases);
    let Some((case, first)) = flag_cases.first() else {
        bail!("no test case in {} asks for flag {:?}; pick one with --flag", suite.root.display(), args.flag);
    };
    let subjects: Vec<BenchSubject> = flag_cases
        .iter()
        .map(|(_, f)| BenchSubject {
            subject_key: f.subject_key.clone(),
            subject_attributes: serde_json::Value::Object(f.subject_attributes.clone()),
        })
        .collect();
    for mode in [BenchMode::Assign, BenchMode::Details] {
        out.push(Workload {
            mode,
            config: config_of(case.group),
            request: BenchRequest {
                mode,
                flag: args.flag.clone(),
                variation_type: first.variation_type,
                default_value: first.default_value.clone(),
                subjects: subjects.clone(),
                actions: Vec::new(),
                iterations: args.n,
            },
        });
    }
    let bandit_cases: Vec<_> = suite
        .cases
        .iter()
        .filter_map(|c| match &c.input {
            CaseInput::Bandit(b) if b.flag == args.bandit_flag && !b.actions.is_empty() && well_typed(b) => {
                Some((c, b))
            }
            _ => None,
        })
        .collect();
    let bandit_cases = first_file_only(bandit_cases);
    if let Some((case, first)) = bandit_cases.first() {
        let actions: Vec<ActionInput> = first.actions.clone();
        out.push(Workload {
            mode: BenchMode::Bandit,
            config: config_of(case.group),
            request: BenchRequest {
                mode: BenchMode::Bandit,
                flag: args.bandit_flag.clone(),
                variation_type: VariationType::String,
                default_value: first.default_value.clone(),
                subjects: bandit_cases
                    .iter()
                    .map(|(_, b)| BenchSubject {
                        subject_key: b.subject_key.clone(),
                        subject_attributes: serde_json::to_value(&b.subject_attributes).unwrap_or_default(),
                    })
                    .collect(),
                actions,
                iterations: args.n,
            },
        });
    } else {
        eprintln!("note: no bandit case for {:?} in this suite; the bandit loop is skipped", args.bandit_flag);
    }
    Ok(out)
}

/// The cases from the same test file as the first one: one file's subjects,
/// as its test file lists them.
fn first_file_only<T>(cases: Vec<(&Case, T)>) -> Vec<(&Case, T)> {
    let Some(file) = cases.first().map(|(case, _)| case.file.clone()) else { return cases };
    cases.into_iter().filter(|(case, _)| case.file == file).collect()
}

/// Whether a bandit case's subject and actions are typed as their kinds say.
/// The `*.dynamic-typing.json` files mistype attributes on purpose and some
/// SDKs refuse those calls outright; a speed loop wants inputs every SDK
/// accepts, not a type error timed 100,000 times.
fn well_typed(case: &BanditCase) -> bool {
    case.subject_attributes.is_well_typed() && case.actions.iter().all(|a| a.attributes.is_well_typed())
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    format!("{cpu}, {cores} cores available, {} {}", std::env::consts::OS, std::env::consts::ARCH)
}

pub(super) fn bench_command(args: BenchArgs) -> anyhow::Result<i32> {
    let root = match &args.suite {
        Some(dir) => dir.clone(),
        None => {
            let shared = ufc_harness::suite::builtin_root().join("..").join("shared").join("eppo-sdk-test-data");
            if shared.is_dir() {
                shared
            } else {
                ufc_harness::suite::builtin_root()
            }
        }
    };
    let suite = Suite::load(&root)?;
    let loads = workloads(&suite, &args)?;
    let specs = parties::resolve(&args.parties)?;
    let mut all: Vec<Box<dyn Party>> = vec![Box::new(ReferenceParty::new(parse_now(None)?))];
    all.extend(parties::spawn(&specs, &args.parties));

    // rows: (mode, party, sdk label, evaluations per second or why not)
    let mut rows: Vec<(BenchMode, String, String, Result<f64, String>)> = Vec::new();
    for load in &loads {
        for party in all.iter_mut() {
            let mut session = Session::new(party.as_mut());
            let info = session.info().clone();
            let label = format!("{} {}", info.sdk.package.as_deref().unwrap_or(&info.sdk.name), info.sdk.version);
            let measured = if !info.can(&Capability::Bench) {
                Err("no bench capability".to_owned())
            } else if load.mode == BenchMode::Bandit && !info.can(&Capability::Bandits) {
                Err("no bandit support".to_owned())
            } else {
                eprintln!("bench: {} {} ...", info.name, load.mode);
                session.configure("the bench configuration", &load.config).and_then(|_| {
                    let warmup =
                        BenchRequest { iterations: (load.request.iterations / 10).max(1), ..load.request.clone() };
                    session.bench(&warmup).map_err(|e| e.to_string())?;
                    let elapsed = session.bench(&load.request).map_err(|e| e.to_string())?;
                    Ok(load.request.iterations as f64 / elapsed.as_secs_f64().max(1e-9))
                })
            };
            rows.push((load.mode, info.name.clone(), label, measured));
        }
    }

    let mut table = String::new();
    let _ = writeln!(table, "| mode | party | SDK | evaluations/s | vs reference | reference is |");
    let _ = writeln!(table, "|---|---|---|---:|---:|---:|");
    for (mode, party, label, measured) in &rows {
        let reference =
            rows.iter().find(|r| r.0 == *mode && r.1 == "reference").and_then(|r| r.3.as_ref().ok()).copied();
        match measured {
            Ok(rate) => {
                let (ratio, inverse) = match reference {
                    Some(r) => (format!("{:.3}×", rate / r), format!("{:.1}× faster", r / rate)),
                    None => ("–".into(), "–".into()),
                };
                let inverse = if party == "reference" { "–".into() } else { inverse };
                let _ = writeln!(table, "| {mode} | {party} | {label} | {rate:.0} | {ratio} | {inverse} |");
            }
            Err(why) => {
                let _ = writeln!(table, "| {mode} | {party} | {label} | – ({why}) | – | – |");
            }
        }
    }
    out!("{table}");
    if args.out != "-" {
        let flag_subjects = loads.first().map_or(0, |l| l.request.subjects.len());
        let mut doc = String::new();
        let _ = writeln!(doc, "# Evaluation throughput: the reference and the SDKs\n");
        let _ = writeln!(
            doc,
            "Generated by `ufc-harness bench --sdk {} --n {}` on {}.\n",
            args.parties.sdk.join(","),
            args.n,
            chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
        );
        let _ = writeln!(doc, "Machine: {}.\n", machine());
        let _ = writeln!(
            doc,
            "Each party runs its own in-process loop (the `bench` op of the adapter protocol; no pipe in the timing) over the same \
             flag, subject keys and attributes: `{}` with the {flag_subjects} subjects of its test file for `assign` (the plain typed \
             call) and `details`, and `{}` with its test subjects and the first subject's actions for `bandit`. Every loop builds \
             the events a logger would receive; SDK loggers are no-ops. A tenth of the iterations run first as warm-up. Ratios \
             are measured in this one run.\n",
            args.flag, args.bandit_flag
        );
        doc.push_str(&table);
        let path = PathBuf::from(&args.out);
        report::write_atomically(&path, doc.as_bytes()).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(exit_codes::SUCCESS)
}
