package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/turnero/turnero/internal/booking"
	"github.com/turnero/turnero/internal/turnero"
)

// The booking rules' primitives (package booking) in PostgreSQL's dialect.
// Batches go in by COPY or in one statement over unnest'ed arrays; times
// are kept to the microsecond; a slot's list of entries is a text array.
//
// They write on the reading pool, not on the writer connection: that one is
// the intake's, and a 20,000-person allocation step must never keep a
// registration batch waiting for a connection. What orders the writes of
// every node is the lock order of package booking (the registration's row,
// then the allocation_state row, ...) and the constraints of the tables, not
// a single connection.

// engine is booking.Engine over a DB.
type engine struct{ db *DB }

var _ booking.Engine = engine{}

// Write runs fn in a read-write transaction on the pool and commits it. The
// commit is synchronous whatever the server's default: what it stores is
// told to people (appointments) or relied on by staff (doses given).
func (e engine) Write(ctx context.Context, what string, fn func(booking.Tx) error) error {
	return e.db.inTx(ctx, what, func(t pgx.Tx) error { return fn(tx{t, e.db}) })
}

// Read runs fn in a read-only REPEATABLE READ transaction: every query of fn
// sees the same snapshot, as the SQLite engine's read transactions do.
func (e engine) Read(ctx context.Context, what string, fn func(booking.ReadTx) error) error {
	return e.db.readTx(ctx, what, func(t pgx.Tx) error { return fn(tx{t, e.db}) })
}

// Conflict reports a violated CHECK or UNIQUE, a deadlock or a
// serialization failure.
func (engine) Conflict(err error) bool { return isConflict(err) }

// WaitingPage pages through a group's waiting registrations in order.
func (e engine) WaitingPage(ctx context.Context, group string, after int64, limit int) ([]turnero.Candidate, error) {
	rows, err := e.db.read.Query(ctx, `SELECT sequence, group_ordinal, department, age FROM registrations
		WHERE grp = $1 AND group_ordinal > $2 AND status = 'waiting' ORDER BY group_ordinal LIMIT $3`, group, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]turnero.Candidate, 0, min(limit, 65536))
	for rows.Next() {
		c := turnero.Candidate{Group: group}
		var age int32
		if err := rows.Scan(&c.Sequence, &c.Ordinal, &c.Department, &age); err != nil {
			return nil, err
		}
		c.Age = int(age)
		out = append(out, c)
	}
	return out, rows.Err()
}

// BookedOrdinals reads the bookings of a range of a group's ordinals.
func (e engine) BookedOrdinals(ctx context.Context, group string, after, through int64) ([]int64, error) {
	rows, err := e.db.read.Query(ctx, `SELECT group_ordinal FROM bookings
		WHERE grp = $1 AND group_ordinal > $2 AND group_ordinal <= $3`, group, after, through)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// tx is booking.Tx over a transaction.
type tx struct {
	tx pgx.Tx
	db *DB
}

func (t tx) registration(ctx context.Context, seq int64, suffix string) (turnero.Registration, error) {
	r, err := scanRegistration(t.tx.QueryRow(ctx, `SELECT `+registrationColumns+` FROM registrations WHERE sequence = $1`+suffix, seq))
	if err != nil && !errors.Is(err, turnero.ErrNotFound) {
		return r, fmt.Errorf("registration %d: %w", seq, err)
	}
	return r, err
}

func (t tx) Registration(ctx context.Context, seq int64) (turnero.Registration, error) {
	return t.registration(ctx, seq, "")
}

// LockRegistration takes the row lock first of all (see booking's lock
// order).
func (t tx) LockRegistration(ctx context.Context, seq int64) (turnero.Registration, error) {
	return t.registration(ctx, seq, " FOR UPDATE")
}

func (t tx) Booking(ctx context.Context, r turnero.Registration) (turnero.BookingRow, bool, error) {
	b, err := scanBookingRow(t.tx.QueryRow(ctx, `SELECT `+bookingColumns+` FROM bookings b WHERE b.sequence = $1`, r.Sequence))
	if errors.Is(err, pgx.ErrNoRows) {
		return b, false, nil
	}
	return b, err == nil, err
}

func (t tx) IsPending(ctx context.Context, seq int64) (bool, error) {
	var ok bool
	err := t.tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM allocation_pending WHERE sequence = $1)`, seq).Scan(&ok)
	return ok, err
}

func (t tx) FirstDoseGiven(ctx context.Context, seq int64) (time.Time, error) {
	var at *time.Time
	err := t.tx.QueryRow(ctx, `SELECT MAX(at) FROM appointment_events WHERE registration = $1 AND dose = 1 AND kind = $2`,
		seq, turnero.EventGiven).Scan(&at)
	if err != nil || at == nil {
		return time.Time{}, err
	}
	return at.UTC(), nil
}

func (t tx) LastEvent(ctx context.Context, seq int64) (turnero.AppointmentEvent, bool, error) {
	e := turnero.AppointmentEvent{Registration: seq}
	var dose int32
	err := t.tx.QueryRow(ctx, `SELECT dose, center, vaccine, kind, place, lot, at FROM appointment_events
		WHERE registration = $1 ORDER BY id DESC LIMIT 1`, seq).Scan(&dose, &e.Center, &e.Vaccine, &e.Kind, &e.Place, &e.Lot, &e.At)
	if errors.Is(err, pgx.ErrNoRows) {
		return turnero.AppointmentEvent{}, false, nil
	}
	e.Dose, e.At = int(dose), e.At.UTC()
	return e, err == nil, err
}

func (t tx) SlotEntries(ctx context.Context, center string, from, to time.Time) ([]booking.SlotEntry, error) {
	rows, err := t.tx.Query(ctx, `SELECT e FROM slots, unnest(regs) WITH ORDINALITY AS u(e, i)
		WHERE start >= $1 AND start < $2 AND center = $3 AND booked > 0 ORDER BY start, i`, from, to, center)
	if err != nil {
		return nil, err
	}
	texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	out := make([]booking.SlotEntry, len(texts))
	for i, s := range texts {
		if out[i], err = booking.ParseSlotEntry(s); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (t tx) SlotBooked(ctx context.Context, center string, start time.Time) (int, error) {
	var booked int32
	err := t.tx.QueryRow(ctx, `SELECT booked FROM slots WHERE start = $1 AND center = $2`, start, center).Scan(&booked)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	return int(booked), err
}

func (t tx) GroupCursor(ctx context.Context, group string) (int64, error) {
	var cursor int64
	err := t.tx.QueryRow(ctx, `SELECT cursor FROM allocation_groups WHERE grp = $1`, group).Scan(&cursor)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	return cursor, err
}

func (t tx) LockVersion(ctx context.Context) (int64, error) {
	var v int64
	err := t.tx.QueryRow(ctx, `SELECT version FROM allocation_state WHERE id = 1 FOR UPDATE`).Scan(&v)
	return v, err
}

func (t tx) MoveVersion(ctx context.Context) error {
	_, err := t.tx.Exec(ctx, `UPDATE allocation_state SET version = version + 1 WHERE id = 1`)
	return err
}

func (t tx) MoveVersionFrom(ctx context.Context, v int64) (bool, error) {
	tag, err := t.tx.Exec(ctx, `UPDATE allocation_state SET version = version + 1 WHERE id = 1 AND version = $1`, v)
	return tag.RowsAffected() == 1, err
}

// InsertBookings writes by COPY, as registrations are written. The primary
// key (grp, group_ordinal) and the unique sequence refuse a second booking
// of the same person.
func (t tx) InsertBookings(ctx context.Context, bk []turnero.Booking, at time.Time) error {
	at = at.Truncate(time.Microsecond)
	_, err := t.tx.CopyFrom(ctx, pgx.Identifier{"bookings"}, []string{"grp", "group_ordinal", "sequence", "center",
		"vaccine", "booked_by", "booked_at", "dose1_start", "dose2_start", "dose2_state"},
		pgx.CopyFromSlice(len(bk), func(i int) ([]any, error) {
			x := &bk[i]
			var d2, s2 any
			if len(x.Starts) > 1 {
				d2, s2 = x.Starts[1], turnero.AppointmentBooked
			}
			return []any{x.Group, x.Ordinal, x.Sequence, x.Center, x.Vaccine, x.Source, at, x.Starts[0], d2, s2}, nil
		}))
	return err
}

// BookSecondDoses books them in one statement.
func (t tx) BookSecondDoses(ctx context.Context, sds []turnero.SecondDoseBooking) (int64, error) {
	seqs := make([]int64, len(sds))
	centers := make([]string, len(sds))
	starts := make([]time.Time, len(sds))
	vaccines := make([]string, len(sds))
	for i, sd := range sds {
		seqs[i], centers[i], starts[i], vaccines[i] = sd.Sequence, sd.Center, sd.Start, sd.Vaccine
	}
	tag, err := t.tx.Exec(ctx, `UPDATE bookings b SET dose2_start = u.s, dose2_state = 'booked', dose2_lot = NULL,
			dose2_center = NULLIF(u.c, b.center)
		FROM unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::text[]) AS u(seq, c, s, v)
		WHERE b.sequence = u.seq AND b.vaccine = u.v AND b.dose1_state = 'given' AND b.dose2_start IS NULL`,
		seqs, centers, starts, vaccines)
	return tag.RowsAffected(), err
}

func (t tx) SetDoseState(ctx context.Context, r turnero.Registration, dose int, state, lot string) error {
	col := "dose" + strconv.Itoa(dose)
	_, err := t.tx.Exec(ctx, `UPDATE bookings SET `+col+`_state = $1, `+col+`_lot = COALESCE(NULLIF($2, ''), `+col+`_lot)
		WHERE sequence = $3`, state, lot, r.Sequence)
	return err
}

func (t tx) ClearSecondDose(ctx context.Context, r turnero.Registration) error {
	_, err := t.tx.Exec(ctx, `UPDATE bookings SET dose2_start = NULL, dose2_state = NULL, dose2_lot = NULL, dose2_center = NULL
		WHERE sequence = $1`, r.Sequence)
	return err
}

func (t tx) DeleteBooking(ctx context.Context, r turnero.Registration) error {
	_, err := t.tx.Exec(ctx, `DELETE FROM bookings WHERE sequence = $1`, r.Sequence)
	return err
}

// AddToSlots upserts every slot in one statement; the CHECK on the table
// refuses the whole batch if any slot would be overbooked.
func (t tx) AddToSlots(ctx context.Context, adds []booking.SlotAdd) error {
	starts := make([]time.Time, len(adds))
	centers := make([]string, len(adds))
	caps := make([]int32, len(adds))
	ns := make([]int32, len(adds))
	regs := make([]string, len(adds))
	var b []byte
	for i, a := range adds {
		b = b[:0]
		for j, e := range a.Entries {
			if j > 0 {
				b = append(b, ' ')
			}
			b = e.AppendText(b)
		}
		starts[i], centers[i], caps[i], ns[i], regs[i] = a.Start, a.Center, int32(a.Capacity), int32(len(a.Entries)), string(b)
	}
	_, err := t.tx.Exec(ctx, `INSERT INTO slots (start, center, capacity, booked, regs)
		SELECT s, c, cap, n, string_to_array(r, ' ')
		FROM unnest($1::timestamptz[], $2::text[], $3::integer[], $4::integer[], $5::text[]) AS u(s, c, cap, n, r)
		ON CONFLICT (start, center) DO UPDATE SET booked = slots.booked + excluded.booked,
			capacity = excluded.capacity, regs = slots.regs || excluded.regs`, starts, centers, caps, ns, regs)
	return err
}

func (t tx) FreeSlot(ctx context.Context, center string, start time.Time, e booking.SlotEntry) (bool, error) {
	tag, err := t.tx.Exec(ctx, `UPDATE slots SET booked = booked - 1, regs = array_remove(regs, $1)
		WHERE start = $2 AND center = $3 AND $1 = ANY(regs)`, e.String(), start, center)
	return tag.RowsAffected() == 1, err
}

func (t tx) InsertPending(ctx context.Context, ps []turnero.Pending) error {
	_, err := t.tx.CopyFrom(ctx, pgx.Identifier{"allocation_pending"},
		[]string{"sequence", "grp", "group_ordinal", "department", "age", "reason", "since"},
		pgx.CopyFromSlice(len(ps), func(i int) ([]any, error) {
			p := &ps[i]
			return []any{p.Sequence, p.Group, p.Ordinal, p.Department, int32(p.Age), p.Reason, p.Since.Truncate(time.Microsecond)}, nil
		}))
	return err
}

func (t tx) DeletePending(ctx context.Context, seqs []int64) (int64, error) {
	tag, err := t.tx.Exec(ctx, `DELETE FROM allocation_pending WHERE sequence = ANY($1)`, seqs)
	return tag.RowsAffected(), err
}

func (t tx) AdvanceGroup(ctx context.Context, group string, cursor, pendingDelta int64) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO allocation_groups (grp, cursor, pending) VALUES ($1, $2, $3)
		ON CONFLICT (grp) DO UPDATE SET cursor = GREATEST(allocation_groups.cursor, excluded.cursor),
			pending = allocation_groups.pending + $4`, group, cursor, max(pendingDelta, 0), pendingDelta)
	return err
}

func (t tx) QueueSecondDose(ctx context.Context, sd turnero.SecondDose) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO second_doses (sequence, grp, group_ordinal, department, vaccine, center, earliest, reason, since)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, sd.Sequence, sd.Group, sd.Ordinal, sd.Department, sd.Vaccine, sd.Center,
		sd.Earliest, sd.Reason, sd.Since.Truncate(time.Microsecond))
	return err
}

func (t tx) DeleteSecondDoses(ctx context.Context, seqs []int64) (int64, error) {
	tag, err := t.tx.Exec(ctx, `DELETE FROM second_doses WHERE sequence = ANY($1)`, seqs)
	return tag.RowsAffected(), err
}

func (t tx) InsertEvent(ctx context.Context, e turnero.AppointmentEvent) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO appointment_events (registration, dose, center, vaccine, kind, place, lot, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, e.Registration, e.Dose, e.Center, e.Vaccine, e.Kind, e.Place, e.Lot,
		e.At.Truncate(time.Microsecond))
	return err
}

func (t tx) InsertOutbox(ctx context.Context, msgs []booking.OutboxRow, at time.Time) error {
	at = at.Truncate(time.Microsecond)
	_, err := t.tx.CopyFrom(ctx, pgx.Identifier{"outbox"}, []string{"registration", "kind", "created_at"},
		pgx.CopyFromSlice(len(msgs), func(i int) ([]any, error) {
			return []any{msgs[i].Registration, msgs[i].Kind, at}, nil
		}))
	return err
}

func (t tx) SetStatus(ctx context.Context, seq int64, status string) error {
	_, err := t.tx.Exec(ctx, `UPDATE registrations SET status = $1 WHERE sequence = $2`, status, seq)
	return err
}

// MoveToBackOfLine numbers under the lock every node's intake takes to
// number registrations, so that the new ordinal is never handed out twice.
func (t tx) MoveToBackOfLine(ctx context.Context, r turnero.Registration) error {
	if _, err := t.tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, lockSpaceRegistrations, t.db.registrationsLock); err != nil {
		return err
	}
	_, err := t.tx.Exec(ctx, `UPDATE registrations SET group_ordinal =
		(SELECT MAX(group_ordinal) + 1 FROM registrations WHERE grp = $1) WHERE sequence = $2`, r.Group, r.Sequence)
	return err
}

// GiveFeedPosition takes the next position from feed_state's row: its lock,
// held to the commit, makes positions visible in the order they were given,
// on every node, so a consumer that read one never misses a smaller one
// committed later.
func (t tx) GiveFeedPosition(ctx context.Context, seq int64) error {
	_, err := t.tx.Exec(ctx, `WITH p AS (UPDATE feed_state SET position = position + 1 WHERE id = 1 RETURNING position)
		UPDATE registrations SET feed_position = (SELECT position FROM p) WHERE sequence = $1`, seq)
	return err
}

// scanBookingRow reads a booking's columns (bookingColumns).
func scanBookingRow(row pgx.Row) (turnero.BookingRow, error) {
	var b turnero.BookingRow
	var d2 *time.Time
	var s2, l1, l2, c2 *string
	if err := row.Scan(&b.Sequence, &b.Center, &b.Vaccine, &b.Source, &b.Dose1Start, &b.Dose1State, &l1, &d2, &s2, &l2, &c2); err != nil {
		return b, err
	}
	b.Dose1Lot, b.Dose2State, b.Dose2Lot, b.Dose2Center = deref(l1), deref(s2), deref(l2), deref(c2)
	if d2 != nil {
		b.Dose2Start = *d2
	}
	return b, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// BookingEngine gives the booking rules' primitives of this engine, for the
// contract's tests of each primitive (package storetest).
func (db *DB) BookingEngine() booking.Engine { return engine{db} }

func (e engine) EachBooking(ctx context.Context, fn func(turnero.BookingRow) error) error {
	rows, err := e.db.read.Query(ctx, `SELECT `+bookingColumns+` FROM bookings b ORDER BY b.sequence`)
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
	_, err := t.tx.Exec(ctx, `INSERT INTO line_gaps (grp, group_ordinal) VALUES ($1, $2) ON CONFLICT DO NOTHING`, group, ordinal)
	return err
}

func (t tx) RemoveLineGap(ctx context.Context, group string, ordinal int64) error {
	_, err := t.tx.Exec(ctx, `DELETE FROM line_gaps WHERE grp = $1 AND group_ordinal = $2`, group, ordinal)
	return err
}

func (t tx) PruneLineGaps(ctx context.Context, group string, through int64) error {
	_, err := t.tx.Exec(ctx, `DELETE FROM line_gaps WHERE grp = $1 AND group_ordinal <= $2`, group, through)
	return err
}
