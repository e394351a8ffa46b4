package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/turnero/turnero/internal/turnero"
)

var _ turnero.AllocationStore = (*DB)(nil)

// centerDefinition is the JSON a center's row keeps: everything but the id
// and department, which are columns.
type centerDefinition struct {
	Name       string                    `json:"name"`
	Locality   string                    `json:"locality,omitempty"`
	Address    string                    `json:"address,omitempty"`
	Latitude   float64                   `json:"latitude"`
	Longitude  float64                   `json:"longitude"`
	Vaccines   []string                  `json:"vaccines"`
	Days       []time.Weekday            `json:"days"`
	Opens      int                       `json:"opens"`
	Closes     int                       `json:"closes"`
	SlotMin    int                       `json:"slot_minutes"`
	PerSlot    int                       `json:"people_per_slot"`
	Exceptions []turnero.CenterException `json:"exceptions,omitempty"`
}

// UpsertCenters stores centers by id in one transaction.
func (db *DB) UpsertCenters(ctx context.Context, centers []turnero.Center) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin upsert centers: %w", err)
	}
	defer tx.Rollback()
	st, err := tx.PrepareContext(ctx, `INSERT INTO centers (id, department, definition, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET department = excluded.department, definition = excluded.definition,
		updated_at = excluded.updated_at`)
	if err != nil {
		return fmt.Errorf("upsert centers: %w", err)
	}
	now := time.Now().UnixMilli()
	for _, c := range centers {
		def, err := json.Marshal(centerDefinition{
			Name: c.Name, Locality: c.Locality, Address: c.Address, Latitude: c.Latitude, Longitude: c.Longitude,
			Vaccines: c.Vaccines, Days: c.Days, Opens: c.Opens, Closes: c.Closes, SlotMin: c.SlotMinutes,
			PerSlot: c.PerSlot, Exceptions: c.Exceptions,
		})
		if err != nil {
			return fmt.Errorf("encode center %s: %w", c.ID, err)
		}
		if _, err := st.ExecContext(ctx, c.ID, c.Department, string(def), now); err != nil {
			return fmt.Errorf("upsert center %s: %w", c.ID, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE allocation_state SET version = version + 1 WHERE id = 1`); err != nil {
		return fmt.Errorf("upsert centers: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit centers: %w", err)
	}
	return nil
}

func scanCenter(sc interface{ Scan(...any) error }) (turnero.Center, error) {
	var id, dept, def string
	if err := sc.Scan(&id, &dept, &def); err != nil {
		return turnero.Center{}, err
	}
	return decodeCenter(id, dept, def)
}

// decodeCenter builds a center from its row.
func decodeCenter(id, dept, def string) (turnero.Center, error) {
	c := turnero.Center{ID: id, Department: dept}
	var d centerDefinition
	if err := json.Unmarshal([]byte(def), &d); err != nil {
		return c, fmt.Errorf("decode center %s: %w", c.ID, err)
	}
	c.Name, c.Locality, c.Address, c.Latitude, c.Longitude = d.Name, d.Locality, d.Address, d.Latitude, d.Longitude
	c.Vaccines, c.Days, c.Opens, c.Closes, c.SlotMinutes, c.PerSlot, c.Exceptions =
		d.Vaccines, d.Days, d.Opens, d.Closes, d.SlotMin, d.PerSlot, d.Exceptions
	return c, nil
}

// Centers lists every center by id.
func (db *DB) Centers(ctx context.Context) ([]turnero.Center, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, department, definition FROM centers ORDER BY id`)
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
	rows, err := q.QueryContext(ctx, `SELECT grp, open, changed_at, cursor, pending FROM allocation_groups ORDER BY grp`)
	if err != nil {
		return nil, fmt.Errorf("group states: %w", err)
	}
	defer rows.Close()
	var out []turnero.GroupState
	for rows.Next() {
		var g turnero.GroupState
		var changed int64
		if err := rows.Scan(&g.Group, &g.Open, &changed, &g.Cursor, &g.Pending); err != nil {
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

// waitingPage pages through a group's waiting list in order. It walks the
// (grp, group_ordinal) index and reads each row by its primary key; within a
// group both increase together, so the table is read in order too.
func (db *DB) waitingPage(ctx context.Context, group string, after int64, limit int) ([]turnero.Candidate, error) {
	rows, err := db.bulk().QueryContext(ctx, `SELECT sequence, group_ordinal, department, age FROM registrations
		WHERE grp = ? AND group_ordinal > ? AND status = 'waiting' ORDER BY group_ordinal LIMIT ?`, group, after, limit)
	if err != nil {
		return nil, fmt.Errorf("waiting after %d in %s: %w", after, group, err)
	}
	defer rows.Close()
	out := make([]turnero.Candidate, 0, min(limit, 65536))
	for rows.Next() {
		c := turnero.Candidate{Group: group}
		if err := rows.Scan(&c.Sequence, &c.Ordinal, &c.Department, &c.Age); err != nil {
			return nil, fmt.Errorf("waiting after %d in %s: %w", after, group, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("waiting after %d in %s: %w", after, group, err)
	}
	return out, nil
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

func conflict(what string, err error) error {
	return &turnero.Error{Code: turnero.CodeConflict, Key: turnero.ErrAllocationConflict.Key, Err: fmt.Errorf("%s: %w", what, err)}
}

// CommitAllocation writes one step of an allocation run in one transaction:
// the version check, the appointments, the registrations' new status, the
// slot bookings (their CHECK refuses overbooking), the pending list, the
// cursors and one outbox row per scheduled registration.
func (db *DB) CommitAllocation(ctx context.Context, b turnero.AllocationBatch) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin allocation: %w", err)
	}
	defer tx.Rollback()
	if err := commitAllocation(ctx, tx, b); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit allocation: %w", err)
	}
	return nil
}

type slotKey struct {
	start  int64
	center string
}

func commitAllocation(ctx context.Context, tx *sql.Tx, b turnero.AllocationBatch) error {
	res, err := tx.ExecContext(ctx, `UPDATE allocation_state SET version = version + 1 WHERE id = 1 AND version = ?`, b.Version)
	if err != nil {
		return fmt.Errorf("allocation version: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return conflict("allocation version", fmt.Errorf("version %d is stale", b.Version))
	}
	at := b.At.UnixMilli()
	if bk := b.Bookings; len(bk) > 0 {
		for i := range bk {
			if n := len(bk[i].Starts); n < 1 || n > 2 {
				return &turnero.Error{Code: turnero.CodeInvalid, Key: "invalid_request",
					Err: fmt.Errorf("registration %d: %d doses; one or two are booked", bk[i].Sequence, n)}
			}
		}
		// The primary key (grp, group_ordinal) refuses a second booking of
		// the same person, whoever makes it.
		_, err := execRows(ctx, tx, `INSERT OR ROLLBACK INTO bookings (grp, group_ordinal, sequence, center, vaccine,
			booked_by, booked_at, dose1_start, dose2_start, dose2_state) VALUES `, ``,
			10, len(bk), func(i int, dst []any) []any {
				x := &bk[i]
				var d2, s2 any
				if len(x.Starts) > 1 {
					d2, s2 = x.Starts[1].Unix(), turnero.AppointmentBooked
				}
				return append(dst, x.Group, x.Ordinal, x.Sequence, x.Center, x.Vaccine, x.Source, at, x.Starts[0].Unix(), d2, s2)
			})
		if isConstraint(err) {
			return conflict("book registrations", err)
		}
		if err != nil {
			return fmt.Errorf("book registrations: %w", err)
		}
		if _, err := execRows(ctx, tx, `INSERT OR ROLLBACK INTO outbox (registration, kind, created_at) VALUES `, ``, 3, len(bk),
			func(i int, dst []any) []any { return append(dst, bk[i].Sequence, turnero.NotifyScheduled, at) }); err != nil {
			return fmt.Errorf("outbox: %w", err)
		}
	}
	if err := rebookSecondDoses(ctx, tx, b.SecondDoses, at); err != nil {
		return err
	}
	if len(b.Bookings) > 0 || len(b.SecondDoses) > 0 {
		if err := bookSlots(ctx, tx, b); err != nil {
			return err
		}
	}
	delta := map[string]int64{}
	if len(b.NewPending) > 0 {
		_, err := execRows(ctx, tx, `INSERT OR ROLLBACK INTO allocation_pending (sequence, grp, group_ordinal, department, age, reason, since) VALUES `, ``,
			7, len(b.NewPending), func(i int, dst []any) []any {
				p := &b.NewPending[i]
				return append(dst, p.Sequence, p.Group, p.Ordinal, p.Department, p.Age, p.Reason, p.Since.UnixMilli())
			})
		if isConstraint(err) {
			return conflict("pending", err)
		}
		if err != nil {
			return fmt.Errorf("pending: %w", err)
		}
		for _, p := range b.NewPending {
			delta[p.Group]++
		}
	}
	if len(b.Resolved) > 0 {
		seqs := make([]int64, len(b.Resolved))
		for i, r := range b.Resolved {
			seqs[i] = r.Sequence
			delta[r.Group]--
		}
		n, err := execIn(ctx, tx, `DELETE FROM allocation_pending WHERE sequence IN `, seqs)
		if err != nil {
			return fmt.Errorf("resolve pending: %w", err)
		}
		if n != int64(len(seqs)) {
			return conflict("resolve pending", fmt.Errorf("%d of %d pending registrations are gone", int64(len(seqs))-n, len(seqs)))
		}
	}
	for g := range b.Cursors {
		if _, ok := delta[g]; !ok {
			delta[g] = 0
		}
	}
	for g, d := range delta {
		cur := b.Cursors[g]
		if _, err := tx.ExecContext(ctx, `INSERT INTO allocation_groups (grp, cursor, pending) VALUES (?, ?, ?)
			ON CONFLICT (grp) DO UPDATE SET cursor = max(cursor, excluded.cursor), pending = pending + ?`,
			g, cur, max(d, 0), d); err != nil {
			return fmt.Errorf("group %s cursor: %w", g, err)
		}
	}
	return nil
}

// rebookSecondDoses books second doses again: each booking must be waiting
// for its dose 2 (dose 1 given, dose 2 empty) with the vaccine the allocator
// booked, and its person must be in the queue of second doses; else another
// writer changed it since the snapshot, and the batch is refused.
func rebookSecondDoses(ctx context.Context, tx *sql.Tx, sds []turnero.SecondDoseBooking, at int64) error {
	if len(sds) == 0 {
		return nil
	}
	upd, err := tx.PrepareContext(ctx, `UPDATE bookings SET dose2_start = ?, dose2_state = 'booked', dose2_lot = NULL,
		dose2_center = NULLIF(?, center)
		WHERE grp = ? AND group_ordinal = ? AND sequence = ? AND vaccine = ? AND dose1_state = 'given' AND dose2_start IS NULL`)
	if err != nil {
		return fmt.Errorf("book second doses: %w", err)
	}
	defer upd.Close()
	del, err := tx.PrepareContext(ctx, `DELETE FROM second_doses WHERE sequence = ?`)
	if err != nil {
		return fmt.Errorf("book second doses: %w", err)
	}
	defer del.Close()
	for _, sd := range sds {
		res, err := upd.ExecContext(ctx, sd.Start.Unix(), sd.Center, sd.Group, sd.Ordinal, sd.Sequence, sd.Vaccine)
		if err != nil {
			return fmt.Errorf("book second dose of %d: %w", sd.Sequence, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return conflict("book second dose", fmt.Errorf("registration %d is not waiting for a second dose of %s", sd.Sequence, sd.Vaccine))
		}
		if res, err = del.ExecContext(ctx, sd.Sequence); err != nil {
			return fmt.Errorf("book second dose of %d: %w", sd.Sequence, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return conflict("book second dose", fmt.Errorf("registration %d left the queue of second doses", sd.Sequence))
		}
	}
	if _, err := execRows(ctx, tx, `INSERT OR ROLLBACK INTO outbox (registration, kind, created_at) VALUES `, ``, 3, len(sds),
		func(i int, dst []any) []any { return append(dst, sds[i].Sequence, turnero.NotifySecondDose, at) }); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	return nil
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

// bookSlots adds the batch's appointments to their slots' counts and lists.
// The capacity is the agenda's, as the allocator computed it; the CHECK on
// the table refuses the whole batch if any slot would be overbooked.
func bookSlots(ctx context.Context, tx *sql.Tx, b turnero.AllocationBatch) error {
	capacity := make(map[slotKey]int, len(b.Slots))
	for _, s := range b.Slots {
		capacity[slotKey{s.Start.Unix(), s.Center}] = s.Capacity
	}
	type slotAdd struct {
		n    int
		regs []byte
	}
	adds := make(map[slotKey]*slotAdd, len(b.Slots))
	keys := make([]slotKey, 0, len(b.Slots))
	add := func(t time.Time, center string, seq int64, dose int) {
		k := slotKey{t.Unix(), center}
		x := adds[k]
		if x == nil {
			x = &slotAdd{}
			adds[k] = x
			keys = append(keys, k)
		}
		x.n++
		x.regs = appendSlotEntry(x.regs, seq, dose)
	}
	for i := range b.Bookings {
		bk := &b.Bookings[i]
		for d, t := range bk.Starts {
			add(t, bk.Center, bk.Sequence, d+1)
		}
	}
	for _, sd := range b.SecondDoses {
		add(sd.Start, sd.Center, sd.Sequence, 2)
	}
	for _, k := range keys {
		if _, ok := capacity[k]; !ok {
			return &turnero.Error{Code: turnero.CodeInvalid, Key: "invalid_request",
				Err: fmt.Errorf("appointment at %s %d without its slot's capacity", k.center, k.start)}
		}
	}
	_, err := execRows(ctx, tx, `INSERT OR ROLLBACK INTO slots (start, center, capacity, booked, regs) VALUES `,
		` ON CONFLICT (start, center) DO UPDATE SET booked = booked + excluded.booked, capacity = excluded.capacity,
			regs = regs || excluded.regs`,
		5, len(keys), func(i int, dst []any) []any {
			k := keys[i]
			x := adds[k]
			return append(dst, k.start, k.center, capacity[k], x.n, string(x.regs))
		})
	if isConstraint(err) {
		return conflict("book slots", err)
	}
	if err != nil {
		return fmt.Errorf("book slots: %w", err)
	}
	return nil
}

// appendSlotEntry writes "sequence.dose " to a slot's list.
func appendSlotEntry(dst []byte, seq int64, dose int) []byte {
	dst = strconv.AppendInt(dst, seq, 10)
	dst = append(dst, '.')
	dst = strconv.AppendInt(dst, int64(dose), 10)
	return append(dst, ' ')
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

// scanAppointments reads a booking as appointments.
func scanAppointments(sc interface{ Scan(...any) error }) (int64, []turnero.Appointment, error) {
	var seq, d1 int64
	var center, vaccine, source, s1 string
	var d2 sql.NullInt64
	var s2, l1, l2, c2 sql.NullString
	if err := sc.Scan(&seq, &center, &vaccine, &source, &d1, &s1, &l1, &d2, &s2, &l2, &c2); err != nil {
		return 0, nil, err
	}
	return seq, bookingAppointments(seq, center, vaccine, source, d1, s1, l1.String, d2, s2, l2, c2), nil
}

// bookingAppointments turns a booking row, in SQLite's types, into its
// appointments by dose.
func bookingAppointments(seq int64, center, vaccine, source string, d1 int64, s1, l1 string,
	d2 sql.NullInt64, s2, l2, c2 sql.NullString) []turnero.Appointment {
	b := turnero.BookingRow{Sequence: seq, Center: center, Vaccine: vaccine, Source: source,
		Dose1Start: time.Unix(d1, 0), Dose1State: s1, Dose1Lot: l1,
		Dose2State: s2.String, Dose2Lot: l2.String, Dose2Center: c2.String}
	if d2.Valid {
		b.Dose2Start = time.Unix(d2.Int64, 0)
	}
	return b.Appointments()
}

// AppointmentsOf lists a registration's appointments by dose.
func (db *DB) AppointmentsOf(ctx context.Context, sequence int64) ([]turnero.Appointment, error) {
	_, out, err := scanAppointments(db.read.QueryRowContext(ctx, `SELECT `+bookingColumns+` FROM registrations r
		JOIN bookings b ON b.grp = r.grp AND b.group_ordinal = r.group_ordinal AND b.sequence = r.sequence
		WHERE r.sequence = ?`, sequence))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("appointments of %d: %w", sequence, err)
	}
	return out, nil
}

// EachAppointment calls fn with every appointment, by registration and dose:
// for exports and for checking invariants in tests.
func (db *DB) EachAppointment(ctx context.Context, fn func(turnero.Appointment) error) error {
	rows, err := db.read.QueryContext(ctx, `SELECT `+bookingColumns+` FROM bookings b ORDER BY b.sequence`)
	if err != nil {
		return fmt.Errorf("appointments: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		_, as, err := scanAppointments(rows)
		if err != nil {
			return fmt.Errorf("appointments: %w", err)
		}
		for _, a := range as {
			if err := fn(a); err != nil {
				return err
			}
		}
	}
	return rows.Err()
}

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
