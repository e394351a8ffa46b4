-- +goose Up
-- The SQLite engine's 00006 in PostgreSQL's types: the queue of second doses
-- to book again (missed, or given up for another date, once dose 1 was
-- given), and the center of a second dose booked again elsewhere.
ALTER TABLE bookings ADD COLUMN dose2_center text;  -- NULL: dose 1's center

CREATE TABLE second_doses (
    sequence      bigint      PRIMARY KEY,  -- registrations.sequence
    grp           text        NOT NULL,
    group_ordinal bigint      NOT NULL,
    department    text        NOT NULL,
    vaccine       text        NOT NULL,     -- dose 1's, never another
    center        text        NOT NULL,     -- dose 1's center, tried first
    earliest      timestamptz NOT NULL,     -- not before
    reason        text        NOT NULL,     -- no_show, reschedule
    since         timestamptz NOT NULL
);

-- +goose Down
DROP TABLE second_doses;
ALTER TABLE bookings DROP COLUMN dose2_center;
