//! The bulletin as a PDF, typeset in-process by typst used as a library.
//!
//! The typst template below is a constant: no collected text is ever spliced into
//! typst markup. The bulletin travels as a JSON file (`/data.json`) that only this
//! world serves, and the template places its strings as text, so a headline such as
//! `#set page(width: 1pt)` or `]` `$` `\` prints as written.

use chrono::Datelike;
use serde_json::{json, Value};
use typst::diag::{FileError, FileResult, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_layout::PagedDocument;
use typst_pdf::PdfOptions;

use crate::chart::{TONE_COLOURS, TONE_LABELS};
use crate::fonts::FontSet;
use crate::model::Bulletin;
use crate::text::{
    category_sentence, compiled_by_line, number_line, overview_sentence, recipients_line, spread_text, zh_date,
    zh_ordinal, zh_time,
};
use crate::ReportError;

/// Body text, tables, the red title (no 方正小标宋 on a Debian server; the serif bold
/// stands in for it).
pub(crate) const SERIF: &str = "Noto Serif CJK SC";
/// Headings and the chart.
pub(crate) const SANS: &str = "Noto Sans CJK SC";

const TEMPLATE: &str = include_str!("bulletin.typ");

/// The bulletin as a PDF. Fails with [`ReportError::MissingFont`] when the Simplified
/// Chinese families it names are not in `fonts`.
pub fn render_pdf(b: &Bulletin, fonts: &FontSet) -> Result<Vec<u8>, ReportError> {
    fonts.require(&[SERIF, SANS])?;
    let data = serde_json::to_vec(&data_json(b)).map_err(|e| ReportError::Typeset(e.to_string()))?;
    let world = BulletinWorld::new(fonts, data, b);
    let doc =
        typst::compile::<PagedDocument>(&world).output.map_err(|errs| ReportError::Typeset(diagnostics(&errs)))?;
    typst_pdf::pdf(&doc, &PdfOptions::default()).map_err(|errs| ReportError::Pdf(diagnostics(&errs)))
}

fn diagnostics(errs: &[SourceDiagnostic]) -> String {
    errs.iter().map(|e| e.message.to_string()).collect::<Vec<_>>().join("; ")
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
        .map(|(i, (name, items, sources))| json!([(i + 1).to_string(), name, items.to_string(), sources.to_string()]))
        .collect();
    let entries: Vec<Value> = b
        .entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let mut extra = Vec::new();
            if let Some(sp) = e.spread {
                extra.push(format!("传播：{}", spread_text(sp)));
            }
            if let Some((state, answer)) = &e.case {
                extra.push(format!("处置：{state}"));
                if let Some(a) = answer {
                    extra.push(format!("答复：{a}"));
                }
            }
            json!({
                "row": [
                    (i + 1).to_string(),
                    e.headline,
                    format!("{}（{}）", e.source, e.tier.zh()),
                    zh_time(e.published.as_ref()),
                    e.tone.zh(),
                    e.level.zh(),
                    e.case.as_ref().map(|(s, _)| s.as_str()).unwrap_or("—"),
                ],
                "heading": format!("（{}）{}", zh_ordinal(i + 1), e.headline),
                "meta": format!("来源：{}（{}）　时间：{}　倾向：{}　等级：{}", e.source, e.tier.zh(), zh_time(e.published.as_ref()), e.tone.zh(), e.level.zh()),
                "summary": e.summary.split('\n').map(str::trim).filter(|p| !p.is_empty()).collect::<Vec<_>>(),
                "extra": extra,
                "url": if e.url.is_empty() { String::new() } else { format!("原文链接：{}", e.url) },
            })
        })
        .collect();
    let comment: Vec<&str> =
        b.comment.as_deref().unwrap_or("").split('\n').map(str::trim).filter(|p| !p.is_empty()).collect();
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

/// The typst world: one main file, one data file, the given fonts, no packages.
struct BulletinWorld<'a> {
    library: LazyHash<Library>,
    fonts: &'a FontSet,
    main: Source,
    data_id: FileId,
    data: Bytes,
    today: Option<Datetime>,
}

impl<'a> BulletinWorld<'a> {
    fn new(fonts: &'a FontSet, data: Vec<u8>, b: &Bulletin) -> Self {
        let main = Source::detached(TEMPLATE);
        // "/data.json" is a constant, valid virtual path; failing here is a bug in this line.
        let vpath = VirtualPath::new("/data.json").expect("constant virtual path is valid");
        let data_id = RootedPath::new(VirtualRoot::Project, vpath).intern();
        let today = Datetime::from_ymd(b.date.year(), b.date.month() as u8, b.date.day() as u8);
        BulletinWorld {
            library: LazyHash::new(Library::builder().build()),
            fonts,
            main,
            data_id,
            data: Bytes::new(data),
            today,
        }
    }
}

impl World for BulletinWorld<'_> {
    fn library(&self) -> &LazyHash<Library> {
        &self.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &self.fonts.book
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.data_id {
            Ok(self.data.clone())
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        self.fonts.font(index)
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        self.today
    }
}
