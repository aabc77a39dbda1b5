//! Small inline SVG charts: horizontal bars, one or more per labelled row,
//! each bar a stack of segments. Colours come from the page's stylesheet
//! (`seg-<class>`), so a chart and its legend always agree.

use std::fmt::Write as _;

use super::escape;

/// A chart: rows of bars on one linear scale from 0 to `max`.
#[derive(Debug, Clone, PartialEq)]
pub struct BarChart {
    /// Shown above the chart, and its accessible name.
    pub title: String,
    /// The rows, top to bottom.
    pub rows: Vec<BarRow>,
    /// The value at the right end of the scale (the greatest bar when 0).
    pub max: f64,
    /// (segment class, text) pairs explaining the colours.
    pub legend: Vec<(String, String)>,
}

/// A labelled row: one bar, or several side by side (observed, expected).
#[derive(Debug, Clone, PartialEq)]
pub struct BarRow {
    /// The row's label, left of its bars.
    pub label: String,
    /// Its bars.
    pub bars: Vec<Bar>,
}

/// One bar: stacked segments and the text written after it.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Left to right.
    pub segments: Vec<Segment>,
    /// Written right of the bar (the value, as people read it).
    pub text: String,
}

/// A part of a bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// Its length, in the chart's unit.
    pub value: f64,
    /// Its colour class (`passed`, `observed`, ...).
    pub class: String,
    /// Its tooltip.
    pub title: String,
}

const LABEL_WIDTH: f64 = 150.0;
const BAR_WIDTH: f64 = 360.0;
const TEXT_WIDTH: f64 = 150.0;
const BAR_HEIGHT: f64 = 16.0;
const ROW_GAP: f64 = 8.0;

impl BarChart {
    /// The chart as an `<svg>` element with its legend, in a `<figure>`.
    pub fn render(&self) -> String {
        let greatest = self
            .rows
            .iter()
            .flat_map(|r| r.bars.iter().map(|b| b.segments.iter().map(|s| s.value.max(0.0)).sum::<f64>()))
            .fold(0.0, f64::max);
        let max = if self.max > 0.0 { self.max } else { greatest };
        let scale = if max > 0.0 { BAR_WIDTH / max } else { 0.0 };
        // A fold from +0: an empty f64 sum is -0, which SVG would read as "-0".
        let height =
            self.rows.iter().map(|r| r.bars.len().max(1) as f64 * BAR_HEIGHT + ROW_GAP).fold(0.0, |a, b| a + b);
        let width = LABEL_WIDTH + BAR_WIDTH + TEXT_WIDTH;
        let title = escape(&self.title);
        let mut out = format!(
            "<figure class=\"chart\"><figcaption>{title}</figcaption>\
             <svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"{title}\" width=\"{width}\" \
             height=\"{height}\" viewBox=\"0 0 {width} {height}\">"
        );
        let mut y = 0.0;
        for row in &self.rows {
            let rows_height = row.bars.len().max(1) as f64 * BAR_HEIGHT;
            let _ = write!(
                out,
                "<text class=\"label\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
                LABEL_WIDTH - 8.0,
                y + rows_height / 2.0 + 4.0,
                escape(&super::super::cut(&row.label, 24))
            );
            for bar in &row.bars {
                let mut x = LABEL_WIDTH;
                for segment in &bar.segments {
                    let w = segment.value.max(0.0) * scale;
                    if w > 0.0 {
                        let _ = write!(
                            out,
                            "<rect class=\"seg-{}\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{:.1}\"><title>{}</title></rect>",
                            escape(&segment.class),
                            y + 1.0,
                            BAR_HEIGHT - 2.0,
                            escape(&segment.title)
                        );
                    }
                    x += w;
                }
                let _ = write!(
                    out,
                    "<text class=\"value\" x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                    x + 6.0,
                    y + 12.0,
                    escape(&bar.text)
                );
                y += BAR_HEIGHT;
            }
            if row.bars.is_empty() {
                y += BAR_HEIGHT;
            }
            y += ROW_GAP;
        }
        out.push_str("</svg>");
        if !self.legend.is_empty() {
            out.push_str("<div class=\"legend\">");
            for (class, text) in &self.legend {
                let _ = write!(out, "<span><i class=\"swatch seg-{}\"></i>{}</span>", escape(class), escape(text));
            }
            out.push_str("</div>");
        }
        out.push_str("</figure>\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(values: &[(f64, &str)], text: &str) -> Bar {
        Bar {
            segments: values
                .iter()
                .map(|(value, class)| Segment { value: *value, class: (*class).into(), title: format!("{value}") })
                .collect(),
            text: text.into(),
        }
    }

    fn widths(svg: &str) -> Vec<f64> {
        svg.split("width=\"")
            .skip(2) // the <svg> element's own width
            .filter_map(|rest| rest.split('"').next()?.parse().ok())
            .collect()
    }

    #[test]
    fn bars_share_one_scale_and_stack_their_segments() {
        let chart = BarChart {
            title: "t".into(),
            rows: vec![
                BarRow { label: "a".into(), bars: vec![bar(&[(3.0, "passed"), (1.0, "failed")], "75%")] },
                BarRow { label: "b".into(), bars: vec![bar(&[(2.0, "passed")], "50%")] },
            ],
            max: 0.0,
            legend: vec![("passed".into(), "passed".into())],
        };
        let svg = chart.render();
        // The greatest bar (4) spans the whole width: 3 → 270, 1 → 90, 2 → 180.
        assert_eq!(widths(&svg), [270.0, 90.0, 180.0], "{svg}");
        assert!(svg.contains("x=\"420.0\""), "the second segment starts after the first: {svg}");
        assert!(svg.contains(">75%</text>") && svg.contains("class=\"swatch seg-passed\""));
    }

    #[test]
    fn a_fixed_scale_and_empty_or_negative_values_draw_nothing_wrong() {
        let chart = BarChart {
            title: "<shares>".into(),
            rows: vec![BarRow {
                label: "x".into(),
                bars: vec![bar(&[(0.25, "observed")], "25%"), bar(&[(-1.0, "expected"), (0.0, "expected")], "?")],
            }],
            max: 1.0,
            legend: Vec::new(),
        };
        let svg = chart.render();
        assert_eq!(widths(&svg), [90.0], "only the positive segment is drawn, on the fixed scale: {svg}");
        assert!(svg.contains("aria-label=\"&lt;shares&gt;\""));
        let empty = BarChart { title: "none".into(), rows: Vec::new(), max: 0.0, legend: Vec::new() }.render();
        assert!(empty.contains("height=\"0\""), "{empty}");
    }
}
