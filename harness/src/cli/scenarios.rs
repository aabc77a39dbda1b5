//! `ufc-harness scenarios`: SDK lifecycle and logging scenarios against a
//! mock Eppo CDN (`test-cases/scenarios/`), reported like `run`.

use std::path::PathBuf;

use ufc_harness::partial;
use ufc_harness::partition::Partition;
use ufc_harness::run::RunSettings;
use ufc_harness::scenario::pipeline::{run_scenarios, run_scenarios_partition, ScenarioOptions};

use super::gate::Finish;
use super::parties::PartyArgs;
use super::run::Format;

#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  ufc-harness scenarios --sdk python,node,rust
  ufc-harness scenarios --sdk node --filter 'poll-*' --junit scenarios.xml
  ufc-harness scenarios --adapter fake='ufc-fake-adapter --never-repoll'
  ufc-harness scenarios --sdk node --partition 2/3 --json part-2.json   # one of 3 jobs; then `ufc-harness merge`

Each SDK gets its own mock CDN on 127.0.0.1 per scenario; SDKs run concurrently. Case ids are
scenario/<name>/<step>; a failing step carries the CDN's request log. Adapters need the \"online\"
capability (docs/protocol.md section 7); scenarios needing a knob the SDK lacks are skipped with the reason.")]
pub(super) struct ScenariosArgs {
    /// Folder of scenario files; default: the built-in test-cases/scenarios.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    #[command(flatten)]
    parties: PartyArgs,
    /// Run only scenarios whose name matches this glob.
    #[arg(long, value_name = "GLOB")]
    filter: Option<String>,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    #[command(flatten)]
    judging: super::gate::Judging,
    #[command(flatten)]
    finish: Finish,
    /// Run only share K of N of the scenarios (by a stable hash of each
    /// scenario's name; a scenario's steps stay together), for one of N CI
    /// jobs; `ufc-harness merge` puts their JSON reports together.
    #[arg(long, value_name = "K/N")]
    partition: Option<Partition>,
}

pub(super) fn scenarios_command(args: ScenariosArgs) -> anyhow::Result<i32> {
    let options = ScenarioOptions {
        dir: args.dir.clone().unwrap_or_else(ufc_harness::scenario::builtin_dir),
        filter: args.filter.clone(),
        parties: args.parties.selection(),
        known_failures: args.judging.known_failures.clone(),
        strict: !args.judging.no_strict,
        settings: RunSettings { fail_on: args.judging.fail_on.clone(), repeat: 1 },
    };
    args.finish.check()?;
    let (result, partition) = match args.partition {
        Some(partition) => {
            let (result, case_ids) = run_scenarios_partition(&options, partition)?;
            (result, Some(partial::keyed_partition_report(partition, case_ids)))
        }
        None => (run_scenarios(&options)?, None),
    };
    let mut json = ufc_harness::report::json::report(&result);
    json.partition = partition;
    args.finish.finish(&result, json, args.format)
}
