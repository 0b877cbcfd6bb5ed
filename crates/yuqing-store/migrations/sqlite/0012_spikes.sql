-- Spikes (突增): hourly counts of items per watch rule and per key-content category, and
-- the hours that stood out against their trailing baseline.
--
-- `hourly_counts` is kept by ingest, in the item's own transaction (one upsert per
-- matched rule and per category), so that counting never scans the items: a spike check
-- reads at most a week of rows per key. `scope` is 'rule' (key: the rule's name) or
-- 'category' (key: the category id); `hour` is the UTC start of the hour the item was
-- found in, RFC 3339 like every time in the store. A canonical URL ingested again adds
-- nothing (ingest returns before counting), so counts are exact whatever re-collection.
CREATE TABLE hourly_counts (
    scope TEXT NOT NULL,
    key   TEXT NOT NULL,
    hour  TEXT NOT NULL,
    count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (scope, key, hour)
);
-- "since when are we counting" (the earliest hour) for the minimum history.
CREATE INDEX hourly_counts_hour ON hourly_counts (hour);

-- One row per flagged (scope, key, hour), written once whatever the number of processes
-- checking (the unique key), together with its outbox rows (alert_outbox.spike_id).
-- `count` is the hour's count when flagged, raised by later checks while the hour fills
-- (`partial` = 1 when it was flagged before the hour ended). `title` is the message line,
-- fixed when written so that a retried alert says the same.
CREATE TABLE spikes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    scope       TEXT NOT NULL,
    key         TEXT NOT NULL,
    hour        TEXT NOT NULL,
    count       INTEGER NOT NULL,
    flag_count  INTEGER NOT NULL,
    mean        REAL NOT NULL,
    std_dev     REAL NOT NULL,
    threshold   REAL NOT NULL,
    baseline_hours INTEGER NOT NULL,
    partial     INTEGER NOT NULL DEFAULT 0,
    title       TEXT NOT NULL,
    detected_at TEXT NOT NULL,
    UNIQUE (scope, key, hour)
);
CREATE INDEX spikes_hour ON spikes (hour DESC, id DESC);

-- The cool-down gate: the hour of the last spike per key. A spike is recorded by one
-- conditional UPDATE of this row (only when the last spike is at least the cool-down
-- before), so two processes cannot both pass the gate for the same key.
CREATE TABLE spike_keys (
    scope     TEXT NOT NULL,
    key       TEXT NOT NULL,
    last_hour TEXT,
    PRIMARY KEY (scope, key)
);

ALTER TABLE alert_outbox ADD COLUMN spike_id INTEGER REFERENCES spikes(id);
ALTER TABLE alerts ADD COLUMN spike_id INTEGER REFERENCES spikes(id);
