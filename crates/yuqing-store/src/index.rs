//! The embedded search index: tantivy over the title and main text of items, tokenised
//! with jieba (through `yuqing-text`), plus exact fields for the stream's filters.
//!
//! The store is the truth: the index can be rebuilt from it at any time, and the id of
//! the last item indexed is kept in tantivy's commit payload so that a crash between a
//! database commit and an index commit is caught up on the next start.

use crate::search::{self, Node};
use crate::{ItemFilter, StoreError};
use std::collections::HashMap;
use std::ops::Bound;
use std::path::Path;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, Occur, Query, RangeQuery, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, INDEXED, STORED, STRING,
};
use tantivy::tokenizer::{PreTokenizedString, TextAnalyzer, Token, TokenStream, Tokenizer};
use tantivy::{Index, IndexReader, IndexWriter, Order, ReloadPolicy, TantivyDocument, Term};

const TOKENIZER: &str = "yuqing_jieba";
/// Memory for the writer's indexing buffer; tantivy's minimum is 15 MB.
const WRITER_HEAP: usize = 32 * 1024 * 1024;

/// What the index needs of an item.
pub struct IndexDoc<'a> {
    pub id: i64,
    pub title: &'a str,
    pub content: &'a str,
    pub source: &'a str,
    pub tier: &'a str,
    pub tone: &'a str,
    pub level: &'a str,
    pub categories: &'a [String],
    pub sort_ts: i64,
    /// Title and text tokens made beforehand from the item's words (see
    /// `search::Prepared`); `None` tokenizes the text here.
    pub tokens: Option<(&'a [Token], &'a [Token])>,
}

#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    title: Field,
    content: Field,
    source: Field,
    tier: Field,
    tone: Field,
    level: Field,
    category: Field,
    sort_ts: Field,
}

pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    /// Taken on the first write: commands that only read (search, user and token
    /// commands) can then run beside a `yuqing serve` that holds tantivy's writer lock.
    writer: tokio::sync::Mutex<Option<IndexWriter>>,
    fields: Fields,
    /// Results of searches on the index as it is now (see [`SearchIndex::search`]).
    results: std::sync::Mutex<ResultCache>,
}

/// Search results of the current index snapshot: at a million items a common term has
/// hundreds of thousands of hits, every one of which is counted and ranked by time (about
/// 3 ms), and under load the same search comes again and again. An entry is used only
/// while the reader's generation is the one it was computed on, so an answer from the
/// cache is exactly the answer of searching again; a commit (once a second at most
/// while collecting) starts a new generation.
#[derive(Default)]
struct ResultCache {
    generation: u64,
    entries: HashMap<String, (Vec<i64>, usize)>,
}

/// Distinct searches kept per generation; when full the cache is emptied.
const RESULT_CACHE_ENTRIES: usize = 256;

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let fields = Fields {
        id: b.add_i64_field("id", INDEXED | STORED | FAST),
        title: b.add_text_field("title", text.clone()),
        content: b.add_text_field("content", text),
        source: b.add_text_field("source", STRING),
        tier: b.add_text_field("tier", STRING),
        tone: b.add_text_field("tone", STRING),
        level: b.add_text_field("level", STRING),
        category: b.add_text_field("category", STRING),
        sort_ts: b.add_i64_field("sort_ts", INDEXED | FAST),
    };
    (b.build(), fields)
}

/// jieba words as tantivy tokens. Written here because tantivy's tokenizer trait needs
/// byte offsets, which the word slices of `yuqing_text::segment` give by position.
#[derive(Clone)]
struct JiebaTokenizer;

struct JiebaStream {
    tokens: Vec<Token>,
    i: usize,
}

impl Tokenizer for JiebaTokenizer {
    type TokenStream<'a> = JiebaStream;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> JiebaStream {
        let tokens = index_tokens(text, yuqing_text::segment::search_words(text));
        JiebaStream { tokens, i: 0 }
    }
}

/// The index's tokens of `text` from its jieba search words (slices of `text`): the same
/// tokens as `search::tokens`, which PostgreSQL's full text stores, numbered in order,
/// with their byte offsets, lower-cased (here rather than by tantivy's LowerCaser, which
/// pre-tokenized text skips).
pub(crate) fn index_tokens<'a>(text: &'a str, words: impl IntoIterator<Item = &'a str>) -> Vec<Token> {
    let base = text.as_ptr() as usize;
    let mut tokens = Vec::new();
    for w in words {
        if !search::keep_token(w) {
            continue;
        }
        let from = w.as_ptr() as usize - base;
        tokens.push(Token {
            offset_from: from,
            offset_to: from + w.len(),
            position: tokens.len(),
            text: w.to_lowercase(),
            position_length: 1,
        });
    }
    tokens
}

impl TokenStream for JiebaStream {
    fn advance(&mut self) -> bool {
        self.i += 1;
        self.i <= self.tokens.len()
    }
    fn token(&self) -> &Token {
        &self.tokens[self.i - 1]
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.i - 1]
    }
}

fn ix(e: impl std::fmt::Display) -> StoreError {
    StoreError::Index(e.to_string())
}

impl SearchIndex {
    /// Opens the index in `dir`, creating it (or re-creating it when its schema is
    /// not this version's) as needed. Returns whether it was created empty.
    pub fn open(dir: &Path) -> Result<(SearchIndex, bool), StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Io { path: dir.to_path_buf(), source: e })?;
        let (schema, fields) = schema();
        let mut created = false;
        let index = match Index::open_in_dir(dir) {
            Ok(i) if i.schema() == schema => i,
            Ok(_) | Err(_) if dir.join("meta.json").exists() => {
                tracing::warn!(dir = %dir.display(), "the search index has another schema or is damaged; rebuilding it");
                std::fs::remove_dir_all(dir).map_err(|e| StoreError::Io { path: dir.to_path_buf(), source: e })?;
                std::fs::create_dir_all(dir).map_err(|e| StoreError::Io { path: dir.to_path_buf(), source: e })?;
                created = true;
                Index::create_in_dir(dir, schema).map_err(ix)?
            }
            _ => {
                created = true;
                Index::create_in_dir(dir, schema).map_err(ix)?
            }
        };
        index.tokenizers().register(TOKENIZER, TextAnalyzer::from(JiebaTokenizer));
        let reader = index.reader_builder().reload_policy(ReloadPolicy::OnCommitWithDelay).try_into().map_err(ix)?;
        Ok((
            SearchIndex {
                index,
                reader,
                writer: tokio::sync::Mutex::new(None),
                fields,
                results: std::sync::Mutex::new(ResultCache::default()),
            },
            created,
        ))
    }

    /// Takes the writer now, so that a command learns at once whether another process has it.
    pub async fn claim_writer(&self) -> Result<(), StoreError> {
        self.writer().await.map(|_| ())
    }

    /// The writer, taken on first use.
    async fn writer(&self) -> Result<tokio::sync::MutexGuard<'_, Option<IndexWriter>>, StoreError> {
        let mut w = self.writer.lock().await;
        if w.is_none() {
            let writer = self.index.writer_with_num_threads(1, WRITER_HEAP).map_err(|e| match e {
                tantivy::TantivyError::LockFailure(..) => StoreError::Busy(
                    "the search index is being written by another yuqing process using this data folder \
                     (a running `yuqing serve`?); stop it or use --no-collect there"
                        .into(),
                ),
                e => ix(e),
            })?;
            *w = Some(writer);
        }
        Ok(w)
    }

    /// The id of the last item whose index commit succeeded (0 when none).
    pub fn committed_max_id(&self) -> i64 {
        self.index.load_metas().ok().and_then(|m| m.payload).and_then(|p| p.parse().ok()).unwrap_or(0)
    }

    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Adds (or replaces) documents; not visible until `commit`.
    pub async fn add(&self, docs: &[IndexDoc<'_>]) -> Result<(), StoreError> {
        let guard = self.writer().await?;
        let Some(w) = guard.as_ref() else { return Err(ix("no index writer")) };
        for d in docs {
            let f = &self.fields;
            w.delete_term(Term::from_field_i64(f.id, d.id));
            let mut doc = TantivyDocument::default();
            doc.add_i64(f.id, d.id);
            match d.tokens {
                // The text itself is not stored: the tokens are all the index keeps.
                Some((title, content)) => {
                    doc.add_pre_tokenized_text(
                        f.title,
                        PreTokenizedString { text: String::new(), tokens: title.to_vec() },
                    );
                    doc.add_pre_tokenized_text(
                        f.content,
                        PreTokenizedString { text: String::new(), tokens: content.to_vec() },
                    );
                }
                None => {
                    doc.add_text(f.title, d.title);
                    doc.add_text(f.content, d.content);
                }
            }
            doc.add_text(f.source, d.source);
            doc.add_text(f.tier, d.tier);
            doc.add_text(f.tone, d.tone);
            doc.add_text(f.level, d.level);
            for c in d.categories {
                doc.add_text(f.category, c);
            }
            doc.add_i64(f.sort_ts, d.sort_ts);
            w.add_document(doc).map_err(ix)?;
        }
        Ok(())
    }

    /// Commits what was added, recording `max_id` as the last item indexed.
    pub async fn commit(&self, max_id: i64) -> Result<(), StoreError> {
        let mut guard = self.writer().await?;
        let Some(w) = guard.as_mut() else { return Err(ix("no index writer")) };
        // Waits for the indexing thread, writes the segment and syncs the files: tens of
        // milliseconds once a second while collecting, which must not hold up the web
        // requests of the same runtime worker.
        crate::blocking(|| {
            let mut prepared = w.prepare_commit().map_err(ix)?;
            prepared.set_payload(&max_id.to_string());
            prepared.commit().map_err(ix)
        })?;
        drop(guard);
        crate::blocking(|| self.reader.reload()).map_err(ix)
    }

    /// Removes everything (before a rebuild).
    pub async fn clear(&self) -> Result<(), StoreError> {
        let mut guard = self.writer().await?;
        let Some(w) = guard.as_mut() else { return Err(ix("no index writer")) };
        w.delete_all_documents().map_err(ix)?;
        let mut prepared = w.prepare_commit().map_err(ix)?;
        prepared.set_payload("0");
        prepared.commit().map_err(ix)?;
        drop(guard);
        self.reader.reload().map_err(ix)
    }

    /// The generation of the index as searches see it now (a commit starts a new one).
    pub fn generation(&self) -> u64 {
        self.reader.searcher().generation().generation_id()
    }

    /// Empties the cache of search results (benchmarks time the search itself).
    pub fn forget_results(&self) {
        if let Ok(mut cache) = self.results.lock() {
            cache.entries.clear();
        }
    }

    /// Item ids matching the query and the filters, newest first, and the total count.
    pub fn search(
        &self,
        node: &Node,
        filter: &ItemFilter,
        limit: usize,
        offset: usize,
    ) -> Result<(Vec<i64>, usize), StoreError> {
        let searcher = self.reader.searcher();
        let generation = searcher.generation().generation_id();
        let key = format!("{node:?}|{filter:?}|{limit}|{offset}");
        if let Ok(cache) = self.results.lock() {
            if cache.generation == generation {
                if let Some((ids, total)) = cache.entries.get(&key) {
                    return Ok((ids.clone(), *total));
                }
            }
        }
        let f = self.fields;
        let query = search::tantivy_query::build(node, &[f.title, f.content]);
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, query)];
        let term = |field: Field, v: &str| -> (Occur, Box<dyn Query>) {
            (Occur::Must, Box::new(TermQuery::new(Term::from_field_text(field, v), IndexRecordOption::Basic)))
        };
        if let Some(v) = &filter.tone {
            clauses.push(term(f.tone, v.id()));
        }
        if let Some(v) = &filter.level {
            clauses.push(term(f.level, v.id()));
        }
        if let Some(v) = &filter.tier {
            clauses.push(term(f.tier, v.id()));
        }
        if let Some(v) = &filter.category {
            clauses.push(term(f.category, v.id()));
        }
        if let Some(v) = &filter.source {
            clauses.push(term(f.source, v));
        }
        if filter.since.is_some() || filter.until.is_some() {
            let lo = filter.since.map_or(Bound::Unbounded, |t| Bound::Included(t.timestamp_millis()));
            let hi = filter.until.map_or(Bound::Unbounded, |t| Bound::Excluded(t.timestamp_millis()));
            clauses.push((Occur::Must, Box::new(RangeQuery::new_i64_bounds("sort_ts".to_string(), lo, hi))));
        }
        let query = BooleanQuery::new(clauses);
        let top =
            TopDocs::with_limit(limit.max(1)).and_offset(offset).order_by_fast_field::<i64>("sort_ts", Order::Desc);
        let (hits, total) = searcher.search(&query, &(top, Count)).map_err(ix)?;
        // The ids from the `id` fast field (a column read), not from the stored
        // documents: each stored read decompresses a block of the doc store.
        let mut ids = Vec::with_capacity(hits.len());
        let mut columns: HashMap<u32, tantivy::columnar::Column<i64>> = HashMap::new();
        for (_ts, addr) in hits {
            let column = match columns.entry(addr.segment_ord) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(searcher.segment_reader(addr.segment_ord).fast_fields().i64("id").map_err(ix)?)
                }
            };
            if let Some(id) = column.first(addr.doc_id) {
                ids.push(id);
            }
        }
        if limit == 0 {
            ids.clear();
        }
        if let Ok(mut cache) = self.results.lock() {
            // A newer generation replaces the cache; an older one (a search that began
            // before a reload and ends after it) is not kept.
            if generation > cache.generation || cache.entries.len() >= RESULT_CACHE_ENTRIES {
                cache.entries.clear();
                cache.generation = cache.generation.max(generation);
            }
            if cache.generation == generation {
                cache.entries.insert(key, (ids.clone(), total));
            }
        }
        Ok((ids, total))
    }
}
