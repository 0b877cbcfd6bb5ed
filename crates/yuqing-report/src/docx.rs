//! The bulletin as a Word document (OOXML), written by hand: the parts are small and
//! this keeps the East Asian font names exactly as Word and WPS expect them.
//!
//! Fonts: the red title asks for 方正小标宋简体, headings for 黑体 and 楷体, the body
//! for 仿宋 (the 公文 conventions). `fontTable.xml` gives each a Windows alternative
//! name (SimSun, SimHei, KaiTi, FangSong); on Linux, LibreOffice substitutes through
//! fontconfig (Noto Serif/Sans CJK SC with Debian's fonts-noto-cjk).

use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use crate::model::Bulletin;
use crate::text::{
    case_cell, category_sentence, compiled_by_line, entry_extra, entry_meta, number_line, overview_sentence,
    paragraphs, recipients_line, xml_escape, zh_date, zh_ordinal, zh_time,
};
use crate::ReportError;

/// Red of the header title and rule (公文 red); spelled out in STYLES_XML.
#[cfg(test)]
const RED: &str = "D40000";
/// Text width in twips: A4 (11906) minus left 28 mm (1588) and right 26 mm (1474).
pub(crate) const TEXT_WIDTH: u32 = 8844;

/// The bulletin as a DOCX file (a zip of OOXML parts).
pub fn render_docx(b: &Bulletin) -> Result<Vec<u8>, ReportError> {
    let title = format!("{} {}", b.title, number_line(b));
    package(&core_xml(&title, &b.compiled_by, b.date), &document_xml(b))
}

/// Writes the parts of a document: its `core.xml` and `document.xml`, with this
/// module's styles, fonts, settings and the "— N —" footer.
pub(crate) fn package(core: &str, document: &str) -> Result<Vec<u8>, ReportError> {
    let parts: [(&str, &str); 10] = [
        ("[Content_Types].xml", CONTENT_TYPES),
        ("_rels/.rels", ROOT_RELS),
        ("docProps/core.xml", core),
        ("docProps/app.xml", APP_XML),
        ("word/_rels/document.xml.rels", DOCUMENT_RELS),
        ("word/document.xml", document),
        ("word/styles.xml", STYLES_XML),
        ("word/settings.xml", SETTINGS_XML),
        ("word/fontTable.xml", FONT_TABLE_XML),
        ("word/footer1.xml", FOOTER_XML),
    ];
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    for (name, body) in parts {
        zip.start_file(name, options).map_err(|e| ReportError::Docx(format!("{name}: {e}")))?;
        zip.write_all(body.as_bytes()).map_err(|e| ReportError::Docx(format!("{name}: {e}")))?;
    }
    let cursor = zip.finish().map_err(|e| ReportError::Docx(e.to_string()))?;
    Ok(cursor.into_inner())
}

/// The opening of `document.xml`, up to the body.
pub(crate) const DOCUMENT_START: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\" xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"><w:body>";

/// A4, the 公文 margins, the footer; then the end of `document.xml`.
pub(crate) const DOCUMENT_END: &str = "<w:sectPr><w:footerReference w:type=\"default\" r:id=\"rIdFooter1\"/><w:pgSz w:w=\"11906\" w:h=\"16838\"/><w:pgMar w:top=\"2098\" w:right=\"1474\" w:bottom=\"1984\" w:left=\"1588\" w:header=\"851\" w:footer=\"992\" w:gutter=\"0\"/><w:docGrid w:type=\"lines\" w:linePitch=\"579\"/></w:sectPr></w:body></w:document>";

/// The red header: title, a centred line (the issue number or the period), then
/// "编：… date" over a red rule.
pub(crate) fn red_header(title: &str, second_line: &str, compiled_by: &str, date: &str) -> String {
    format!(
        "{}{}<w:p><w:pPr><w:pStyle w:val=\"Byline\"/></w:pPr>{}<w:r><w:tab/></w:r>{}</w:p>",
        para("RedTitle", title),
        para("IssueNumber", second_line),
        run(compiled_by, ""),
        run(date, "")
    )
}

/// A run of escaped text; `props` is raw `w:rPr` content written by this module.
pub(crate) fn run(text: &str, props: &str) -> String {
    let rpr = if props.is_empty() { String::new() } else { format!("<w:rPr>{props}</w:rPr>") };
    format!("<w:r>{rpr}<w:t xml:space=\"preserve\">{}</w:t></w:r>", xml_escape(text))
}

/// A paragraph of one run with a paragraph style.
pub(crate) fn para(style: &str, text: &str) -> String {
    format!("<w:p><w:pPr><w:pStyle w:val=\"{style}\"/></w:pPr>{}</w:p>", run(text, ""))
}

fn cell(text: &str, width: u32, header: bool) -> String {
    let props = if header { "<w:b/>" } else { "" };
    let shade = if header { "<w:shd w:val=\"clear\" w:color=\"auto\" w:fill=\"F2F2F2\"/>" } else { "" };
    format!(
        "<w:tc><w:tcPr><w:tcW w:w=\"{width}\" w:type=\"dxa\"/>{shade}</w:tcPr><w:p><w:pPr><w:pStyle w:val=\"TableText\"/></w:pPr>{}</w:p></w:tc>",
        run(text, props)
    )
}

/// A table with a repeated, shaded header row; `widths` in twips (they should add up
/// to [`TEXT_WIDTH`]).
pub(crate) fn table(widths: &[u32], header: &[&str], rows: &[Vec<String>]) -> String {
    let mut t = String::from(
        "<w:tbl><w:tblPr><w:tblStyle w:val=\"TableGrid\"/><w:tblW w:w=\"5000\" w:type=\"pct\"/><w:tblLayout w:type=\"fixed\"/></w:tblPr><w:tblGrid>",
    );
    for w in widths {
        t.push_str(&format!("<w:gridCol w:w=\"{w}\"/>"));
    }
    t.push_str("</w:tblGrid><w:tr><w:trPr><w:tblHeader/></w:trPr>");
    for (h, w) in header.iter().zip(widths) {
        t.push_str(&cell(h, *w, true));
    }
    t.push_str("</w:tr>");
    for row in rows {
        t.push_str("<w:tr><w:trPr><w:cantSplit/></w:trPr>");
        for (c, w) in row.iter().zip(widths) {
            t.push_str(&cell(c, *w, false));
        }
        t.push_str("</w:tr>");
    }
    t.push_str("</w:tbl>");
    t
}

fn document_xml(b: &Bulletin) -> String {
    let mut d = String::with_capacity(32 * 1024);
    d.push_str(DOCUMENT_START);
    d.push_str(&red_header(&b.title, &number_line(b), &compiled_by_line(b), &zh_date(b.date)));

    let mut section = 1;
    d.push_str(&para("Heading1", &format!("{}、本期概况", zh_ordinal(section))));
    section += 1;
    d.push_str(&para("BodyText", &overview_sentence(b)));
    let cats = category_sentence(b);
    if !cats.is_empty() {
        d.push_str(&para("BodyText", &cats));
    }
    if !b.overview.daily.is_empty() && b.overview.daily.len() <= 31 {
        d.push_str(&para("BodyText", "每日信息量（按倾向）："));
        let rows: Vec<Vec<String>> = b
            .overview
            .daily
            .iter()
            .map(|(day, c)| {
                vec![
                    zh_date(*day),
                    c[0].to_string(),
                    c[1].to_string(),
                    c[2].to_string(),
                    c.iter().sum::<usize>().to_string(),
                ]
            })
            .collect();
        d.push_str(&table(&[2844, 1500, 1500, 1500, 1500], &["日期", "正面", "中性", "负面", "合计"], &rows));
    }
    if !b.overview.top_events.is_empty() {
        d.push_str(&para("BodyText", "本期主要事件："));
        let rows: Vec<Vec<String>> = b
            .overview
            .top_events
            .iter()
            .enumerate()
            .map(|(i, ev)| vec![(i + 1).to_string(), ev.title.clone(), ev.items.to_string(), ev.sources.to_string()])
            .collect();
        d.push_str(&table(&[800, 5244, 1400, 1400], &["序号", "事件", "信息数", "来源数"], &rows));
    }

    if !b.entries.is_empty() {
        d.push_str(&para("Heading1", &format!("{}、舆情信息一览", zh_ordinal(section))));
        section += 1;
        let rows: Vec<Vec<String>> = b
            .entries
            .iter()
            .enumerate()
            .map(|(i, en)| {
                vec![
                    (i + 1).to_string(),
                    en.headline.clone(),
                    format!("{}（{}）", en.source, en.tier.zh()),
                    zh_time(en.published.as_ref()),
                    en.tone.zh().to_string(),
                    en.level.zh().to_string(),
                    case_cell(en),
                ]
            })
            .collect();
        d.push_str(&table(
            &[600, 2844, 1500, 1200, 800, 900, 1000],
            &["序号", "标题", "来源", "时间", "倾向", "等级", "处置"],
            &rows,
        ));

        d.push_str(&para("Heading1", &format!("{}、舆情摘要", zh_ordinal(section))));
        section += 1;
        for (i, en) in b.entries.iter().enumerate() {
            d.push_str(&para("Heading2", &format!("（{}）{}", zh_ordinal(i + 1), en.headline)));
            d.push_str(&para("Meta", &entry_meta(en)));
            for p in paragraphs(&en.summary) {
                d.push_str(&para("BodyText", p));
            }
            for line in entry_extra(en) {
                d.push_str(&para("Meta", &line));
            }
            if !en.url.is_empty() {
                d.push_str(&para("Link", &format!("原文链接：{}", en.url)));
            }
        }
    }

    if let Some(c) = b.comment.as_deref().filter(|c| !c.trim().is_empty()) {
        d.push_str(&para("Heading1", &format!("{}、网宣办意见", zh_ordinal(section))));
        for p in paragraphs(c) {
            d.push_str(&para("BodyText", p));
        }
    }

    // 版记: the recipients between two black rules.
    d.push_str(&para("Recipients", &recipients_line(b)));

    d.push_str(DOCUMENT_END);
    d
}

/// `docProps/core.xml`: title, author, language, date.
pub(crate) fn core_xml(title: &str, creator: &str, date: chrono::NaiveDate) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<cp:coreProperties xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/metadata/core-properties\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:dcterms=\"http://purl.org/dc/terms/\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><dc:title>{}</dc:title><dc:creator>{}</dc:creator><dc:language>zh-CN</dc:language><dcterms:created xsi:type=\"dcterms:W3CDTF\">{}T00:00:00Z</dcterms:created></cp:coreProperties>",
        xml_escape(title),
        xml_escape(creator),
        date.format("%Y-%m-%d")
    )
}

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/><Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/><Override PartName="/word/settings.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml"/><Override PartName="/word/fontTable.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.fontTable+xml"/><Override PartName="/word/footer1.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/><Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>"#;

const ROOT_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/></Relationships>"#;

const DOCUMENT_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rIdStyles" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/><Relationship Id="rIdSettings" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/settings" Target="settings.xml"/><Relationship Id="rIdFonts" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/fontTable" Target="fontTable.xml"/><Relationship Id="rIdFooter1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/footer" Target="footer1.xml"/></Relationships>"#;

const APP_XML: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Application>yuqing</Application></Properties>"#;

const SETTINGS_XML: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:settings xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:defaultTabStop w:val="420"/><w:characterSpacingControl w:val="compressPunctuation"/><w:compat><w:compatSetting w:name="compatibilityMode" w:uri="http://schemas.microsoft.com/office/word" w:val="15"/></w:compat><w:themeFontLang w:val="en-US" w:eastAsia="zh-CN"/></w:settings>"#;

const FONT_TABLE_XML: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:fonts xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:font w:name="方正小标宋简体"><w:altName w:val="SimSun"/><w:charset w:val="86"/><w:family w:val="script"/><w:pitch w:val="variable"/></w:font><w:font w:name="宋体"><w:altName w:val="SimSun"/><w:charset w:val="86"/><w:family w:val="auto"/><w:pitch w:val="variable"/></w:font><w:font w:name="仿宋"><w:altName w:val="FangSong"/><w:charset w:val="86"/><w:family w:val="modern"/><w:pitch w:val="fixed"/></w:font><w:font w:name="黑体"><w:altName w:val="SimHei"/><w:charset w:val="86"/><w:family w:val="modern"/><w:pitch w:val="fixed"/></w:font><w:font w:name="楷体"><w:altName w:val="KaiTi"/><w:charset w:val="86"/><w:family w:val="modern"/><w:pitch w:val="fixed"/></w:font><w:font w:name="Noto Serif CJK SC"><w:charset w:val="86"/><w:family w:val="roman"/><w:pitch w:val="variable"/></w:font><w:font w:name="Times New Roman"><w:charset w:val="00"/><w:family w:val="roman"/><w:pitch w:val="variable"/></w:font></w:fonts>"#;

const FOOTER_XML: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:ftr xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><w:p><w:pPr><w:pStyle w:val="Footer"/><w:jc w:val="center"/></w:pPr><w:r><w:t xml:space="preserve">— </w:t></w:r><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>1</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r><w:r><w:t xml:space="preserve"> —</w:t></w:r></w:p></w:ftr>"#;

/// Styles: body 仿宋 三号 (16 pt), headings 黑体 / 楷体, the red title 方正小标宋简体.
const STYLES_XML: &str = concat!(
    r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii="Times New Roman" w:hAnsi="Times New Roman" w:eastAsia="仿宋" w:cs="Times New Roman"/><w:sz w:val="32"/><w:szCs w:val="32"/><w:lang w:val="en-US" w:eastAsia="zh-CN" w:bidi="ar-SA"/></w:rPr></w:rPrDefault><w:pPrDefault><w:pPr><w:spacing w:after="0" w:line="360" w:lineRule="auto"/><w:jc w:val="both"/></w:pPr></w:pPrDefault></w:docDefaults>"#,
    r#"<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:qFormat/></w:style>"#,
    r#"<w:style w:type="paragraph" w:customStyle="1" w:styleId="RedTitle"><w:name w:val="红头标题"/><w:basedOn w:val="Normal"/><w:qFormat/><w:pPr><w:spacing w:before="240" w:after="120" w:line="240" w:lineRule="auto"/><w:jc w:val="center"/></w:pPr><w:rPr><w:rFonts w:ascii="Times New Roman" w:hAnsi="Times New Roman" w:eastAsia="方正小标宋简体"/><w:color w:val=""#,
    "D40000",
    r#""/><w:spacing w:val="20"/><w:sz w:val="64"/><w:szCs w:val="64"/></w:rPr></w:style>"#,
    r#"<w:style w:type="paragraph" w:customStyle="1" w:styleId="IssueNumber"><w:name w:val="期号"/><w:basedOn w:val="Normal"/><w:pPr><w:spacing w:after="120"/><w:jc w:val="center"/></w:pPr></w:style>"#,
    r#"<w:style w:type="paragraph" w:customStyle="1" w:styleId="Byline"><w:name w:val="编发行"/><w:basedOn w:val="Normal"/><w:pPr><w:pBdr><w:bottom w:val="single" w:sz="24" w:space="4" w:color=""#,
    "D40000",
    r#""/></w:pBdr><w:tabs><w:tab w:val="right" w:pos=""#,
    "8844",
    r#""/></w:tabs><w:spacing w:after="360"/></w:pPr></w:style>"#,
    r#"<w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1"/><w:basedOn w:val="Normal"/><w:next w:val="BodyText"/><w:qFormat/><w:pPr><w:keepNext/><w:spacing w:before="240" w:after="60"/><w:ind w:firstLine="640"/><w:outlineLvl w:val="0"/></w:pPr><w:rPr><w:rFonts w:ascii="Times New Roman" w:hAnsi="Times New Roman" w:eastAsia="黑体"/></w:rPr></w:style>"#,
    r#"<w:style w:type="paragraph" w:styleId="Heading2"><w:name w:val="heading 2"/><w:basedOn w:val="Normal"/><w:next w:val="BodyText"/><w:qFormat/><w:pPr><w:keepNext/><w:spacing w:before="180"/><w:ind w:firstLine="640"/><w:outlineLvl w:val="1"/></w:pPr><w:rPr><w:rFonts w:ascii="Times New Roman" w:hAnsi="Times New Roman" w:eastAsia="楷体"/><w:b/></w:rPr></w:style>"#,
    r#"<w:style w:type="paragraph" w:customStyle="1" w:styleId="BodyText"><w:name w:val="正文段落"/><w:basedOn w:val="Normal"/><w:qFormat/><w:pPr><w:ind w:firstLine="640"/></w:pPr></w:style>"#,
    r#"<w:style w:type="paragraph" w:customStyle="1" w:styleId="Meta"><w:name w:val="信息要素"/><w:basedOn w:val="Normal"/><w:pPr><w:ind w:firstLine="640"/></w:pPr><w:rPr><w:color w:val="333333"/><w:sz w:val="24"/><w:szCs w:val="24"/></w:rPr></w:style>"#,
    r#"<w:style w:type="paragraph" w:customStyle="1" w:styleId="Link"><w:name w:val="原文链接"/><w:basedOn w:val="Normal"/><w:pPr><w:ind w:firstLine="640"/></w:pPr><w:rPr><w:color w:val="555555"/><w:sz w:val="20"/><w:szCs w:val="20"/></w:rPr></w:style>"#,
    r#"<w:style w:type="paragraph" w:customStyle="1" w:styleId="TableText"><w:name w:val="表格文字"/><w:basedOn w:val="Normal"/><w:pPr><w:spacing w:line="240" w:lineRule="auto"/><w:jc w:val="left"/></w:pPr><w:rPr><w:rFonts w:ascii="Times New Roman" w:hAnsi="Times New Roman" w:eastAsia="宋体"/><w:sz w:val="21"/><w:szCs w:val="21"/></w:rPr></w:style>"#,
    r#"<w:style w:type="paragraph" w:customStyle="1" w:styleId="Recipients"><w:name w:val="版记"/><w:basedOn w:val="Normal"/><w:pPr><w:pBdr><w:top w:val="single" w:sz="8" w:space="4" w:color="000000"/><w:bottom w:val="single" w:sz="8" w:space="4" w:color="000000"/></w:pBdr><w:spacing w:before="600"/><w:ind w:left="320" w:hanging="0"/></w:pPr><w:rPr><w:sz w:val="28"/><w:szCs w:val="28"/></w:rPr></w:style>"#,
    r#"<w:style w:type="paragraph" w:styleId="Footer"><w:name w:val="footer"/><w:basedOn w:val="Normal"/><w:pPr><w:jc w:val="center"/></w:pPr><w:rPr><w:rFonts w:ascii="宋体" w:hAnsi="宋体" w:eastAsia="宋体"/><w:sz w:val="28"/><w:szCs w:val="28"/></w:rPr></w:style>"#,
    r#"<w:style w:type="table" w:default="1" w:styleId="TableNormal"><w:name w:val="Normal Table"/><w:tblPr><w:tblInd w:w="0" w:type="dxa"/><w:tblCellMar><w:top w:w="0" w:type="dxa"/><w:left w:w="108" w:type="dxa"/><w:bottom w:w="0" w:type="dxa"/><w:right w:w="108" w:type="dxa"/></w:tblCellMar></w:tblPr></w:style>"#,
    r#"<w:style w:type="table" w:styleId="TableGrid"><w:name w:val="Table Grid"/><w:basedOn w:val="TableNormal"/><w:tblPr><w:tblBorders><w:top w:val="single" w:sz="4" w:space="0" w:color="000000"/><w:left w:val="single" w:sz="4" w:space="0" w:color="000000"/><w:bottom w:val="single" w:sz="4" w:space="0" w:color="000000"/><w:right w:val="single" w:sz="4" w:space="0" w:color="000000"/><w:insideH w:val="single" w:sz="4" w:space="0" w:color="000000"/><w:insideV w:val="single" w:sz="4" w:space="0" w:color="000000"/></w:tblBorders></w:tblPr></w:style>"#,
    r#"</w:styles>"#
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn style_constants_match_the_code() {
        // STYLES_XML spells RED and TEXT_WIDTH as literals (concat! takes no consts).
        assert!(STYLES_XML.contains(RED));
        assert!(STYLES_XML.contains(&format!("w:pos=\"{TEXT_WIDTH}\"")));
    }
}
