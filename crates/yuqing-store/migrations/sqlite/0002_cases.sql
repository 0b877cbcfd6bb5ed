-- The handling flow (处置单). A case's steps are the truth: an append-only audit log that
-- nobody can edit or delete, admins included (enforced by triggers below). The columns
-- of `cases` besides its id, subject and opening are derived from the steps and are
-- rewritten only in the transaction that appends a step.

CREATE TABLE cases (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id       INTEGER REFERENCES items(id),
    level_at_open TEXT NOT NULL,
    opened_at     TEXT NOT NULL,
    -- derived from the steps
    state         TEXT NOT NULL,
    level         TEXT NOT NULL,
    path          TEXT,
    assess_due    TEXT NOT NULL,
    answer_due    TEXT NOT NULL,
    assessed_at   TEXT,
    answered_at   TEXT,
    closed_at     TEXT,
    updated_at    TEXT NOT NULL
);
-- At most one open case per item: reporting it again adds to that case.
CREATE UNIQUE INDEX cases_one_open_per_item ON cases (item_id) WHERE state != 'closed';
CREATE INDEX cases_state ON cases (state, opened_at);

CREATE TABLE case_steps (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id       INTEGER NOT NULL REFERENCES cases(id),
    seq           INTEGER NOT NULL,
    action        TEXT NOT NULL,
    actor         TEXT NOT NULL,
    actor_user_id INTEGER REFERENCES users(id),
    at            TEXT NOT NULL,
    note          TEXT NOT NULL,
    fields        TEXT NOT NULL,  -- JSON object: the action's fields besides the note
    from_state    TEXT,
    to_state      TEXT NOT NULL,
    UNIQUE (case_id, seq)
);

CREATE TRIGGER case_steps_append_only_update BEFORE UPDATE ON case_steps
BEGIN
    SELECT RAISE(ABORT, 'case steps are an append-only audit log');
END;

CREATE TRIGGER case_steps_append_only_delete BEFORE DELETE ON case_steps
BEGIN
    SELECT RAISE(ABORT, 'case steps are an append-only audit log');
END;
