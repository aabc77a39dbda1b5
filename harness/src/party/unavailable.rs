//! A party that could not be started. It stands in for the adapter so that
//! every case it would have answered is reported as errored, with the
//! reason, instead of the whole run stopping.

use super::{ConfigSet, Party, PartyInfo};
use crate::protocol::{capability, BenchRequest, CaseResult, SdkInfo, WireCase};

/// Answers every request with the start-up error.
pub struct UnavailableParty {
    info: PartyInfo,
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
                capabilities: vec![capability::ASSIGN.into(), capability::BANDITS.into()],
            },
            reason,
        }
    }
}

impl Party for UnavailableParty {
    fn info(&self) -> &PartyInfo {
        &self.info
    }

    fn configure(&mut self, _: &ConfigSet) -> Result<(), String> {
        Err(format!("the adapter did not start: {}", self.reason))
    }

    fn evaluate(&mut self, cases: &[WireCase<'_>]) -> Vec<CaseResult> {
        cases
            .iter()
            .map(|c| CaseResult::fault(&c.case_id, format!("the adapter did not start: {}", self.reason)))
            .collect()
    }

    fn bench(&mut self, _: &BenchRequest) -> Result<u64, String> {
        Err(format!("the adapter did not start: {}", self.reason))
    }
}
