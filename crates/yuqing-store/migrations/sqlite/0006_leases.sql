-- Work shared out between processes (PostgreSQL deployments; on SQLite one process
-- writes, and the same columns simply record its own schedule).
--
-- A source is polled by whoever holds its lease: `lease_owner` until `lease_until`. A
-- pass that ends sets `next_due_at` (its start plus the interval) and gives the lease
-- back; a process that dies leaves a lease that expires, and another takes the source.
ALTER TABLE sources ADD COLUMN lease_owner TEXT;
ALTER TABLE sources ADD COLUMN lease_until TEXT;
ALTER TABLE sources ADD COLUMN next_due_at TEXT;

-- An alert being sent is claimed by one process: `claimed_by`, with `next_attempt_at`
-- moved to when the claim expires, so that another process sends it only if the first
-- one never reports back.
ALTER TABLE alert_outbox ADD COLUMN claimed_by TEXT;
