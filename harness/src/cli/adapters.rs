//! `ufc-harness adapters`: install the bundled adapters into the cache
//! folder (idempotent, pinned versions or NAME@VERSION), list what is
//! installed, and list the versions a registry serves.

use clap::Subcommand;
use ufc_harness::install;
use ufc_protocol::exit_codes;

#[derive(clap::Args)]
pub(super) struct AdaptersArgs {
    #[command(subcommand)]
    action: AdaptersAction,
}

#[derive(Subcommand)]
enum AdaptersAction {
    /// Install bundled adapters (all when none is named). Safe to repeat.
    #[command(after_help = "\
Examples:
  ufc-harness adapters install
  ufc-harness adapters install python node
  ufc-harness adapters install python@4.3.1      # another published version, beside the pinned one
  UFC_HARNESS_CACHE=/tmp/adapters ufc-harness adapters install rust")]
    Install {
        /// Adapters to install: python, node, rust, ...; NAME@VERSION installs that SDK version.
        names: Vec<String>,
    },
    /// Show the bundled adapters and whether each is installed.
    List,
    /// List the SDK versions the adapter's registry serves (its `install.sh --list-versions`).
    #[command(after_help = "\
Examples:
  ufc-harness adapters versions java       # what `java@VERSION` and `history --sdk java` can ask for")]
    Versions {
        /// A bundled adapter.
        name: String,
    },
}

pub(super) fn adapters_command(args: AdaptersArgs) -> anyhow::Result<i32> {
    let cache = install::cache_dir();
    match args.action {
        AdaptersAction::Install { names } => {
            let names: Vec<String> =
                if names.is_empty() { install::BUNDLED.iter().map(|s| s.to_string()).collect() } else { names };
            for name in &names {
                let command = install::install(name, &cache)?;
                outln!("{name}: {}", command.join(" "));
            }
        }
        AdaptersAction::Versions { name } => {
            for version in install::published_versions(&name)? {
                outln!("{version}");
            }
        }
        AdaptersAction::List => {
            outln!("cache: {}", cache.display());
            for name in install::BUNDLED {
                match install::installed(name, &cache) {
                    install::Installed::Current(command) => outln!("{name}: installed ({})", command.join(" ")),
                    install::Installed::Stale => {
                        outln!("{name}: installed from other sources (reinstalled on next use)")
                    }
                    install::Installed::Missing => outln!("{name}: not installed"),
                }
            }
        }
    }
    Ok(exit_codes::SUCCESS)
}
