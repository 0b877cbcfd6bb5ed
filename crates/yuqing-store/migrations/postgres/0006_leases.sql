-- Work shared out between processes: source leases and alert claims. PostgreSQL
-- dialect of the SQLite migration of the same number, which explains the columns.
ALTER TABLE sources ADD COLUMN lease_owner TEXT;
ALTER TABLE sources ADD COLUMN lease_until TEXT COLLATE "C";
ALTER TABLE sources ADD COLUMN next_due_at TEXT COLLATE "C";

ALTER TABLE alert_outbox ADD COLUMN claimed_by TEXT;
