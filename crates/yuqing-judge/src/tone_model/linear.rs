//! The trainer under the tone model, for any number of classes: a multinomial logistic
//! regression over sparse hashed features, fitted by full-batch L-BFGS ([`super::lbfgs`]),
//! with optional Naive-Bayes feature scaling (NB-LR, after Wang & Manning's NB-SVM).
//!
//! The tone model is its 3-class use. [`TextClassifier`] is the same trainer on any
//! label set: it measures the approach on multi-class topic data (THUCNews headlines,
//! `examples/thucnews_eval.rs`), as a proxy for key-content categories learned from
//! an office's labelled items.
//!
//! Deterministic like the tone model: no seed, single-threaded, fixed summation order.

use super::features::{Extractor, FeatureConfig, Features};
use super::lbfgs;

/// One training row: its features, class, weight and, for rows that only tell some
/// classes apart (2-class reviews in the 3-class tone model), the classes its softmax
/// runs over (bit `k` set: class `k` allowed; 0: all).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row {
    pub f: Features,
    pub y: usize,
    pub w: f32,
    pub allowed: u64,
}

/// Softmax of `z` over the allowed classes (`allowed == 0`: all), into `p`.
pub fn softmax_into(z: &[f32], allowed: u64, p: &mut [f32]) {
    let ok = |k: usize| allowed == 0 || allowed & (1 << k) != 0;
    let mut m = f32::NEG_INFINITY;
    for (k, &v) in z.iter().enumerate() {
        if ok(k) {
            m = m.max(v);
        }
    }
    let mut s = 0.0f32;
    for (k, (pk, &v)) in p.iter_mut().zip(z).enumerate() {
        *pk = if ok(k) { (v - m).exp() } else { 0.0 };
        s += *pk;
    }
    for pk in p.iter_mut() {
        *pk /= s;
    }
}

/// Naive-Bayes scale of each bucket: its largest absolute one-versus-rest log-count
/// ratio over the classes (weighted binary occurrence counts, smoothed by `alpha`),
/// at least `floor`. Multiplying a feature by it amounts to a weaker L2 penalty on
/// n-grams that tell the classes apart.
pub fn nb_scale(rows: &[Row], classes: usize, buckets: usize, alpha: f32, floor: f32) -> Vec<f32> {
    let mut cnt = vec![0.0f64; buckets * classes];
    let mut tot = vec![0.0f64; classes];
    for r in rows {
        for &b in &r.f.idx {
            cnt[b as usize * classes + r.y] += f64::from(r.w);
        }
        tot[r.y] += f64::from(r.w) * r.f.idx.len() as f64;
    }
    let a = f64::from(alpha);
    let all: f64 = tot.iter().sum();
    let mut s = vec![0.0f32; buckets];
    for (b, sb) in s.iter_mut().enumerate() {
        let c = &cnt[b * classes..(b + 1) * classes];
        let cs: f64 = c.iter().sum();
        let mut best = 0.0f64;
        for k in 0..classes {
            if tot[k] <= 0.0 {
                continue;
            }
            let p = (c[k] + a) / (tot[k] + a);
            let q = (cs - c[k] + a) / (all - tot[k] + a);
            best = best.max((p / q).ln().abs());
        }
        *sb = (best as f32).max(floor);
    }
    s
}

/// What the optimisation did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitStats {
    pub iterations: usize,
    pub evaluations: usize,
    pub loss: f64,
}

/// Fits weights (bucket-major: one bucket's `classes` weights together) and biases,
/// minimising the weighted mean log-loss plus `l2 / 2 · |w|²`.
pub fn fit(
    rows: &[Row],
    classes: usize,
    buckets: usize,
    l2: f32,
    max_iter: usize,
    tolerance: f64,
) -> (Vec<f32>, Vec<f32>, FitStats) {
    let k = classes;
    let total_w: f64 = rows.iter().map(|r| f64::from(r.w)).sum::<f64>().max(1e-12);
    let nw = buckets * k;
    let mut x = vec![0.0f32; nw + k];
    let l2 = f64::from(l2);
    let mut z = vec![0.0f32; k];
    let mut p = vec![0.0f32; k];
    let result = lbfgs::minimize(&mut x, max_iter, 10, tolerance, |x, g| {
        g.iter_mut().for_each(|v| *v = 0.0);
        let mut loss = 0.0f64;
        for r in rows {
            z.copy_from_slice(&x[nw..nw + k]);
            for (&b, &v) in r.f.idx.iter().zip(&r.f.val) {
                let o = b as usize * k;
                for (zc, &xc) in z.iter_mut().zip(&x[o..o + k]) {
                    *zc += xc * v;
                }
            }
            softmax_into(&z, r.allowed, &mut p);
            loss -= f64::from(r.w) * f64::from(p[r.y].max(1e-30)).ln();
            let scale = (f64::from(r.w) / total_w) as f32;
            for pc in p.iter_mut() {
                *pc *= scale;
            }
            p[r.y] -= scale;
            for (&b, &v) in r.f.idx.iter().zip(&r.f.val) {
                let o = b as usize * k;
                for (gc, &d) in g[o..o + k].iter_mut().zip(p.iter()) {
                    *gc += d * v;
                }
            }
            for (gc, &d) in g[nw..nw + k].iter_mut().zip(p.iter()) {
                *gc += d;
            }
        }
        loss /= total_w;
        let mut reg = 0.0f64;
        for (gj, xj) in g[..nw].iter_mut().zip(&x[..nw]) {
            reg += f64::from(*xj) * f64::from(*xj);
            *gj += (l2 as f32) * xj;
        }
        loss + 0.5 * l2 * reg
    });
    let bias = x[nw..].to_vec();
    x.truncate(nw);
    (x, bias, FitStats { iterations: result.iterations, evaluations: result.evaluations, loss: result.loss })
}

/// Options of [`TextClassifier::train`].
#[derive(Debug, Clone, PartialEq)]
pub struct ClassifierOptions {
    pub features: FeatureConfig,
    pub l2: f32,
    pub max_iter: usize,
    pub tolerance: f64,
    /// Naive-Bayes scaling smoothing; 0 turns it off.
    pub nb_alpha: f32,
    pub nb_floor: f32,
}

impl Default for ClassifierOptions {
    fn default() -> Self {
        ClassifierOptions {
            features: FeatureConfig::default(),
            l2: 1e-5,
            max_iter: 100,
            tolerance: 1e-6,
            nb_alpha: 1.0,
            nb_floor: 0.1,
        }
    }
}

/// The tone model's trainer on any label set (`0..classes`), kept in memory with
/// `f32` weights (it is a measuring tool; the tone model is what ships).
#[derive(Debug, Clone, PartialEq)]
pub struct TextClassifier {
    config: FeatureConfig,
    classes: usize,
    weights: Vec<f32>,
    bias: Vec<f32>,
}

impl TextClassifier {
    /// Trains on `(text, class)` pairs; classes are `0..classes`, and a pair whose
    /// class is out of range is skipped.
    pub fn train(examples: &[(String, usize)], classes: usize, opts: &ClassifierOptions) -> (TextClassifier, FitStats) {
        let cfg = opts.features;
        let buckets = 1usize << cfg.buckets_log2;
        let mut ex = Extractor::default();
        let mut rows: Vec<Row> = Vec::with_capacity(examples.len());
        for (text, y) in examples {
            if *y >= classes {
                continue;
            }
            let mut f = Features::default();
            ex.extract("", text, &cfg, &mut f);
            rows.push(Row { f, y: *y, w: 1.0, allowed: 0 });
        }
        let nb = (opts.nb_alpha > 0.0).then(|| nb_scale(&rows, classes, buckets, opts.nb_alpha, opts.nb_floor));
        if let Some(s) = &nb {
            for r in &mut rows {
                for (b, v) in r.f.idx.iter().zip(r.f.val.iter_mut()) {
                    *v *= s[*b as usize];
                }
            }
        }
        let (mut w, bias, stats) = fit(&rows, classes, buckets, opts.l2, opts.max_iter, opts.tolerance);
        if let Some(s) = &nb {
            for (b, sb) in s.iter().enumerate() {
                for c in 0..classes {
                    w[b * classes + c] *= sb;
                }
            }
        }
        (TextClassifier { config: cfg, classes, weights: w, bias }, stats)
    }

    /// The most probable class of `text` (the lowest index wins a tie).
    pub fn predict(&self, text: &str, ex: &mut Extractor, f: &mut Features) -> usize {
        ex.extract("", text, &self.config, f);
        let k = self.classes;
        let mut z = self.bias.clone();
        for (&b, &v) in f.idx.iter().zip(&f.val) {
            let o = b as usize * k;
            if let Some(w) = self.weights.get(o..o + k) {
                for (zc, &wc) in z.iter_mut().zip(w) {
                    *zc += wc * v;
                }
            }
        }
        let mut best = 0;
        for (c, &v) in z.iter().enumerate() {
            if v > z[best] {
                best = c;
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_respects_the_allowed_classes() {
        let mut p = [0.0f32; 3];
        softmax_into(&[1.0, 5.0, 1.0], 0b101, &mut p);
        assert_eq!(p[1], 0.0);
        assert!((p[0] - 0.5).abs() < 1e-6 && (p[2] - 0.5).abs() < 1e-6);
        let mut q = [0.0f32; 4];
        softmax_into(&[0.0, 0.0, 0.0, 0.0], 0, &mut q);
        assert!(q.iter().all(|v| (v - 0.25).abs() < 1e-6));
    }

    fn topics() -> Vec<(String, usize)> {
        let sports = ["足球联赛第三轮战罢", "篮球队主场大胜客队", "奥运会游泳比赛夺冠", "网球公开赛半决赛"];
        let money = ["股市大盘今日收涨", "央行下调存款准备金率", "基金净值普遍上涨", "银行理财收益走低"];
        let games = ["网络游戏新版本上线", "玩家期待游戏公测", "电子竞技战队夺冠", "手机游戏下载量破亿"];
        let mut out = Vec::new();
        for (c, list) in [sports, money, games].iter().enumerate() {
            for t in list {
                out.push((t.to_string(), c));
            }
        }
        out
    }

    fn small() -> ClassifierOptions {
        ClassifierOptions {
            features: FeatureConfig { buckets_log2: 14, ..FeatureConfig::default() },
            max_iter: 60,
            ..ClassifierOptions::default()
        }
    }

    #[test]
    fn learns_a_three_topic_set_and_generalises_a_little() {
        let (m, stats) = TextClassifier::train(&topics(), 3, &small());
        assert!(stats.iterations > 0);
        let (mut ex, mut f) = (Extractor::default(), Features::default());
        for (t, c) in topics() {
            assert_eq!(m.predict(&t, &mut ex, &mut f), c, "{t}");
        }
        // Unseen headlines sharing words with one class.
        assert_eq!(m.predict("足球比赛", &mut ex, &mut f), 0);
        assert_eq!(m.predict("股市收涨", &mut ex, &mut f), 1);
        assert_eq!(m.predict("游戏玩家", &mut ex, &mut f), 2);
    }

    #[test]
    fn training_is_deterministic_and_skips_bad_labels() {
        let mut data = topics();
        let (a, _) = TextClassifier::train(&data, 3, &small());
        data.push(("标签越界".to_string(), 7));
        let (b, _) = TextClassifier::train(&data, 3, &small());
        assert_eq!(a, b);
    }
}
