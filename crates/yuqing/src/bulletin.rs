//! `yuqing bulletin create` and `render`: compiles the period's relevant items into the
//! next numbered issue (frozen in the store), and renders an issue as PDF, DOCX or HTML.
//!
//! Compiling is `yuqing_web::compile`, the same path as the web UI's drafts and
//! `POST /api/v1/bulletins`, so an issue made here is the one the office would get
//! there without editing it: the overview over every item, one entry per event in
//! the default order, numbered under the store's numbering lock.

use anyhow::{bail, Context, Result};
use chrono::{NaiveDate, Utc};
use std::path::Path;
use yuqing_core::config::Config;
use yuqing_store::Store;
use yuqing_web::compile::{self, Period};

fn parse_date(s: &str, what: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").with_context(|| format!("--{what} `{s}` is not a date like 2026-11-29"))
}

/// Compiles and issues the next issue; returns its number.
pub async fn create(config: &Config, store: &Store, since: Option<&str>, until: Option<&str>) -> Result<i64> {
    let now = Utc::now();
    // By default an issue follows on from the previous one, up to today.
    let default = compile::default_period(store, config, now).await.context("cannot find the default period")?;
    let until = until.map(|s| parse_date(s, "until")).transpose()?.unwrap_or(default.until);
    let since = since.map(|s| parse_date(s, "since")).transpose()?.unwrap_or(default.since);
    let period = Period::new(since, until).map_err(|e| anyhow::anyhow!("--since/--until: {e}"))?;
    let issued = compile::create_and_issue(store, config, period, "cli", now)
        .await
        .with_context(|| format!("cannot compile the bulletin of {since} to {until}"))?;
    Ok(issued.number)
}

/// Renders issue `number` to `out` as pdf, docx or html.
pub async fn render(store: &Store, number: i64, format: &str, out: &Path) -> Result<()> {
    let row = store.issued_bulletin(number).await?.with_context(|| format!("there is no bulletin number {number}"))?;
    let b = compile::stored_issue(&row.content, row.number, row.year).context("the stored bulletin is damaged")?;
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
