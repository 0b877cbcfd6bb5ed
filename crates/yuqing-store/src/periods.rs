//! What bulletins, statistics reports and exports read about a period: its items (all
//! of them, reposts included, in one query rather than page by page), the cases opened
//! in it with the times that decide their timeliness, and the handling record of one
//! item for a bulletin entry.
//!
//! Periods are half-open UTC ranges `[since, until)` over `sort_at` (the published
//! time, else the time collected), the same order the stream and the filters use. Row
//! counts are bounded by the caller's `limit`; one more row than the limit is read, so
//! the caller can tell "exactly the limit" from "more than it can take".

use crate::{summary_from_row, ts, ItemSummary, Result, Store, StoreError, ITEM_COLUMNS};
use chrono::{DateTime, Utc};
use sqlx::Row;
use std::collections::HashMap;
use yuqing_cases::{ActionKind, CaseState};
use yuqing_core::Level;

/// Characters of an item's text read as its lead (summaries and exports cut further).
pub const LEAD_CHARS: i64 = 1_200;

/// One item of a period.
#[derive(Debug, Clone)]
pub struct PeriodItem {
    pub item: ItemSummary,
    /// The time the item is placed at (UTC): published, else collected.
    pub sort_at: DateTime<Utc>,
    /// The first [`LEAD_CHARS`] characters of its text, when asked for.
    pub lead: Option<String>,
    /// The state of its newest case, if it was ever reported.
    pub case_state: Option<CaseState>,
}

/// A case opened in a period, with the steps that decide its timeliness.
#[derive(Debug, Clone)]
pub struct CaseTimes {
    pub id: i64,
    pub item_id: Option<i64>,
    /// The current level (an assessment may have changed the opening one).
    pub level: Level,
    pub state: CaseState,
    pub opened_at: DateTime<Utc>,
    pub assess_due: DateTime<Utc>,
    pub answer_due: DateTime<Utc>,
    /// The first `assess`, `respond` and `dismiss` steps.
    pub assessed_at: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
    pub dismissed_at: Option<DateTime<Utc>>,
}

/// An item's handling record as a bulletin entry shows it.
#[derive(Debug, Clone)]
pub struct CaseBrief {
    pub case_id: i64,
    pub state: CaseState,
    /// Past a deadline it still has to meet.
    pub overdue: bool,
    /// The latest official answer (`respond` step): channel, text, link, time.
    pub answer: Option<AnswerBrief>,
}

#[derive(Debug, Clone)]
pub struct AnswerBrief {
    pub channel: String,
    pub text: String,
    pub url: Option<String>,
    pub at: DateTime<Utc>,
}

fn time(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Invalid(format!("stored time `{s}` is not RFC 3339: {e}")))
}

fn opt_time(s: Option<String>) -> Result<Option<DateTime<Utc>>> {
    s.as_deref().map(time).transpose()
}

impl Store {
    /// Every item placed in `[since, until)`, oldest first, at most `limit + 1`.
    /// With `with_lead`, each carries the start of its text.
    pub async fn period_items(
        &self,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: usize,
        with_lead: bool,
    ) -> Result<Vec<PeriodItem>> {
        let lead = if with_lead { format!(", SUBSTR(content, 1, {LEAD_CHARS}) AS lead") } else { String::new() };
        let rows = sqlx::query(&format!(
            "SELECT {ITEM_COLUMNS}, sort_at{lead} FROM items WHERE sort_at >= $1 AND sort_at < $2
             ORDER BY sort_at, id LIMIT $3"
        ))
        .bind(ts(since))
        .bind(ts(until))
        .bind(limit.saturating_add(1).min(i64::MAX as usize) as i64)
        .fetch_all(&self.pool)
        .await?;
        // The newest case of each item: cases are few next to items, so one pass over
        // the table beats a subquery per row.
        let states: Vec<(i64, String)> =
            sqlx::query_as("SELECT item_id, state FROM cases WHERE item_id IS NOT NULL ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        let states: HashMap<i64, CaseState> =
            states.into_iter().filter_map(|(id, s)| CaseState::from_id(&s).map(|s| (id, s))).collect();
        rows.iter()
            .map(|r| {
                let item = summary_from_row(r)?;
                let sort_at: String = r.try_get("sort_at")?;
                Ok(PeriodItem {
                    case_state: states.get(&item.id).copied(),
                    sort_at: time(&sort_at)?,
                    lead: if with_lead { r.try_get("lead")? } else { None },
                    item,
                })
            })
            .collect()
    }

    /// The start of items' texts (up to [`LEAD_CHARS`] characters), by id.
    pub async fn item_leads(&self, ids: &[i64]) -> Result<HashMap<i64, String>> {
        let mut out = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(200) {
            let mut q = crate::db::Sql::new(format!(
                "SELECT id, SUBSTR(content, 1, {LEAD_CHARS}) AS lead FROM items WHERE id IN ("
            ));
            for (n, id) in chunk.iter().enumerate() {
                if n > 0 {
                    q.push(", ");
                }
                q.bind(*id);
            }
            q.push(")");
            let (sql, args) = q.finish();
            for r in sqlx::query_with(&sql, args).fetch_all(&self.pool).await? {
                out.insert(r.try_get("id")?, r.try_get("lead")?);
            }
        }
        Ok(out)
    }

    /// Items of an event: the first-seen item `root` and every item repeating it,
    /// at most `limit`.
    pub async fn event_items(&self, root: i64, limit: usize) -> Result<Vec<ItemSummary>> {
        let rows = sqlx::query(&format!(
            "SELECT {ITEM_COLUMNS} FROM items WHERE id = $1 OR duplicate_of = $1 ORDER BY id LIMIT $2"
        ))
        .bind(root)
        .bind(limit.clamp(1, 100_000) as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(summary_from_row).collect()
    }

    /// Cases opened in `[since, until)`, oldest first, at most `limit + 1`.
    pub async fn period_cases(
        &self,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<CaseTimes>> {
        let step = |action: ActionKind| {
            format!("(SELECT MIN(s.at) FROM case_steps s WHERE s.case_id = c.id AND s.action = '{}')", action.id())
        };
        let rows = sqlx::query(&format!(
            "SELECT c.id, c.item_id, c.level, c.state, c.opened_at, c.assess_due, c.answer_due,
                    {} AS assessed_at, {} AS answered_at, {} AS dismissed_at
             FROM cases c WHERE c.opened_at >= $1 AND c.opened_at < $2 ORDER BY c.opened_at, c.id LIMIT $3",
            step(ActionKind::Assess),
            step(ActionKind::Respond),
            step(ActionKind::Dismiss)
        ))
        .bind(ts(since))
        .bind(ts(until))
        .bind(limit.saturating_add(1).min(i64::MAX as usize) as i64)
        .fetch_all(&self.pool)
        .await?;
        let bad = |what: &str, v: &str| StoreError::Invalid(format!("stored case {what} `{v}` is unknown"));
        rows.iter()
            .map(|r| {
                let level: String = r.try_get("level")?;
                let state: String = r.try_get("state")?;
                Ok(CaseTimes {
                    id: r.try_get("id")?,
                    item_id: r.try_get("item_id")?,
                    level: Level::from_id(&level).ok_or_else(|| bad("level", &level))?,
                    state: CaseState::from_id(&state).ok_or_else(|| bad("state", &state))?,
                    opened_at: time(&r.try_get::<String, _>("opened_at")?)?,
                    assess_due: time(&r.try_get::<String, _>("assess_due")?)?,
                    answer_due: time(&r.try_get::<String, _>("answer_due")?)?,
                    assessed_at: opt_time(r.try_get("assessed_at")?)?,
                    answered_at: opt_time(r.try_get("answered_at")?)?,
                    dismissed_at: opt_time(r.try_get("dismissed_at")?)?,
                })
            })
            .collect()
    }

    /// The newest case of an item (any of its group's items may have been reported:
    /// only this item's own cases count), with its latest official answer; overdue as
    /// of `now`.
    pub async fn case_brief(&self, item_id: i64, now: DateTime<Utc>) -> Result<Option<CaseBrief>> {
        let id: Option<i64> = sqlx::query_scalar("SELECT id FROM cases WHERE item_id = $1 ORDER BY id DESC LIMIT 1")
            .bind(item_id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(id) = id else { return Ok(None) };
        let Some(c) = self.case(id, now).await? else { return Ok(None) };
        let answer = c.steps.iter().rev().find(|s| s.step.action == ActionKind::Respond).map(|s| {
            let field = |k: &str| s.step.fields.get(k).and_then(|v| v.as_str()).map(str::to_string);
            AnswerBrief {
                channel: field("channel").unwrap_or_default(),
                text: field("text").unwrap_or_default(),
                url: field("url").filter(|u| !u.trim().is_empty()),
                at: s.step.at,
            }
        });
        Ok(Some(CaseBrief { case_id: id, state: c.case.view.state, overdue: c.case.view.overdue.is_some(), answer }))
    }
}
