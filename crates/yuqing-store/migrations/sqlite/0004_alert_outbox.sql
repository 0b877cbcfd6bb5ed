-- The persistent alert outbox. A row is written in the same transaction as the item
-- that causes it, so a crash can never lose an alert; the sender marks it sent only
-- after the channel accepted it (at least once), and receivers de-duplicate on `key`.

CREATE TABLE alert_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    key             TEXT NOT NULL,
    channel         TEXT NOT NULL,
    item_id         INTEGER REFERENCES items(id),
    created_at      TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    sent_at         TEXT,
    -- 1 when the channel refused it for good (bad token, 4xx): kept for the record
    parked          INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    UNIQUE (key, channel)
);
CREATE INDEX alert_outbox_due ON alert_outbox (next_attempt_at) WHERE sent_at IS NULL AND parked = 0;
