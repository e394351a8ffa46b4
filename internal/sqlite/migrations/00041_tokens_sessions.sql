-- +goose Up
-- Tokens get two new roles (analyst, support), a label (whose it is: the
-- actor the audit trail names), an expiry, a revocation and the time they
-- were last used. SQLite cannot change a CHECK in place: the table is made
-- again, with every token kept as it was (no label, no expiry).
CREATE TABLE tokens_new (
    hash         BLOB    PRIMARY KEY,
    id           TEXT    NOT NULL UNIQUE,   -- public: the hash's first 6 bytes in hex
    role         TEXT    NOT NULL CHECK (role IN ('admin', 'center', 'feed', 'analyst', 'support')),
    center       TEXT    NOT NULL DEFAULT '',
    label        TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,          -- Unix milliseconds
    expires_at   INTEGER,                   -- NULL: never
    revoked_at   INTEGER,
    last_used_at INTEGER
) STRICT, WITHOUT ROWID;
INSERT INTO tokens_new (hash, id, role, center, created_at)
SELECT hash, lower(hex(substr(hash, 1, 6))), role, center, created_at FROM tokens;
DROP TABLE tokens;
ALTER TABLE tokens_new RENAME TO tokens;

-- Staff sessions on the pages: the cookie's secret as its SHA-256 hash, on
-- behalf of a token. In the database so that every node knows them.
CREATE TABLE sessions (
    hash       BLOB    PRIMARY KEY,
    token_hash BLOB    NOT NULL,
    created_at INTEGER NOT NULL,            -- Unix milliseconds
    expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX sessions_expires ON sessions (expires_at);

-- +goose Down
DROP TABLE sessions;
CREATE TABLE tokens_old (
    hash       BLOB    PRIMARY KEY,
    role       TEXT    NOT NULL CHECK (role IN ('admin', 'center', 'feed')),
    center     TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO tokens_old (hash, role, center, created_at)
SELECT hash, role, center, created_at FROM tokens WHERE role IN ('admin', 'center', 'feed') AND revoked_at IS NULL;
DROP TABLE tokens;
ALTER TABLE tokens_old RENAME TO tokens;
