-- Alerts as people see them: acknowledgement (确认) and escalation (升级).
--
-- One row of `alerts` per alert (`key` as in the outbox: `item-17`), written in the same
-- transaction that marks its first message sent, since the time to acknowledge counts
-- from then. `sensitive` records whether a sensitive period was active at that moment
-- (the deadline is fixed when the alert goes out); `alerted` the names the message
-- called on (the people on duty), so that escalation goes to somebody else.
--
-- Escalation rounds are outbox rows like any alert (key `alert-{id}-escalation-{round}`,
-- unique per channel), written in the same transaction that raises `rounds`, so each
-- round is written once and sent at least once, whatever crashes. `next_check_at` is
-- when the escalation loop looks at the alert again; NULL once acknowledged, and for an
-- alert that never escalates (an ordinary item).

CREATE TABLE alerts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    key           TEXT NOT NULL UNIQUE,
    item_id       INTEGER REFERENCES items(id),
    level         TEXT NOT NULL,
    sent_at       TEXT NOT NULL,
    sensitive     INTEGER NOT NULL DEFAULT 0,
    alerted       TEXT NOT NULL DEFAULT '[]',
    acked_at      TEXT,
    acked_by      TEXT,
    acked_user_id INTEGER REFERENCES users(id),
    -- how: 'link' (the page the alert's link opens), 'ui' (the button), 'api'
    acked_via     TEXT,
    rounds        INTEGER NOT NULL DEFAULT 0,
    next_check_at TEXT
);
CREATE INDEX alerts_next_check ON alerts (next_check_at) WHERE next_check_at IS NOT NULL;
CREATE INDEX alerts_item ON alerts (item_id);

-- What an outbox row is besides an item's first alert: an escalation round of an alert,
-- or the escalation of an overdue case (key `case-{id}-overdue-{deadline}`). `notice` is
-- the line the message leads with ("30 分钟无人确认，升级至：李四"), fixed when the row is
-- written so that a retry says the same.
ALTER TABLE alert_outbox ADD COLUMN alert_id INTEGER REFERENCES alerts(id);
ALTER TABLE alert_outbox ADD COLUMN escalation_round INTEGER;
ALTER TABLE alert_outbox ADD COLUMN case_id INTEGER REFERENCES cases(id);
ALTER TABLE alert_outbox ADD COLUMN notice TEXT;

-- The key that signs acknowledgement links (HMAC-SHA256): 32 random bytes, made once by
-- the first process that needs it and shared by every process on this database.
CREATE TABLE alert_secret (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    secret TEXT NOT NULL
);
