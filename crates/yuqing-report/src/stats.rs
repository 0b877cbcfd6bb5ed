//! Statistics reports (日报 / 周报 / 月报): the counts of a period, compiled from plain
//! facts about items and cases that the store hands over.
//!
//! Pure: no clock (the caller passes `now`, which decides whether an open case is
//! already late), no time zone (the caller gives local times, in the office's zone).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate};
use yuqing_core::{named_enum, Category, Level, Tier, Tone};

use crate::model::{days, group_events, tone_index, TopEvent};

/// Sources listed by name; the rest are summed as "其他".
pub const MAX_SOURCES: usize = 15;
/// Events listed.
pub const MAX_EVENTS: usize = 10;

named_enum! {
    /// How long a report's period is.
    pub enum ReportKind {
        Daily => ("daily", "日报"),
        Weekly => ("weekly", "周报"),
        Monthly => ("monthly", "月报"),
    }
}

impl ReportKind {
    /// The usual period of this kind that contains `day`: the day itself, its
    /// Monday-to-Sunday week, or its calendar month.
    pub fn period_containing(self, day: NaiveDate) -> (NaiveDate, NaiveDate) {
        match self {
            ReportKind::Daily => (day, day),
            ReportKind::Weekly => {
                let monday = day - Duration::days(i64::from(day.weekday().num_days_from_monday()));
                (monday, monday + Duration::days(6))
            }
            ReportKind::Monthly => {
                let first = day.with_day(1).unwrap_or(day);
                let next = if first.month() == 12 {
                    NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
                } else {
                    NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
                };
                (first, next.map(|n| n - Duration::days(1)).unwrap_or(first))
            }
        }
    }
}

/// What the report is and who compiled it; everything else is counted.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ReportSpec {
    pub kind: ReportKind,
    /// E.g. "上犹县财政局网络舆情周报"; see [`ReportSpec::default_title`].
    pub title: String,
    /// "编：…" (`[bulletin] compiled_by` fits).
    pub compiled_by: String,
    /// The date the report is issued.
    pub date: NaiveDate,
    /// The period covered, both ends included.
    pub period: (NaiveDate, NaiveDate),
}

impl ReportSpec {
    /// "{org}网络舆情{日报|周报|月报}".
    pub fn default_title(org: &str, kind: ReportKind) -> String {
        format!("{}网络舆情{}", org.trim(), kind.zh())
    }
}

/// One relevant item of the period, as the report needs it.
#[derive(Debug, Clone)]
pub struct ReportItem<'a> {
    /// When it was published (or first seen, when the page gives no time), local time.
    pub at: DateTime<FixedOffset>,
    pub source: &'a str,
    pub tier: Tier,
    pub tone: Tone,
    pub level: Level,
    pub categories: &'a [Category],
    /// The event it belongs to (a stable key and the event's title), if any.
    pub event: Option<(i64, &'a str)>,
}

/// One case reported in the period, with the times that decide its timeliness.
/// The deadlines come from the configured `[cases.deadlines.<level>]`.
#[derive(Debug, Clone)]
pub struct ReportCase {
    pub level: Level,
    pub reported_at: DateTime<FixedOffset>,
    pub assess_due: DateTime<FixedOffset>,
    pub answer_due: DateTime<FixedOffset>,
    /// The `assess` step, if any.
    pub assessed_at: Option<DateTime<FixedOffset>>,
    /// The `respond` step, if any.
    pub answered_at: Option<DateTime<FixedOffset>>,
    /// The `dismiss` step, if the case was closed without an answer.
    pub dismissed_at: Option<DateTime<FixedOffset>>,
}

/// The statistics of one period, ready to render.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Report {
    pub spec: ReportSpec,
    /// Relevant items in the period, reposts included.
    pub total: usize,
    /// Positive, neutral, negative.
    pub by_tone: [usize; 3],
    /// Most serious first, every level.
    pub by_level: Vec<(Level, usize)>,
    /// Every day of the period (quiet days included): positive, neutral, negative.
    pub daily: Vec<(NaiveDate, [usize; 3])>,
    /// Every tier with at least one item, in the notice's order.
    pub by_tier: Vec<(Tier, usize)>,
    /// The [`MAX_SOURCES`] busiest sources, busiest first.
    pub by_source: Vec<SourceCount>,
    /// Items of the sources not listed in `by_source`.
    pub other_sources: usize,
    /// Categories with at least one item, most first; an item counts in each of its categories.
    pub by_category: Vec<(Category, usize)>,
    /// Items without a category.
    pub uncategorised: usize,
    pub top_events: Vec<TopEvent>,
    pub timeliness: Timeliness,
}

/// Items of one source.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SourceCount {
    pub source: String,
    pub tier: Tier,
    pub items: usize,
    pub negative: usize,
}

/// How cases met their deadlines (处置时效).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Timeliness {
    /// Cases reported in the period.
    pub cases: usize,
    /// Assessed (研判) within the assessment deadline.
    pub assess: DeadlineCount,
    /// Answered (回应) within the answer deadline; cases dismissed without an answer
    /// are left out of this count.
    pub answer: DeadlineCount,
    /// The same per level, most serious first, levels with cases only.
    pub by_level: Vec<LevelTimeliness>,
}

/// Timeliness of the cases of one level.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LevelTimeliness {
    pub level: Level,
    pub cases: usize,
    pub assess: DeadlineCount,
    pub answer: DeadlineCount,
}

/// Steps done in time, done late (or not done and past due), and not done but not
/// yet due.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeadlineCount {
    pub in_time: usize,
    pub late: usize,
    pub pending: usize,
}

impl DeadlineCount {
    /// The share done in time among those decided (in time or late); `None` when
    /// none is decided yet, so "0 of 0" is never shown as 0 %.
    pub fn share(&self) -> Option<f64> {
        let decided = self.in_time + self.late;
        (decided > 0).then(|| self.in_time as f64 / decided as f64)
    }

    fn add(&mut self, o: Outcome) {
        match o {
            Outcome::InTime => self.in_time += 1,
            Outcome::Late => self.late += 1,
            Outcome::Pending => self.pending += 1,
            Outcome::NotApplicable => {}
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    InTime,
    Late,
    Pending,
    NotApplicable,
}

fn outcome(done: Option<DateTime<FixedOffset>>, due: DateTime<FixedOffset>, now: DateTime<FixedOffset>) -> Outcome {
    match done {
        Some(t) if t <= due => Outcome::InTime,
        Some(_) => Outcome::Late,
        None if now > due => Outcome::Late,
        None => Outcome::Pending,
    }
}

impl ReportCase {
    /// Dismissing a reported case is its triage, so it counts as the assessment.
    fn assess_outcome(&self, now: DateTime<FixedOffset>) -> Outcome {
        let done = match (self.assessed_at, self.dismissed_at) {
            (Some(a), Some(d)) => Some(a.min(d)),
            (a, d) => a.or(d),
        };
        outcome(done, self.assess_due, now)
    }

    /// A case dismissed without an answer needed none.
    fn answer_outcome(&self, now: DateTime<FixedOffset>) -> Outcome {
        if self.answered_at.is_none() && self.dismissed_at.is_some() {
            return Outcome::NotApplicable;
        }
        outcome(self.answered_at, self.answer_due, now)
    }
}

impl Report {
    /// Counts the items whose local day falls in the period and the cases reported in
    /// it. `now` decides whether an open case is already late. Order of the inputs
    /// does not matter: the output is sorted with stable tie-breaks.
    pub fn compile<'a>(
        spec: ReportSpec,
        items: impl IntoIterator<Item = ReportItem<'a>>,
        cases: &[ReportCase],
        now: DateTime<FixedOffset>,
    ) -> Report {
        let (start, end) = spec.period;
        let in_period = |t: &DateTime<FixedOffset>| {
            let d = t.date_naive();
            d >= start && d <= end
        };
        let mut daily: BTreeMap<NaiveDate, [usize; 3]> = days(spec.period).map(|d| (d, [0; 3])).collect();
        let mut by_tone = [0usize; 3];
        let mut by_level: BTreeMap<Level, usize> = Level::ALL.iter().map(|l| (*l, 0)).collect();
        let mut by_tier: BTreeMap<Tier, usize> = BTreeMap::new();
        let mut by_source: HashMap<&str, SourceCount> = HashMap::new();
        let mut by_category: BTreeMap<Category, usize> = BTreeMap::new();
        let mut uncategorised = 0;
        let mut events = Vec::new();
        let mut total = 0;
        for it in items {
            if !in_period(&it.at) {
                continue;
            }
            // `days` stops at 366 days; an item past that still counts, without a bar.
            total += 1;
            let t = tone_index(it.tone);
            if let Some(day) = daily.get_mut(&it.at.date_naive()) {
                day[t] += 1;
            }
            by_tone[t] += 1;
            *by_level.entry(it.level).or_default() += 1;
            *by_tier.entry(it.tier).or_default() += 1;
            let sc = by_source.entry(it.source).or_insert_with(|| SourceCount {
                source: it.source.to_string(),
                tier: it.tier,
                items: 0,
                negative: 0,
            });
            sc.items += 1;
            if it.tone == Tone::Negative {
                sc.negative += 1;
            }
            let cats: BTreeSet<&Category> = it.categories.iter().collect();
            if cats.is_empty() {
                uncategorised += 1;
            }
            for c in cats {
                *by_category.entry(*c).or_default() += 1;
            }
            if let Some((key, title)) = it.event {
                events.push((key, title, it.source));
            }
        }
        let mut sources: Vec<SourceCount> = by_source.into_values().collect();
        sources.sort_by(|a, b| b.items.cmp(&a.items).then_with(|| a.source.cmp(&b.source)));
        let other_sources = sources.iter().skip(MAX_SOURCES).map(|s| s.items).sum();
        sources.truncate(MAX_SOURCES);
        let mut by_category: Vec<(Category, usize)> = by_category.into_iter().collect();
        by_category.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));

        let mut timeliness = Timeliness::default();
        let mut per_level: BTreeMap<Level, LevelTimeliness> = BTreeMap::new();
        for c in cases.iter().filter(|c| in_period(&c.reported_at)) {
            let (a, r) = (c.assess_outcome(now), c.answer_outcome(now));
            timeliness.cases += 1;
            timeliness.assess.add(a);
            timeliness.answer.add(r);
            let l = per_level.entry(c.level).or_insert_with(|| LevelTimeliness {
                level: c.level,
                cases: 0,
                assess: DeadlineCount::default(),
                answer: DeadlineCount::default(),
            });
            l.cases += 1;
            l.assess.add(a);
            l.answer.add(r);
        }
        timeliness.by_level = per_level.into_values().rev().collect();

        Report {
            spec,
            total,
            by_tone,
            by_level: by_level.into_iter().rev().collect(),
            daily: daily.into_iter().collect(),
            by_tier: by_tier.into_iter().collect(),
            by_source: sources,
            other_sources,
            by_category,
            uncategorised,
            top_events: group_events(events.into_iter(), MAX_EVENTS),
            timeliness,
        }
    }

    /// A made-up week for previews, tests and the example.
    pub fn sample() -> Report {
        crate::sample::sample_report()
    }
}
