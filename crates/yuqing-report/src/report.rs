//! The statistics report rendered as HTML (a fragment for the web UI, or a whole
//! printable page), PDF (typst, `report.typ`) and DOCX.
//!
//! The wording is built once, format-neutral, as a list of [`Block`]s (headings,
//! paragraphs, charts, tables); each format only lays the blocks out. So the three
//! documents always say the same thing, and a new section is written once.

use chrono::Datelike;
use serde_json::{json, Value};

use crate::chart::{report_charts, ReportCharts};
use crate::docx::{core_xml, package, para, red_header, table, DOCUMENT_END, DOCUMENT_START, TEXT_WIDTH};
use crate::fonts::FontSet;
use crate::stats::{DeadlineCount, Report, ReportKind};
use crate::text::{xml_escape, zh_date, zh_ordinal};
use crate::typeset::{typeset, SANS, SERIF};
use crate::ReportError;

const TEMPLATE: &str = include_str!("report.typ");

/// One piece of the report.
enum Block {
    Heading(String),
    Para(String),
    /// Which chart; HTML and PDF draw the SVG, DOCX shows the table that follows.
    Chart(&'static str),
    Table {
        header: Vec<&'static str>,
        /// Relative widths.
        widths: Vec<u32>,
        /// `l`, `c` or `r` per column.
        align: &'static str,
        rows: Vec<Vec<String>>,
    },
}

/// "50.0%" or "—" when nothing is decided yet.
fn percent(c: &DeadlineCount) -> String {
    c.share().map(|s| format!("{:.1}%", s * 100.0)).unwrap_or_else(|| "—".to_string())
}

fn share_of(n: usize, total: usize) -> String {
    if total == 0 {
        "—".to_string()
    } else {
        format!("{:.1}%", n as f64 * 100.0 / total as f64)
    }
}

/// "2026年4月27日至5月3日", "2026年4月" for a whole month, one date for a day.
pub(crate) fn report_period_text(r: &Report) -> String {
    let (a, z) = r.spec.period;
    if a == z {
        return zh_date(a);
    }
    if r.spec.kind == ReportKind::Monthly && (a, z) == ReportKind::Monthly.period_containing(a) {
        return format!("{}年{}月", a.year(), a.month());
    }
    if a.year() == z.year() {
        format!("{}至{}月{}日", zh_date(a), z.month(), z.day())
    } else {
        format!("{}至{}", zh_date(a), zh_date(z))
    }
}

/// "本日", "本周", "本月".
fn this(kind: ReportKind) -> &'static str {
    match kind {
        ReportKind::Daily => "本日",
        ReportKind::Weekly => "本周",
        ReportKind::Monthly => "本月",
    }
}

fn blocks(r: &Report) -> Vec<Block> {
    let mut b = Vec::new();
    let mut section = 0;
    let mut heading = |b: &mut Vec<Block>, title: &str| {
        section += 1;
        b.push(Block::Heading(format!("{}、{}", zh_ordinal(section), title)));
    };
    let when = this(r.spec.kind);

    heading(&mut b, "总体情况");
    let [pos, neu, neg] = r.by_tone;
    let levels: Vec<String> = r.by_level.iter().map(|(l, n)| format!("{}{}条", l.zh(), n)).collect();
    b.push(Block::Para(format!(
        "{when}（{}）共监测到相关网上舆情信息{}条，其中正面{pos}条、中性{neu}条、负面{neg}条，负面信息占{}；按等级分，{}。",
        report_period_text(r),
        r.total,
        share_of(neg, r.total),
        levels.join("、")
    )));

    heading(&mut b, "信息走势");
    b.push(Block::Chart("daily"));
    if r.daily.len() <= 31 {
        let rows = r
            .daily
            .iter()
            .map(|(d, c)| {
                let mut row = vec![format!("{}月{}日", d.month(), d.day())];
                row.extend(c.iter().map(|n| n.to_string()));
                row.push(c.iter().sum::<usize>().to_string());
                row
            })
            .collect();
        b.push(Block::Table {
            header: vec!["日期", "正面", "中性", "负面", "合计"],
            widths: vec![3, 2, 2, 2, 2],
            align: "crrrr",
            rows,
        });
    }

    heading(&mut b, "来源分布");
    b.push(Block::Chart("by_tier"));
    b.push(Block::Table {
        header: vec!["信源级别", "信息数", "占比"],
        widths: vec![4, 2, 2],
        align: "lrr",
        rows: r.by_tier.iter().map(|(t, n)| vec![t.zh().to_string(), n.to_string(), share_of(*n, r.total)]).collect(),
    });
    if !r.by_source.is_empty() {
        b.push(Block::Para(format!("信息量居前的{}个来源：", r.by_source.len())));
        b.push(Block::Chart("by_source"));
        let mut rows: Vec<Vec<String>> = r
            .by_source
            .iter()
            .enumerate()
            .map(|(i, s)| {
                vec![
                    (i + 1).to_string(),
                    s.source.clone(),
                    s.tier.zh().to_string(),
                    s.items.to_string(),
                    s.negative.to_string(),
                ]
            })
            .collect();
        if r.other_sources > 0 {
            rows.push(vec![
                String::new(),
                "其他来源".to_string(),
                String::new(),
                r.other_sources.to_string(),
                String::new(),
            ]);
        }
        b.push(Block::Table {
            header: vec!["序号", "来源", "信源级别", "信息数", "其中负面"],
            widths: vec![1, 5, 3, 2, 2],
            align: "clcrr",
            rows,
        });
    }

    heading(&mut b, "重点内容类别");
    if r.by_category.is_empty() {
        b.push(Block::Para(format!("{when}信息均未归入重点内容类别。")));
    } else {
        b.push(Block::Chart("by_category"));
        let mut rows: Vec<Vec<String>> =
            r.by_category.iter().map(|(c, n)| vec![c.zh().to_string(), n.to_string(), share_of(*n, r.total)]).collect();
        if r.uncategorised > 0 {
            rows.push(vec!["未分类".to_string(), r.uncategorised.to_string(), share_of(r.uncategorised, r.total)]);
        }
        b.push(Block::Table {
            header: vec!["类别", "信息数", "占比"], widths: vec![4, 2, 2], align: "lrr", rows
        });
        b.push(Block::Para("一条信息可属多个类别，占比按信息总数计。".to_string()));
    }

    heading(&mut b, "主要事件");
    if r.top_events.is_empty() {
        b.push(Block::Para(format!("{when}未发现多条信息转载传播的事件。")));
    } else {
        b.push(Block::Table {
            header: vec!["序号", "事件", "信息数", "来源数"],
            widths: vec![1, 8, 2, 2],
            align: "clrr",
            rows: r
                .top_events
                .iter()
                .enumerate()
                .map(|(i, e)| vec![(i + 1).to_string(), e.title.clone(), e.items.to_string(), e.sources.to_string()])
                .collect(),
        });
    }

    heading(&mut b, "处置时效");
    let t = &r.timeliness;
    if t.cases == 0 {
        b.push(Block::Para(format!("{when}无报送的处置单。")));
    } else {
        b.push(Block::Para(format!(
            "{when}报送处置单{}件。按时研判{}件、超时{}件、待研判{}件，按时研判率{}；按时回应{}件、超时{}件、待回应{}件，按时回应率{}。",
            t.cases,
            t.assess.in_time,
            t.assess.late,
            t.assess.pending,
            percent(&t.assess),
            t.answer.in_time,
            t.answer.late,
            t.answer.pending,
            percent(&t.answer)
        )));
        let row = |name: String, cases: usize, a: &DeadlineCount, r: &DeadlineCount| {
            vec![
                name,
                cases.to_string(),
                a.in_time.to_string(),
                a.late.to_string(),
                percent(a),
                r.in_time.to_string(),
                r.late.to_string(),
                percent(r),
            ]
        };
        let mut rows: Vec<Vec<String>> =
            t.by_level.iter().map(|l| row(l.level.zh().to_string(), l.cases, &l.assess, &l.answer)).collect();
        rows.push(row("合计".to_string(), t.cases, &t.assess, &t.answer));
        b.push(Block::Table {
            header: vec!["等级", "处置单", "按时研判", "超时研判", "按时研判率", "按时回应", "超时回应", "按时回应率"],
            widths: vec![3, 2, 2, 2, 3, 2, 2, 3],
            align: "lrrrrrrr",
            rows,
        });
        b.push(Block::Para(
            "时限按等级：重大敏感30分钟内研判、5小时内回应；重要2小时、24小时；一般24小时、48小时（可配置）。未办且已过时限计为超时；不予处置而关闭的不计入回应。"
                .to_string(),
        ));
    }
    b
}

fn chart_svg<'a>(charts: &'a ReportCharts, which: &str) -> &'a str {
    match which {
        "by_tier" => &charts.by_tier,
        "by_source" => &charts.by_source,
        "by_category" => &charts.by_category,
        _ => &charts.daily,
    }
}

const FRAGMENT_CSS: &str = r#"
.yq-report { font-family: "FangSong", "仿宋", "Noto Serif CJK SC", "SimSun", serif; font-size: 15px; line-height: 1.7; color: #000; max-width: 760px; }
.yq-report .red-title { font-family: "方正小标宋简体", "Noto Serif CJK SC", "SimSun", serif; color: #d40000; font-size: 30px; font-weight: bold; text-align: center; letter-spacing: 0.08em; margin: 0; }
.yq-report .number { text-align: center; margin: 0.3em 0 0.5em; }
.yq-report .byline { display: flex; justify-content: space-between; }
.yq-report .rule { border: 0; border-top: 2.5px solid #d40000; margin: 0.2em 0 1em; }
.yq-report h2 { font-family: "SimHei", "黑体", "Noto Sans CJK SC", sans-serif; font-size: 17px; margin: 1.2em 0 0.4em; }
.yq-report p { margin: 0.3em 0; text-indent: 2em; }
.yq-report table { border-collapse: collapse; width: 100%; font-size: 13px; margin: 0.5em 0; }
.yq-report th, .yq-report td { border: 1px solid #000; padding: 2px 6px; }
.yq-report th { background: #f2f2f2; }
.yq-report td.r { text-align: right; } .yq-report td.c { text-align: center; }
.yq-report .chart svg { max-width: 100%; height: auto; }
"#;

/// The report as an HTML fragment (`<article class="yq-report">…</article>`, its
/// styles scoped under that class) for the web UI to place inside its own page.
/// Every piece of text is escaped; the charts are inline SVG.
pub fn report_html_fragment(r: &Report) -> String {
    let e = xml_escape;
    let charts = report_charts(r);
    let mut h = String::with_capacity(64 * 1024);
    h.push_str(&format!("<article class=\"yq-report\">\n<style>{FRAGMENT_CSS}</style>\n<header>\n"));
    h.push_str(&format!("<h1 class=\"red-title\">{}</h1>\n", e(&r.spec.title)));
    h.push_str(&format!("<div class=\"number\">（{}）</div>\n", e(&report_period_text(r))));
    h.push_str(&format!(
        "<div class=\"byline\"><span>编：{}</span><span>{}</span></div>\n<hr class=\"rule\">\n</header>\n",
        e(&r.spec.compiled_by),
        e(&zh_date(r.spec.date))
    ));
    for block in blocks(r) {
        match block {
            Block::Heading(t) => h.push_str(&format!("<h2>{}</h2>\n", e(&t))),
            Block::Para(t) => h.push_str(&format!("<p>{}</p>\n", e(&t))),
            Block::Chart(which) => h.push_str(&format!("<div class=\"chart\">{}</div>\n", chart_svg(&charts, which))),
            Block::Table { header, align, rows, .. } => {
                h.push_str("<table>\n<tr>");
                for c in header {
                    h.push_str(&format!("<th>{}</th>", e(c)));
                }
                h.push_str("</tr>\n");
                for row in rows {
                    h.push_str("<tr>");
                    for (c, a) in row.iter().zip(align.chars()) {
                        let class = match a {
                            'r' => " class=\"r\"",
                            'c' => " class=\"c\"",
                            _ => "",
                        };
                        h.push_str(&format!("<td{class}>{}</td>", e(c)));
                    }
                    h.push_str("</tr>\n");
                }
                h.push_str("</table>\n");
            }
        }
    }
    h.push_str("</article>\n");
    h
}

/// The report as a whole, printable HTML page.
pub fn render_report_html(r: &Report) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>@page {{ size: A4; margin: 30mm 26mm 30mm 28mm; }} body {{ margin: 2em auto; max-width: 760px; }}</style>\n</head>\n<body>\n{}</body>\n</html>\n",
        xml_escape(&format!("{}（{}）", r.spec.title, report_period_text(r))),
        report_html_fragment(r)
    )
}

/// The report as a PDF: the same red header as the bulletin, charts embedded as SVG
/// (vectors, their text in the CJK fonts). Fails with [`ReportError::MissingFont`]
/// when the Simplified Chinese families are not in `fonts`.
pub fn render_report_pdf(r: &Report, fonts: &FontSet) -> Result<Vec<u8>, ReportError> {
    let charts = report_charts(r);
    let blocks: Vec<Value> = blocks(r)
        .into_iter()
        .map(|b| match b {
            Block::Heading(t) => json!({"kind": "heading", "text": t}),
            Block::Para(t) => json!({"kind": "para", "text": t}),
            Block::Chart(which) => json!({"kind": "chart", "svg": chart_svg(&charts, which)}),
            Block::Table { header, widths, align, rows } => json!({
                "kind": "table",
                "header": header,
                "widths": widths,
                "align": align.chars().map(|a| a.to_string()).collect::<Vec<_>>(),
                "rows": rows,
            }),
        })
        .collect();
    let data = json!({
        "serif": SERIF,
        "sans": SANS,
        "title": r.spec.title,
        "doc_title": format!("{}（{}）", r.spec.title, report_period_text(r)),
        "period": format!("（{}）", report_period_text(r)),
        "compiled_by": format!("编：{}", r.spec.compiled_by),
        "author": r.spec.compiled_by,
        "date": zh_date(r.spec.date),
        "blocks": blocks,
    });
    typeset(TEMPLATE, &data, r.spec.date, fonts)
}

/// The report as a DOCX. Charts are shown by their tables (every chart's numbers
/// are in the table after it), which Word users can turn into a chart themselves.
pub fn render_report_docx(r: &Report) -> Result<Vec<u8>, ReportError> {
    let mut d = String::with_capacity(32 * 1024);
    d.push_str(DOCUMENT_START);
    d.push_str(&red_header(
        &r.spec.title,
        &format!("（{}）", report_period_text(r)),
        &format!("编：{}", r.spec.compiled_by),
        &zh_date(r.spec.date),
    ));
    for block in blocks(r) {
        match block {
            Block::Heading(t) => d.push_str(&para("Heading1", &t)),
            Block::Para(t) => d.push_str(&para("BodyText", &t)),
            Block::Chart(_) => {}
            Block::Table { header, widths, rows, .. } => {
                let sum: u32 = widths.iter().sum::<u32>().max(1);
                let mut twips: Vec<u32> = widths.iter().map(|w| w * TEXT_WIDTH / sum).collect();
                // Rounding leaves a few twips; give them to the widest column.
                let rest = TEXT_WIDTH - twips.iter().sum::<u32>();
                if let Some(widest) = twips.iter_mut().max() {
                    *widest += rest;
                }
                d.push_str(&table(&twips, &header, &rows));
            }
        }
    }
    d.push_str(DOCUMENT_END);
    package(&core_xml(&format!("{}（{}）", r.spec.title, report_period_text(r)), &r.spec.compiled_by, r.spec.date), &d)
}
