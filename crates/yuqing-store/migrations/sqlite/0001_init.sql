-- yuqing store, version 1: sources and their health, items, raw pages, seen URLs,
-- HTTP validators, users, sessions and API tokens.
-- Times are RFC 3339 text; `*_at` columns in UTC unless said otherwise.

-- Sources as configured (refreshed from the configuration on start) and their health.
CREATE TABLE sources (
    name            TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    url             TEXT NOT NULL,
    tier            TEXT NOT NULL,
    weight          REAL NOT NULL,
    interval_secs   INTEGER NOT NULL,
    enabled         INTEGER NOT NULL,
    in_config       INTEGER NOT NULL DEFAULT 1,
    last_polled_at  TEXT,
    last_success_at TEXT,
    last_error      TEXT,
    last_error_at   TEXT,
    failures_in_row INTEGER NOT NULL DEFAULT 0
);

-- Relevant collected documents, after extraction and judgement.
CREATE TABLE items (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    source          TEXT NOT NULL,
    tier            TEXT NOT NULL,
    url             TEXT NOT NULL,
    canonical_url   TEXT NOT NULL UNIQUE,
    title           TEXT NOT NULL,
    -- as the page gave it, with its offset; NULL when the page gives no time
    published_at    TEXT,
    fetched_at      TEXT NOT NULL,
    -- published_at (else fetched_at) in UTC: the order of the stream
    sort_at         TEXT NOT NULL,
    content         TEXT NOT NULL,
    encoding        TEXT NOT NULL,
    tone            TEXT NOT NULL,
    tone_score      REAL NOT NULL,
    categories      TEXT NOT NULL,  -- JSON array of category ids
    matched_rules   TEXT NOT NULL,  -- JSON array of rule names
    level           TEXT NOT NULL,
    level_reason    TEXT NOT NULL,
    simhash         INTEGER NOT NULL,
    duplicate_of    INTEGER REFERENCES items(id),
    created_at      TEXT NOT NULL
);
CREATE INDEX items_sort ON items (sort_at DESC, id DESC);
CREATE INDEX items_source ON items (source, sort_at DESC);
CREATE INDEX items_duplicate_of ON items (duplicate_of);

-- SimHash split in eight 8-bit bands: two fingerprints within 7 bits share at least
-- one band exactly (pigeonhole), so near-duplicate candidates are an index lookup.
CREATE TABLE item_simhash_bands (
    band    INTEGER NOT NULL,
    value   INTEGER NOT NULL,
    item_id INTEGER NOT NULL REFERENCES items(id),
    PRIMARY KEY (band, value, item_id)
);

-- The raw page of an item, deflate-compressed, for re-extraction; pruned by retention.
CREATE TABLE raw_pages (
    item_id      INTEGER PRIMARY KEY REFERENCES items(id),
    content_type TEXT,
    body         BLOB NOT NULL,
    stored_at    TEXT NOT NULL
);

-- Pages that matched no rule: only a fingerprint of their canonical URL, so they are
-- not fetched again. Nothing of their content is kept.
CREATE TABLE seen_urls (
    fingerprint TEXT PRIMARY KEY,
    seen_at     TEXT NOT NULL
);

-- Validators for conditional GET of feeds and list pages.
CREATE TABLE http_validators (
    url           TEXT PRIMARY KEY,
    etag          TEXT,
    last_modified TEXT,
    updated_at    TEXT NOT NULL
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL
);

-- Browser sessions: only a hash of the cookie's token is kept.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    csrf       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

-- API tokens: only a hash is kept; the token is shown once when created.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash   TEXT NOT NULL UNIQUE,
    user_id      INTEGER NOT NULL REFERENCES users(id),
    created_at   TEXT NOT NULL,
    last_used_at TEXT
);
