-- +goose Up
-- What the database says about itself (turnero.Deployment): its identity,
-- the campaign it runs (pinned at the first start), and its restores.
CREATE TABLE deployment (
    id                  INTEGER PRIMARY KEY CHECK (id = 1),
    database_id         TEXT    NOT NULL,
    code_salt           TEXT    NOT NULL,       -- '' : tracking codes as before 00010
    epoch               INTEGER NOT NULL DEFAULT 0 CHECK (epoch >= 0),
    campaign_id         TEXT    NOT NULL DEFAULT '',
    rules_hash          TEXT    NOT NULL DEFAULT '',
    campaign_source     BLOB    NOT NULL DEFAULT x'',
    campaign_applied_at INTEGER NOT NULL DEFAULT 0  -- Unix milliseconds
) STRICT;
-- A database that already holds registrations keeps its tracking codes (an
-- empty salt); a new one gets codes of its own.
INSERT INTO deployment (id, database_id, code_salt)
SELECT 1, lower(hex(randomblob(16))),
       CASE WHEN EXISTS (SELECT 1 FROM registrations) THEN '' ELSE lower(hex(randomblob(16))) END;

-- One row per restore from a backup: the sequences in (after_seq, floor]
-- were acknowledged after the backup and lost.
CREATE TABLE restores (
    epoch       INTEGER PRIMARY KEY,
    after_seq   INTEGER NOT NULL,
    floor       INTEGER NOT NULL,
    restored_at INTEGER NOT NULL              -- Unix milliseconds
) STRICT;

-- A center removed while appointments of the past name it is kept for
-- them, retired: out of the agenda.
ALTER TABLE centers ADD COLUMN retired_at INTEGER;

-- +goose Down
ALTER TABLE centers DROP COLUMN retired_at;
DROP TABLE restores;
DROP TABLE deployment;
