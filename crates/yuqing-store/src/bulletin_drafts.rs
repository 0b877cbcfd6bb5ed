//! Bulletin drafts and issuing (签发).
//!
//! The office compiles a draft, edits it (entries, order, summaries, its comment) and
//! issues it. A draft has no number: the number is given when it is issued, inside the
//! one transaction that stores the frozen issue and marks the draft issued. So:
//! - numbers never collide: on PostgreSQL the transaction takes the same table lock
//!   as [`Store::create_bulletin`] before reading `MAX(number)`; on SQLite `BEGIN
//!   IMMEDIATE` makes it the only writer; the UNIQUE constraints are the backstop;
//! - a draft is issued at most once (a double click, two tabs): the draft row is
//!   updated only while `issued_number IS NULL` and at the revision the issuer saw;
//! - an issued bulletin is never edited: there is no update of `bulletins` here, and
//!   drafts refuse edits once issued. A correction is a new draft, then a new issue,
//!   that names the issue it corrects.
//!
//! `content` is opaque here (the web layer's JSON). `revision` counts saves: an edit
//! based on an older revision is refused ([`DraftError::Stale`]) rather than silently
//! overwriting a colleague's work.

use crate::{ts, Backend, Result, Store, StoreError};
use chrono::Utc;
use sqlx::Row;

/// A draft as stored.
#[derive(Debug, Clone)]
pub struct DraftRow {
    pub id: i64,
    /// First day of the period (YYYY-MM-DD, the office's zone).
    pub since: String,
    /// Last day of the period, included.
    pub until: String,
    pub content: String,
    pub revision: i64,
    pub created_by: String,
    pub created_at: String,
    pub updated_by: String,
    pub updated_at: String,
    /// The issue this draft corrects.
    pub corrects: Option<i64>,
    /// Set once the draft is issued; it is frozen from then on.
    pub issued_number: Option<i64>,
}

/// An issued bulletin, with who issued it and from which draft.
#[derive(Debug, Clone)]
pub struct IssuedBulletin {
    pub number: i64,
    pub year: i64,
    pub number_in_year: i64,
    pub since: String,
    pub until: String,
    /// When it was issued (the row's `created_at`).
    pub issued_at: String,
    /// The frozen issue as JSON.
    pub content: String,
    /// `None` for issues stored before drafts existed.
    pub issued_by: Option<String>,
    pub draft_id: Option<i64>,
    pub corrects: Option<i64>,
}

/// The numbers an issue gets: the running number and the number within its year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IssueNumbers {
    pub number: i64,
    pub year: i64,
    pub number_in_year: i64,
}

/// Why a draft operation was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DraftError {
    #[error("there is no bulletin draft {0}")]
    NoDraft(i64),
    #[error("there is no bulletin number {0}")]
    NoBulletin(i64),
    #[error(
        "draft {draft} was issued as number {number} and is frozen; a correction is a new issue (“更正” on issue {number})"
    )]
    Issued { draft: i64, number: i64 },
    #[error(
        "draft {draft} was changed by someone else since it was opened (now revision {current}, this change was made on revision {expected}); reload it and make the change again"
    )]
    Stale { draft: i64, expected: i64, current: i64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for DraftError {
    fn from(e: sqlx::Error) -> Self {
        DraftError::Store(StoreError::Db(e))
    }
}

const DRAFT_COLUMNS: &str = "id, since, until, content, revision, created_by, created_at, updated_by, updated_at, \
     corrects, issued_number";
const ISSUE_COLUMNS: &str =
    "number, year, number_in_year, since, until, created_at, content, issued_by, draft_id, corrects";

fn draft_row(r: &sqlx::any::AnyRow) -> Result<DraftRow> {
    Ok(DraftRow {
        id: r.try_get("id")?,
        since: r.try_get("since")?,
        until: r.try_get("until")?,
        content: r.try_get("content")?,
        revision: r.try_get("revision")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        updated_by: r.try_get("updated_by")?,
        updated_at: r.try_get("updated_at")?,
        corrects: r.try_get("corrects")?,
        issued_number: r.try_get("issued_number")?,
    })
}

fn issue_row(r: &sqlx::any::AnyRow) -> Result<IssuedBulletin> {
    Ok(IssuedBulletin {
        number: r.try_get("number")?,
        year: r.try_get("year")?,
        number_in_year: r.try_get("number_in_year")?,
        since: r.try_get("since")?,
        until: r.try_get("until")?,
        issued_at: r.try_get("created_at")?,
        content: r.try_get("content")?,
        issued_by: r.try_get("issued_by")?,
        draft_id: r.try_get("draft_id")?,
        corrects: r.try_get("corrects")?,
    })
}

/// What an issue is made from: a draft (at the revision the issuer saw) or nothing
/// (`yuqing bulletin create` compiles and issues at once).
struct IssueFrom<'a> {
    draft: Option<(i64, i64)>,
    since: &'a str,
    until: &'a str,
    corrects: Option<i64>,
}

impl Store {
    /// Stores a new draft (revision 1).
    pub async fn create_draft(
        &self,
        since: &str,
        until: &str,
        content: &str,
        by: &str,
        corrects: Option<i64>,
    ) -> Result<DraftRow, DraftError> {
        if let Some(n) = corrects {
            if self.issued_bulletin(n).await?.is_none() {
                return Err(DraftError::NoBulletin(n));
            }
        }
        let _w = self.write_guard().await;
        let now = ts(Utc::now());
        let r = sqlx::query(&format!(
            "INSERT INTO bulletin_drafts (since, until, content, revision, created_by, created_at, updated_by, updated_at, corrects)
             VALUES ($1, $2, $3, 1, $4, $5, $4, $5, $6) RETURNING {DRAFT_COLUMNS}"
        ))
        .bind(since)
        .bind(until)
        .bind(content)
        .bind(by)
        .bind(&now)
        .bind(corrects)
        .fetch_one(&self.pool)
        .await?;
        Ok(draft_row(&r)?)
    }

    pub async fn draft(&self, id: i64) -> Result<Option<DraftRow>> {
        let r = sqlx::query(&format!("SELECT {DRAFT_COLUMNS} FROM bulletin_drafts WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        r.as_ref().map(draft_row).transpose()
    }

    /// Drafts not yet issued, the most recently edited first.
    pub async fn open_drafts(&self, limit: usize) -> Result<Vec<DraftRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {DRAFT_COLUMNS} FROM bulletin_drafts WHERE issued_number IS NULL ORDER BY updated_at DESC, id DESC LIMIT $1"
        ))
        .bind(limit.clamp(1, 1000) as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(draft_row).collect()
    }

    /// Why a change based on `expected` cannot be made to draft `id`, read inside `tx`.
    async fn check_draft(
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        id: i64,
        expected: i64,
    ) -> Result<DraftRow, DraftError> {
        let r = sqlx::query(&format!("SELECT {DRAFT_COLUMNS} FROM bulletin_drafts WHERE id = $1"))
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
        let d = r.as_ref().map(draft_row).transpose()?.ok_or(DraftError::NoDraft(id))?;
        if let Some(number) = d.issued_number {
            return Err(DraftError::Issued { draft: id, number });
        }
        if d.revision != expected {
            return Err(DraftError::Stale { draft: id, expected, current: d.revision });
        }
        Ok(d)
    }

    /// Saves a draft's content, if it is still at `expected_revision` and not issued.
    pub async fn update_draft(
        &self,
        id: i64,
        expected_revision: i64,
        content: &str,
        by: &str,
    ) -> Result<DraftRow, DraftError> {
        let _w = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        Self::check_draft(&mut tx, id, expected_revision).await?;
        // The conditions again in the UPDATE: on PostgreSQL another transaction may have
        // changed the row since the check (read committed); it then matches nothing.
        let r = sqlx::query(&format!(
            "UPDATE bulletin_drafts SET content = $1, revision = revision + 1, updated_by = $2, updated_at = $3
             WHERE id = $4 AND revision = $5 AND issued_number IS NULL RETURNING {DRAFT_COLUMNS}"
        ))
        .bind(content)
        .bind(by)
        .bind(ts(Utc::now()))
        .bind(id)
        .bind(expected_revision)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(r) = r else {
            drop(tx);
            return Err(self.why_not(id, expected_revision).await);
        };
        let row = draft_row(&r)?;
        tx.commit().await?;
        Ok(row)
    }

    /// Deletes a draft that was never issued (issued ones are kept with their issue).
    pub async fn delete_draft(&self, id: i64, expected_revision: i64) -> Result<(), DraftError> {
        let _w = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        Self::check_draft(&mut tx, id, expected_revision).await?;
        let n = sqlx::query("DELETE FROM bulletin_drafts WHERE id = $1 AND revision = $2 AND issued_number IS NULL")
            .bind(id)
            .bind(expected_revision)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n != 1 {
            drop(tx);
            return Err(self.why_not(id, expected_revision).await);
        }
        tx.commit().await?;
        Ok(())
    }

    /// Why a conditional change matched no row (after the transaction ended).
    async fn why_not(&self, id: i64, expected: i64) -> DraftError {
        match self.draft(id).await {
            Ok(None) => DraftError::NoDraft(id),
            Ok(Some(d)) => match d.issued_number {
                Some(number) => DraftError::Issued { draft: id, number },
                None => DraftError::Stale { draft: id, expected, current: d.revision },
            },
            Err(e) => DraftError::Store(e),
        }
    }

    /// Issues draft `id` (if still at `expected_revision`): gives it the next number
    /// (and the next number of `year`), stores `content(numbers)` as the frozen issue
    /// and marks the draft issued, all in one transaction.
    pub async fn issue_draft(
        &self,
        id: i64,
        expected_revision: i64,
        year: i32,
        by: &str,
        content: impl FnOnce(IssueNumbers) -> std::result::Result<String, String>,
    ) -> Result<IssuedBulletin, DraftError> {
        let d = self.draft(id).await?.ok_or(DraftError::NoDraft(id))?;
        let from =
            IssueFrom { draft: Some((id, expected_revision)), since: &d.since, until: &d.until, corrects: d.corrects };
        self.issue(from, year, by, content).await
    }

    /// Issues a bulletin without a draft (`yuqing bulletin create`): the next number,
    /// `content(numbers)` frozen, in one transaction.
    pub async fn issue_bulletin(
        &self,
        year: i32,
        since: &str,
        until: &str,
        by: &str,
        content: impl FnOnce(IssueNumbers) -> std::result::Result<String, String>,
    ) -> Result<IssuedBulletin, DraftError> {
        self.issue(IssueFrom { draft: None, since, until, corrects: None }, year, by, content).await
    }

    async fn issue(
        &self,
        from: IssueFrom<'_>,
        year: i32,
        by: &str,
        content: impl FnOnce(IssueNumbers) -> std::result::Result<String, String>,
    ) -> Result<IssuedBulletin, DraftError> {
        let _w = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        if self.backend == Backend::Postgres {
            // The lock `create_bulletin` takes: numbering reads MAX(number), so every
            // process that numbers holds it until its commit (readers are not blocked).
            sqlx::query("LOCK TABLE bulletins IN SHARE ROW EXCLUSIVE MODE").execute(&mut *tx).await?;
        }
        if let Some((id, expected)) = from.draft {
            Self::check_draft(&mut tx, id, expected).await?;
        }
        let r = sqlx::query(
            "SELECT (SELECT COALESCE(MAX(number), 0) + 1 FROM bulletins) AS number,
                    (SELECT COALESCE(MAX(number_in_year), 0) + 1 FROM bulletins WHERE year = $1) AS number_in_year",
        )
        .bind(i64::from(year))
        .fetch_one(&mut *tx)
        .await?;
        let numbers = IssueNumbers {
            number: r.try_get("number")?,
            year: i64::from(year),
            number_in_year: r.try_get("number_in_year")?,
        };
        let json = content(numbers).map_err(|e| StoreError::Invalid(format!("the issue cannot be frozen: {e}")))?;
        let r = sqlx::query(&format!(
            "INSERT INTO bulletins (number, year, number_in_year, since, until, created_at, content, issued_by, draft_id, corrects)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {ISSUE_COLUMNS}"
        ))
        .bind(numbers.number)
        .bind(numbers.year)
        .bind(numbers.number_in_year)
        .bind(from.since)
        .bind(from.until)
        .bind(ts(Utc::now()))
        .bind(&json)
        .bind(by)
        .bind(from.draft.map(|d| d.0))
        .bind(from.corrects)
        .fetch_one(&mut *tx)
        .await?;
        let issued = issue_row(&r)?;
        if let Some((id, expected)) = from.draft {
            let n = sqlx::query(
                "UPDATE bulletin_drafts SET issued_number = $1, revision = revision + 1, updated_by = $2, updated_at = $3
                 WHERE id = $4 AND revision = $5 AND issued_number IS NULL",
            )
            .bind(numbers.number)
            .bind(by)
            .bind(ts(Utc::now()))
            .bind(id)
            .bind(expected)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n != 1 {
                // Changed since the check: nothing of this issue is kept.
                drop(tx);
                return Err(self.why_not(id, expected).await);
            }
        }
        tx.commit().await?;
        Ok(issued)
    }

    /// The numbers the next issue would get if issued now (for previews only: another
    /// issue may take them first).
    pub async fn next_bulletin_numbers(&self, year: i32) -> Result<IssueNumbers> {
        let r = sqlx::query(
            "SELECT (SELECT COALESCE(MAX(number), 0) + 1 FROM bulletins) AS number,
                    (SELECT COALESCE(MAX(number_in_year), 0) + 1 FROM bulletins WHERE year = $1) AS number_in_year",
        )
        .bind(i64::from(year))
        .fetch_one(&self.pool)
        .await?;
        Ok(IssueNumbers {
            number: r.try_get("number")?,
            year: i64::from(year),
            number_in_year: r.try_get("number_in_year")?,
        })
    }

    pub async fn issued_bulletin(&self, number: i64) -> Result<Option<IssuedBulletin>> {
        let r = sqlx::query(&format!("SELECT {ISSUE_COLUMNS} FROM bulletins WHERE number = $1"))
            .bind(number)
            .fetch_optional(&self.pool)
            .await?;
        r.as_ref().map(issue_row).transpose()
    }

    /// Issued bulletins, newest first, and how many there are.
    pub async fn issued_bulletins(&self, limit: usize, offset: usize) -> Result<(Vec<IssuedBulletin>, i64)> {
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM bulletins").fetch_one(&self.pool).await?;
        let rows =
            sqlx::query(&format!("SELECT {ISSUE_COLUMNS} FROM bulletins ORDER BY number DESC LIMIT $1 OFFSET $2"))
                .bind(limit.clamp(1, 500) as i64)
                .bind(offset as i64)
                .fetch_all(&self.pool)
                .await?;
        Ok((rows.iter().map(issue_row).collect::<Result<Vec<_>>>()?, total))
    }

    /// The issues that correct issue `number`, oldest first.
    pub async fn corrections_of(&self, number: i64) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar("SELECT number FROM bulletins WHERE corrects = $1 ORDER BY number")
            .bind(number)
            .fetch_all(&self.pool)
            .await?)
    }
}
