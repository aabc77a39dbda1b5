//! `ufc-harness history`: one suite across every published version of an
//! SDK in a range (`ufc_harness::history`), written as Markdown, HTML and
//! JSON, with a summary on stdout.

use std::path::PathBuf;

use anyhow::{anyhow, Context};
use ufc_harness::history::{self, HistoryOptions, Versions};
use ufc_harness::report;
use ufc_protocol::exit_codes;

use super::parse_now;

#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  ufc-harness history --sdk python --versions 3.0.0..4.4.1     # writes reports/history-python.{md,html,json}
  ufc-harness history --sdk python --versions 4.3.0..4.4.1 --suite ../shared/eppo-sdk-test-data --out /tmp/h
  ufc-harness history --sdk rust --versions 3.0.1,4.0.1,5.2.1  # chosen releases
  ufc-harness adapters versions rust                           # what the registry serves

For Python the range spans both adapters: 3.x releases through python-pure, 4.x through python.
A version no adapter can drive is listed as skipped with the reason.")]
pub(super) struct HistoryArgs {
    /// The SDK, by its bundled adapter's name.
    #[arg(long, value_name = "NAME")]
    sdk: String,
    /// The versions to run: FROM..TO (inclusive: every release the registry serves in between), or A,B,C.
    #[arg(long, value_name = "FROM..TO|A,B,C")]
    versions: String,
    /// Suite directory; default: the built-in suite.
    #[arg(long, value_name = "DIR")]
    suite: Option<PathBuf>,
    /// Folder for history-<sdk>.{md,html,json}.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    out: PathBuf,
    /// Fix the reference's clock (RFC 3339).
    #[arg(long, value_name = "RFC3339")]
    now: Option<String>,
    /// Seconds an adapter has to start and answer `hello`.
    #[arg(long, value_name = "SECS", default_value = "60")]
    startup_timeout: f64,
}

pub(super) fn history_command(args: HistoryArgs) -> anyhow::Result<i32> {
    let versions = Versions::parse(&args.versions)
        .map_err(|e| anyhow!("--versions {:?}: {e}; expected FROM..TO or A,B,C, e.g. 3.0.0..4.4.1", args.versions))?;
    let options = HistoryOptions {
        sdk: args.sdk.clone(),
        versions,
        suite: args.suite.clone().unwrap_or_else(ufc_harness::suite::builtin_root),
        now: parse_now(args.now.as_deref())?,
        adapter_options: ufc_harness::party::adapter::AdapterOptions {
            startup_timeout: std::time::Duration::from_secs_f64(args.startup_timeout.max(0.1)),
            ..Default::default()
        },
    };
    let finished = history::history(&options)?;
    let command = format!("ufc-harness history --sdk {} --versions {}", args.sdk, args.versions);
    let stem = args.out.join(format!("history-{}", args.sdk));
    for (extension, text) in [
        ("md", report::history::markdown(&finished, &command)),
        ("html", report::history::html(&finished)),
        ("json", report::history::json(&finished)),
    ] {
        let path = stem.with_extension(extension);
        report::write_atomically(&path, text.as_bytes()).with_context(|| format!("writing {}", path.display()))?;
    }
    out!("{}", report::history::text(&finished));
    outln!("wrote {}.{{md,html,json}}", stem.display());
    Ok(exit_codes::SUCCESS)
}
