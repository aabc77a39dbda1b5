//! The human-readable report: per-case diffs for everything that did not
//! pass, then a summary per party. Colour is used only when asked for
//! (the caller decides from `NO_COLOR` and whether stdout is a terminal).

use std::fmt::Write;

use crate::compare::Difference;
use crate::run::{CaseOutcome, RunResult, Status};

/// ANSI styling, or none.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    color: bool,
}

impl Style {
    /// Colour on or off.
    pub fn new(color: bool) -> Style {
        Style { color }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    fn red(&self, t: &str) -> String {
        self.paint("31", t)
    }
    fn green(&self, t: &str) -> String {
        self.paint("32", t)
    }
    fn yellow(&self, t: &str) -> String {
        self.paint("33", t)
    }
    fn bold(&self, t: &str) -> String {
        self.paint("1", t)
    }
    fn dim(&self, t: &str) -> String {
        self.paint("2", t)
    }
}

/// Renders the report. `verbose` also lists minor differences of passing cases.
pub fn render(result: &RunResult, style: Style, verbose: bool) -> String {
    let mut out = String::new();
    for outcome in &result.outcomes {
        let interesting = !matches!(outcome.status, Status::Passed | Status::Skipped | Status::KnownFailure)
            || (verbose && !outcome.differences.is_empty());
        if interesting {
            render_case(&mut out, outcome, style);
        }
    }
    for error in &result.load_errors {
        let _ = writeln!(out, "{} {error}", style.red("load error:"));
    }
    for party in &result.parties {
        let unknown: Vec<&str> = party.capabilities.unknown().collect();
        if !unknown.is_empty() {
            let _ = writeln!(
                out,
                "{} {} declares capabilities this harness does not know, ignored: {}",
                style.yellow("note:"),
                party.name,
                unknown.join(", ")
            );
        }
    }
    if verbose {
        for error in &result.config_errors {
            let _ = writeln!(out, "{} {error}", style.yellow("configuration:"));
        }
    } else if !result.config_errors.is_empty() {
        let _ = writeln!(
            out,
            "{} {} flags or bandits could not be read and evaluate to errors (-v lists them)",
            style.yellow("configuration:"),
            result.config_errors.len()
        );
    }
    let _ = writeln!(out, "{}", style.bold(&format!("Suite {}", result.suite.display())));
    for party in &result.parties {
        let s = result.party_summary(&party.name);
        let mut line = format!(
            "  {:<10} {:<22} {} passed",
            party.name,
            format!("{} {}", party.sdk.package.as_deref().unwrap_or(&party.sdk.name), party.sdk.version),
            s.passed
        );
        let mut part = |n: usize, label: &str, paint: &dyn Fn(&str) -> String| {
            if n > 0 {
                line.push_str(&format!(", {}", paint(&format!("{n} {label}"))));
            }
        };
        part(s.failed, "failed", &|t| style.red(t));
        part(s.errored, "errored", &|t| style.red(t));
        part(s.nondeterministic, "nondeterministic", &|t| style.red(t));
        part(s.unexpected_passes, "unexpectedly passed", &|t| style.red(t));
        part(s.known_failures, "known failures", &|t| style.yellow(t));
        part(s.skipped, "skipped", &|t| style.dim(t));
        let _ = writeln!(out, "{line} (of {})", s.total);
    }
    let s = result.summary();
    let verdict =
        if s.failed + s.errored + s.unexpected_passes + s.nondeterministic == 0 && result.load_errors.is_empty() {
            style.green("PASS")
        } else {
            style.red("FAIL")
        };
    // Only runs with --repeat can find nondeterminism; the others keep their line.
    let nondeterministic = if result.repeat > 1 {
        format!(", {} nondeterministic (each party asked in {} fresh processes)", s.nondeterministic, result.repeat)
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "{verdict}: {} cases, {} passed, {} failed, {} errored, {} known failures, {} unexpected passes, {} skipped{nondeterministic}",
        s.total, s.passed, s.failed, s.errored, s.known_failures, s.unexpected_passes, s.skipped
    );
    out
}

fn render_case(out: &mut String, outcome: &CaseOutcome, style: Style) {
    let status = match outcome.status {
        Status::Passed => style.green("PASS"),
        Status::Failed => style.red("FAIL"),
        Status::Errored => style.red("ERROR"),
        Status::UnexpectedPass => style.red("UNEXPECTED PASS"),
        Status::KnownFailure => style.yellow("KNOWN"),
        Status::Skipped => style.dim("SKIP"),
        Status::Nondeterministic => style.red("NONDETERMINISTIC"),
    };
    let _ = writeln!(
        out,
        "{status} {} [{}] {}",
        style.bold(&outcome.case_id),
        outcome.party,
        style.dim(&outcome.file.display().to_string())
    );
    if let Some(error) = &outcome.error {
        let _ = writeln!(out, "    error: {error}");
    }
    if let Some(tail) = &outcome.stderr_tail {
        let _ = writeln!(out, "    stderr (last lines):");
        for line in tail.lines() {
            let _ = writeln!(out, "      {}", style.dim(line));
        }
    }
    let requests = super::request_lines(outcome);
    if !requests.is_empty() {
        let _ = writeln!(out, "    mock CDN requests:");
        for line in requests {
            let _ = writeln!(out, "      {}", style.dim(&line));
        }
    }
    if let Some(known) = &outcome.known_failure {
        let _ = writeln!(out, "    known failure: {known}");
    }
    if !outcome.causes.is_empty() {
        let _ = writeln!(out, "    cause: {}", outcome.causes.join(", "));
    }
    for (process, said) in super::process_answers(outcome) {
        let _ = writeln!(out, "    process {process}: {}", super::cut(&said, 200));
    }
    if let Some(first) = outcome.differences.first() {
        let _ = writeln!(out, "    first difference: {} ({})", style.bold(&first.field), first.severity.as_str());
    }
    for diff in &outcome.differences {
        render_difference(out, diff, style);
    }
}

fn render_difference(out: &mut String, diff: &Difference, style: Style) {
    let _ = writeln!(out, "    [{}] {}", diff.severity.as_str(), diff.field);
    let scalar = !diff.expected.0.is_object()
        && !diff.expected.0.is_array()
        && !diff.actual.0.is_object()
        && !diff.actual.0.is_array();
    if scalar {
        let _ = writeln!(out, "      {} {}", style.red("-"), style.red(&super::short(&diff.expected.0, 200)));
        let _ = writeln!(out, "      {} {}", style.green("+"), style.green(&super::short(&diff.actual.0, 200)));
        return;
    }
    for line in super::json_diff(&diff.expected.0, &diff.actual.0).lines() {
        let painted = if line.starts_with('+') && !line.starts_with("+++") {
            style.green(line)
        } else if line.starts_with('-') && !line.starts_with("---") {
            style.red(line)
        } else {
            line.to_owned()
        };
        let _ = writeln!(out, "      {painted}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::party::PartyInfo;
    use ufc_protocol::{Capabilities, Capability, SdkInfo};

    #[test]
    fn capabilities_the_harness_does_not_know_are_reported() {
        let party = |name: &str, capabilities| PartyInfo { name: name.into(), sdk: SdkInfo::default(), capabilities };
        let result = RunResult {
            suite: "suite".into(),
            parties: vec![
                party("old", Capabilities::new([Capability::Assign])),
                party("newer", Capabilities::new([Capability::Assign, Capability::parse("teleport")])),
            ],
            outcomes: Vec::new(),
            load_errors: Vec::new(),
            config_errors: Vec::new(),
            fail_on: Vec::new(),
            repeat: 1,
        };
        let text = render(&result, Style::new(false), false);
        assert!(text.contains("newer declares capabilities this harness does not know, ignored: teleport"), "{text}");
        assert!(!text.contains("old declares"), "{text}");
    }
}
