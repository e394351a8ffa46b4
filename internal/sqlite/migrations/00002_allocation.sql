-- +goose Up
-- Centers, open groups, slot bookings, appointments, the allocator's cursors
-- and its not-yet-placed list, the notification outbox and access tokens.

-- A center and its agenda; the agenda is JSON (days, hours, slot length,
-- people per slot, dated exceptions): it is read whole, never queried.
CREATE TABLE centers (
    id         TEXT    PRIMARY KEY,
    department TEXT    NOT NULL,
    definition TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- One row per priority group that was ever opened. cursor is "now serving":
-- every registration of the group with group_ordinal <= cursor was considered
-- by the allocator; pending counts those of them not placed yet.
CREATE TABLE allocation_groups (
    grp        TEXT    PRIMARY KEY,
    open       INTEGER NOT NULL DEFAULT 0 CHECK (open IN (0, 1)),
    changed_at INTEGER NOT NULL DEFAULT 0,
    cursor     INTEGER NOT NULL DEFAULT 0 CHECK (cursor >= 0),
    pending    INTEGER NOT NULL DEFAULT 0 CHECK (pending >= 0)
) STRICT, WITHOUT ROWID;

-- version changes with every commit that books or frees a slot: an allocator
-- that computed against an older version is refused and starts again.
CREATE TABLE allocation_state (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
) STRICT;
INSERT INTO allocation_state (id, version) VALUES (1, 0);

-- A person's appointments: one row per booked registration, both doses in
-- it, so "one appointment per dose per person" is a property of the schema.
-- Keyed by (grp, group_ordinal), the order the allocator books in: every
-- booking is an append at the end of its group's range, never a write into
-- the middle of the registrations table (a group's rows are spread over all
-- of its pages). Whether a registration is scheduled is whether it has a row
-- here; registrations.status keeps what intake and the person decide
-- (waiting, cancelled).
CREATE TABLE bookings (
    grp           TEXT    NOT NULL,
    group_ordinal INTEGER NOT NULL,
    sequence      INTEGER NOT NULL,         -- registrations.sequence
    center        TEXT    NOT NULL,
    vaccine       TEXT    NOT NULL,
    booked_by     TEXT    NOT NULL,         -- 'allocator' or 'feed'
    booked_at     INTEGER NOT NULL,         -- Unix milliseconds
    dose1_start   INTEGER NOT NULL,         -- Unix seconds
    dose1_state   TEXT    NOT NULL DEFAULT 'booked'
                  CHECK (dose1_state IN ('booked', 'checked_in', 'given', 'no_show')),
    dose1_lot     TEXT,
    dose2_start   INTEGER,                  -- NULL for a one-dose vaccine
    dose2_state   TEXT
                  CHECK (dose2_state IN ('booked', 'checked_in', 'given', 'no_show')),
    dose2_lot     TEXT,
    PRIMARY KEY (grp, group_ordinal)
) STRICT, WITHOUT ROWID;

-- Bookings per slot. Slots themselves come from the centers' agendas; a row
-- exists once a slot has been booked, and lists who is booked in it
-- ("sequence.dose" separated by spaces): the center's day agenda. The CHECK
-- is what makes overbooking impossible whatever the application does. Keyed
-- by start first: the allocator reads the future (start >= now) as one range.
CREATE TABLE slots (
    start    INTEGER NOT NULL,              -- Unix seconds
    center   TEXT    NOT NULL,
    capacity INTEGER NOT NULL CHECK (capacity >= 0),
    booked   INTEGER NOT NULL CHECK (booked >= 0 AND booked <= capacity),
    regs     TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (start, center)
) STRICT, WITHOUT ROWID;

-- Registrations the allocator passed but could not place, with the reason
-- operators see. Tried first, in group order, on every run.
CREATE TABLE allocation_pending (
    sequence      INTEGER PRIMARY KEY,
    grp           TEXT    NOT NULL,
    group_ordinal INTEGER NOT NULL,
    department    TEXT    NOT NULL,
    age           INTEGER NOT NULL,
    reason        TEXT    NOT NULL,
    since         INTEGER NOT NULL          -- Unix milliseconds
) STRICT;
CREATE INDEX allocation_pending_order ON allocation_pending (grp, group_ordinal);

-- Notification requests, written in the same transaction as what they tell;
-- the notification worker (a later issue) delivers and marks them.
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY,
    registration INTEGER NOT NULL,
    kind         TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,          -- Unix milliseconds
    sent_at      INTEGER
) STRICT;

-- Bearer tokens, stored as SHA-256 hashes only.
CREATE TABLE tokens (
    hash       BLOB    PRIMARY KEY,
    role       TEXT    NOT NULL CHECK (role IN ('admin', 'center', 'feed')),
    center     TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Waiting positions now come from the groups' cursors (ordinal - cursor +
-- pending), not from counting everyone who left the list: this index would
-- take an insert for every one of millions of scheduled registrations.
DROP INDEX registrations_departed;

-- +goose Down
CREATE INDEX registrations_departed ON registrations (grp, group_ordinal) WHERE status <> 'waiting';
DROP TABLE tokens;
DROP TABLE outbox;
DROP TABLE allocation_pending;
DROP TABLE slots;
DROP TABLE bookings;
DROP TABLE allocation_state;
DROP TABLE allocation_groups;
DROP TABLE centers;
