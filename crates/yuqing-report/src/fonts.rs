//! The fonts typst may use, found on disk.
//!
//! Scanning reads each font file once to learn its families and styles, then drops
//! the data; a face is loaded again only when typst asks for it. The Noto CJK
//! collections are some 20 MB each, so keep one `FontSet` per process and reuse it.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use typst::foundations::Bytes;
use typst::text::{Font, FontBook, FontInfo};
use typst::utils::LazyHash;

use crate::ReportError;

/// System font folder scanned by [`FontSet::load_system`].
const SYSTEM_FONT_DIR: &str = "/usr/share/fonts";

/// Fonts available to the PDF renderer.
pub struct FontSet {
    pub(crate) book: LazyHash<FontBook>,
    faces: Vec<Face>,
    files: Vec<FontFile>,
    searched: Vec<PathBuf>,
}

struct Face {
    file: usize,
    index: u32,
    font: OnceLock<Option<Font>>,
}

struct FontFile {
    path: PathBuf,
    data: OnceLock<Option<Bytes>>,
}

impl fmt::Debug for FontSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FontSet").field("faces", &self.faces.len()).field("searched", &self.searched).finish()
    }
}

impl FontSet {
    /// Scans `/usr/share/fonts` and every folder in `YUQING_FONT_DIR` (separated like
    /// `PATH`). Folders that do not exist are skipped; one that cannot be read is an error.
    pub fn load_system() -> Result<FontSet, ReportError> {
        let mut dirs = vec![PathBuf::from(SYSTEM_FONT_DIR)];
        if let Some(extra) = std::env::var_os("YUQING_FONT_DIR") {
            dirs.extend(std::env::split_paths(&extra).filter(|p| !p.as_os_str().is_empty()));
        }
        FontSet::from_dirs(&dirs)
    }

    /// Scans the given folders (recursively) for `.ttf`, `.otf`, `.ttc` and `.otc` files.
    /// Folders that do not exist are skipped.
    pub fn from_dirs(dirs: &[PathBuf]) -> Result<FontSet, ReportError> {
        let mut paths = Vec::new();
        for dir in dirs {
            if dir.is_dir() {
                collect_font_files(dir, &mut paths, 0)?;
            }
        }
        paths.sort();
        paths.dedup();
        let mut book = FontBook::new();
        let mut faces = Vec::new();
        let mut files = Vec::new();
        for path in paths {
            // An unreadable or broken file is skipped like fontconfig does: one bad
            // file must not take the bulletin down. A needed family that ends up
            // missing is reported by name when rendering.
            let Ok(data) = std::fs::read(&path) else { continue };
            let file = files.len();
            let mut any = false;
            for index in 0u32.. {
                let Some(info) = FontInfo::new(&data, index) else { break };
                book.push(info);
                faces.push(Face { file, index, font: OnceLock::new() });
                any = true;
            }
            if any {
                files.push(FontFile { path, data: OnceLock::new() });
            }
        }
        Ok(FontSet { book: LazyHash::new(book), faces, files, searched: dirs.to_vec() })
    }

    /// Whether a family (as typst names it, e.g. "Noto Serif CJK SC") is present.
    /// Case-insensitive, as typst matches font names.
    pub fn has_family(&self, family: &str) -> bool {
        // The book keys families in lowercase.
        self.book.contains_family(&family.to_lowercase())
    }

    /// The folders that were scanned.
    pub fn searched(&self) -> &[PathBuf] {
        &self.searched
    }

    /// Fails with [`ReportError::MissingFont`] unless every family is present.
    pub(crate) fn require(&self, families: &[&str]) -> Result<(), ReportError> {
        for family in families {
            if !self.has_family(family) {
                return Err(ReportError::MissingFont { family: family.to_string(), searched: self.searched.clone() });
            }
        }
        Ok(())
    }

    /// The face at a book index, loading its file on first use.
    pub(crate) fn font(&self, index: usize) -> Option<Font> {
        let face = self.faces.get(index)?;
        face.font
            .get_or_init(|| {
                let file = self.files.get(face.file)?;
                let data = file.data.get_or_init(|| std::fs::read(&file.path).ok().map(Bytes::new)).clone()?;
                Font::new(data, face.index)
            })
            .clone()
    }
}

/// Folder depth limit, so a symlink loop cannot recurse forever.
const MAX_DEPTH: usize = 12;

fn collect_font_files(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) -> Result<(), ReportError> {
    let entries = std::fs::read_dir(dir).map_err(|source| ReportError::FontDir { path: dir.to_path_buf(), source })?;
    for entry in entries.flatten() {
        let path = entry.path();
        // `is_dir` follows symlinks, as font folders often hold them.
        if path.is_dir() {
            // A subfolder we may not read is skipped rather than failing the scan.
            if depth < MAX_DEPTH {
                let _ = collect_font_files(&path, out, depth + 1);
            }
        } else if has_font_extension(&path) {
            out.push(path);
        }
    }
    Ok(())
}

fn has_font_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .map(|e| matches!(e.to_ascii_lowercase().as_str(), "ttf" | "otf" | "ttc" | "otc"))
        .unwrap_or(false)
}
