//! Renders what [`crate::precompute`] found: the text summary of
//! `ufc-harness precompute`, its JSON form, and the Markdown section of the
//! cross-SDK report.

use crate::precompute::{PartyPrecompute, PrecomputeReport};

/// A text summary: per party, the counts and the differences grouped by
/// field, with a few examples each.
pub fn text(reports: &[PartyPrecompute]) -> String {
    let mut out = String::new();
    for report in reports {
        if let Some(reason) = &report.skipped {
            out.push_str(&format!("{}: skipped: {reason}\n", report.party));
            continue;
        }
        out.push_str(&format!(
            "{}: {} subjects, {} flag assignments and {} bandit actions compared, {} differences, {} errors\n",
            report.party,
            report.subjects,
            report.flags_compared,
            report.bandits_compared,
            report.differences.len(),
            report.errors.len()
        ));
        for (field, of_field) in report.differences_by_field() {
            out.push_str(&format!("  {field}: {} differences\n", of_field.len()));
            for d in of_field.iter().take(3) {
                out.push_str(&format!(
                    "    {}/{} flag {:?}: expected {}, precomputed {}\n",
                    d.group, d.subject_key, d.flag, d.expected, d.actual
                ));
            }
        }
        for error in report.errors.iter().take(5) {
            out.push_str(&format!("  error: {error}\n"));
        }
    }
    out
}

/// A Markdown section for the cross-SDK report: one table per suite, then
/// the differences grouped by field with a few examples each.
pub fn markdown(suites: &[(String, Vec<PartyPrecompute>)]) -> String {
    let mut out = String::from("## Precomputation\n\nWhat each SDK precomputes per subject (spec section 7), against the reference's evaluation (`ufc-harness precompute`).\n");
    for (label, reports) in suites {
        out.push_str(&format!(
            "\n### {label}\n\n| party | subjects | assignments | bandit actions | differences | errors |\n|---|---:|---:|---:|---:|---:|\n"
        ));
        for r in reports {
            match &r.skipped {
                Some(reason) => out.push_str(&format!("| {} | skipped: {reason} | | | | |\n", r.party)),
                None => out.push_str(&format!(
                    "| {} | {} | {} | {} | {} | {} |\n",
                    r.party,
                    r.subjects,
                    r.flags_compared,
                    r.bandits_compared,
                    r.differences.len(),
                    r.errors.len()
                )),
            }
        }
        for r in reports.iter().filter(|r| !r.differences.is_empty() || !r.errors.is_empty()) {
            out.push_str(&format!("\n{}:\n\n", r.party));
            for (field, of_field) in r.differences_by_field() {
                let Some(d) = of_field.first() else { continue };
                out.push_str(&format!(
                    "- `{field}`: {} (e.g. `{}/{}` flag `{}`: expected `{}`, precomputed `{}`)\n",
                    of_field.len(),
                    d.group,
                    d.subject_key,
                    d.flag,
                    d.expected,
                    d.actual
                ));
            }
            if let Some(first) = r.errors.first() {
                out.push_str(&format!("- errors: {} (e.g. {first})\n", r.errors.len()));
            }
        }
    }
    out
}

/// The JSON form (`--format json`), pretty-printed, with a final newline.
pub fn json(report: &PrecomputeReport) -> String {
    serde_json::to_string_pretty(report).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::precompute::PrecomputeDifference;
    use serde_json::json;

    fn parties() -> Vec<PartyPrecompute> {
        let difference = PrecomputeDifference {
            group: "g".into(),
            subject_key: "s".into(),
            flag: "f".into(),
            field: "assigned".into(),
            expected: json!(false),
            actual: json!(true),
        };
        let checked = PartyPrecompute {
            party: "node".into(),
            subjects: 2,
            flags_compared: 6,
            differences: vec![difference],
            errors: vec!["g/t: it threw".into()],
            ..PartyPrecompute::default()
        };
        let skipped =
            PartyPrecompute { party: "python".into(), skipped: Some("no API".into()), ..PartyPrecompute::default() };
        vec![skipped, checked]
    }

    #[test]
    fn the_report_section_tabulates_parties_and_groups_differences_by_field() {
        let text = markdown(&[("shared".into(), parties())]);
        assert!(text.contains("### shared"), "{text}");
        assert!(text.contains("| python | skipped: no API |"), "{text}");
        assert!(text.contains("| node | 2 | 6 | 0 | 1 | 1 |"), "{text}");
        assert!(text.contains("- `assigned`: 1 (e.g. `g/s` flag `f`: expected `false`, precomputed `true`)"), "{text}");
        assert!(text.contains("- errors: 1 (e.g. g/t: it threw)"), "{text}");
    }

    #[test]
    fn the_text_summary_counts_and_gives_examples() {
        let expected = "\
python: skipped: no API
node: 2 subjects, 6 flag assignments and 0 bandit actions compared, 1 differences, 1 errors
  assigned: 1 differences
    g/s flag \"f\": expected false, precomputed true
  error: g/t: it threw
";
        assert_eq!(text(&parties()), expected);
    }

    #[test]
    fn the_json_form_keeps_the_field_names_ci_reads_and_round_trips() {
        let report = PrecomputeReport {
            report_version: crate::precompute::PRECOMPUTE_REPORT_VERSION,
            tool: ufc_protocol::report::Tool { name: "ufc-harness".into(), version: "0".into() },
            suite: "suite".into(),
            parties: parties(),
        };
        let rendered = json(&report);
        let value: serde_json::Value = serde_json::from_str(&rendered).unwrap_or_default();
        assert_eq!(value["reportVersion"], 1);
        let node = &value["parties"][1];
        for key in ["party", "subjects", "flagsCompared", "banditsCompared", "differences", "errors"] {
            assert!(node.get(key).is_some(), "{key} missing from {node}");
        }
        assert_eq!(node["differences"][0]["flag"], "f");
        assert_eq!(node["differences"][0]["field"], "assigned");
        assert_eq!(node["differences"][0]["subjectKey"], "s");
        assert!(value["parties"][0].get("skipped").is_some() && node.get("skipped").is_none());
        let back: Result<PrecomputeReport, _> = serde_json::from_str(&rendered);
        assert_eq!(back.ok(), Some(report));
    }
}
