//! The bulletin as one self-contained, printable HTML page (preview in the UI, print
//! from the browser). Styles are inline: this is a document, not the app.

use crate::chart::tone_chart_svg;
use crate::model::Bulletin;
use crate::text::{
    case_cell, category_sentence, compiled_by_line, entry_extra, entry_meta, number_line, overview_sentence,
    paragraphs, recipients_line, xml_escape, zh_date, zh_ordinal, zh_time,
};

const CSS: &str = r#"
@page { size: A4; margin: 37mm 26mm 35mm 28mm; }
body { font-family: "FangSong", "仿宋", "Noto Serif CJK SC", "SimSun", serif; font-size: 16pt; line-height: 1.6; color: #000; max-width: 156mm; margin: 2em auto; }
.red-title { font-family: "方正小标宋简体", "FZXiaoBiaoSong-B05S", "Noto Serif CJK SC", "SimSun", serif; color: #d40000; font-size: 32pt; font-weight: bold; text-align: center; letter-spacing: 0.1em; margin: 0; }
.number { text-align: center; font-size: 16pt; margin: 0.4em 0 0.6em; }
.byline { display: flex; justify-content: space-between; font-size: 15pt; }
.rule { border: 0; border-top: 2.5pt solid #d40000; margin: 0.2em 0 1em; }
h2 { font-family: "SimHei", "黑体", "Noto Sans CJK SC", sans-serif; font-size: 16pt; margin: 1.2em 0 0.4em; }
h3 { font-family: "KaiTi", "楷体", "Noto Serif CJK SC", serif; font-size: 16pt; margin: 1em 0 0.2em; }
p { margin: 0.2em 0; text-indent: 2em; }
.meta { font-size: 12pt; color: #333; text-indent: 0; }
.link { font-size: 10pt; color: #555; text-indent: 0; word-break: break-all; }
table { border-collapse: collapse; width: 100%; font-size: 11pt; margin: 0.5em 0; }
th, td { border: 1px solid #000; padding: 2px 4px; vertical-align: top; }
th { background: #f2f2f2; }
.chart svg { max-width: 100%; height: auto; }
.recipients { border-top: 1pt solid #000; border-bottom: 1pt solid #000; margin-top: 2em; padding: 0.3em 0; font-size: 14pt; text-indent: 0; }
.tone-negative { color: #c62828; }
"#;

/// The bulletin as a self-contained HTML document. Every piece of text is escaped.
pub fn render_html(b: &Bulletin) -> String {
    let e = xml_escape;
    let mut h = String::with_capacity(16 * 1024);
    h.push_str("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str(&format!("<title>{} {}</title>\n", e(&b.title), e(&number_line(b))));
    h.push_str(&format!("<style>{CSS}</style>\n</head>\n<body>\n"));
    h.push_str("<header>\n");
    h.push_str(&format!("<h1 class=\"red-title\">{}</h1>\n", e(&b.title)));
    h.push_str(&format!("<div class=\"number\">{}</div>\n", e(&number_line(b))));
    h.push_str(&format!(
        "<div class=\"byline\"><span>{}</span><span>{}</span></div>\n",
        e(&compiled_by_line(b)),
        e(&zh_date(b.date))
    ));
    h.push_str("<hr class=\"rule\">\n</header>\n<main>\n");

    let mut section = 1;
    h.push_str(&format!("<h2>{}、本期概况</h2>\n", zh_ordinal(section)));
    section += 1;
    h.push_str(&format!("<p>{}</p>\n", e(&overview_sentence(b))));
    let cats = category_sentence(b);
    if !cats.is_empty() {
        h.push_str(&format!("<p>{}</p>\n", e(&cats)));
    }
    if !b.overview.daily.is_empty() {
        h.push_str(&format!("<div class=\"chart\">{}</div>\n", tone_chart_svg(&b.overview)));
    }
    if !b.overview.top_events.is_empty() {
        h.push_str(
            "<p>本期主要事件：</p>\n<table>\n<tr><th>序号</th><th>事件</th><th>信息数</th><th>来源数</th></tr>\n",
        );
        for (i, ev) in b.overview.top_events.iter().enumerate() {
            h.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                i + 1,
                e(&ev.title),
                ev.items,
                ev.sources
            ));
        }
        h.push_str("</table>\n");
    }

    if !b.entries.is_empty() {
        h.push_str(&format!("<h2>{}、舆情信息一览</h2>\n", zh_ordinal(section)));
        section += 1;
        h.push_str("<table>\n<tr><th>序号</th><th>标题</th><th>来源</th><th>时间</th><th>倾向</th><th>等级</th><th>处置</th></tr>\n");
        for (i, en) in b.entries.iter().enumerate() {
            let case = case_cell(en);
            h.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}（{}）</td><td>{}</td><td class=\"tone-{}\">{}</td><td>{}</td><td>{}</td></tr>\n",
                i + 1,
                e(&en.headline),
                e(&en.source),
                e(en.tier.zh()),
                e(&zh_time(en.published.as_ref())),
                en.tone.id(),
                e(en.tone.zh()),
                e(en.level.zh()),
                e(&case)
            ));
        }
        h.push_str("</table>\n");

        h.push_str(&format!("<h2>{}、舆情摘要</h2>\n", zh_ordinal(section)));
        section += 1;
        for (i, en) in b.entries.iter().enumerate() {
            h.push_str(&format!("<section class=\"entry\">\n<h3>（{}）{}</h3>\n", zh_ordinal(i + 1), e(&en.headline)));
            h.push_str(&format!("<p class=\"meta\">{}</p>\n", e(&entry_meta(en))));
            for para in paragraphs(&en.summary) {
                h.push_str(&format!("<p>{}</p>\n", e(para)));
            }
            for line in entry_extra(en) {
                h.push_str(&format!("<p class=\"meta\">{}</p>\n", e(&line)));
            }
            if !en.url.is_empty() {
                let href =
                    if en.url.starts_with("http://") || en.url.starts_with("https://") { en.url.as_str() } else { "#" };
                h.push_str(&format!(
                    "<p class=\"link\">原文链接：<a href=\"{}\" rel=\"noopener noreferrer\">{}</a></p>\n",
                    e(href),
                    e(&en.url)
                ));
            }
            h.push_str("</section>\n");
        }
    }

    if let Some(c) = b.comment.as_deref().filter(|c| !c.trim().is_empty()) {
        h.push_str(&format!("<h2>{}、网宣办意见</h2>\n", zh_ordinal(section)));
        for para in paragraphs(c) {
            h.push_str(&format!("<p>{}</p>\n", e(para)));
        }
    }
    h.push_str("</main>\n<footer>\n");
    h.push_str(&format!("<p class=\"recipients\">{}</p>\n", e(&recipients_line(b))));
    h.push_str("</footer>\n</body>\n</html>\n");
    h
}
