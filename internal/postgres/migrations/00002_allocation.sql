-- +goose Up
-- Centers, open groups, slot bookings, appointments, the allocator's cursors
-- and its not-yet-placed list, the notification outbox, access tokens and
-- what happened to appointments: the SQLite engine's tables (its migrations
-- 00002 and 00003) in PostgreSQL's types, with the same constraints, so that
-- the database refuses an overbooking or a second booking whatever a node does.

-- A center and its agenda; the agenda is read whole, never queried.
CREATE TABLE centers (
    id         text        PRIMARY KEY,
    department text        NOT NULL,
    definition jsonb       NOT NULL,
    updated_at timestamptz NOT NULL
);

-- One row per priority group that was ever opened. cursor is "now serving":
-- every registration of the group with group_ordinal <= cursor was considered
-- by the allocator; pending counts those of them not placed yet.
CREATE TABLE allocation_groups (
    grp        text        PRIMARY KEY,
    open       boolean     NOT NULL DEFAULT false,
    changed_at timestamptz NOT NULL DEFAULT 'epoch',
    cursor     bigint      NOT NULL DEFAULT 0 CHECK (cursor >= 0),
    pending    bigint      NOT NULL DEFAULT 0 CHECK (pending >= 0)
);

-- version changes with every commit that books or frees a slot: an allocator
-- that computed against an older version is refused and starts again. The
-- row is also what orders commits of allocators on different nodes: each
-- updates it first, so the second waits for the first and then finds the
-- version moved.
CREATE TABLE allocation_state (
    id      integer PRIMARY KEY CHECK (id = 1),
    version bigint  NOT NULL
);
INSERT INTO allocation_state (id, version) VALUES (1, 0);

-- A person's appointments: one row per booked registration, both doses in
-- it, so "one appointment per dose per person" is a property of the schema;
-- the primary key and the unique sequence refuse a second booking of the
-- same person, whichever node makes it.
CREATE TABLE bookings (
    grp           text        NOT NULL,
    group_ordinal bigint      NOT NULL,
    sequence      bigint      NOT NULL UNIQUE,  -- registrations.sequence
    center        text        NOT NULL,
    vaccine       text        NOT NULL,
    booked_by     text        NOT NULL,         -- 'allocator' or 'feed'
    booked_at     timestamptz NOT NULL,
    dose1_start   timestamptz NOT NULL,
    dose1_state   text        NOT NULL DEFAULT 'booked'
                  CHECK (dose1_state IN ('booked', 'checked_in', 'given', 'no_show')),
    dose1_lot     text,
    dose2_start   timestamptz,                  -- NULL for a one-dose vaccine
    dose2_state   text
                  CHECK (dose2_state IN ('booked', 'checked_in', 'given', 'no_show')),
    dose2_lot     text,
    PRIMARY KEY (grp, group_ordinal)
);

-- Bookings per slot, with who is booked in each ("sequence.dose"): the
-- center's day agenda. The CHECK is what makes overbooking impossible.
CREATE TABLE slots (
    start    timestamptz NOT NULL,
    center   text        NOT NULL,
    capacity integer     NOT NULL CHECK (capacity >= 0),
    booked   integer     NOT NULL CHECK (booked >= 0 AND booked <= capacity),
    regs     text[]      NOT NULL DEFAULT '{}',
    PRIMARY KEY (start, center)
);

-- Registrations the allocator passed but could not place, with the reason
-- operators see. Tried first, in group order, on every run.
CREATE TABLE allocation_pending (
    sequence      bigint      PRIMARY KEY,
    grp           text        NOT NULL,
    group_ordinal bigint      NOT NULL,
    department    text        NOT NULL,
    age           integer     NOT NULL,
    reason        text        NOT NULL,
    since         timestamptz NOT NULL
);
CREATE INDEX allocation_pending_order ON allocation_pending (grp, group_ordinal);

-- Notification requests, written in the same transaction as what they tell.
CREATE TABLE outbox (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    registration bigint      NOT NULL,
    kind         text        NOT NULL,
    created_at   timestamptz NOT NULL,
    sent_at      timestamptz
);

-- Bearer tokens, stored as SHA-256 hashes only.
CREATE TABLE tokens (
    hash       bytea       PRIMARY KEY,
    role       text        NOT NULL CHECK (role IN ('admin', 'center', 'feed')),
    center     text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL
);

-- What happened to appointments after they were made (see the SQLite
-- engine's 00003): a released booking row is deleted, so this is also where
-- a cancelled or missed appointment is remembered.
CREATE TABLE appointment_events (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    registration bigint      NOT NULL,
    dose         integer     NOT NULL,          -- 0: the whole booking
    center       text        NOT NULL,
    vaccine      text        NOT NULL,
    kind         text        NOT NULL,
    place        text        NOT NULL DEFAULT '',
    lot          text        NOT NULL DEFAULT '',
    at           timestamptz NOT NULL
);
CREATE INDEX appointment_events_registration ON appointment_events (registration, id);

-- Waiting positions now come from the groups' cursors, as in the SQLite
-- engine: scheduled registrations keep status 'waiting' (a booking row says
-- they are scheduled), so counting departures no longer gives a position.
DROP INDEX registrations_departed;

-- +goose Down
CREATE INDEX registrations_departed ON registrations (grp, group_ordinal) WHERE status <> 'waiting';
DROP TABLE appointment_events;
DROP TABLE tokens;
DROP TABLE outbox;
DROP TABLE allocation_pending;
DROP TABLE slots;
DROP TABLE bookings;
DROP TABLE allocation_state;
DROP TABLE allocation_groups;
DROP TABLE centers;
