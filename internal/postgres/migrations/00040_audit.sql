-- +goose Up
-- The audit trail (see the SQLite engine's 00040). Append-only: the
-- triggers refuse UPDATE, DELETE and TRUNCATE. IDs are given under an
-- advisory lock (audit.go), so they increase in commit order and a reader
-- paging by ID never passes over an entry committed late.
CREATE TABLE audit_log (
    id            bigint      PRIMARY KEY,
    at            timestamptz NOT NULL,
    actor         text        NOT NULL,
    role          text        NOT NULL,
    token_id      text        NOT NULL,
    action        text        NOT NULL,
    address       text        NOT NULL,
    detail        text        NOT NULL,
    registrations bigint[]    NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log (at);

CREATE TABLE audit_registrations (
    sequence bigint NOT NULL,
    audit_id bigint NOT NULL,
    PRIMARY KEY (sequence, audit_id)
);

-- +goose StatementBegin
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only';
END
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_registrations_append_only BEFORE UPDATE OR DELETE ON audit_registrations
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_registrations_no_truncate BEFORE TRUNCATE ON audit_registrations
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

-- +goose Down
DROP TABLE audit_registrations;
DROP TABLE audit_log;
DROP FUNCTION audit_append_only();
