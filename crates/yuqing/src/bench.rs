//! `yuqing bench-ingest`: the pipeline's own throughput, without the network. Pages are
//! read into memory first; the clock covers decoding, extraction, judgement, the
//! database transaction and indexing. Decoding, extraction, judgement and the store's
//! preparation (raw page compression, key terms) run on one blocking thread per core,
//! as the collector's concurrent fetches do; up to a transaction's worth of pages wait
//! for the store at once, which writes those waiting together (group commit).

use crate::pipeline::{Pipeline, PreparedPage};
use anyhow::{Context, Result};
use chrono::Utc;
use futures_util::StreamExt;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;
use yuqing_collect::{canonical_url, Accepted, CollectedPage};
use yuqing_core::config::{Config, SourceConfig};
use yuqing_core::{SourceKind, Tier};
use yuqing_store::Store;

pub async fn ingest(config: &Config, store: Arc<Store>, files: &[PathBuf], rounds: usize) -> Result<ExitCode> {
    let mut pages = Vec::with_capacity(files.len());
    for f in files {
        let raw = std::fs::read(f).with_context(|| format!("cannot read {}", f.display()))?;
        let body = if f.extension().is_some_and(|e| e == "gz") {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&raw[..])
                .read_to_end(&mut out)
                .with_context(|| format!("{} is not valid gzip", f.display()))?;
            out
        } else {
            raw
        };
        pages.push((f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(), body));
    }
    let bytes: usize = pages.iter().map(|p| p.1.len()).sum::<usize>() * rounds;
    let source = SourceConfig {
        name: "bench".into(),
        kind: SourceKind::Page,
        url: url::Url::parse("http://bench.invalid/")?,
        tier: Tier::Other,
        interval: std::time::Duration::from_secs(3600),
        weight: 0.5,
        enabled: true,
        selector: None,
        pattern: None,
        max_articles: None,
    };
    let mut config = config.clone();
    config.sources = vec![source];
    store.sync_sources(&config.sources).await?;
    let pipeline = Arc::new(Pipeline::new(store.clone(), &config, Arc::new(yuqing_web::Metrics::default()))?);
    let run = Utc::now().timestamp_millis();
    // What `serve` loads once at start, loaded before the clock: the segmentation
    // dictionary, the tone model, the date patterns (one small page judged and prepared,
    // not stored).
    {
        let url = url::Url::parse("http://bench.invalid/warm-up")?;
        let html = "<html><head><title>县财政局发放补贴</title></head><body><article><p>2026年11月21日，县财政局发放耕地地力保护补贴，群众反映到账及时。</p></article></body></html>";
        if let Some(page) = collected(url, html.as_bytes().to_vec(), config.org.timezone) {
            let _ = pipeline.prepare_page(page);
        }
    }
    let started = Instant::now();
    let (mut new, mut dup, mut irrelevant, mut errors) = (0, 0, 0, 0);
    // As in collection: pages are decoded, extracted, judged and prepared on the
    // blocking pool (one thread per core here); the store writes them (below). The
    // channel is bounded so extraction never runs far ahead of the store.
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
    let (tx, rx) = tokio::sync::mpsc::channel::<Option<Result<PreparedPage, String>>>(workers * 2);
    let count = pages.len();
    let pages = Arc::new(pages);
    let next_page = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let tz = config.org.timezone;
    let mut handles = Vec::new();
    for _ in 0..workers {
        let (tx, pages, next_page, pipeline) = (tx.clone(), pages.clone(), next_page.clone(), pipeline.clone());
        handles.push(tokio::task::spawn_blocking(move || loop {
            let i = next_page.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if i >= count * rounds {
                break;
            }
            let (round, (name, body)) = (i / count, &pages[i % count]);
            let Ok(url) = url::Url::parse(&format!("http://bench.invalid/{run}/{round}/{i}/{name}")) else { continue };
            let page = collected(url, body.clone(), tz);
            let prepared = page.map(|p| pipeline.prepare_page(p));
            if tx.blocking_send(prepared).is_err() {
                break;
            }
        }));
    }
    drop(tx);
    // The pipeline's capacity: up to one full transaction's worth of pages wait for the
    // store at once, and the store writes those waiting together (group commit,
    // `Store::ingest_prepared`). In collection, as many wait as fetches run at once.
    let waiting = yuqing_store::MAX_INGEST_BATCH;
    let pages = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|p| (p, rx)) });
    let mut stored = std::pin::pin!(pages
        .map(|prepared| {
            let pipeline = pipeline.clone();
            async move {
                match prepared {
                    Some(Ok(p)) => pipeline.store_prepared(p).await,
                    Some(Err(e)) => Err(e),
                    None => Err("not extracted".to_string()),
                }
            }
        })
        .buffer_unordered(waiting));
    while let Some(result) = stored.next().await {
        match result {
            Ok(Accepted::New) => new += 1,
            Ok(Accepted::Duplicate) => dup += 1,
            Ok(Accepted::Irrelevant) => irrelevant += 1,
            Err(_) => errors += 1,
        }
    }
    for h in handles {
        let _ = h.await;
    }
    store.flush().await?;
    let secs = started.elapsed().as_secs_f64();
    let n = new + dup + irrelevant + errors;
    println!(
        "pages: {n} ({:.1} MB), new: {new}, duplicate: {dup}, irrelevant: {irrelevant}, errors: {errors}; {secs:.2} s, {:.1} pages/s",
        bytes as f64 / 1e6,
        n as f64 / secs.max(1e-9)
    );
    Ok(ExitCode::SUCCESS)
}

/// A page as the collector hands it on: extracted, from the source `bench`; `None` when
/// extraction fails.
fn collected(url: url::Url, body: Vec<u8>, tz: chrono_tz::Tz) -> Option<CollectedPage> {
    let opts = yuqing_extract::ExtractOptions { tz, now: Utc::now(), url: Some(url.clone()) };
    let article = yuqing_extract::extract(&body, None, &opts).ok()?;
    Some(CollectedPage {
        source: "bench".into(),
        canonical_url: canonical_url(&url),
        url: url.clone(),
        final_url: url,
        fetched_at: Utc::now(),
        content_type: Some("text/html".into()),
        raw: body,
        article,
        feed_title: None,
        feed_published: None,
    })
}
