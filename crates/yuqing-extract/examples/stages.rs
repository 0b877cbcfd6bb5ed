//! Times the stages of extraction over saved pages: decode, parse, whole extract.
//!
//! cargo run --release -p yuqing-extract --example stages -- FILE.html… [--repeat N]
use std::time::Instant;

fn main() {
    let mut repeat = 1;
    let mut paths = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--repeat" {
            repeat = args.next().and_then(|n| n.parse().ok()).unwrap_or(1);
        } else {
            paths.push(a);
        }
    }
    let files: Vec<Vec<u8>> = paths.iter().filter_map(|f| std::fs::read(f).ok()).collect();
    let opts = yuqing_extract::ExtractOptions { tz: chrono_tz::Asia::Shanghai, now: chrono::Utc::now(), url: None };
    for _ in 0..repeat {
        let t = Instant::now();
        let texts: Vec<String> = files.iter().map(|b| yuqing_text::charset::decode_html(b, None).text).collect();
        let decode = t.elapsed();
        let t = Instant::now();
        for s in &texts {
            std::hint::black_box(yuqing_extract::html::parse(s));
        }
        let parse = t.elapsed();
        let t = Instant::now();
        for b in &files {
            std::hint::black_box(yuqing_extract::extract(b, None, &opts).ok());
        }
        let extract = t.elapsed();
        println!("decode {decode:>10.2?}  parse {parse:>10.2?}  extract (all stages) {extract:>10.2?}");
    }
}
