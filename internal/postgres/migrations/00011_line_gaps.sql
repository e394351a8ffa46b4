-- +goose Up
-- Places in a group's line past its cursor that nobody waits at any more:
-- the person cancelled, or an external system booked them through the feed.
-- A waiting person's position (turnero.PositionInGroup) subtracts those
-- ahead of them, so it moves as soon as someone ahead leaves, not only when
-- the allocator passes. The allocator's commits drop the gaps it passes, so
-- the table holds a few rows per group.
CREATE TABLE line_gaps (
    grp           text   NOT NULL,
    group_ordinal bigint NOT NULL,
    PRIMARY KEY (grp, group_ordinal)
);

-- Those who left before this migration, past their group's cursor.
INSERT INTO line_gaps (grp, group_ordinal)
SELECT r.grp, r.group_ordinal FROM registrations r
LEFT JOIN allocation_groups g ON g.grp = r.grp
WHERE r.group_ordinal > COALESCE(g.cursor, 0)
  AND (r.status = 'cancelled' OR EXISTS (SELECT 1 FROM bookings b WHERE b.sequence = r.sequence));
INSERT INTO allocation_groups (grp) SELECT DISTINCT grp FROM line_gaps
ON CONFLICT (grp) DO NOTHING;

-- +goose Down
DROP TABLE line_gaps;
