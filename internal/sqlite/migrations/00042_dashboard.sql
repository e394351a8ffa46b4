-- +goose Up
-- The campaign dashboard's aggregates (turnero.DashboardStore): counters a
-- background worker adds to from what was written after its marks, so that
-- no figure scans the registrations. No personal data: places, groups,
-- ages, channels, days, counts. A backup carries them with the data they
-- count; a restore brings both back together.
CREATE TABLE dash_state (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    reg_seq     INTEGER NOT NULL,   -- last sequence counted
    ev_mark     INTEGER NOT NULL,   -- appointment events: see turnero.EventCursor
    ev_upper    INTEGER NOT NULL,
    ev_id       INTEGER NOT NULL,
    caught_up   INTEGER NOT NULL,   -- Unix milliseconds
    capacity_at INTEGER NOT NULL
) STRICT;
INSERT INTO dash_state VALUES (1, 0, 0, 0, 0, 0, 0);

CREATE TABLE dash_registrations (
    department TEXT    NOT NULL,
    grp        TEXT    NOT NULL,
    age        INTEGER NOT NULL,
    channel    TEXT    NOT NULL,
    n          INTEGER NOT NULL,
    PRIMARY KEY (department, grp, age, channel)
) STRICT, WITHOUT ROWID;

CREATE TABLE dash_localities (
    department TEXT    NOT NULL,
    locality   TEXT    NOT NULL,   -- as people wrote it, folded (see package dashboard)
    n          INTEGER NOT NULL,
    PRIMARY KEY (department, locality)
) STRICT, WITHOUT ROWID;

CREATE TABLE dash_minutes (
    minute INTEGER PRIMARY KEY,    -- Unix time / 60
    n      INTEGER NOT NULL
) STRICT;

-- The same by hour, for series over weeks.
CREATE TABLE dash_hours (
    hour INTEGER PRIMARY KEY,      -- Unix time / 3600
    n    INTEGER NOT NULL
) STRICT;

CREATE TABLE dash_event_totals (
    center     TEXT    NOT NULL,
    department TEXT    NOT NULL,
    vaccine    TEXT    NOT NULL,
    dose       INTEGER NOT NULL,
    kind       TEXT    NOT NULL,
    n          INTEGER NOT NULL,
    PRIMARY KEY (center, department, vaccine, dose, kind)
) STRICT, WITHOUT ROWID;

CREATE TABLE dash_event_days (
    day    TEXT    NOT NULL,       -- YYYY-MM-DD, the campaign's time zone
    center TEXT    NOT NULL,
    dose   INTEGER NOT NULL,
    kind   TEXT    NOT NULL,
    n      INTEGER NOT NULL,
    PRIMARY KEY (day, center, dose, kind)
) STRICT, WITHOUT ROWID;

-- Capacity against bookings, by center and day, around today: a snapshot
-- the worker replaces every half minute from the slots and the agendas.
CREATE TABLE dash_capacity (
    day      TEXT    NOT NULL,
    center   TEXT    NOT NULL,
    capacity INTEGER NOT NULL,
    dose1    INTEGER NOT NULL,
    dose2    INTEGER NOT NULL,
    PRIMARY KEY (day, center)
) STRICT, WITHOUT ROWID;

-- Requests and CPU time of each node, for the cost figures.
CREATE TABLE dash_usage (
    node        TEXT    PRIMARY KEY,
    requests    INTEGER NOT NULL,
    cpu_seconds REAL    NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

-- +goose Down
DROP TABLE dash_usage;
DROP TABLE dash_capacity;
DROP TABLE dash_event_days;
DROP TABLE dash_event_totals;
DROP TABLE dash_hours;
DROP TABLE dash_minutes;
DROP TABLE dash_localities;
DROP TABLE dash_registrations;
DROP TABLE dash_state;
