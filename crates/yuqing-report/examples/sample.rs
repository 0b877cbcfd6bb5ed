//! Renders the sample bulletin in every format to /tmp (or the folder given):
//! `cargo run -p yuqing-report --example sample [DIR]`, then look at the PDF, e.g.
//! `pdftoppm -png -r 60 -f 1 -l 1 /tmp/yuqing-bulletin-sample.pdf /tmp/page`.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args_os().nth(1).map(PathBuf::from).unwrap_or_else(std::env::temp_dir);
    let b = yuqing_report::Bulletin::sample();
    let fonts = yuqing_report::FontSet::load_system()?;
    let pdf = dir.join("yuqing-bulletin-sample.pdf");
    std::fs::write(&pdf, yuqing_report::render_pdf(&b, &fonts)?)?;
    let docx = dir.join("yuqing-bulletin-sample.docx");
    std::fs::write(&docx, yuqing_report::render_docx(&b)?)?;
    let html = dir.join("yuqing-bulletin-sample.html");
    std::fs::write(&html, yuqing_report::render_html(&b))?;
    std::fs::write(dir.join("yuqing-bulletin-sample-chart.svg"), yuqing_report::tone_chart_svg(&b.overview))?;
    println!("wrote {}, {} and {}", pdf.display(), docx.display(), html.display());
    Ok(())
}
