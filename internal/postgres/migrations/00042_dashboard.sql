-- +goose Up
-- The campaign dashboard's aggregates (see the SQLite engine's 00042).
-- Appointment events get the id of the transaction that wrote them: the
-- worker reads events of transactions older than the oldest one still
-- running, so one that commits after a later one is never passed over
-- (identity values are taken before commit, not in commit order).
ALTER TABLE appointment_events ADD COLUMN xact xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX appointment_events_xact ON appointment_events (xact, id);

CREATE TABLE dash_state (
    id          integer     PRIMARY KEY CHECK (id = 1),
    reg_seq     bigint      NOT NULL,
    ev_mark     bigint      NOT NULL,
    ev_upper    bigint      NOT NULL,
    ev_id       bigint      NOT NULL,
    caught_up   timestamptz,
    capacity_at timestamptz
);
INSERT INTO dash_state (id, reg_seq, ev_mark, ev_upper, ev_id) VALUES (1, 0, 0, 0, 0);

CREATE TABLE dash_registrations (
    department text    NOT NULL,
    grp        text    NOT NULL,
    age        integer NOT NULL,
    channel    text    NOT NULL,
    n          bigint  NOT NULL,
    PRIMARY KEY (department, grp, age, channel)
);

CREATE TABLE dash_localities (
    department text   NOT NULL,
    locality   text   NOT NULL,
    n          bigint NOT NULL,
    PRIMARY KEY (department, locality)
);

CREATE TABLE dash_minutes (
    minute bigint PRIMARY KEY,
    n      bigint NOT NULL
);

CREATE TABLE dash_hours (
    hour bigint PRIMARY KEY,
    n    bigint NOT NULL
);

CREATE TABLE dash_event_totals (
    center     text    NOT NULL,
    department text    NOT NULL,
    vaccine    text    NOT NULL,
    dose       integer NOT NULL,
    kind       text    NOT NULL,
    n          bigint  NOT NULL,
    PRIMARY KEY (center, department, vaccine, dose, kind)
);

CREATE TABLE dash_event_days (
    day    text    NOT NULL,
    center text    NOT NULL,
    dose   integer NOT NULL,
    kind   text    NOT NULL,
    n      bigint  NOT NULL,
    PRIMARY KEY (day, center, dose, kind)
);

CREATE TABLE dash_capacity (
    day      text    NOT NULL,
    center   text    NOT NULL,
    capacity bigint  NOT NULL,
    dose1    bigint  NOT NULL,
    dose2    bigint  NOT NULL,
    PRIMARY KEY (day, center)
);

CREATE TABLE dash_usage (
    node        text             PRIMARY KEY,
    requests    bigint           NOT NULL,
    cpu_seconds double precision NOT NULL,
    updated_at  timestamptz      NOT NULL
);

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
DROP INDEX appointment_events_xact;
ALTER TABLE appointment_events DROP COLUMN xact;
