-- +goose Up
-- The pull feed offers a registration again each time it becomes waiting
-- after a booking (another date, a missed first dose): feed_position is then
-- set from feed_state, a counter that only grows, under the single writer.
-- NULL: never re-queued.
ALTER TABLE registrations ADD COLUMN feed_position INTEGER;
CREATE UNIQUE INDEX registrations_feed_position ON registrations (feed_position) WHERE feed_position IS NOT NULL;
CREATE TABLE feed_state (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    position INTEGER NOT NULL
) STRICT;
INSERT INTO feed_state (id, position) VALUES (1, 0);

-- +goose Down
DROP TABLE feed_state;
DROP INDEX registrations_feed_position;
ALTER TABLE registrations DROP COLUMN feed_position;
