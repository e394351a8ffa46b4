package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/turnero/turnero/internal/turnero"
)

var _ turnero.AllocationStore = (*DB)(nil)

// Allocation, appointment changes, the feed and tokens write on the reading
// pool, not on the writer connection: that one is the intake's, and a
// 20,000-person allocation step must never keep a registration batch waiting
// for a connection. What orders allocation writes of every node is the
// allocation_state row (each commit updates it first, checking the version)
// and the constraints of the tables, not a single connection.

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

func conflict(what string, err error) error {
	return &turnero.Error{Code: turnero.CodeConflict, Key: turnero.ErrAllocationConflict.Key, Err: fmt.Errorf("%s: %w", what, err)}
}

// centerDefinition is the JSON a center's row keeps: everything but the id
// and department, which are columns. The same document as the SQLite
// engine's.
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

// UpsertCenters stores centers by id in one transaction, and moves the
// allocation version: the agendas changed.
func (db *DB) UpsertCenters(ctx context.Context, centers []turnero.Center) error {
	ids := make([]string, len(centers))
	depts := make([]string, len(centers))
	defs := make([]string, len(centers))
	for i, c := range centers {
		def, err := json.Marshal(centerDefinition{
			Name: c.Name, Locality: c.Locality, Address: c.Address, Latitude: c.Latitude, Longitude: c.Longitude,
			Vaccines: c.Vaccines, Days: c.Days, Opens: c.Opens, Closes: c.Closes, SlotMin: c.SlotMinutes,
			PerSlot: c.PerSlot, Exceptions: c.Exceptions,
		})
		if err != nil {
			return fmt.Errorf("encode center %s: %w", c.ID, err)
		}
		ids[i], depts[i], defs[i] = c.ID, c.Department, string(def)
	}
	return db.inTx(ctx, "upsert centers", func(tx pgx.Tx) error {
		// The version first: every allocation write takes this row first.
		if _, err := tx.Exec(ctx, `UPDATE allocation_state SET version = version + 1 WHERE id = 1`); err != nil {
			return fmt.Errorf("upsert centers: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO centers (id, department, definition, updated_at)
			SELECT id, dept, def::jsonb, now() FROM unnest($1::text[], $2::text[], $3::text[]) AS u(id, dept, def)
			ON CONFLICT (id) DO UPDATE SET department = excluded.department, definition = excluded.definition,
				updated_at = excluded.updated_at`, ids, depts, defs); err != nil {
			return fmt.Errorf("upsert centers: %w", err)
		}
		return nil
	})
}

func scanCenter(row pgx.Row) (turnero.Center, error) {
	var c turnero.Center
	var def string
	if err := row.Scan(&c.ID, &c.Department, &def); err != nil {
		return c, err
	}
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
	rows, err := db.read.Query(ctx, `SELECT id, department, definition::text FROM centers ORDER BY id`)
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
	rows, err := q.Query(ctx, `SELECT grp, open, changed_at, cursor, pending FROM allocation_groups ORDER BY grp`)
	if err != nil {
		return nil, fmt.Errorf("group states: %w", err)
	}
	defer rows.Close()
	var out []turnero.GroupState
	for rows.Next() {
		var g turnero.GroupState
		if err := rows.Scan(&g.Group, &g.Open, &g.ChangedAt, &g.Cursor, &g.Pending); err != nil {
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

// WaitingAfter is the allocator's page of a group's waiting list: waiting,
// and not booked (an external system may have booked people past the
// cursor through the feed, where the allocator's own bookings never are).
// Two range reads on the two (grp, group_ordinal) indexes, as in the SQLite
// engine, rather than one anti-join: the anti-join's plan depends on the
// statistics of bookings, and a plan made when bookings was small (a hash
// anti-join over the whole table) made every incremental run scan all of
// it: 2.1 s instead of milliseconds at 2.8 M.
func (db *DB) WaitingAfter(ctx context.Context, group string, after int64, limit int) ([]turnero.Candidate, error) {
	var out []turnero.Candidate
	for {
		want := limit - len(out)
		page, err := db.waitingPage(ctx, group, after, want)
		if err != nil || len(page) == 0 {
			if out == nil {
				out = page
			}
			return out, err
		}
		last := page[len(page)-1].Ordinal
		rows, err := db.read.Query(ctx, `SELECT group_ordinal FROM bookings
			WHERE grp = $1 AND group_ordinal > $2 AND group_ordinal <= $3`, group, after, last)
		if err != nil {
			return nil, fmt.Errorf("booked past %d in %s: %w", after, group, err)
		}
		booked := map[int64]bool{}
		var o int64
		if _, err := pgx.ForEachRow(rows, []any{&o}, func() error { booked[o] = true; return nil }); err != nil {
			return nil, fmt.Errorf("booked past %d in %s: %w", after, group, err)
		}
		if len(booked) == 0 && out == nil {
			return page, nil
		}
		for _, c := range page {
			if !booked[c.Ordinal] {
				out = append(out, c)
			}
		}
		if len(page) < want || len(out) >= limit {
			return out, nil
		}
		after = last
	}
}

// waitingPage pages through a group's waiting registrations in order.
func (db *DB) waitingPage(ctx context.Context, group string, after int64, limit int) ([]turnero.Candidate, error) {
	rows, err := db.read.Query(ctx, `SELECT sequence, group_ordinal, department, age FROM registrations
		WHERE grp = $1 AND group_ordinal > $2 AND status = 'waiting' ORDER BY group_ordinal LIMIT $3`, group, after, limit)
	if err != nil {
		return nil, fmt.Errorf("waiting after %d in %s: %w", after, group, err)
	}
	defer rows.Close()
	out := make([]turnero.Candidate, 0, min(limit, 65536))
	for rows.Next() {
		c := turnero.Candidate{Group: group}
		var age int32
		if err := rows.Scan(&c.Sequence, &c.Ordinal, &c.Department, &age); err != nil {
			return nil, fmt.Errorf("waiting after %d in %s: %w", after, group, err)
		}
		c.Age = int(age)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("waiting after %d in %s: %w", after, group, err)
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

// CommitAllocation writes one step of an allocation run in one transaction:
// the version check, the appointments, the slot bookings (their CHECK
// refuses overbooking), the pending list, the cursors and one outbox row per
// scheduled registration.
func (db *DB) CommitAllocation(ctx context.Context, b turnero.AllocationBatch) error {
	return db.inTx(ctx, "allocation", func(tx pgx.Tx) error { return commitAllocation(ctx, tx, b) })
}

type slotKey struct {
	start  int64
	center string
}

func commitAllocation(ctx context.Context, tx pgx.Tx, b turnero.AllocationBatch) error {
	// First, and under the row's lock until commit: an allocator on another
	// node that computed against the same version waits here for this
	// transaction, then finds the version moved and is refused.
	tag, err := tx.Exec(ctx, `UPDATE allocation_state SET version = version + 1 WHERE id = 1 AND version = $1`, b.Version)
	if err != nil {
		if isConflict(err) {
			return conflict("allocation version", err)
		}
		return fmt.Errorf("allocation version: %w", err)
	}
	if tag.RowsAffected() != 1 {
		return conflict("allocation version", fmt.Errorf("version %d is stale", b.Version))
	}
	at := b.At.Truncate(time.Microsecond)
	if bk := b.Bookings; len(bk) > 0 {
		for i := range bk {
			if n := len(bk[i].Starts); n < 1 || n > 2 {
				return &turnero.Error{Code: turnero.CodeInvalid, Key: "invalid_request",
					Err: fmt.Errorf("registration %d: %d doses; one or two are booked", bk[i].Sequence, n)}
			}
		}
		// COPY, as registrations are written. The primary key (grp,
		// group_ordinal) and the unique sequence refuse a second booking
		// of the same person, whoever makes it.
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"bookings"}, []string{"grp", "group_ordinal", "sequence", "center",
			"vaccine", "booked_by", "booked_at", "dose1_start", "dose2_start", "dose2_state"},
			pgx.CopyFromSlice(len(bk), func(i int) ([]any, error) {
				x := &bk[i]
				var d2, s2 any
				if len(x.Starts) > 1 {
					d2, s2 = x.Starts[1], turnero.AppointmentBooked
				}
				return []any{x.Group, x.Ordinal, x.Sequence, x.Center, x.Vaccine, x.Source, at, x.Starts[0], d2, s2}, nil
			}))
		if isConflict(err) {
			return conflict("book registrations", err)
		}
		if err != nil {
			return fmt.Errorf("book registrations: %w", err)
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"outbox"}, []string{"registration", "kind", "created_at"},
			pgx.CopyFromSlice(len(bk), func(i int) ([]any, error) {
				return []any{bk[i].Sequence, turnero.NotifyScheduled, at}, nil
			})); err != nil {
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
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"allocation_pending"},
			[]string{"sequence", "grp", "group_ordinal", "department", "age", "reason", "since"},
			pgx.CopyFromSlice(len(b.NewPending), func(i int) ([]any, error) {
				p := &b.NewPending[i]
				return []any{p.Sequence, p.Group, p.Ordinal, p.Department, int32(p.Age), p.Reason, p.Since.Truncate(time.Microsecond)}, nil
			}))
		if isConflict(err) {
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
		tag, err := tx.Exec(ctx, `DELETE FROM allocation_pending WHERE sequence = ANY($1)`, seqs)
		if err != nil {
			return fmt.Errorf("resolve pending: %w", err)
		}
		if n := tag.RowsAffected(); n != int64(len(seqs)) {
			return conflict("resolve pending", fmt.Errorf("%d of %d pending registrations are gone", int64(len(seqs))-n, len(seqs)))
		}
	}
	for g := range b.Cursors {
		if _, ok := delta[g]; !ok {
			delta[g] = 0
		}
	}
	for g, d := range delta {
		if _, err := tx.Exec(ctx, `INSERT INTO allocation_groups (grp, cursor, pending) VALUES ($1, $2, $3)
			ON CONFLICT (grp) DO UPDATE SET cursor = GREATEST(allocation_groups.cursor, excluded.cursor),
				pending = allocation_groups.pending + $4`, g, b.Cursors[g], max(d, 0), d); err != nil {
			if isConflict(err) {
				return conflict("group "+g+" cursor", err)
			}
			return fmt.Errorf("group %s cursor: %w", g, err)
		}
	}
	return nil
}

// rebookSecondDoses books second doses again, in one statement for the
// bookings and one for the queue: each booking must be waiting for its dose
// 2 (dose 1 given, dose 2 empty) with the vaccine the allocator booked, and
// its person must be in the queue of second doses; else another writer
// changed it since the snapshot, and the batch is refused.
func rebookSecondDoses(ctx context.Context, tx pgx.Tx, sds []turnero.SecondDoseBooking, at time.Time) error {
	if len(sds) == 0 {
		return nil
	}
	seqs := make([]int64, len(sds))
	centers := make([]string, len(sds))
	starts := make([]time.Time, len(sds))
	vaccines := make([]string, len(sds))
	for i, sd := range sds {
		seqs[i], centers[i], starts[i], vaccines[i] = sd.Sequence, sd.Center, sd.Start, sd.Vaccine
	}
	tag, err := tx.Exec(ctx, `UPDATE bookings b SET dose2_start = u.s, dose2_state = 'booked', dose2_lot = NULL,
			dose2_center = NULLIF(u.c, b.center)
		FROM unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::text[]) AS u(seq, c, s, v)
		WHERE b.sequence = u.seq AND b.vaccine = u.v AND b.dose1_state = 'given' AND b.dose2_start IS NULL`,
		seqs, centers, starts, vaccines)
	if err != nil {
		if isConflict(err) {
			return conflict("book second doses", err)
		}
		return fmt.Errorf("book second doses: %w", err)
	}
	if n := tag.RowsAffected(); n != int64(len(sds)) {
		return conflict("book second doses", fmt.Errorf("%d of %d registrations are not waiting for a second dose", int64(len(sds))-n, len(sds)))
	}
	if tag, err = tx.Exec(ctx, `DELETE FROM second_doses WHERE sequence = ANY($1)`, seqs); err != nil {
		return fmt.Errorf("book second doses: %w", err)
	}
	if n := tag.RowsAffected(); n != int64(len(sds)) {
		return conflict("book second doses", fmt.Errorf("%d of %d registrations left the queue of second doses", int64(len(sds))-n, len(sds)))
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"outbox"}, []string{"registration", "kind", "created_at"},
		pgx.CopyFromSlice(len(sds), func(i int) ([]any, error) {
			return []any{sds[i].Sequence, turnero.NotifySecondDose, at}, nil
		})); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	return nil
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

// bookSlots adds the batch's appointments to their slots' counts and lists
// in one statement. The capacity is the agenda's, as the allocator computed
// it; the CHECK on the table refuses the whole batch if any slot would be
// overbooked.
func bookSlots(ctx context.Context, tx pgx.Tx, b turnero.AllocationBatch) error {
	capacity := make(map[slotKey]int, len(b.Slots))
	for _, s := range b.Slots {
		capacity[slotKey{s.Start.Unix(), s.Center}] = s.Capacity
	}
	type slotAdd struct {
		start time.Time
		n     int32
		regs  []byte
	}
	adds := make(map[slotKey]*slotAdd, len(b.Slots))
	keys := make([]slotKey, 0, len(b.Slots))
	add := func(t time.Time, center string, seq int64, dose int) {
		k := slotKey{t.Unix(), center}
		x := adds[k]
		if x == nil {
			x = &slotAdd{start: t}
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
	starts := make([]time.Time, len(keys))
	centers := make([]string, len(keys))
	caps := make([]int32, len(keys))
	ns := make([]int32, len(keys))
	regs := make([]string, len(keys))
	for i, k := range keys {
		c, ok := capacity[k]
		if !ok {
			return &turnero.Error{Code: turnero.CodeInvalid, Key: "invalid_request",
				Err: fmt.Errorf("appointment at %s %d without its slot's capacity", k.center, k.start)}
		}
		x := adds[k]
		starts[i], centers[i], caps[i], ns[i], regs[i] = x.start, k.center, int32(c), x.n, string(x.regs)
	}
	_, err := tx.Exec(ctx, `INSERT INTO slots (start, center, capacity, booked, regs)
		SELECT s, c, cap, n, string_to_array(r, ' ')
		FROM unnest($1::timestamptz[], $2::text[], $3::integer[], $4::integer[], $5::text[]) AS u(s, c, cap, n, r)
		ON CONFLICT (start, center) DO UPDATE SET booked = slots.booked + excluded.booked,
			capacity = excluded.capacity, regs = slots.regs || excluded.regs`, starts, centers, caps, ns, regs)
	if isConflict(err) {
		return conflict("book slots", err)
	}
	if err != nil {
		return fmt.Errorf("book slots: %w", err)
	}
	return nil
}

// appendSlotEntry writes "sequence.dose", space-separated, to a slot's list.
func appendSlotEntry(dst []byte, seq int64, dose int) []byte {
	if len(dst) > 0 {
		dst = append(dst, ' ')
	}
	dst = strconv.AppendInt(dst, seq, 10)
	dst = append(dst, '.')
	return strconv.AppendInt(dst, int64(dose), 10)
}

func slotEntry(seq int64, dose int) string { return string(appendSlotEntry(nil, seq, dose)) }

const bookingColumns = `b.sequence, b.center, b.vaccine, b.booked_by, b.dose1_start, b.dose1_state, b.dose1_lot,
	b.dose2_start, b.dose2_state, b.dose2_lot, b.dose2_center`

// scanAppointments reads a booking as appointments.
func scanAppointments(row pgx.Row) (int64, []turnero.Appointment, error) {
	var seq int64
	var d1 time.Time
	var d2 *time.Time
	var center, vaccine, source, s1 string
	var s2, l1, l2, c2 *string
	if err := row.Scan(&seq, &center, &vaccine, &source, &d1, &s1, &l1, &d2, &s2, &l2, &c2); err != nil {
		return 0, nil, err
	}
	return seq, bookingAppointments(seq, center, vaccine, source, d1, s1, l1, d2, s2, l2, c2), nil
}

// bookingAppointments turns a booking row, in PostgreSQL's types, into its
// appointments by dose.
func bookingAppointments(seq int64, center, vaccine, source string, d1 time.Time, s1 string, l1 *string,
	d2 *time.Time, s2, l2, c2 *string) []turnero.Appointment {
	b := turnero.BookingRow{Sequence: seq, Center: center, Vaccine: vaccine, Source: source,
		Dose1Start: d1, Dose1State: s1, Dose1Lot: deref(l1),
		Dose2State: deref(s2), Dose2Lot: deref(l2), Dose2Center: deref(c2)}
	if d2 != nil {
		b.Dose2Start = *d2
	}
	return b.Appointments()
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// AppointmentsOf lists a registration's appointments by dose.
func (db *DB) AppointmentsOf(ctx context.Context, sequence int64) ([]turnero.Appointment, error) {
	_, out, err := scanAppointments(db.read.QueryRow(ctx, `SELECT `+bookingColumns+` FROM bookings b WHERE b.sequence = $1`, sequence))
	if errors.Is(err, pgx.ErrNoRows) {
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
	rows, err := db.read.Query(ctx, `SELECT `+bookingColumns+` FROM bookings b ORDER BY b.sequence`)
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
	if err := rows.Err(); err != nil {
		return fmt.Errorf("appointments: %w", err)
	}
	return nil
}

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
