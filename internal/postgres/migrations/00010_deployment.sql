-- +goose Up
-- What the database says about itself (turnero.Deployment): its identity,
-- the campaign it runs (pinned at the first start), and its restores.
CREATE TABLE deployment (
    id                  integer     PRIMARY KEY CHECK (id = 1),
    database_id         text        NOT NULL,
    code_salt           text        NOT NULL,       -- '' : tracking codes as before 00010
    epoch               bigint      NOT NULL DEFAULT 0 CHECK (epoch >= 0),
    campaign_id         text        NOT NULL DEFAULT '',
    rules_hash          text        NOT NULL DEFAULT '',
    campaign_source     bytea       NOT NULL DEFAULT '',
    campaign_applied_at timestamptz
);
-- A database that already holds registrations keeps its tracking codes (an
-- empty salt); a new one gets codes of its own.
INSERT INTO deployment (id, database_id, code_salt)
SELECT 1, replace(gen_random_uuid()::text, '-', ''),
       CASE WHEN EXISTS (SELECT 1 FROM registrations) THEN '' ELSE replace(gen_random_uuid()::text, '-', '') END;

-- One row per restore from a backup: the sequences in (after_seq, floor]
-- were acknowledged after the backup and lost.
CREATE TABLE restores (
    epoch       bigint      PRIMARY KEY,
    after_seq   bigint      NOT NULL,
    floor       bigint      NOT NULL,
    restored_at timestamptz NOT NULL
);

-- A center removed while appointments of the past name it is kept for
-- them, retired: out of the agenda.
ALTER TABLE centers ADD COLUMN retired_at timestamptz;

-- +goose Down
ALTER TABLE centers DROP COLUMN retired_at;
DROP TABLE restores;
DROP TABLE deployment;
