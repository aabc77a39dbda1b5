//! The HTML report page: one self-contained file (no network, no external
//! assets) shared by `run --html`, `report`, the fuzz run's `summary.html`
//! and `distribution --format html`.
//!
//! A page is static HTML for what is small and read first (the summary, the
//! charts, the cause × SDK matrix), rendered here, plus an optional case
//! list embedded as JSON ([`CaseList`]) that the page's own script
//! (`page.js`) renders lazily and filters: a report of 20 000 cases stays
//! responsive because only the groups and rows in view are ever built.

pub mod distribution;
pub mod fuzz;
pub mod matrix;
pub mod run;
pub mod svg;

use std::fmt::Write as _;

use serde::Serialize;
use ufc_protocol::report::{Severity, Status};

pub use super::junit::escape;

/// The page's stylesheet, inlined.
const STYLE: &str = include_str!("page.css");
/// The page's script, inlined; it renders [`CaseList`].
const SCRIPT: &str = include_str!("page.js");
/// The id of the `<script type="application/json">` element holding the case list.
pub const DATA_ELEMENT_ID: &str = "ufc-data";

/// A whole page.
#[derive(Debug, Clone, Default)]
pub struct Page {
    /// The `<title>` and the heading.
    pub title: String,
    /// Lines under the heading (plain text).
    pub intro: Vec<String>,
    /// Sections of static HTML, in order, each already escaped.
    pub sections: Vec<Section>,
    /// The filterable case list, if the page has one.
    pub cases: Option<CaseList>,
}

/// A static section: a heading and its HTML body.
#[derive(Debug, Clone)]
pub struct Section {
    /// The `id` of the section element (for links and the browser check).
    pub id: String,
    /// The heading (plain text).
    pub heading: String,
    /// The body, HTML.
    pub body: String,
}

/// The case list: rows of cells, one column per party, grouped.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CaseList {
    /// Column names, in order.
    pub parties: Vec<String>,
    /// Group names; each case names its group by index.
    pub groups: Vec<String>,
    /// The causes cells are filed under; cells name them by index.
    pub causes: Vec<Cause>,
    /// The rows, in the order they were produced (the page sorts them).
    pub cases: Vec<CaseRow>,
}

/// A divergence cause (or a description of uncatalogued differences).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cause {
    /// Its name: a catalogue id (`docs/divergences.md`) or a description.
    pub name: String,
    /// What it is, when known (the known-failure entry's reason).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub about: Option<String>,
}

/// One case: its id, its group and one cell per party.
#[derive(Debug, Clone, Serialize)]
pub struct CaseRow {
    /// The case id.
    pub id: String,
    /// Index into [`CaseList::groups`].
    #[serde(rename = "g")]
    pub group: usize,
    /// One per party of [`CaseList::parties`]; `None` where the party has
    /// no outcome for the case.
    pub cells: Vec<Option<Cell>>,
}

/// One party's verdict on one case. Short field names: a page may carry
/// a hundred thousand of them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cell {
    /// The verdict.
    #[serde(rename = "s")]
    pub status: Status,
    /// The most severe difference, if any.
    #[serde(rename = "v", skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// Indices into [`CaseList::causes`].
    #[serde(rename = "c", skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<usize>,
    /// What the cell opens: the diff, error, skip reason, answers (plain
    /// text; unified diffs are coloured by the page).
    #[serde(rename = "d", skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The mock CDN's request log of a failing scenario step, one line a
    /// request ([`crate::report::request_lines`]); shown under the diff.
    #[serde(rename = "r", skip_serializing_if = "Vec::is_empty")]
    pub requests: Vec<String>,
}

impl CaseList {
    /// The index of `cause`, added if new.
    pub fn cause_index(&mut self, cause: Cause) -> usize {
        match self.causes.iter().position(|c| c.name == cause.name) {
            Some(index) => {
                // A later outcome may know what an earlier one did not.
                if self.causes[index].about.is_none() {
                    self.causes[index].about = cause.about;
                }
                index
            }
            None => {
                self.causes.push(cause);
                self.causes.len() - 1
            }
        }
    }

    /// The index of group `name`, added if new.
    pub fn group_index(&mut self, name: &str) -> usize {
        match self.groups.iter().rposition(|g| g == name) {
            Some(index) => index,
            None => {
                self.groups.push(name.to_owned());
                self.groups.len() - 1
            }
        }
    }
}

/// The group of a case id: everything before its last `/` (the test file
/// or directory), or the whole id when it has none.
pub fn group_of(case_id: &str) -> &str {
    case_id.rsplit_once('/').map_or(case_id, |(group, _)| group)
}

/// The most severe of `severities` (critical first), if any.
pub fn worst(severities: impl IntoIterator<Item = Severity>) -> Option<Severity> {
    severities.into_iter().min()
}

/// The case list as JSON safe inside a `<script>` element: every `<` is
/// written as `\u003c`, so no string in the data can close the element
/// (JSON has `<` only inside strings, where the escape means the same).
pub fn embedded_json(cases: &CaseList) -> String {
    serde_json::to_string(cases).unwrap_or_else(|_| "null".into()).replace('<', "\\u003c")
}

/// Renders the page.
pub fn render(page: &Page) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let title = escape(&page.title);
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title>\n<style>\n{STYLE}</style></head>\n<body>\n<header><h1>{title}</h1>"
    );
    for line in &page.intro {
        let _ = write!(out, "<p>{}</p>", escape(line));
    }
    out.push_str("</header>\n<main>\n");
    for section in &page.sections {
        let _ = writeln!(
            out,
            "<section id=\"{}\"><h2>{}</h2>\n{}</section>",
            escape(&section.id),
            escape(&section.heading),
            section.body
        );
    }
    if let Some(cases) = &page.cases {
        let _ = writeln!(
            out,
            "<section id=\"cases\"><h2>Cases</h2>\n<div id=\"filters\"></div>\n<div id=\"groups\">\
             <p class=\"note\">The case list needs JavaScript.</p></div></section>\n\
             <script type=\"application/json\" id=\"{DATA_ELEMENT_ID}\">{}</script>\n<script>\n{SCRIPT}</script>",
            embedded_json(cases)
        );
    }
    out.push_str("</main>\n</body></html>\n");
    out
}

/// A table of plain-text cells; `header` names the columns, `numeric`
/// those right-aligned.
pub fn table(header: &[&str], rows: &[Vec<String>], numeric: &[usize]) -> String {
    let mut out = String::from("<table class=\"plain\"><thead><tr>");
    for (i, h) in header.iter().enumerate() {
        let class = if numeric.contains(&i) { " class=\"num\"" } else { "" };
        let _ = write!(out, "<th{class}>{}</th>", escape(h));
    }
    out.push_str("</tr></thead><tbody>\n");
    for row in rows {
        out.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            let class = if numeric.contains(&i) { " class=\"num\"" } else { "" };
            let _ = write!(out, "<td{class}>{}</td>", escape(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list_with(detail: &str) -> CaseList {
        let mut list = CaseList { parties: vec!["p".into()], ..CaseList::default() };
        let group = list.group_index("g");
        list.cases.push(CaseRow {
            id: "g/a".into(),
            group,
            cells: vec![Some(Cell {
                status: Status::Failed,
                severity: Some(Severity::Critical),
                causes: Vec::new(),
                detail: Some(detail.into()),
                requests: Vec::new(),
            })],
        });
        list
    }

    #[test]
    fn data_cannot_close_its_script_element() {
        let hostile = "</script><script>alert(1)</script>";
        let page = Page { title: "t".into(), cases: Some(list_with(hostile)), ..Page::default() };
        let html = render(&page);
        assert_eq!(html.matches("</script>").count(), 2, "only the data and the code elements close");
        let start = html.find(DATA_ELEMENT_ID).unwrap_or(0);
        let json = &html[start..];
        let json = &json[json.find('>').map_or(0, |i| i + 1)..json.find("</script>").unwrap_or(0)];
        let back: serde_json::Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"));
        assert_eq!(back["cases"][0]["cells"][0]["d"], hostile, "the text survives the escaping");
    }

    #[test]
    fn groups_and_causes_are_interned() {
        let mut list = CaseList::default();
        assert_eq!((list.group_index("a"), list.group_index("b"), list.group_index("a")), (0, 1, 0));
        let first = list.cause_index(Cause { name: "x".into(), about: None });
        let again = list.cause_index(Cause { name: "x".into(), about: Some("why".into()) });
        assert_eq!((first, again, list.causes.len()), (0, 0, 1));
        assert_eq!(list.causes[0].about.as_deref(), Some("why"), "a later reason fills the gap");
    }

    #[test]
    fn a_case_id_is_grouped_by_its_file() {
        assert_eq!(group_of("shared:test-case-regex-flag/alice"), "shared:test-case-regex-flag");
        assert_eq!(group_of("builtin:types/disabled/bob"), "builtin:types/disabled");
        assert_eq!(group_of("lonely"), "lonely");
        assert_eq!(worst([Severity::Minor, Severity::Critical, Severity::Major]), Some(Severity::Critical));
        assert_eq!(worst([]), None);
    }

    #[test]
    fn a_page_without_cases_has_no_script() {
        let page = Page {
            title: "a <b>".into(),
            intro: vec!["x & y".into()],
            sections: vec![Section { id: "s".into(), heading: "S".into(), body: "<p>ok</p>".into() }],
            cases: None,
        };
        let html = render(&page);
        assert!(html.contains("<title>a &lt;b&gt;</title>") && html.contains("<p>x &amp; y</p>"));
        assert!(html.contains("<section id=\"s\"><h2>S</h2>\n<p>ok</p></section>"));
        assert!(!html.contains("<script"), "nothing to render, no code");
        assert!(!html.contains("http://") && !html.contains("https://"), "no external asset");
    }
}
