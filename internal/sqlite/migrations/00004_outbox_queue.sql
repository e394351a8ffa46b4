-- +goose Up
-- The outbox becomes the notification workers' shared queue (see
-- turnero.OutboxQueue): a claim leases a message to one worker until
-- lease_until; once that passes (the worker died) it is claimable again.
-- Retry sets lease_until to when to try again. sent_at (from 00002) marks a
-- message done, failed_at one given up on; neither is claimed again.
ALTER TABLE outbox ADD COLUMN claimed_by  TEXT    NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;  -- Unix milliseconds
ALTER TABLE outbox ADD COLUMN attempts    INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN last_error  TEXT    NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN failed_at   INTEGER;                     -- Unix milliseconds

-- What is still to send, oldest first: a claim reads the head of this index
-- instead of walking past the millions of messages already sent.
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL AND failed_at IS NULL;

-- +goose Down
DROP INDEX outbox_unsent;
ALTER TABLE outbox DROP COLUMN failed_at;
ALTER TABLE outbox DROP COLUMN last_error;
ALTER TABLE outbox DROP COLUMN attempts;
ALTER TABLE outbox DROP COLUMN lease_until;
ALTER TABLE outbox DROP COLUMN claimed_by;
