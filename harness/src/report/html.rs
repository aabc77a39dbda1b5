//! `run --html`: the run as the report page ([`super::page`]): a summary
//! per party, the cause × party matrix and every case, filterable, each
//! failing cell opening its diff; led by the regressions when compared
//! with a baseline.

use crate::baseline::Comparison;
use crate::run::RunResult;

/// Renders the self-contained page of `result`.
pub fn render(result: &RunResult) -> String {
    render_compared(result, None)
}

/// Renders the page, its first section what changed against a baseline.
pub fn render_compared(result: &RunResult, comparison: Option<&Comparison>) -> String {
    let mut page = super::page::run::page(result, super::page::run::Extras::default());
    if let Some(comparison) = comparison {
        let body = super::comparison::html(comparison, result);
        page.sections
            .insert(0, super::page::Section { id: "baseline".into(), heading: "Against the baseline".into(), body });
    }
    super::page::render(&page)
}
