//! The tone model's trainer in multi-class mode ([`TextClassifier`]) on THUCNews
//! headlines (10 Sina channels): trained on `dev.txt`, scored on `test.txt` (the
//! shared copy has no train file). A proxy for how well yuqing's approach learns
//! key-content categories from an office's labelled items; `scripts/thucnews-eval.sh`
//! runs it beside a Python TF-IDF baseline.
//!
//! ```text
//! cargo run --release -p yuqing-judge --example thucnews_eval [-- --data-dir ../shared/data/topic-thucnews-titles] [--validate]
//! ```
//!
//! `--validate` trains on 80 % of `dev.txt` and scores the other 20 % (split by line
//! number), never touching `test.txt`: that is how the options were chosen.
//! Options (for that search only): `THUC_BUCKETS_LOG2`, `THUC_MAX_N`, `THUC_L2`,
//! `THUC_NB_ALPHA`, `THUC_ITER`.

use std::path::PathBuf;
use std::time::Instant;
use yuqing_judge::tone_model::features::{Extractor, FeatureConfig, Features};
use yuqing_judge::tone_model::linear::{ClassifierOptions, TextClassifier};

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn read(path: &PathBuf) -> Result<Vec<(String, usize)>, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let (t, l) = line.rsplit_once('\t').ok_or_else(|| format!("{}:{}: no tab", path.display(), n + 1))?;
        let l: usize = l.trim().parse().map_err(|_| format!("{}:{}: bad label `{l}`", path.display(), n + 1))?;
        out.push((t.to_string(), l));
    }
    Ok(out)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/topic-thucnews-titles");
    let mut validate = false;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--data-dir" => dir = PathBuf::from(args.next().ok_or("--data-dir needs a value")?),
            "--validate" => validate = true,
            other => return Err(format!("unknown argument `{other}`").into()),
        }
    }
    let classes: Vec<String> = std::fs::read_to_string(dir.join("class.txt"))
        .map_err(|e| format!("class.txt: {e}"))?
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    let dev = read(&dir.join("dev.txt"))?;
    let (train, test) = if validate {
        let (a, b): (Vec<_>, Vec<_>) = dev.into_iter().enumerate().partition(|(i, _)| i % 5 != 0);
        (a.into_iter().map(|x| x.1).collect::<Vec<_>>(), b.into_iter().map(|x| x.1).collect::<Vec<_>>())
    } else {
        (dev, read(&dir.join("test.txt"))?)
    };
    let defaults = ClassifierOptions::default();
    let opts = ClassifierOptions {
        features: FeatureConfig {
            buckets_log2: env("THUC_BUCKETS_LOG2", 18),
            min_n: 1,
            max_n: env("THUC_MAX_N", 2),
            ..defaults.features
        },
        l2: env("THUC_L2", 1e-4),
        nb_alpha: env("THUC_NB_ALPHA", 1.0),
        max_iter: env("THUC_ITER", 100),
        ..defaults
    };
    println!(
        "{}: train {} headlines, score {} ({} classes)",
        if validate { "validation (dev 80/20)" } else { "dev -> test" },
        train.len(),
        test.len(),
        classes.len()
    );
    println!("options: {opts:?}");
    let t = Instant::now();
    let (model, stats) = TextClassifier::train(&train, classes.len(), &opts);
    println!("trained in {:.1} s: {} iterations, loss {:.4}", t.elapsed().as_secs_f64(), stats.iterations, stats.loss);
    let (mut ex, mut f) = (Extractor::default(), Features::default());
    let t = Instant::now();
    let pred: Vec<usize> = test.iter().map(|(s, _)| model.predict(s, &mut ex, &mut f)).collect();
    let rate = test.len() as f64 / t.elapsed().as_secs_f64().max(1e-9);
    let k = classes.len();
    let mut conf = vec![vec![0usize; k]; k];
    for ((_, g), p) in test.iter().zip(&pred) {
        if *g < k {
            conf[*g][*p] += 1;
        }
    }
    let correct: usize = (0..k).map(|i| conf[i][i]).sum();
    let mut f1s = Vec::new();
    for (c, name) in classes.iter().enumerate() {
        let tp = conf[c][c] as f64;
        let support: usize = conf[c].iter().sum();
        let predicted: usize = (0..k).map(|g| conf[g][c]).sum();
        let p = if predicted > 0 { tp / predicted as f64 } else { 0.0 };
        let r = if support > 0 { tp / support as f64 } else { 0.0 };
        let f1 = if p + r > 0.0 { 2.0 * p * r / (p + r) } else { 0.0 };
        f1s.push(f1);
        println!("  {name:<14} support {support:>5}  P {p:.4}  R {r:.4}  F1 {f1:.4}");
    }
    println!(
        "yuqing accuracy {:.4}  macro-F1 {:.4}  ({rate:.0} headlines/s predicting, one thread)",
        correct as f64 / test.len().max(1) as f64,
        f1s.iter().sum::<f64>() / f1s.len().max(1) as f64
    );
    Ok(())
}
