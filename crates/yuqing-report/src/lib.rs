//! Renders the numbered bulletin (《网上舆情信息》) the office sends its leaders, as
//! HTML (preview and print), DOCX (edited in Word or WPS) and PDF (in-process, with
//! typst as a library), and the period's volume-by-tone chart as SVG.
//!
//! The crate is pure: it takes a [`Bulletin`] already compiled by the store and
//! returns bytes. It opens no database and fetches nothing from the network; the
//! only I/O is reading font files for the PDF ([`FontSet`]).
//!
//! Trade-offs:
//! - Every piece of collected text (headlines, summaries, source names) is hostile
//!   input. HTML and DOCX escape it as XML text; the PDF never splices it into typst
//!   markup at all: the data is handed to the typst template as a JSON file it reads
//!   with `json(..)`, so a headline such as `#set page(..)` stays a string.
//! - The PDF names explicit Simplified Chinese font families and turns typst's font
//!   fallback off, so a machine without them fails with [`ReportError::MissingFont`]
//!   instead of printing tofu or Japanese glyph forms.
//! - The DOCX is hand-written OOXML (a handful of XML parts in a zip) rather than a
//!   dependency: the documents are small, and this keeps full control over the
//!   East Asian font names that Word and WPS look for (方正小标宋简体, 宋体, 仿宋).

mod chart;
mod docx;
mod fonts;
mod html;
mod model;
mod pdf;
mod sample;
mod text;

pub use chart::tone_chart_svg;
pub use docx::render_docx;
pub use fonts::FontSet;
pub use html::render_html;
pub use model::{Bulletin, Entry, Overview};
pub use pdf::render_pdf;

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
}

fn display_paths(paths: &[PathBuf]) -> String {
    if paths.is_empty() {
        return "no folders".to_string();
    }
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}
