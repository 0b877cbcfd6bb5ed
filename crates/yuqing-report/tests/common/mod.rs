//! Helpers shared by the rendering tests: the system fonts, the real tools
//! (poppler-utils, LibreOffice) and small readers for zip-packaged documents.
#![allow(dead_code)] // Each test file uses a different part of this module.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use yuqing_report::FontSet;

pub fn fonts() -> &'static FontSet {
    static FONTS: OnceLock<FontSet> = OnceLock::new();
    FONTS.get_or_init(|| FontSet::load_system().expect("system fonts can be scanned"))
}

fn find(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| std::env::split_paths(&paths).map(|p| p.join(name)).find(|p| p.is_file()))
}

/// A poppler tool; these are required everywhere (`.ci/run` installs them).
pub fn tool(name: &str) -> PathBuf {
    find(name).unwrap_or_else(|| panic!("`{name}` is not installed: these tests check the PDF with Debian's poppler-utils (apt-get install -y poppler-utils)"))
}

/// LibreOffice: required under CI (`CI=true`, where `.ci/run` installs it); elsewhere a
/// missing one skips the check with a notice.
pub fn soffice() -> Option<PathBuf> {
    let found = find("soffice").or_else(|| find("libreoffice"));
    if found.is_none() {
        assert!(
            std::env::var("CI").map(|v| v != "true").unwrap_or(true),
            "LibreOffice (soffice) is not installed, and CI must check the documents with it (apt-get install -y libreoffice-writer-nogui libreoffice-calc-nogui)"
        );
        eprintln!("SKIPPED: LibreOffice (soffice) is not installed; checked with the zip reader only");
    }
    found
}

/// Converts `input` with LibreOffice headless to `format` (e.g. "pdf", "csv") in
/// `dir`, with its own profile folder so tests can run it in parallel; returns the
/// output file.
pub fn convert(soffice: &Path, input: &Path, format: &str, dir: &Path) -> PathBuf {
    // The profile must be a plain folder name: a filter string's spaces and colons
    // in its URL make LibreOffice hang.
    let ext = format.split(':').next().unwrap_or(format);
    let profile = dir.join(format!("lo-profile-{ext}"));
    let out = Command::new(soffice)
        .arg(format!("-env:UserInstallation=file://{}", profile.display()))
        .args(["--headless", "--norestore", "--convert-to", format, "--outdir"])
        .arg(dir)
        .arg(input)
        .output()
        .expect("soffice runs");
    assert!(out.status.success(), "soffice failed: {}", String::from_utf8_lossy(&out.stderr));
    let stem = input.file_stem().expect("input has a name").to_string_lossy().into_owned();
    let path = dir.join(format!("{stem}.{ext}"));
    assert!(
        path.is_file(),
        "soffice wrote no {ext}: {} {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

pub fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

pub fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("tool runs");
    assert!(out.status.success(), "{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn write_tmp(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("temp file written");
    path
}

/// The text of a PDF, by `pdftotext`, whitespace removed.
pub fn pdf_text(path: &Path) -> String {
    squash(&run(Command::new(tool("pdftotext")).arg("-enc").arg("UTF-8").arg(path).arg("-")))
}

/// Checks with `pdffonts` that the PDF embeds a Simplified Chinese CJK face, and
/// only embedded CJK faces.
pub fn assert_embeds_cjk_sc(path: &Path) {
    let fonts_out = run(Command::new(tool("pdffonts")).arg(path));
    let cjk: Vec<&str> = fonts_out.lines().filter(|l| l.contains("CJK")).collect();
    assert!(!cjk.is_empty(), "no CJK font listed:\n{fonts_out}");
    assert!(cjk.iter().all(|l| l.split_whitespace().any(|w| w == "yes")), "CJK fonts must be embedded:\n{fonts_out}");
    assert!(
        cjk.iter().any(|l| l.to_lowercase().replace(' ', "").contains("cjksc")),
        "a Simplified Chinese face:\n{fonts_out}"
    );
}

/// Every part of a zip package, as text.
pub fn zip_parts(bytes: &[u8]) -> HashMap<String, String> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip archive");
    let mut parts = HashMap::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).expect("entry");
        let mut s = String::new();
        std::io::Read::read_to_string(&mut f, &mut s).expect("utf-8 part");
        parts.insert(f.name().expect("utf-8 name").to_string(), s);
    }
    parts
}

/// The text runs of a DOCX's `word/document.xml`, tags removed, entities kept escaped.
pub fn docx_text(bytes: &[u8]) -> String {
    let parts = zip_parts(bytes);
    let doc = parts.get("word/document.xml").expect("word/document.xml");
    let mut out = String::new();
    let mut in_tag = false;
    for c in doc.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// Checks that every start tag has its end tag, in order (enough to catch broken escaping).
pub fn assert_balanced(name: &str, xml: &str) {
    let mut stack: Vec<&str> = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find('<') {
        let end = rest[start..].find('>').map(|e| start + e).unwrap_or_else(|| panic!("{name}: unclosed tag"));
        let tag = &rest[start + 1..end];
        rest = &rest[end + 1..];
        if tag.starts_with('?') || tag.starts_with('!') || tag.ends_with('/') {
            continue;
        }
        if let Some(close) = tag.strip_prefix('/') {
            assert_eq!(stack.pop(), Some(close), "{name}: </{close}> closes the wrong element");
        } else {
            stack.push(tag.split_whitespace().next().unwrap_or(tag));
        }
        assert!(!tag.contains('<'), "{name}: '<' inside a tag");
    }
    assert!(stack.is_empty(), "{name}: unclosed elements {stack:?}");
}

/// Renders page 1 of a PDF to a PNG with `pdftoppm`, keeps a copy at `keep` (to look
/// at), and checks it is a real picture. Returns the PNG bytes.
pub fn first_page_png(pdf: &Path, keep: &Path) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("temp dir");
    let prefix = dir.path().join("page");
    run(Command::new(tool("pdftoppm")).args(["-png", "-r", "60", "-f", "1", "-l", "1"]).arg(pdf).arg(&prefix));
    let png = std::fs::read_dir(dir.path())
        .expect("dir")
        .flatten()
        .find(|e| e.path().extension().is_some_and(|x| x == "png"))
        .expect("pdftoppm wrote a PNG")
        .path();
    let bytes = std::fs::read(&png).expect("png");
    assert!(bytes.starts_with(b"\x89PNG") && bytes.len() > 5_000, "a non-trivial first page image");
    let _ = std::fs::write(keep, &bytes);
    bytes
}
