package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/turnero/turnero/internal/booking"
	"github.com/turnero/turnero/internal/turnero"
)

var _ turnero.AllocationStore = (*DB)(nil)

// UpsertCenters stores centers by id in one transaction; a retired center
// imported again is back in the agenda.
func (db *DB) UpsertCenters(ctx context.Context, centers []turnero.Center) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin upsert centers: %w", err)
	}
	defer tx.Rollback()
	if err := upsertCenters(ctx, tx, centers); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit centers: %w", err)
	}
	return nil
}

// upsertCenters stores centers in tx and moves the allocation version: the
// agendas changed.
func upsertCenters(ctx context.Context, tx *sql.Tx, centers []turnero.Center) error {
	if len(centers) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO centers (id, department, definition, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET department = excluded.department, definition = excluded.definition,
		updated_at = excluded.updated_at, retired_at = NULL`)
	if err != nil {
		return fmt.Errorf("upsert centers: %w", err)
	}
	defer st.Close()
	now := time.Now().UnixMilli()
	for _, c := range centers {
		def, err := booking.EncodeCenter(c)
		if err != nil {
			return err
		}
		if _, err := st.ExecContext(ctx, c.ID, c.Department, def, now); err != nil {
			return fmt.Errorf("upsert center %s: %w", c.ID, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE allocation_state SET version = version + 1 WHERE id = 1`); err != nil {
		return fmt.Errorf("upsert centers: %w", err)
	}
	return nil
}

func scanCenter(sc interface{ Scan(...any) error }) (turnero.Center, error) {
	var id, dept, def string
	if err := sc.Scan(&id, &dept, &def); err != nil {
		return turnero.Center{}, err
	}
	return booking.DecodeCenter(id, dept, def)
}

// Centers lists every center by id.
func (db *DB) Centers(ctx context.Context) ([]turnero.Center, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, department, definition FROM centers WHERE retired_at IS NULL ORDER BY id`)
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

// Center returns one center, or ErrNotFound.
func (db *DB) Center(ctx context.Context, id string) (turnero.Center, error) {
	c, err := scanCenter(db.read.QueryRowContext(ctx, `SELECT id, department, definition FROM centers WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, turnero.ErrCenterNotFound
	}
	if err != nil {
		return c, fmt.Errorf("center %s: %w", id, err)
	}
	return c, nil
}

// SetGroupOpen opens or closes a group; its cursor is kept.
func (db *DB) SetGroupOpen(ctx context.Context, group string, open bool, at time.Time) (turnero.GroupState, error) {
	o := 0
	if open {
		o = 1
	}
	var g turnero.GroupState
	var changed int64
	err := db.write.QueryRowContext(ctx, `INSERT INTO allocation_groups (grp, open, changed_at) VALUES (?, ?, ?)
		ON CONFLICT (grp) DO UPDATE SET open = excluded.open,
			changed_at = CASE WHEN open = excluded.open THEN changed_at ELSE excluded.changed_at END
		RETURNING grp, open, changed_at, cursor, pending`, group, o, at.UnixMilli()).
		Scan(&g.Group, &g.Open, &changed, &g.Cursor, &g.Pending)
	if err != nil {
		return g, fmt.Errorf("set group %s open=%v: %w", group, open, err)
	}
	g.ChangedAt = time.UnixMilli(changed).UTC()
	return g, nil
}

// GroupStates lists the groups that were ever opened.
func (db *DB) GroupStates(ctx context.Context) ([]turnero.GroupState, error) {
	return groupStates(ctx, db.read)
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func groupStates(ctx context.Context, q querier) ([]turnero.GroupState, error) {
	rows, err := q.QueryContext(ctx, `SELECT grp, open, changed_at, cursor, pending,
		(SELECT COUNT(*) FROM line_gaps l WHERE l.grp = g.grp AND l.group_ordinal > g.cursor)
		FROM allocation_groups g ORDER BY grp`)
	if err != nil {
		return nil, fmt.Errorf("group states: %w", err)
	}
	defer rows.Close()
	var out []turnero.GroupState
	for rows.Next() {
		var g turnero.GroupState
		var changed int64
		if err := rows.Scan(&g.Group, &g.Open, &changed, &g.Cursor, &g.Pending, &g.Left); err != nil {
			return nil, fmt.Errorf("group states: %w", err)
		}
		g.ChangedAt = time.UnixMilli(changed).UTC()
		out = append(out, g)
	}
	return out, rows.Err()
}

// AllocationState reads the version and the groups together.
func (db *DB) AllocationState(ctx context.Context) (int64, []turnero.GroupState, error) {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return 0, nil, fmt.Errorf("allocation state: %w", err)
	}
	defer tx.Rollback()
	var v int64
	if err := tx.QueryRowContext(ctx, `SELECT version FROM allocation_state WHERE id = 1`).Scan(&v); err != nil {
		return 0, nil, fmt.Errorf("allocation state: %w", err)
	}
	groups, err := groupStates(ctx, tx)
	return v, groups, err
}

// AllocationSnapshot reads version, groups and future bookings in one
// transaction, so that they agree with each other; on the writer's
// connection (see DB.bulk), where it holds the write lock while it reads and
// writes nothing.
func (db *DB) AllocationSnapshot(ctx context.Context, from time.Time) (turnero.AllocationSnapshot, error) {
	var s turnero.AllocationSnapshot
	tx, err := db.bulk().BeginTx(ctx, nil)
	if err != nil {
		return s, fmt.Errorf("allocation snapshot: %w", err)
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, `SELECT version FROM allocation_state WHERE id = 1`).Scan(&s.Version); err != nil {
		return s, fmt.Errorf("allocation snapshot: %w", err)
	}
	if s.Groups, err = groupStates(ctx, tx); err != nil {
		return s, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT start, center, capacity, booked FROM slots WHERE start >= ? AND booked > 0`, from.Unix())
	if err != nil {
		return s, fmt.Errorf("allocation snapshot: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var b turnero.SlotBooking
		var start int64
		if err := rows.Scan(&start, &b.Center, &b.Capacity, &b.Booked); err != nil {
			return s, fmt.Errorf("allocation snapshot: %w", err)
		}
		b.Start = time.Unix(start, 0).UTC()
		s.Bookings = append(s.Bookings, b)
	}
	if err := rows.Err(); err != nil {
		return s, fmt.Errorf("allocation snapshot: %w", err)
	}
	return s, nil
}

// PendingAfter pages through a group's not-yet-placed list in order.
func (db *DB) PendingAfter(ctx context.Context, group string, after int64, limit int) ([]turnero.Pending, error) {
	rows, err := db.bulk().QueryContext(ctx, `SELECT sequence, group_ordinal, department, age, reason, since
		FROM allocation_pending WHERE grp = ? AND group_ordinal > ? ORDER BY group_ordinal LIMIT ?`, group, after, limit)
	if err != nil {
		return nil, fmt.Errorf("pending after %d in %s: %w", after, group, err)
	}
	defer rows.Close()
	var out []turnero.Pending
	for rows.Next() {
		p := turnero.Pending{Candidate: turnero.Candidate{Group: group}}
		var since int64
		if err := rows.Scan(&p.Sequence, &p.Ordinal, &p.Department, &p.Age, &p.Reason, &since); err != nil {
			return nil, fmt.Errorf("pending after %d in %s: %w", after, group, err)
		}
		p.Since = time.UnixMilli(since).UTC()
		out = append(out, p)
	}
	return out, rows.Err()
}

// Rows per multi-row statement: far below SQLite's limit of 32766 bound
// parameters, large enough that the cost of a statement is spread thin.
const rowsPerStatement = 256

// execRows runs one multi-row statement per rowsPerStatement rows: prefix,
// then "(?,...)" per row, then suffix. It returns the rows affected.
func execRows(ctx context.Context, tx *sql.Tx, prefix, suffix string, cols, n int, args func(i int, dst []any) []any) (int64, error) {
	var total int64
	tuple := "(" + strings.Repeat("?,", cols-1) + "?)"
	var full *sql.Stmt
	buf := make([]any, 0, rowsPerStatement*cols)
	for lo := 0; lo < n; lo += rowsPerStatement {
		hi := min(lo+rowsPerStatement, n)
		buf = buf[:0]
		for i := lo; i < hi; i++ {
			buf = args(i, buf)
		}
		var res sql.Result
		var err error
		if hi-lo == rowsPerStatement {
			if full == nil {
				text := prefix + strings.Repeat(tuple+",", rowsPerStatement-1) + tuple + suffix
				if full, err = tx.PrepareContext(ctx, text); err != nil {
					return total, err
				}
				defer full.Close()
			}
			res, err = full.ExecContext(ctx, buf...)
		} else {
			text := prefix + strings.Repeat(tuple+",", hi-lo-1) + tuple + suffix
			res, err = tx.ExecContext(ctx, text, buf...)
		}
		if err != nil {
			return total, err
		}
		k, err := res.RowsAffected()
		if err != nil {
			return total, err
		}
		total += k
	}
	return total, nil
}

// sqliteCode is implemented by the driver's errors.
type sqliteCode interface{ Code() int }

// isConstraint reports whether err is a violated constraint (CHECK, UNIQUE,
// PRIMARY KEY): the database refusing an overbooking or a double booking.
func isConstraint(err error) bool {
	var c sqliteCode
	return errors.As(err, &c) && c.Code()&0xff == 19 // SQLITE_CONSTRAINT
}

// SecondDosesAfter pages through the queue of second doses to book again.
func (db *DB) SecondDosesAfter(ctx context.Context, after int64, limit int) ([]turnero.SecondDose, error) {
	out, err := db.secondDoses(ctx, `SELECT sequence, grp, group_ordinal, department, vaccine, center, earliest, reason, since
		FROM second_doses WHERE sequence > ? ORDER BY sequence LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("second doses after %d: %w", after, err)
	}
	return out, nil
}

// SecondDosesInGroup pages through a group's part of the queue of second
// doses, in group order (its index by group and ordinal).
func (db *DB) SecondDosesInGroup(ctx context.Context, group string, after int64, limit int) ([]turnero.SecondDose, error) {
	out, err := db.secondDoses(ctx, `SELECT sequence, grp, group_ordinal, department, vaccine, center, earliest, reason, since
		FROM second_doses WHERE grp = ? AND group_ordinal > ? ORDER BY group_ordinal LIMIT ?`, group, after, limit)
	if err != nil {
		return nil, fmt.Errorf("second doses after %d in %s: %w", after, group, err)
	}
	return out, nil
}

func (db *DB) secondDoses(ctx context.Context, query string, args ...any) ([]turnero.SecondDose, error) {
	rows, err := db.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []turnero.SecondDose
	for rows.Next() {
		var sd turnero.SecondDose
		var earliest, since int64
		if err := rows.Scan(&sd.Sequence, &sd.Group, &sd.Ordinal, &sd.Department, &sd.Vaccine, &sd.Center, &earliest,
			&sd.Reason, &since); err != nil {
			return nil, err
		}
		sd.Earliest, sd.Since = time.Unix(earliest, 0).UTC(), time.UnixMilli(since).UTC()
		out = append(out, sd)
	}
	return out, rows.Err()
}

// execIn runs prefix followed by "(?,...)" over ids in chunks, and returns
// the rows affected.
func execIn(ctx context.Context, tx *sql.Tx, prefix string, ids []int64) (int64, error) {
	var total int64
	const chunk = 500
	args := make([]any, 0, chunk)
	for lo := 0; lo < len(ids); lo += chunk {
		hi := min(lo+chunk, len(ids))
		args = args[:0]
		for _, id := range ids[lo:hi] {
			args = append(args, id)
		}
		res, err := tx.ExecContext(ctx, prefix+"("+strings.Repeat("?,", hi-lo-1)+"?)", args...)
		if err != nil {
			return total, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

const bookingColumns = `b.sequence, b.center, b.vaccine, b.booked_by, b.dose1_start, b.dose1_state, b.dose1_lot,
	b.dose2_start, b.dose2_state, b.dose2_lot, b.dose2_center`

// SlotBookings lists every booked slot.
func (db *DB) SlotBookings(ctx context.Context) ([]turnero.SlotBooking, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT start, center, capacity, booked FROM slots ORDER BY start, center`)
	if err != nil {
		return nil, fmt.Errorf("slot bookings: %w", err)
	}
	defer rows.Close()
	var out []turnero.SlotBooking
	for rows.Next() {
		var b turnero.SlotBooking
		var start int64
		if err := rows.Scan(&start, &b.Center, &b.Capacity, &b.Booked); err != nil {
			return nil, fmt.Errorf("slot bookings: %w", err)
		}
		b.Start = time.Unix(start, 0).UTC()
		out = append(out, b)
	}
	return out, rows.Err()
}

// OutboxCount counts the notification requests of a kind.
func (db *DB) OutboxCount(ctx context.Context, kind string) (int64, error) {
	var n int64
	if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE kind = ?`, kind).Scan(&n); err != nil {
		return 0, fmt.Errorf("outbox count: %w", err)
	}
	return n, nil
}
