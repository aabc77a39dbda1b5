//! JUnit XML: one `<testsuite>` per party, one `<testcase>` per case, so CI
//! systems show each case by name. JUnit has no verdict for a case answered
//! differently by different processes (`run --repeat`): it is a
//! `<failure type="nondeterministic">` listing each process's answer.

use std::fmt::Write;

use crate::run::{RunResult, Status};

/// Escapes text for XML attributes and content.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 forbids most control characters, even escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// The JUnit XML document.
pub fn render(result: &RunResult) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let total = result.summary();
    let _ = writeln!(
        out,
        "<testsuites name=\"ufc-harness\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">",
        total.total,
        total.failed + total.unexpected_passes + total.nondeterministic,
        total.errored,
        total.skipped + total.known_failures
    );
    for party in &result.parties {
        let s = result.party_summary(&party.name);
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">",
            escape(&party.name),
            s.total,
            s.failed + s.unexpected_passes + s.nondeterministic,
            s.errored,
            s.skipped + s.known_failures
        );
        for o in result.outcomes.iter().filter(|o| o.party == party.name) {
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\"",
                escape(&party.name),
                escape(&o.case_id),
                escape(&o.file.display().to_string())
            );
            let body = match o.status {
                Status::Passed => None,
                Status::Failed | Status::UnexpectedPass => {
                    let mut text = String::new();
                    for d in &o.differences {
                        let _ = writeln!(
                            text,
                            "[{}] {}: expected {} got {}",
                            d.severity.as_str(),
                            d.field,
                            d.expected,
                            d.actual
                        );
                    }
                    for line in super::request_lines(o) {
                        let _ = writeln!(text, "CDN {line}");
                    }
                    let message = if o.status == Status::UnexpectedPass {
                        "listed as a known failure, but passed".to_owned()
                    } else {
                        o.differences.first().map(|d| format!("{} differs", d.field)).unwrap_or_default()
                    };
                    Some(format!("<failure message=\"{}\">{}</failure>", escape(&message), escape(&text)))
                }
                Status::Errored => Some(format!(
                    "<error message=\"{}\">{}</error>",
                    escape(o.error.as_deref().unwrap_or("error")),
                    escape(o.stderr_tail.as_deref().unwrap_or(""))
                )),
                Status::Skipped => {
                    Some(format!("<skipped message=\"{}\"/>", escape(o.skip_reason.as_deref().unwrap_or(""))))
                }
                Status::KnownFailure => Some(format!(
                    "<skipped message=\"known failure: {}\"/>",
                    escape(o.known_failure.as_deref().unwrap_or(""))
                )),
                Status::Nondeterministic => {
                    let mut text = String::new();
                    for (process, said) in super::process_answers(o) {
                        let _ = writeln!(text, "process {process}: {said}");
                    }
                    let message = format!("answers differ between {} fresh processes", o.process_replies.len());
                    Some(format!(
                        "<failure type=\"nondeterministic\" message=\"{}\">{}</failure>",
                        escape(&message),
                        escape(&text)
                    ))
                }
            };
            match body {
                None => out.push_str("/>\n"),
                Some(body) => {
                    let _ = writeln!(out, ">{body}</testcase>");
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
