//! The options every SDK-driving command shares, turned into a
//! [`PartySelection`] (resolving and starting parties is library code,
//! `ufc_harness::parties`).

use std::path::PathBuf;
use std::time::Duration;

use ufc_harness::parties::{self, PartySelection, PartySpec};
use ufc_harness::party::adapter::AdapterOptions;
use ufc_harness::party::Party;

/// Options shared by every command that drives SDKs.
#[derive(clap::Args, Clone)]
pub(super) struct PartyArgs {
    /// SDKs to drive: bundled adapters (python, node, rust) or names from the config file.
    #[arg(long, value_delimiter = ',', value_name = "NAME,...")]
    pub sdk: Vec<String>,
    /// Any adapter program: NAME=COMMAND (run by `sh -c`). Repeatable.
    #[arg(long, value_name = "NAME=COMMAND")]
    pub adapter: Vec<String>,
    /// Adapter config file (default: ./ufc-harness.toml when present).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Seconds an adapter has to start and answer `hello`.
    #[arg(long, value_name = "SECS", default_value = "60")]
    pub startup_timeout: f64,
    /// Seconds an adapter has to answer each request.
    #[arg(long, value_name = "SECS", default_value = "30")]
    pub request_timeout: f64,
    /// Restarts allowed per adapter after a crash, a hang or a failed start.
    #[arg(long, value_name = "N", default_value = "3")]
    pub max_restarts: u32,
}

impl PartyArgs {
    /// The selection these options make.
    pub fn selection(&self) -> PartySelection {
        PartySelection {
            sdks: self.sdk.clone(),
            adapters: self.adapter.clone(),
            config_file: self.config.clone(),
            options: AdapterOptions {
                startup_timeout: Duration::from_secs_f64(self.startup_timeout.max(0.1)),
                request_timeout: Duration::from_secs_f64(self.request_timeout.max(0.1)),
                max_restarts: self.max_restarts,
                ..AdapterOptions::default()
            },
        }
    }
}

/// The start commands, installing bundled adapters that are missing.
pub(super) fn resolve(args: &PartyArgs) -> anyhow::Result<Vec<PartySpec>> {
    Ok(args.selection().resolve()?)
}

/// Starts every SDK party at once.
pub(super) fn spawn(specs: &[PartySpec], args: &PartyArgs) -> Vec<Box<dyn Party>> {
    parties::spawn(specs, &args.selection().options)
}
