//! `yuqing extract FILE…` without the binary around it: one JSON line per file
//! (file, title, published_at, content, encoding, kind), "now" for relative times
//! taken from the file's modification time, times in Asia/Shanghai. For the
//! extraction benchmark when the workspace binary cannot be built, and to tell the
//! extraction's time from the binary's start-up (configuration, runtime):
//!
//! cargo run --release -p yuqing-extract --example extract -- [extract] FILE…
use std::io::Write;
use std::process::ExitCode;

use chrono::{DateTime, SecondsFormat, Utc};

fn main() -> ExitCode {
    let mut files: Vec<String> = std::env::args().skip(1).collect();
    // Called as the binary is (`… extract FILE…`) by benches/extract/peers.py.
    if files.first().is_some_and(|a| a == "extract") {
        files.remove(0);
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut failures = 0;
    for name in &files {
        let line = match std::fs::read(name) {
            Err(e) => {
                failures += 1;
                serde_json::json!({"file": name, "error": format!("cannot read the file: {e}")})
            }
            Ok(bytes) => {
                let now = std::fs::metadata(name)
                    .and_then(|m| m.modified())
                    .map(DateTime::<Utc>::from)
                    .unwrap_or_else(|_| Utc::now());
                let opts = yuqing_extract::ExtractOptions { tz: chrono_tz::Asia::Shanghai, now, url: None };
                match yuqing_extract::extract(&bytes, None, &opts) {
                    Ok(a) => serde_json::json!({
                        "file": name,
                        "title": a.title,
                        "published_at": a.published_at.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, false)),
                        "content": a.content,
                        "encoding": a.encoding,
                        "kind": a.kind,
                    }),
                    Err(e) => {
                        failures += 1;
                        serde_json::json!({"file": name, "error": e.to_string()})
                    }
                }
            }
        };
        if writeln!(out, "{line}").is_err() {
            return ExitCode::from(1);
        }
    }
    if out.flush().is_err() || (failures == files.len() && !files.is_empty()) {
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
