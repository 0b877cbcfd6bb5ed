-- Bulletins (舆情信息): numbered issues. The number is given inside one INSERT statement
-- (SQLite runs one writer at a time), so two processes creating bulletins at once never
-- get the same number; the UNIQUE constraints are the backstop. `content` is the issue
-- as compiled, frozen: a correction is a new issue.

CREATE TABLE bulletins (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    number         INTEGER NOT NULL UNIQUE,
    year           INTEGER NOT NULL,
    number_in_year INTEGER NOT NULL,
    since          TEXT NOT NULL,
    until          TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    content        TEXT NOT NULL,  -- JSON of the compiled issue
    UNIQUE (year, number_in_year)
);
