//! From the store to the report model: a period's bulletin (draft, refresh, freeze),
//! its statistics report and its export rows. Shared by the web UI, the JSON API and
//! `yuqing bulletin create`, so that every way of making an issue makes the same one.
//!
//! Periods are days in the office's zone, both ends included; the store is asked for
//! the half-open UTC range from the first day's midnight to the midnight after the last.
//! Everything read is bounded: [`MAX_PERIOD_ITEMS`] items for counts,
//! [`MAX_EXPORT_ITEMS`] rows for an export, [`MAX_ENTRIES`] entries in a compiled
//! issue (the office can add more by hand, up to [`MAX_DRAFT_ENTRIES`]).

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use yuqing_core::config::{Config, NumberReset};
use yuqing_core::Tone;
use yuqing_report::{
    Answer, Bulletin, CaseInfo, Entry, ExportItem, Overview, OverviewItem, Report, ReportCase, ReportItem, ReportKind,
    ReportSpec, Spread,
};
use yuqing_store::{IssueNumbers, PeriodItem, Store, StoreError};

/// Entries a compiled issue starts with; the overview still counts every item.
pub const MAX_ENTRIES: usize = 30;
/// Entries a draft may hold after the office added some by hand.
pub const MAX_DRAFT_ENTRIES: usize = 80;
/// Items counted for one bulletin or report; a longer period is refused.
pub const MAX_PERIOD_ITEMS: usize = 200_000;
/// Rows of one export; a longer period is refused (the XLSX is built in memory).
pub const MAX_EXPORT_ITEMS: usize = 50_000;
/// Cases counted for one report.
const MAX_PERIOD_CASES: usize = 50_000;
/// Days one bulletin or report may cover (the report crate draws at most 366 bars).
pub const MAX_PERIOD_DAYS: i64 = 366;
/// Characters of a default summary (the lead of the text).
pub const SUMMARY_CHARS: usize = 200;
/// Largest events listed in a bulletin's overview.
const TOP_EVENTS: usize = 5;
/// Items of one event read to count its spread.
const MAX_EVENT_ITEMS: usize = 10_000;

/// Why a period could not be compiled.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CompileError {
    #[error("the period starts on {since}, after its end {until}")]
    Backwards { since: NaiveDate, until: NaiveDate },
    #[error("the period from {since} to {until} is longer than {MAX_PERIOD_DAYS} days; choose a shorter one")]
    TooLong { since: NaiveDate, until: NaiveDate },
    #[error("the period has more than {limit} items; choose a shorter one")]
    TooManyItems { limit: usize },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A checked period: days in the office's zone, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub since: NaiveDate,
    pub until: NaiveDate,
}

impl Period {
    pub fn new(since: NaiveDate, until: NaiveDate) -> Result<Period, CompileError> {
        if since > until {
            return Err(CompileError::Backwards { since, until });
        }
        if (until - since).num_days() >= MAX_PERIOD_DAYS {
            return Err(CompileError::TooLong { since, until });
        }
        Ok(Period { since, until })
    }

    /// `[since 00:00, until + 1 day 00:00)` in the zone, as UTC.
    pub fn bounds(&self, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        (local_midnight(self.since, tz), local_midnight(self.until + Duration::days(1), tz))
    }
}

/// Midnight of a day in the zone (the first instant of the day where a clock change
/// skips midnight), as UTC.
pub fn local_midnight(d: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let naive = d.and_hms_opt(0, 0, 0).unwrap_or_default();
    match tz.from_local_datetime(&naive).earliest() {
        Some(t) => t.with_timezone(&Utc),
        // No local midnight at all: an hour later always exists.
        None => tz
            .from_local_datetime(&(naive + Duration::hours(1)))
            .earliest()
            .map_or_else(|| Utc.from_utc_datetime(&naive), |t| t.with_timezone(&Utc)),
    }
}

/// A UTC time in the office's zone, with its offset (what the report model takes).
pub fn local(t: DateTime<Utc>, tz: Tz) -> DateTime<FixedOffset> {
    t.with_timezone(&tz).fixed_offset()
}

/// Today in the office's zone.
pub fn today(config: &Config, now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&config.org.timezone).date_naive()
}

/// The event an item belongs to: its first-seen item.
fn root(p: &PeriodItem) -> i64 {
    p.item.duplicate_of.unwrap_or(p.item.id)
}

async fn items_of(
    store: &Store,
    tz: Tz,
    period: Period,
    limit: usize,
    lead: bool,
) -> Result<Vec<PeriodItem>, CompileError> {
    let (since, until) = period.bounds(tz);
    let items = store.period_items(since, until, limit, lead).await?;
    if items.len() > limit {
        return Err(CompileError::TooManyItems { limit });
    }
    Ok(items)
}

// ---- bulletins --------------------------------------------------------------------------

/// A bulletin being compiled: the report model and, per entry, the item it was made
/// from (`None` for none, e.g. a correction copied from an issue stored before drafts),
/// which is how refreshing finds its spread and case again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DraftDoc {
    pub bulletin: Bulletin,
    pub items: Vec<Option<i64>>,
}

impl DraftDoc {
    /// Reads a stored draft; the two lists are made to agree if they ever do not.
    pub fn from_json(s: &str) -> Result<DraftDoc, serde_json::Error> {
        let mut d: DraftDoc = serde_json::from_str(s)?;
        d.items.resize(d.bulletin.entries.len(), None);
        Ok(d)
    }

    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }

    /// Moves entry `i` by `by` places (clamped at the ends).
    pub fn move_entry(&mut self, i: usize, up: bool) {
        let n = self.bulletin.entries.len();
        if i >= n {
            return;
        }
        let j = if up { i.checked_sub(1) } else { (i + 1 < n).then_some(i + 1) };
        if let Some(j) = j {
            self.bulletin.entries.swap(i, j);
            self.items.swap(i, j);
        }
    }

    pub fn remove_entry(&mut self, i: usize) {
        if i < self.bulletin.entries.len() {
            self.bulletin.entries.remove(i);
            self.items.remove(i);
        }
    }

    pub fn push_entry(&mut self, item: Option<i64>, entry: Entry) {
        self.bulletin.entries.push(entry);
        self.items.push(item);
    }

    /// The items already in the issue.
    pub fn item_set(&self) -> BTreeSet<i64> {
        self.items.iter().flatten().copied().collect()
    }
}

/// The lead of a text as a default summary: its non-empty lines joined, cut to
/// [`SUMMARY_CHARS`] characters, at the end of a sentence when one ends late enough.
pub fn lead_summary(text: &str) -> String {
    let joined: String = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("");
    if joined.chars().count() <= SUMMARY_CHARS {
        return joined;
    }
    let cut: String = joined.chars().take(SUMMARY_CHARS).collect();
    match cut.rfind(['。', '！', '？', '；']) {
        // A sentence end in the second half: stop there, the summary reads whole.
        Some(at) if cut[..at].chars().count() >= SUMMARY_CHARS / 2 => {
            let end = at + cut[at..].chars().next().map_or(0, char::len_utf8);
            cut[..end].to_string()
        }
        _ => format!("{cut}…"),
    }
}

fn overview(period: Period, tz: Tz, items: &[PeriodItem]) -> Overview {
    // Every event's title is that of its earliest item in the period (items come
    // oldest first), the first-seen one when it is in the period too.
    let titles: HashMap<i64, &str> = items.iter().rev().map(|p| (root(p), p.item.title.as_str())).collect();
    Overview::compile(
        (period.since, period.until),
        items.iter().map(|p| OverviewItem {
            day: p.sort_at.with_timezone(&tz).date_naive(),
            source: &p.item.source,
            tone: p.item.tone,
            level: p.item.level,
            categories: &p.item.categories,
            event: Some((root(p), titles.get(&root(p)).copied().unwrap_or(&p.item.title))),
        }),
        TOP_EVENTS,
    )
}

/// An event's spread (all its items, reposts included, and their distinct sources),
/// `None` when the item stands alone.
async fn spread(store: &Store, root: i64) -> Result<Option<Spread>, StoreError> {
    let items = store.event_items(root, MAX_EVENT_ITEMS).await?;
    if items.len() < 2 {
        return Ok(None);
    }
    let sources: BTreeSet<&str> = items.iter().map(|i| i.source.as_str()).collect();
    Ok(Some(Spread { items: items.len(), sources: sources.len() }))
}

/// The handling record of an item for its entry: the item's own case, else the case
/// of the event's first-seen item.
async fn case_info(
    store: &Store,
    tz: Tz,
    item: i64,
    root: i64,
    now: DateTime<Utc>,
) -> Result<Option<CaseInfo>, StoreError> {
    let mut brief = store.case_brief(item, now).await?;
    if brief.is_none() && root != item {
        brief = store.case_brief(root, now).await?;
    }
    Ok(brief.map(|b| CaseInfo {
        state: b.state,
        overdue: b.overdue,
        answer: b.answer.map(|a| Answer { channel: a.channel, text: a.text, url: a.url, at: Some(local(a.at, tz)) }),
    }))
}

/// A new entry for an item: its headline, source, time, link, tone, level and
/// categories as judged, the lead of its text, its event's spread and its case.
pub async fn entry_for(
    store: &Store,
    tz: Tz,
    item: &yuqing_store::ItemSummary,
    lead: &str,
    now: DateTime<Utc>,
) -> Result<Entry, StoreError> {
    let root = item.duplicate_of.unwrap_or(item.id);
    Ok(Entry {
        headline: item.title.clone(),
        source: item.source.clone(),
        tier: item.tier,
        published: item.published_at.as_deref().and_then(|p| DateTime::parse_from_rfc3339(p).ok()),
        url: item.url.clone(),
        summary: lead_summary(lead),
        tone: item.tone,
        level: item.level,
        categories: item.categories.clone(),
        spread: spread(store, root).await?,
        case: case_info(store, tz, item.id, root, now).await?,
    })
}

/// The period's events, one representative item each (the first-seen item when it is
/// in the period, else the event's earliest item in it), most serious first, then
/// negative ones, then the newest.
fn representatives(items: &[PeriodItem]) -> Vec<&PeriodItem> {
    let mut by_event: HashMap<i64, &PeriodItem> = HashMap::new();
    // Items come oldest first: the first one of an event stays, unless the event's
    // first-seen item comes later (a page dated before it was collected).
    for p in items {
        let r = root(p);
        let take = match by_event.get(&r) {
            None => true,
            Some(seen) => p.item.id == r && seen.item.id != r,
        };
        if take {
            by_event.insert(r, p);
        }
    }
    let mut reps: Vec<&PeriodItem> = by_event.into_values().collect();
    reps.sort_by(|a, b| {
        b.item
            .level
            .cmp(&a.item.level)
            .then((b.item.tone == Tone::Negative).cmp(&(a.item.tone == Tone::Negative)))
            .then(b.sort_at.cmp(&a.sort_at))
            .then(b.item.id.cmp(&a.item.id))
    });
    reps
}

/// Items of the draft's period that could be added to it: one per event not yet in
/// the draft, in the default order, at most `limit`.
pub async fn candidates(
    store: &Store,
    config: &Config,
    doc: &DraftDoc,
    limit: usize,
) -> Result<Vec<PeriodItem>, CompileError> {
    let (since, until) = doc.bulletin.period;
    let period = Period::new(since, until)?;
    let items = items_of(store, config.org.timezone, period, MAX_PERIOD_ITEMS, false).await?;
    let taken = doc.item_set();
    // An event already in the draft (through any of its items) is not offered again.
    let taken_events: BTreeSet<i64> = items.iter().filter(|p| taken.contains(&p.item.id)).map(root).collect();
    Ok(representatives(&items)
        .into_iter()
        .filter(|p| !taken.contains(&p.item.id) && !taken_events.contains(&root(p)))
        .take(limit)
        .cloned()
        .collect())
}

/// A new entry for item `id` as it is stored now; `None` when there is no such item.
pub async fn entry_for_id(
    store: &Store,
    config: &Config,
    id: i64,
    now: DateTime<Utc>,
) -> Result<Option<Entry>, StoreError> {
    let Some(detail) = store.item(id).await? else { return Ok(None) };
    let lead: String = detail.content.chars().take(usize::try_from(yuqing_store::LEAD_CHARS).unwrap_or(1200)).collect();
    Ok(Some(entry_for(store, config.org.timezone, &detail.item, &lead, now).await?))
}

/// Compiles a draft of the period's issue: the overview over every item, and one
/// entry per event (up to [`MAX_ENTRIES`]) in the default order. The number fields
/// are left at 0 until the issue is frozen.
pub async fn compile_bulletin(
    store: &Store,
    config: &Config,
    period: Period,
    now: DateTime<Utc>,
) -> Result<DraftDoc, CompileError> {
    let tz = config.org.timezone;
    let items = items_of(store, tz, period, MAX_PERIOD_ITEMS, false).await?;
    let chosen: Vec<&PeriodItem> = representatives(&items).into_iter().take(MAX_ENTRIES).collect();
    let leads = store.item_leads(&chosen.iter().map(|p| p.item.id).collect::<Vec<_>>()).await?;
    let mut doc = DraftDoc {
        bulletin: Bulletin {
            title: config.bulletin.title.clone(),
            year: today(config, now).year(),
            number: 0,
            series_number_in_year: None,
            compiled_by: config.bulletin.compiled_by.clone(),
            date: today(config, now),
            recipients: config.bulletin.recipients.clone(),
            period: (period.since, period.until),
            overview: overview(period, tz, &items),
            entries: Vec::new(),
            comment: None,
        },
        items: Vec::new(),
    };
    for p in chosen {
        let lead = leads.get(&p.item.id).map_or("", String::as_str);
        doc.push_entry(Some(p.item.id), entry_for(store, tz, &p.item, lead, now).await?);
    }
    Ok(doc)
}

/// Brings a draft up to date before it is shown or issued: the overview is counted
/// again, each entry's spread and case are read again, the configured title, byline
/// and recipients and today's date are taken. What the office wrote (the order, the
/// summaries, the comment) is kept.
pub async fn refresh(
    store: &Store,
    config: &Config,
    doc: &mut DraftDoc,
    now: DateTime<Utc>,
) -> Result<(), CompileError> {
    let tz = config.org.timezone;
    let (since, until) = doc.bulletin.period;
    let period = Period::new(since, until)?;
    let items = items_of(store, tz, period, MAX_PERIOD_ITEMS, false).await?;
    let b = &mut doc.bulletin;
    b.overview = overview(period, tz, &items);
    b.title = config.bulletin.title.clone();
    b.compiled_by = config.bulletin.compiled_by.clone();
    b.recipients = config.bulletin.recipients.clone();
    b.date = today(config, now);
    b.year = b.date.year();
    for (entry, item) in b.entries.iter_mut().zip(&doc.items) {
        let Some(id) = *item else { continue };
        let Some(detail) = store.item(id).await? else { continue };
        let root = detail.item.duplicate_of.unwrap_or(id);
        entry.spread = spread(store, root).await?;
        entry.case = case_info(store, tz, id, root, now).await?;
    }
    Ok(())
}

/// The issue as frozen under its numbers: the number line shows the number within
/// the year when the series resets yearly (`[bulletin] number_reset`).
pub fn freeze(mut bulletin: Bulletin, numbers: IssueNumbers, reset: NumberReset) -> Bulletin {
    bulletin.number = u32::try_from(numbers.number).unwrap_or(u32::MAX);
    bulletin.year = i32::try_from(numbers.year).unwrap_or(bulletin.year);
    bulletin.series_number_in_year = match reset {
        NumberReset::Yearly => Some(u32::try_from(numbers.number_in_year).unwrap_or(u32::MAX)),
        NumberReset::Never => None,
    };
    bulletin
}

/// A stored issue, ready to render. Issues stored before drafts existed kept 0 as
/// their number: the row's numbers are authoritative for those.
pub fn stored_issue(content: &str, number: i64, year: i64) -> Result<Bulletin, serde_json::Error> {
    let mut b: Bulletin = serde_json::from_str(content)?;
    if b.number == 0 {
        b.number = u32::try_from(number).unwrap_or(u32::MAX);
        b.year = i32::try_from(year).unwrap_or(b.year);
    }
    Ok(b)
}

/// "第N期" or "2026年第3期", as the number line reads.
pub fn number_label_zh(b: &Bulletin) -> String {
    match b.series_number_in_year {
        Some(n) => format!("{}年第{}期", b.year, n),
        None => format!("第{}期", b.number),
    }
}

/// "No. N" or "No. 3 of 2026".
pub fn number_label_en(b: &Bulletin) -> String {
    match b.series_number_in_year {
        Some(n) => format!("No. {n} of {}", b.year),
        None => format!("No. {}", b.number),
    }
}

/// Compiles and issues at once (`yuqing bulletin create`, `POST /api/v1/bulletins`):
/// the period's default issue under the next number.
pub async fn create_and_issue(
    store: &Store,
    config: &Config,
    period: Period,
    by: &str,
    now: DateTime<Utc>,
) -> Result<yuqing_store::IssuedBulletin, CreateError> {
    let doc = compile_bulletin(store, config, period, now).await?;
    let reset = config.bulletin.number_reset;
    let issued = store
        .issue_bulletin(today(config, now).year(), &period.since.to_string(), &period.until.to_string(), by, |n| {
            serde_json::to_string(&freeze(doc.bulletin, n, reset)).map_err(|e| e.to_string())
        })
        .await?;
    Ok(issued)
}

/// Why compiling and issuing at once failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CreateError {
    #[error(transparent)]
    Compile(#[from] CompileError),
    #[error(transparent)]
    Issue(#[from] yuqing_store::DraftError),
}

/// The default period of a new issue: from the last day of the previous issue (it
/// follows on) or a week back, to today.
pub async fn default_period(store: &Store, config: &Config, now: DateTime<Utc>) -> Result<Period, CompileError> {
    let until = today(config, now);
    let week_back = until - Duration::days(7);
    let since = match store.last_bulletin().await? {
        Some(last) => NaiveDate::parse_from_str(&last.until, "%Y-%m-%d").unwrap_or(week_back),
        None => week_back,
    };
    // A previous issue ending after today, or too long ago for one issue, starts the
    // week back instead.
    let since = if since > until || (until - since).num_days() >= MAX_PERIOD_DAYS { week_back } else { since };
    Period::new(since, until)
}

// ---- reports and exports ----------------------------------------------------------------

/// The statistics of a period.
pub async fn compile_report(
    store: &Store,
    config: &Config,
    kind: ReportKind,
    period: Period,
    now: DateTime<Utc>,
) -> Result<Report, CompileError> {
    let tz = config.org.timezone;
    let items = items_of(store, tz, period, MAX_PERIOD_ITEMS, false).await?;
    let (since, until) = period.bounds(tz);
    let cases = store.period_cases(since, until, MAX_PERIOD_CASES).await?;
    let titles: HashMap<i64, &str> = items.iter().rev().map(|p| (root(p), p.item.title.as_str())).collect();
    let report_cases: Vec<ReportCase> = cases
        .iter()
        .take(MAX_PERIOD_CASES)
        .map(|c| ReportCase {
            level: c.level,
            reported_at: local(c.opened_at, tz),
            assess_due: local(c.assess_due, tz),
            answer_due: local(c.answer_due, tz),
            assessed_at: c.assessed_at.map(|t| local(t, tz)),
            answered_at: c.answered_at.map(|t| local(t, tz)),
            dismissed_at: c.dismissed_at.map(|t| local(t, tz)),
        })
        .collect();
    let spec = ReportSpec {
        kind,
        title: ReportSpec::default_title(&config.org.name, kind),
        compiled_by: config.bulletin.compiled_by.clone(),
        date: today(config, now),
        period: (period.since, period.until),
    };
    Ok(Report::compile(
        spec,
        items.iter().map(|p| ReportItem {
            at: local(p.sort_at, tz),
            source: &p.item.source,
            tier: p.item.tier,
            tone: p.item.tone,
            level: p.item.level,
            categories: &p.item.categories,
            event: Some((root(p), titles.get(&root(p)).copied().unwrap_or(&p.item.title))),
        }),
        &report_cases,
        local(now, tz),
    ))
}

/// The period's items as export rows, oldest first.
pub async fn export_rows(store: &Store, config: &Config, period: Period) -> Result<Vec<ExportItem>, CompileError> {
    let tz = config.org.timezone;
    let items = items_of(store, tz, period, MAX_EXPORT_ITEMS, true).await?;
    Ok(items
        .into_iter()
        .map(|p| {
            let fetched = DateTime::parse_from_rfc3339(&p.item.fetched_at)
                .map(|t| t.with_timezone(&tz).fixed_offset())
                .unwrap_or_else(|_| local(p.sort_at, tz));
            ExportItem {
                id: p.item.id,
                published: p
                    .item
                    .published_at
                    .as_deref()
                    .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| t.with_timezone(&tz).fixed_offset()),
                fetched,
                source: p.item.source,
                tier: p.item.tier,
                title: p.item.title,
                url: p.item.url,
                tone: p.item.tone,
                tone_score: Some(f64::from(p.item.tone_score)),
                level: p.item.level,
                categories: p.item.categories,
                duplicate_of: p.item.duplicate_of,
                case_state: p.case_state,
                summary: p.lead.as_deref().map(lead_summary_long).unwrap_or_default(),
            }
        })
        .collect())
}

/// The lead for an export: lines joined with a space (the export crate cuts it).
fn lead_summary_long(text: &str) -> String {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_end_at_a_sentence_when_they_can() {
        assert_eq!(lead_summary("第一段。\n\n  第二段。"), "第一段。第二段。");
        let long = format!("{}。{}", "长".repeat(150), "短".repeat(100));
        let s = lead_summary(&long);
        assert_eq!(s, format!("{}。", "长".repeat(150)));
        let no_stop = "字".repeat(500);
        let s = lead_summary(&no_stop);
        assert_eq!(s.chars().count(), SUMMARY_CHARS + 1);
        assert!(s.ends_with('…'));
        // An early full stop is not used: the summary would be too short.
        let early = format!("短句。{}", "字".repeat(300));
        assert!(lead_summary(&early).ends_with('…'));
    }

    #[test]
    fn periods_are_checked_and_bounded_in_the_zone() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert!(matches!(Period::new(d("2026-11-08"), d("2026-11-01")), Err(CompileError::Backwards { .. })));
        assert!(matches!(Period::new(d("2025-01-01"), d("2026-11-01")), Err(CompileError::TooLong { .. })));
        let p = Period::new(d("2026-11-01"), d("2026-11-07")).unwrap();
        let (a, b) = p.bounds(chrono_tz::Asia::Shanghai);
        assert_eq!(a.to_rfc3339(), "2026-10-31T16:00:00+00:00");
        assert_eq!(b.to_rfc3339(), "2026-11-07T16:00:00+00:00");
    }

    #[test]
    fn entries_move_and_go_with_their_items() {
        let mut b = Bulletin::sample();
        let n = b.entries.len();
        assert!(n >= 2);
        let first = b.entries[0].headline.clone();
        b.entries.truncate(2);
        let mut d = DraftDoc { bulletin: b, items: vec![Some(1), Some(2)] };
        d.move_entry(0, true);
        assert_eq!(d.items, [Some(1), Some(2)], "the first cannot move up");
        d.move_entry(0, false);
        assert_eq!(d.items, [Some(2), Some(1)]);
        assert_eq!(d.bulletin.entries[1].headline, first);
        d.move_entry(1, false);
        assert_eq!(d.items, [Some(2), Some(1)], "the last cannot move down");
        d.remove_entry(0);
        assert_eq!((d.items.clone(), d.bulletin.entries.len()), (vec![Some(1)], 1));
        let json = d.to_json().unwrap();
        let mut broken: serde_json::Value = serde_json::from_str(&json).unwrap();
        broken["items"] = serde_json::json!([]);
        assert_eq!(DraftDoc::from_json(&broken.to_string()).unwrap().items, [None]);
    }

    #[test]
    fn freezing_sets_the_number_line() {
        let n = IssueNumbers { number: 17, year: 2026, number_in_year: 3 };
        let b = freeze(Bulletin::sample(), n, NumberReset::Yearly);
        assert_eq!((b.number, b.year, b.series_number_in_year), (17, 2026, Some(3)));
        assert_eq!(number_label_zh(&b), "2026年第3期");
        let b = freeze(b, n, NumberReset::Never);
        assert_eq!(number_label_zh(&b), "第17期");
        assert_eq!(number_label_en(&b), "No. 17");
    }
}
