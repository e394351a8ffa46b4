-- +goose Up
-- The outbox becomes the notification workers' shared queue (see
-- turnero.OutboxQueue), as in the SQLite engine's 00004 (numbered alike; this
-- engine has no 00003 because its 00002 holds both of SQLite's 00002 and
-- 00003). Workers of every node claim with FOR UPDATE SKIP LOCKED: a claim
-- leases a message to one worker until lease_until; once that passes (the
-- worker or its node died) it is claimable again. Retry sets lease_until to
-- when to try again. sent_at (from 00002) marks a message done, failed_at one
-- given up on; neither is claimed again. The new columns have constant
-- defaults: adding them does not rewrite the table.
ALTER TABLE outbox
    ADD COLUMN claimed_by  text        NOT NULL DEFAULT '',
    ADD COLUMN lease_until timestamptz NOT NULL DEFAULT 'epoch',
    ADD COLUMN attempts    integer     NOT NULL DEFAULT 0,
    ADD COLUMN last_error  text        NOT NULL DEFAULT '',
    ADD COLUMN failed_at   timestamptz;

-- What is still to send, oldest first: a claim reads the head of this index
-- instead of walking past the millions of messages already sent.
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL AND failed_at IS NULL;

-- +goose Down
DROP INDEX outbox_unsent;
ALTER TABLE outbox
    DROP COLUMN failed_at,
    DROP COLUMN last_error,
    DROP COLUMN attempts,
    DROP COLUMN lease_until,
    DROP COLUMN claimed_by;
