-- +goose Up
-- The SQLite engine's 00009 in PostgreSQL: second doses recorded as missed
-- before 00006 stayed booked in their (past) slots, and nobody queued them to
-- be booked again. Do for them what a missed second dose has done since
-- (releaseSecondDose in change.go): move the allocation version (first, as
-- change.go orders its locks), queue the person with dose 1's vaccine and
-- center, not before the appointment they missed; free the slot.
CREATE TEMP TABLE missed_second_doses ON COMMIT DROP AS
SELECT b.sequence, b.grp, b.group_ordinal, b.vaccine, b.center,
       COALESCE(b.dose2_center, b.center) AS slot_center, b.dose2_start,
       b.sequence || '.2' AS entry
FROM bookings b
WHERE b.dose1_state = 'given' AND b.dose2_state = 'no_show'
  AND NOT EXISTS (SELECT 1 FROM second_doses s WHERE s.sequence = b.sequence);

UPDATE allocation_state SET version = version + 1
WHERE id = 1 AND EXISTS (SELECT 1 FROM missed_second_doses);

INSERT INTO second_doses (sequence, grp, group_ordinal, department, vaccine, center, earliest, reason, since)
SELECT m.sequence, m.grp, m.group_ordinal, r.department, m.vaccine, m.center, m.dose2_start, 'no_show', now()
FROM missed_second_doses m JOIN registrations r ON r.sequence = m.sequence;

UPDATE slots s SET booked = s.booked - m.n,
       regs = ARRAY(SELECT e FROM unnest(s.regs) WITH ORDINALITY AS u(e, i) WHERE e <> ALL (m.entries) ORDER BY i)
FROM (SELECT dose2_start, slot_center, count(*) AS n, array_agg(entry) AS entries
      FROM missed_second_doses GROUP BY dose2_start, slot_center) m
WHERE s.start = m.dose2_start AND s.center = m.slot_center;

UPDATE bookings SET dose2_start = NULL, dose2_state = NULL, dose2_lot = NULL, dose2_center = NULL
WHERE sequence IN (SELECT sequence FROM missed_second_doses);

-- +goose Down
-- Nothing to undo: the people queued are where 00006 would have put them.
SELECT 1;
