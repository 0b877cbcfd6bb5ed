//! Renders the sample bulletin and the sample weekly report in every format, and
//! exports generated items, to /tmp (or the folder given), printing how long each
//! took: `cargo run --release -p yuqing-report --example sample [DIR] [ITEMS]`.
//! Then look at the PDFs, e.g.
//! `pdftoppm -png -r 60 -f 1 -l 1 /tmp/yuqing-report-sample.pdf /tmp/page`.

use std::path::PathBuf;
use std::time::Instant;

use chrono::{Duration, FixedOffset, TimeZone};
use yuqing_core::{Category, Level, Tier, Tone};
use yuqing_report::{Bulletin, ExportItem, Report};

fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let out = f();
    println!("{what:<28} {:>8.1} ms", t.elapsed().as_secs_f64() * 1000.0);
    out
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args_os().skip(1);
    let dir = args.next().map(PathBuf::from).unwrap_or_else(std::env::temp_dir);
    let n: usize = args.next().and_then(|s| s.to_str().and_then(|s| s.parse().ok())).unwrap_or(10_000);
    let fonts = timed("scan fonts", yuqing_report::FontSet::load_system)?;

    let b = Bulletin::sample();
    std::fs::write(
        dir.join("yuqing-bulletin-sample.pdf"),
        timed("bulletin pdf", || yuqing_report::render_pdf(&b, &fonts))?,
    )?;
    std::fs::write(
        dir.join("yuqing-bulletin-sample.pdf"),
        timed("bulletin pdf (again)", || yuqing_report::render_pdf(&b, &fonts))?,
    )?;
    std::fs::write(
        dir.join("yuqing-bulletin-sample.docx"),
        timed("bulletin docx", || yuqing_report::render_docx(&b))?,
    )?;
    std::fs::write(dir.join("yuqing-bulletin-sample.html"), timed("bulletin html", || yuqing_report::render_html(&b)))?;

    let r = timed("report compile (sample)", Report::sample);
    std::fs::write(
        dir.join("yuqing-report-sample.pdf"),
        timed("report pdf", || yuqing_report::render_report_pdf(&r, &fonts))?,
    )?;
    std::fs::write(
        dir.join("yuqing-report-sample.docx"),
        timed("report docx", || yuqing_report::render_report_docx(&r))?,
    )?;
    std::fs::write(
        dir.join("yuqing-report-sample.html"),
        timed("report html", || yuqing_report::render_report_html(&r)),
    )?;
    let charts = timed("report charts (4 svg)", || yuqing_report::report_charts(&r));
    std::fs::write(dir.join("yuqing-report-daily.svg"), &charts.daily)?;

    let cst = FixedOffset::east_opt(8 * 3600).ok_or("offset")?;
    let start = cst.with_ymd_and_hms(2026, 4, 1, 8, 0, 0).single().ok_or("time")?;
    let tones = [Tone::Positive, Tone::Neutral, Tone::Negative];
    let items: Vec<ExportItem> = (0..n)
        .map(|i| ExportItem {
            id: i as i64 + 1,
            published: Some(start + Duration::minutes(i as i64 * 3)),
            fetched: start + Duration::minutes(i as i64 * 3 + 10),
            source: format!("来源{}", i % 40),
            tier: Tier::ALL[i % Tier::ALL.len()],
            title: format!("关于某镇惠农补贴发放情况的网民留言（第{i}条）"),
            url: format!("https://bbs.example.org/thread-{i}.html"),
            tone: tones[i % 3],
            tone_score: Some((i % 200) as f64 / 100.0 - 1.0),
            level: Level::ALL[i % 3],
            categories: vec![Category::ALL[i % Category::ALL.len()]],
            duplicate_of: (i % 7 == 0 && i > 0).then_some(i as i64),
            case_state: None,
            summary: "有网民发帖称，某镇部分农户今年第一季度耕地地力保护补贴尚未到账。".repeat(3),
        })
        .collect();
    let xlsx = timed(&format!("export xlsx ({n} items)"), || yuqing_report::export_xlsx(&items))?;
    let csv = timed(&format!("export csv ({n} items)"), || yuqing_report::export_csv(&items))?;
    println!("xlsx {} KB, csv {} KB", xlsx.len() / 1024, csv.len() / 1024);
    std::fs::write(dir.join("yuqing-items-sample.xlsx"), xlsx)?;
    std::fs::write(dir.join("yuqing-items-sample.csv"), csv)?;
    println!("wrote the samples to {}", dir.display());
    Ok(())
}
