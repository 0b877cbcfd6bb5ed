//! `yuqing bench-fill`: fills a store with realistic synthetic items, for the scale
//! benchmarks of issue 7 (a million items). Every item goes through `Store::ingest`, the
//! call the pipeline makes, so the SimHash bands, raw pages, automatic cases and the
//! full text (tantivy on SQLite, the `tsvector` column on PostgreSQL) are written
//! exactly as in production; only fetching and extraction are skipped (their cost is
//! what `yuqing bench-ingest` measures).
//!
//! The items come from the event generator of `yuqing-judge` (`events::gen`: 32 seed
//! stories, each retold with other counties, towns, people and dates, with reposts on
//! sources of every tier, follow-ups a day or two later, headline rewrites, cut
//! endings and slips). Each story version then gets an opening and a closing paragraph
//! of its own, drawn from neutral, complaint and praise sentences with its own figures:
//! so that unrelated stories told from one seed are not near-duplicates of each other
//! (their reposts, which share the paragraphs, still are), and so that tones and levels
//! spread as in a real stream. A few reposts become search-engine results, the one tier
//! the generator does not use. Times are spread over `--days` days ending now.
//!
//! The generator runs on its own thread (with the judge, as the pipeline judges before
//! it stores), one chunk of stories at a time, so memory stays flat at any size.
//! `--concurrency` ingests run at once; on SQLite the store serialises them anyway (one
//! writer), on PostgreSQL they run in parallel as several collectors would.

use anyhow::{Context, Result};
use chrono::{DateTime, Duration as TimeDelta, FixedOffset, Utc};
use std::fmt::Write as _;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;
use yuqing_core::config::RuleConfig;
use yuqing_core::{Level, Tier};
use yuqing_judge::events::gen::{self, GenConfig, Lcg};
use yuqing_judge::RuleSet;
use yuqing_store::{IngestOutcome, NewItem, RawPage, Store};

/// What to fill.
#[derive(Debug, Clone)]
pub struct FillOptions {
    pub items: usize,
    pub seed: u64,
    /// The items' times span this many days, ending now.
    pub days: u32,
    /// Keep a synthetic raw page with each item (as collection does).
    pub raw: bool,
    pub concurrency: usize,
    /// Watch rule under which items are judged (every generated item should match).
    pub rule: String,
}

/// Stories are generated this many items at a time.
const CHUNK: usize = 20_000;

const NEUTRAL: &[&str] = &[
    "据了解，该项工作由{县}财政局牵头，{镇}等乡镇配合实施。",
    "{县}有关部门表示，将严格按照政策规定办理，做到公开透明。",
    "截至{月}月{日}日，全县已累计拨付资金{n}万元，惠及{m}户群众。",
    "下一步，{县}将进一步完善工作机制，加强资金监管，确保专款专用。",
    "相关政策文件已在{县}人民政府网站公开，群众可登录查询。",
    "记者从{县}{镇}了解到，目前各项工作正在有序推进。",
    "{县}财政局工作人员介绍，资金将通过“一卡通”直接发放到户。",
    "此前，{县}已召开专题会议，对相关工作作出部署。",
    "如有疑问，可拨打{县}政务服务热线咨询，工作日{h}时至17时有专人接听。",
    "{县}审计局将对资金使用情况开展跟踪审计，结果向社会公告。",
    "本次工作涉及{m}个行政村，预计{月}月底前全部完成。",
    "按照上级要求，{县}对申报材料进行了逐户审核和公示。",
];
const COMPLAINT: &[&str] = &[
    "有村民反映，相关款项迟迟没有到账，多次打电话询问均无人答复，大家意见很大。",
    "网友“{人}”在论坛发帖称，{镇}有关部门办事拖拉、推诿扯皮，群众跑了{k}趟还没办成。",
    "多名群众质疑，补贴发放名单不公开，有人不符合条件却领到了钱，希望有关部门彻查。",
    "据群众投诉，工地拖欠工资已有{k}个月，{m}多名工人生活陷入困难，讨薪无门。",
    "有家长表示，收费项目名目繁多且不透明，对此非常不满，已向上级部门反映。",
    "帖子发出后引发大量网友跟帖，不少人称遭遇过类似情况，批评有关部门不作为。",
    "有居民抱怨，问题反映了半年多仍没有解决，相关负责人态度冷漠。",
    "村民{民}说，申请材料交上去两个多月了，至今没有任何消息，去问也只说再等等。",
    "有网友指出，资金闲置、项目烂尾，造成了严重浪费，要求追究相关人员责任。",
];
const PRAISE: &[&str] = &[
    "不少群众表示，这项政策实实在在，真正把好事办到了老百姓心坎上。",
    "村民{民}高兴地说：“钱直接打到卡上，又快又方便，感谢党和政府！”",
    "网友纷纷点赞，认为{县}这一做法值得推广，为民办实事的效率很高。",
    "受益群众普遍反映满意，{县}群众满意度测评位列全市第一。",
    "{县}的经验做法得到上级部门肯定，并在全省推广。",
];

fn fill_names(s: &str, county: &str, town: &str, rng: &mut Lcg) -> String {
    let mut out = s.replace("{县}", county).replace("{镇}", town);
    for (key, lo, hi) in
        [("{月}", 1, 12), ("{日}", 1, 28), ("{n}", 50, 9000), ("{m}", 12, 3000), ("{k}", 2, 9), ("{h}", 8, 9)]
    {
        while out.contains(key) {
            let v = lo + rng.below(hi - lo + 1);
            out = out.replacen(key, &v.to_string(), 1);
        }
    }
    for key in ["{人}", "{民}"] {
        while out.contains(key) {
            let name: String = ["张", "王", "李", "刘", "陈", "杨", "黄", "赵"][rng.below(8) as usize].to_string()
                + ["某", "先生", "女士", "大爷", "阿姨"][rng.below(5) as usize];
            out = out.replacen(key, &name, 1);
        }
    }
    out
}

/// The opening and closing paragraphs of one story version: its mood and its figures.
fn version_paragraphs(key: u64, county: &str, town: &str) -> (String, String) {
    let mut rng = Lcg::new(key);
    let mood = rng.below(100);
    let pool_for = |rng: &mut Lcg| -> &'static [&'static str] {
        // 60 % of stories neutral, 25 % complaints, 15 % praise, the sentences mixed a little.
        let r = rng.below(100);
        match mood {
            0..=59 => {
                if r < 85 {
                    NEUTRAL
                } else {
                    COMPLAINT
                }
            }
            60..=84 => {
                if r < 70 {
                    COMPLAINT
                } else {
                    NEUTRAL
                }
            }
            _ => {
                if r < 70 {
                    PRAISE
                } else {
                    NEUTRAL
                }
            }
        }
    };
    let para = |rng: &mut Lcg, n: u64| {
        let mut p = String::new();
        for _ in 0..n {
            let pool = pool_for(rng);
            let s = *rng.pick(pool);
            p.push_str(&fill_names(s, county, town, rng));
        }
        p
    };
    let n_open = 2 + rng.below(2);
    let open = para(&mut rng, n_open);
    let n_close = 2 + rng.below(3);
    let close = para(&mut rng, n_close);
    (open, close)
}

/// The county and town a generated text is about (the generator's own names).
fn places(text: &str) -> (String, String) {
    let find = |suffix: char| -> String {
        let chars: Vec<char> = text.chars().collect();
        chars
            .windows(3)
            .find(|w| w[2] == suffix && !w[0].is_ascii() && !w[1].is_ascii())
            .map(|w| w.iter().collect())
            .unwrap_or_default()
    };
    (find('县'), find('镇'))
}

/// A raw page as a county or portal site would serve it: navigation, the article, a
/// footer, a little script. Real pages are larger (see docs/BENCHMARKS.md).
fn raw_page(title: &str, content: &str, source: &str, at: DateTime<FixedOffset>, id: u64) -> Vec<u8> {
    let mut h = String::with_capacity(content.len() * 2 + 6000);
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{title}_{source}</title>\
         <meta name=\"keywords\" content=\"{source},新闻,资讯\"><link rel=\"stylesheet\" href=\"/css/main.css\">\
         <script>var _hmt=_hmt||[];(function(){{var hm=document.createElement('script');hm.src='/js/stat.js?id={id}';\
         var s=document.getElementsByTagName('script')[0];s.parentNode.insertBefore(hm,s);}})();</script></head><body>\
         <div class=\"top\"><a href=\"/\">首页</a>"
    );
    for (i, nav) in ["要闻", "政务", "民生", "经济", "社会", "文化", "教育", "健康", "视频", "专题", "公告", "互动"]
        .iter()
        .enumerate()
    {
        let _ = write!(h, " | <a href=\"/{i}/index.html\">{nav}</a>");
    }
    let _ = write!(
        h,
        "</div><div class=\"crumb\">当前位置：<a href=\"/\">首页</a> &gt; <a href=\"/2/\">民生</a> &gt; 正文</div>\
         <div class=\"article\"><h1>{title}</h1><div class=\"info\">发布时间：{}　来源：{source}　\
         <span id=\"views\">浏览次数：{}</span>　字号：<a>大</a> <a>中</a> <a>小</a></div><div class=\"content\">",
        at.format("%Y-%m-%d %H:%M"),
        id % 9973
    );
    for p in content.split('\n') {
        let _ = write!(h, "<p style=\"text-indent:2em\">{p}</p>");
    }
    h.push_str("</div><div class=\"share\">分享到：<a>微信</a> <a>微博</a> <a>QQ空间</a></div></div><div class=\"related\"><h3>相关新闻</h3><ul>");
    for k in 1..=8u64 {
        let _ = write!(
            h,
            "<li><a href=\"/2/{}.html\">相关报道标题{}</a><span>{}</span></li>",
            id.wrapping_sub(k),
            k,
            at.format("%m-%d")
        );
    }
    let _ = write!(
        h,
        "</ul></div><div class=\"footer\">主办：{source}　承办：信息中心　联系电话：0797-{:07}<br>\
         版权所有 未经授权禁止复制或建立镜像　ICP备案号：赣ICP备{:08}号　公安机关备案号：{:014}<br>\
         <a href=\"/about.html\">关于我们</a> | <a href=\"/contact.html\">联系我们</a> | <a href=\"/map.html\">网站地图</a></div></body></html>",
        id % 10_000_000,
        id % 100_000_000,
        id
    );
    h.into_bytes()
}

/// A host name for a source (under `.invalid`, which never resolves).
fn host_of(source: &str) -> String {
    let mut x: u64 = 0xcbf2_9ce4_8422_2325;
    for b in source.bytes() {
        x = (x ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("s{:012x}.fill.invalid", x & 0xffff_ffff_ffff)
}

/// Generates the items of chunk `c` (judged, ready to store) and sends them on.
fn produce(opts: &FillOptions, rules: &RuleSet, tx: tokio::sync::mpsc::Sender<NewItem>) {
    let end = Utc::now() - TimeDelta::hours(1);
    let start = end - TimeDelta::days(i64::from(opts.days));
    let per_day = opts.items as f64 / f64::from(opts.days.max(1));
    let chunks = opts.items.div_ceil(CHUNK);
    // The generated sites publish in China Standard Time.
    let Some(tz) = FixedOffset::east_opt(8 * 3600) else { return };
    let mut sent = 0usize;
    for c in 0..chunks {
        let n = CHUNK.min(opts.items - sent);
        let chunk_start = start + TimeDelta::seconds((c as f64 * CHUNK as f64 / per_day * 86_400.0) as i64);
        let cfg = GenConfig {
            seed: opts.seed.wrapping_mul(1_000_003).wrapping_add(c as u64),
            items: n,
            items_per_day: per_day,
            // Seeds come back with other names every half hour: with the paragraphs of
            // their own (above), a retold story is another story, not a repost.
            min_seed_gap: TimeDelta::minutes(30),
            start: chunk_start,
            ..GenConfig::default()
        };
        let mut rng = Lcg::new(cfg.seed ^ 0x5eed);
        for g in gen::generate(&cfg) {
            let (county, town) = places(&format!("{}{}", g.title, g.content));
            let key = cfg.seed.wrapping_mul(0x9E37_79B9).wrapping_add(g.version);
            let (open, close) = version_paragraphs(key, &county, &town);
            let content = format!("{open}\n{}\n{close}", g.content);
            let (source, tier) = if g.kind != gen::Kind::Original && g.kind != gen::Kind::FollowUp && rng.chance(0.05) {
                (format!("搜索结果：{county}"), Tier::Search)
            } else {
                (g.source.clone(), g.tier)
            };
            let weight = tier.default_weight();
            let j = yuqing_judge::judge(&g.title, &content, tier, weight, rules);
            let published = g.at.with_timezone(&tz);
            // Collected a few minutes to an hour after publication, never in the future.
            let fetched_at = (g.at + TimeDelta::minutes(2 + rng.below(60) as i64)).min(Utc::now());
            let url = format!("http://{}/{}/{c}/{}.html", host_of(&source), opts.seed, g.id);
            let raw = opts.raw.then(|| RawPage {
                content_type: Some("text/html; charset=utf-8".into()),
                body: raw_page(&g.title, &content, &source, published, g.id),
            });
            let item = NewItem {
                source,
                tier,
                canonical_url: url.clone(),
                url,
                title: g.title,
                published_at: Some(published),
                fetched_at,
                content,
                encoding: "utf-8".into(),
                tone: j.tone,
                tone_score: j.tone_score,
                categories: j.categories,
                matched_rules: j.matched_rules,
                level: j.level,
                level_reason: j.level_reason,
                simhash: 0,
                raw,
                alert_channels: vec![],
            };
            // The pipeline's fingerprint rule: the body when there is enough of it.
            let simhash = yuqing_text::simhash::item_simhash(&item.title, &item.content);
            if tx.blocking_send(NewItem { simhash, ..item }).is_err() {
                return;
            }
            sent += 1;
        }
    }
}

#[derive(Default)]
struct Tally {
    new: AtomicU64,
    duplicate: AtomicU64,
    known: AtomicU64,
    major: AtomicU64,
    errors: AtomicU64,
}

pub async fn fill(store: Arc<Store>, opts: FillOptions) -> Result<ExitCode> {
    let rules = RuleSet::compile(&[RuleConfig {
        name: "本地".into(),
        query: opts.rule.clone(),
        category: None,
        enabled: true,
        priority: Default::default(),
    }])
    .map_err(|e| anyhow::anyhow!("the rule `{}` does not compile: {e:?}", opts.rule))?;
    let (tx, rx) = tokio::sync::mpsc::channel::<NewItem>(2_000);
    let gen_opts = opts.clone();
    let producer = std::thread::Builder::new()
        .name("fill-generator".into())
        .spawn(move || produce(&gen_opts, &rules, tx))
        .context("cannot start the generator thread")?;
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    let tally = Arc::new(Tally::default());
    let started = Instant::now();
    let done = Arc::new(AtomicU64::new(0));

    // Commit the search index once a second, as `serve` does.
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let flusher = {
        let store = store.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
            loop {
                tokio::select! {
                    _ = tick.tick() => {
                        if let Err(e) = store.flush().await {
                            tracing::error!(error = %e, "could not commit the search index");
                        }
                    }
                    _ = stop_rx.changed() => break,
                }
            }
        })
    };
    let reporter = {
        let done = done.clone();
        let total = opts.items as u64;
        let mut stop = stop_tx.subscribe();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(30));
            tick.tick().await;
            let (mut last_n, mut last_t) = (0u64, Instant::now());
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stop.changed() => break,
                }
                let n = done.load(Ordering::Relaxed);
                let rate = (n - last_n) as f64 / last_t.elapsed().as_secs_f64().max(1e-9);
                eprintln!(
                    "bench-fill: {n}/{total} items, {:.0} s, {rate:.0} items/s over the last 30 s",
                    started.elapsed().as_secs_f64()
                );
                (last_n, last_t) = (n, Instant::now());
            }
        })
    };

    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..opts.concurrency.max(1) {
        let (rx, store, tally, done) = (rx.clone(), store.clone(), tally.clone(), done.clone());
        workers.spawn(async move {
            loop {
                // The receiver's lock is held only while taking an item.
                let next = {
                    let mut rx = rx.lock().await;
                    rx.recv().await
                };
                let Some(item) = next else { break };
                let major = item.level == Level::MajorSensitive;
                match store.ingest(item).await {
                    Ok(IngestOutcome::New { .. }) => {
                        tally.new.fetch_add(1, Ordering::Relaxed);
                        if major {
                            tally.major.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Ok(IngestOutcome::Duplicate { .. }) => {
                        tally.duplicate.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(IngestOutcome::Known { .. }) => {
                        tally.known.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        if tally.errors.fetch_add(1, Ordering::Relaxed) < 5 {
                            tracing::error!(error = %e, "an item could not be stored");
                        }
                    }
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    while workers.join_next().await.is_some() {}
    let _ = stop_tx.send(true);
    let _ = flusher.await;
    let _ = reporter.await;
    store.flush().await?;
    if producer.join().is_err() {
        anyhow::bail!("the generator thread panicked");
    }
    let secs = started.elapsed().as_secs_f64();
    let n = done.load(Ordering::Relaxed);
    let counts = store.counts().await?;
    println!(
        "bench-fill: {n} items in {secs:.1} s ({:.0} items/s; backend {}, concurrency {}); new {}, duplicate {}, \
         already known {}, errors {}; major-sensitive first items {}; the store now holds {} items",
        n as f64 / secs.max(1e-9),
        store.backend().name(),
        opts.concurrency.max(1),
        tally.new.load(Ordering::Relaxed),
        tally.duplicate.load(Ordering::Relaxed),
        tally.known.load(Ordering::Relaxed),
        tally.errors.load(Ordering::Relaxed),
        tally.major.load(Ordering::Relaxed),
        counts.items,
    );
    Ok(if tally.errors.load(Ordering::Relaxed) > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_paragraphs_are_deterministic_and_filled() {
        let a = version_paragraphs(7, "安宁县", "和平镇");
        assert_eq!(a, version_paragraphs(7, "安宁县", "和平镇"));
        assert_ne!(a, version_paragraphs(8, "安宁县", "和平镇"));
        for p in [&a.0, &a.1] {
            assert!(!p.contains('{'), "{p}");
            assert!(p.chars().count() > 30, "{p}");
        }
    }

    #[test]
    fn places_finds_the_generated_names() {
        assert_eq!(places("安宁县和平镇发放补贴"), ("安宁县".to_string(), "和平镇".to_string()));
        assert_eq!(places("no names"), (String::new(), String::new()));
    }

    #[test]
    fn unrelated_retellings_are_not_near_duplicates() {
        // Two stories from one seed with other names and paragraphs must stay apart
        // under the store's SimHash rule, or the fill would be one giant repost group.
        let seeds = gen::seeds();
        let s = &seeds[0];
        let body = |county: &str, key: u64| {
            let (o, c) = version_paragraphs(key, county, "和平镇");
            format!("{o}\n{}\n{c}", s.body.replace("{县}", county).replace("{镇}", "和平镇"))
        };
        let (a, b) = (body("安宁县", 1), body("丰泰县", 2));
        let d = yuqing_text::simhash::hamming(yuqing_text::simhash::simhash(&a), yuqing_text::simhash::simhash(&b));
        assert!(d > yuqing_text::simhash::NEAR_DUPLICATE_BITS, "distance {d}");
    }

    #[test]
    fn raw_pages_hold_the_text() {
        let at = DateTime::parse_from_rfc3339("2026-01-02T10:00:00+08:00").unwrap_or_default();
        let page = String::from_utf8(raw_page("标题", "第一段\n第二段", "某县人民政府网", at, 42)).unwrap_or_default();
        assert!(page.contains("<h1>标题</h1>") && page.contains("第二段") && page.contains("2026-01-02 10:00"));
    }
}
