-- +goose Up
-- The change stamp (turnero.ChangeStamper): what the status cache of every
-- node polls to know that status answers changed. It is the allocation
-- version (moved by every booking, release, feed booking and center change)
-- together with this counter, which moves with what the version does not
-- cover: appointment events (doses, check-ins, no-shows, cancellations),
-- groups opened or closed (and their cursors), and a registration's status
-- or place in line changing. New registrations do not move it.
--
-- The SQLite engine reads the same from the tables themselves (the newest
-- event id, the latest group change); here that would be wrong: identity
-- values and timestamps are taken before commit, so a transaction that
-- commits after a later one would not move their maximum. A counter row is
-- moved in commit order.
--
-- The triggers are deferred to the commit, so that the counter's row lock is
-- the last lock any transaction takes: it never waits for another lock while
-- holding this one, and the lock order of the tables (see change.go) stays
-- as it is. They are row triggers because only constraint triggers can be
-- deferred, on tables written a few rows per transaction.
CREATE TABLE change_stamp (
    id integer PRIMARY KEY CHECK (id = 1),
    n  bigint  NOT NULL
);
INSERT INTO change_stamp (id, n) VALUES (1, 0);

-- +goose StatementBegin
CREATE FUNCTION bump_change_stamp() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE change_stamp SET n = n + 1 WHERE id = 1;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE CONSTRAINT TRIGGER appointment_events_change_stamp AFTER INSERT ON appointment_events
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_change_stamp();
CREATE CONSTRAINT TRIGGER allocation_groups_change_stamp AFTER INSERT OR UPDATE OR DELETE ON allocation_groups
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_change_stamp();
CREATE CONSTRAINT TRIGGER registrations_change_stamp AFTER UPDATE OF status, group_ordinal ON registrations
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_change_stamp();

-- +goose Down
DROP TRIGGER registrations_change_stamp ON registrations;
DROP TRIGGER allocation_groups_change_stamp ON allocation_groups;
DROP TRIGGER appointment_events_change_stamp ON appointment_events;
DROP FUNCTION bump_change_stamp();
DROP TABLE change_stamp;
