//! Renders what the office hands its leaders: the numbered bulletin
//! (《网上舆情信息》) and the statistics reports (日报 / 周报 / 月报), as HTML (the web
//! UI and printing), DOCX (edited in Word or WPS) and PDF (in-process, typst as a
//! library), with SVG charts; and exports a period's items to XLSX and CSV.
//!
//! The crate is pure: it takes plain data the store has gathered and returns bytes.
//! It opens no database, reads no clock and fetches nothing; the only I/O is reading
//! font files for the PDF ([`FontSet`]).
//!
//! # The API, by task
//!
//! **Bulletin.** Build a [`Bulletin`]: the `[bulletin]` settings (title, compiled-by,
//! recipients), the issue's `number` (and `series_number_in_year` when the series
//! resets every year: it then reads "2026年第3期" instead of "第N期"), the period, an
//! [`Overview`] and the [`Entry`]s in the office's order. [`Overview::compile`] counts
//! the overview from one [`OverviewItem`] per item of the period (tone, level,
//! categories, day, event) so callers need not. Each entry carries its headline,
//! source and tier, time, link, summary, tone and level, categories, the event's
//! [`Spread`] and the [`CaseInfo`] (state, overdue, and the attributed [`Answer`]).
//! The model is serde both ways: freeze an issued bulletin as JSON and render it
//! again later (older JSON shapes still read). Then [`render_pdf`], [`render_docx`],
//! [`render_html`]; [`tone_chart_svg`] is the overview's chart alone.
//!
//! **Reports.** Give [`Report::compile`] a [`ReportSpec`] (kind, title — see
//! [`ReportSpec::default_title`] — compiled-by, date, period, e.g. from
//! [`ReportKind::period_containing`]), one [`ReportItem`] per relevant item, one
//! [`ReportCase`] per case with its deadlines, and `now`. It counts volume by day and
//! tone, by tier, by source (top [`MAX_SOURCES`], the rest as "其他"), by category and
//! level, the top [`MAX_EVENTS`] events, and case [`Timeliness`] (assessed / answered
//! within deadline, per level). Render with [`report_html_fragment`] (for a page of
//! the UI), [`render_report_html`], [`render_report_pdf`], [`render_report_docx`];
//! [`report_charts`] gives the four SVG charts alone.
//!
//! **Export.** [`export_xlsx`] and [`export_csv`] write one row per [`ExportItem`].
//!
//! # Trade-offs
//!
//! - Every piece of collected text (headlines, summaries, source names) is hostile
//!   input. HTML, SVG, DOCX and XLSX escape it as XML text; the PDF never splices it
//!   into typst markup at all: the data is handed to a constant typst template as a
//!   JSON file it reads with `json(..)`, so a headline such as `#set page(..)` stays a
//!   string. CSV cells that a spreadsheet would take for a formula get a leading `'`.
//! - The PDF names explicit Simplified Chinese font families and turns typst's font
//!   fallback off, so a machine without them fails with [`ReportError::MissingFont`]
//!   instead of printing tofu or Japanese glyph forms.
//! - DOCX and XLSX are hand-written OOXML (a handful of XML parts in a zip) rather
//!   than dependencies: the documents are small, this keeps full control over the
//!   East Asian font names that Word and WPS look for (方正小标宋简体, 宋体, 仿宋),
//!   and `rust_xlsxwriter` would switch the workspace's `flate2` backend (see
//!   `export.rs`). DOCX reports show each chart's numbers as a table, not a picture.
//! - Charts are hand-written SVG (two shapes, byte-stable for golden tests); typst
//!   embeds the same SVG in the PDF as vectors, through the SVG support it already
//!   compiles, so reports add no dependency.
//! - One wording for all formats: the bulletin's lines come from `text.rs`, the
//!   report's sections are built once as format-neutral blocks (`report.rs`).

mod chart;
mod docx;
mod export;
mod fonts;
mod html;
mod model;
mod pdf;
mod report;
mod sample;
mod stats;
mod svg;
mod text;
mod typeset;

pub use chart::{report_charts, tone_chart_svg, ReportCharts};
pub use docx::render_docx;
pub use export::{export_csv, export_xlsx, ExportItem};
pub use fonts::FontSet;
pub use html::render_html;
pub use model::{Answer, Bulletin, CaseInfo, Entry, Overview, OverviewItem, Spread, TopEvent};
pub use pdf::render_pdf;
pub use report::{render_report_docx, render_report_html, render_report_pdf, report_html_fragment};
pub use stats::{
    DeadlineCount, LevelTimeliness, Report, ReportCase, ReportItem, ReportKind, ReportSpec, SourceCount, Timeliness,
    MAX_EVENTS, MAX_SOURCES,
};
pub use yuqing_cases::CaseState;

use std::path::PathBuf;

/// Everything that can go wrong while rendering a bulletin.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// A font family the PDF needs is not installed.
    #[error("font family \"{family}\" is not installed (searched {}); install Debian's fonts-noto-cjk or point YUQING_FONT_DIR at a folder holding it", display_paths(.searched))]
    MissingFont { family: String, searched: Vec<PathBuf> },
    /// A font folder could not be read.
    #[error("cannot read font folder {path}: {source}")]
    FontDir { path: PathBuf, source: std::io::Error },
    /// typst rejected the generated document (a bug in this crate's template).
    #[error("typesetting the bulletin failed: {0}")]
    Typeset(String),
    /// Writing the PDF failed.
    #[error("writing the PDF failed: {0}")]
    Pdf(String),
    /// Writing the DOCX archive failed.
    #[error("writing the DOCX archive failed: {0}")]
    Docx(String),
    /// Writing the XLSX or CSV export failed.
    #[error("writing the {format} export failed: {message}")]
    Export { format: &'static str, message: String },
    /// The export has more rows than a spreadsheet holds.
    #[error("{rows} items are more than one sheet holds ({max} rows); export a shorter period")]
    TooManyRows { rows: usize, max: usize },
}

fn display_paths(paths: &[PathBuf]) -> String {
    if paths.is_empty() {
        return "no folders".to_string();
    }
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}
