package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/turnero/turnero/internal/turnero"
)

var _ turnero.AppointmentStore = (*DB)(nil)

// readBookingRecord reads a registration, its booking and whether it is
// pending, with q (a write transaction for a change, a read one otherwise).
func readBookingRecord(ctx context.Context, q querier, seq int64) (turnero.BookingRecord, error) {
	var rec turnero.BookingRecord
	r, err := scanRegistration(q.QueryRowContext(ctx, `SELECT `+registrationColumns+` FROM registrations WHERE sequence = ?`, seq))
	if err != nil {
		if errors.Is(err, turnero.ErrNotFound) {
			return rec, err
		}
		return rec, fmt.Errorf("registration %d: %w", seq, err)
	}
	rec.Registration = r
	_, as, err := scanAppointments(q.QueryRowContext(ctx, `SELECT `+bookingColumns+` FROM bookings b
		WHERE b.grp = ? AND b.group_ordinal = ? AND b.sequence = ?`, r.Group, r.GroupOrdinal, seq))
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return rec, fmt.Errorf("booking of %d: %w", seq, err)
	}
	rec.Appointments = as
	var one int
	err = q.QueryRowContext(ctx, `SELECT 1 FROM allocation_pending WHERE sequence = ?`, seq).Scan(&one)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return rec, fmt.Errorf("pending of %d: %w", seq, err)
	}
	rec.Pending = err == nil
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
	var at sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT MAX(at) FROM appointment_events WHERE registration = ? AND dose = 1 AND kind = ?`,
		rec.Registration.Sequence, turnero.EventGiven).Scan(&at)
	if err != nil {
		return time.Time{}, fmt.Errorf("dose 1 of %d: %w", rec.Registration.Sequence, err)
	}
	if !at.Valid {
		return time.Time{}, nil
	}
	return time.UnixMilli(at.Int64).UTC(), nil
}

// ChangeBooking reads, decides and applies in one write transaction, so that
// two changes of one booking (a double click, two staff members) are decided
// one after the other on what the first left.
func (db *DB) ChangeBooking(ctx context.Context, seq int64, at time.Time,
	decide func(turnero.BookingRecord) (turnero.BookingChange, error)) (turnero.BookingRecord, error) {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return turnero.BookingRecord{}, fmt.Errorf("begin booking change: %w", err)
	}
	defer tx.Rollback()
	rec, err := readBookingRecord(ctx, tx, seq)
	if err != nil {
		return rec, err
	}
	if rec.FirstDoseGiven, err = firstDoseGiven(ctx, tx, rec); err != nil {
		return rec, err
	}
	ch, err := decide(rec)
	if err != nil {
		return rec, err
	}
	if err := applyChange(ctx, tx, rec, ch, at); err != nil {
		return rec, fmt.Errorf("change booking of %d: %w", seq, err)
	}
	after, err := readBookingRecord(ctx, tx, seq)
	if err != nil {
		return rec, err
	}
	if err := tx.Commit(); err != nil {
		return rec, fmt.Errorf("commit booking change of %d: %w", seq, err)
	}
	return after, nil
}

func applyChange(ctx context.Context, tx *sql.Tx, rec turnero.BookingRecord, ch turnero.BookingChange, at time.Time) error {
	r := rec.Registration
	ms := at.UnixMilli()
	event := func(dose int, a turnero.Appointment, kind, place, lot string) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO appointment_events (registration, dose, center, vaccine, kind, place, lot, at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, r.Sequence, dose, a.Center, a.Vaccine, kind, place, lot, ms)
		return err
	}
	for _, d := range ch.Doses {
		if d.Dose < 1 || d.Dose > len(rec.Appointments) || d.Dose > 2 {
			return fmt.Errorf("dose %d of a booking of %d", d.Dose, len(rec.Appointments))
		}
		col := "dose" + strconv.Itoa(d.Dose)
		if _, err := tx.ExecContext(ctx, `UPDATE bookings SET `+col+`_state = ?, `+col+`_lot = COALESCE(NULLIF(?, ''), `+col+`_lot)
			WHERE grp = ? AND group_ordinal = ?`, d.State, d.Lot, r.Group, r.GroupOrdinal); err != nil {
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
		if err := requeue(ctx, tx, rec, ch.Place, at); err != nil {
			return err
		}
	} else if ch.Status == turnero.StatusCancelled && rec.Pending {
		// A pending person leaves the list: the group's count goes down.
		if err := unpend(ctx, tx, r); err != nil {
			return err
		}
	}
	if ch.Status != "" && ch.Status != r.Status {
		if _, err := tx.ExecContext(ctx, `UPDATE registrations SET status = ? WHERE sequence = ?`, ch.Status, r.Sequence); err != nil {
			return err
		}
		if len(rec.Appointments) == 0 && ch.Status == turnero.StatusCancelled {
			if err := event(0, turnero.Appointment{}, turnero.EventCancel, "", ""); err != nil {
				return err
			}
		}
	}
	if ch.Notify != "" {
		if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (registration, kind, created_at) VALUES (?, ?, ?)`,
			r.Sequence, ch.Notify, ms); err != nil {
			return err
		}
	}
	return nil
}

// releaseBooking deletes a booking and takes its doses out of their slots'
// counts and lists, and moves the allocation version: an allocator that
// computed with the old counts is refused and starts again.
func releaseBooking(ctx context.Context, tx *sql.Tx, rec turnero.BookingRecord) error {
	r := rec.Registration
	for _, a := range rec.Appointments {
		if err := freeSlot(ctx, tx, r.Sequence, a); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM bookings WHERE grp = ? AND group_ordinal = ?`, r.Group, r.GroupOrdinal); err != nil {
		return fmt.Errorf("delete booking: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE allocation_state SET version = version + 1 WHERE id = 1`); err != nil {
		return fmt.Errorf("allocation version: %w", err)
	}
	return nil
}

// releaseSecondDose frees dose 2 alone (dose 1 was given) and puts the
// person in the queue of second doses, which the allocator serves before any
// first dose; it moves the allocation version, as a release does.
func releaseSecondDose(ctx context.Context, tx *sql.Tx, rec turnero.BookingRecord, sd turnero.SecondDoseRelease, at time.Time) error {
	r := rec.Registration
	if len(rec.Appointments) != 2 || rec.Appointments[0].State != turnero.AppointmentGiven {
		return fmt.Errorf("second dose released from a booking of %d doses, dose 1 not given", len(rec.Appointments))
	}
	d1, d2 := rec.Appointments[0], rec.Appointments[1]
	if err := freeSlot(ctx, tx, r.Sequence, d2); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE bookings SET dose2_start = NULL, dose2_state = NULL, dose2_lot = NULL, dose2_center = NULL
		WHERE grp = ? AND group_ordinal = ?`, r.Group, r.GroupOrdinal); err != nil {
		return fmt.Errorf("release second dose: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO second_doses (sequence, grp, group_ordinal, department, vaccine, center, earliest, reason, since)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.Sequence, r.Group, r.GroupOrdinal, r.Department, d1.Vaccine, d1.Center,
		sd.Earliest.Unix(), sd.Kind, at.UnixMilli()); err != nil {
		return fmt.Errorf("queue second dose: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE allocation_state SET version = version + 1 WHERE id = 1`); err != nil {
		return fmt.Errorf("allocation version: %w", err)
	}
	return nil
}

// requeue puts a released person back in line. Keep place: at their ordinal;
// if the allocator has passed it, in the pending list it tries first on every
// run. Back of the line: a new last ordinal of their group, as if they had
// registered now; their sequence (and tracking code) never change. Either
// way the pull feed offers them again, at a new feed position.
func requeue(ctx context.Context, tx *sql.Tx, rec turnero.BookingRecord, place string, at time.Time) error {
	r := rec.Registration
	if place == "" {
		return nil
	}
	var pos int64
	if err := tx.QueryRowContext(ctx, `UPDATE feed_state SET position = position + 1 WHERE id = 1 RETURNING position`).Scan(&pos); err != nil {
		return fmt.Errorf("feed position: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE registrations SET feed_position = ? WHERE sequence = ?`, pos, r.Sequence); err != nil {
		return fmt.Errorf("feed position: %w", err)
	}
	switch place {
	case turnero.KeepPlace:
		var cursor int64
		err := tx.QueryRowContext(ctx, `SELECT cursor FROM allocation_groups WHERE grp = ?`, r.Group).Scan(&cursor)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("group cursor: %w", err)
		}
		if r.GroupOrdinal > cursor {
			return nil // the allocator reaches them in order
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO allocation_pending (sequence, grp, group_ordinal, department, age, reason, since)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, r.Sequence, r.Group, r.GroupOrdinal, r.Department, r.Age, turnero.ReasonRequeued, at.UnixMilli()); err != nil {
			return fmt.Errorf("requeue: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE allocation_groups SET pending = pending + 1 WHERE grp = ?`, r.Group); err != nil {
			return fmt.Errorf("requeue: %w", err)
		}
		return nil
	case turnero.BackOfLine:
		if _, err := tx.ExecContext(ctx, `UPDATE registrations SET group_ordinal =
			(SELECT MAX(group_ordinal) + 1 FROM registrations WHERE grp = ?) WHERE sequence = ?`, r.Group, r.Sequence); err != nil {
			return fmt.Errorf("back of the line: %w", err)
		}
		return nil
	}
	return fmt.Errorf("unknown place-in-line rule %q", place)
}

// freeSlot takes one dose out of its slot's count and list.
func freeSlot(ctx context.Context, tx *sql.Tx, seq int64, a turnero.Appointment) error {
	entry := " " + strconv.FormatInt(seq, 10) + "." + strconv.Itoa(a.Dose) + " "
	res, err := tx.ExecContext(ctx, `UPDATE slots SET booked = booked - 1, regs = substr(replace(' ' || regs, ?, ' '), 2)
		WHERE start = ? AND center = ? AND instr(' ' || regs, ?) > 0`, entry, a.Start.Unix(), a.Center, entry)
	if err != nil {
		return fmt.Errorf("free slot: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("free slot of %s at %d: the slot does not list dose %d", a.Center, a.Start.Unix(), a.Dose)
	}
	return nil
}

func unpend(ctx context.Context, tx *sql.Tx, r turnero.Registration) error {
	res, err := tx.ExecContext(ctx, `DELETE FROM allocation_pending WHERE sequence = ?`, r.Sequence)
	if err != nil {
		return fmt.Errorf("leave pending: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		if _, err := tx.ExecContext(ctx, `UPDATE allocation_groups SET pending = pending - 1 WHERE grp = ?`, r.Group); err != nil {
			return fmt.Errorf("leave pending: %w", err)
		}
	}
	return nil
}

// DayAgenda reads a center's slots in [from, to) and who is booked in each
// (the slots' lists), in one read transaction.
func (db *DB) DayAgenda(ctx context.Context, center string, from, to time.Time) ([]turnero.AgendaEntry, error) {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("agenda of %s: %w", center, err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT regs FROM slots WHERE start >= ? AND start < ? AND center = ? AND booked > 0
		ORDER BY start`, from.Unix(), to.Unix(), center)
	if err != nil {
		return nil, fmt.Errorf("agenda of %s: %w", center, err)
	}
	type entry struct {
		seq  int64
		dose int
	}
	var entries []entry
	for rows.Next() {
		var regs string
		if err := rows.Scan(&regs); err != nil {
			rows.Close()
			return nil, fmt.Errorf("agenda of %s: %w", center, err)
		}
		for _, f := range strings.Fields(regs) {
			s, d, ok := strings.Cut(f, ".")
			seq, err1 := strconv.ParseInt(s, 10, 64)
			dose, err2 := strconv.Atoi(d)
			if !ok || err1 != nil || err2 != nil {
				rows.Close()
				return nil, fmt.Errorf("agenda of %s: bad slot entry %q", center, f)
			}
			entries = append(entries, entry{seq, dose})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("agenda of %s: %w", center, err)
	}
	out := make([]turnero.AgendaEntry, 0, len(entries))
	for _, e := range entries {
		rec, err := readBookingRecord(ctx, tx, e.seq)
		if err != nil {
			return nil, fmt.Errorf("agenda of %s: %w", center, err)
		}
		if e.dose < 1 || e.dose > len(rec.Appointments) {
			return nil, fmt.Errorf("agenda of %s: registration %d has no dose %d", center, e.seq, e.dose)
		}
		out = append(out, turnero.AgendaEntry{Appointment: rec.Appointments[e.dose-1], Registration: rec.Registration})
	}
	return out, nil
}

// EventsOf lists a registration's appointment events, oldest first.
func (db *DB) EventsOf(ctx context.Context, seq int64) ([]turnero.AppointmentEvent, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT dose, center, vaccine, kind, place, lot, at FROM appointment_events
		WHERE registration = ? ORDER BY id`, seq)
	if err != nil {
		return nil, fmt.Errorf("events of %d: %w", seq, err)
	}
	defer rows.Close()
	var out []turnero.AppointmentEvent
	for rows.Next() {
		e := turnero.AppointmentEvent{Registration: seq}
		var at int64
		if err := rows.Scan(&e.Dose, &e.Center, &e.Vaccine, &e.Kind, &e.Place, &e.Lot, &at); err != nil {
			return nil, fmt.Errorf("events of %d: %w", seq, err)
		}
		e.At = time.UnixMilli(at).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}
