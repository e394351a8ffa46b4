-- +goose Up
-- The same table as the SQLite engine's, in PostgreSQL's types. Personal data
-- lives only in personal_data, sealed (AES-256-GCM) under key_id; document_hash
-- is a keyed blind index of the document, identity_hash binds it to the birth
-- date. Neither can be reversed without the key file, which never reaches the
-- database.
CREATE TABLE registrations (
    sequence      bigint      PRIMARY KEY CHECK (sequence > 0), -- place in line, never reused;
                                                              -- the tracking code is a keyed permutation of it
    document_hash bytea       NOT NULL UNIQUE,                -- one registration per document, across all nodes
    identity_hash bytea       NOT NULL,
    grp           text        NOT NULL,
    group_ordinal bigint      NOT NULL CHECK (group_ordinal > 0),
    department    text        NOT NULL,
    age           integer     NOT NULL,
    channel       text        NOT NULL,
    status        text        NOT NULL DEFAULT 'waiting',
    key_id        text        NOT NULL,
    personal_data bytea       NOT NULL,
    received_at   timestamptz NOT NULL
);

CREATE UNIQUE INDEX registrations_group_ordinal ON registrations (grp, group_ordinal);
-- Registrations that left the waiting list, to compute positions cheaply.
CREATE INDEX registrations_departed ON registrations (grp, group_ordinal) WHERE status <> 'waiting';

-- +goose Down
DROP TABLE registrations;
