-- +goose Up
-- The SQLite engine's 00007: the pull feed's positions of registrations that
-- became waiting again. feed_position is set from feed_state's counter, whose
-- row each re-queue updates: the row's lock, held to the commit, orders
-- them, so positions become visible in the order they were given, on every
-- node. NULL: never re-queued.
ALTER TABLE registrations ADD COLUMN feed_position bigint;
CREATE UNIQUE INDEX registrations_feed_position ON registrations (feed_position) WHERE feed_position IS NOT NULL;
CREATE TABLE feed_state (
    id       integer PRIMARY KEY CHECK (id = 1),
    position bigint  NOT NULL
);
INSERT INTO feed_state (id, position) VALUES (1, 0);

-- +goose Down
DROP TABLE feed_state;
DROP INDEX registrations_feed_position;
ALTER TABLE registrations DROP COLUMN feed_position;
