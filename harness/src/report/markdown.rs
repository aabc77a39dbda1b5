//! Markdown, for a CI step summary or a checked-in report: the per-party
//! totals, the differences grouped by cause, then each failing case.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::cores::Core;
use crate::party::AnswerPart;
use crate::run::{CaseOutcome, RunResult, Status};

/// The cause a non-passing outcome is grouped under: its catalogued
/// divergence if one was attributed, else the fields that differ.
pub fn cause_of(outcome: &CaseOutcome) -> String {
    if !outcome.causes.is_empty() {
        return outcome.causes.join(", ");
    }
    match outcome.status {
        Status::Errored => "errored: the party could not answer".into(),
        Status::UnexpectedPass => "stale known-failure entry (the case now passes)".into(),
        Status::Nondeterministic => "nondeterministic: the party answered differently in different processes".into(),
        _ => {
            let mut fields: Vec<String> = outcome
                .differences
                .iter()
                .map(|d| format!("{} ({})", generic_field(&d.field), d.severity.as_str()))
                .collect();
            fields.dedup();
            format!("uncatalogued: {}", fields.join(", "))
        }
    }
}

/// `assignmentEvents[0].variation` → `assignmentEvents[].variation`.
fn generic_field(field: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for c in field.chars() {
        match c {
            '[' => {
                skipping = true;
                out.push('[');
            }
            ']' => {
                skipping = false;
                out.push(']');
            }
            _ if skipping => {}
            c => out.push(c),
        }
    }
    out
}

/// Renders the report.
pub fn render(result: &RunResult) -> String {
    render_compared(result, None)
}

/// Renders the report, led by what changed against a baseline.
pub fn render_compared(result: &RunResult, comparison: Option<&crate::baseline::Comparison>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# UFC conformance report\n");
    if let Some(comparison) = comparison {
        out.push_str(&super::comparison::markdown(comparison, result));
    }
    let _ = writeln!(
        out,
        "Suite: `{}`  \nFailing severities: {}\n",
        result.suite.display(),
        result.fail_on.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
    );
    // Only runs with --repeat can find nondeterminism; the others keep their table.
    let repeated = result.repeat > 1;
    if repeated {
        let _ = writeln!(out, "Each party answered every case in {} fresh processes (`--repeat`).\n", result.repeat);
    }
    let (extra_header, extra_rule) = if repeated { (" nondeterministic |", "---:|") } else { ("", "") };
    let _ = writeln!(
        out,
        "| party | SDK | core | passed | failed | errored | skipped | known failures | unexpected passes |{extra_header}"
    );
    let _ = writeln!(out, "|---|---|---|---:|---:|---:|---:|---:|---:|{extra_rule}");
    for p in &result.parties {
        let s = result.party_summary(&p.name);
        let extra = if repeated { format!(" {} |", s.nondeterministic) } else { String::new() };
        let _ = writeln!(
            out,
            "| {} | {} {} | {} | {} | {} | {} | {} | {} | {} |{extra}",
            p.name,
            p.sdk.package.as_deref().unwrap_or(&p.sdk.name),
            p.sdk.version,
            Core::of(&p.sdk).map_or("–", Core::label),
            s.passed,
            s.failed,
            s.errored,
            s.skipped,
            s.known_failures,
            s.unexpected_passes
        );
    }
    let noteworthy: Vec<&CaseOutcome> =
        result.outcomes.iter().filter(|o| !matches!(o.status, Status::Passed | Status::Skipped)).collect();
    let mut by_cause: BTreeMap<String, Vec<&CaseOutcome>> = BTreeMap::new();
    for o in &noteworthy {
        by_cause.entry(cause_of(o)).or_default().push(o);
    }
    let _ = writeln!(out, "\n## Differences by cause\n");
    if by_cause.is_empty() {
        let _ = writeln!(out, "None: every party agrees with the expectations.");
    }
    for (cause, outcomes) in &by_cause {
        let mut parties: Vec<&str> = outcomes.iter().map(|o| o.party.as_str()).collect();
        parties.sort_unstable();
        parties.dedup();
        let _ = writeln!(out, "### {cause}\n");
        let _ = writeln!(out, "{} case(s); parties: {}\n", outcomes.len(), parties.join(", "));
        if let Some(reason) = outcomes.iter().find_map(|o| o.known_failure.as_deref()) {
            let _ = writeln!(out, "{reason}\n");
        }
        for o in outcomes.iter().take(12) {
            let processes: Vec<String> = super::process_answers(o)
                .into_iter()
                .map(|(process, said)| format!("process {process} `{}`", super::cut(&said, 60)))
                .collect();
            let first = (!processes.is_empty()).then(|| processes.join(", ")).or_else(|| {
                o.differences
                    .iter()
                    .find(|d| d.severity != crate::compare::Severity::Minor)
                    .or(o.differences.first())
                    .map(|d| {
                        format!(
                            "`{}` expected `{}`, got `{}`",
                            d.field,
                            super::short(&d.expected.0, 60),
                            super::short(&d.actual.0, 60)
                        )
                    })
            });
            let _ = writeln!(
                out,
                "- `{}` [{}] {}{}",
                o.case_id,
                o.party,
                o.status.as_str(),
                first.map(|f| format!(": {f}")).unwrap_or_else(|| o
                    .error
                    .as_ref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default())
            );
        }
        if outcomes.len() > 12 {
            let _ = writeln!(out, "- … and {} more", outcomes.len() - 12);
        }
        let _ = writeln!(out);
    }
    render_cores(&mut out, result);
    render_minor(&mut out, result);
    out
}

/// Per catalogued cause, what each core answers on the cases filed under
/// it: "differs" when an SDK on that core fails them, "agrees" when its
/// SDKs ran them and match the reference. Where three or more independent
/// cores answer, the majority is marked: the spec's precedence rules let the
/// reference stand alone only with a reason.
fn render_cores(out: &mut String, result: &RunResult) {
    let core_of: BTreeMap<&str, Core> =
        result.parties.iter().filter_map(|p| Some((p.name.as_str(), Core::of(&p.sdk)?))).collect();
    let mut cases_of: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for o in &result.outcomes {
        for cause in &o.causes {
            cases_of.entry(cause.as_str()).or_default().push(o.case_id.as_str());
        }
    }
    if cases_of.is_empty() || core_of.is_empty() {
        return;
    }
    let present: Vec<Core> = Core::ALL.into_iter().filter(|c| core_of.values().any(|v| v == c)).collect();
    let _ = writeln!(
        out,
        "## Causes by core
"
    );
    let _ =
        writeln!(out, "| cause | {} | majority |", present.iter().map(|c| c.label()).collect::<Vec<_>>().join(" | "));
    let _ = writeln!(out, "|---|{}---|", "---|".repeat(present.len()));
    for (cause, cases) in &mut cases_of {
        cases.sort_unstable();
        cases.dedup();
        // The fields the cause shows in: a core whose SDKs give none of
        // them (no details, no events) cannot answer it either way.
        let fields: Vec<&str> = result
            .outcomes
            .iter()
            .filter(|o| o.causes.iter().any(|c| c == cause))
            .flat_map(|o| o.differences.iter().map(|d| d.field.as_str()))
            .collect();
        let answers: Vec<Option<bool>> = present
            .iter()
            .map(|core| {
                let ran: Vec<&CaseOutcome> = result
                    .outcomes
                    .iter()
                    .filter(|o| core_of.get(o.party.as_str()) == Some(core))
                    .filter(|o| o.status != Status::Skipped && cases.binary_search(&o.case_id.as_str()).is_ok())
                    .filter(|o| gives_any(result, &o.party, &fields))
                    .collect();
                (!ran.is_empty()).then(|| ran.iter().any(|o| o.causes.iter().any(|c| c == cause)))
            })
            .collect();
        let answered: Vec<bool> = answers.iter().flatten().copied().collect();
        let differing = answered.iter().filter(|d| **d).count();
        let majority = match answered.len() {
            n if n >= 3 && differing * 2 > n => "differs from the reference",
            n if n >= 3 && differing * 2 < n => "agrees with the reference",
            n if n >= 3 => "split",
            _ => "– (fewer than 3 cores)",
        };
        let cells: Vec<&str> = answers
            .iter()
            .map(|a| match a {
                Some(true) => "differs",
                Some(false) => "agrees",
                None => "–",
            })
            .collect();
        let _ = writeln!(out, "| {cause} | {} | {majority} |", cells.join(" | "));
    }
    let _ = writeln!(out);
}

/// Whether `party` gives any of the parts `fields` are in.
fn gives_any(result: &RunResult, party: &str, fields: &[&str]) -> bool {
    let Some(info) = result.parties.iter().find(|p| p.name == party) else { return false };
    // Details of either kind count: a cause may span flag and bandit cases.
    let gives = |part| info.gives(part, false) || info.gives(part, true);
    fields.is_empty() || fields.iter().any(|field| gives(AnswerPart::of_field(field)))
}

/// Differences below the failing severities, counted per party and field:
/// worth knowing (an SDK's events carry extra fields, say), not worth a
/// line per case.
fn render_minor(out: &mut String, result: &RunResult) {
    let mut counts: BTreeMap<(String, String), (usize, String)> = BTreeMap::new();
    for o in &result.outcomes {
        for d in o.differences.iter().filter(|d| !result.fail_on.contains(&d.severity)) {
            let entry = counts.entry((o.party.clone(), generic_field(&d.field))).or_insert((0, String::new()));
            entry.0 += 1;
            if entry.1.is_empty() {
                entry.1 = format!(
                    "`{}`: expected `{}`, got `{}`",
                    o.case_id,
                    super::short(&d.expected.0, 50),
                    super::short(&d.actual.0, 50)
                );
            }
        }
    }
    if counts.is_empty() {
        return;
    }
    let _ = writeln!(out, "## Differences that do not fail the run\n");
    let _ = writeln!(out, "| party | field | cases | example |");
    let _ = writeln!(out, "|---|---|---:|---|");
    for ((party, field), (count, example)) in counts {
        let _ = writeln!(out, "| {party} | `{field}` | {count} | {} |", example.replace('|', "\\|"));
    }
    let _ = writeln!(out);
}
