//! The bulletin as the store hands it over, and the counts of its overview.
//!
//! The model is plain data (serde both ways) so that the store can freeze an issued
//! bulletin as JSON and render it again years later. Fields added after the first
//! release carry `#[serde(default)]`, and the few that changed shape (spread, case,
//! top events were tuples) still read their old JSON form.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, FixedOffset, NaiveDate};
use yuqing_cases::CaseState;
use yuqing_core::{Category, Level, Tier, Tone};

/// One issue of the bulletin, ready to render.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Bulletin {
    /// The series title, e.g. "财政网上舆情信息" (`[bulletin] title`).
    pub title: String,
    /// The year of issue, used with `series_number_in_year`.
    pub year: i32,
    /// The running number in its series: "第N期".
    pub number: u32,
    /// Set when the series' numbering resets every year: the number within `year`.
    /// The number line then reads "2026年第3期" instead of "第N期".
    #[serde(default)]
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

/// Counts for the period, shown at the top ("本期概况").
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Overview {
    /// Every relevant item of the period, reposts included.
    pub total: usize,
    /// Always the three tones, in the order positive, neutral, negative.
    pub by_tone: [(Tone, usize); 3],
    /// Most serious first; levels with no item may be left out.
    pub by_level: Vec<(Level, usize)>,
    /// An item in two categories counts in both.
    pub by_category: Vec<(Category, usize)>,
    /// Per day: positive, neutral, negative.
    pub daily: Vec<(NaiveDate, [usize; 3])>,
    /// The period's largest events, largest first.
    pub top_events: Vec<TopEvent>,
}

/// An event (a story told by several items) and how far it spread.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(from = "TopEventRepr")]
pub struct TopEvent {
    pub title: String,
    /// Items in the event, reposts included.
    pub items: usize,
    /// Distinct sources that carried it.
    pub sources: usize,
}

/// One item or event of the period.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Entry {
    pub headline: String,
    pub source: String,
    pub tier: Tier,
    pub published: Option<DateTime<FixedOffset>>,
    pub url: String,
    /// The lead of the text by default, edited by the office; paragraphs split by `\n`.
    pub summary: String,
    pub tone: Tone,
    pub level: Level,
    /// Key-content categories (重点内容类别) of the item.
    #[serde(default)]
    pub categories: Vec<Category>,
    /// The event's spread, when the item is one of several telling the same story.
    pub spread: Option<Spread>,
    /// The handling record, when the item was reported.
    pub case: Option<CaseInfo>,
}

/// How far an event spread: its items (reposts included) and distinct sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(from = "SpreadRepr")]
pub struct Spread {
    pub items: usize,
    pub sources: usize,
}

/// Where an entry's case stands, and the official answer when there is one.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(from = "CaseInfoRepr")]
pub struct CaseInfo {
    pub state: CaseState,
    /// Past a deadline (shown as "（已超时）").
    #[serde(default)]
    pub overdue: bool,
    pub answer: Option<Answer>,
}

/// An official, attributed answer (the `respond` step of the case).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Answer {
    /// The official channel it was given on, e.g. "县政府网站" or "人民网领导留言板"; may be empty.
    #[serde(default)]
    pub channel: String,
    pub text: String,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub at: Option<DateTime<FixedOffset>>,
}

// The first release stored spread, case and top events as tuples; these read both.

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum SpreadRepr {
    Struct { items: usize, sources: usize },
    Tuple(usize, usize),
}

impl From<SpreadRepr> for Spread {
    fn from(r: SpreadRepr) -> Spread {
        match r {
            SpreadRepr::Struct { items, sources } | SpreadRepr::Tuple(items, sources) => Spread { items, sources },
        }
    }
}

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum TopEventRepr {
    Struct { title: String, items: usize, sources: usize },
    Tuple(String, usize, usize),
}

impl From<TopEventRepr> for TopEvent {
    fn from(r: TopEventRepr) -> TopEvent {
        match r {
            TopEventRepr::Struct { title, items, sources } | TopEventRepr::Tuple(title, items, sources) => {
                TopEvent { title, items, sources }
            }
        }
    }
}

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum CaseInfoRepr {
    Struct {
        state: CaseState,
        #[serde(default)]
        overdue: bool,
        answer: Option<Answer>,
    },
    /// The state's Chinese name and the answer text.
    Tuple(String, Option<String>),
}

impl From<CaseInfoRepr> for CaseInfo {
    fn from(r: CaseInfoRepr) -> CaseInfo {
        match r {
            CaseInfoRepr::Struct { state, overdue, answer } => CaseInfo { state, overdue, answer },
            CaseInfoRepr::Tuple(name, answer) => CaseInfo {
                // The old form kept the display name; an unknown one can only be an
                // open case, and "reported" is the least claim.
                state: CaseState::ALL
                    .iter()
                    .copied()
                    .find(|s| s.zh() == name || s.id() == name)
                    .unwrap_or(CaseState::Reported),
                overdue: false,
                answer: answer.map(|text| Answer { channel: String::new(), text, url: None, at: None }),
            },
        }
    }
}

/// What the overview needs to know about one item of the period.
#[derive(Debug, Clone)]
pub struct OverviewItem<'a> {
    /// The item's local day (in the office's time zone).
    pub day: NaiveDate,
    pub source: &'a str,
    pub tone: Tone,
    pub level: Level,
    pub categories: &'a [Category],
    /// The event the item belongs to (any stable key, e.g. the first item's id) and
    /// that event's title; `None` for an item on its own.
    pub event: Option<(i64, &'a str)>,
}

/// The index of a tone in `[positive, neutral, negative]` arrays.
pub(crate) fn tone_index(t: Tone) -> usize {
    match t {
        Tone::Positive => 0,
        Tone::Neutral => 1,
        Tone::Negative => 2,
    }
}

/// Groups events: key → (title, items, sources).
pub(crate) fn group_events<'a>(events: impl Iterator<Item = (i64, &'a str, &'a str)>, limit: usize) -> Vec<TopEvent> {
    let mut groups: HashMap<i64, (&str, usize, BTreeSet<&str>)> = HashMap::new();
    for (key, title, source) in events {
        let g = groups.entry(key).or_insert((title, 0, BTreeSet::new()));
        g.1 += 1;
        g.2.insert(source);
    }
    let mut out: Vec<(i64, TopEvent)> = groups
        .into_iter()
        // One item is not yet an event worth listing.
        .filter(|(_, g)| g.1 >= 2)
        .map(|(k, (title, items, sources))| (k, TopEvent { title: title.to_string(), items, sources: sources.len() }))
        .collect();
    // Largest first; the key breaks ties so the order never depends on hashing.
    out.sort_by(|a, b| b.1.items.cmp(&a.1.items).then(b.1.sources.cmp(&a.1.sources)).then(a.0.cmp(&b.0)));
    out.into_iter().take(limit).map(|(_, e)| e).collect()
}

impl Overview {
    /// Counts a period's items: by tone, level (most serious first), category, day
    /// (every day from `period.0` to `period.1`, empty days included, so the chart
    /// shows quiet days), and the `top_events` largest events. Items whose day is
    /// outside the period are skipped.
    pub fn compile<'a>(
        period: (NaiveDate, NaiveDate),
        items: impl IntoIterator<Item = OverviewItem<'a>>,
        top_events: usize,
    ) -> Overview {
        let mut by_tone = [0usize; 3];
        let mut by_level: BTreeMap<Level, usize> = BTreeMap::new();
        let mut by_category: BTreeMap<Category, usize> = BTreeMap::new();
        let mut daily: BTreeMap<NaiveDate, [usize; 3]> = days(period).map(|d| (d, [0; 3])).collect();
        let mut events = Vec::new();
        let mut total = 0;
        for it in items {
            let Some(day) = daily.get_mut(&it.day) else { continue };
            total += 1;
            let t = tone_index(it.tone);
            day[t] += 1;
            by_tone[t] += 1;
            *by_level.entry(it.level).or_default() += 1;
            for c in it.categories.iter().collect::<BTreeSet<_>>() {
                *by_category.entry(*c).or_default() += 1;
            }
            if let Some((key, title)) = it.event {
                events.push((key, title, it.source));
            }
        }
        let mut by_category: Vec<(Category, usize)> = by_category.into_iter().collect();
        by_category.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        Overview {
            total,
            by_tone: [(Tone::Positive, by_tone[0]), (Tone::Neutral, by_tone[1]), (Tone::Negative, by_tone[2])],
            by_level: by_level.into_iter().rev().collect(),
            by_category,
            daily: daily.into_iter().collect(),
            top_events: group_events(events.into_iter(), top_events),
        }
    }
}

/// Every day of a period, both ends included; at most 366, so a mistyped year
/// cannot make a chart of a million bars.
pub(crate) fn days(period: (NaiveDate, NaiveDate)) -> impl Iterator<Item = NaiveDate> {
    let (a, z) = period;
    a.iter_days().take_while(move |d| *d <= z).take(366)
}
