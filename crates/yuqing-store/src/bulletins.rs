//! Bulletins in the store: numbering that never collides, and the frozen content.

use crate::{ts, Backend, Result, Store};
use chrono::Utc;
use sqlx::Row;

/// A stored bulletin issue.
#[derive(Debug, Clone)]
pub struct BulletinRow {
    pub number: i64,
    pub year: i64,
    pub number_in_year: i64,
    pub since: String,
    pub until: String,
    pub created_at: String,
    /// The compiled issue as JSON (its number fields are those of this row).
    pub content: String,
}

fn row(r: &sqlx::any::AnyRow) -> Result<BulletinRow> {
    Ok(BulletinRow {
        number: r.try_get("number")?,
        year: r.try_get("year")?,
        number_in_year: r.try_get("number_in_year")?,
        since: r.try_get("since")?,
        until: r.try_get("until")?,
        created_at: r.try_get("created_at")?,
        content: r.try_get("content")?,
    })
}

impl Store {
    /// Stores a compiled issue under the next number (and the next number of its year).
    pub async fn create_bulletin(&self, year: i32, since: &str, until: &str, content: &str) -> Result<BulletinRow> {
        let _w = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        if self.backend == Backend::Postgres {
            // Several processes may compile at once: the numbering reads MAX(number), so
            // take the table for writing (readers are not blocked) until the commit.
            sqlx::query("LOCK TABLE bulletins IN SHARE ROW EXCLUSIVE MODE").execute(&mut *tx).await?;
        }
        let r = sqlx::query(
            "INSERT INTO bulletins (number, year, number_in_year, since, until, created_at, content)
             SELECT (SELECT COALESCE(MAX(number), 0) + 1 FROM bulletins), $1,
                    (SELECT COALESCE(MAX(number_in_year), 0) + 1 FROM bulletins WHERE year = $1), $2, $3, $4, $5
             RETURNING number, year, number_in_year, since, until, created_at, content",
        )
        .bind(i64::from(year))
        .bind(since)
        .bind(until)
        .bind(ts(Utc::now()))
        .bind(content)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        row(&r)
    }

    pub async fn bulletin(&self, number: i64) -> Result<Option<BulletinRow>> {
        let r =
            sqlx::query("SELECT * FROM bulletins WHERE number = $1").bind(number).fetch_optional(&self.pool).await?;
        r.as_ref().map(row).transpose()
    }

    pub async fn last_bulletin(&self) -> Result<Option<BulletinRow>> {
        let r = sqlx::query("SELECT * FROM bulletins ORDER BY number DESC LIMIT 1").fetch_optional(&self.pool).await?;
        r.as_ref().map(row).transpose()
    }

    /// The newest case of an item: its state and, when answered, the response text.
    pub async fn case_of_item(&self, item_id: i64) -> Result<Option<(yuqing_cases::CaseState, Option<String>)>> {
        let id: Option<i64> = sqlx::query_scalar("SELECT id FROM cases WHERE item_id = $1 ORDER BY id DESC LIMIT 1")
            .bind(item_id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(id) = id else { return Ok(None) };
        let Some(c) = self.case(id, Utc::now()).await? else { return Ok(None) };
        let answer = c
            .steps
            .iter()
            .rev()
            .find(|s| s.step.action == yuqing_cases::ActionKind::Respond)
            .and_then(|s| s.step.fields.get("text").and_then(|t| t.as_str()).map(str::to_string));
        Ok(Some((c.case.view.state, answer)))
    }
}
