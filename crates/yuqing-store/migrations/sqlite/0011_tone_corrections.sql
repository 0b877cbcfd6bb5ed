-- Tone corrections (倾向更正): an office user sets an item's tone by hand, and the
-- corrections are kept as training data for the office's own tone model
-- (`yuqing corrections export`, then `yuqing train tone`).
--
-- `tone_corrections` is an append-only record (enforced by the triggers below): one row
-- per change, written in the same transaction that sets the item's tone. A correction to
-- the tone the item already has writes nothing, so a row always changes the tone
-- (tone_before != tone_after). `score_before` is the item's tone_score just before the
-- change: on an item's first correction, the model's own score, kept here because the
-- item's tone_score is then set to the corrected tone's certain value (positive 1,
-- neutral 0, negative -1) so that tone and score never disagree. `user_name` is kept
-- beside `user_id` as the record of who it was. `note` is optional (NULL), at most 500
-- characters.

CREATE TABLE tone_corrections (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id      INTEGER NOT NULL REFERENCES items(id),
    tone_before  TEXT NOT NULL CHECK (tone_before IN ('positive', 'neutral', 'negative')),
    tone_after   TEXT NOT NULL CHECK (tone_after IN ('positive', 'neutral', 'negative')),
    score_before REAL NOT NULL,
    user_id      INTEGER REFERENCES users(id),
    user_name    TEXT NOT NULL,
    corrected_at TEXT NOT NULL,
    note         TEXT CHECK (note IS NULL OR length(note) <= 500),
    CHECK (tone_before != tone_after)
);
CREATE INDEX tone_corrections_item ON tone_corrections (item_id, id);
CREATE INDEX tone_corrections_at ON tone_corrections (corrected_at, id);

CREATE TRIGGER tone_corrections_append_only_update BEFORE UPDATE ON tone_corrections
BEGIN
    SELECT RAISE(ABORT, 'tone corrections are an append-only record');
END;

CREATE TRIGGER tone_corrections_append_only_delete BEFORE DELETE ON tone_corrections
BEGIN
    SELECT RAISE(ABORT, 'tone corrections are an append-only record');
END;

-- When the item's tone was last set by hand (NULL: the model's tone).
ALTER TABLE items ADD COLUMN tone_corrected_at TEXT;

-- The embedded search index has the tone as a filter field. The index is written after
-- the database commits; `indexed_through` is the last correction whose item's document
-- the index has committed, so that corrections a crash (or another process holding the
-- index) kept out of it are caught up on the next start. Unused on PostgreSQL, whose
-- search reads the items' columns.
CREATE TABLE tone_index_state (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    indexed_through INTEGER NOT NULL
);
