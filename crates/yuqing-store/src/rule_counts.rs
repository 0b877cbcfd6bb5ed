//! How many items each watch rule and each key-content category got recently, for the
//! rules page: read from the items' stored judgement (`matched_rules`, `categories`),
//! so the counts are what the judge decided at the time, under the rules then in force.

use crate::{ts, Result, Store};
use chrono::{DateTime, Utc};
use sqlx::Row;
use std::collections::HashMap;
use yuqing_core::Category;

/// Items read at most: beyond this the counts cover the newest items only (and say so).
pub const MAX_COUNTED_ITEMS: i64 = 200_000;

/// Items per rule name and per category since a time.
#[derive(Debug, Clone, Default)]
pub struct RuleCounts {
    pub rules: HashMap<String, i64>,
    pub categories: HashMap<Category, i64>,
    /// Items counted.
    pub items: i64,
    /// More items than [`MAX_COUNTED_ITEMS`] were in the period: only the newest counted.
    pub truncated: bool,
}

impl Store {
    /// Counts, over the items whose time (published, else collected) is at or after
    /// `since`, how many each rule matched and each category was given. One indexed scan
    /// of two short columns, bounded by [`MAX_COUNTED_ITEMS`].
    pub async fn rule_counts(&self, since: DateTime<Utc>) -> Result<RuleCounts> {
        let rows = sqlx::query(
            "SELECT matched_rules, categories FROM items WHERE sort_at >= $1 ORDER BY sort_at DESC LIMIT $2",
        )
        .bind(ts(since))
        .bind(MAX_COUNTED_ITEMS + 1)
        .fetch_all(self.pool())
        .await?;
        let mut out = RuleCounts { truncated: rows.len() as i64 > MAX_COUNTED_ITEMS, ..RuleCounts::default() };
        for r in rows.iter().take(MAX_COUNTED_ITEMS as usize) {
            out.items += 1;
            let rules: String = r.try_get("matched_rules")?;
            let cats: String = r.try_get("categories")?;
            // A stored list that does not parse counts for nothing rather than failing the page.
            for name in serde_json::from_str::<Vec<String>>(&rules).unwrap_or_default() {
                *out.rules.entry(name).or_default() += 1;
            }
            for c in serde_json::from_str::<Vec<String>>(&cats).unwrap_or_default() {
                if let Some(c) = Category::from_id(&c) {
                    *out.categories.entry(c).or_default() += 1;
                }
            }
        }
        Ok(out)
    }
}
