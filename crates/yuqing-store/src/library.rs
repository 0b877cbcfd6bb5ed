//! The learning library (学习培训): closed cases, with how they were judged and handled,
//! searchable as a reference for training, by text, key-content category, level and
//! outcome.
//!
//! Text matches the item's title and every step's note and fields (the facts
//! established, the leaders' decision, the official answer's text and channel, the
//! report back): each word of the query must occur somewhere in the case, as a plain
//! substring (`LIKE`, the same on both backends, lower-cased on both sides), so that a
//! Chinese phrase needs no segmentation and `%` or `_` in a query mean themselves.

use crate::cases::CaseDetail;
use crate::db::Sql;
use crate::{Result, Store};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;
use yuqing_cases::ActionKind;
use yuqing_core::{Category, Level};

yuqing_core::named_enum! {
    /// How a closed case ended.
    pub enum Outcome {
        /// Answered in the open and reported back (`respond`, then `report-back`).
        Answered => ("answered", "已回应并反馈"),
        /// Closed as needing no action (`dismiss`), with the reason.
        Dismissed => ("dismissed", "无需处置"),
    }
}

impl Outcome {
    /// The outcome of a closed case from its steps: dismissed when a `dismiss` step
    /// closed it, answered otherwise.
    pub fn of(case: &CaseDetail) -> Outcome {
        let closed_by_dismiss = case.steps.last().is_some_and(|s| s.step.action == ActionKind::Dismiss);
        if closed_by_dismiss {
            Outcome::Dismissed
        } else {
            Outcome::Answered
        }
    }
}

/// A library search. Every field that is set must hold.
#[derive(Debug, Clone, Default)]
pub struct LibraryQuery {
    /// Words, separated by spaces; each must occur in the case.
    pub text: Option<String>,
    pub category: Option<Category>,
    pub level: Option<Level>,
    pub outcome: Option<Outcome>,
    pub limit: usize,
    pub offset: usize,
}

/// One closed case of the library.
#[derive(Debug, Clone, Serialize)]
pub struct LibraryEntry {
    pub outcome: Outcome,
    #[serde(flatten)]
    pub case: CaseDetail,
}

/// A page of the library and how many cases match in all.
#[derive(Debug, Clone, Serialize)]
pub struct LibraryPage {
    pub cases: Vec<LibraryEntry>,
    pub total: i64,
}

/// `%word%` with the pattern characters escaped (`\` is the escape).
fn like_pattern(word: &str) -> String {
    let mut out = String::from("%");
    for c in word.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

const MAX_WORDS: usize = 8;

impl Store {
    /// Closed cases matching `query`, the most recently closed first.
    pub async fn library(&self, query: &LibraryQuery, now: DateTime<Utc>) -> Result<LibraryPage> {
        let words: Vec<&str> = query.text.as_deref().unwrap_or("").split_whitespace().take(MAX_WORDS).collect();
        // The same filter for the count and the page, each query built on its own (the
        // builder numbers its placeholders).
        let build = |head: &str, tail: Option<(usize, usize)>| {
            let mut q = Sql::new(head);
            q.push(" FROM cases c LEFT JOIN items i ON i.id = c.item_id WHERE c.state = 'closed'");
            if let Some(l) = query.level {
                q.push(" AND c.level = ").bind(l.id());
            }
            if let Some(cat) = query.category {
                q.push(" AND i.categories LIKE ").bind(format!("%\"{}\"%", cat.id()));
            }
            match query.outcome {
                Some(Outcome::Dismissed) => {
                    q.push(" AND EXISTS (SELECT 1 FROM case_steps d WHERE d.case_id = c.id AND d.action = 'dismiss')");
                }
                Some(Outcome::Answered) => {
                    q.push(
                        " AND NOT EXISTS (SELECT 1 FROM case_steps d WHERE d.case_id = c.id AND d.action = 'dismiss')",
                    );
                }
                None => {}
            }
            for w in &words {
                let p = like_pattern(w);
                q.push(" AND (LOWER(COALESCE(i.title, '')) LIKE ")
                    .bind(p.clone())
                    .push(" ESCAPE '\\' OR EXISTS (SELECT 1 FROM case_steps s WHERE s.case_id = c.id AND (LOWER(s.note) LIKE ")
                    .bind(p.clone())
                    .push(" ESCAPE '\\' OR LOWER(s.fields) LIKE ")
                    .bind(p)
                    .push(" ESCAPE '\\')))");
            }
            if let Some((limit, offset)) = tail {
                q.push(" ORDER BY c.closed_at DESC, c.id DESC LIMIT ")
                    .bind(limit.clamp(1, 200) as i64)
                    .push(" OFFSET ")
                    .bind(offset.min(100_000) as i64);
            }
            q.finish()
        };
        let (sql, args) = build("SELECT COUNT(*) AS n", None);
        let total: i64 = sqlx::query_with(&sql, args).fetch_one(&self.pool).await?.try_get("n")?;
        let limit = if query.limit == 0 { 20 } else { query.limit };
        let (sql, args) = build("SELECT c.id", Some((limit, query.offset)));
        let ids: Vec<i64> = sqlx::query_with(&sql, args)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<std::result::Result<_, _>>()?;
        let mut cases = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(case) = self.case(id, now).await? {
                cases.push(LibraryEntry { outcome: Outcome::of(&case), case });
            }
        }
        Ok(LibraryPage { cases, total })
    }
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn patterns_match_literally() {
        assert_eq!(like_pattern("补贴"), "%补贴%");
        assert_eq!(like_pattern("100%_a\\"), "%100\\%\\_a\\\\%");
        assert_eq!(like_pattern("WeChat"), "%wechat%");
    }
}
