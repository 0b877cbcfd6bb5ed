-- Events (事件): items about one story. An item joins an event when it is a repost
-- (its `duplicate_of` root's event) or a follow-up (its key terms match the event's
-- centroid within the window, see `events.rs`); otherwise it starts one, whose id is
-- the item's id. Everything is written in the item's own transaction.
--
-- What grouping needs is kept here, so that ingest never reads the text of earlier
-- items: the event's centroid (its items' key-term signatures summed, strongest terms
-- kept) and anchors as JSON, and its top terms in `event_terms` with the event's last
-- item time, so that the candidates of a follow-up are found by term within the window.
CREATE TABLE events (
    id              INTEGER PRIMARY KEY,  -- the first item's id
    first_item_id   INTEGER NOT NULL REFERENCES items(id),
    first_source    TEXT NOT NULL,
    first_tier      TEXT NOT NULL,
    first_at        TEXT NOT NULL,
    last_at         TEXT NOT NULL,
    items           INTEGER NOT NULL,
    title           TEXT NOT NULL,        -- the first item's title
    centroid        TEXT NOT NULL,        -- JSON [[term, weight], ...], strongest first
    anchors         TEXT NOT NULL         -- JSON [[term, items], ...], most frequent first
);
CREATE INDEX events_last ON events (last_at DESC);

-- One row per item: its event and why it joined (repost, follow-up or new).
CREATE TABLE event_items (
    item_id         INTEGER PRIMARY KEY REFERENCES items(id),
    event_id        INTEGER NOT NULL REFERENCES events(id),
    reason          TEXT NOT NULL,
    of_item         INTEGER,              -- for a repost: the item it repeats
    score           REAL,                 -- for a follow-up: the cosine with the event
    at              TEXT NOT NULL         -- the item's time (published, else fetched)
);
CREATE INDEX event_items_event ON event_items (event_id, at, item_id);

-- Distinct sources of an event, with their tier and how many items each brought.
CREATE TABLE event_sources (
    event_id        INTEGER NOT NULL REFERENCES events(id),
    source          TEXT NOT NULL,
    tier            TEXT NOT NULL,
    first_at        TEXT NOT NULL,
    items           INTEGER NOT NULL,
    PRIMARY KEY (event_id, source)
);

-- The timeline: items per hour (hour start in UTC, as stored times).
CREATE TABLE event_hours (
    event_id        INTEGER NOT NULL REFERENCES events(id),
    hour            TEXT NOT NULL,
    items           INTEGER NOT NULL,
    PRIMARY KEY (event_id, hour)
);

-- The inverted index of follow-up matching: an event under each of its top terms,
-- with the term's weight in the normalised centroid and the event's last item time.
CREATE TABLE event_terms (
    term            TEXT NOT NULL,
    event_id        INTEGER NOT NULL REFERENCES events(id),
    weight          REAL NOT NULL,
    last_at         TEXT NOT NULL,
    PRIMARY KEY (term, event_id)
);
CREATE INDEX event_terms_recent ON event_terms (term, last_at DESC);
CREATE INDEX event_terms_event ON event_terms (event_id);
