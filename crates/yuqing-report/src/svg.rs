//! Two chart shapes as hand-written SVG: vertical stacked bars (volume by day and
//! tone) and horizontal bars (by tier, source, category).
//!
//! Hand-written rather than a plotting crate: the charts are two simple shapes, the
//! plotting crates pull in font and raster stacks we do not need (typst already
//! rasterises nothing and embeds SVG as vectors), and we want byte-stable output for
//! golden tests. Rules kept here:
//! - every piece of text goes through [`xml_escape`]; attribute values are ours;
//! - numbers are written with at most one decimal, so the output is stable;
//! - labels are cut to the room they have (with "…") and the full text is kept in a
//!   `<title>` tooltip, so a hostile 10 000-character source name cannot widen the
//!   picture; the number of bars is bounded by the callers' data (days ≤ 366, rows
//!   cut to [`MAX_ROWS`]).

use crate::text::xml_escape;

/// CJK families first (the PDF has Noto CJK SC; browsers on Windows and macOS have
/// the others). Single quotes, as this sits in a double-quoted attribute.
pub(crate) const FONT_FAMILY: &str =
    "'Noto Sans CJK SC', 'Source Han Sans SC', 'Microsoft YaHei', 'PingFang SC', sans-serif";

/// Most rows a horizontal bar chart draws; callers fold the rest into "其他".
pub(crate) const MAX_ROWS: usize = 20;

/// One stacked series: its legend name, fill colour (`#rrggbb`, ours) and a value per bar.
#[derive(Debug, Clone)]
pub(crate) struct Series<'a> {
    pub name: &'a str,
    pub colour: &'a str,
    pub values: Vec<usize>,
}

/// A number as SVG wants it: at most one decimal, no trailing ".0".
fn n(x: f64) -> String {
    let s = format!("{:.1}", x);
    match s.strip_suffix(".0") {
        Some("-0") => "0".to_string(),
        Some(t) => t.to_string(),
        None => s,
    }
}

/// Width of a text in user units, estimated: wide (CJK, full-width) characters are
/// one em, others about 0.6 em. Good enough to leave room; no font metrics needed.
pub(crate) fn text_width(s: &str, size: f64) -> f64 {
    s.chars().map(|c| if is_wide(c) { 1.0 } else { 0.6 }).sum::<f64>() * size
}

fn is_wide(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6 | 0x20000..=0x3FFFD)
}

/// `s` cut to fit `max` user units at `size`, ending in "…" when cut. Control
/// characters become spaces (a label is one line).
pub(crate) fn fit(s: &str, max: f64, size: f64) -> String {
    let clean: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let clean = clean.trim();
    if text_width(clean, size) <= max {
        return clean.to_string();
    }
    let mut out = String::new();
    let mut w = text_width("…", size);
    for c in clean.chars() {
        let cw = if is_wide(c) { size } else { 0.6 * size };
        if w + cw > max {
            break;
        }
        w += cw;
        out.push(c);
    }
    out.push('…');
    out
}

/// A "nice" axis top (1, 2, 2.5, 5 × 10^k) at or above `max`, and its tick step.
pub(crate) fn nice_scale(max: usize) -> (usize, usize) {
    let max = max.max(1);
    if max <= 5 {
        return (max, 1);
    }
    let target = max.div_ceil(4);
    let mut magnitude = 1usize;
    while magnitude.saturating_mul(10) <= target {
        magnitude = magnitude.saturating_mul(10);
    }
    let step =
        [1, 2, 5, 10].iter().map(|m| m * magnitude).find(|s| *s >= target).unwrap_or(magnitude.saturating_mul(10));
    (max.div_ceil(step).saturating_mul(step), step)
}

fn open(w: f64, h: f64, title: &str) -> String {
    let t = xml_escape(title);
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"{t}\" font-family=\"{FONT_FAMILY}\">\n<title>{t}</title>\n<rect x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" fill=\"#ffffff\"/>\n<text x=\"{}\" y=\"20\" font-size=\"14\" font-weight=\"bold\" text-anchor=\"middle\" fill=\"#222222\">{t}</text>\n",
        n(w / 2.0),
        w = n(w),
        h = n(h),
    )
}

fn text(x: f64, y: f64, size: u32, anchor: &str, fill: &str, s: &str) -> String {
    format!(
        "<text x=\"{}\" y=\"{}\" font-size=\"{size}\" text-anchor=\"{anchor}\" fill=\"{fill}\">{}</text>\n",
        n(x),
        n(y),
        xml_escape(s)
    )
}

/// Vertical stacked bars, one per label, series stacked bottom-up in order, with a
/// legend, a scale with grid lines, and each bar's total on top when there is room.
pub(crate) fn stacked_bars(title: &str, labels: &[String], series: &[Series<'_>], width: f64, height: f64) -> String {
    let (left, right, top, bottom) = (44.0, 12.0, 56.0, 30.0);
    let plot_w = width - left - right;
    let plot_h = height - top - bottom;
    let bars = labels.len();
    let totals: Vec<usize> =
        (0..bars).map(|i| series.iter().map(|s| s.values.get(i).copied().unwrap_or(0)).sum()).collect();
    let (scale_top, step) = nice_scale(totals.iter().copied().max().unwrap_or(0));
    let mut s = open(width, height, title);

    // Legend, centred under the title.
    let item_w: Vec<f64> = series.iter().map(|se| 16.0 + text_width(se.name, 12.0) + 14.0).collect();
    let mut x = (width - item_w.iter().sum::<f64>()) / 2.0;
    for (se, w) in series.iter().zip(&item_w) {
        s.push_str(&format!("<rect x=\"{}\" y=\"30\" width=\"12\" height=\"12\" fill=\"{}\"/>\n", n(x), se.colour));
        s.push_str(&text(x + 16.0, 40.5, 12, "start", "#333333", se.name));
        x += w;
    }

    // Scale: grid lines and their values.
    let base = top + plot_h;
    let mut v = 0;
    while v <= scale_top {
        let y = base - v as f64 / scale_top as f64 * plot_h;
        let colour = if v == 0 { "#333333" } else { "#e0e0e0" };
        s.push_str(&format!(
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{colour}\" stroke-width=\"1\"/>\n",
            n(left),
            n(y),
            n(width - right),
            n(y)
        ));
        s.push_str(&text(left - 5.0, y + 3.5, 10, "end", "#555555", &v.to_string()));
        match v.checked_add(step) {
            Some(next) => v = next,
            None => break,
        }
    }

    if bars == 0 {
        s.push_str(&text(left + plot_w / 2.0, top + plot_h / 2.0, 12, "middle", "#777777", "本期无数据"));
        s.push_str("</svg>\n");
        return s;
    }
    let slot = plot_w / bars as f64;
    let bar_w = (slot * 0.64).min(36.0);
    // Label every k-th bar so labels never overlap (estimate: 5 characters).
    let every = (text_width("12/31", 10.0) + 6.0).div_euclid(slot).max(0.0) as usize + 1;
    let show_totals = slot >= text_width("9999", 9.0);
    for (i, label) in labels.iter().enumerate() {
        let x = left + i as f64 * slot + (slot - bar_w) / 2.0;
        let mut y = base;
        let mut tip = label.clone();
        for se in series {
            let value = se.values.get(i).copied().unwrap_or(0);
            tip.push_str(&format!(" {}{}", se.name, value));
            if value == 0 {
                continue;
            }
            let h = value as f64 / scale_top as f64 * plot_h;
            y -= h;
            s.push_str(&format!(
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{}</title></rect>\n",
                n(x),
                n(y),
                n(bar_w),
                n(h),
                se.colour,
                xml_escape(&format!("{label} {}{value}", se.name))
            ));
        }
        if show_totals && totals[i] > 0 {
            s.push_str(&text(x + bar_w / 2.0, y - 3.0, 9, "middle", "#333333", &totals[i].to_string()));
        }
        if i % every == 0 {
            s.push_str(&text(
                x + bar_w / 2.0,
                base + 14.0,
                10,
                "middle",
                "#333333",
                &fit(label, slot * every as f64, 10.0),
            ));
        }
        // The whole day's counts as one tooltip over the bar's column.
        s.push_str(&format!(
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" pointer-events=\"all\"><title>{}</title></rect>\n",
            n(x),
            n(top),
            n(bar_w),
            n(plot_h),
            xml_escape(&tip)
        ));
    }
    s.push_str("</svg>\n");
    s
}

/// Horizontal bars, one row per `(label, value)` in the given order (at most
/// [`MAX_ROWS`]), the value written after each bar. Height grows with the rows.
pub(crate) fn hbars(title: &str, rows: &[(String, usize)], colour: &str, width: f64) -> String {
    let rows = &rows[..rows.len().min(MAX_ROWS)];
    let row_h = 22.0;
    let top = 34.0;
    let height = top + (rows.len().max(1) as f64) * row_h + 12.0;
    // Labels get up to a third of the width; what does not fit is cut.
    let widest = rows.iter().map(|(l, _)| text_width(l, 12.0)).fold(0.0, f64::max);
    let label_w = widest.clamp(40.0, (width / 3.0).max(40.0));
    let left = 10.0 + label_w + 8.0;
    let value_room = text_width("999999", 11.0) + 8.0;
    let plot_w = (width - left - value_room - 10.0).max(10.0);
    let max = rows.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let mut s = open(width, height, title);
    if rows.is_empty() {
        s.push_str(&text(width / 2.0, top + row_h / 2.0 + 4.0, 12, "middle", "#777777", "本期无数据"));
        s.push_str("</svg>\n");
        return s;
    }
    s.push_str(&format!(
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#333333\" stroke-width=\"1\"/>\n",
        n(left),
        n(top - 2.0),
        n(left),
        n(top + rows.len() as f64 * row_h)
    ));
    for (i, (label, value)) in rows.iter().enumerate() {
        let y = top + i as f64 * row_h;
        let w = *value as f64 / max as f64 * plot_w;
        s.push_str(&format!("<g><title>{}</title>\n", xml_escape(&format!("{label}：{value}"))));
        s.push_str(&text(left - 8.0, y + row_h / 2.0 + 4.0, 12, "end", "#333333", &fit(label, label_w, 12.0)));
        if *value > 0 {
            s.push_str(&format!(
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{colour}\"/>\n",
                n(left),
                n(y + 4.0),
                n(w.max(1.0)),
                n(row_h - 8.0)
            ));
        }
        s.push_str(&text(left + w + 5.0, y + row_h / 2.0 + 4.0, 11, "start", "#333333", &value.to_string()));
        s.push_str("</g>\n");
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_have_at_most_one_decimal() {
        assert_eq!(n(12.0), "12");
        assert_eq!(n(12.345), "12.3");
        assert_eq!(n(-0.01), "0");
        assert_eq!(n(0.05), "0.1");
    }

    #[test]
    fn nice_scale_rounds_up_to_readable_steps() {
        assert_eq!(nice_scale(0), (1, 1));
        assert_eq!(nice_scale(4), (4, 1));
        assert_eq!(nice_scale(7), (8, 2));
        assert_eq!(nice_scale(13), (15, 5));
        let (top, step) = nice_scale(13);
        assert!(top >= 13 && top % step == 0 && top / step <= 5, "{top} {step}");
        let (top, step) = nice_scale(1234);
        assert_eq!((top, step), (1500, 500));
        let (top, step) = nice_scale(usize::MAX / 2);
        assert!(top >= usize::MAX / 2 && step > 0);
    }

    #[test]
    fn fit_cuts_long_labels_and_keeps_short_ones() {
        assert_eq!(fit("赣州论坛", 100.0, 12.0), "赣州论坛");
        let cut = fit(&"很长的来源名称".repeat(20), 60.0, 12.0);
        assert!(cut.ends_with('…'));
        assert!(text_width(&cut, 12.0) <= 60.0, "{cut}");
        assert_eq!(fit("a\nb\tc", 100.0, 12.0), "a b c");
    }

    #[test]
    fn text_is_escaped_everywhere() {
        let hostile = "<script>alert('x')</script>&\"";
        let svg = hbars(hostile, &[(hostile.to_string(), 3)], "#336699", 480.0);
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;"));
        let svg = stacked_bars(
            hostile,
            &[hostile.to_string()],
            &[Series { name: hostile, colour: "#000000", values: vec![1] }],
            480.0,
            200.0,
        );
        assert!(!svg.contains("<script>") && !svg.contains("'x')</"));
    }

    #[test]
    fn empty_charts_say_so() {
        assert!(hbars("来源", &[], "#336699", 480.0).contains("本期无数据"));
        assert!(stacked_bars("走势", &[], &[], 480.0, 200.0).contains("本期无数据"));
    }

    #[test]
    fn rows_are_bounded() {
        let rows: Vec<(String, usize)> = (0..500).map(|i| (format!("来源{i}"), i)).collect();
        let svg = hbars("来源", &rows, "#336699", 480.0);
        assert_eq!(svg.matches("<g>").count(), MAX_ROWS);
    }
}
