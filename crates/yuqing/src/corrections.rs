//! `yuqing corrections export`: the tones the office corrected by hand (倾向更正, in the
//! UI or the API), as the training data `yuqing train tone --data FILE.tsv` reads, so an
//! office can retrain its own tone model:
//!
//! ```sh
//! yuqing corrections export -o mine.tsv && yuqing train tone --data mine.tsv -o tone.bin
//! ```
//!
//! The file is the store's export (`yuqing_store::training_tsv`), the same bytes as the
//! web download: each corrected item once, with its latest correction's tone.

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use std::io::Write;
use std::path::Path;
use yuqing_store::Store;

/// Writes the export to `out` (stdout when `None`); returns how many items it holds.
pub async fn export(store: &Store, since: Option<DateTime<Utc>>, out: Option<&Path>) -> Result<usize> {
    let rows = store.tone_training_rows(since, usize::MAX).await.context("cannot read the tone corrections")?;
    let tsv = yuqing_store::training_tsv(&rows);
    match out {
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(tsv.as_bytes()).and_then(|()| stdout.flush()).context("cannot write to stdout")?;
        }
        Some(path) => {
            // Written beside the target and renamed over it, so an interrupted export
            // never leaves a half file that training would read without complaint.
            let mut tmp_name = path.file_name().map(|n| n.to_os_string()).unwrap_or_else(|| "export".into());
            tmp_name.push(".partial");
            let tmp = path.with_file_name(tmp_name);
            std::fs::write(&tmp, tsv.as_bytes()).with_context(|| format!("cannot write {}", tmp.display()))?;
            std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
        }
    }
    Ok(rows.len())
}
