-- Bulletin drafts (舆情信息草稿): what the office compiles, edits and previews before it
-- issues (签发) an issue. A draft has no number; the number is given when it is issued,
-- in the same transaction that marks the draft issued (see `bulletin_drafts.rs`), so a
-- draft is issued at most once and an issued bulletin is never edited. `content` is the
-- web layer's JSON (the report model plus the item of each entry); `revision` counts
-- saves so that two people editing one draft cannot silently overwrite each other.

CREATE TABLE bulletin_drafts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    since         TEXT NOT NULL,   -- first day of the period, YYYY-MM-DD (office's zone)
    until         TEXT NOT NULL,   -- last day, included
    content       TEXT NOT NULL,
    revision      INTEGER NOT NULL DEFAULT 1,
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_by    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    -- the issue this draft corrects (a correction is a new issue), if any
    corrects      INTEGER REFERENCES bulletins(number),
    -- set once, when issued; the draft is frozen from then on
    issued_number INTEGER UNIQUE REFERENCES bulletins(number)
);
CREATE INDEX bulletin_drafts_open ON bulletin_drafts (issued_number, updated_at);

-- Who issued an issue, from which draft, and which earlier issue it corrects.
-- Issues made by `yuqing bulletin create` have no draft and are issued by "cli".
ALTER TABLE bulletins ADD COLUMN issued_by TEXT;
ALTER TABLE bulletins ADD COLUMN draft_id INTEGER;
ALTER TABLE bulletins ADD COLUMN corrects INTEGER;
