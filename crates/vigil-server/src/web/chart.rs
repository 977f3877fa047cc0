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
    let most = weeks
        .iter()
        .map(|w| w.information + w.alerts)
        .max()
        .unwrap_or(0)
        .max(1);
    let plot_height = HEIGHT - BOTTOM - TOP;
    let slot = (WIDTH - LEFT) / (weeks.len() as u64).max(1);
    let bar = (slot * 3 / 5).max(4);
    let scale = |n: u64| n * plot_height / most;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="chart-title"><title id="chart-title">{}</title>"#,
        escape(title)
    );
    // Axis and a few gridlines with their values.
    for step in 0..=4u64 {
        let value = most * step / 4;
        let y = HEIGHT - BOTTOM - scale(value);
        let _ = write!(
            svg,
            r#"<line class="grid" x1="{LEFT}" x2="{WIDTH}" y1="{y}" y2="{y}"/><text class="axis" x="{}" y="{}" text-anchor="end">{value}</text>"#,
            LEFT - 6,
            y + 4
        );
    }
    for (i, week) in weeks.iter().enumerate() {
        let x = LEFT + slot * i as u64 + (slot - bar) / 2;
        let info_height = scale(week.information);
        let alert_height = scale(week.alerts);
        let base = HEIGHT - BOTTOM;
        let _ = write!(
            svg,
            r#"<rect class="bar-information" x="{x}" y="{}" width="{bar}" height="{info_height}"><title>{}: {} information items</title></rect>"#,
            base - info_height,
            escape(&week.label),
            week.information
        );
        let _ = write!(
            svg,
            r#"<rect class="bar-alert" x="{x}" y="{}" width="{bar}" height="{alert_height}"><title>{}: {} alerts</title></rect>"#,
            base - info_height - alert_height,
            escape(&week.label),
            week.alerts
        );
        if i % 2 == 0 || weeks.len() <= 8 {
            let _ = write!(
                svg,
                r#"<text class="axis" x="{}" y="{}" text-anchor="middle">{}</text>"#,
                x + bar / 2,
                HEIGHT - BOTTOM + 16,
                escape(&week.label)
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
