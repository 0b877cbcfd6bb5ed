//! The bulletin as a PDF, typeset in-process by typst used as a library
//! ([`crate::typeset`]): the template `bulletin.typ` reads the bulletin as JSON data.

use chrono::Datelike;
use serde_json::{json, Value};

use crate::chart::{TONE_COLOURS, TONE_LABELS};
use crate::fonts::FontSet;
use crate::model::Bulletin;
use crate::text::{
    case_cell, category_sentence, compiled_by_line, entry_extra, entry_meta, number_line, overview_sentence,
    paragraphs, recipients_line, zh_date, zh_ordinal, zh_time,
};
use crate::typeset::{typeset, SANS, SERIF};
use crate::ReportError;

const TEMPLATE: &str = include_str!("bulletin.typ");

/// The bulletin as a PDF. Fails with [`ReportError::MissingFont`] when the Simplified
/// Chinese families it names are not in `fonts`.
pub fn render_pdf(b: &Bulletin, fonts: &FontSet) -> Result<Vec<u8>, ReportError> {
    typeset(TEMPLATE, &data_json(b), b.date, fonts)
}

/// Everything the template shows, as display-ready strings.
fn data_json(b: &Bulletin) -> Value {
    let o = &b.overview;
    let daily: Vec<Value> = o
        .daily
        .iter()
        .map(|(d, c)| json!({"label": format!("{}/{}", d.month(), d.day()), "pos": c[0], "neu": c[1], "neg": c[2]}))
        .collect();
    let max = o.daily.iter().map(|(_, c)| c.iter().sum::<usize>()).max().unwrap_or(0);
    let events: Vec<Value> = o
        .top_events
        .iter()
        .enumerate()
        .map(|(i, ev)| json!([(i + 1).to_string(), ev.title, ev.items.to_string(), ev.sources.to_string()]))
        .collect();
    let entries: Vec<Value> = b
        .entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            json!({
                "row": [
                    (i + 1).to_string(),
                    e.headline,
                    format!("{}（{}）", e.source, e.tier.zh()),
                    zh_time(e.published.as_ref()),
                    e.tone.zh(),
                    e.level.zh(),
                    case_cell(e),
                ],
                "heading": format!("（{}）{}", zh_ordinal(i + 1), e.headline),
                "meta": entry_meta(e),
                "summary": paragraphs(&e.summary).collect::<Vec<_>>(),
                "extra": entry_extra(e),
                "url": if e.url.is_empty() { String::new() } else { format!("原文链接：{}", e.url) },
            })
        })
        .collect();
    let comment: Vec<&str> = paragraphs(b.comment.as_deref().unwrap_or("")).collect();
    json!({
        "serif": SERIF,
        "sans": SANS,
        "title": b.title,
        "doc_title": format!("{} {}", b.title, number_line(b)),
        "number": number_line(b),
        "compiled_by": compiled_by_line(b),
        "author": b.compiled_by,
        "date": zh_date(b.date),
        "recipients": recipients_line(b),
        "overview": overview_sentence(b),
        "categories": category_sentence(b),
        "daily": daily,
        "max": max,
        "tone_labels": TONE_LABELS,
        "tone_colours": TONE_COLOURS,
        "events": events,
        "entries": entries,
        "comment": comment,
        "sections": sections(b),
    })
}

/// Section headings, numbered 一、二、… over the sections this issue has.
fn sections(b: &Bulletin) -> Value {
    let mut n = 0;
    let mut next = |title: &str| {
        n += 1;
        format!("{}、{}", zh_ordinal(n), title)
    };
    let overview = next("本期概况");
    let (list, detail) = if b.entries.is_empty() {
        (String::new(), String::new())
    } else {
        (next("舆情信息一览"), next("舆情摘要"))
    };
    let comment = next("网宣办意见");
    json!({"overview": overview, "list": list, "detail": detail, "comment": comment})
}
