-- +goose Up
-- Personal data lives only in personal_data, sealed (AES-256-GCM) under key_id.
-- document_hash is a keyed blind index of the document; identity_hash binds the
-- document to the birth date. Neither can be reversed without the key file.
-- One registration per document is enforced by the single writer against an
-- in-memory index of document_hash (see documents.go), not by an on-disk
-- UNIQUE index: random keys made every insert dirty its own index page.
CREATE TABLE registrations (
    sequence      INTEGER PRIMARY KEY,          -- place in line, never reused;
                                                -- the tracking code is a keyed permutation of it
    document_hash BLOB    NOT NULL,             -- one registration per document (see above)
    identity_hash BLOB    NOT NULL,
    grp           TEXT    NOT NULL,
    group_ordinal INTEGER NOT NULL,
    department    TEXT    NOT NULL,
    age           INTEGER NOT NULL,
    channel       TEXT    NOT NULL,
    status        TEXT    NOT NULL DEFAULT 'waiting',
    key_id        TEXT    NOT NULL,
    personal_data BLOB    NOT NULL,
    received_at   INTEGER NOT NULL              -- Unix milliseconds
) STRICT;

CREATE UNIQUE INDEX registrations_group_ordinal ON registrations (grp, group_ordinal);
-- Registrations that left the waiting list, to compute positions cheaply.
CREATE INDEX registrations_departed ON registrations (grp, group_ordinal) WHERE status <> 'waiting';

-- +goose Down
DROP TABLE registrations;
