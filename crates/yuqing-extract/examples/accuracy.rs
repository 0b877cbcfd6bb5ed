//! Title and published-time accuracy over the hand-labelled fixtures in
//! `fixtures/extract/` (every `NAME.html` with its `NAME.json`), fetched at
//! 2026-11-22 10:00 Shanghai time as the golden test says. A title counts when it is
//! exactly the expected headline; a time when it is the expected instant (or both are
//! absent, for pages that state none).
//!
//! cargo run --release -p yuqing-extract --example accuracy [-- FILE.html…]
//!
//! With files, prints what is extracted from each instead.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{TimeZone, Utc};
use yuqing_extract::{extract, ExtractOptions};

fn main() -> ExitCode {
    let Some(now) = Utc.with_ymd_and_hms(2026, 11, 22, 2, 0, 0).single() else {
        return ExitCode::FAILURE;
    };
    let opts = ExtractOptions { tz: chrono_tz::Asia::Shanghai, now, url: None };
    let files: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    if !files.is_empty() {
        for f in &files {
            let bytes = std::fs::read(f).unwrap_or_default();
            match extract(&bytes, None, &opts) {
                Ok(a) => println!(
                    "{}\ntitle: {}\npublished: {:?}\nkind: {:?}  encoding: {}\n---\n{}\n---",
                    f.display(),
                    a.title,
                    a.published_at.map(|d| d.to_rfc3339()),
                    a.kind,
                    a.encoding,
                    a.content
                ),
                Err(e) => println!("{}: error {e}", f.display()),
            }
        }
        return ExitCode::SUCCESS;
    }
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/extract");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("cannot read {}", dir.display());
        return ExitCode::FAILURE;
    };
    let mut pages: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "html"))
        .collect();
    pages.sort();
    let (mut n, mut titles, mut times) = (0, 0, 0);
    for page in &pages {
        let name = page.file_stem().and_then(|s| s.to_str()).unwrap_or("?");
        let (Ok(bytes), Ok(json)) = (std::fs::read(page), std::fs::read(page.with_extension("json"))) else {
            eprintln!("{name}: cannot read the page or its JSON");
            continue;
        };
        let Ok(expected) = serde_json::from_slice::<serde_json::Value>(&json) else {
            eprintln!("{name}: the JSON does not parse");
            continue;
        };
        n += 1;
        let (title, published) = match extract(&bytes, None, &opts) {
            Ok(a) => (a.title, a.published_at.map(|d| d.to_rfc3339())),
            Err(_) => (String::new(), None),
        };
        let title_ok = expected["title"].as_str() == Some(title.as_str());
        let time_ok = expected["published_at"].as_str() == published.as_deref();
        titles += usize::from(title_ok);
        times += usize::from(time_ok);
        if !title_ok {
            println!("  title wrong  {name}: {title:?}, expected {}", expected["title"]);
        }
        if !time_ok {
            println!("  time wrong   {name}: {published:?}, expected {}", expected["published_at"]);
        }
    }
    let pct = |k: usize| if n == 0 { 0.0 } else { 100.0 * k as f64 / n as f64 };
    println!("{n} fixtures: title {titles}/{n} ({:.1}%), published time {times}/{n} ({:.1}%)", pct(titles), pct(times));
    ExitCode::SUCCESS
}
