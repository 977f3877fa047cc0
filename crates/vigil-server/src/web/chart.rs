//! Charts drawn as SVG on the server: no script, and readable with the
//! data table every chart comes with.
use crate::pages::escape;
use std::fmt::Write;

/// One bar of a stacked weekly chart: its label and the two series.
pub struct WeekBar {
    pub label: String,
    pub information: u64,
    pub alerts: u64,
}

const WIDTH: u64 = 720;
const HEIGHT: u64 = 240;
const LEFT: u64 = 40;
const BOTTOM: u64 = 40;
const TOP: u64 = 16;

/// A stacked bar chart of information items and alerts per week.
pub fn weekly_bars(title: &str, weeks: &[WeekBar]) -> String {
    let columns: Vec<(String, [u64; 2])> = weeks
        .iter()
        .map(|w| (w.label.clone(), [w.information, w.alerts]))
        .collect();
    stacked_columns(
        title,
        "chart-title",
        [
            ("bar-information", "information items"),
            ("bar-alert", "alerts"),
        ],
        &columns,
    )
}

/// Columns of two stacked series, each series a (CSS class, name) pair:
/// a column's title reads "label: value name".
pub fn stacked_columns(
    title: &str,
    id: &str,
    series: [(&str, &str); 2],
    columns: &[(String, [u64; 2])],
) -> String {
    let most = columns
        .iter()
        .map(|(_, v)| v[0].saturating_add(v[1]))
        .max()
        .unwrap_or(0)
        .max(1);
    let plot_height = HEIGHT - BOTTOM - TOP;
    let slot = (WIDTH - LEFT) / (columns.len() as u64).max(1);
    let bar = (slot * 3 / 5).clamp(4, 64);
    // In u128: sums of money in minor units may be large.
    let scale = |n: u64| (u128::from(n) * u128::from(plot_height) / u128::from(most)) as u64;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{id}"><title id="{id}">{}</title>"#,
        escape(title)
    );
    // Axis and a few gridlines with their values.
    for step in 0..=4u64 {
        let value = (u128::from(most) * u128::from(step) / 4) as u64;
        let y = HEIGHT - BOTTOM - scale(value);
        let _ = write!(
            svg,
            r#"<line class="grid" x1="{LEFT}" x2="{WIDTH}" y1="{y}" y2="{y}"/><text class="axis" x="{}" y="{}" text-anchor="end">{value}</text>"#,
            LEFT - 6,
            y + 4
        );
    }
    for (i, (label, values)) in columns.iter().enumerate() {
        let x = LEFT + slot * i as u64 + (slot - bar) / 2;
        let mut base = HEIGHT - BOTTOM;
        for ((class, name), value) in series.iter().zip(values) {
            let height = scale(*value);
            let _ = write!(
                svg,
                r#"<rect class="{class}" x="{x}" y="{}" width="{bar}" height="{height}"><title>{}: {value} {}</title></rect>"#,
                base - height,
                escape(label),
                escape(name)
            );
            base -= height;
        }
        if i % 2 == 0 || columns.len() <= 8 {
            let _ = write!(
                svg,
                r#"<text class="axis" x="{}" y="{}" text-anchor="middle">{}</text>"#,
                x + bar / 2,
                HEIGHT - BOTTOM + 16,
                escape(label)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// A horizontal bar chart of labelled values (votes or seats per list).
pub fn horizontal_bars(title: &str, id: &str, bars: &[(String, u64)]) -> String {
    const ROW: u64 = 28;
    const LABEL: u64 = 200;
    let most = bars.iter().map(|b| b.1).max().unwrap_or(0).max(1);
    let height = ROW * (bars.len() as u64).max(1) + 8;
    let plot = WIDTH - LABEL - 80;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="{id}"><title id="{id}">{}</title>"#,
        escape(title)
    );
    for (i, (label, value)) in bars.iter().enumerate() {
        let y = ROW * i as u64 + 4;
        let width = value * plot / most;
        let _ = write!(
            svg,
            r#"<text class="axis" x="{}" y="{}" text-anchor="end">{}</text><rect class="bar-votes" x="{LABEL}" y="{y}" width="{width}" height="{}"><title>{}: {value}</title></rect><text class="axis" x="{}" y="{}">{value}</text>"#,
            LABEL - 8,
            y + 17,
            escape(label),
            ROW - 8,
            escape(label),
            LABEL + width + 6,
            y + 17,
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn horizontal_bars_scale_to_the_largest_and_escape_labels() {
        let svg = horizontal_bars("Votes", "v", &[("<A>".into(), 10), ("B".into(), 5)]);
        assert!(
            svg.contains(r#"width="440" height="20"><title>&lt;A&gt;: 10"#),
            "{svg}"
        );
        assert!(
            svg.contains(r#"width="220" height="20"><title>B: 5"#),
            "{svg}"
        );
    }

    #[test]
    fn bars_are_scaled_to_the_largest_week_and_labels_escaped() {
        let svg = weekly_bars(
            "Per <week>",
            &[
                WeekBar {
                    label: "W1".into(),
                    information: 1,
                    alerts: 3,
                },
                WeekBar {
                    label: "W2".into(),
                    information: 0,
                    alerts: 0,
                },
            ],
        );
        assert!(svg.contains("<title id=\"chart-title\">Per &lt;week&gt;</title>"));
        // The tallest stack fills the plot: 184 px for 4 items.
        assert!(svg.contains(r#"height="46"><title>W1: 1 information items"#));
        assert!(svg.contains(r#"height="138"><title>W1: 3 alerts"#));
        assert!(svg.contains(r#"height="0"><title>W2: 0 alerts"#));
    }
}
