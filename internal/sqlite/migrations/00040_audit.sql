-- +goose Up
-- The audit trail (turnero.AuditEntry): who read or changed whose personal
-- data, when and from where. Append-only: the triggers refuse any UPDATE or
-- DELETE, whatever the application does (no route changes it either).
-- registrations lists the sequences an entry names ("1 2 3"); the same pairs
-- are in audit_registrations, keyed by sequence first, to answer "who has
-- seen my data" without reading the whole trail.
CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY,        -- commit order: one writer
    at            INTEGER NOT NULL,           -- Unix milliseconds
    actor         TEXT    NOT NULL,           -- the token's label
    role          TEXT    NOT NULL,
    token_id      TEXT    NOT NULL,
    action        TEXT    NOT NULL,
    address       TEXT    NOT NULL,
    detail        TEXT    NOT NULL,
    registrations TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX audit_log_at ON audit_log (at);

CREATE TABLE audit_registrations (
    sequence INTEGER NOT NULL,
    audit_id INTEGER NOT NULL,
    PRIMARY KEY (sequence, audit_id)
) STRICT, WITHOUT ROWID;

-- +goose StatementBegin
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_registrations_no_update BEFORE UPDATE ON audit_registrations
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_registrations_no_delete BEFORE DELETE ON audit_registrations
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE audit_registrations;
DROP TABLE audit_log;
