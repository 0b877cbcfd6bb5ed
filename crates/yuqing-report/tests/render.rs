//! Renders a bulletin in every format and checks the results with real tools:
//! `pdftotext` and `pdffonts` (Debian `poppler-utils`) for the PDF, a zip reader and
//! a tag-balance check for the DOCX, LibreOffice headless when it is installed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use yuqing_core::{Level, Tier, Tone};
use yuqing_report::{render_docx, render_html, render_pdf, tone_chart_svg, Bulletin, Entry, FontSet, ReportError};

const HOSTILE_HTML: &str = "<script>alert('x')</script> & 财政";
const HOSTILE_TYPST: &str = "#set page(width: 1pt)] \"quoted\" \\back $x^2$ @ref <lbl> // not a comment";

fn fonts() -> &'static FontSet {
    static FONTS: OnceLock<FontSet> = OnceLock::new();
    FONTS.get_or_init(|| FontSet::load_system().expect("system fonts can be scanned"))
}

/// The sample issue plus two hostile headlines.
fn bulletin() -> Bulletin {
    let mut b = Bulletin::sample();
    let base = b.entries[0].clone();
    b.entries.push(Entry {
        headline: HOSTILE_HTML.to_string(),
        summary: "正文 <b>粗体</b> & 更多".to_string(),
        ..base.clone()
    });
    b.entries.push(Entry {
        headline: HOSTILE_TYPST.to_string(),
        source: "#text(red)[来源]".to_string(),
        tier: Tier::Other,
        published: None,
        url: String::new(),
        summary: "$ 1 + 1 $ ] [ #pagebreak() \\".to_string(),
        tone: Tone::Neutral,
        level: Level::Ordinary,
        spread: None,
        case: None,
    });
    b
}

fn tool(name: &str) -> PathBuf {
    let found = std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|p| p.join(name)).find(|p| p.is_file()));
    found.unwrap_or_else(|| panic!("`{name}` is not installed: these tests check the PDF with Debian's poppler-utils (apt-get install -y poppler-utils)"))
}

fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("tool runs");
    assert!(out.status.success(), "{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn write_tmp(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("temp file written");
    path
}

/// The strings every format must carry (issue 6's check).
fn required(b: &Bulletin) -> Vec<String> {
    let mut v = vec![b.title.clone(), "第3期".to_string(), b.compiled_by.clone(), "本期发至".to_string()];
    v.extend(b.recipients.iter().cloned());
    v.extend(b.entries.iter().take(3).map(|e| e.headline.clone()));
    v
}

#[test]
fn html_carries_the_bulletin_and_escapes_headlines() {
    let b = bulletin();
    let html = render_html(&b);
    for s in required(&b) {
        assert!(html.contains(&s), "HTML lacks {s:?}");
    }
    assert!(html.contains("编：上犹县财政系统网宣办"));
    assert!(!html.contains("<script>"), "a headline's <script> must be escaped");
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; 财政"));
    assert!(html.contains("正文 &lt;b&gt;粗体&lt;/b&gt; &amp; 更多"));
    assert!(html.contains("<svg"), "the tone chart is inline");
}

#[test]
fn series_number_in_year_shows_both_numbers() {
    let mut b = Bulletin::sample();
    b.number = 15;
    b.series_number_in_year = Some(3);
    let html = render_html(&b);
    assert!(html.contains("2026年第3期（总第15期）"));
}

#[test]
fn tone_chart_has_a_legend_and_a_bar_per_day() {
    let b = Bulletin::sample();
    let svg = tone_chart_svg(&b.overview);
    assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    for label in ["正面", "中性", "负面"] {
        assert!(svg.contains(label));
    }
    assert!(svg.contains("4/27") && svg.contains("5/3"));
    let mut empty = b.overview.clone();
    empty.daily.clear();
    assert!(tone_chart_svg(&empty).contains("</svg>"), "no days still gives a valid picture");
}

/// Checks that every start tag has its end tag, in order (enough to catch broken escaping).
fn assert_balanced(name: &str, xml: &str) {
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

#[test]
fn docx_is_a_real_ooxml_package_with_the_content() {
    let b = bulletin();
    let bytes = render_docx(&b).expect("docx renders");
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(&bytes)).expect("a zip archive");
    let mut parts = std::collections::HashMap::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).expect("entry");
        let mut s = String::new();
        std::io::Read::read_to_string(&mut f, &mut s).expect("utf-8 part");
        parts.insert(f.name().expect("utf-8 name").to_string(), s);
    }
    for p in [
        "[Content_Types].xml",
        "_rels/.rels",
        "word/document.xml",
        "word/styles.xml",
        "word/_rels/document.xml.rels",
        "word/footer1.xml",
    ] {
        assert!(parts.contains_key(p), "missing part {p}");
    }
    for (name, xml) in &parts {
        assert_balanced(name, xml);
    }
    let doc = &parts["word/document.xml"];
    for s in required(&b) {
        assert!(doc.contains(&s), "document.xml lacks {s:?}");
    }
    assert!(doc.contains("&lt;script&gt;") && doc.contains("&amp; 财政"));
    assert!(!doc.contains("<script>"));
    assert!(doc.contains("<w:tbl>"), "entries table");
    assert!(parts["word/styles.xml"].contains("方正小标宋简体") && parts["word/styles.xml"].contains("仿宋"));
    assert!(parts["word/footer1.xml"].contains("PAGE"));

    // LibreOffice is the issue's real reader; not installed everywhere.
    let soffice = ["soffice", "libreoffice"]
        .into_iter()
        .find(|n| std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(n).is_file())));
    let Some(soffice) = soffice else {
        eprintln!("SKIPPED: LibreOffice (soffice) is not installed; the DOCX was checked with the zip reader only");
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let docx = write_tmp(dir.path(), "bulletin.docx", &bytes);
    run(Command::new(soffice)
        .arg("--headless")
        .arg("--convert-to")
        .arg("pdf")
        .arg("--outdir")
        .arg(dir.path())
        .arg(&docx));
    let text = run(Command::new(tool("pdftotext")).arg(dir.path().join("bulletin.pdf")).arg("-"));
    assert!(squash(&text).contains(&squash(&b.title)), "LibreOffice's PDF lacks the title");
}

#[test]
fn pdf_carries_the_bulletin_in_an_embedded_cjk_font() {
    let b = bulletin();
    let started = std::time::Instant::now();
    let pdf = render_pdf(&b, fonts()).expect("pdf renders");
    eprintln!("render_pdf took {:?}", started.elapsed());
    assert!(pdf.starts_with(b"%PDF-"));
    let dir = tempfile::tempdir().expect("temp dir");
    let path = write_tmp(dir.path(), "bulletin.pdf", &pdf);

    let text = squash(&run(Command::new(tool("pdftotext")).arg("-enc").arg("UTF-8").arg(&path).arg("-")));
    for s in required(&b) {
        assert!(text.contains(&squash(&s)), "PDF text lacks {s:?}:\n{text}");
    }
    assert!(text.contains("编：上犹县财政系统网宣办"));
    assert!(text.contains(&squash("— 1 —")), "page number in the footer");
    // Typst-hostile text prints literally: nothing of it was evaluated.
    assert!(text.contains(&squash(HOSTILE_TYPST)), "hostile headline not literal:\n{text}");
    assert!(text.contains(&squash("#text(red)[来源]")));
    assert!(text.contains(&squash("$ 1 + 1 $ ] [ #pagebreak() \\")));

    let fonts_out = run(Command::new(tool("pdffonts")).arg(&path));
    let cjk: Vec<&str> = fonts_out.lines().filter(|l| l.contains("CJK")).collect();
    assert!(!cjk.is_empty(), "no CJK font listed:\n{fonts_out}");
    assert!(cjk.iter().all(|l| l.split_whitespace().any(|w| w == "yes")), "CJK fonts must be embedded:\n{fonts_out}");
    assert!(
        cjk.iter().any(|l| l.to_lowercase().replace(' ', "").contains("cjksc")),
        "a Simplified Chinese face:\n{fonts_out}"
    );
}

#[test]
fn pdf_without_cjk_fonts_is_a_missing_font_error() {
    let empty = tempfile::tempdir().expect("temp dir");
    let set = FontSet::from_dirs(&[empty.path().to_path_buf(), PathBuf::from("/nonexistent/fonts")]).expect("scan");
    match render_pdf(&Bulletin::sample(), &set) {
        Err(ReportError::MissingFont { family, searched }) => {
            assert!(family.contains("CJK SC"), "{family}");
            assert_eq!(searched.len(), 2);
            let msg = ReportError::MissingFont { family, searched }.to_string();
            assert!(msg.contains("fonts-noto-cjk"), "the error says what to do: {msg}");
        }
        other => panic!("expected MissingFont, got {:?}", other.map(|b| b.len())),
    }
}

#[test]
fn sample_pdf_first_page_renders_to_png() {
    let pdf = render_pdf(&Bulletin::sample(), fonts()).expect("pdf renders");
    let out = std::env::temp_dir().join("yuqing-bulletin-sample.pdf");
    std::fs::write(&out, &pdf).expect("sample written");
    let dir = tempfile::tempdir().expect("temp dir");
    let prefix = dir.path().join("page");
    run(Command::new(tool("pdftoppm")).args(["-png", "-r", "60", "-f", "1", "-l", "1"]).arg(&out).arg(&prefix));
    let png = std::fs::read_dir(dir.path())
        .expect("dir")
        .flatten()
        .find(|e| e.path().extension().is_some_and(|x| x == "png"));
    let png = png.expect("pdftoppm wrote a PNG").path();
    let bytes = std::fs::read(&png).expect("png");
    assert!(bytes.starts_with(b"\x89PNG") && bytes.len() > 5_000, "a non-trivial first page image");
}
