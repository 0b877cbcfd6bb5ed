//! typst as a library: one constant template, one JSON data file, the given fonts.
//!
//! The template is a constant of this crate: no collected text is ever spliced into
//! typst markup. The data travels as a JSON file (`/data.json`) that only this world
//! serves, and the templates place its strings as text, so a headline such as
//! `#set page(width: 1pt)` or `]` `$` `\` prints as written. Charts arrive as SVG
//! strings in the same JSON and are placed with `image(bytes(..), format: "svg")`.

use chrono::{Datelike, NaiveDate};
use serde_json::Value;
use typst::diag::{FileError, FileResult, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_layout::PagedDocument;
use typst_pdf::PdfOptions;

use crate::fonts::FontSet;
use crate::ReportError;

/// Body text, tables, the red title (no 方正小标宋 on a Debian server; the serif bold
/// stands in for it).
pub(crate) const SERIF: &str = "Noto Serif CJK SC";
/// Headings and the charts.
pub(crate) const SANS: &str = "Noto Sans CJK SC";

/// Typesets `template` over `data` (served as `/data.json`) into a PDF dated `date`.
/// Fails with [`ReportError::MissingFont`] unless both CJK SC families are present.
pub(crate) fn typeset(
    template: &'static str,
    data: &Value,
    date: NaiveDate,
    fonts: &FontSet,
) -> Result<Vec<u8>, ReportError> {
    fonts.require(&[SERIF, SANS])?;
    let data = serde_json::to_vec(data).map_err(|e| ReportError::Typeset(e.to_string()))?;
    let world = DocWorld::new(template, fonts, data, date);
    let doc =
        typst::compile::<PagedDocument>(&world).output.map_err(|errs| ReportError::Typeset(diagnostics(&errs)))?;
    typst_pdf::pdf(&doc, &PdfOptions::default()).map_err(|errs| ReportError::Pdf(diagnostics(&errs)))
}

fn diagnostics(errs: &[SourceDiagnostic]) -> String {
    errs.iter().map(|e| e.message.to_string()).collect::<Vec<_>>().join("; ")
}

/// The typst world: one main file, one data file, the given fonts, no packages.
struct DocWorld<'a> {
    library: LazyHash<Library>,
    fonts: &'a FontSet,
    main: Source,
    data_id: FileId,
    data: Bytes,
    today: Option<Datetime>,
}

impl<'a> DocWorld<'a> {
    fn new(template: &'static str, fonts: &'a FontSet, data: Vec<u8>, date: NaiveDate) -> Self {
        let main = Source::detached(template);
        // "/data.json" is a constant, valid virtual path; failing here is a bug in this line.
        let vpath = VirtualPath::new("/data.json").expect("constant virtual path is valid");
        let data_id = RootedPath::new(VirtualRoot::Project, vpath).intern();
        let today = Datetime::from_ymd(date.year(), date.month() as u8, date.day() as u8);
        DocWorld {
            library: LazyHash::new(Library::builder().build()),
            fonts,
            main,
            data_id,
            data: Bytes::new(data),
            today,
        }
    }
}

impl World for DocWorld<'_> {
    fn library(&self) -> &LazyHash<Library> {
        &self.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &self.fonts.book
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.data_id {
            Ok(self.data.clone())
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        self.fonts.font(index)
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        self.today
    }
}
