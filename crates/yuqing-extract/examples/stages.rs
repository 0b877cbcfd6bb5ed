//! Times the stages of extraction over saved pages: decode, parse, whole extract.
use std::time::Instant;
fn main() {
    let files: Vec<Vec<u8>> = std::env::args().skip(1).filter_map(|f| std::fs::read(f).ok()).collect();
    let opts = yuqing_extract::ExtractOptions { tz: chrono_tz::Asia::Shanghai, now: chrono::Utc::now(), url: None };
    let t = Instant::now();
    let texts: Vec<String> = files.iter().map(|b| yuqing_text::charset::decode_html(b, None).text).collect();
    println!("decode  {:?}", t.elapsed());
    let t = Instant::now();
    for s in &texts {
        std::hint::black_box(scraper::Html::parse_document(s));
    }
    println!("parse   {:?}", t.elapsed());
    let t = Instant::now();
    for b in &files {
        std::hint::black_box(yuqing_extract::extract(b, None, &opts).ok());
    }
    println!("extract {:?}", t.elapsed());
}
