-- +goose Up
-- Second doses recorded as missed before 00006 stayed booked in their (past)
-- slots, and nobody queued them to be booked again. Do for them what a
-- missed second dose has done since (releaseSecondDose in change.go): queue
-- the person with dose 1's vaccine and center, not before the appointment
-- they missed; free the slot; move the allocation version.
CREATE TEMP TABLE missed_second_doses AS
SELECT b.sequence, b.grp, b.group_ordinal, b.vaccine, b.center,
       COALESCE(b.dose2_center, b.center) AS slot_center, b.dose2_start,
       ' ' || b.sequence || '.2 ' AS entry
FROM bookings b
WHERE b.dose1_state = 'given' AND b.dose2_state = 'no_show'
  AND NOT EXISTS (SELECT 1 FROM second_doses s WHERE s.sequence = b.sequence);

INSERT INTO second_doses (sequence, grp, group_ordinal, department, vaccine, center, earliest, reason, since)
SELECT m.sequence, m.grp, m.group_ordinal, r.department, m.vaccine, m.center, m.dose2_start, 'no_show',
       CAST(unixepoch() AS INTEGER) * 1000
FROM missed_second_doses m JOIN registrations r ON r.sequence = m.sequence;

-- A slot may list several of them: take each entry out in turn.
WITH RECURSIVE
    missed AS (
        SELECT dose2_start AS start, slot_center AS center, entry,
               row_number() OVER (PARTITION BY dose2_start, slot_center ORDER BY sequence) AS k
        FROM missed_second_doses),
    cleaned (start, center, k, regs) AS (
        SELECT s.start, s.center, 0, ' ' || s.regs FROM slots s
        WHERE EXISTS (SELECT 1 FROM missed m WHERE m.start = s.start AND m.center = s.center)
        UNION ALL
        SELECT c.start, c.center, c.k + 1, replace(c.regs, m.entry, ' ')
        FROM cleaned c JOIN missed m ON m.start = c.start AND m.center = c.center AND m.k = c.k + 1)
UPDATE slots SET
    regs = (SELECT substr(c.regs, 2) FROM cleaned c WHERE c.start = slots.start AND c.center = slots.center
            ORDER BY c.k DESC LIMIT 1),
    booked = booked - (SELECT count(*) FROM missed m WHERE m.start = slots.start AND m.center = slots.center)
WHERE EXISTS (SELECT 1 FROM missed m WHERE m.start = slots.start AND m.center = slots.center);

UPDATE bookings SET dose2_start = NULL, dose2_state = NULL, dose2_lot = NULL, dose2_center = NULL
WHERE (grp, group_ordinal) IN (SELECT grp, group_ordinal FROM missed_second_doses);

UPDATE allocation_state SET version = version + 1
WHERE id = 1 AND EXISTS (SELECT 1 FROM missed_second_doses);

DROP TABLE missed_second_doses;

-- +goose Down
-- Nothing to undo: the people queued are where 00006 would have put them.
SELECT 1;
