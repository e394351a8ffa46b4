-- +goose Up
-- A second dose missed, or given up for another date, once dose 1 was given:
-- its slot is freed (the booking's dose2 columns become NULL) and the person
-- waits in second_doses until the allocator books it again, before any
-- first dose, with the booking's vaccine. A second dose booked again may be
-- at another center of the department than dose 1: dose2_center says which
-- (NULL: dose 1's).
ALTER TABLE bookings ADD COLUMN dose2_center TEXT;

CREATE TABLE second_doses (
    sequence      INTEGER PRIMARY KEY,      -- registrations.sequence
    grp           TEXT    NOT NULL,
    group_ordinal INTEGER NOT NULL,         -- the booking's key, with grp
    department    TEXT    NOT NULL,
    vaccine       TEXT    NOT NULL,         -- dose 1's, never another
    center        TEXT    NOT NULL,         -- dose 1's center, tried first
    earliest      INTEGER NOT NULL,         -- Unix seconds: not before
    reason        TEXT    NOT NULL,         -- no_show, reschedule
    since         INTEGER NOT NULL          -- Unix milliseconds
) STRICT;

-- +goose Down
DROP TABLE second_doses;
ALTER TABLE bookings DROP COLUMN dose2_center;
