//! Measures event grouping on generated data (`yuqing_judge::events::gen`).
//!
//! ```text
//! cargo run --release -p yuqing-judge --example events_eval [-- --items 20000,100000,1000000] [--rate 300]
//! ```
//!
//! `--one-segmentation` computes key terms and fingerprints as the store's ingest does:
//! from one segmentation of the whole text (`ItemWords`), the key terms from its words
//! within the first `content_chars` characters; without it, the first characters are
//! segmented apart, as `term_frequencies` does.
//!
//! For each size: generates the items (seeded, so every run is the same), computes
//! fingerprints and key terms (timed apart: that is jieba's cost, not grouping's), runs
//! the grouper, and reports pairwise precision and recall over all pairs of items:
//! - overall: same story vs same event;
//! - reposts: one article and its reposts (a "version") vs the near-duplicate groups
//!   the grouper formed (items linked by `Repost` within one event);
//! - follow-ups: pairs of the same story in different versions (recall), and pairs put
//!   in one event across near-duplicate groups (precision).
//!
//! The rate of items per day is fixed, so stories alive at once do not grow with the
//! size: what grows is history, which the grouper must not pay for.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::Instant;

use chrono::TimeDelta;
use yuqing_judge::events::gen::{generate, GenConfig, GenItem};
use yuqing_judge::events::terms::term_frequencies_of;
use yuqing_judge::events::{EventGrouper, GrouperConfig, ItemSig, KeyTerms, Reason, TermConfig};
use yuqing_text::segment::ItemWords;
use yuqing_text::simhash::{simhash, simhash_of_words};

fn pairs(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

/// Σ C(n, 2) over the groups of `key`.
fn same<K: Hash + Eq>(n: usize, key: impl Fn(usize) -> K) -> u64 {
    let mut m: HashMap<K, u64> = HashMap::new();
    for i in 0..n {
        *m.entry(key(i)).or_insert(0) += 1;
    }
    m.values().map(|&c| pairs(c)).sum()
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        1.0
    } else {
        a as f64 / b as f64
    }
}

fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

struct Row {
    items: usize,
    stories: usize,
    days: f64,
    extract_us: f64,
    group_us: f64,
    overall: (f64, f64),
    reposts: (f64, f64),
    follow: (f64, f64),
    active_max: usize,
    recent_max: usize,
}

fn measure(n: usize, gen: &GenConfig, cfg: &GrouperConfig, tcfg: &TermConfig, once: bool) -> Row {
    let items: Vec<GenItem> = generate(&GenConfig { items: n, ..gen.clone() });
    let days = items.last().map_or(0.0, |l| (l.at - items[0].at).num_minutes() as f64 / 1440.0);
    let t = Instant::now();
    let mut terms = KeyTerms::new(tcfg.clone());
    let mut truth: Vec<(u64, u64)> = Vec::with_capacity(n);
    let mut sigs: Vec<ItemSig> = Vec::with_capacity(n);
    for i in items {
        let text = format!("{}\n{}", i.title, i.content);
        let (sg, fp) = if once {
            let words = ItemWords::new(&i.title, &i.content);
            let sg = terms.signature_of(term_frequencies_of(tcfg, &words, &i.title, &i.content));
            let all = words.title(&i.title).chain(words.content(&i.content).map(|(_, w)| w));
            (sg, (text.chars().count() >= 40).then(|| simhash_of_words(all)))
        } else {
            (terms.signature(&i.title, &i.content), (text.chars().count() >= 40).then(|| simhash(&text)))
        };
        sigs.push(ItemSig {
            id: i.id,
            simhash: fp,
            terms: sg.terms,
            anchors: sg.anchors,
            at: i.at,
            source: i.source,
            tier: i.tier,
        });
        truth.push((i.story, i.version));
    }
    let extract_us = t.elapsed().as_secs_f64() * 1e6 / n as f64;

    let mut g = EventGrouper::new(cfg.clone());
    let mut event = Vec::with_capacity(n);
    let mut reasons = Vec::with_capacity(n);
    let (mut active_max, mut recent_max) = (0, 0);
    let t = Instant::now();
    for (k, s) in sigs.iter().enumerate() {
        let a = g.assign(s);
        event.push(a.event_id);
        reasons.push(a.reason);
        if k % 64 == 0 {
            active_max = active_max.max(g.active_events());
            recent_max = recent_max.max(g.recent_items());
        }
    }
    let group_us = t.elapsed().as_secs_f64() * 1e6 / n as f64;

    // Near-duplicate groups: items linked by Repost edges (ids are 1-based positions).
    let mut parent: Vec<usize> = (0..n).collect();
    for (k, r) in reasons.iter().enumerate() {
        if let Reason::Repost { of } = r {
            let (a, b) = (find(&mut parent, k), find(&mut parent, *of as usize - 1));
            parent[a] = b;
        }
    }
    let dup: Vec<usize> = (0..n).map(|k| find(&mut parent, k)).collect();

    let story = |i: usize| truth[i].0;
    let version = |i: usize| truth[i].1;
    let s_pairs = same(n, story);
    let e_pairs = same(n, |i| event[i]);
    let se = same(n, |i| (story(i), event[i]));
    let v_pairs = same(n, version);
    let d_pairs = same(n, |i| (event[i], dup[i]));
    let vd = same(n, |i| (version(i), event[i], dup[i]));
    let ve = same(n, |i| (version(i), event[i]));
    let sed = same(n, |i| (story(i), event[i], dup[i]));
    // Follow-up pairs: same story, different version; grouped when in one event.
    let follow_truth = s_pairs - v_pairs;
    let follow_hit = se - ve;
    // Pairs the grouper joined across near-duplicate groups, and how many are right.
    let follow_pred = e_pairs - d_pairs;
    let follow_right = se - sed;
    Row {
        items: n,
        days,
        stories: truth.iter().map(|t| t.0).max().map_or(0, |m| m as usize + 1),
        extract_us,
        group_us,
        overall: (ratio(se, e_pairs), ratio(se, s_pairs)),
        reposts: (ratio(vd, d_pairs), ratio(vd, v_pairs)),
        follow: (ratio(follow_right, follow_pred), ratio(follow_hit, follow_truth)),
        active_max,
        recent_max,
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut sizes = vec![20_000usize, 100_000, 1_000_000];
    let mut gen = GenConfig::default();
    let mut cfg = GrouperConfig::default();
    let mut tcfg = TermConfig::default();
    let mut all = true;
    let mut once = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--items" => sizes = val()?.split(',').map(str::parse).collect::<Result<_, _>>()?,
            "--mixed-only" => all = false,
            "--one-segmentation" => once = true,
            "--rate" => gen.items_per_day = val()?.parse()?,
            "--seed-gap-days" => gen.min_seed_gap = TimeDelta::days(val()?.parse()?),
            "--threshold" => cfg.follow_up_threshold = val()?.parse()?,
            "--repost-sim" => cfg.repost_min_similarity = val()?.parse()?,
            "--shared-anchors" => cfg.shared_anchors = val()?.parse()?,
            "--centroid" => cfg.centroid_terms = val()?.parse()?,
            "--anchors" => tcfg.anchors = val()?.parse()?,
            "--top-k" => tcfg.top_k = val()?.parse()?,
            other => return Err(format!("unknown argument `{other}`").into()),
        }
    }
    println!(
        "grouper: window {} h, follow-up cosine >= {}, repost cosine >= {}, {} shared anchor(s); key terms: {} per item, {} anchors",
        cfg.window.num_hours(),
        cfg.follow_up_threshold,
        cfg.repost_min_similarity,
        cfg.shared_anchors,
        tcfg.top_k,
        tcfg.anchors,
    );
    println!(
        "generator: seed 1, up to {} items/day, a seed reused after {} days, up to {} reposts, follow-up chance {}\n",
        gen.items_per_day,
        gen.min_seed_gap.num_days(),
        gen.max_reposts,
        gen.follow_up_chance
    );
    println!("| data | items | stories | items/day | pairwise P | pairwise R | extract µs/item | group µs/item | max active events | max recent items |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut runs: Vec<(&str, usize, GenConfig)> = Vec::new();
    if all {
        runs.push(("reposts only", 20_000, GenConfig { follow_up_chance: 0.0, ..gen.clone() }));
        runs.push(("follow-ups only", 20_000, GenConfig { max_reposts: 0, follow_up_chance: 1.0, ..gen.clone() }));
    }
    for &n in &sizes {
        runs.push(("mixed", n, gen.clone()));
    }
    if all {
        let dense = GenConfig { min_seed_gap: TimeDelta::zero(), items_per_day: 300.0, ..gen.clone() };
        runs.push(("dense: one seed reused at once", 100_000, dense));
    }
    for (name, n, g) in runs {
        let r = measure(n, &g, &cfg, &tcfg, once);
        println!(
            "| {name} | {} | {} | {:.0} | {:.3} | {:.3} | {:.0} | {:.1} | {} | {} |",
            r.items,
            r.stories,
            r.items as f64 / r.days.max(1.0),
            r.overall.0,
            r.overall.1,
            r.extract_us,
            r.group_us,
            r.active_max,
            r.recent_max
        );
        eprintln!(
            "  {name} {n}: near-duplicate groups vs versions P {:.3} R {:.3}; cross-version pairs P {:.3} R {:.3}",
            r.reposts.0, r.reposts.1, r.follow.0, r.follow.1
        );
    }
    Ok(())
}
