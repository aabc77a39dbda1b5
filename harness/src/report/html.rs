//! `run --html`: the run as the report page ([`super::page`]): a summary
//! per party, the cause × party matrix and every case, filterable, each
//! failing cell opening its diff.

use crate::run::RunResult;

/// Renders the self-contained page of `result`.
pub fn render(result: &RunResult) -> String {
    super::page::render(&super::page::run::page(result, super::page::run::Extras::default()))
}
