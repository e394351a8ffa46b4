-- +goose Up
-- Tokens get two new roles (analyst, support), a label (the actor the audit
-- trail names), an expiry, a revocation and the time they were last used;
-- staff sessions on the pages (see the SQLite engine's 00041).
ALTER TABLE tokens DROP CONSTRAINT tokens_role_check;
ALTER TABLE tokens ADD CONSTRAINT tokens_role_check
    CHECK (role IN ('admin', 'center', 'feed', 'analyst', 'support'));
ALTER TABLE tokens ADD COLUMN id           text;
ALTER TABLE tokens ADD COLUMN label        text NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN expires_at   timestamptz;
ALTER TABLE tokens ADD COLUMN revoked_at   timestamptz;
ALTER TABLE tokens ADD COLUMN last_used_at timestamptz;
UPDATE tokens SET id = encode(substring(hash FROM 1 FOR 6), 'hex');
ALTER TABLE tokens ALTER COLUMN id SET NOT NULL;
CREATE UNIQUE INDEX tokens_id ON tokens (id);

CREATE TABLE sessions (
    hash       bytea       PRIMARY KEY,
    token_hash bytea       NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- +goose Down
DROP TABLE sessions;
DELETE FROM tokens WHERE role NOT IN ('admin', 'center', 'feed') OR revoked_at IS NOT NULL;
DROP INDEX tokens_id;
ALTER TABLE tokens DROP COLUMN last_used_at;
ALTER TABLE tokens DROP COLUMN revoked_at;
ALTER TABLE tokens DROP COLUMN expires_at;
ALTER TABLE tokens DROP COLUMN label;
ALTER TABLE tokens DROP COLUMN id;
ALTER TABLE tokens DROP CONSTRAINT tokens_role_check;
ALTER TABLE tokens ADD CONSTRAINT tokens_role_check CHECK (role IN ('admin', 'center', 'feed'));
