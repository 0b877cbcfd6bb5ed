//! The bulletin as the store hands it over.

use chrono::{DateTime, FixedOffset, NaiveDate};
use yuqing_core::{Category, Level, Tier, Tone};

/// One issue of the bulletin, ready to render.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Bulletin {
    /// The series title, e.g. "财政网上舆情信息" (`[bulletin] title`).
    pub title: String,
    /// The year of issue, used with `series_number_in_year`.
    pub year: i32,
    /// The running number: "第N期".
    pub number: u32,
    /// When numbering resets per year: the number within `year` ("2026年第3期").
    pub series_number_in_year: Option<u32>,
    /// "编：…" (`[bulletin] compiled_by`).
    pub compiled_by: String,
    /// The date of issue.
    pub date: NaiveDate,
    /// "本期发至：…" (`[bulletin] recipients`).
    pub recipients: Vec<String>,
    /// The period covered, both ends included.
    pub period: (NaiveDate, NaiveDate),
    pub overview: Overview,
    pub entries: Vec<Entry>,
    /// The office's comment (网宣办意见), if any.
    pub comment: Option<String>,
}

/// Counts for the period, shown at the top.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Overview {
    pub total: usize,
    pub by_tone: [(Tone, usize); 3],
    pub by_level: Vec<(Level, usize)>,
    pub by_category: Vec<(Category, usize)>,
    /// Per day: positive, neutral, negative.
    pub daily: Vec<(NaiveDate, [usize; 3])>,
    /// Event title, items, sources.
    pub top_events: Vec<(String, usize, usize)>,
}

/// One item or event of the period.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Entry {
    pub headline: String,
    pub source: String,
    pub tier: Tier,
    pub published: Option<DateTime<FixedOffset>>,
    pub url: String,
    pub summary: String,
    pub tone: Tone,
    pub level: Level,
    /// The event's spread: items, sources.
    pub spread: Option<(usize, usize)>,
    /// The case: its state in Chinese and the answer text, if any.
    pub case: Option<(String, Option<String>)>,
}
