//! Shared wording and escaping, so the three formats say the same thing.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate};

use crate::model::{Bulletin, Entry, Spread};

/// Escapes text for XML and HTML element content and attribute values.
pub(crate) fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters other than tab and newline are not allowed in XML 1.0.
            c if (c as u32) < 0x20 && c != '\t' && c != '\n' && c != '\r' => {}
            '\u{FFFE}' | '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// "2026年5月3日".
pub(crate) fn zh_date(d: NaiveDate) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

/// "2026-05-03 10:30".
pub(crate) fn zh_time(t: Option<&DateTime<FixedOffset>>) -> String {
    match t {
        Some(t) => t.format("%Y-%m-%d %H:%M").to_string(),
        None => "时间不详".to_string(),
    }
}

/// "第3期", or "2026年第3期" when the series' numbering resets every year.
pub(crate) fn number_line(b: &Bulletin) -> String {
    match b.series_number_in_year {
        Some(n) => format!("{}年第{}期", b.year, n),
        None => format!("第{}期", b.number),
    }
}

/// "编：上犹县财政系统网宣办".
pub(crate) fn compiled_by_line(b: &Bulletin) -> String {
    format!("编：{}", b.compiled_by)
}

/// "本期发至：A，B，C。"
pub(crate) fn recipients_line(b: &Bulletin) -> String {
    format!("本期发至：{}。", b.recipients.join("，"))
}

/// "2026年4月27日至5月3日".
pub(crate) fn period_text(b: &Bulletin) -> String {
    let (a, z) = b.period;
    if a == z {
        zh_date(a)
    } else if a.year() == z.year() {
        format!("{}至{}月{}日", zh_date(a), z.month(), z.day())
    } else {
        format!("{}至{}", zh_date(a), zh_date(z))
    }
}

/// The overview's opening sentence.
pub(crate) fn overview_sentence(b: &Bulletin) -> String {
    let o = &b.overview;
    let tones: Vec<String> = o.by_tone.iter().map(|(t, n)| format!("{}{}条", t.zh(), n)).collect();
    let mut s = format!("本期（{}）共监测到相关网上舆情信息{}条，其中{}", period_text(b), o.total, tones.join("、"));
    if !o.by_level.is_empty() {
        let levels: Vec<String> = o.by_level.iter().rev().map(|(l, n)| format!("{}{}条", l.zh(), n)).collect();
        s.push_str("；按等级分，");
        s.push_str(&levels.join("、"));
    }
    s.push('。');
    s
}

/// "按类别分：民生问题3条、政策反馈1条。" or empty.
pub(crate) fn category_sentence(b: &Bulletin) -> String {
    let o = &b.overview;
    if o.by_category.is_empty() {
        return String::new();
    }
    let cats: Vec<String> = o.by_category.iter().map(|(c, n)| format!("{}{}条", c.zh(), n)).collect();
    format!("按类别分：{}。", cats.join("、"))
}

/// Chinese ordinal for section numbers: 一 … 九十九.
pub(crate) fn zh_ordinal(n: usize) -> String {
    const D: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match n {
        0..=9 => D[n].to_string(),
        10..=19 => format!("十{}", if n.is_multiple_of(10) { "" } else { D[n % 10] }),
        20..=99 => format!("{}十{}", D[n / 10], if n.is_multiple_of(10) { "" } else { D[n % 10] }),
        _ => n.to_string(),
    }
}

/// "5条信息，3个来源".
pub(crate) fn spread_text(s: Spread) -> String {
    format!("{}条信息，{}个来源", s.items, s.sources)
}

/// "来源：赣州论坛（本市媒体）　时间：…　倾向：负面　等级：重要".
pub(crate) fn entry_meta(e: &Entry) -> String {
    format!(
        "来源：{}（{}）　时间：{}　倾向：{}　等级：{}",
        e.source,
        e.tier.zh(),
        zh_time(e.published.as_ref()),
        e.tone.zh(),
        e.level.zh()
    )
}

/// The case column of the entries table: "已回应", "核实中（已超时）" or "—".
pub(crate) fn case_cell(e: &Entry) -> String {
    match &e.case {
        Some(c) if c.overdue => format!("{}（已超时）", c.state.zh()),
        Some(c) => c.state.zh().to_string(),
        None => "—".to_string(),
    }
}

/// The lines under an entry's summary, in every format: categories, spread, case,
/// the official answer (channel and time first, so it reads as attributed) and its link.
pub(crate) fn entry_extra(e: &Entry) -> Vec<String> {
    let mut v = Vec::new();
    if !e.categories.is_empty() {
        let cats: Vec<&str> = e.categories.iter().map(|c| c.zh()).collect();
        v.push(format!("类别：{}", cats.join("、")));
    }
    if let Some(sp) = e.spread {
        v.push(format!("传播：{}", spread_text(sp)));
    }
    if let Some(c) = &e.case {
        v.push(format!("处置：{}", case_cell(e)));
        if let Some(a) = &c.answer {
            let mut by = Vec::new();
            if !a.channel.trim().is_empty() {
                by.push(a.channel.trim().to_string());
            }
            if let Some(at) = &a.at {
                by.push(zh_time(Some(at)));
            }
            let by = if by.is_empty() { String::new() } else { format!("（{}）", by.join("，")) };
            v.push(format!("官方回应{by}：{}", a.text.trim()));
            if let Some(u) = a.url.as_deref().filter(|u| !u.trim().is_empty()) {
                v.push(format!("回应链接：{}", u.trim()));
            }
        }
    }
    v
}

/// Paragraphs of a multi-line text, trimmed, blank ones dropped.
pub(crate) fn paragraphs(s: &str) -> impl Iterator<Item = &str> {
    s.split('\n').map(str::trim).filter(|p| !p.is_empty())
}
