//! Spikes (突增): an hour whose count stands out against its key's trailing baseline.
//!
//! Per key (a rule name or a category), hourly counts are fed in order. An hour is
//! flagged when `count ≥ min_count` and `count > mean + k·σ` over the trailing
//! [`SpikeConfig::baseline_hours`] (missing hours count as zero), unless the key was
//! flagged less than [`SpikeConfig::cooldown_hours`] ago. The flagged hour then joins
//! the baseline like any other, so a new, higher level stops being news after a while.
//! σ is never taken below √mean (counts are at least as noisy as Poisson), so a
//! quiet, regular week does not make every small wobble a spike.
//!
//! Sums are kept in integers, so the result does not depend on the order of float
//! additions, and the memory per key is one ring of `baseline_hours` counts.

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Utc};
use serde::Serialize;

/// Spike detection settings.
#[derive(Debug, Clone, PartialEq)]
pub struct SpikeConfig {
    /// Trailing hours in the baseline (7 days).
    pub baseline_hours: usize,
    /// Standard deviations above the mean.
    pub k: f64,
    /// An hour below this count is never a spike.
    pub min_count: u32,
    /// No new flag for a key within this many hours of its last one.
    pub cooldown_hours: i64,
    /// Hours of history a key needs before it can be flagged: with less, σ means little.
    pub min_history_hours: usize,
}

impl Default for SpikeConfig {
    fn default() -> Self {
        SpikeConfig { baseline_hours: 24 * 7, k: 3.0, min_count: 5, cooldown_hours: 6, min_history_hours: 24 }
    }
}

/// A flagged hour.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spike {
    pub key: String,
    pub hour: DateTime<Utc>,
    pub count: u32,
    /// Baseline mean and standard deviation per hour.
    pub mean: f64,
    pub std_dev: f64,
    /// The count the hour had to reach.
    pub threshold: f64,
}

/// The trailing baseline of one hour: what [`SpikeDetector`] compares an hour with, and
/// what a store that keeps hourly counts (and checks hours without keeping a detector in
/// memory, from several processes at once) computes with [`Baseline::of_counts`]. The
/// cool-down is the caller's: the detector keeps it per key, the store in the database.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Baseline {
    pub mean: f64,
    /// Never below √mean (see the module comment).
    pub std_dev: f64,
    /// The count an hour must reach: `max(min_count, mean + k·σ)`.
    pub threshold: f64,
    /// Hours the baseline covers (a key's first hours have fewer).
    pub hours: usize,
}

impl Baseline {
    fn of_sums(n: usize, sum: u64, sum_sq: u64, cfg: &SpikeConfig) -> Baseline {
        let (mean, std_dev) = if n == 0 {
            (0.0, 0.0)
        } else {
            let mean = sum as f64 / n as f64;
            let var = (sum_sq as f64 / n as f64 - mean * mean).max(0.0);
            // Counts are at least as noisy as Poisson: a few quiet days must not make
            // σ so small that any wobble is a spike.
            (mean, var.sqrt().max(mean.sqrt()))
        };
        let threshold = f64::from(cfg.min_count).max(mean + cfg.k * std_dev);
        Baseline { mean, std_dev, threshold, hours: n }
    }

    /// The baseline over the counts of the hours before the one checked, oldest first,
    /// missing hours given as zeros; only the last `cfg.baseline_hours` are used.
    pub fn of_counts(counts: &[u32], cfg: &SpikeConfig) -> Baseline {
        let start = counts.len().saturating_sub(cfg.baseline_hours.max(1));
        let window = &counts[start..];
        let sum = window.iter().map(|&c| u64::from(c)).sum();
        let sum_sq = window.iter().map(|&c| u64::from(c) * u64::from(c)).sum();
        Baseline::of_sums(window.len(), sum, sum_sq, cfg)
    }

    /// Whether `count` stands out: at least `min_count` and strictly above mean + kσ (on
    /// a flat series, σ = 0, the usual count is no spike). History and cool-down are the
    /// caller's to check.
    pub fn is_spike(&self, count: u32, cfg: &SpikeConfig) -> bool {
        count >= cfg.min_count && f64::from(count) > self.mean + cfg.k * self.std_dev
    }
}

#[derive(Debug, Clone, Default)]
struct Series {
    counts: VecDeque<u32>,
    sum: u64,
    sum_sq: u64,
    last_hour: Option<i64>,
    last_flag: Option<i64>,
}

impl Series {
    fn push(&mut self, count: u32, cap: usize) {
        self.counts.push_back(count);
        self.sum += u64::from(count);
        self.sum_sq += u64::from(count) * u64::from(count);
        while self.counts.len() > cap.max(1) {
            if let Some(old) = self.counts.pop_front() {
                self.sum -= u64::from(old);
                self.sum_sq -= u64::from(old) * u64::from(old);
            }
        }
    }
}

/// Per-key spike detection over hourly counts. Pure: the caller says which hour it is.
#[derive(Debug, Clone, Default)]
pub struct SpikeDetector {
    cfg: SpikeConfig,
    keys: HashMap<String, Series>,
}

impl SpikeDetector {
    pub fn new(cfg: SpikeConfig) -> SpikeDetector {
        SpikeDetector { cfg, keys: HashMap::new() }
    }

    /// Feeds the count of `key` for the hour starting at `hour` (truncated to the hour).
    /// Hours must come in increasing order per key; an hour at or before the key's last
    /// one is ignored. Returns the spike if this hour is one.
    pub fn observe(&mut self, key: &str, hour: DateTime<Utc>, count: u32) -> Option<Spike> {
        let cfg = &self.cfg;
        let h = hour.timestamp().div_euclid(3600);
        let s = self.keys.entry(key.to_string()).or_default();
        if let Some(last) = s.last_hour {
            if h <= last {
                return None;
            }
            // Hours nobody reported count as zero (at most a full baseline of them).
            let gap = usize::try_from(h - last - 1).unwrap_or(usize::MAX).min(cfg.baseline_hours);
            for _ in 0..gap {
                s.push(0, cfg.baseline_hours);
            }
        }
        let n = s.counts.len();
        let b = Baseline::of_sums(n, s.sum, s.sum_sq, cfg);
        let cooled = s.last_flag.is_none_or(|f| h - f >= cfg.cooldown_hours);
        let spike = n >= cfg.min_history_hours && b.is_spike(count, cfg) && cooled;
        let (mean, std_dev, threshold) = (b.mean, b.std_dev, b.threshold);
        s.push(count, cfg.baseline_hours);
        s.last_hour = Some(h);
        if spike {
            s.last_flag = Some(h);
            Some(Spike {
                key: key.to_string(),
                hour: DateTime::from_timestamp(h * 3600, 0).unwrap_or_default(),
                count,
                mean,
                std_dev,
                threshold,
            })
        } else {
            None
        }
    }

    /// Keys being followed.
    pub fn keys(&self) -> usize {
        self.keys.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::gen::Lcg;

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 / 3600 * 3600, 0).unwrap_or_default()
    }

    fn run(series: &[u32], cfg: SpikeConfig) -> Vec<usize> {
        let mut d = SpikeDetector::new(cfg);
        series
            .iter()
            .enumerate()
            .filter_map(|(i, &c)| d.observe("rule", t0() + chrono::TimeDelta::hours(i as i64), c).map(|s| (i, s)))
            .map(|(i, _)| i)
            .collect()
    }

    #[test]
    fn flat_series_never_spikes() {
        assert!(run(&[3; 24 * 14], SpikeConfig::default()).is_empty());
        assert!(run(&[40; 24 * 14], SpikeConfig::default()).is_empty());
    }

    #[test]
    fn a_real_spike_is_flagged() {
        let mut s = vec![2u32; 24 * 8];
        s[24 * 7 + 5] = 30;
        assert_eq!(run(&s, SpikeConfig::default()), vec![24 * 7 + 5]);
    }

    #[test]
    fn below_min_count_is_not_a_spike() {
        // From 0 to 3 is many σ, but three items is not a surge.
        let mut s = vec![0u32; 24 * 8];
        s[24 * 7] = 3;
        assert!(run(&s, SpikeConfig::default()).is_empty());
    }

    #[test]
    fn slow_rise_is_not_a_spike() {
        let mut rng = Lcg::new(7);
        // From 5 to 40 an hour over two weeks, with ±2 noise.
        let s: Vec<u32> = (0..24 * 14).map(|i| (5 + i / 10) as u32 + rng.below(5) as u32).collect();
        assert!(run(&s, SpikeConfig::default()).is_empty());
    }

    #[test]
    fn noisy_series_flags_only_the_surge() {
        let mut rng = Lcg::new(11);
        let mut s: Vec<u32> = (0..24 * 10).map(|_| 5 + rng.below(7) as u32).collect();
        s[24 * 9] = 40;
        assert_eq!(run(&s, SpikeConfig::default()), vec![24 * 9]);
    }

    #[test]
    fn cool_down_suppresses_repeated_flags() {
        let mut s = vec![1u32; 24 * 8];
        for c in &mut s[24 * 7..24 * 7 + 4] {
            *c = 50;
        }
        s[24 * 7 + 10] = 200;
        let cfg = SpikeConfig::default();
        // The first hour is flagged, the next three are within the cool-down, and a
        // bigger surge after it is flagged again.
        assert_eq!(run(&s, cfg.clone()), vec![24 * 7, 24 * 7 + 10]);
        assert_eq!(
            run(&s, SpikeConfig { cooldown_hours: 1, ..cfg }),
            vec![24 * 7, 24 * 7 + 1, 24 * 7 + 2, 24 * 7 + 3, 24 * 7 + 10]
        );
    }

    #[test]
    fn a_zero_baseline_flags_at_min_count_and_not_below() {
        let cfg = SpikeConfig::default();
        let zeros = vec![0u32; 24 * 7];
        let b = Baseline::of_counts(&zeros, &cfg);
        assert_eq!((b.mean, b.std_dev, b.hours), (0.0, 0.0, 24 * 7));
        assert_eq!(b.threshold, f64::from(cfg.min_count));
        assert!(!b.is_spike(cfg.min_count - 1, &cfg));
        assert!(b.is_spike(cfg.min_count, &cfg));
        // No history at all is a zero baseline too; the minimum history is the caller's.
        assert_eq!(Baseline::of_counts(&[], &cfg).hours, 0);
    }

    #[test]
    fn the_baseline_uses_only_the_trailing_window() {
        let cfg = SpikeConfig { baseline_hours: 3, ..SpikeConfig::default() };
        // A busy past beyond the window does not count.
        let b = Baseline::of_counts(&[100, 100, 2, 2, 2], &cfg);
        assert_eq!(b.hours, 3);
        assert_eq!(b.mean, 2.0);
        // σ is floored at √mean on a flat window.
        assert!((b.std_dev - 2f64.sqrt()).abs() < 1e-12);
        assert!((b.threshold - (2.0 + 3.0 * 2f64.sqrt())).abs() < 1e-12);
    }

    #[test]
    fn a_partial_hour_is_judged_by_its_count_so_far() {
        // The store checks the hour still filling with the same baseline: it is flagged
        // only once its count so far is above the threshold, and the full hour later
        // gets the same verdict or a larger count.
        let cfg = SpikeConfig::default();
        let b = Baseline::of_counts(&vec![2u32; 24 * 7], &cfg);
        let first = (0..200).find(|&c| b.is_spike(c, &cfg)).expect("some count is a spike");
        assert!(f64::from(first) > b.threshold && f64::from(first - 1) <= b.threshold);
        assert!((first..200).all(|c| b.is_spike(c, &cfg)), "more items never undo a spike");
    }

    #[test]
    fn the_detector_and_the_baseline_agree() {
        let mut rng = Lcg::new(3);
        let s: Vec<u32> = (0..24 * 9).map(|i| if i == 24 * 8 + 2 { 60 } else { 3 + rng.below(4) as u32 }).collect();
        let cfg = SpikeConfig::default();
        let by_detector = run(&s, cfg.clone());
        let stateless: Vec<usize> = (cfg.min_history_hours..s.len())
            .filter(|&i| Baseline::of_counts(&s[..i], &cfg).is_spike(s[i], &cfg))
            .collect();
        assert_eq!(by_detector, stateless);
        assert_eq!(by_detector, vec![24 * 8 + 2]);
    }

    #[test]
    fn keys_are_independent_and_gaps_count_as_zero() {
        let mut d = SpikeDetector::new(SpikeConfig::default());
        let t = t0();
        for i in 0..48 {
            assert!(d.observe("a", t + chrono::TimeDelta::hours(i), 1).is_none());
        }
        // Key b reports once, then a day later: the silent hours are zeros.
        assert!(d.observe("b", t, 0).is_none());
        let s = d.observe("b", t + chrono::TimeDelta::hours(30), 8);
        assert!(s.as_ref().is_some_and(|s| s.mean == 0.0 && s.count == 8), "{s:?}");
        // An hour fed twice is ignored.
        assert!(d.observe("b", t + chrono::TimeDelta::hours(30), 100).is_none());
        assert_eq!(d.keys(), 2);
    }
}
