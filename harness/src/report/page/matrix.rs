//! The matrix of divergence causes × parties: per cause and party, how many
//! cases are filed under the cause and how severe the worst is. It is
//! counted from the page's own [`CaseList`], so the matrix and the case
//! list it filters can never disagree.

use std::fmt::Write as _;

use ufc_protocol::report::{Severity, Status};

use super::{escape, CaseList};

/// One cause and party.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MatrixCell {
    /// Cases filed under the cause.
    pub cases: usize,
    /// Of those, how many fail the run (not covered by a known-failure
    /// entry: failed, errored, stale entries, nondeterministic).
    pub unexpected: usize,
    /// The most severe difference among them.
    pub severity: Option<Severity>,
}

/// One row: a cause (its index in [`CaseList::causes`]) and a cell per party.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatrixRow {
    /// Index into [`CaseList::causes`].
    pub cause: usize,
    /// One per party.
    pub cells: Vec<MatrixCell>,
}

/// Whether a status fails a run by itself (it is nobody's known failure).
pub fn is_unexpected(status: Status) -> bool {
    matches!(status, Status::Failed | Status::Errored | Status::UnexpectedPass | Status::Nondeterministic)
}

/// The rows, worst first: causes with unexpected cases, then by severity
/// (critical first), then by how many cases, then by name.
pub fn rows(list: &CaseList) -> Vec<MatrixRow> {
    let mut rows: Vec<MatrixRow> = (0..list.causes.len())
        .map(|cause| MatrixRow { cause, cells: vec![MatrixCell::default(); list.parties.len()] })
        .collect();
    for case in &list.cases {
        for (party, cell) in case.cells.iter().enumerate() {
            let Some(cell) = cell else { continue };
            for &cause in &cell.causes {
                let Some(slot) = rows.get_mut(cause).and_then(|r| r.cells.get_mut(party)) else { continue };
                slot.cases += 1;
                slot.unexpected += usize::from(is_unexpected(cell.status));
                slot.severity = super::worst(slot.severity.into_iter().chain(cell.severity));
            }
        }
    }
    let key = |row: &MatrixRow| {
        let unexpected: usize = row.cells.iter().map(|c| c.unexpected).sum();
        let severity = super::worst(row.cells.iter().filter_map(|c| c.severity));
        let cases: usize = row.cells.iter().map(|c| c.cases).sum();
        // `None` (errors, stale entries) after every severity.
        (unexpected == 0, severity.map_or(3, |s| s as u8), std::cmp::Reverse(cases))
    };
    rows.sort_by(|a, b| key(a).cmp(&key(b)).then_with(|| list.causes[a.cause].name.cmp(&list.causes[b.cause].name)));
    rows
}

/// The matrix as an HTML table. Each non-empty cell is a button the page's
/// script turns into a filter (this party, this cause).
pub fn render(list: &CaseList) -> String {
    let rows = rows(list);
    if rows.is_empty() {
        return "<p class=\"good\">No differences: every party agrees with the expectations.</p>\n".into();
    }
    let mut out = String::from("<div class=\"scroll\"><table class=\"matrix\"><thead><tr><th>cause</th>");
    for party in &list.parties {
        let _ = write!(out, "<th>{}</th>", escape(party));
    }
    out.push_str("</tr></thead><tbody>\n");
    for row in &rows {
        let cause = &list.causes[row.cause];
        let about = cause.about.as_deref().map(|a| format!(" title=\"{}\"", escape(a))).unwrap_or_default();
        let _ = write!(out, "<tr><th class=\"cause\"{about}>{}</th>", escape(&cause.name));
        for (party, cell) in list.parties.iter().zip(&row.cells) {
            if cell.cases == 0 {
                out.push_str("<td class=\"m empty\"></td>");
                continue;
            }
            let severity = cell.severity.map_or("none", Severity::as_str);
            let kind = if cell.unexpected > 0 { "unexpected" } else { "known" };
            let what = if cell.unexpected > 0 {
                format!("{} case(s), {} not in the known-failure manifest", cell.cases, cell.unexpected)
            } else {
                format!("{} case(s), all known failures", cell.cases)
            };
            let _ = write!(
                out,
                "<td class=\"m sev-{severity} {kind}\"><button type=\"button\" data-party=\"{}\" data-cause=\"{}\" \
                 title=\"{}: {what}, worst {severity}\">{}</button></td>",
                escape(party),
                row.cause,
                escape(party),
                cell.cases
            );
        }
        out.push_str("</tr>\n");
    }
    out.push_str(
        "</tbody></table></div>\n<div class=\"legend\">\
        <span><i class=\"swatch sev-critical\"></i>critical (value, bandit action)</span>\
        <span><i class=\"swatch sev-major\"></i>major (details codes, events)</span>\
        <span><i class=\"swatch sev-minor\"></i>minor (wording, extra fields)</span>\
        <span><i class=\"swatch sev-none\"></i>no difference weighed (errored, stale entry, nondeterministic)</span>\
        <span><i class=\"swatch outline\"></i>outlined: fails the run (not a known failure)</span>\
        <span>Click a count to list its cases.</span></div>\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::super::{CaseRow, Cause, Cell};
    use super::*;

    fn cell(status: Status, severity: Option<Severity>, causes: &[usize]) -> Option<Cell> {
        Some(Cell { status, severity, causes: causes.to_vec(), detail: None, requests: Vec::new() })
    }

    fn list() -> CaseList {
        let cause = |name: &str| Cause { name: name.into(), about: Some(format!("about {name}")) };
        CaseList {
            parties: vec!["reference".into(), "a".into(), "b".into()],
            groups: vec!["g".into()],
            causes: vec![cause("minor-known"), cause("major-unexpected"), cause("critical-known")],
            cases: vec![
                CaseRow {
                    id: "g/1".into(),
                    group: 0,
                    cells: vec![
                        cell(Status::Passed, None, &[]),
                        cell(Status::KnownFailure, Some(Severity::Minor), &[0]),
                        cell(Status::Failed, Some(Severity::Major), &[1]),
                    ],
                },
                CaseRow {
                    id: "g/2".into(),
                    group: 0,
                    cells: vec![
                        cell(Status::Passed, None, &[]),
                        cell(Status::KnownFailure, Some(Severity::Critical), &[2]),
                        cell(Status::KnownFailure, Some(Severity::Major), &[1]),
                    ],
                },
                CaseRow { id: "g/3".into(), group: 0, cells: vec![cell(Status::Passed, None, &[]), None, None] },
            ],
        }
    }

    #[test]
    fn cells_count_cases_and_keep_the_worst_severity() {
        let rows = rows(&list());
        let order: Vec<usize> = rows.iter().map(|r| r.cause).collect();
        assert_eq!(order, [1, 2, 0], "unexpected first, then critical before minor");
        let b = rows[0].cells[2];
        assert_eq!((b.cases, b.unexpected, b.severity), (2, 1, Some(Severity::Major)));
        assert_eq!(rows[0].cells[1], MatrixCell::default(), "party a has none of that cause");
        assert_eq!(rows[1].cells[1].severity, Some(Severity::Critical));
    }

    #[test]
    fn the_table_marks_unexpected_cells_and_names_their_filter() {
        let html = render(&list());
        assert!(
            html.contains("class=\"m sev-major unexpected\"><button type=\"button\" data-party=\"b\" data-cause=\"1\""),
            "{html}"
        );
        assert!(html.contains("class=\"m sev-critical known\""), "{html}");
        assert!(html.contains("title=\"about major-unexpected\">major-unexpected</th>"), "{html}");
        let empty = CaseList { parties: vec!["reference".into()], ..CaseList::default() };
        assert!(render(&empty).contains("No differences"));
    }
}
