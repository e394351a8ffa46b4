package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/turnero/turnero/internal/booking"
	"github.com/turnero/turnero/internal/turnero"
)

var _ turnero.AllocationStore = (*DB)(nil)

// querier is what a pool and a transaction have in common.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// inTx runs fn in a read-write transaction on the pool and commits it. The
// commit is synchronous whatever the server's default: what it stores is
// told to people (appointments) or relied on by staff (doses given).
func (db *DB) inTx(ctx context.Context, what string, fn func(tx pgx.Tx) error) error {
	tx, err := db.read.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin %s: %w", what, err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit TO on`); err != nil {
		return fmt.Errorf("begin %s: %w", what, err)
	}
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit %s: %w", what, err)
	}
	return nil
}

// readTx runs fn in a read-only REPEATABLE READ transaction: every query of
// fn sees the same snapshot, as the SQLite engine's read transactions do.
func (db *DB) readTx(ctx context.Context, what string, fn func(tx pgx.Tx) error) error {
	tx, err := db.read.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("begin %s: %w", what, err)
	}
	defer tx.Rollback(context.Background())
	return fn(tx)
}

// isConflict reports whether err is the database refusing what two writers
// did at once: a violated CHECK (an overbooked slot) or UNIQUE (a second
// booking of one person, a pending row twice), or a deadlock or
// serialization failure that another attempt would not meet.
func isConflict(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	switch pe.Code {
	case "23505", "23514", "40001", "40P01":
		return true
	}
	return false
}

// UpsertCenters stores centers by id in one transaction, and moves the
// allocation version: the agendas changed.
func (db *DB) UpsertCenters(ctx context.Context, centers []turnero.Center) error {
	return db.inTx(ctx, "upsert centers", func(tx pgx.Tx) error { return upsertCenters(ctx, tx, centers) })
}

// upsertCenters stores centers in tx, a retired one back in the agenda, and
// moves the allocation version (first: every allocation write takes its row
// first).
func upsertCenters(ctx context.Context, tx pgx.Tx, centers []turnero.Center) error {
	if len(centers) == 0 {
		return nil
	}
	ids := make([]string, len(centers))
	depts := make([]string, len(centers))
	defs := make([]string, len(centers))
	for i, c := range centers {
		def, err := booking.EncodeCenter(c)
		if err != nil {
			return err
		}
		ids[i], depts[i], defs[i] = c.ID, c.Department, def
	}
	if _, err := tx.Exec(ctx, `UPDATE allocation_state SET version = version + 1 WHERE id = 1`); err != nil {
		return fmt.Errorf("upsert centers: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO centers (id, department, definition, updated_at)
		SELECT id, dept, def::jsonb, now() FROM unnest($1::text[], $2::text[], $3::text[]) AS u(id, dept, def)
		ON CONFLICT (id) DO UPDATE SET department = excluded.department, definition = excluded.definition,
			updated_at = excluded.updated_at, retired_at = NULL`, ids, depts, defs); err != nil {
		return fmt.Errorf("upsert centers: %w", err)
	}
	return nil
}

func scanCenter(row pgx.Row) (turnero.Center, error) {
	var id, dept, def string
	if err := row.Scan(&id, &dept, &def); err != nil {
		return turnero.Center{}, err
	}
	return booking.DecodeCenter(id, dept, def)
}

// Centers lists every center by id.
func (db *DB) Centers(ctx context.Context) ([]turnero.Center, error) {
	rows, err := db.read.Query(ctx, `SELECT id, department, definition::text FROM centers WHERE retired_at IS NULL ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list centers: %w", err)
	}
	defer rows.Close()
	var out []turnero.Center
	for rows.Next() {
		c, err := scanCenter(rows)
		if err != nil {
			return nil, fmt.Errorf("list centers: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list centers: %w", err)
	}
	return out, nil
}

// Center returns one center, or ErrCenterNotFound.
func (db *DB) Center(ctx context.Context, id string) (turnero.Center, error) {
	c, err := scanCenter(db.read.QueryRow(ctx, `SELECT id, department, definition::text FROM centers WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return c, turnero.ErrCenterNotFound
	}
	if err != nil {
		return c, fmt.Errorf("center %s: %w", id, err)
	}
	return c, nil
}

// SetGroupOpen opens or closes a group; its cursor is kept. Times are kept
// to the millisecond, as the SQLite engine keeps them.
func (db *DB) SetGroupOpen(ctx context.Context, group string, open bool, at time.Time) (turnero.GroupState, error) {
	var g turnero.GroupState
	err := db.read.QueryRow(ctx, `INSERT INTO allocation_groups (grp, open, changed_at) VALUES ($1, $2, $3)
		ON CONFLICT (grp) DO UPDATE SET open = excluded.open,
			changed_at = CASE WHEN allocation_groups.open = excluded.open THEN allocation_groups.changed_at
				ELSE excluded.changed_at END
		RETURNING grp, open, changed_at, cursor, pending`, group, open, at.Truncate(time.Millisecond)).
		Scan(&g.Group, &g.Open, &g.ChangedAt, &g.Cursor, &g.Pending)
	if err != nil {
		return g, fmt.Errorf("set group %s open=%v: %w", group, open, err)
	}
	g.ChangedAt = g.ChangedAt.UTC()
	return g, nil
}

// GroupStates lists the groups that were ever opened.
func (db *DB) GroupStates(ctx context.Context) ([]turnero.GroupState, error) {
	return groupStates(ctx, db.read)
}

func groupStates(ctx context.Context, q querier) ([]turnero.GroupState, error) {
	rows, err := q.Query(ctx, `SELECT grp, open, changed_at, cursor, pending,
		(SELECT COUNT(*) FROM line_gaps l WHERE l.grp = g.grp AND l.group_ordinal > g.cursor)
		FROM allocation_groups g ORDER BY grp`)
	if err != nil {
		return nil, fmt.Errorf("group states: %w", err)
	}
	defer rows.Close()
	var out []turnero.GroupState
	for rows.Next() {
		var g turnero.GroupState
		if err := rows.Scan(&g.Group, &g.Open, &g.ChangedAt, &g.Cursor, &g.Pending, &g.Left); err != nil {
			return nil, fmt.Errorf("group states: %w", err)
		}
		g.ChangedAt = g.ChangedAt.UTC()
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("group states: %w", err)
	}
	return out, nil
}

// AllocationState reads the version and the groups in one snapshot.
func (db *DB) AllocationState(ctx context.Context) (int64, []turnero.GroupState, error) {
	var v int64
	var groups []turnero.GroupState
	err := db.readTx(ctx, "allocation state", func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT version FROM allocation_state WHERE id = 1`).Scan(&v); err != nil {
			return fmt.Errorf("allocation state: %w", err)
		}
		var err error
		groups, err = groupStates(ctx, tx)
		return err
	})
	return v, groups, err
}

// AllocationSnapshot reads version, groups and future bookings in one
// snapshot, so that they agree with each other.
func (db *DB) AllocationSnapshot(ctx context.Context, from time.Time) (turnero.AllocationSnapshot, error) {
	var s turnero.AllocationSnapshot
	err := db.readTx(ctx, "allocation snapshot", func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT version FROM allocation_state WHERE id = 1`).Scan(&s.Version); err != nil {
			return fmt.Errorf("allocation snapshot: %w", err)
		}
		var err error
		if s.Groups, err = groupStates(ctx, tx); err != nil {
			return err
		}
		s.Bookings, err = slotBookings(ctx, tx, `SELECT start, center, capacity, booked FROM slots
			WHERE start >= $1 AND booked > 0`, from)
		return err
	})
	return s, err
}

func slotBookings(ctx context.Context, q querier, sql string, args ...any) ([]turnero.SlotBooking, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("slot bookings: %w", err)
	}
	defer rows.Close()
	var out []turnero.SlotBooking
	for rows.Next() {
		var b turnero.SlotBooking
		var capacity, booked int32
		if err := rows.Scan(&b.Start, &b.Center, &capacity, &booked); err != nil {
			return nil, fmt.Errorf("slot bookings: %w", err)
		}
		b.Start, b.Capacity, b.Booked = b.Start.UTC(), int(capacity), int(booked)
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("slot bookings: %w", err)
	}
	return out, nil
}

// PendingAfter pages through a group's not-yet-placed list in order.
func (db *DB) PendingAfter(ctx context.Context, group string, after int64, limit int) ([]turnero.Pending, error) {
	rows, err := db.read.Query(ctx, `SELECT sequence, group_ordinal, department, age, reason, since
		FROM allocation_pending WHERE grp = $1 AND group_ordinal > $2 ORDER BY group_ordinal LIMIT $3`, group, after, limit)
	if err != nil {
		return nil, fmt.Errorf("pending after %d in %s: %w", after, group, err)
	}
	defer rows.Close()
	var out []turnero.Pending
	for rows.Next() {
		p := turnero.Pending{Candidate: turnero.Candidate{Group: group}}
		var age int32
		if err := rows.Scan(&p.Sequence, &p.Ordinal, &p.Department, &age, &p.Reason, &p.Since); err != nil {
			return nil, fmt.Errorf("pending after %d in %s: %w", after, group, err)
		}
		p.Age, p.Since = int(age), p.Since.UTC()
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pending after %d in %s: %w", after, group, err)
	}
	return out, nil
}

// SecondDosesAfter pages through the queue of second doses to book again.
func (db *DB) SecondDosesAfter(ctx context.Context, after int64, limit int) ([]turnero.SecondDose, error) {
	out, err := db.secondDoses(ctx, `SELECT sequence, grp, group_ordinal, department, vaccine, center, earliest, reason, since
		FROM second_doses WHERE sequence > $1 ORDER BY sequence LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("second doses after %d: %w", after, err)
	}
	return out, nil
}

// SecondDosesInGroup pages through a group's part of the queue of second
// doses, in group order (its index by group and ordinal).
func (db *DB) SecondDosesInGroup(ctx context.Context, group string, after int64, limit int) ([]turnero.SecondDose, error) {
	out, err := db.secondDoses(ctx, `SELECT sequence, grp, group_ordinal, department, vaccine, center, earliest, reason, since
		FROM second_doses WHERE grp = $1 AND group_ordinal > $2 ORDER BY group_ordinal LIMIT $3`, group, after, limit)
	if err != nil {
		return nil, fmt.Errorf("second doses after %d in %s: %w", after, group, err)
	}
	return out, nil
}

func (db *DB) secondDoses(ctx context.Context, query string, args ...any) ([]turnero.SecondDose, error) {
	rows, err := db.read.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []turnero.SecondDose
	for rows.Next() {
		var sd turnero.SecondDose
		if err := rows.Scan(&sd.Sequence, &sd.Group, &sd.Ordinal, &sd.Department, &sd.Vaccine, &sd.Center, &sd.Earliest,
			&sd.Reason, &sd.Since); err != nil {
			return nil, err
		}
		sd.Earliest, sd.Since = sd.Earliest.UTC(), sd.Since.UTC()
		out = append(out, sd)
	}
	return out, rows.Err()
}

const bookingColumns = `b.sequence, b.center, b.vaccine, b.booked_by, b.dose1_start, b.dose1_state, b.dose1_lot,
	b.dose2_start, b.dose2_state, b.dose2_lot, b.dose2_center`

// SlotBookings lists every booked slot.
func (db *DB) SlotBookings(ctx context.Context) ([]turnero.SlotBooking, error) {
	return slotBookings(ctx, db.read, `SELECT start, center, capacity, booked FROM slots ORDER BY start, center`)
}

// OutboxCount counts the notification requests of a kind.
func (db *DB) OutboxCount(ctx context.Context, kind string) (int64, error) {
	var n int64
	if err := db.read.QueryRow(ctx, `SELECT COUNT(*) FROM outbox WHERE kind = $1`, kind).Scan(&n); err != nil {
		return 0, fmt.Errorf("outbox count: %w", err)
	}
	return n, nil
}
