//! Golden tests: every `fixtures/extract/NAME.html` is extracted and compared with
//! `NAME.json` beside it.

use std::path::PathBuf;

use chrono::{TimeZone, Utc};
use yuqing_extract::{extract, ExtractOptions};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/extract")
}

fn opts() -> ExtractOptions {
    ExtractOptions {
        tz: chrono_tz::Asia::Shanghai,
        // 2026-11-22 10:00 in Shanghai: the fetch time of every fixture.
        now: Utc.with_ymd_and_hms(2026, 11, 22, 2, 0, 0).single().unwrap_or_else(|| panic!("valid time")),
        url: None,
    }
}

#[test]
fn golden_fixtures() {
    let mut names: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .unwrap_or_else(|e| panic!("fixtures folder: {e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "html"))
        .collect();
    names.sort();
    assert!(names.len() >= 30, "expected at least 30 fixtures, found {}", names.len());
    let mut failures = Vec::new();
    for html_path in &names {
        let name = html_path.file_stem().and_then(|s| s.to_str()).unwrap_or("?").to_string();
        let bytes = std::fs::read(html_path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let expected: serde_json::Value = serde_json::from_slice(
            &std::fs::read(html_path.with_extension("json")).unwrap_or_else(|e| panic!("{name}.json: {e}")),
        )
        .unwrap_or_else(|e| panic!("{name}.json: {e}"));
        let article = match extract(&bytes, None, &opts()) {
            Ok(a) => a,
            Err(e) => {
                failures.push(format!("{name}: error {e}"));
                continue;
            }
        };
        let mut fail =
            |what: String| failures.push(format!("{name}: {what}\n--- content ---\n{}\n---", article.content));
        if expected["title"].as_str() != Some(article.title.as_str()) {
            fail(format!("title {:?}, expected {}", article.title, expected["title"]));
        }
        let published = article.published_at.map(|d| d.to_rfc3339());
        if expected["published_at"].as_str() != published.as_deref() {
            fail(format!("published_at {published:?}, expected {}", expected["published_at"]));
        }
        let kind = serde_json::to_value(article.kind).unwrap_or_default();
        if expected["kind"] != kind {
            fail(format!("kind {kind}, expected {}", expected["kind"]));
        }
        if let Some(enc) = expected["encoding"].as_str() {
            if enc != article.encoding {
                fail(format!("encoding {}, expected {enc}", article.encoding));
            }
        }
        for s in expected["content_contains"].as_array().into_iter().flatten().filter_map(|v| v.as_str()) {
            if !article.content.contains(s) {
                fail(format!("content lacks {s:?}"));
            }
        }
        for s in expected["content_excludes"].as_array().into_iter().flatten().filter_map(|v| v.as_str()) {
            if article.content.contains(s) {
                fail(format!("content has {s:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{} failure(s):\n{}", failures.len(), failures.join("\n"));
}
