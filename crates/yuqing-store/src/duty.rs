//! The duty roster (值班表) and sensitive periods (敏感时期) in the store.
//!
//! What a valid shift or period is, who is on duty at a moment, where the roster has
//! gaps and which period is active are all decided by the pure model in `yuqing-cases`
//! ([`Shift`], [`Roster`], [`SensitivePeriod`], [`Periods`]); this module checks writes
//! with it and reads rows back into it.
//!
//! Shifts and periods are plans, not audit records: they may be deleted (people swap
//! shifts, a period is withdrawn) and an active period may be ended early. Every row
//! records who created it. An import is one transaction: all of it or nothing, and a
//! shift already stored (same person, same start and end) is not stored twice, so
//! importing the same file again changes nothing.

use crate::{ts, Result, Store, StoreError};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;
use yuqing_cases::{DutyError, Periods, Roster, SensitivePeriod, Shift};

/// A stored shift: the model's shift, its id, and who created it when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShiftRecord {
    pub id: i64,
    #[serde(flatten)]
    pub shift: Shift,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// A stored sensitive period: the model's period, its id, and who declared it when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeriodRecord {
    pub id: i64,
    #[serde(flatten)]
    pub period: SensitivePeriod,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// Who is on duty at a moment and the sensitive period then active: what every page's
/// top bar shows, read in one query ([`Store::duty_now`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DutyNow {
    /// The shifts on duty, in roster order.
    pub shifts: Vec<ShiftRecord>,
    /// The active period; when several overlap, the one that ends last ([`Periods::active`]).
    pub sensitive_period: Option<PeriodRecord>,
}

impl DutyNow {
    /// The names of the people on duty, each once, in roster order.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for s in &self.shifts {
            if !names.contains(&s.shift.user) {
                names.push(s.shift.user.clone());
            }
        }
        names
    }
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Imported {
    /// Shifts stored.
    pub added: usize,
    /// Shifts left out because the same shift (person, start, end) was already stored.
    pub unchanged: usize,
}

/// Why a roster or period write was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DutyStoreError {
    /// The shift or period is not valid; every problem, in English (`zh()` of each for
    /// the UI).
    #[error("{}", join(.0))]
    Invalid(Vec<DutyError>),
    /// Shift `index` (counting from 0) of an import is not valid; nothing was stored.
    #[error("shift {} of the import: {}", .index + 1, join(.problems))]
    InvalidImport { index: usize, problems: Vec<DutyError> },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for DutyStoreError {
    fn from(e: sqlx::Error) -> Self {
        DutyStoreError::Store(StoreError::Db(e))
    }
}

fn join(problems: &[DutyError]) -> String {
    problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

fn check_by(by: &str) -> Result<&str> {
    let by = by.trim();
    if by.is_empty() {
        return Err(StoreError::Invalid("a roster change must name who made it".into()));
    }
    Ok(by)
}

fn time(r: &sqlx::any::AnyRow, column: &str) -> Result<DateTime<Utc>> {
    let s: String = r.try_get(column)?;
    DateTime::parse_from_rfc3339(&s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Invalid(format!("stored time `{s}` in `{column}` is not RFC 3339: {e}")))
}

fn shift_from_row(r: &sqlx::any::AnyRow) -> Result<ShiftRecord> {
    Ok(ShiftRecord {
        id: r.try_get("id")?,
        shift: Shift {
            user: r.try_get("user_name")?,
            from: time(r, "from_at")?,
            to: time(r, "to_at")?,
            note: r.try_get("note")?,
        },
        created_by: r.try_get("created_by")?,
        created_at: time(r, "created_at")?,
    })
}

fn period_from_row(r: &sqlx::any::AnyRow) -> Result<PeriodRecord> {
    Ok(PeriodRecord {
        id: r.try_get("id")?,
        period: SensitivePeriod { from: time(r, "from_at")?, to: time(r, "to_at")?, reason: r.try_get("reason")? },
        created_by: r.try_get("created_by")?,
        created_at: time(r, "created_at")?,
    })
}

/// Shifts in roster order ([`Roster`]'s: start, end, person), then by id.
fn sort_shifts(shifts: &mut [ShiftRecord]) {
    shifts.sort_by(|a, b| {
        (a.shift.from, a.shift.to, &a.shift.user, a.id).cmp(&(b.shift.from, b.shift.to, &b.shift.user, b.id))
    });
}

/// The record of the period [`Periods::active`] picks among `records`.
fn pick_active(records: Vec<PeriodRecord>, now: DateTime<Utc>) -> Option<PeriodRecord> {
    let periods = Periods::new(records.iter().map(|r| r.period.clone()).collect());
    let active = periods.active(now)?.clone();
    records.into_iter().find(|r| r.period == active)
}

const SHIFT_COLUMNS: &str = "id, user_name, from_at, to_at, note, created_by, created_at";
const PERIOD_COLUMNS: &str = "id, from_at, to_at, reason, created_by, created_at";

impl Store {
    /// Stores a shift, after checking it with [`Shift::validate`]. Returns its id.
    pub async fn add_shift(&self, shift: &Shift, by: &str) -> Result<i64, DutyStoreError> {
        let problems = shift.validate();
        if !problems.is_empty() {
            return Err(DutyStoreError::Invalid(problems));
        }
        let by = check_by(by)?;
        let _w = self.write_guard().await;
        let id = insert_shift(&self.pool, shift, by).await;
        self.duty_recent.clear();
        Ok(id?)
    }

    /// Stores the shifts of an import in one transaction: every shift is checked first,
    /// and one invalid shift stores nothing. A shift already stored (same person, start
    /// and end), or given twice, is stored once.
    pub async fn import_shifts(&self, shifts: &[Shift], by: &str) -> Result<Imported, DutyStoreError> {
        for (index, shift) in shifts.iter().enumerate() {
            let problems = shift.validate();
            if !problems.is_empty() {
                return Err(DutyStoreError::InvalidImport { index, problems });
            }
        }
        let by = check_by(by)?;
        let _w = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        let mut imported = Imported::default();
        for shift in shifts {
            let known: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM shifts WHERE user_name = $1 AND from_at = $2 AND to_at = $3 LIMIT 1",
            )
            .bind(&shift.user)
            .bind(ts(shift.from))
            .bind(ts(shift.to))
            .fetch_optional(&mut *tx)
            .await?;
            if known.is_some() {
                imported.unchanged += 1;
            } else {
                insert_shift(&mut *tx, shift, by).await?;
                imported.added += 1;
            }
        }
        tx.commit().await?;
        self.duty_recent.clear();
        Ok(imported)
    }

    /// Deletes a shift; returns it, or `None` when there is no such shift.
    pub async fn delete_shift(&self, id: i64) -> Result<Option<ShiftRecord>> {
        let _w = self.write_guard().await;
        let row = sqlx::query(&format!("DELETE FROM shifts WHERE id = $1 RETURNING {SHIFT_COLUMNS}"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await;
        self.duty_recent.clear();
        let row = row?;
        row.as_ref().map(shift_from_row).transpose()
    }

    /// One shift.
    pub async fn shift(&self, id: i64) -> Result<Option<ShiftRecord>> {
        let row = sqlx::query(&format!("SELECT {SHIFT_COLUMNS} FROM shifts WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(shift_from_row).transpose()
    }

    /// The shifts that share time with `[from, to)`, in roster order.
    pub async fn shifts(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<ShiftRecord>> {
        let rows = sqlx::query(&format!("SELECT {SHIFT_COLUMNS} FROM shifts WHERE to_at > $1 AND from_at < $2"))
            .bind(ts(from))
            .bind(ts(to))
            .fetch_all(&self.pool)
            .await?;
        let mut shifts = rows.iter().map(shift_from_row).collect::<Result<Vec<_>>>()?;
        sort_shifts(&mut shifts);
        Ok(shifts)
    }

    /// The roster of the shifts that share time with `[from, to)` (for
    /// [`Roster::gaps`] over that window, [`Roster::on_duty`] in it).
    pub async fn roster(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Roster> {
        Ok(Roster::new(self.shifts(from, to).await?.into_iter().map(|r| r.shift).collect()))
    }

    /// The shifts on duty at `now` (`from <= now < to`), in roster order.
    pub async fn on_duty(&self, now: DateTime<Utc>) -> Result<Vec<ShiftRecord>> {
        let rows = sqlx::query(&format!("SELECT {SHIFT_COLUMNS} FROM shifts WHERE to_at > $1 AND from_at <= $1"))
            .bind(ts(now))
            .fetch_all(&self.pool)
            .await?;
        let mut shifts = rows.iter().map(shift_from_row).collect::<Result<Vec<_>>>()?;
        sort_shifts(&mut shifts);
        Ok(shifts)
    }

    /// Who is on duty at `now` and the active sensitive period, in one query: cheap
    /// enough for every page.
    /// [`Store::duty_now`] for the present moment, as the top bar of every page shows
    /// it: read at most [`counts::RECENT_TTL`] ago (a shift that just ended may show for
    /// that long); the duty writes of this process are seen at once.
    pub async fn duty_now_recent(&self) -> Result<DutyNow> {
        if let Some(d) = self.duty_recent.get() {
            return Ok(d);
        }
        let generation = self.duty_recent.before_read();
        let d = self.duty_now(Utc::now()).await?;
        self.duty_recent.put(generation, d.clone());
        Ok(d)
    }

    pub async fn duty_now(&self, now: DateTime<Utc>) -> Result<DutyNow> {
        let rows = sqlx::query(
            "SELECT 'shift' AS kind, id, user_name AS text, from_at, to_at, note, created_by, created_at
               FROM shifts WHERE to_at > $1 AND from_at <= $1
             UNION ALL
             SELECT 'period' AS kind, id, reason AS text, from_at, to_at, NULL AS note, created_by, created_at
               FROM sensitive_periods WHERE to_at > $1 AND from_at <= $1",
        )
        .bind(ts(now))
        .fetch_all(&self.pool)
        .await?;
        let (mut shifts, mut periods) = (Vec::new(), Vec::new());
        for r in &rows {
            let kind: String = r.try_get("kind")?;
            let (id, text): (i64, String) = (r.try_get("id")?, r.try_get("text")?);
            let (from, to) = (time(r, "from_at")?, time(r, "to_at")?);
            let (created_by, created_at) = (r.try_get("created_by")?, time(r, "created_at")?);
            if kind == "shift" {
                let shift = Shift { user: text, from, to, note: r.try_get("note")? };
                shifts.push(ShiftRecord { id, shift, created_by, created_at });
            } else {
                let period = SensitivePeriod { from, to, reason: text };
                periods.push(PeriodRecord { id, period, created_by, created_at });
            }
        }
        sort_shifts(&mut shifts);
        Ok(DutyNow { shifts, sensitive_period: pick_active(periods, now) })
    }

    /// Declares a sensitive period, after checking it with [`SensitivePeriod::validate`].
    /// Returns its id.
    pub async fn add_period(&self, period: &SensitivePeriod, by: &str) -> Result<i64, DutyStoreError> {
        let problems = period.validate();
        if !problems.is_empty() {
            return Err(DutyStoreError::Invalid(problems));
        }
        let by = check_by(by)?;
        let _w = self.write_guard().await;
        let id = sqlx::query_scalar(
            "INSERT INTO sensitive_periods (from_at, to_at, reason, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(ts(period.from))
        .bind(ts(period.to))
        .bind(&period.reason)
        .bind(by)
        .bind(ts(Utc::now()))
        .fetch_one(&self.pool)
        .await;
        self.duty_recent.clear();
        Ok(id?)
    }

    /// Deletes (withdraws) a sensitive period; returns it, or `None` when there is none.
    pub async fn delete_period(&self, id: i64) -> Result<Option<PeriodRecord>> {
        let _w = self.write_guard().await;
        let row = sqlx::query(&format!("DELETE FROM sensitive_periods WHERE id = $1 RETURNING {PERIOD_COLUMNS}"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await;
        self.duty_recent.clear();
        let row = row?;
        row.as_ref().map(period_from_row).transpose()
    }

    /// Ends an active sensitive period at `now`, keeping its record. `None` when there
    /// is no such period or it is not active at `now` (one that has not started is
    /// withdrawn with [`Store::delete_period`]).
    pub async fn end_period(&self, id: i64, now: DateTime<Utc>) -> Result<Option<PeriodRecord>> {
        let _w = self.write_guard().await;
        // `from_at < now`, not `<=`: a period ending the moment it starts would be empty.
        let row = sqlx::query(&format!(
            "UPDATE sensitive_periods SET to_at = $2 WHERE id = $1 AND from_at < $2 AND to_at > $2
             RETURNING {PERIOD_COLUMNS}"
        ))
        .bind(id)
        .bind(ts(now))
        .fetch_optional(&self.pool)
        .await;
        self.duty_recent.clear();
        let row = row?;
        row.as_ref().map(period_from_row).transpose()
    }

    /// Every sensitive period, in order (by start, then end).
    pub async fn period_records(&self) -> Result<Vec<PeriodRecord>> {
        let rows = sqlx::query(&format!("SELECT {PERIOD_COLUMNS} FROM sensitive_periods ORDER BY from_at, to_at, id"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(period_from_row).collect()
    }

    /// Every sensitive period, as the model holds them.
    pub async fn periods(&self) -> Result<Periods> {
        Ok(Periods::new(self.period_records().await?.into_iter().map(|r| r.period).collect()))
    }

    /// The sensitive period active at `now` ([`Periods::active`]).
    pub async fn active_period(&self, now: DateTime<Utc>) -> Result<Option<PeriodRecord>> {
        let rows =
            sqlx::query(&format!("SELECT {PERIOD_COLUMNS} FROM sensitive_periods WHERE to_at > $1 AND from_at <= $1"))
                .bind(ts(now))
                .fetch_all(&self.pool)
                .await?;
        let records = rows.iter().map(period_from_row).collect::<Result<Vec<_>>>()?;
        Ok(pick_active(records, now))
    }

    /// The names of the enabled users, in name order: the people a roster usually names.
    pub async fn user_names(&self) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT name FROM users WHERE disabled = 0 ORDER BY name").fetch_all(&self.pool).await?)
    }
}

async fn insert_shift<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    executor: E,
    shift: &Shift,
    by: &str,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO shifts (user_name, from_at, to_at, note, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(&shift.user)
    .bind(ts(shift.from))
    .bind(ts(shift.to))
    .bind(&shift.note)
    .bind(by)
    .bind(ts(Utc::now()))
    .fetch_one(executor)
    .await?)
}
