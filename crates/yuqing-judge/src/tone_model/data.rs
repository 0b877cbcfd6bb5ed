//! Training data in, reports out: the TSV layouts the trainer reads, the held-out
//! split, and evaluation.
//!
//! Three layouts, told apart by the header line (⇥ is a tab):
//!
//! | header | rows |
//! | --- | --- |
//! | `label⇥text_a` | ChnSentiCorp-style reviews: `1` positive, `0` negative (2-class) |
//! | `id⇥tone⇥title⇥content` | news items, 3-class |
//! | `tone⇥text` | an office's exported corrections, 3-class |
//!
//! A tone is `positive` / `neutral` / `negative` or 正面 / 中性 / 负面. A bad row is an
//! error naming the file and line, never skipped silently: a half-read correction file
//! would train a different model without anyone noticing.

use super::{class_index, Example, ToneModel, TrainOptions, TrainStats, CLASSES};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;
use yuqing_core::Tone;

/// Why training data could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrainError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Parse { path: PathBuf, line: usize, message: String },
    #[error("no training data: the files hold no rows (give --data FILE.tsv)")]
    NoData,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    Polar,
    News,
    Corrections,
}

fn parse_tone(s: &str) -> Option<Tone> {
    match s.trim() {
        "positive" | "正面" => Some(Tone::Positive),
        "neutral" | "中性" => Some(Tone::Neutral),
        "negative" | "负面" => Some(Tone::Negative),
        _ => None,
    }
}

/// Reads one training file (see the module documentation for the layouts).
pub fn read_tsv(path: &Path) -> Result<Vec<Example>, TrainError> {
    let text = std::fs::read_to_string(path).map_err(|source| TrainError::Io { path: path.to_path_buf(), source })?;
    read_tsv_str(&text, path)
}

/// [`read_tsv`] on text already read; `path` is for error messages only.
pub fn read_tsv_str(text: &str, path: &Path) -> Result<Vec<Example>, TrainError> {
    let err = |line: usize, message: String| TrainError::Parse { path: path.to_path_buf(), line, message };
    let mut lines = text.lines().enumerate();
    let header = loop {
        match lines.next() {
            Some((_, l)) if l.trim().is_empty() => continue,
            Some((n, l)) => break (n + 1, l.trim_start_matches('\u{FEFF}').trim_end_matches('\r')),
            None => return Ok(Vec::new()),
        }
    };
    let cols: Vec<&str> = header.1.split('\t').map(str::trim).collect();
    let layout = match cols.as_slice() {
        ["label", "text_a"] => Layout::Polar,
        ["id", "tone", "title", "content"] => Layout::News,
        ["tone", "text"] => Layout::Corrections,
        _ => {
            return Err(err(
                header.0,
                format!(
                    "unknown header `{}`; expected `label<TAB>text_a`, `id<TAB>tone<TAB>title<TAB>content` \
                     or `tone<TAB>text`",
                    header.1
                ),
            ))
        }
    };
    let mut out = Vec::new();
    for (n, raw) in lines {
        let line = n + 1;
        let raw = raw.trim_end_matches('\r');
        if raw.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = raw.split('\t').collect();
        match layout {
            Layout::Polar => {
                let [label, text] = f.as_slice() else {
                    return Err(err(line, format!("expected 2 tab-separated fields, found {}", f.len())));
                };
                let positive = match label.trim() {
                    "1" => true,
                    "0" => false,
                    other => return Err(err(line, format!("label must be 0 or 1, found `{other}`"))),
                };
                out.push(Example::polar(*text, positive));
            }
            Layout::News => {
                let [id, tone, title, content] = f.as_slice() else {
                    return Err(err(line, format!("expected 4 tab-separated fields, found {}", f.len())));
                };
                let tone = parse_tone(tone).ok_or_else(|| {
                    err(line, format!("tone must be positive, neutral or negative, found `{}`", tone.trim()))
                })?;
                let mut e = Example::item(*title, *content, tone);
                e.id = Some(id.trim().to_string());
                out.push(e);
            }
            Layout::Corrections => {
                let [tone, text] = f.as_slice() else {
                    return Err(err(line, format!("expected 2 tab-separated fields, found {}", f.len())));
                };
                let tone = parse_tone(tone).ok_or_else(|| {
                    err(line, format!("tone must be positive, neutral or negative, found `{}`", tone.trim()))
                })?;
                out.push(Example::new(*text, tone));
            }
        }
    }
    Ok(out)
}

/// The deterministic held-out split of id'd data: an id is held out when its FNV-1a
/// hash falls in the lowest `percent` of 100. Stable across runs and machines, and an
/// item keeps its side when rows are added or reordered.
pub fn is_held_out(id: &str, percent: u32) -> bool {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in id.as_bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h % 100) < u64::from(percent)
}

/// What [`train_from_files`] read and did.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainReport {
    /// Rows read per file.
    pub files: Vec<(PathBuf, usize)>,
    /// Rows per class: negative, neutral, positive (2-class rows counted too).
    pub class_counts: [usize; 3],
    /// Of which 2-class rows.
    pub polar_rows: usize,
    pub stats: TrainStats,
    pub seconds: f64,
    /// Accuracy on the training rows themselves (a sanity check, not a measure).
    pub train_accuracy: f64,
}

impl std::fmt::Display for TrainReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (p, n) in &self.files {
            writeln!(f, "read {n} rows from {}", p.display())?;
        }
        writeln!(
            f,
            "rows: negative {}, neutral {}, positive {} ({} of them 2-class)",
            self.class_counts[0], self.class_counts[1], self.class_counts[2], self.polar_rows
        )?;
        write!(
            f,
            "trained in {:.1} s: {} iterations, loss {:.4}, training accuracy {:.4}",
            self.seconds, self.stats.iterations, self.stats.loss, self.train_accuracy
        )
    }
}

/// Reads every file, trains one model on all rows, and reports. What `yuqing train
/// tone --data A.tsv --data B.tsv -o FILE` runs.
pub fn train_from_files(paths: &[PathBuf], opts: &TrainOptions) -> Result<(ToneModel, TrainReport), TrainError> {
    let mut all = Vec::new();
    let mut files = Vec::new();
    for p in paths {
        let rows = read_tsv(p)?;
        files.push((p.clone(), rows.len()));
        all.extend(rows);
    }
    if all.is_empty() {
        return Err(TrainError::NoData);
    }
    let mut class_counts = [0usize; 3];
    for e in &all {
        class_counts[class_index(e.tone)] += 1;
    }
    let polar_rows = all.iter().filter(|e| e.polar).count();
    let start = Instant::now();
    let (model, stats) = ToneModel::train_with_stats(&all, opts);
    let seconds = start.elapsed().as_secs_f64();
    let train_accuracy = evaluate(&model, &all).accuracy;
    Ok((model, TrainReport { files, class_counts, polar_rows, stats, seconds, train_accuracy }))
}

/// Precision, recall and F1 of one class.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassReport {
    pub tone: Tone,
    pub support: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// Scores of a model on labelled rows.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalReport {
    pub rows: usize,
    pub accuracy: f64,
    /// Mean F1 over the classes that occur in the gold labels.
    pub macro_f1: f64,
    /// Negative, neutral, positive.
    pub classes: [ClassReport; 3],
    /// `confusion[gold][predicted]`, class order negative, neutral, positive.
    pub confusion: [[usize; 3]; 3],
}

impl EvalReport {
    pub fn class(&self, t: Tone) -> &ClassReport {
        &self.classes[class_index(t)]
    }
}

impl std::fmt::Display for EvalReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "rows {}, accuracy {:.4}, macro-F1 {:.4}", self.rows, self.accuracy, self.macro_f1)?;
        let mut s = String::new();
        for c in &self.classes {
            if c.support > 0 {
                let _ = writeln!(
                    s,
                    "  {:<8} support {:>5}  P {:.4}  R {:.4}  F1 {:.4}",
                    c.tone.id(),
                    c.support,
                    c.precision,
                    c.recall,
                    c.f1
                );
            }
        }
        write!(f, "{}", s.trim_end())
    }
}

/// Scores `model` on `rows`. A 2-class row is predicted by the sign of the tone score
/// (positive when above zero), as ChnSentiCorp is scored; a 3-class row by the
/// model's tone.
pub fn evaluate(model: &ToneModel, rows: &[Example]) -> EvalReport {
    let mut confusion = [[0usize; 3]; 3];
    for e in rows {
        let (tone, score) = model.predict(&e.title, &e.content);
        let predicted = if e.polar {
            if score > 0.0 {
                Tone::Positive
            } else {
                Tone::Negative
            }
        } else {
            tone
        };
        confusion[class_index(e.tone)][class_index(predicted)] += 1;
    }
    let n = rows.len();
    let correct: usize = (0..3).map(|i| confusion[i][i]).sum();
    let classes = CLASSES.map(|t| {
        let i = class_index(t);
        let support: usize = confusion[i].iter().sum();
        let predicted: usize = (0..3).map(|g| confusion[g][i]).sum();
        let tp = confusion[i][i] as f64;
        let precision = if predicted > 0 { tp / predicted as f64 } else { 0.0 };
        let recall = if support > 0 { tp / support as f64 } else { 0.0 };
        let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
        ClassReport { tone: t, support, precision, recall, f1 }
    });
    let present: Vec<f64> = classes.iter().filter(|c| c.support > 0).map(|c| c.f1).collect();
    let macro_f1 = if present.is_empty() { 0.0 } else { present.iter().sum::<f64>() / present.len() as f64 };
    EvalReport { rows: n, accuracy: if n > 0 { correct as f64 / n as f64 } else { 0.0 }, macro_f1, classes, confusion }
}
