//! The period's volume by tone, as a stacked bar chart in SVG.

use chrono::Datelike;

use crate::model::Overview;
use crate::text::xml_escape;

/// Bar colours for positive, neutral and negative (the UI and the PDF share them).
pub(crate) const TONE_COLOURS: [&str; 3] = ["#2e7d32", "#9e9e9e", "#c62828"];
pub(crate) const TONE_LABELS: [&str; 3] = ["正面", "中性", "负面"];

/// A stacked bar per day (positive at the bottom, then neutral, then negative),
/// with a legend 正面/中性/负面. Self-contained SVG; every label is escaped.
pub fn tone_chart_svg(o: &Overview) -> String {
    let (w, h) = (640.0_f64, 240.0_f64);
    let (left, right, top, bottom) = (40.0, 10.0, 30.0, 30.0);
    let plot_w = w - left - right;
    let plot_h = h - top - bottom;
    let max = o.daily.iter().map(|(_, c)| c.iter().sum::<usize>()).max().unwrap_or(0).max(1);
    let n = o.daily.len().max(1) as f64;
    let slot = plot_w / n;
    let bar = (slot * 0.6).min(40.0);
    let font = "font-family=\"Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, SimHei, sans-serif\"";

    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"{}\">",
        xml_escape("每日信息量（按倾向）")
    );
    s.push_str(&format!("<rect x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" fill=\"#ffffff\"/>"));
    // Legend.
    for (i, (colour, label)) in TONE_COLOURS.iter().zip(TONE_LABELS).enumerate() {
        let x = left + i as f64 * 70.0;
        s.push_str(&format!(
            "<rect x=\"{x}\" y=\"8\" width=\"12\" height=\"12\" fill=\"{colour}\"/><text x=\"{}\" y=\"18\" font-size=\"12\" {font}>{}</text>",
            x + 16.0,
            xml_escape(label)
        ));
    }
    // Axis and scale.
    let base = top + plot_h;
    s.push_str(&format!(
        "<line x1=\"{left}\" y1=\"{base}\" x2=\"{}\" y2=\"{base}\" stroke=\"#333\" stroke-width=\"1\"/>",
        w - right
    ));
    s.push_str(&format!(
        "<text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"end\" {font}>{max}</text><text x=\"{}\" y=\"{base}\" font-size=\"10\" text-anchor=\"end\" {font}>0</text>",
        left - 4.0,
        top + 4.0,
        left - 4.0
    ));
    s.push_str(&format!(
        "<line x1=\"{left}\" y1=\"{top}\" x2=\"{}\" y2=\"{top}\" stroke=\"#ddd\" stroke-dasharray=\"3,3\"/>",
        w - right
    ));
    // Bars.
    let label_every = (o.daily.len() / 10).max(1);
    for (i, (day, counts)) in o.daily.iter().enumerate() {
        let x = left + i as f64 * slot + (slot - bar) / 2.0;
        let mut y = base;
        let mut title = format!("{}月{}日", day.month(), day.day());
        for (k, count) in counts.iter().enumerate() {
            title.push_str(&format!(" {}{}", TONE_LABELS[k], count));
            if *count == 0 {
                continue;
            }
            let bh = *count as f64 / max as f64 * plot_h;
            y -= bh;
            s.push_str(&format!(
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar:.1}\" height=\"{bh:.1}\" fill=\"{}\"/>",
                TONE_COLOURS[k]
            ));
        }
        s.push_str(&format!(
            "<rect x=\"{x:.1}\" y=\"{top}\" width=\"{bar:.1}\" height=\"{plot_h}\" fill=\"transparent\"><title>{}</title></rect>",
            xml_escape(&title)
        ));
        if i.is_multiple_of(label_every) {
            s.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\" {font}>{}</text>",
                x + bar / 2.0,
                base + 14.0,
                xml_escape(&format!("{}/{}", day.month(), day.day()))
            ));
        }
    }
    s.push_str("</svg>");
    s
}
