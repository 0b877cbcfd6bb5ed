//! Statistics reports, their charts and the item exports: the counting rules on
//! hand-made facts, golden SVGs, and the rendered documents checked with real tools
//! (poppler-utils for the PDF, LibreOffice for DOCX and XLSX).

mod common;

use std::path::PathBuf;

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone};
use common::*;
use yuqing_core::{Category, Level, Tier, Tone};
use yuqing_report::{
    export_csv, export_xlsx, render_report_docx, render_report_html, render_report_pdf, report_charts,
    report_html_fragment, Bulletin, CaseState, DeadlineCount, ExportItem, Overview, OverviewItem, Report, ReportCase,
    ReportItem, ReportKind, ReportSpec,
};

fn cst() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("valid offset")
}

fn at(m: u32, d: u32, h: u32) -> DateTime<FixedOffset> {
    cst().with_ymd_and_hms(2026, m, d, h, 0, 0).single().expect("valid time")
}

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, d).expect("valid date")
}

fn spec(kind: ReportKind, period: (NaiveDate, NaiveDate)) -> ReportSpec {
    ReportSpec {
        kind,
        title: ReportSpec::default_title("上犹县财政局", kind),
        compiled_by: "上犹县财政系统网宣办".to_string(),
        date: period.1 + Duration::days(1),
        period,
    }
}

fn item<'a>(at: DateTime<FixedOffset>, source: &'a str, tone: Tone, cats: &'a [Category]) -> ReportItem<'a> {
    ReportItem { at, source, tier: Tier::Local, tone, level: Level::Ordinary, categories: cats, event: None }
}

#[test]
fn periods_of_each_kind() {
    // 2026-04-29 is a Wednesday.
    assert_eq!(ReportKind::Daily.period_containing(day(4, 29)), (day(4, 29), day(4, 29)));
    assert_eq!(ReportKind::Weekly.period_containing(day(4, 29)), (day(4, 27), day(5, 3)));
    assert_eq!(ReportKind::Weekly.period_containing(day(5, 3)), (day(4, 27), day(5, 3)), "Sunday ends the week");
    assert_eq!(ReportKind::Monthly.period_containing(day(2, 14)), (day(2, 1), day(2, 28)));
    let leap = NaiveDate::from_ymd_opt(2028, 2, 10).expect("date");
    assert_eq!(ReportKind::Monthly.period_containing(leap).1, NaiveDate::from_ymd_opt(2028, 2, 29).expect("date"));
    assert_eq!(ReportKind::Monthly.period_containing(day(12, 31)), (day(12, 1), day(12, 31)));
}

#[test]
fn report_counts_the_period_only_with_quiet_days() {
    let none: &[Category] = &[];
    let items = vec![
        item(at(4, 27, 9), "A", Tone::Negative, none),
        item(at(4, 27, 23), "A", Tone::Positive, none),
        item(at(4, 29, 10), "B", Tone::Neutral, none),
        // Outside the period on either side.
        item(at(4, 26, 23), "A", Tone::Negative, none),
        item(at(4, 30, 0), "A", Tone::Negative, none),
    ];
    let r = Report::compile(spec(ReportKind::Daily, (day(4, 27), day(4, 29))), items, &[], at(5, 1, 0));
    assert_eq!(r.total, 3);
    assert_eq!(r.by_tone, [1, 1, 1]);
    assert_eq!(r.daily, vec![(day(4, 27), [1, 0, 1]), (day(4, 28), [0, 0, 0]), (day(4, 29), [0, 1, 0])]);
    assert_eq!(r.by_level, vec![(Level::MajorSensitive, 0), (Level::Important, 0), (Level::Ordinary, 3)]);
    assert_eq!(r.by_tier, vec![(Tier::Local, 3)]);
    assert_eq!(
        r.by_source.iter().map(|s| (s.source.as_str(), s.items, s.negative)).collect::<Vec<_>>(),
        vec![("A", 2, 1), ("B", 1, 0)]
    );
}

#[test]
fn sources_past_the_top_fifteen_are_summed_as_others() {
    let names: Vec<String> = (0..20).map(|i| format!("来源{i:02}")).collect();
    let mut items = Vec::new();
    for (i, n) in names.iter().enumerate() {
        for _ in 0..=i {
            items.push(item(at(4, 27, 9), n, Tone::Neutral, &[]));
        }
    }
    let r = Report::compile(spec(ReportKind::Daily, (day(4, 27), day(4, 27))), items, &[], at(4, 28, 0));
    assert_eq!(r.by_source.len(), yuqing_report::MAX_SOURCES);
    assert_eq!(r.by_source[0].source, "来源19");
    assert_eq!(r.by_source[0].items, 20);
    // The five smallest: 1 + 2 + 3 + 4 + 5 items.
    assert_eq!(r.other_sources, 15);
    assert_eq!(r.by_source.iter().map(|s| s.items).sum::<usize>() + r.other_sources, r.total);
}

#[test]
fn categories_count_each_item_once_per_category() {
    let both: &[Category] = &[Category::Policy, Category::Livelihood, Category::Policy];
    let one: &[Category] = &[Category::Livelihood];
    let items = vec![
        item(at(4, 27, 9), "A", Tone::Neutral, both),
        item(at(4, 27, 9), "A", Tone::Neutral, one),
        item(at(4, 27, 9), "A", Tone::Neutral, &[]),
    ];
    let r = Report::compile(spec(ReportKind::Daily, (day(4, 27), day(4, 27))), items, &[], at(4, 28, 0));
    assert_eq!(r.by_category, vec![(Category::Livelihood, 2), (Category::Policy, 1)]);
    assert_eq!(r.uncategorised, 1);
}

#[test]
fn events_need_two_items_and_count_distinct_sources() {
    let mk = |source: &'static str, ev: Option<(i64, &'static str)>| ReportItem {
        event: ev,
        ..item(at(4, 27, 9), source, Tone::Negative, &[])
    };
    let big = Some((7, "医保缴费调整"));
    let small = Some((3, "补贴延迟"));
    let items = vec![
        mk("A", big),
        mk("A", big),
        mk("B", big),
        mk("C", small),
        mk("D", small),
        mk("E", Some((9, "只有一条"))),
        mk("F", None),
    ];
    let r = Report::compile(spec(ReportKind::Daily, (day(4, 27), day(4, 27))), items, &[], at(4, 28, 0));
    let events: Vec<_> = r.top_events.iter().map(|e| (e.title.as_str(), e.items, e.sources)).collect();
    assert_eq!(events, vec![("医保缴费调整", 3, 2), ("补贴延迟", 2, 2)]);
}

#[test]
fn timeliness_counts_in_time_late_pending_and_dismissed() {
    let base = at(4, 27, 9);
    let case = |level, assessed: Option<i64>, answered: Option<i64>, dismissed: Option<i64>| ReportCase {
        level,
        reported_at: base,
        assess_due: base + Duration::hours(2),
        answer_due: base + Duration::hours(24),
        assessed_at: assessed.map(|h| base + Duration::hours(h)),
        answered_at: answered.map(|h| base + Duration::hours(h)),
        dismissed_at: dismissed.map(|h| base + Duration::hours(h)),
    };
    let now = base + Duration::hours(10);
    let cases = vec![
        // In time both ways.
        case(Level::Important, Some(1), Some(5), None),
        // Assessed late; answer not due yet.
        case(Level::Important, Some(3), None, None),
        // Not assessed, past due: late; answer still pending.
        case(Level::Ordinary, None, None, None),
        // Dismissed within an hour: triaged in time, no answer needed.
        case(Level::Ordinary, None, None, Some(1)),
        // Reported outside the period: not counted.
        ReportCase { reported_at: base - Duration::days(3), ..case(Level::Ordinary, Some(1), Some(2), None) },
    ];
    let r = Report::compile(spec(ReportKind::Daily, (day(4, 27), day(4, 27))), Vec::new(), &cases, now);
    let t = &r.timeliness;
    assert_eq!(t.cases, 4);
    assert_eq!(t.assess, DeadlineCount { in_time: 2, late: 2, pending: 0 });
    assert_eq!(t.answer, DeadlineCount { in_time: 1, late: 0, pending: 2 });
    assert_eq!(t.assess.share(), Some(0.5));
    assert_eq!(t.answer.share(), Some(1.0));
    assert_eq!(
        t.by_level.iter().map(|l| (l.level, l.cases)).collect::<Vec<_>>(),
        vec![(Level::Important, 2), (Level::Ordinary, 2)]
    );
    assert_eq!(DeadlineCount::default().share(), None, "nothing decided is not 0 %");

    // A day later the open answer is late.
    let later = Report::compile(
        spec(ReportKind::Daily, (day(4, 27), day(4, 27))),
        Vec::new(),
        &cases,
        base + Duration::days(2),
    );
    assert_eq!(later.timeliness.answer, DeadlineCount { in_time: 1, late: 2, pending: 0 });
}

#[test]
fn overview_compile_matches_the_bulletin_shape() {
    let cats: &[Category] = &[Category::Livelihood];
    let items = vec![
        OverviewItem {
            day: day(4, 27),
            source: "A",
            tone: Tone::Negative,
            level: Level::Important,
            categories: cats,
            event: Some((1, "事件")),
        },
        OverviewItem {
            day: day(4, 29),
            source: "B",
            tone: Tone::Positive,
            level: Level::Ordinary,
            categories: &[],
            event: Some((1, "事件")),
        },
        OverviewItem {
            day: day(5, 9),
            source: "B",
            tone: Tone::Positive,
            level: Level::Ordinary,
            categories: &[],
            event: None,
        },
    ];
    let o = Overview::compile((day(4, 27), day(4, 29)), items, 5);
    assert_eq!(o.total, 2);
    assert_eq!(o.by_tone, [(Tone::Positive, 1), (Tone::Neutral, 0), (Tone::Negative, 1)]);
    assert_eq!(o.by_level, vec![(Level::Important, 1), (Level::Ordinary, 1)]);
    assert_eq!(o.by_category, vec![(Category::Livelihood, 1)]);
    assert_eq!(o.daily.len(), 3);
    assert_eq!(o.top_events.len(), 1);
    assert_eq!((o.top_events[0].items, o.top_events[0].sources), (2, 2));
}

#[test]
fn bulletins_stored_in_the_first_json_shape_still_read() {
    let mut v = serde_json::to_value(Bulletin::sample()).expect("serialises");
    // The first release wrote these as tuples and had no categories.
    v["overview"]["top_events"] = serde_json::json!([["城乡居民医保缴费标准调整引发讨论", 12, 5]]);
    v["entries"][0]["spread"] = serde_json::json!([6, 3]);
    v["entries"][0]["case"] = serde_json::json!(["已回应", "已联系发帖网民说明情况。"]);
    v["entries"][0].as_object_mut().expect("object").remove("categories");
    let b: Bulletin = serde_json::from_value(v).expect("old shape reads");
    assert_eq!(b.overview.top_events[0].items, 12);
    let e = &b.entries[0];
    assert_eq!(e.spread.map(|s| (s.items, s.sources)), Some((6, 3)));
    let case = e.case.as_ref().expect("case");
    assert_eq!(case.state, CaseState::Answered);
    assert_eq!(case.answer.as_ref().map(|a| a.text.as_str()), Some("已联系发帖网民说明情况。"));
    assert!(e.categories.is_empty());
    // And the current shape round-trips.
    let now = Bulletin::sample();
    let back: Bulletin = serde_json::from_str(&serde_json::to_string(&now).expect("json")).expect("reads");
    assert_eq!(back, now);
}

/// Compares with `tests/golden/NAME`; `UPDATE_GOLDEN=1` rewrites the file.
fn golden(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).expect("golden written");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} is missing: run with UPDATE_GOLDEN=1 and look at it", path.display()));
    assert!(expected == actual, "{name} differs from its golden file; if the change is wanted, rerun with UPDATE_GOLDEN=1 and look at the picture");
}

#[test]
fn report_charts_match_their_golden_svgs() {
    let r = Report::sample();
    let c = report_charts(&r);
    for (name, svg) in [
        ("report-daily.svg", &c.daily),
        ("report-by-tier.svg", &c.by_tier),
        ("report-by-source.svg", &c.by_source),
        ("report-by-category.svg", &c.by_category),
    ] {
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"), "{name}");
        assert_balanced(name, svg);
        golden(name, svg);
    }
    assert_eq!(report_charts(&r), c, "the same report draws the same bytes");
    golden("bulletin-tone.svg", &yuqing_report::tone_chart_svg(&Bulletin::sample().overview));
}

#[test]
fn charts_escape_hostile_source_names() {
    let hostile = "<script>alert(1)</script>&'\"";
    let items = vec![item(at(4, 27, 9), hostile, Tone::Negative, &[])];
    let r = Report::compile(spec(ReportKind::Daily, (day(4, 27), day(4, 27))), items, &[], at(4, 28, 0));
    let c = report_charts(&r);
    assert_balanced("by_source", &c.by_source);
    assert!(!c.by_source.contains("<script>"));
    assert!(c.by_source.contains("&lt;script&gt;"));
    let html = report_html_fragment(&r);
    assert!(!html.contains("<script>"));
}

fn required_report_text(r: &Report) -> Vec<String> {
    vec![
        r.spec.title.clone(),
        "2026年4月27日至5月3日".to_string(),
        "编：上犹县财政系统网宣办".to_string(),
        "一、总体情况".to_string(),
        "六、处置时效".to_string(),
        format!("共监测到相关网上舆情信息{}条", r.total),
        "按时研判率".to_string(),
        "城乡居民医保缴费标准调整引发讨论".to_string(),
    ]
}

#[test]
fn report_html_has_every_section_and_inline_charts() {
    let r = Report::sample();
    let html = render_report_html(&r);
    assert!(html.starts_with("<!DOCTYPE html>"));
    for s in required_report_text(&r) {
        assert!(html.contains(&s), "HTML lacks {s:?}");
    }
    assert_eq!(html.matches("<svg").count(), 4, "four charts inline");
    let fragment = report_html_fragment(&r);
    assert!(fragment.starts_with("<article class=\"yq-report\">") && !fragment.contains("<html"));
}

#[test]
fn report_pdf_carries_the_text_and_the_charts_in_cjk_fonts() {
    let r = Report::sample();
    let pdf = render_report_pdf(&r, fonts()).expect("pdf renders");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = write_tmp(dir.path(), "report.pdf", &pdf);
    let text = pdf_text(&path);
    for s in required_report_text(&r) {
        assert!(text.contains(&squash(&s)), "PDF text lacks {s:?}:\n{text}");
    }
    // The charts' own titles are text from the embedded SVG.
    for s in ["信源级别分布", "重点内容类别分布", "主要来源"] {
        assert!(text.contains(s), "PDF lacks the chart title {s:?}");
    }
    assert!(text.contains(&squash("— 1 —")));
    assert_embeds_cjk_sc(&path);
    first_page_png(&path, &std::env::temp_dir().join("yuqing-report-page1.png"));
}

#[test]
fn report_docx_opens_in_libreoffice_with_the_tables() {
    let r = Report::sample();
    let bytes = render_report_docx(&r).expect("docx renders");
    let parts = zip_parts(&bytes);
    for (name, xml) in &parts {
        assert_balanced(name, xml);
    }
    let text = docx_text(&bytes);
    for s in required_report_text(&r) {
        assert!(text.contains(&s), "DOCX lacks {s:?}");
    }
    assert!(parts["word/document.xml"].matches("<w:tbl>").count() >= 5, "tables for the charts' numbers");
    let Some(soffice) = soffice() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let docx = write_tmp(dir.path(), "report.docx", &bytes);
    let pdf = convert(&soffice, &docx, "pdf", dir.path());
    let text = pdf_text(&pdf);
    for s in required_report_text(&r) {
        assert!(text.contains(&squash(&s)), "LibreOffice's PDF lacks {s:?}");
    }
}

fn export_items() -> Vec<ExportItem> {
    let base = ExportItem {
        id: 17,
        published: Some(at(4, 28, 9)),
        fetched: at(4, 28, 10),
        source: "赣州论坛".to_string(),
        tier: Tier::HomeCity,
        title: "网传某镇惠农补贴发放延迟".to_string(),
        url: "https://bbs.example.org/thread-1024.html".to_string(),
        tone: Tone::Negative,
        tone_score: Some(-0.83),
        level: Level::Important,
        categories: vec![Category::Livelihood, Category::Rumour],
        duplicate_of: None,
        case_state: Some(CaseState::Answered),
        summary: "有网民发帖称，补贴尚未到账。\n第二段，带\"引号\"和,逗号".to_string(),
    };
    vec![
        base.clone(),
        ExportItem {
            id: 18,
            published: None,
            title: "=HYPERLINK(\"http://evil.example\",\"点我\")".to_string(),
            source: "+cmd|' /C calc'!A0".to_string(),
            summary: "@SUM(1+1) _x0041_".to_string(),
            tone_score: None,
            categories: vec![],
            duplicate_of: Some(17),
            case_state: None,
            ..base
        },
    ]
}

#[test]
fn csv_has_a_bom_chinese_headers_and_defused_formulas() {
    let bytes = export_csv(&export_items()).expect("csv");
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "UTF-8 byte order mark for Excel and WPS");
    let text = std::str::from_utf8(&bytes[3..]).expect("utf-8");
    assert!(text.contains("\r\n"));
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let headers = r.headers().expect("headers").clone();
    assert_eq!(&headers[0], "编号");
    assert_eq!(&headers[5], "标题");
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.expect("record")).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(&rows[0][1], "2026-04-28 09:00");
    assert_eq!(&rows[0][8], "-0.83", "our own numbers are not defused");
    assert_eq!(&rows[0][10], "民生问题、谣言不实信息");
    assert_eq!(&rows[0][12], "已回应");
    assert!(rows[0][13].contains("\"引号\"和,逗号"), "quoting round-trips");
    assert_eq!(&rows[1][5], "'=HYPERLINK(\"http://evil.example\",\"点我\")");
    assert_eq!(&rows[1][3], "'+cmd|' /C calc'!A0");
    assert!(rows[1][13].starts_with("'@SUM"));
    assert_eq!(&rows[1][1], "", "no published time");
    assert_eq!(&rows[1][11], "17");
}

#[test]
fn xlsx_is_read_by_libreoffice_with_the_same_cells() {
    let items = export_items();
    let bytes = export_xlsx(&items).expect("xlsx");
    let parts = zip_parts(&bytes);
    for (name, xml) in &parts {
        assert_balanced(name, xml);
    }
    let sheet = &parts["xl/worksheets/sheet1.xml"];
    assert!(sheet.contains("state=\"frozen\"") && sheet.contains("<autoFilter ref=\"A1:N3\"/>"));
    assert!(sheet.contains("=HYPERLINK("), "XLSX keeps the text: a string cell is never a formula");
    assert!(!sheet.contains("<f>"), "no formula cells");
    assert!(sheet.contains("_x005F_x0041_"), "Excel's escape is escaped");

    let Some(soffice) = soffice() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let xlsx = write_tmp(dir.path(), "items.xlsx", &bytes);
    // 44 = comma, 34 = quote, 76 = UTF-8; dates as shown (the number format).
    let csv_path = convert(&soffice, &xlsx, "csv:Text - txt - csv (StarCalc):44,34,76,1", dir.path());
    let text = std::fs::read_to_string(&csv_path).expect("LibreOffice's CSV");
    let text = text.trim_start_matches('\u{feff}');
    let mut r = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(&r.headers().expect("headers")[12], "处置状态");
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.expect("record")).collect();
    assert_eq!(rows.len(), 2, "{text}");
    assert_eq!(&rows[0][0], "17");
    assert_eq!(&rows[0][1], "2026-04-28 09:00", "a real date cell, shown in its format");
    assert_eq!(&rows[0][5], "网传某镇惠农补贴发放延迟");
    assert_eq!(&rows[0][8], "-0.83");
    assert_eq!(&rows[1][5], "=HYPERLINK(\"http://evil.example\",\"点我\")", "read back as text, not evaluated");
    assert!(rows[1][13].ends_with("_x0041_"), "the literal survives: {}", &rows[1][13]);
    assert_eq!(&rows[1][11], "17");
}
