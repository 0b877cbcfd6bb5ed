//! Cases in the store: the append-only steps and the derived case row, written together
//! in one transaction. The flow itself (who may do what, deadlines) is `yuqing-cases`;
//! this module only persists what it decides, so a crash can never leave a step
//! without its case's state, or the reverse.

use crate::db::Sql;
use crate::{summary_from_row, ts, ItemSummary, Result, Store, StoreError, ITEM_COLUMNS};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;
use yuqing_cases::{replay, transition, Action, Actor, CaseState, CaseView, DeadlineConfig, FlowError, Step};
use yuqing_core::Level;

/// Why a case operation failed: the flow said no, or the store did.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error(transparent)]
    Flow(#[from] FlowError),
    #[error("there is no item {0}")]
    NoItem(i64),
    #[error("there is no case {0}")]
    NoCase(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for CaseError {
    fn from(e: sqlx::Error) -> Self {
        CaseError::Store(StoreError::Db(e))
    }
}

/// A case as lists show it.
#[derive(Debug, Clone, Serialize)]
pub struct CaseSummary {
    pub id: i64,
    pub item_id: Option<i64>,
    pub title: Option<String>,
    #[serde(flatten)]
    pub view: CaseView,
}

/// A case with its steps and its item.
#[derive(Debug, Clone, Serialize)]
pub struct CaseDetail {
    #[serde(flatten)]
    pub case: CaseSummary,
    pub steps: Vec<StepRecord>,
    pub item: Option<ItemSummary>,
}

/// A stored step: the flow's step and who took it.
#[derive(Debug, Clone, Serialize)]
pub struct StepRecord {
    pub seq: i64,
    #[serde(flatten)]
    pub step: Step,
}

/// Filters of the case list.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub state: Option<CaseState>,
    pub level: Option<Level>,
    /// Only open cases.
    pub open: bool,
}

type Tx<'a> = sqlx::Transaction<'a, sqlx::Any>;

fn parse_time(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Invalid(format!("stored time `{s}` is not RFC 3339: {e}")))
}

async fn load_steps(tx: &mut Tx<'_>, case_id: i64) -> Result<Vec<StepRecord>> {
    let rows = sqlx::query(
        "SELECT seq, action, actor, at, note, fields, from_state, to_state FROM case_steps WHERE case_id = $1 ORDER BY seq",
    )
    .bind(case_id)
    .fetch_all(&mut **tx)
    .await?;
    rows.iter().map(step_from_row).collect()
}

fn step_from_row(r: &sqlx::any::AnyRow) -> Result<StepRecord> {
    let bad = |what: &str, v: &str| StoreError::Invalid(format!("stored step {what} `{v}` is unknown"));
    let action: String = r.try_get("action")?;
    let to_state: String = r.try_get("to_state")?;
    let from_state: Option<String> = r.try_get("from_state")?;
    let fields: String = r.try_get("fields")?;
    let at: String = r.try_get("at")?;
    Ok(StepRecord {
        seq: r.try_get("seq")?,
        step: Step {
            action: action.parse().map_err(|_| bad("action", &action))?,
            actor: r.try_get("actor")?,
            at: parse_time(&at)?,
            note: r.try_get("note")?,
            fields: serde_json::from_str(&fields).unwrap_or(serde_json::Value::Null),
            from_state: match from_state {
                Some(s) => Some(s.parse().map_err(|_| bad("state", &s))?),
                None => None,
            },
            to_state: to_state.parse().map_err(|_| bad("state", &to_state))?,
        },
    })
}

impl Store {
    /// The deadlines cases are judged by (configurable; INTERFACES.md defaults).
    pub fn set_case_deadlines(&self, deadlines: DeadlineConfig) {
        if let Ok(mut d) = self.deadlines.write() {
            *d = deadlines;
        }
    }

    fn case_deadlines(&self) -> DeadlineConfig {
        self.deadlines.read().map(|d| *d).unwrap_or_default()
    }

    /// Appends a step and rewrites the case's derived columns from all its steps.
    async fn append_step(
        &self,
        tx: &mut Tx<'_>,
        case_id: i64,
        actor: &Actor,
        step: &Step,
        now: DateTime<Utc>,
    ) -> Result<(), CaseError> {
        let seq: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) + 1 FROM case_steps WHERE case_id = $1")
            .bind(case_id)
            .fetch_one(&mut **tx)
            .await?;
        sqlx::query(
            "INSERT INTO case_steps (case_id, seq, action, actor, actor_user_id, at, note, fields, from_state, to_state)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(case_id)
        .bind(seq)
        .bind(step.action.id())
        .bind(&step.actor)
        .bind(actor.user_id)
        .bind(ts(step.at))
        .bind(&step.note)
        .bind(step.fields.to_string())
        .bind(step.from_state.map(|s| s.id()))
        .bind(step.to_state.id())
        .execute(&mut **tx)
        .await?;
        let (level_at_open, opened_at): (String, String) =
            sqlx::query_as("SELECT level_at_open, opened_at FROM cases WHERE id = $1")
                .bind(case_id)
                .fetch_one(&mut **tx)
                .await?;
        let level_at_open = Level::from_id(&level_at_open)
            .ok_or_else(|| StoreError::Invalid(format!("stored level `{level_at_open}`")))?;
        let steps: Vec<Step> = load_steps(tx, case_id).await?.into_iter().map(|s| s.step).collect();
        let view = replay(level_at_open, parse_time(&opened_at)?, &steps, &self.case_deadlines(), now)?;
        sqlx::query(
            "UPDATE cases SET state = $1, level = $2, path = $3, assess_due = $4, answer_due = $5, assessed_at = $6,
               answered_at = $7, closed_at = $8, updated_at = $9 WHERE id = $10",
        )
        .bind(view.state.id())
        .bind(view.level.id())
        .bind(view.path.map(|p| p.id()))
        .bind(ts(view.assess_due))
        .bind(ts(view.answer_due))
        .bind(view.assessed_at.map(ts))
        .bind(view.answered_at.map(ts))
        .bind(view.closed_at.map(ts))
        .bind(ts(now))
        .bind(case_id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Reports an item to the office: opens a case, or adds a `report` step to the item's
    /// open case. Returns the case.
    pub async fn report_item(
        &self,
        item_id: i64,
        actor: &Actor,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<CaseDetail, CaseError> {
        let _w = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        let case_id = self.report_in_tx(&mut tx, item_id, actor, note, now).await?;
        tx.commit().await?;
        drop(_w);
        self.case(case_id, now).await?.ok_or(CaseError::NoCase(case_id))
    }

    pub(crate) async fn report_in_tx(
        &self,
        tx: &mut Tx<'_>,
        item_id: i64,
        actor: &Actor,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<i64, CaseError> {
        let level: Option<String> =
            sqlx::query_scalar("SELECT level FROM items WHERE id = $1").bind(item_id).fetch_optional(&mut **tx).await?;
        let level = level.ok_or(CaseError::NoItem(item_id))?;
        let item_level = Level::from_id(&level).unwrap_or(Level::Ordinary);
        let action = Action::Report { note: note.to_string() };
        let open: Option<(i64, String, String)> =
            sqlx::query_as("SELECT id, state, level FROM cases WHERE item_id = $1 AND state != 'closed'")
                .bind(item_id)
                .fetch_optional(&mut **tx)
                .await?;
        if let Some((case_id, state, _)) = open {
            let state: CaseState = state.parse().map_err(|_| StoreError::Invalid(format!("stored state `{state}`")))?;
            let (_, _, step) = transition(Some(state), item_level, actor, &action, now)?;
            self.append_step(tx, case_id, actor, &step, now).await?;
            return Ok(case_id);
        }
        let (state, _, step) = transition(None, item_level, actor, &action, now)?;
        let d = self.case_deadlines().for_level(item_level);
        let case_id: i64 = sqlx::query_scalar(
            "INSERT INTO cases (item_id, level_at_open, opened_at, state, level, assess_due, answer_due, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(item_id)
        .bind(item_level.id())
        .bind(ts(now))
        .bind(state.id())
        .bind(item_level.id())
        .bind(ts(d.assess_due(now)))
        .bind(ts(d.answer_due(now)))
        .bind(ts(now))
        .fetch_one(&mut **tx)
        .await?;
        self.append_step(tx, case_id, actor, &step, now).await?;
        Ok(case_id)
    }

    /// Takes an action on a case, as the flow allows.
    pub async fn case_action(
        &self,
        case_id: i64,
        actor: &Actor,
        action: &Action,
        now: DateTime<Utc>,
    ) -> Result<CaseDetail, CaseError> {
        let _w = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        let row: Option<(String, String)> = sqlx::query_as("SELECT state, level FROM cases WHERE id = $1")
            .bind(case_id)
            .fetch_optional(&mut *tx)
            .await?;
        let (state, level) = row.ok_or(CaseError::NoCase(case_id))?;
        let state: CaseState = state.parse().map_err(|_| StoreError::Invalid(format!("stored state `{state}`")))?;
        let level = Level::from_id(&level).unwrap_or(Level::Ordinary);
        let (_, _, step) = transition(Some(state), level, actor, action, now)?;
        self.append_step(&mut tx, case_id, actor, &step, now).await?;
        tx.commit().await?;
        drop(_w);
        self.case(case_id, now).await?.ok_or(CaseError::NoCase(case_id))
    }

    /// One case with its steps and item; overdue as of `now`.
    pub async fn case(&self, case_id: i64, now: DateTime<Utc>) -> Result<Option<CaseDetail>> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query("SELECT id, item_id, level_at_open, opened_at FROM cases WHERE id = $1")
            .bind(case_id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let steps = load_steps(&mut tx, case_id).await?;
        let item_id: Option<i64> = row.try_get("item_id")?;
        let item = match item_id {
            Some(id) => sqlx::query(&format!("SELECT {ITEM_COLUMNS} FROM items WHERE id = $1"))
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .as_ref()
                .map(summary_from_row)
                .transpose()?,
            None => None,
        };
        tx.commit().await?;
        let level: String = row.try_get("level_at_open")?;
        let opened_at: String = row.try_get("opened_at")?;
        let plain: Vec<Step> = steps.iter().map(|s| s.step.clone()).collect();
        let view = replay(
            Level::from_id(&level).unwrap_or(Level::Ordinary),
            parse_time(&opened_at)?,
            &plain,
            &self.case_deadlines(),
            now,
        )
        .map_err(|e| StoreError::Invalid(format!("case {case_id}: {e}")))?;
        Ok(Some(CaseDetail {
            case: CaseSummary { id: case_id, item_id, title: item.as_ref().map(|i| i.title.clone()), view },
            steps,
            item,
        }))
    }

    /// Cases, overdue first, then the most serious, then the newest.
    pub async fn cases(&self, filter: &CaseFilter, now: DateTime<Utc>, limit: usize) -> Result<Vec<CaseSummary>> {
        let mut q = Sql::new(
            "SELECT c.id, c.item_id, c.level_at_open, c.opened_at, i.title FROM cases c LEFT JOIN items i ON i.id = c.item_id WHERE 1 = 1",
        );
        if let Some(s) = filter.state {
            q.push(" AND c.state = ").bind(s.id());
        }
        if let Some(l) = filter.level {
            q.push(" AND c.level = ").bind(l.id());
        }
        if filter.open {
            q.push(" AND c.state != 'closed'");
        }
        // Overdue open cases first here too, so that the limit never drops one of them.
        let now_s = ts(now);
        q.push(" ORDER BY (c.state != 'closed' AND ((c.assessed_at IS NULL AND c.assess_due < ")
            .bind(now_s.clone())
            .push(") OR (c.answered_at IS NULL AND c.answer_due < ")
            .bind(now_s)
            .push("))) DESC, c.opened_at DESC LIMIT ")
            .bind(limit.clamp(1, 1000) as i64);
        let (sql, args) = q.finish();
        let rows = sqlx::query_with(&sql, args).fetch_all(&self.pool).await?;
        let deadlines = self.case_deadlines();
        let mut out = Vec::with_capacity(rows.len());
        let mut tx = self.pool.begin().await?;
        for r in rows {
            let id: i64 = r.try_get("id")?;
            let steps: Vec<Step> = load_steps(&mut tx, id).await?.into_iter().map(|s| s.step).collect();
            let level: String = r.try_get("level_at_open")?;
            let opened_at: String = r.try_get("opened_at")?;
            let view = replay(
                Level::from_id(&level).unwrap_or(Level::Ordinary),
                parse_time(&opened_at)?,
                &steps,
                &deadlines,
                now,
            )
            .map_err(|e| StoreError::Invalid(format!("case {id}: {e}")))?;
            out.push(CaseSummary { id, item_id: r.try_get("item_id")?, title: r.try_get("title")?, view });
        }
        tx.commit().await?;
        out.sort_by(|a, b| {
            b.view
                .overdue
                .is_some()
                .cmp(&a.view.overdue.is_some())
                .then(b.view.level.cmp(&a.view.level))
                .then(b.view.opened_at.cmp(&a.view.opened_at))
        });
        Ok(out)
    }
}
