-- +goose Up
-- What happened to appointments after they were made: doses given (vaccine,
-- lot), check-ins, no-shows, cancellations and requests for another date.
-- A released booking row is deleted (its slots go back to the pool), so this
-- is also where a cancelled or missed appointment is remembered; the status
-- answer shows the last release and the place-in-line rule applied to it.
CREATE TABLE appointment_events (
    id           INTEGER PRIMARY KEY,
    registration INTEGER NOT NULL,          -- registrations.sequence
    dose         INTEGER NOT NULL,          -- 0: the whole booking
    center       TEXT    NOT NULL,
    vaccine      TEXT    NOT NULL,
    kind         TEXT    NOT NULL,          -- checked_in, given, no_show, cancel, reschedule
    place        TEXT    NOT NULL DEFAULT '', -- keep_place, back_of_line, or '' (left the list)
    lot          TEXT    NOT NULL DEFAULT '',
    at           INTEGER NOT NULL           -- Unix milliseconds
) STRICT;
CREATE INDEX appointment_events_registration ON appointment_events (registration, id);

-- +goose Down
DROP TABLE appointment_events;
