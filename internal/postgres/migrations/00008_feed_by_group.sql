-- +goose Up
-- The SQLite engine's 00008: the pull feed reads each open group on its own
-- (a consumer's cursor keeps a place per group, so that a group opened late
-- is read from its start), those of one group re-queued after a feed
-- position through this index of the few registrations ever re-queued
-- (intake never writes it). It replaces the index of feed positions alone,
-- which no read uses any more: positions stay unique within a group, and
-- the counter they come from never gives one twice.
CREATE UNIQUE INDEX registrations_group_feed_position ON registrations (grp, feed_position) WHERE feed_position IS NOT NULL;
DROP INDEX registrations_feed_position;
-- Operators list a group's second doses waiting to be booked again with its
-- pending registrations, in group order.
CREATE INDEX second_doses_group ON second_doses (grp, group_ordinal);

-- +goose Down
DROP INDEX second_doses_group;
CREATE UNIQUE INDEX registrations_feed_position ON registrations (feed_position) WHERE feed_position IS NOT NULL;
DROP INDEX registrations_group_feed_position;
