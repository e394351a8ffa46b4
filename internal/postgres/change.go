package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/turnero/turnero/internal/turnero"
)

var _ turnero.AppointmentStore = (*DB)(nil)

// Lock order of every write that touches bookings, so that two of them
// never wait for each other: the registration's row (FOR UPDATE), then the
// allocation_state row, then slots. An allocator's commit takes only the
// last two, in that order (and, booking second doses again, the rows of
// those bookings between them, which a change holding the allocation_state
// row never waits for). A re-queue takes feed_state's row last.

// readBookingRecord reads a registration, its booking and whether it is
// pending. With lock, the registration's row is locked until the
// transaction ends: two changes of one booking (a double click, two staff
// members, two nodes) are decided one after the other on what the first
// left, as SQLite's single writer decides them.
func readBookingRecord(ctx context.Context, q querier, seq int64, lock bool) (turnero.BookingRecord, error) {
	var rec turnero.BookingRecord
	sql := `SELECT ` + registrationColumns + ` FROM registrations WHERE sequence = $1`
	if lock {
		sql += ` FOR UPDATE`
	}
	r, err := scanRegistration(q.QueryRow(ctx, sql, seq))
	if err != nil {
		if errors.Is(err, turnero.ErrNotFound) {
			return rec, err
		}
		return rec, fmt.Errorf("registration %d: %w", seq, err)
	}
	rec.Registration = r
	_, as, err := scanAppointments(q.QueryRow(ctx, `SELECT `+bookingColumns+` FROM bookings b WHERE b.sequence = $1`, seq))
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return rec, fmt.Errorf("booking of %d: %w", seq, err)
	}
	rec.Appointments = as
	if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM allocation_pending WHERE sequence = $1)`, seq).Scan(&rec.Pending); err != nil {
		return rec, fmt.Errorf("pending of %d: %w", seq, err)
	}
	return rec, nil
}

// firstDoseGiven reads when dose 1 was recorded as given, for a booking
// whose dose 2 is still to be given: what a second dose booked again counts
// its interval from.
func firstDoseGiven(ctx context.Context, q querier, rec turnero.BookingRecord) (time.Time, error) {
	as := rec.Appointments
	if len(as) == 0 || as[0].State != turnero.AppointmentGiven || (len(as) > 1 && as[1].State == turnero.AppointmentGiven) {
		return time.Time{}, nil
	}
	var at *time.Time
	err := q.QueryRow(ctx, `SELECT MAX(at) FROM appointment_events WHERE registration = $1 AND dose = 1 AND kind = $2`,
		rec.Registration.Sequence, turnero.EventGiven).Scan(&at)
	if err != nil {
		return time.Time{}, fmt.Errorf("dose 1 of %d: %w", rec.Registration.Sequence, err)
	}
	if at == nil {
		return time.Time{}, nil
	}
	return at.UTC(), nil
}

// ChangeBooking reads (locking the registration), decides and applies in one
// transaction.
func (db *DB) ChangeBooking(ctx context.Context, seq int64, at time.Time,
	decide func(turnero.BookingRecord) (turnero.BookingChange, error)) (turnero.BookingRecord, error) {
	var rec, after turnero.BookingRecord
	err := db.inTx(ctx, fmt.Sprintf("booking change of %d", seq), func(tx pgx.Tx) error {
		var err error
		if rec, err = readBookingRecord(ctx, tx, seq, true); err != nil {
			return err
		}
		if rec.FirstDoseGiven, err = firstDoseGiven(ctx, tx, rec); err != nil {
			return err
		}
		ch, err := decide(rec)
		if err != nil {
			return err
		}
		if err := db.applyChange(ctx, tx, rec, ch, at); err != nil {
			if isConflict(err) {
				return conflict(fmt.Sprintf("change booking of %d", seq), err)
			}
			return fmt.Errorf("change booking of %d: %w", seq, err)
		}
		after, err = readBookingRecord(ctx, tx, seq, false)
		return err
	})
	if err != nil {
		return rec, err
	}
	return after, nil
}

func (db *DB) applyChange(ctx context.Context, tx pgx.Tx, rec turnero.BookingRecord, ch turnero.BookingChange, at time.Time) error {
	r := rec.Registration
	at = at.Truncate(time.Microsecond)
	event := func(dose int, a turnero.Appointment, kind, place, lot string) error {
		_, err := tx.Exec(ctx, `INSERT INTO appointment_events (registration, dose, center, vaccine, kind, place, lot, at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, r.Sequence, dose, a.Center, a.Vaccine, kind, place, lot, at)
		return err
	}
	for _, d := range ch.Doses {
		if d.Dose < 1 || d.Dose > len(rec.Appointments) || d.Dose > 2 {
			return fmt.Errorf("dose %d of a booking of %d", d.Dose, len(rec.Appointments))
		}
		col := "dose" + strconv.Itoa(d.Dose)
		if _, err := tx.Exec(ctx, `UPDATE bookings SET `+col+`_state = $1, `+col+`_lot = COALESCE(NULLIF($2, ''), `+col+`_lot)
			WHERE sequence = $3`, d.State, d.Lot, r.Sequence); err != nil {
			return err
		}
		if err := event(d.Dose, rec.Appointments[d.Dose-1], d.State, "", d.Lot); err != nil {
			return err
		}
	}
	if sd := ch.SecondDose; sd != nil {
		if err := releaseSecondDose(ctx, tx, rec, *sd, at); err != nil {
			return err
		}
		if err := event(2, rec.Appointments[1], sd.Kind, turnero.PlaceSecondDose, ""); err != nil {
			return err
		}
	}
	if ch.Release != "" {
		if len(rec.Appointments) == 0 {
			return errors.New("release without a booking")
		}
		if err := releaseBooking(ctx, tx, rec); err != nil {
			return err
		}
		if err := event(0, rec.Appointments[0], ch.Release, ch.Place, ""); err != nil {
			return err
		}
		if err := db.requeue(ctx, tx, rec, ch.Place, at); err != nil {
			return err
		}
	} else if ch.Status == turnero.StatusCancelled && rec.Pending {
		// A pending person leaves the list: the group's count goes down.
		if err := unpend(ctx, tx, r); err != nil {
			return err
		}
	}
	if ch.Status != "" && ch.Status != r.Status {
		if _, err := tx.Exec(ctx, `UPDATE registrations SET status = $1 WHERE sequence = $2`, ch.Status, r.Sequence); err != nil {
			return err
		}
		if len(rec.Appointments) == 0 && ch.Status == turnero.StatusCancelled {
			if err := event(0, turnero.Appointment{}, turnero.EventCancel, "", ""); err != nil {
				return err
			}
		}
	}
	if ch.Notify != "" {
		if _, err := tx.Exec(ctx, `INSERT INTO outbox (registration, kind, created_at) VALUES ($1, $2, $3)`,
			r.Sequence, ch.Notify, at); err != nil {
			return err
		}
	}
	return nil
}

// releaseBooking moves the allocation version (first: see the lock order),
// then takes the booking's doses out of their slots' counts and lists and
// deletes it: an allocator that computed with the old counts is refused and
// starts again.
func releaseBooking(ctx context.Context, tx pgx.Tx, rec turnero.BookingRecord) error {
	r := rec.Registration
	if _, err := tx.Exec(ctx, `UPDATE allocation_state SET version = version + 1 WHERE id = 1`); err != nil {
		return fmt.Errorf("allocation version: %w", err)
	}
	for _, a := range rec.Appointments {
		if err := freeSlot(ctx, tx, r.Sequence, a); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, `DELETE FROM bookings WHERE sequence = $1`, r.Sequence); err != nil {
		return fmt.Errorf("delete booking: %w", err)
	}
	return nil
}

// freeSlot takes one dose out of its slot's count and list.
func freeSlot(ctx context.Context, tx pgx.Tx, seq int64, a turnero.Appointment) error {
	entry := slotEntry(seq, a.Dose)
	tag, err := tx.Exec(ctx, `UPDATE slots SET booked = booked - 1, regs = array_remove(regs, $1)
		WHERE start = $2 AND center = $3 AND $1 = ANY(regs)`, entry, a.Start, a.Center)
	if err != nil {
		return fmt.Errorf("free slot: %w", err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("free slot of %s at %s: the slot does not list dose %d", a.Center, a.Start.Format(time.RFC3339), a.Dose)
	}
	return nil
}

// releaseSecondDose moves the allocation version (first: see the lock
// order), frees dose 2 alone (dose 1 was given) and puts the person in the
// queue of second doses, which the allocator serves before any first dose.
func releaseSecondDose(ctx context.Context, tx pgx.Tx, rec turnero.BookingRecord, sd turnero.SecondDoseRelease, at time.Time) error {
	r := rec.Registration
	if len(rec.Appointments) != 2 || rec.Appointments[0].State != turnero.AppointmentGiven {
		return fmt.Errorf("second dose released from a booking of %d doses, dose 1 not given", len(rec.Appointments))
	}
	d1, d2 := rec.Appointments[0], rec.Appointments[1]
	if _, err := tx.Exec(ctx, `UPDATE allocation_state SET version = version + 1 WHERE id = 1`); err != nil {
		return fmt.Errorf("allocation version: %w", err)
	}
	if err := freeSlot(ctx, tx, r.Sequence, d2); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE bookings SET dose2_start = NULL, dose2_state = NULL, dose2_lot = NULL, dose2_center = NULL
		WHERE sequence = $1`, r.Sequence); err != nil {
		return fmt.Errorf("release second dose: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO second_doses (sequence, grp, group_ordinal, department, vaccine, center, earliest, reason, since)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, r.Sequence, r.Group, r.GroupOrdinal, r.Department, d1.Vaccine, d1.Center,
		sd.Earliest, sd.Kind, at); err != nil {
		return fmt.Errorf("queue second dose: %w", err)
	}
	return nil
}

// requeue puts a released person back in line, and gives them a new feed
// position so that the pull feed offers them again. The position comes from
// feed_state's row, updated last: its lock, held to the commit, makes
// positions visible in the order they were given, on every node, so a
// consumer that read one never misses a smaller one committed later.
func (db *DB) requeue(ctx context.Context, tx pgx.Tx, rec turnero.BookingRecord, place string, at time.Time) error {
	if place == "" {
		return nil
	}
	if err := db.placeInLine(ctx, tx, rec, place, at); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `WITH p AS (UPDATE feed_state SET position = position + 1 WHERE id = 1 RETURNING position)
		UPDATE registrations SET feed_position = (SELECT position FROM p) WHERE sequence = $1`, rec.Registration.Sequence); err != nil {
		return fmt.Errorf("feed position: %w", err)
	}
	return nil
}

// placeInLine: keep place: at their ordinal; if the allocator has passed it,
// in the pending list it tries first on every run. Back of the line: a new
// last ordinal of their group, as if they had registered now, under the lock
// every node's intake takes to number registrations, so that the new ordinal
// is never handed out twice.
func (db *DB) placeInLine(ctx context.Context, tx pgx.Tx, rec turnero.BookingRecord, place string, at time.Time) error {
	r := rec.Registration
	switch place {
	case turnero.KeepPlace:
		var cursor int64
		err := tx.QueryRow(ctx, `SELECT cursor FROM allocation_groups WHERE grp = $1`, r.Group).Scan(&cursor)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("group cursor: %w", err)
		}
		if r.GroupOrdinal > cursor {
			return nil // the allocator reaches them in order
		}
		if _, err := tx.Exec(ctx, `INSERT INTO allocation_pending (sequence, grp, group_ordinal, department, age, reason, since)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, r.Sequence, r.Group, r.GroupOrdinal, r.Department, int32(r.Age),
			turnero.ReasonRequeued, at); err != nil {
			return fmt.Errorf("requeue: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE allocation_groups SET pending = pending + 1 WHERE grp = $1`, r.Group); err != nil {
			return fmt.Errorf("requeue: %w", err)
		}
		return nil
	case turnero.BackOfLine:
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, lockSpaceRegistrations, db.registrationsLock); err != nil {
			return fmt.Errorf("back of the line: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE registrations SET group_ordinal =
			(SELECT MAX(group_ordinal) + 1 FROM registrations WHERE grp = $1) WHERE sequence = $2`, r.Group, r.Sequence); err != nil {
			return fmt.Errorf("back of the line: %w", err)
		}
		return nil
	}
	return fmt.Errorf("unknown place-in-line rule %q", place)
}

func unpend(ctx context.Context, tx pgx.Tx, r turnero.Registration) error {
	tag, err := tx.Exec(ctx, `DELETE FROM allocation_pending WHERE sequence = $1`, r.Sequence)
	if err != nil {
		return fmt.Errorf("leave pending: %w", err)
	}
	if tag.RowsAffected() == 1 {
		if _, err := tx.Exec(ctx, `UPDATE allocation_groups SET pending = pending - 1 WHERE grp = $1`, r.Group); err != nil {
			return fmt.Errorf("leave pending: %w", err)
		}
	}
	return nil
}

// DayAgenda reads a center's slots in [from, to) and who is booked in each
// (the slots' lists), in one snapshot.
func (db *DB) DayAgenda(ctx context.Context, center string, from, to time.Time) ([]turnero.AgendaEntry, error) {
	var out []turnero.AgendaEntry
	err := db.readTx(ctx, "agenda of "+center, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT e FROM slots, unnest(regs) WITH ORDINALITY AS u(e, i)
			WHERE start >= $1 AND start < $2 AND center = $3 AND booked > 0 ORDER BY start, i`, from, to, center)
		if err != nil {
			return fmt.Errorf("agenda of %s: %w", center, err)
		}
		entries, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("agenda of %s: %w", center, err)
		}
		out = make([]turnero.AgendaEntry, 0, len(entries))
		for _, f := range entries {
			s, d, ok := cut(f)
			seq, err1 := strconv.ParseInt(s, 10, 64)
			dose, err2 := strconv.Atoi(d)
			if !ok || err1 != nil || err2 != nil {
				return fmt.Errorf("agenda of %s: bad slot entry %q", center, f)
			}
			rec, err := readBookingRecord(ctx, tx, seq, false)
			if err != nil {
				return fmt.Errorf("agenda of %s: %w", center, err)
			}
			if dose < 1 || dose > len(rec.Appointments) {
				return fmt.Errorf("agenda of %s: registration %d has no dose %d", center, seq, dose)
			}
			out = append(out, turnero.AgendaEntry{Appointment: rec.Appointments[dose-1], Registration: rec.Registration})
		}
		return nil
	})
	return out, err
}

func cut(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// EventsOf lists a registration's appointment events, oldest first.
func (db *DB) EventsOf(ctx context.Context, seq int64) ([]turnero.AppointmentEvent, error) {
	rows, err := db.read.Query(ctx, `SELECT dose, center, vaccine, kind, place, lot, at FROM appointment_events
		WHERE registration = $1 ORDER BY id`, seq)
	if err != nil {
		return nil, fmt.Errorf("events of %d: %w", seq, err)
	}
	defer rows.Close()
	var out []turnero.AppointmentEvent
	for rows.Next() {
		e := turnero.AppointmentEvent{Registration: seq}
		var dose int32
		if err := rows.Scan(&dose, &e.Center, &e.Vaccine, &e.Kind, &e.Place, &e.Lot, &e.At); err != nil {
			return nil, fmt.Errorf("events of %d: %w", seq, err)
		}
		e.Dose, e.At = int(dose), e.At.UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("events of %d: %w", seq, err)
	}
	return out, nil
}
