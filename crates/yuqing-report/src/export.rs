//! A period's items as a spreadsheet: XLSX (one sheet) and CSV.
//!
//! XLSX is written by hand with the `zip` dependency we already have, like the DOCX.
//! `rust_xlsxwriter` (the well-kept choice) was weighed: it needs `zip`'s `deflate`
//! feature, which adds `zopfli` and switches `flate2` to the `zlib-rs` backend for the
//! whole workspace (a rebuild of every crate above `flate2`), for one sheet of strings,
//! numbers and dates. The minimal part set here is what Excel, WPS and LibreOffice
//! need: inline strings (no shared-string table to keep in step), a bold frozen header
//! row with a filter, column widths, and real date cells so the office can sort.
//!
//! CSV uses the `csv` crate (already in the build through typst) for quoting, starts
//! with a UTF-8 byte order mark so that Excel and WPS read Chinese as UTF-8 rather
//! than GBK, ends lines with CRLF, and defuses formula injection: a text cell that
//! starts with `=`, `+`, `-`, `@`, tab or carriage return gets a leading `'` so a
//! collected headline like `=HYPERLINK(..)` stays text. XLSX cells are typed string
//! cells, which a spreadsheet never evaluates, so they keep the text unchanged.

use std::borrow::Cow;
use std::io::{Cursor, Write};

use chrono::{DateTime, FixedOffset, NaiveDate};
use yuqing_cases::CaseState;
use yuqing_core::{Category, Level, Tier, Tone};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use crate::text::xml_escape;
use crate::ReportError;

/// Rows an XLSX sheet holds, the header included.
pub const XLSX_MAX_ROWS: usize = 1_048_576;
/// Characters a spreadsheet cell holds.
const CELL_MAX_CHARS: usize = 32_767;
/// Characters of the summary exported; the full text stays in yuqing.
const SUMMARY_MAX_CHARS: usize = 1_000;

/// One item as exported.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ExportItem {
    pub id: i64,
    /// Local time (the office's zone), as the page gives it.
    pub published: Option<DateTime<FixedOffset>>,
    /// When yuqing collected it, local time.
    pub fetched: DateTime<FixedOffset>,
    pub source: String,
    pub tier: Tier,
    pub title: String,
    pub url: String,
    pub tone: Tone,
    /// In [-1, 1], above 0 leaning positive.
    pub tone_score: Option<f64>,
    pub level: Level,
    pub categories: Vec<Category>,
    /// The id of the first-seen item this one repeats.
    pub duplicate_of: Option<i64>,
    pub case_state: Option<CaseState>,
    /// The lead of the text (cut to 1 000 characters in the export).
    pub summary: String,
}

const HEADERS: [&str; 14] = [
    "编号",
    "发布时间",
    "采集时间",
    "来源",
    "信源级别",
    "标题",
    "链接",
    "倾向",
    "倾向分值",
    "等级",
    "重点内容类别",
    "重复于",
    "处置状态",
    "摘要",
];
/// Column widths in characters, for the XLSX.
const WIDTHS: [u32; 14] = [8, 17, 17, 18, 12, 48, 40, 6, 9, 9, 18, 8, 10, 60];

/// A cell before it is written: the two formats render them their own way.
enum Cell<'a> {
    Int(i64),
    Num(f64),
    Time(DateTime<FixedOffset>),
    Text(Cow<'a, str>),
    Empty,
}

fn cells(it: &ExportItem) -> [Cell<'_>; 14] {
    let cats: Vec<&str> = it.categories.iter().map(|c| c.zh()).collect();
    let summary: String = it.summary.chars().take(SUMMARY_MAX_CHARS).collect();
    [
        Cell::Int(it.id),
        it.published.map(Cell::Time).unwrap_or(Cell::Empty),
        Cell::Time(it.fetched),
        Cell::Text(Cow::Borrowed(&it.source)),
        Cell::Text(Cow::Borrowed(it.tier.zh())),
        Cell::Text(Cow::Borrowed(&it.title)),
        Cell::Text(Cow::Borrowed(&it.url)),
        Cell::Text(Cow::Borrowed(it.tone.zh())),
        it.tone_score.filter(|s| s.is_finite()).map(Cell::Num).unwrap_or(Cell::Empty),
        Cell::Text(Cow::Borrowed(it.level.zh())),
        Cell::Text(Cow::Owned(cats.join("、"))),
        it.duplicate_of.map(Cell::Int).unwrap_or(Cell::Empty),
        it.case_state.map(|s| Cell::Text(Cow::Borrowed(s.zh()))).unwrap_or(Cell::Empty),
        Cell::Text(Cow::Owned(summary)),
    ]
}

/// At most [`CELL_MAX_CHARS`] characters.
fn bound(s: &str) -> Cow<'_, str> {
    match s.char_indices().nth(CELL_MAX_CHARS) {
        Some((i, _)) => Cow::Borrowed(&s[..i]),
        None => Cow::Borrowed(s),
    }
}

/// A text cell that a spreadsheet would read as a formula gets a leading `'`.
fn defuse(s: &str) -> Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

fn time_text(t: &DateTime<FixedOffset>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

/// The items as CSV: UTF-8 with a byte order mark, CRLF, a Chinese header row,
/// formula-like text defused.
pub fn export_csv(items: &[ExportItem]) -> Result<Vec<u8>, ReportError> {
    let err = |e: csv::Error| ReportError::Export { format: "CSV", message: e.to_string() };
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(b"\xEF\xBB\xBF".to_vec());
    w.write_record(HEADERS).map_err(err)?;
    for it in items {
        let row: Vec<Cow<'_, str>> = cells(it)
            .into_iter()
            .map(|c| match c {
                Cell::Int(n) => Cow::Owned(n.to_string()),
                Cell::Num(x) => Cow::Owned(format!("{x:.2}")),
                Cell::Time(t) => Cow::Owned(time_text(&t)),
                Cell::Text(s) => Cow::Owned(defuse(&bound(&s)).into_owned()),
                Cell::Empty => Cow::Borrowed(""),
            })
            .collect();
        w.write_record(row.iter().map(|c| c.as_bytes())).map_err(err)?;
    }
    w.into_inner().map_err(|e| ReportError::Export { format: "CSV", message: e.to_string() })
}

/// Spreadsheet column name: 0 → A, 25 → Z, 26 → AA.
fn column(mut i: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    s.reverse();
    String::from_utf8_lossy(&s).into_owned()
}

/// Excel's serial date: days since 1899-12-30, the time as the fraction, in the
/// time's own (local) offset.
fn serial(t: &DateTime<FixedOffset>) -> f64 {
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30).and_then(|d| d.and_hms_opt(0, 0, 0)).unwrap_or_default();
    let secs = (t.naive_local() - epoch).num_seconds();
    secs as f64 / 86_400.0
}

/// Escapes text for an XLSX string: XML escaping, plus Excel's own `_xHHHH_` escape,
/// which Excel would otherwise decode (a literal "_x0041_" would show as "A").
fn xlsx_text(s: &str) -> String {
    let escaped = xml_escape(s);
    let b = escaped.as_bytes();
    let mut out = String::with_capacity(escaped.len());
    let mut last = 0;
    for (i, _) in escaped.match_indices("_x") {
        let is_code = b.len() >= i + 7 && b[i + 2..i + 6].iter().all(u8::is_ascii_hexdigit) && b[i + 6] == b'_';
        if is_code {
            out.push_str(&escaped[last..i]);
            out.push_str("_x005F");
            last = i;
        }
    }
    out.push_str(&escaped[last..]);
    out
}

const SHEET: &str = "信息";

/// The header takes one row of the sheet.
fn check_rows(items: usize) -> Result<(), ReportError> {
    if items >= XLSX_MAX_ROWS {
        return Err(ReportError::TooManyRows { rows: items, max: XLSX_MAX_ROWS - 1 });
    }
    Ok(())
}

fn sheet_xml(items: &[ExportItem]) -> String {
    let last_col = column(HEADERS.len() - 1);
    let last_row = items.len() + 1;
    let mut s = String::with_capacity(256 + items.len() * 600);
    s.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n");
    s.push_str("<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\">");
    s.push_str(&format!("<dimension ref=\"A1:{last_col}{last_row}\"/>"));
    s.push_str("<sheetViews><sheetView tabSelected=\"1\" workbookViewId=\"0\"><pane ySplit=\"1\" topLeftCell=\"A2\" activePane=\"bottomLeft\" state=\"frozen\"/><selection pane=\"bottomLeft\" activeCell=\"A2\" sqref=\"A2\"/></sheetView></sheetViews>");
    s.push_str("<sheetFormatPr defaultRowHeight=\"15\"/><cols>");
    for (i, w) in WIDTHS.iter().enumerate() {
        s.push_str(&format!("<col min=\"{0}\" max=\"{0}\" width=\"{w}\" customWidth=\"1\"/>", i + 1));
    }
    s.push_str("</cols><sheetData>");
    s.push_str("<row r=\"1\">");
    for (i, h) in HEADERS.iter().enumerate() {
        s.push_str(&format!("<c r=\"{}1\" s=\"1\" t=\"inlineStr\"><is><t>{}</t></is></c>", column(i), xlsx_text(h)));
    }
    s.push_str("</row>");
    for (r, it) in items.iter().enumerate() {
        let row = r + 2;
        s.push_str(&format!("<row r=\"{row}\">"));
        for (i, c) in cells(it).into_iter().enumerate() {
            let at = format!("{}{row}", column(i));
            match c {
                Cell::Int(n) => s.push_str(&format!("<c r=\"{at}\"><v>{n}</v></c>")),
                Cell::Num(x) => s.push_str(&format!("<c r=\"{at}\" s=\"3\"><v>{x}</v></c>")),
                Cell::Time(t) => s.push_str(&format!("<c r=\"{at}\" s=\"2\"><v>{:.6}</v></c>", serial(&t))),
                Cell::Text(t) if t.is_empty() => {}
                Cell::Text(t) => s.push_str(&format!(
                    "<c r=\"{at}\" t=\"inlineStr\"><is><t xml:space=\"preserve\">{}</t></is></c>",
                    xlsx_text(&bound(&t))
                )),
                Cell::Empty => {}
            }
        }
        s.push_str("</row>");
    }
    s.push_str("</sheetData>");
    s.push_str(&format!("<autoFilter ref=\"A1:{last_col}{last_row}\"/>"));
    s.push_str("<pageMargins left=\"0.7\" right=\"0.7\" top=\"0.75\" bottom=\"0.75\" header=\"0.3\" footer=\"0.3\"/></worksheet>");
    s
}

fn workbook_xml(rows: usize) -> String {
    let last_col = column(HEADERS.len() - 1);
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"><bookViews><workbookView/></bookViews><sheets><sheet name=\"{SHEET}\" sheetId=\"1\" r:id=\"rId1\"/></sheets><definedNames><definedName name=\"_xlnm._FilterDatabase\" localSheetId=\"0\" hidden=\"1\">{SHEET}!$A$1:${last_col}${}</definedName></definedNames></workbook>",
        rows + 1
    )
}

/// The items as an XLSX workbook with one sheet, "信息".
pub fn export_xlsx(items: &[ExportItem]) -> Result<Vec<u8>, ReportError> {
    check_rows(items.len())?;
    let parts: [(&str, Cow<'_, str>); 8] = [
        ("[Content_Types].xml", Cow::Borrowed(XLSX_CONTENT_TYPES)),
        ("_rels/.rels", Cow::Borrowed(XLSX_ROOT_RELS)),
        ("docProps/core.xml", Cow::Borrowed(XLSX_CORE)),
        ("docProps/app.xml", Cow::Borrowed(XLSX_APP)),
        ("xl/workbook.xml", Cow::Owned(workbook_xml(items.len()))),
        ("xl/_rels/workbook.xml.rels", Cow::Borrowed(XLSX_WORKBOOK_RELS)),
        ("xl/styles.xml", Cow::Borrowed(XLSX_STYLES)),
        ("xl/worksheets/sheet1.xml", Cow::Owned(sheet_xml(items))),
    ];
    let err =
        |name: &str, e: &dyn std::fmt::Display| ReportError::Export { format: "XLSX", message: format!("{name}: {e}") };
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    for (name, body) in parts {
        zip.start_file(name, options).map_err(|e| err(name, &e))?;
        zip.write_all(body.as_bytes()).map_err(|e| err(name, &e))?;
    }
    let cursor = zip.finish().map_err(|e| err("archive", &e))?;
    Ok(cursor.into_inner())
}

const XLSX_CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/><Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>"#;

const XLSX_ROOT_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/></Relationships>"#;

const XLSX_WORKBOOK_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>"#;

const XLSX_CORE: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:title>网络舆情信息导出</dc:title><dc:creator>yuqing</dc:creator><dc:language>zh-CN</dc:language></cp:coreProperties>"#;

const XLSX_APP: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Application>yuqing</Application></Properties>"#;

/// Styles: 0 default, 1 bold header on grey, 2 date-time, 3 two decimals.
const XLSX_STYLES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy\-mm\-dd\ hh:mm"/></numFmts><fonts count="2"><font><sz val="11"/><name val="宋体"/><family val="2"/><charset val="134"/></font><font><b/><sz val="11"/><name val="宋体"/><family val="2"/><charset val="134"/></font></fonts><fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill><fill><patternFill patternType="solid"><fgColor rgb="FFF2F2F2"/><bgColor indexed="64"/></patternFill></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="2" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_named_like_a_spreadsheet() {
        assert_eq!(column(0), "A");
        assert_eq!(column(13), "N");
        assert_eq!(column(25), "Z");
        assert_eq!(column(26), "AA");
        assert_eq!(column(701), "ZZ");
        assert_eq!(column(702), "AAA");
    }

    #[test]
    fn serial_dates_match_excel() {
        // Excel shows 46140.5 as 2026-04-28 12:00.
        let t = DateTime::parse_from_rfc3339("2026-04-28T12:00:00+08:00").expect("valid");
        assert!((serial(&t) - 46140.5).abs() < 1e-9, "{}", serial(&t));
    }

    #[test]
    fn formula_like_text_is_defused_and_other_text_kept() {
        for s in ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=x", "\r=x"] {
            assert_eq!(defuse(s), format!("'{s}"));
        }
        for s in ["财政=民生", "1-2", "", "a@b"] {
            assert_eq!(defuse(s), s);
        }
    }

    #[test]
    fn excel_escapes_are_escaped() {
        assert_eq!(xlsx_text("a_x0041_b"), "a_x005F_x0041_b");
        assert_eq!(xlsx_text("_x12_ _xZZZZ_"), "_x12_ _xZZZZ_");
        assert_eq!(xlsx_text("<&>"), "&lt;&amp;&gt;");
    }

    #[test]
    fn a_sheet_holds_a_million_rows_with_its_header() {
        assert!(check_rows(XLSX_MAX_ROWS - 1).is_ok());
        assert!(
            matches!(check_rows(XLSX_MAX_ROWS), Err(ReportError::TooManyRows { max, .. }) if max == XLSX_MAX_ROWS - 1)
        );
    }

    #[test]
    fn cells_are_bounded() {
        let long = "字".repeat(CELL_MAX_CHARS + 10);
        assert_eq!(bound(&long).chars().count(), CELL_MAX_CHARS);
    }
}
