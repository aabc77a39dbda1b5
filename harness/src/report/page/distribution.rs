//! A distribution check (`distribution --format html`) as a [`Page`]: per
//! variation, the observed share beside the expected one, as a chart and as
//! a table, and the test's verdict.

use super::svg::{Bar, BarChart, BarRow, Segment};
use super::{Page, Section};
use crate::distribution::{DistributionReport, Verdict};
use crate::report::distribution::{conclusion, name, percent, subject_range, NO_TEST};

/// The page of a distribution check.
pub fn page(report: &DistributionReport) -> Page {
    let share_bar = |share: Option<f64>, class: &str, what: &str| Bar {
        segments: share
            .map(|s| Segment { value: s, class: class.into(), title: format!("{what}: {}", percent(Some(s))) })
            .into_iter()
            .collect(),
        text: format!("{what} {}", percent(share)),
    };
    let rows = report
        .rows
        .iter()
        .map(|row| BarRow {
            label: name(row),
            bars: vec![
                share_bar(Some(row.observed_share), "observed", "observed"),
                share_bar(row.expected_share, "expected", "expected"),
            ],
        })
        .collect();
    let chart = BarChart {
        title: format!("Shares of {} subjects per variation", report.subjects),
        rows,
        max: 1.0,
        legend: vec![("observed".into(), "observed".into()), ("expected".into(), "expected by the split".into())],
    };
    let table_rows: Vec<Vec<String>> = report
        .rows
        .iter()
        .map(|row| {
            vec![name(row), row.observed.to_string(), percent(Some(row.observed_share)), percent(row.expected_share)]
        })
        .collect();
    let verdict_class = match report.verdict {
        Verdict::Consistent => "good",
        Verdict::Mismatch => "bad",
        Verdict::Unpredictable => "note",
    };
    let mut body = chart.render();
    body.push_str(&super::table(&["variation", "subjects", "observed", "expected"], &table_rows, &[1, 2, 3]));
    body.push_str(&format!(
        "<p class=\"{verdict_class}\" id=\"verdict\">{}</p>\n",
        super::escape(conclusion(report).as_deref().unwrap_or(NO_TEST))
    ));
    if !report.notes.is_empty() {
        body.push_str("<ul>");
        for note in &report.notes {
            body.push_str(&format!("<li>note: {}</li>", super::escape(note)));
        }
        body.push_str("</ul>\n");
    }
    Page {
        title: format!("Distribution of {}", report.flag),
        intro: vec![format!(
            "{} synthetic subjects ({}), verdict: {}.",
            report.subjects,
            subject_range(report, ""),
            report.verdict.as_str()
        )],
        sections: vec![Section { id: "shares".into(), heading: "Observed and expected shares".into(), body }],
        cases: None,
    }
}
