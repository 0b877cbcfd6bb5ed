//! The charts of the bulletin and the reports, as SVG (see [`crate::svg`] for the
//! drawing rules). The web UI inlines these strings; the PDF embeds the same SVG.

use chrono::{Datelike, NaiveDate};

use crate::model::Overview;
use crate::stats::Report;
use crate::svg::{hbars, stacked_bars, Series};

/// Bar colours for positive, neutral and negative (the UI and the PDF share them).
pub(crate) const TONE_COLOURS: [&str; 3] = ["#2e7d32", "#9e9e9e", "#c62828"];
pub(crate) const TONE_LABELS: [&str; 3] = ["正面", "中性", "负面"];
/// Fill of the horizontal bar charts.
const BAR_COLOUR: &str = "#2f5c8f";
/// Chart width in user units (px in the UI; the PDF scales it to the text width).
const WIDTH: f64 = 640.0;

fn by_day_tone(title: &str, daily: &[(NaiveDate, [usize; 3])]) -> String {
    let labels: Vec<String> = daily.iter().map(|(d, _)| format!("{}/{}", d.month(), d.day())).collect();
    let series: Vec<Series<'_>> = (0..3)
        .map(|k| Series {
            name: TONE_LABELS[k],
            colour: TONE_COLOURS[k],
            values: daily.iter().map(|(_, c)| c[k]).collect(),
        })
        .collect();
    stacked_bars(title, &labels, &series, WIDTH, 260.0)
}

/// The bulletin's chart: a stacked bar per day (positive at the bottom, then
/// neutral, then negative), with a legend 正面/中性/负面. Self-contained SVG.
pub fn tone_chart_svg(o: &Overview) -> String {
    by_day_tone("每日信息量（按倾向）", &o.daily)
}

/// The charts of a statistics report, as self-contained SVG documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportCharts {
    /// Volume by day and tone (stacked bars).
    pub daily: String,
    /// Items by source tier.
    pub by_tier: String,
    /// Items of the busiest sources (the rest as "其他").
    pub by_source: String,
    /// Items by key-content category.
    pub by_category: String,
}

/// Draws the report's charts. Stable: the same report gives the same bytes.
pub fn report_charts(r: &Report) -> ReportCharts {
    let tiers: Vec<(String, usize)> = r.by_tier.iter().map(|(t, n)| (t.zh().to_string(), *n)).collect();
    let mut sources: Vec<(String, usize)> = r.by_source.iter().map(|s| (s.source.clone(), s.items)).collect();
    if r.other_sources > 0 {
        sources.push(("其他".to_string(), r.other_sources));
    }
    let mut cats: Vec<(String, usize)> = r.by_category.iter().map(|(c, n)| (c.zh().to_string(), *n)).collect();
    if r.uncategorised > 0 {
        cats.push(("未分类".to_string(), r.uncategorised));
    }
    ReportCharts {
        daily: by_day_tone("每日信息量（按倾向）", &r.daily),
        by_tier: hbars("信源级别分布", &tiers, BAR_COLOUR, WIDTH),
        by_source: hbars("主要来源", &sources, BAR_COLOUR, WIDTH),
        by_category: hbars("重点内容类别分布", &cats, BAR_COLOUR, WIDTH),
    }
}
