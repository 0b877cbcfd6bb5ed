//! Scores the extractor on a labelled data set laid out as magic-html's benchmark.
//!
//! cargo run --release -p yuqing-extract --example eval -- DIR [--chinese] [--subset NAME] [--worst N] [--show ID-PREFIX]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use chrono::Utc;
use yuqing_extract::eval::{evaluate, load, LoadOptions, Summary};
use yuqing_extract::{extract, ExtractOptions};

fn line(name: &str, s: &Summary) {
    println!(
        "{name:<8} {:>4} pages  F1 {:.3}  P {:.3}  R {:.3}  F1≥0.9 {:.2}",
        s.pages, s.f1, s.precision, s.recall, s.good_share
    );
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut dir: Option<PathBuf> = None;
    let mut load_opts = LoadOptions::default();
    let mut worst = 15;
    let mut show: Option<String> = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--chinese" => load_opts.chinese_only = true,
            "--subset" => load_opts.subsets.extend(args.next()),
            "--worst" => worst = args.next().and_then(|n| n.parse().ok()).unwrap_or(worst),
            "--show" => show = args.next(),
            _ => dir = Some(PathBuf::from(a)),
        }
    }
    let Some(dir) = dir else {
        eprintln!("usage: eval DIR [--chinese] [--subset NAME] [--worst N] [--show ID-PREFIX]");
        return ExitCode::from(2);
    };
    let samples = match load(&dir, &load_opts) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let opts = ExtractOptions { tz: chrono_tz::Asia::Shanghai, now: Utc::now(), url: None };
    if let Some(prefix) = show {
        for s in samples.iter().filter(|s| s.id.starts_with(&prefix)) {
            let mut o = opts.clone();
            o.url = url::Url::parse(&s.url).ok();
            match extract(&s.html, None, &o) {
                Ok(a) => {
                    println!("url: {}\ntitle: {}\npublished: {:?}\nkind: {:?}", s.url, a.title, a.published_at, a.kind);
                    println!("score: {:?}", yuqing_extract::eval::score(&a.content, &s.expected));
                    println!("--- extracted ---\n{}\n--- expected ---\n{}", a.content, s.expected);
                }
                Err(e) => println!("error: {e}"),
            }
        }
        return ExitCode::SUCCESS;
    }
    let t = Instant::now();
    let report = evaluate(&samples, &opts);
    let secs = t.elapsed().as_secs_f64();
    for (name, s) in &report.subsets {
        line(name, s);
    }
    line("all", &report.summary);
    println!("{} pages in {:.3} s ({:.0} pages/s)", samples.len(), secs, samples.len() as f64 / secs.max(1e-9));
    println!("worst:");
    for p in report.worst(worst) {
        println!(
            "  {:.2} P {:.2} R {:.2}  {:<7} {:<7} {}  {}",
            p.scores.f1,
            p.scores.precision,
            p.scores.recall,
            p.subset,
            p.kind,
            &p.id[..p.id.len().min(8)],
            p.url.chars().take(70).collect::<String>()
        );
    }
    ExitCode::SUCCESS
}
