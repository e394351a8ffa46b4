package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/turnero/turnero/internal/booking"
	"github.com/turnero/turnero/internal/turnero"
)

// The booking rules' primitives (package booking) in SQLite's dialect. Times
// are kept as Unix seconds for appointment and slot starts, Unix
// milliseconds for when things happened; a slot's list of entries is text,
// each entry followed by a space, so that one is found and cut out with
// instr and replace.

// engine is booking.Engine over a DB.
type engine struct{ db *DB }

var _ booking.Engine = engine{}

// Write runs fn in a write transaction on the single writer connection:
// BEGIN IMMEDIATE, so it holds SQLite's write lock from the start.
func (e engine) Write(ctx context.Context, what string, fn func(booking.Tx) error) error {
	t, err := e.db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin %s: %w", what, err)
	}
	defer t.Rollback()
	if err := fn(tx{t}); err != nil {
		return err
	}
	if err := t.Commit(); err != nil {
		return fmt.Errorf("commit %s: %w", what, err)
	}
	return nil
}

// Read runs fn in a read transaction on a reader: one snapshot of the WAL.
func (e engine) Read(ctx context.Context, what string, fn func(booking.ReadTx) error) error {
	t, err := e.db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin %s: %w", what, err)
	}
	defer t.Rollback()
	return fn(tx{t})
}

// Conflict reports a violated constraint (CHECK, UNIQUE, PRIMARY KEY).
func (engine) Conflict(err error) bool { return isConstraint(err) }

// WaitingPage pages through a group's waiting list in order, on the
// writer's connection (see DB.bulk). It walks the (grp, group_ordinal)
// index and reads each row by its primary key; within a group both increase
// together, so the table is read in order too.
func (e engine) WaitingPage(ctx context.Context, group string, after int64, limit int) ([]turnero.Candidate, error) {
	rows, err := e.db.bulk().QueryContext(ctx, `SELECT sequence, group_ordinal, department, age FROM registrations
		WHERE grp = ? AND group_ordinal > ? AND status = 'waiting' ORDER BY group_ordinal LIMIT ?`, group, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]turnero.Candidate, 0, min(limit, 65536))
	for rows.Next() {
		c := turnero.Candidate{Group: group}
		if err := rows.Scan(&c.Sequence, &c.Ordinal, &c.Department, &c.Age); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// BookedOrdinals reads the bookings of a range of a group's ordinals.
func (e engine) BookedOrdinals(ctx context.Context, group string, after, through int64) ([]int64, error) {
	rows, err := e.db.bulk().QueryContext(ctx, `SELECT group_ordinal FROM bookings
		WHERE grp = ? AND group_ordinal > ? AND group_ordinal <= ?`, group, after, through)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var o int64
		if err := rows.Scan(&o); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// tx is booking.Tx over a transaction.
type tx struct{ tx *sql.Tx }

func (t tx) Registration(ctx context.Context, seq int64) (turnero.Registration, error) {
	r, err := scanRegistration(t.tx.QueryRowContext(ctx, `SELECT `+registrationColumns+` FROM registrations WHERE sequence = ?`, seq))
	if err != nil && !errors.Is(err, turnero.ErrNotFound) {
		return r, fmt.Errorf("registration %d: %w", seq, err)
	}
	return r, err
}

// LockRegistration is Registration: the transaction holds the write lock.
func (t tx) LockRegistration(ctx context.Context, seq int64) (turnero.Registration, error) {
	return t.Registration(ctx, seq)
}

func (t tx) Booking(ctx context.Context, r turnero.Registration) (turnero.BookingRow, bool, error) {
	row, err := scanBookingRow(t.tx.QueryRowContext(ctx, `SELECT `+bookingColumns+` FROM bookings b
		WHERE b.grp = ? AND b.group_ordinal = ? AND b.sequence = ?`, r.Group, r.GroupOrdinal, r.Sequence))
	if errors.Is(err, sql.ErrNoRows) {
		return row, false, nil
	}
	return row, err == nil, err
}

func (t tx) IsPending(ctx context.Context, seq int64) (bool, error) {
	var one int
	err := t.tx.QueryRowContext(ctx, `SELECT 1 FROM allocation_pending WHERE sequence = ?`, seq).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

func (t tx) FirstDoseGiven(ctx context.Context, seq int64) (time.Time, error) {
	var at sql.NullInt64
	err := t.tx.QueryRowContext(ctx, `SELECT MAX(at) FROM appointment_events WHERE registration = ? AND dose = 1 AND kind = ?`,
		seq, turnero.EventGiven).Scan(&at)
	if err != nil || !at.Valid {
		return time.Time{}, err
	}
	return time.UnixMilli(at.Int64).UTC(), nil
}

func (t tx) LastEvent(ctx context.Context, seq int64) (turnero.AppointmentEvent, bool, error) {
	e := turnero.AppointmentEvent{Registration: seq}
	var at int64
	err := t.tx.QueryRowContext(ctx, `SELECT dose, center, vaccine, kind, place, lot, at FROM appointment_events
		WHERE registration = ? ORDER BY id DESC LIMIT 1`, seq).Scan(&e.Dose, &e.Center, &e.Vaccine, &e.Kind, &e.Place, &e.Lot, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return turnero.AppointmentEvent{}, false, nil
	}
	e.At = time.UnixMilli(at).UTC()
	return e, err == nil, err
}

func (t tx) SlotEntries(ctx context.Context, center string, from, to time.Time) ([]booking.SlotEntry, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT regs FROM slots WHERE start >= ? AND start < ? AND center = ? AND booked > 0
		ORDER BY start`, from.Unix(), to.Unix(), center)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []booking.SlotEntry
	for rows.Next() {
		var regs string
		if err := rows.Scan(&regs); err != nil {
			return nil, err
		}
		for _, f := range strings.Fields(regs) {
			e, err := booking.ParseSlotEntry(f)
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
	}
	return out, rows.Err()
}

func (t tx) SlotBooked(ctx context.Context, center string, start time.Time) (int, error) {
	var booked int
	err := t.tx.QueryRowContext(ctx, `SELECT booked FROM slots WHERE start = ? AND center = ?`, start.Unix(), center).Scan(&booked)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return booked, err
}

func (t tx) GroupCursor(ctx context.Context, group string) (int64, error) {
	var cursor int64
	err := t.tx.QueryRowContext(ctx, `SELECT cursor FROM allocation_groups WHERE grp = ?`, group).Scan(&cursor)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return cursor, err
}

func (t tx) LockVersion(ctx context.Context) (int64, error) {
	var v int64
	err := t.tx.QueryRowContext(ctx, `SELECT version FROM allocation_state WHERE id = 1`).Scan(&v)
	return v, err
}

func (t tx) MoveVersion(ctx context.Context) error {
	_, err := t.tx.ExecContext(ctx, `UPDATE allocation_state SET version = version + 1 WHERE id = 1`)
	return err
}

func (t tx) MoveVersionFrom(ctx context.Context, v int64) (bool, error) {
	res, err := t.tx.ExecContext(ctx, `UPDATE allocation_state SET version = version + 1 WHERE id = 1 AND version = ?`, v)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// InsertBookings writes multi-row INSERTs; the primary key (grp,
// group_ordinal) refuses a second booking of the same person.
func (t tx) InsertBookings(ctx context.Context, bk []turnero.Booking, at time.Time) error {
	ms := at.UnixMilli()
	_, err := execRows(ctx, t.tx, `INSERT OR ROLLBACK INTO bookings (grp, group_ordinal, sequence, center, vaccine,
		booked_by, booked_at, dose1_start, dose2_start, dose2_state) VALUES `, ``,
		10, len(bk), func(i int, dst []any) []any {
			x := &bk[i]
			var d2, s2 any
			if len(x.Starts) > 1 {
				d2, s2 = x.Starts[1].Unix(), turnero.AppointmentBooked
			}
			return append(dst, x.Group, x.Ordinal, x.Sequence, x.Center, x.Vaccine, x.Source, ms, x.Starts[0].Unix(), d2, s2)
		})
	return err
}

func (t tx) BookSecondDoses(ctx context.Context, sds []turnero.SecondDoseBooking) (int64, error) {
	upd, err := t.tx.PrepareContext(ctx, `UPDATE bookings SET dose2_start = ?, dose2_state = 'booked', dose2_lot = NULL,
		dose2_center = NULLIF(?, center)
		WHERE grp = ? AND group_ordinal = ? AND sequence = ? AND vaccine = ? AND dose1_state = 'given' AND dose2_start IS NULL`)
	if err != nil {
		return 0, err
	}
	defer upd.Close()
	var total int64
	for _, sd := range sds {
		res, err := upd.ExecContext(ctx, sd.Start.Unix(), sd.Center, sd.Group, sd.Ordinal, sd.Sequence, sd.Vaccine)
		if err != nil {
			return total, fmt.Errorf("second dose of %d: %w", sd.Sequence, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

func (t tx) SetDoseState(ctx context.Context, r turnero.Registration, dose int, state, lot string) error {
	col := "dose" + strconv.Itoa(dose)
	_, err := t.tx.ExecContext(ctx, `UPDATE bookings SET `+col+`_state = ?, `+col+`_lot = COALESCE(NULLIF(?, ''), `+col+`_lot)
		WHERE grp = ? AND group_ordinal = ?`, state, lot, r.Group, r.GroupOrdinal)
	return err
}

func (t tx) ClearSecondDose(ctx context.Context, r turnero.Registration) error {
	_, err := t.tx.ExecContext(ctx, `UPDATE bookings SET dose2_start = NULL, dose2_state = NULL, dose2_lot = NULL, dose2_center = NULL
		WHERE grp = ? AND group_ordinal = ?`, r.Group, r.GroupOrdinal)
	return err
}

func (t tx) DeleteBooking(ctx context.Context, r turnero.Registration) error {
	_, err := t.tx.ExecContext(ctx, `DELETE FROM bookings WHERE grp = ? AND group_ordinal = ?`, r.Group, r.GroupOrdinal)
	return err
}

// AddToSlots upserts the slots with multi-row statements; the CHECK on the
// table refuses the whole batch if any slot would be overbooked.
func (t tx) AddToSlots(ctx context.Context, adds []booking.SlotAdd) error {
	var regs []byte
	_, err := execRows(ctx, t.tx, `INSERT OR ROLLBACK INTO slots (start, center, capacity, booked, regs) VALUES `,
		` ON CONFLICT (start, center) DO UPDATE SET booked = booked + excluded.booked, capacity = excluded.capacity,
			regs = regs || excluded.regs`,
		5, len(adds), func(i int, dst []any) []any {
			a := &adds[i]
			regs = regs[:0]
			for _, e := range a.Entries {
				regs = append(e.AppendText(regs), ' ')
			}
			return append(dst, a.Start.Unix(), a.Center, a.Capacity, len(a.Entries), string(regs))
		})
	return err
}

func (t tx) FreeSlot(ctx context.Context, center string, start time.Time, e booking.SlotEntry) (bool, error) {
	entry := " " + e.String() + " "
	res, err := t.tx.ExecContext(ctx, `UPDATE slots SET booked = booked - 1, regs = substr(replace(' ' || regs, ?, ' '), 2)
		WHERE start = ? AND center = ? AND instr(' ' || regs, ?) > 0`, entry, start.Unix(), center, entry)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (t tx) InsertPending(ctx context.Context, ps []turnero.Pending) error {
	_, err := execRows(ctx, t.tx, `INSERT OR ROLLBACK INTO allocation_pending (sequence, grp, group_ordinal, department, age, reason, since) VALUES `, ``,
		7, len(ps), func(i int, dst []any) []any {
			p := &ps[i]
			return append(dst, p.Sequence, p.Group, p.Ordinal, p.Department, p.Age, p.Reason, p.Since.UnixMilli())
		})
	return err
}

func (t tx) DeletePending(ctx context.Context, seqs []int64) (int64, error) {
	return execIn(ctx, t.tx, `DELETE FROM allocation_pending WHERE sequence IN `, seqs)
}

func (t tx) AdvanceGroup(ctx context.Context, group string, cursor, pendingDelta int64) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO allocation_groups (grp, cursor, pending) VALUES (?, ?, ?)
		ON CONFLICT (grp) DO UPDATE SET cursor = max(cursor, excluded.cursor), pending = pending + ?`,
		group, cursor, max(pendingDelta, 0), pendingDelta)
	return err
}

func (t tx) QueueSecondDose(ctx context.Context, sd turnero.SecondDose) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO second_doses (sequence, grp, group_ordinal, department, vaccine, center, earliest, reason, since)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, sd.Sequence, sd.Group, sd.Ordinal, sd.Department, sd.Vaccine, sd.Center,
		sd.Earliest.Unix(), sd.Reason, sd.Since.UnixMilli())
	return err
}

func (t tx) DeleteSecondDoses(ctx context.Context, seqs []int64) (int64, error) {
	return execIn(ctx, t.tx, `DELETE FROM second_doses WHERE sequence IN `, seqs)
}

func (t tx) InsertEvent(ctx context.Context, e turnero.AppointmentEvent) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO appointment_events (registration, dose, center, vaccine, kind, place, lot, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, e.Registration, e.Dose, e.Center, e.Vaccine, e.Kind, e.Place, e.Lot, e.At.UnixMilli())
	return err
}

func (t tx) InsertOutbox(ctx context.Context, msgs []booking.OutboxRow, at time.Time) error {
	ms := at.UnixMilli()
	_, err := execRows(ctx, t.tx, `INSERT OR ROLLBACK INTO outbox (registration, kind, created_at) VALUES `, ``, 3, len(msgs),
		func(i int, dst []any) []any { return append(dst, msgs[i].Registration, msgs[i].Kind, ms) })
	return err
}

func (t tx) SetStatus(ctx context.Context, seq int64, status string) error {
	_, err := t.tx.ExecContext(ctx, `UPDATE registrations SET status = ? WHERE sequence = ?`, status, seq)
	return err
}

// MoveToBackOfLine numbers under the write lock, which intake's batches
// take too.
func (t tx) MoveToBackOfLine(ctx context.Context, r turnero.Registration) error {
	_, err := t.tx.ExecContext(ctx, `UPDATE registrations SET group_ordinal =
		(SELECT MAX(group_ordinal) + 1 FROM registrations WHERE grp = ?) WHERE sequence = ?`, r.Group, r.Sequence)
	return err
}

func (t tx) GiveFeedPosition(ctx context.Context, seq int64) error {
	var pos int64
	if err := t.tx.QueryRowContext(ctx, `UPDATE feed_state SET position = position + 1 WHERE id = 1 RETURNING position`).Scan(&pos); err != nil {
		return err
	}
	_, err := t.tx.ExecContext(ctx, `UPDATE registrations SET feed_position = ? WHERE sequence = ?`, pos, seq)
	return err
}

// scanBookingRow reads a booking's columns (bookingColumns).
func scanBookingRow(sc interface{ Scan(...any) error }) (turnero.BookingRow, error) {
	var b turnero.BookingRow
	var d1 int64
	var d2 sql.NullInt64
	var s2, l1, l2, c2 sql.NullString
	if err := sc.Scan(&b.Sequence, &b.Center, &b.Vaccine, &b.Source, &d1, &b.Dose1State, &l1, &d2, &s2, &l2, &c2); err != nil {
		return b, err
	}
	b.Dose1Start, b.Dose1Lot = time.Unix(d1, 0), l1.String
	b.Dose2State, b.Dose2Lot, b.Dose2Center = s2.String, l2.String, c2.String
	if d2.Valid {
		b.Dose2Start = time.Unix(d2.Int64, 0)
	}
	return b, nil
}

// BookingEngine gives the booking rules' primitives of this engine, for the
// contract's tests of each primitive (package storetest).
func (db *DB) BookingEngine() booking.Engine { return engine{db} }

func (e engine) EachBooking(ctx context.Context, fn func(turnero.BookingRow) error) error {
	rows, err := e.db.read.QueryContext(ctx, `SELECT `+bookingColumns+` FROM bookings b ORDER BY b.sequence`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		b, err := scanBookingRow(rows)
		if err != nil {
			return err
		}
		if err := fn(b); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (t tx) AddLineGap(ctx context.Context, group string, ordinal int64) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO line_gaps (grp, group_ordinal) VALUES (?, ?) ON CONFLICT DO NOTHING`, group, ordinal)
	return err
}

func (t tx) RemoveLineGap(ctx context.Context, group string, ordinal int64) error {
	_, err := t.tx.ExecContext(ctx, `DELETE FROM line_gaps WHERE grp = ? AND group_ordinal = ?`, group, ordinal)
	return err
}

func (t tx) PruneLineGaps(ctx context.Context, group string, through int64) error {
	_, err := t.tx.ExecContext(ctx, `DELETE FROM line_gaps WHERE grp = ? AND group_ordinal <= ?`, group, through)
	return err
}
