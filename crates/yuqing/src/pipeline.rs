//! The pipeline's store side: what happens to a collected page. It is judged against
//! the watch rules; a relevant page becomes an item (with its near-duplicate link and
//! raw page), an irrelevant one leaves only its URL's fingerprint behind.

use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use yuqing_collect::{url_fingerprint, Accepted, CollectedPage, LeaseAnswer, Sink, Validators};
use yuqing_core::config::{Config, SourceConfig};
use yuqing_extract::PageKind;
use yuqing_judge::Judge;
use yuqing_store::{IngestOutcome, NewItem, PreparedItem, RawPage, Store};
use yuqing_web::Metrics;

/// A page judged and prepared, ready for its transaction ([`Pipeline::prepare_page`]).
pub enum PreparedPage {
    /// Not an item: only the URL's fingerprint is remembered.
    Irrelevant {
        fingerprint: String,
        at: DateTime<Utc>,
    },
    Item(Box<PreparedItem>),
}

pub struct Pipeline {
    pub store: Arc<Store>,
    /// The configured rules, category sets and level table, compiled once.
    pub judge: Judge,
    pub sources: HashMap<String, SourceConfig>,
    pub metrics: Arc<Metrics>,
    pub routes: Vec<yuqing_core::config::RouteConfig>,
}

impl Pipeline {
    pub fn new(store: Arc<Store>, config: &Config, metrics: Arc<Metrics>) -> anyhow::Result<Pipeline> {
        let judge = Judge::load(config).map_err(|problems| {
            anyhow::anyhow!("the watch rules, category sets or tone model do not load: {}", problems.join("; "))
        })?;
        // Spread raises levels in the store's ingest transaction: by the same table.
        store.set_level_table(judge.level_table().clone(), judge.rule_priorities());
        let sources = config.sources.iter().map(|s| (s.name.clone(), s.clone())).collect();
        Ok(Pipeline { store, judge, sources, metrics, routes: config.alerts.routes.clone() })
    }

    /// Judges and stores one page; the heart of ingest. The CPU work (judgement, SimHash,
    /// compression, key terms: a few milliseconds for a large page) runs where blocking
    /// is allowed, so that the web server's tasks on the same runtime are not held up;
    /// the transaction is shared with other pages waiting at the same time (group commit).
    pub async fn ingest_page(&self, page: CollectedPage) -> Result<Accepted, String> {
        let prepared = yuqing_store::blocking(|| self.prepare_page(page))?;
        self.store_prepared(prepared).await
    }

    /// The CPU work of [`Pipeline::ingest_page`], with no database: judgement, SimHash,
    /// alert routes, and the store's own preparation (raw page compressed, key terms).
    /// Runs on any thread, many at once.
    pub fn prepare_page(&self, page: CollectedPage) -> Result<PreparedPage, String> {
        let (tier, weight) = match self.sources.get(&page.source) {
            Some(s) => (s.tier, s.weight),
            None => return Err(format!("page from unknown source `{}`", page.source)),
        };
        let fingerprint = url_fingerprint(&page.canonical_url);
        let article = page.article;
        let title = if article.title.trim().is_empty() {
            page.feed_title.clone().unwrap_or_default()
        } else {
            article.title.clone()
        };
        // A list page reached through a link is not an article: remember it, keep nothing.
        if article.kind == PageKind::List || (title.trim().is_empty() && article.content.trim().is_empty()) {
            return Ok(PreparedPage::Irrelevant { fingerprint, at: page.fetched_at });
        }
        let judgement = self.judge.judge(&title, &article.content, tier, weight);
        if !judgement.relevant {
            return Ok(PreparedPage::Irrelevant { fingerprint, at: page.fetched_at });
        }
        // Segmented once: the fingerprint here, the key terms and search tokens in the
        // store's preparation. Reposts rewrite headlines: the fingerprint is of the body
        // when there is enough of it.
        let words = yuqing_text::segment::ItemWords::new(&title, &article.content);
        let simhash = yuqing_text::simhash::item_simhash_of(&words, &title, &article.content);
        // Which channels the item alerts: decided now, written with the item.
        let probe = yuqing_notify::Alert {
            kind: yuqing_notify::AlertKind::Item,
            key: String::new(),
            title: title.clone(),
            level: judgement.level,
            tone: judgement.tone,
            source: page.source.clone(),
            tier,
            url: None,
            link: None,
            summary: String::new(),
            categories: judgement.categories.clone(),
            rules: judgement.matched_rules.clone(),
            at: page.fetched_at,
            on_duty: vec![],
            escalation: None,
            ack_link: None,
            notice: None,
        };
        let alert_channels =
            yuqing_notify::channels_for(&self.routes, &probe).into_iter().map(str::to_string).collect();
        let item = NewItem {
            source: page.source.clone(),
            tier,
            url: page.final_url.to_string(),
            canonical_url: page.canonical_url.clone(),
            title,
            published_at: article.published_at.or(page.feed_published),
            fetched_at: page.fetched_at,
            content: article.content,
            encoding: article.encoding.to_string(),
            tone: judgement.tone,
            tone_score: judgement.tone_score,
            categories: judgement.categories,
            matched_rules: judgement.matched_rules,
            level: judgement.level,
            level_reason: judgement.level_reason,
            simhash,
            raw: Some(RawPage { content_type: page.content_type, body: page.raw }),
            alert_channels,
        };
        Ok(PreparedPage::Item(Box::new(self.store.prepare_with_words(item, Some(words)))))
    }

    /// The database side of [`Pipeline::ingest_page`]: one transaction.
    pub async fn store_prepared(&self, prepared: PreparedPage) -> Result<Accepted, String> {
        let item = match prepared {
            PreparedPage::Irrelevant { fingerprint, at } => {
                self.store.mark_seen(&fingerprint, at).await.map_err(|e| e.to_string())?;
                self.metrics.items_irrelevant.fetch_add(1, Ordering::Relaxed);
                return Ok(Accepted::Irrelevant);
            }
            PreparedPage::Item(item) => *item,
        };
        match self.store.ingest_prepared(item).await.map_err(|e| e.to_string())? {
            IngestOutcome::New { .. } => {
                self.metrics.items_new.fetch_add(1, Ordering::Relaxed);
                Ok(Accepted::New)
            }
            IngestOutcome::Duplicate { .. } | IngestOutcome::Known { .. } => {
                self.metrics.items_duplicate.fetch_add(1, Ordering::Relaxed);
                Ok(Accepted::Duplicate)
            }
        }
    }
}

impl Sink for Pipeline {
    async fn is_known(&self, canonical_url: &str) -> bool {
        match self.store.is_known(canonical_url, &url_fingerprint(canonical_url)).await {
            Ok(k) => k,
            Err(e) => {
                tracing::warn!(error = %e, "could not check whether a URL is known; fetching it");
                false
            }
        }
    }

    async fn validators(&self, url: &str) -> Option<Validators> {
        match self.store.validators(url).await {
            Ok(Some((etag, last_modified))) => Some(Validators { etag, last_modified }),
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(error = %e, url, "could not read HTTP validators");
                None
            }
        }
    }

    async fn save_validators(&self, url: &str, v: &Validators) {
        if let Err(e) = self.store.save_validators(url, v.etag.as_deref(), v.last_modified.as_deref()).await {
            tracing::warn!(error = %e, url, "could not save HTTP validators");
        }
    }

    async fn accept(&self, page: CollectedPage) -> Result<Accepted, String> {
        self.metrics.pages_fetched.fetch_add(1, Ordering::Relaxed);
        self.ingest_page(page).await
    }

    async fn record_health(&self, source: &str, at: DateTime<Utc>, result: Result<(), String>) {
        self.metrics.source_passes.fetch_add(1, Ordering::Relaxed);
        if result.is_err() {
            self.metrics.fetch_errors.fetch_add(1, Ordering::Relaxed);
        }
        if let Err(e) = self.store.record_health(source, at, result).await {
            tracing::warn!(error = %e, source, "could not record source health");
        }
    }

    async fn last_polled(&self, source: &str) -> Option<DateTime<Utc>> {
        self.store.last_polled(source).await.ok().flatten()
    }

    async fn lease(&self, source: &str, lease_for: std::time::Duration) -> LeaseAnswer {
        let now = Utc::now();
        let lease_for = chrono::Duration::from_std(lease_for).unwrap_or(chrono::Duration::minutes(1));
        match self.store.lease_source(source, now, lease_for).await {
            Ok(yuqing_store::Lease::Granted) => LeaseAnswer::Granted,
            Ok(yuqing_store::Lease::Wait(at)) => LeaseAnswer::Wait(at),
            Err(e) => {
                // Without the database nothing could be stored anyway: try again shortly.
                tracing::warn!(error = %e, source, "could not lease the source; trying again shortly");
                LeaseAnswer::Wait(now + chrono::Duration::seconds(10))
            }
        }
    }

    async fn release(&self, source: &str, next_due: DateTime<Utc>) {
        match self.store.release_source(source, next_due).await {
            Ok(true) => {}
            Ok(false) => tracing::warn!(source, "the lease of this source had passed to another process"),
            Err(e) => tracing::warn!(error = %e, source, "could not give the lease of the source back"),
        }
    }
}
