//! A party that could not be started. It stands in for the adapter so that
//! every case it would have answered is reported as errored, with the
//! reason, instead of the whole run stopping.

use std::time::Duration;

use ufc_protocol::{BenchRequest, Capabilities, Capability, InitOption, InitRequest, OnlineInfo, SdkInfo};

use super::{ConfigSet, Initialized, Lost, Party, PartyError, PartyInfo, Question, Reply};

/// Answers every request with the start-up error.
pub struct UnavailableParty {
    info: PartyInfo,
    online: OnlineInfo,
    reason: String,
}

impl UnavailableParty {
    /// A stand-in for `name`, which failed to start because of `reason`.
    pub fn new(name: &str, reason: String) -> UnavailableParty {
        UnavailableParty {
            info: PartyInfo {
                name: name.to_owned(),
                sdk: SdkInfo { name: name.to_owned(), package: None, version: "unavailable".into() },
                // Claim the case capabilities so its cases count as errored, not skipped.
                // And online, with every knob, so its scenarios error too.
                capabilities: Capabilities::new([Capability::Assign, Capability::Bandits, Capability::Online]),
            },
            online: OnlineInfo { min_poll_interval_ms: None, poll_jitter: None, options: InitOption::KNOWN.to_vec() },
            reason,
        }
    }

    fn message(&self) -> String {
        format!("the adapter did not start: {}", self.reason)
    }
}

impl Party for UnavailableParty {
    fn info(&self) -> &PartyInfo {
        &self.info
    }

    fn configure(&mut self, _: &ConfigSet) -> Result<(), PartyError> {
        Err(PartyError::Configuration(self.message()))
    }

    fn evaluate(&mut self, batch: &[Question<'_>]) -> Vec<Reply> {
        batch.iter().map(|_| Err(Lost::new(self.message()))).collect()
    }

    fn bench(&mut self, _: &BenchRequest) -> Result<Duration, PartyError> {
        Err(PartyError::Failed(self.message()))
    }

    fn online(&self) -> Option<&OnlineInfo> {
        Some(&self.online)
    }

    fn init(&mut self, _: &InitRequest) -> Result<Initialized, PartyError> {
        Err(PartyError::Failed(self.message()))
    }
}
