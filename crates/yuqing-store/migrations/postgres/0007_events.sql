-- Events (事件): items about one story. PostgreSQL dialect of the SQLite migration of
-- the same number, which explains the tables.
CREATE TABLE events (
    id              BIGINT PRIMARY KEY,
    first_item_id   BIGINT NOT NULL REFERENCES items(id),
    first_source    TEXT NOT NULL,
    first_tier      TEXT NOT NULL,
    first_at        TEXT COLLATE "C" NOT NULL,
    last_at         TEXT COLLATE "C" NOT NULL,
    items           BIGINT NOT NULL,
    title           TEXT NOT NULL,
    centroid        TEXT NOT NULL,
    anchors         TEXT NOT NULL
);
CREATE INDEX events_last ON events (last_at DESC);

CREATE TABLE event_items (
    item_id         BIGINT PRIMARY KEY REFERENCES items(id),
    event_id        BIGINT NOT NULL REFERENCES events(id),
    reason          TEXT NOT NULL,
    of_item         BIGINT,
    score           DOUBLE PRECISION,
    at              TEXT COLLATE "C" NOT NULL
);
CREATE INDEX event_items_event ON event_items (event_id, at, item_id);

CREATE TABLE event_sources (
    event_id        BIGINT NOT NULL REFERENCES events(id),
    source          TEXT NOT NULL,
    tier            TEXT NOT NULL,
    first_at        TEXT COLLATE "C" NOT NULL,
    items           BIGINT NOT NULL,
    PRIMARY KEY (event_id, source)
);

CREATE TABLE event_hours (
    event_id        BIGINT NOT NULL REFERENCES events(id),
    hour            TEXT COLLATE "C" NOT NULL,
    items           BIGINT NOT NULL,
    PRIMARY KEY (event_id, hour)
);

CREATE TABLE event_terms (
    term            TEXT NOT NULL,
    event_id        BIGINT NOT NULL REFERENCES events(id),
    weight          DOUBLE PRECISION NOT NULL,
    last_at         TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (term, event_id)
);
CREATE INDEX event_terms_recent ON event_terms (term, last_at DESC);
CREATE INDEX event_terms_event ON event_terms (event_id);
