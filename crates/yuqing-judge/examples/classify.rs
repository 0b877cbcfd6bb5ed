//! `yuqing classify` without the binary: reads texts from stdin, one per line, and
//! prints one JSON object per line, as INTERFACES.md says `yuqing classify` does
//! (`{"tone", "tone_score", "categories", "level"}`), through the same function
//! ([`yuqing_judge::classify_text`]). The peer benchmark (`scripts/tone-peers.sh`)
//! runs this, so that it builds in a minute instead of the whole binary's fifteen.
//!
//! ```text
//! cargo run --release -p yuqing-judge --example classify [-- --model FILE] < texts.txt
//! ```
//!
//! With `--model FILE` the tone comes from that model file instead of the embedded
//! default (to measure a candidate model before it replaces `models/tone.bin`); the
//! categories and level are then still computed with the default tone, so only `tone`
//! and `tone_score` are meaningful in that mode.
//!
//! On stderr: texts per second over the whole loop (reading, judging, writing).

use std::io::{BufRead, BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;
use yuqing_judge::tone_model::ToneModel;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut model: Option<ToneModel> = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--model" => {
                let p = PathBuf::from(args.next().ok_or("--model needs a file")?);
                model = Some(ToneModel::load(&p)?);
            }
            other => return Err(format!("unknown argument `{other}`").into()),
        }
    }
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let start = Instant::now();
    let mut n = 0usize;
    for line in stdin.lock().lines() {
        let line = line?;
        let j = yuqing_judge::classify_text(&line);
        let (tone, score) = match &model {
            Some(m) => m.predict("", &line),
            None => (j.tone, j.tone_score),
        };
        let v = serde_json::json!({
            "tone": tone,
            "tone_score": (f64::from(score) * 1000.0).round() / 1000.0,
            "categories": j.categories,
            "level": j.level,
        });
        writeln!(out, "{v}")?;
        n += 1;
    }
    out.flush()?;
    let secs = start.elapsed().as_secs_f64();
    eprintln!("classified {n} texts in {secs:.3} s: {:.0} texts/s", n as f64 / secs.max(1e-9));
    Ok(())
}
