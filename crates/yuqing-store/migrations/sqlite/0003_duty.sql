-- The duty roster (值班表) and sensitive periods (敏感时期).
--
-- Both are plans, not audit records: a shift is deleted when people swap, a period is
-- ended early or withdrawn, so rows may be deleted (unlike case steps). Each row still
-- records who created it and when. The rules for a valid shift or period (non-empty
-- name or reason, end after start, at most 7 or 92 days) are `yuqing-cases`'; the store
-- checks them before writing, and the CHECKs below only keep a broken row out.
--
-- Times are `ts()` text (UTC, RFC 3339 with milliseconds, `Z`), so text order is time
-- order. Intervals are half-open: on duty from `from_at` (inclusive) to `to_at`
-- (exclusive), so a shift ending at 08:00 and the next starting at 08:00 meet.

CREATE TABLE shifts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The person on watch, by name: usually a user's name, but a roster may name
    -- someone without an account (a leader on call), so it is not a foreign key.
    user_name   TEXT NOT NULL,
    from_at     TEXT NOT NULL,
    to_at       TEXT NOT NULL,
    note        TEXT,
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    CHECK (user_name != '' AND from_at < to_at)
);
-- "Who is on duty now" (every page) and the roster of a window both look for shifts
-- with `to_at > start AND from_at < end`: the end index keeps the past out cheaply.
CREATE INDEX shifts_to ON shifts (to_at, from_at);
CREATE INDEX shifts_from ON shifts (from_at);

CREATE TABLE sensitive_periods (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    from_at     TEXT NOT NULL,
    to_at       TEXT NOT NULL,
    reason      TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    CHECK (reason != '' AND from_at < to_at)
);
CREATE INDEX sensitive_periods_to ON sensitive_periods (to_at, from_at);
