//! `yuqing bulletin create` and `render`: compiles the period's relevant items into the
//! next numbered issue (frozen in the store), and renders an issue as PDF, DOCX or HTML.

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use yuqing_core::config::Config;
use yuqing_core::{Level, Tone};
use yuqing_report::{Answer, Bulletin, CaseInfo, Entry, Overview, Spread, TopEvent};
use yuqing_store::{ItemFilter, ItemQuery, Store};

/// Most entries in one issue; the overview still counts every item of the period.
const MAX_ENTRIES: usize = 30;

fn local_midnight(d: NaiveDate, tz: chrono_tz::Tz) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0)
        .and_then(|n| tz.from_local_datetime(&n).earliest())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default()))
}

fn parse_date(s: &str, what: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").with_context(|| format!("--{what} `{s}` is not a date like 2026-11-29"))
}

/// Compiles and stores the next issue; returns its number.
pub async fn create(config: &Config, store: &Store, since: Option<&str>, until: Option<&str>) -> Result<i64> {
    let tz = config.org.timezone;
    let today = Utc::now().with_timezone(&tz).date_naive();
    let until_d = match until {
        Some(s) => parse_date(s, "until")?,
        None => today,
    };
    let since_d = match since {
        Some(s) => parse_date(s, "since")?,
        None => match store.last_bulletin().await? {
            // By default an issue follows on from the previous one.
            Some(last) => {
                NaiveDate::parse_from_str(&last.until, "%Y-%m-%d").unwrap_or(until_d - chrono::Duration::days(7))
            }
            None => until_d - chrono::Duration::days(7),
        },
    };
    if since_d > until_d {
        bail!("--since {since_d} is after --until {until_d}");
    }
    // Both ends included: up to the start of the day after `until`.
    let filter = ItemFilter {
        since: Some(local_midnight(since_d, tz)),
        until: Some(local_midnight(until_d + chrono::Duration::days(1), tz)),
        ..Default::default()
    };
    let mut all = Vec::new();
    let mut offset = 0;
    loop {
        let page = store.items(&ItemQuery { q: None, filter: filter.clone(), limit: 500, offset }).await?;
        let n = page.items.len();
        all.extend(page.items);
        offset += n;
        if n < 500 || offset >= 20_000 {
            break;
        }
    }
    // Overview over every item of the period.
    let mut by_tone = [(Tone::Positive, 0), (Tone::Neutral, 0), (Tone::Negative, 0)];
    let mut by_level: BTreeMap<Level, usize> = BTreeMap::new();
    let mut by_category: BTreeMap<yuqing_core::Category, usize> = BTreeMap::new();
    let mut daily: BTreeMap<NaiveDate, [usize; 3]> = BTreeMap::new();
    for it in &all {
        let t = match it.tone {
            Tone::Positive => 0,
            Tone::Neutral => 1,
            Tone::Negative => 2,
        };
        by_tone[t].1 += 1;
        *by_level.entry(it.level).or_default() += 1;
        for c in &it.categories {
            *by_category.entry(*c).or_default() += 1;
        }
        let when = it.published_at.as_deref().unwrap_or(&it.fetched_at);
        if let Ok(d) = DateTime::parse_from_rfc3339(when) {
            daily.entry(d.with_timezone(&tz).date_naive()).or_default()[t] += 1;
        }
    }
    // Entries: first-seen items, most serious first, then negative, then newest.
    let mut firsts: Vec<_> = all.iter().filter(|i| i.duplicate_of.is_none()).collect();
    firsts.sort_by(|a, b| {
        b.level.cmp(&a.level).then((b.tone == Tone::Negative).cmp(&(a.tone == Tone::Negative))).then(b.id.cmp(&a.id))
    });
    let mut entries = Vec::new();
    let mut top_events = Vec::new();
    for it in firsts.into_iter().take(MAX_ENTRIES) {
        let Some(detail) = store.item(it.id).await? else { continue };
        let spread = if detail.duplicates.is_empty() {
            None
        } else {
            let sources: HashSet<&str> =
                detail.duplicates.iter().map(|d| d.source.as_str()).chain([it.source.as_str()]).collect();
            Some(Spread { items: detail.duplicates.len() + 1, sources: sources.len() })
        };
        if let Some(sp) = spread {
            top_events.push(TopEvent { title: it.title.clone(), items: sp.items, sources: sp.sources });
        }
        let case = store.case_of_item(it.id).await?.map(|(state, answer)| CaseInfo {
            state,
            overdue: false,
            answer: answer.map(|text| Answer { channel: String::new(), text, url: None, at: None }),
        });
        let summary: String = detail.content.lines().filter(|l| !l.trim().is_empty()).collect::<Vec<_>>().join("");
        let summary: String = summary.chars().take(200).collect();
        entries.push(Entry {
            headline: it.title.clone(),
            source: it.source.clone(),
            tier: it.tier,
            published: it.published_at.as_deref().and_then(|p| DateTime::parse_from_rfc3339(p).ok()),
            url: it.url.clone(),
            summary,
            tone: it.tone,
            level: it.level,
            categories: it.categories.clone(),
            spread,
            case,
        });
    }
    top_events.sort_by_key(|e| std::cmp::Reverse(e.items));
    top_events.truncate(5);
    let bulletin = Bulletin {
        title: config.bulletin.title.clone(),
        year: until_d.year(),
        number: 0,
        series_number_in_year: None,
        compiled_by: config.bulletin.compiled_by.clone(),
        date: today,
        recipients: config.bulletin.recipients.clone(),
        period: (since_d, until_d),
        overview: Overview {
            total: all.len(),
            by_tone,
            by_level: by_level.into_iter().rev().collect(),
            by_category: by_category.into_iter().collect(),
            daily: daily.into_iter().collect(),
            top_events,
        },
        entries,
        comment: None,
    };
    let json = serde_json::to_string(&bulletin).context("cannot encode the bulletin")?;
    let row = store.create_bulletin(today.year(), &since_d.to_string(), &until_d.to_string(), &json).await?;
    Ok(row.number)
}

/// Renders issue `number` to `out` as pdf, docx or html.
pub async fn render(store: &Store, number: i64, format: &str, out: &Path) -> Result<()> {
    let row = store.bulletin(number).await?.with_context(|| format!("there is no bulletin number {number}"))?;
    let mut b: Bulletin = serde_json::from_str(&row.content).context("the stored bulletin is damaged")?;
    b.number = u32::try_from(row.number).unwrap_or(u32::MAX);
    b.year = i32::try_from(row.year).unwrap_or(b.year);
    let bytes = match format {
        "html" => yuqing_report::render_html(&b).into_bytes(),
        "docx" => yuqing_report::render_docx(&b).context("cannot write the DOCX")?,
        "pdf" => {
            let fonts = yuqing_report::FontSet::load_system().context("cannot find the fonts for the PDF")?;
            yuqing_report::render_pdf(&b, &fonts).context("cannot render the PDF")?
        }
        other => bail!("--format `{other}` is not one of pdf, docx, html"),
    };
    std::fs::write(out, bytes).with_context(|| format!("cannot write {}", out.display()))?;
    Ok(())
}
