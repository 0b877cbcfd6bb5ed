//! Tone corrections (倾向更正): an office user sets an item's tone by hand; every change
//! is kept, and the corrected items are exported as training data for the office's own
//! tone model (migration 0011).
//!
//! - **Append-only.** One `tone_corrections` row per change (who, when, from, to, an
//!   optional note), never updated or deleted (triggers refuse it). It is written in the
//!   transaction that sets the item's tone, so the item and its history cannot disagree.
//! - **Idempotent.** Correcting an item to the tone it already has writes nothing: a form
//!   submitted twice, or two people correcting at once, leave one row. The item's row is
//!   locked while the change is decided (`FOR UPDATE` on PostgreSQL; the one writer on
//!   SQLite).
//! - **Tone and score agree.** The corrected item's `tone_score` becomes the corrected
//!   tone's certain value (positive 1, neutral 0, negative −1): the API documents the
//!   score as the tone's strength, above 0 leaning positive, and a human's tone with the
//!   model's opposite score would mislead every reader of it. The score the item had
//!   before (the model's own, on a first correction) is kept in the correction row
//!   (`score_before`), and `items.tone_corrected_at` marks the tone as set by hand. The
//!   level is left as judged: it is the office's to reassess in the case flow, and
//!   changing it here would raise or drop alerts and cases behind everyone's back.
//! - **Search follows.** PostgreSQL search reads the items' columns. The embedded tantivy
//!   index has the tone as a filter field: after the commit, the item's document is
//!   written again and committed, and `tone_index_state.indexed_through` records the
//!   last correction the index has, so that a crash in between (or another process
//!   holding the index) is caught up when the store next opens.
//! - **Training data.** [`Store::tone_training_rows`] gives each corrected item once,
//!   with its latest correction's tone; [`training_tsv`] writes them in the news layout
//!   `yuqing train tone --data FILE.tsv` reads (`id⇥tone⇥title⇥content`).

use crate::index::IndexDoc;
use crate::{parse_ts, ts, Backend, Result, Store, StoreError, User};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;
use yuqing_core::Tone;

/// Longest note of a correction, in characters (the database checks it too).
pub const MAX_CORRECTION_NOTE_CHARS: usize = 500;
/// Characters of an item's main text in the training export: enough for the tone
/// model, which reads the start of a text, and it keeps the file small.
pub const EXPORT_CONTENT_CHARS: usize = 2000;
/// Characters of an item's title in the training export.
pub const EXPORT_TITLE_CHARS: usize = 500;
/// The header line of the training export (the news layout of the tone trainer).
pub const TRAINING_TSV_HEADER: &str = "id\ttone\ttitle\tcontent";

/// Corrections whose items the index catch-up writes per batch.
const CATCH_UP_BATCH: i64 = 500;

/// The score a corrected tone carries: certain, at the end of the scale (or its middle).
pub fn corrected_score(tone: Tone) -> f32 {
    match tone {
        Tone::Positive => 1.0,
        Tone::Neutral => 0.0,
        Tone::Negative => -1.0,
    }
}

/// One change of an item's tone.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ToneCorrection {
    pub id: i64,
    pub item_id: i64,
    /// The item's title, for lists.
    pub title: String,
    pub tone_before: Tone,
    pub tone_after: Tone,
    /// The item's tone score just before the change (the model's, on a first correction).
    pub score_before: f32,
    pub user_id: Option<i64>,
    /// Who corrected it (the user's name).
    pub user: String,
    pub corrected_at: DateTime<Utc>,
    pub note: Option<String>,
}

/// The answer to [`Store::correct_tone`].
#[derive(Debug, Clone, PartialEq)]
pub enum ToneOutcome {
    /// The tone was changed, and this is the record of it.
    Corrected(ToneCorrection),
    /// The item has this tone already: nothing was written.
    Unchanged,
    /// There is no such item.
    NoItem,
}

/// One corrected item as training data.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingRow {
    pub item_id: i64,
    /// The tone of the item's latest correction.
    pub tone: Tone,
    pub title: String,
    pub content: String,
    /// When that correction was made.
    pub corrected_at: DateTime<Utc>,
}

/// The note as stored: line ends made `\n`, other control characters dropped, trimmed;
/// empty is no note. Longer than [`MAX_CORRECTION_NOTE_CHARS`] is an error.
pub fn clean_note(note: &str) -> Result<Option<String>> {
    let cleaned: String =
        note.replace("\r\n", "\n").chars().filter(|c| *c == '\n' || !c.is_control()).collect::<String>();
    let cleaned = cleaned.trim();
    if cleaned.chars().count() > MAX_CORRECTION_NOTE_CHARS {
        return Err(StoreError::Invalid(format!(
            "the note of a tone correction may have at most {MAX_CORRECTION_NOTE_CHARS} characters"
        )));
    }
    Ok((!cleaned.is_empty()).then(|| cleaned.to_string()))
}

/// A text as one TSV field: tabs, line breaks and other control characters become one
/// space (runs of them too), so the row stays one line of four fields; cut to `max` chars.
pub fn tsv_field(text: &str, max: usize) -> String {
    let mut out = String::new();
    let mut count = 0;
    for piece in text.split(|c: char| c.is_control()) {
        let piece = piece.trim();
        if piece.is_empty() {
            continue;
        }
        if count > 0 {
            if count >= max {
                break;
            }
            out.push(' ');
            count += 1;
        }
        for c in piece.chars() {
            if count >= max {
                break;
            }
            out.push(c);
            count += 1;
        }
    }
    out.trim_end().to_string()
}

/// The training export: the header, then one line per row, `item-ID⇥tone⇥title⇥content`,
/// the content cut to [`EXPORT_CONTENT_CHARS`] characters.
pub fn training_tsv(rows: &[TrainingRow]) -> String {
    let mut s = String::with_capacity(64 + rows.len() * 256);
    s.push_str(TRAINING_TSV_HEADER);
    s.push('\n');
    for r in rows {
        s.push_str(&format!(
            "item-{}\t{}\t{}\t{}\n",
            r.item_id,
            r.tone.id(),
            tsv_field(&r.title, EXPORT_TITLE_CHARS),
            tsv_field(&r.content, EXPORT_CONTENT_CHARS)
        ));
    }
    s
}

const CORRECTION_COLUMNS: &str = "c.id, c.item_id, i.title, c.tone_before, c.tone_after, c.score_before, c.user_id, \
     c.user_name, c.corrected_at, c.note";

fn tone_col(r: &AnyRow, col: &str) -> Result<Tone> {
    let v: String = r.try_get(col)?;
    Tone::from_id(&v).ok_or_else(|| StoreError::Invalid(format!("stored tone `{v}` is unknown")))
}

fn time_col(r: &AnyRow, col: &str) -> Result<DateTime<Utc>> {
    let v: String = r.try_get(col)?;
    parse_ts(&v).ok_or_else(|| StoreError::Invalid(format!("stored time `{v}` is not RFC 3339")))
}

fn correction_from_row(r: &AnyRow) -> Result<ToneCorrection> {
    Ok(ToneCorrection {
        id: r.try_get("id")?,
        item_id: r.try_get("item_id")?,
        title: r.try_get("title")?,
        tone_before: tone_col(r, "tone_before")?,
        tone_after: tone_col(r, "tone_after")?,
        score_before: r.try_get::<f64, _>("score_before")? as f32,
        user_id: r.try_get("user_id")?,
        user: r.try_get("user_name")?,
        corrected_at: time_col(r, "corrected_at")?,
        note: r.try_get("note")?,
    })
}

impl Store {
    /// Sets an item's tone by hand, as `by`, recording the change (see the module
    /// comment). Correcting to the tone the item has is [`ToneOutcome::Unchanged`] and
    /// writes nothing. A note longer than [`MAX_CORRECTION_NOTE_CHARS`] is refused.
    pub async fn correct_tone(
        &self,
        item_id: i64,
        tone: Tone,
        by: &User,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<ToneOutcome> {
        let note = clean_note(note)?;
        let _w = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        // Locks the item's row until the commit, so that two corrections at once are
        // decided one after the other (SQLite's one writer does this already).
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE",
            Backend::Sqlite => "",
        };
        let current: Option<(String, f64)> =
            sqlx::query_as(&format!("SELECT tone, tone_score FROM items WHERE id = $1{lock}"))
                .bind(item_id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((before, score_before)) = current else { return Ok(ToneOutcome::NoItem) };
        let before =
            Tone::from_id(&before).ok_or_else(|| StoreError::Invalid(format!("stored tone `{before}` is unknown")))?;
        if before == tone {
            return Ok(ToneOutcome::Unchanged);
        }
        sqlx::query("UPDATE items SET tone = $1, tone_score = $2, tone_corrected_at = $3 WHERE id = $4")
            .bind(tone.id())
            .bind(f64::from(corrected_score(tone)))
            .bind(ts(now))
            .bind(item_id)
            .execute(&mut *tx)
            .await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO tone_corrections (item_id, tone_before, tone_after, score_before, user_id, user_name, corrected_at, note)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(item_id)
        .bind(before.id())
        .bind(tone.id())
        .bind(score_before)
        .bind(by.id)
        .bind(&by.name)
        .bind(ts(now))
        .bind(note.as_deref())
        .fetch_one(&mut *tx)
        .await?;
        let title: String =
            sqlx::query_scalar("SELECT title FROM items WHERE id = $1").bind(item_id).fetch_one(&mut *tx).await?;
        tx.commit().await?;
        // Lists kept for a second show the item's tone: read them anew.
        self.pages.edited();
        // The database is the truth and has the correction now; the index follows, and
        // what it misses here is caught up on the next start (see the module comment).
        if let Err(e) = self.catch_up_tone_index_locked().await {
            tracing::warn!(error = %e, item = item_id, "the search index could not take a tone correction yet; it catches up on the next start");
        }
        Ok(ToneOutcome::Corrected(ToneCorrection {
            id,
            item_id,
            title,
            tone_before: before,
            tone_after: tone,
            score_before: score_before as f32,
            user_id: Some(by.id),
            user: by.name.clone(),
            corrected_at: parse_ts(&ts(now)).unwrap_or(now),
            note,
        }))
    }

    /// The corrections of one item, oldest first (at most the latest 200).
    pub async fn tone_corrections_of(&self, item_id: i64) -> Result<Vec<ToneCorrection>> {
        let rows = sqlx::query(&format!(
            "SELECT {CORRECTION_COLUMNS} FROM tone_corrections c JOIN items i ON i.id = c.item_id
             WHERE c.item_id = $1 ORDER BY c.id DESC LIMIT 200"
        ))
        .bind(item_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out = rows.iter().map(correction_from_row).collect::<Result<Vec<_>>>()?;
        out.reverse();
        Ok(out)
    }

    /// Corrections made since `since` (all when `None`), newest first, at most `limit`
    /// (1 to 10,000).
    pub async fn tone_corrections(&self, since: Option<DateTime<Utc>>, limit: usize) -> Result<Vec<ToneCorrection>> {
        let rows = sqlx::query(&format!(
            "SELECT {CORRECTION_COLUMNS} FROM tone_corrections c JOIN items i ON i.id = c.item_id
             WHERE c.corrected_at >= $1 ORDER BY c.id DESC LIMIT $2"
        ))
        .bind(since.map(ts).unwrap_or_default())
        .bind(limit.clamp(1, 10_000) as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(correction_from_row).collect()
    }

    /// The training data: every corrected item once, with the tone of its latest
    /// correction, in the order of those corrections; only items whose latest correction
    /// was made since `since` (all when `None`); at most `limit`.
    pub async fn tone_training_rows(&self, since: Option<DateTime<Utc>>, limit: usize) -> Result<Vec<TrainingRow>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX).max(1);
        let rows = sqlx::query(
            "SELECT c.item_id, c.tone_after, c.corrected_at, i.title, i.content
             FROM tone_corrections c JOIN items i ON i.id = c.item_id
             WHERE c.id IN (SELECT MAX(id) FROM tone_corrections GROUP BY item_id) AND c.corrected_at >= $1
             ORDER BY c.id LIMIT $2",
        )
        .bind(since.map(ts).unwrap_or_default())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(TrainingRow {
                    item_id: r.try_get("item_id")?,
                    tone: tone_col(r, "tone_after")?,
                    title: r.try_get("title")?,
                    content: r.try_get("content")?,
                    corrected_at: time_col(r, "corrected_at")?,
                })
            })
            .collect()
    }

    /// Writes the documents of items corrected since the index last took a correction,
    /// commits, and records how far it got. Called on open; a no-op on PostgreSQL and
    /// when nothing is waiting (so read-only commands never take the index's writer).
    pub(crate) async fn catch_up_tone_index(&self) -> Result<()> {
        let _w = self.write_guard().await;
        self.catch_up_tone_index_locked().await
    }

    /// [`Store::catch_up_tone_index`] for a caller that holds the write guard.
    async fn catch_up_tone_index_locked(&self) -> Result<()> {
        let Some(index) = &self.index else { return Ok(()) };
        let through: i64 = sqlx::query_scalar("SELECT indexed_through FROM tone_index_state WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?
            .unwrap_or(0);
        let mut last = through;
        loop {
            let batch: Vec<(i64, i64)> =
                sqlx::query_as("SELECT id, item_id FROM tone_corrections WHERE id > $1 ORDER BY id LIMIT $2")
                    .bind(last)
                    .bind(CATCH_UP_BATCH)
                    .fetch_all(&self.pool)
                    .await?;
            let Some(&(end, _)) = batch.last() else { break };
            let mut ids: Vec<i64> = batch.iter().map(|(_, item)| *item).collect();
            ids.sort_unstable();
            ids.dedup();
            for item_id in ids {
                let Some(r) = sqlx::query(
                    "SELECT id, title, content, source, tier, tone, level, categories, sort_at FROM items WHERE id = $1",
                )
                .bind(item_id)
                .fetch_optional(&self.pool)
                .await?
                else {
                    continue;
                };
                let categories: Vec<String> =
                    serde_json::from_str(&r.try_get::<String, _>("categories")?).unwrap_or_default();
                let text = |col: &str| r.try_get::<String, _>(col);
                let sort_at = text("sort_at")?;
                index
                    .add(&[IndexDoc {
                        id: item_id,
                        title: &text("title")?,
                        content: &text("content")?,
                        source: &text("source")?,
                        tier: &text("tier")?,
                        tone: &text("tone")?,
                        level: &text("level")?,
                        categories: &categories,
                        sort_ts: parse_ts(&sort_at).map_or(0, |t| t.timestamp_millis()),
                        tokens: None,
                    }])
                    .await?;
            }
            last = end;
        }
        if last == through {
            return Ok(());
        }
        // The payload stays what the last commit said: it is the last *ingested* item the
        // index has, and documents ingested but not yet flushed are committed here too,
        // which only makes the payload lag (a catch-up re-adds them, harmlessly).
        index.commit(index.committed_max_id()).await?;
        sqlx::query(
            "INSERT INTO tone_index_state (id, indexed_through) VALUES (1, $1)
             ON CONFLICT (id) DO UPDATE SET indexed_through = excluded.indexed_through",
        )
        .bind(last)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_lose_tabs_and_line_breaks_and_are_cut_by_characters() {
        assert_eq!(tsv_field("第一段\n\n第二段\t尾\r\n", 100), "第一段 第二段 尾");
        assert_eq!(tsv_field("  a \u{0}\u{1b} b  ", 100), "a b");
        assert_eq!(tsv_field("一二三四五", 3), "一二三");
        assert_eq!(tsv_field("一二\n三四", 3), "一二");
        assert_eq!(tsv_field("", 3), "");
    }

    #[test]
    fn notes_are_trimmed_bounded_and_empty_is_none() {
        assert_eq!(clean_note("  \r\n ").unwrap(), None);
        assert_eq!(clean_note(" 核实：\r\n并非拖欠 ").unwrap().as_deref(), Some("核实：\n并非拖欠"));
        assert_eq!(clean_note("a\u{7}b").unwrap().as_deref(), Some("ab"));
        assert!(clean_note(&"字".repeat(MAX_CORRECTION_NOTE_CHARS)).is_ok());
        assert!(clean_note(&"字".repeat(MAX_CORRECTION_NOTE_CHARS + 1)).is_err());
    }

    #[test]
    fn the_export_is_one_line_of_four_fields_per_item() {
        let rows = [TrainingRow {
            item_id: 7,
            tone: Tone::Negative,
            title: "标题\t含制表符".into(),
            content: format!("第一段\n第二段{}", "长".repeat(3000)),
            corrected_at: Utc::now(),
        }];
        let tsv = training_tsv(&rows);
        let lines: Vec<&str> = tsv.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0], TRAINING_TSV_HEADER);
        let f: Vec<&str> = lines[1].split('\t').collect();
        assert_eq!(f[..3], ["item-7", "negative", "标题 含制表符"]);
        assert_eq!(f.len(), 4);
        assert_eq!(f[3].chars().count(), EXPORT_CONTENT_CHARS);
        assert!(f[3].starts_with("第一段 第二段长"));
    }
}
