package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/turnero/turnero/internal/turnero"
)

var _ turnero.DashboardStore = (*DB)(nil)

// DashboardMarks reads how far the counters have read.
func (db *DB) DashboardMarks(ctx context.Context) (turnero.DashboardMarks, error) {
	var m turnero.DashboardMarks
	err := db.read.QueryRowContext(ctx, `SELECT reg_seq, ev_mark, ev_upper, ev_id FROM dash_state WHERE id = 1`).Scan(
		&m.Registrations, &m.Events.Mark, &m.Events.Upper, &m.Events.ID)
	if err != nil {
		return m, fmt.Errorf("dashboard marks: %w", err)
	}
	return m, nil
}

// RegistrationsAfter reads new registrations through the writer's
// connection, as the allocator's long reads do (see bulk): a reader that
// had read thousands of rows freed its pages under a lock intake's writer
// waits for.
func (db *DB) RegistrationsAfter(ctx context.Context, after int64, limit int) ([]turnero.Registration, error) {
	rows, err := db.bulk().QueryContext(ctx, `SELECT `+registrationColumns+` FROM registrations
		WHERE sequence > ? ORDER BY sequence LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("registrations after %d: %w", after, err)
	}
	defer rows.Close()
	var out []turnero.Registration
	for rows.Next() {
		var r turnero.Registration
		var received int64
		if err := rows.Scan(&r.Sequence, &r.DocumentHash, &r.IdentityHash, &r.Group, &r.GroupOrdinal,
			&r.Department, &r.Age, &r.Channel, &r.Status, &r.KeyID, &r.Sealed, &received); err != nil {
			return nil, fmt.Errorf("registrations after %d: %w", after, err)
		}
		r.ReceivedAt = time.UnixMilli(received).UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

// EventsAfter reads events by ID: one writer gives IDs in commit order.
func (db *DB) EventsAfter(ctx context.Context, c turnero.EventCursor, limit int) ([]turnero.DashboardEvent, turnero.EventCursor, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT e.id, e.registration, e.dose, e.center, e.vaccine, e.kind, e.place, e.at,
		COALESCE(r.department, ''), COALESCE(r.grp, '')
		FROM appointment_events e LEFT JOIN registrations r ON r.sequence = e.registration
		WHERE e.id > ? ORDER BY e.id LIMIT ?`, c.ID, limit)
	if err != nil {
		return nil, c, fmt.Errorf("events after %d: %w", c.ID, err)
	}
	defer rows.Close()
	var out []turnero.DashboardEvent
	for rows.Next() {
		var e turnero.DashboardEvent
		var id, at int64
		if err := rows.Scan(&id, &e.Registration, &e.Dose, &e.Center, &e.Vaccine, &e.Kind, &e.Place, &at,
			&e.Department, &e.Group); err != nil {
			return nil, c, fmt.Errorf("events after %d: %w", c.ID, err)
		}
		e.At = time.UnixMilli(at).UTC()
		c.ID = id
		out = append(out, e)
	}
	return out, c, rows.Err()
}

// EventsBehind counts the events after the cursor.
func (db *DB) EventsBehind(ctx context.Context, c turnero.EventCursor) (int64, error) {
	var n int64
	if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM appointment_events WHERE id > ?`, c.ID).Scan(&n); err != nil {
		return 0, fmt.Errorf("events behind: %w", err)
	}
	return n, nil
}

// ApplyDashboard adds a catch-up's counts, if the marks are still from.
func (db *DB) ApplyDashboard(ctx context.Context, from turnero.DashboardMarks, d turnero.DashboardDelta, at time.Time) error {
	return db.inWriteTx(ctx, "apply dashboard", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE dash_state SET reg_seq = ?, ev_mark = ?, ev_upper = ?, ev_id = ?, caught_up = ?
			WHERE id = 1 AND reg_seq = ? AND ev_mark = ? AND ev_upper = ? AND ev_id = ?`,
			d.To.Registrations, d.To.Events.Mark, d.To.Events.Upper, d.To.Events.ID, at.UnixMilli(),
			from.Registrations, from.Events.Mark, from.Events.Upper, from.Events.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return turnero.ErrDashboardMoved
		}
		for _, r := range d.Registrations {
			if _, err := tx.ExecContext(ctx, `INSERT INTO dash_registrations (department, grp, age, channel, n) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT DO UPDATE SET n = n + excluded.n`, r.Department, r.Group, r.Age, r.Channel, r.N); err != nil {
				return err
			}
		}
		for _, l := range d.Localities {
			if _, err := tx.ExecContext(ctx, `INSERT INTO dash_localities (department, locality, n) VALUES (?, ?, ?)
				ON CONFLICT DO UPDATE SET n = n + excluded.n`, l.Department, l.Locality, l.N); err != nil {
				return err
			}
		}
		for _, m := range d.Minutes {
			if _, err := tx.ExecContext(ctx, `INSERT INTO dash_minutes (minute, n) VALUES (?, ?)
				ON CONFLICT DO UPDATE SET n = n + excluded.n`, m.Minute, m.N); err != nil {
				return err
			}
		}
		for _, h := range d.Hours {
			if _, err := tx.ExecContext(ctx, `INSERT INTO dash_hours (hour, n) VALUES (?, ?)
				ON CONFLICT DO UPDATE SET n = n + excluded.n`, h.Hour, h.N); err != nil {
				return err
			}
		}
		for _, e := range d.EventTotals {
			if _, err := tx.ExecContext(ctx, `INSERT INTO dash_event_totals (center, department, vaccine, dose, kind, n) VALUES (?, ?, ?, ?, ?, ?)
				ON CONFLICT DO UPDATE SET n = n + excluded.n`, e.Center, e.Department, e.Vaccine, e.Dose, e.Kind, e.N); err != nil {
				return err
			}
		}
		for _, e := range d.EventDays {
			if _, err := tx.ExecContext(ctx, `INSERT INTO dash_event_days (day, center, dose, kind, n) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT DO UPDATE SET n = n + excluded.n`, e.Day, e.Center, e.Dose, e.Kind, e.N); err != nil {
				return err
			}
		}
		return nil
	})
}

// DashboardCounts reads the counters asked for in one read transaction.
func (db *DB) DashboardCounts(ctx context.Context, want turnero.CountsWanted) (turnero.DashboardCounts, error) {
	var c turnero.DashboardCounts
	byCols, err := dimensions(want.RegistrationsBy)
	if err != nil {
		return c, err
	}
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return c, fmt.Errorf("dashboard counts: %w", err)
	}
	defer tx.Rollback()
	var caught, capAt int64
	if err := tx.QueryRowContext(ctx, `SELECT reg_seq, ev_mark, ev_upper, ev_id, caught_up, capacity_at,
		COALESCE((SELECT MIN(minute) FROM dash_minutes), 0) FROM dash_state WHERE id = 1`).Scan(
		&c.Marks.Registrations, &c.Marks.Events.Mark, &c.Marks.Events.Upper, &c.Marks.Events.ID, &caught, &capAt, &c.FirstMinute); err != nil {
		return c, fmt.Errorf("dashboard counts: %w", err)
	}
	c.CaughtUpAt, c.CapacityAt = millisOrZero(caught), millisOrZero(capAt)
	if want.Registrations {
		err = eachRow(ctx, tx, registrationsQuery(byCols), func(s func(...any) error) error {
			var r turnero.RegistrationCount
			if err := s(registrationTargets(&r, want.RegistrationsBy)...); err != nil {
				return err
			}
			c.Registrations = append(c.Registrations, r)
			return nil
		})
	}
	if err == nil && want.EventTotals {
		err = eachRow(ctx, tx, `SELECT center, department, vaccine, dose, kind, n FROM dash_event_totals`, func(s func(...any) error) error {
			var e turnero.EventTotal
			if err := s(&e.Center, &e.Department, &e.Vaccine, &e.Dose, &e.Kind, &e.N); err != nil {
				return err
			}
			c.EventTotals = append(c.EventTotals, e)
			return nil
		})
	}
	if err == nil && want.Capacity {
		err = eachRow(ctx, tx, `SELECT day, center, capacity, dose1, dose2 FROM dash_capacity ORDER BY day, center`, func(s func(...any) error) error {
			var d turnero.CapacityDay
			if err := s(&d.Day, &d.Center, &d.Capacity, &d.Dose1, &d.Dose2); err != nil {
				return err
			}
			c.Capacity = append(c.Capacity, d)
			return nil
		})
	}
	if err == nil && want.Usage {
		err = eachRow(ctx, tx, `SELECT node, requests, cpu_seconds, updated_at FROM dash_usage ORDER BY node`, func(s func(...any) error) error {
			var u turnero.NodeUsage
			var at int64
			if err := s(&u.Node, &u.Requests, &u.CPUSeconds, &at); err != nil {
				return err
			}
			u.UpdatedAt = time.UnixMilli(at).UTC()
			c.Usage = append(c.Usage, u)
			return nil
		})
	}
	if err != nil {
		return c, fmt.Errorf("dashboard counts: %w", err)
	}
	return c, nil
}

// dimensions checks the columns asked for against the known ones: they
// are written into the query.
func dimensions(by []string) ([]string, error) {
	for _, d := range by {
		if !slices.Contains(turnero.RegistrationDimensions, d) {
			return nil, fmt.Errorf("dashboard counts: no dimension %q", d)
		}
	}
	return by, nil
}

// adultExpr sums registrations by adult or not, as AdultAge or 0.
var adultExpr = fmt.Sprintf("CASE WHEN age >= %d THEN %d ELSE 0 END AS adult", turnero.AdultAge, turnero.AdultAge)

func registrationsQuery(by []string) string {
	if len(by) == 0 {
		return `SELECT COALESCE(SUM(n), 0) FROM dash_registrations`
	}
	cols := strings.Join(by, ", ")
	return `SELECT ` + strings.Replace(cols, "adult", adultExpr, 1) + `, SUM(n) FROM dash_registrations GROUP BY ` + cols
}

// registrationTargets are where a row of registrationsQuery goes.
func registrationTargets(r *turnero.RegistrationCount, by []string) []any {
	out := make([]any, 0, len(by)+1)
	for _, d := range by {
		switch d {
		case "department":
			out = append(out, &r.Department)
		case "grp":
			out = append(out, &r.Group)
		case "age":
			out = append(out, &r.Age)
		case "channel":
			out = append(out, &r.Channel)
		case "adult":
			out = append(out, &r.Age)
		}
	}
	return append(out, &r.N)
}

func millisOrZero(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// eachRow runs a query and calls fn with a scanner for each row.
func eachRow(ctx context.Context, q interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}, query string, fn func(scan func(...any) error) error, args ...any) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Localities reads a department's localities, the most frequent first.
func (db *DB) Localities(ctx context.Context, department string) ([]turnero.LocalityCount, error) {
	var out []turnero.LocalityCount
	err := eachRow(ctx, db.read, `SELECT department, locality, n FROM dash_localities WHERE department = ? ORDER BY n DESC, locality`,
		func(s func(...any) error) error {
			var l turnero.LocalityCount
			if err := s(&l.Department, &l.Locality, &l.N); err != nil {
				return err
			}
			out = append(out, l)
			return nil
		}, department)
	if err != nil {
		return nil, fmt.Errorf("localities: %w", err)
	}
	return out, nil
}

// Minutes reads registrations per minute in [from, to).
func (db *DB) Minutes(ctx context.Context, from, to time.Time) ([]turnero.MinuteCount, error) {
	var out []turnero.MinuteCount
	err := eachRow(ctx, db.read, `SELECT minute, n FROM dash_minutes WHERE minute >= ? AND minute < ? ORDER BY minute`,
		func(s func(...any) error) error {
			var m turnero.MinuteCount
			if err := s(&m.Minute, &m.N); err != nil {
				return err
			}
			out = append(out, m)
			return nil
		}, floorMinute(from), floorMinute(to.Add(time.Minute-time.Nanosecond)))
	if err != nil {
		return nil, fmt.Errorf("minutes: %w", err)
	}
	return out, nil
}

func floorMinute(t time.Time) int64 {
	s := t.Unix()
	if s < 0 {
		return (s - 59) / 60
	}
	return s / 60
}

// Hours reads registrations per hour in [from, to).
func (db *DB) Hours(ctx context.Context, from, to time.Time) ([]turnero.HourCount, error) {
	var out []turnero.HourCount
	err := eachRow(ctx, db.read, `SELECT hour, n FROM dash_hours WHERE hour >= ? AND hour < ? ORDER BY hour`,
		func(s func(...any) error) error {
			var h turnero.HourCount
			if err := s(&h.Hour, &h.N); err != nil {
				return err
			}
			out = append(out, h)
			return nil
		}, floorDiv(from.Unix(), 3600), floorDiv(to.Add(time.Hour-time.Nanosecond).Unix(), 3600))
	if err != nil {
		return nil, fmt.Errorf("hours: %w", err)
	}
	return out, nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// EventDays reads events per day and center for days in [from, to].
func (db *DB) EventDays(ctx context.Context, from, to string) ([]turnero.EventDay, error) {
	var out []turnero.EventDay
	err := eachRow(ctx, db.read, `SELECT day, center, dose, kind, n FROM dash_event_days WHERE day >= ? AND day <= ? ORDER BY day, center`,
		func(s func(...any) error) error {
			var e turnero.EventDay
			if err := s(&e.Day, &e.Center, &e.Dose, &e.Kind, &e.N); err != nil {
				return err
			}
			out = append(out, e)
			return nil
		}, from, to)
	if err != nil {
		return nil, fmt.Errorf("event days: %w", err)
	}
	return out, nil
}

// SlotsBetween reads booked slots starting in [from, to), with their doses
// counted from the list of entries ("SEQUENCE.DOSE ...": a dot followed by
// 2 is a second dose; sequences have no dots).
func (db *DB) SlotsBetween(ctx context.Context, from, to time.Time) ([]turnero.SlotUse, error) {
	var out []turnero.SlotUse
	err := eachRow(ctx, db.read, `SELECT center, start, booked, (length(regs) - length(replace(regs, '.2', ''))) / 2
		FROM slots WHERE start >= ? AND start < ? AND booked > 0`,
		func(s func(...any) error) error {
			var u turnero.SlotUse
			var start, booked int64
			if err := s(&u.Center, &start, &booked, &u.Dose2); err != nil {
				return err
			}
			u.Start = time.Unix(start, 0).UTC()
			u.Dose1 = booked - u.Dose2
			out = append(out, u)
			return nil
		}, from.Unix(), to.Unix())
	if err != nil {
		return nil, fmt.Errorf("slots between: %w", err)
	}
	return out, nil
}

// PutCapacity replaces the capacity snapshot.
func (db *DB) PutCapacity(ctx context.Context, days []turnero.CapacityDay, at time.Time) error {
	return db.inWriteTx(ctx, "put capacity", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM dash_capacity`); err != nil {
			return err
		}
		for len(days) > 0 {
			n := min(len(days), 100)
			var b strings.Builder
			b.WriteString(`INSERT INTO dash_capacity (day, center, capacity, dose1, dose2) VALUES `)
			args := make([]any, 0, 5*n)
			for i, d := range days[:n] {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString("(?,?,?,?,?)")
				args = append(args, d.Day, d.Center, d.Capacity, d.Dose1, d.Dose2)
			}
			if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
				return err
			}
			days = days[n:]
		}
		_, err := tx.ExecContext(ctx, `UPDATE dash_state SET capacity_at = ? WHERE id = 1`, at.UnixMilli())
		return err
	})
}

// LastOrdinal reads the last place of a group's line: one probe of the
// (grp, group_ordinal) index.
func (db *DB) LastOrdinal(ctx context.Context, group string) (int64, error) {
	var n int64
	if err := db.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(group_ordinal), 0) FROM registrations WHERE grp = ?`, group).Scan(&n); err != nil {
		return 0, fmt.Errorf("last ordinal of %s: %w", group, err)
	}
	return n, nil
}

// PutUsage records a node's usage.
func (db *DB) PutUsage(ctx context.Context, u turnero.NodeUsage) error {
	_, err := db.write.ExecContext(ctx, `INSERT INTO dash_usage (node, requests, cpu_seconds, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (node) DO UPDATE SET requests = excluded.requests, cpu_seconds = excluded.cpu_seconds, updated_at = excluded.updated_at`,
		u.Node, u.Requests, u.CPUSeconds, u.UpdatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("put usage: %w", err)
	}
	return nil
}

// StorageBytes is the database's size: its pages, and its write-ahead log.
func (db *DB) StorageBytes(ctx context.Context) (int64, error) {
	var pages, size int64
	if err := db.read.QueryRowContext(ctx, `SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()`).Scan(&pages); err != nil {
		return 0, fmt.Errorf("storage bytes: %w", err)
	}
	size = pages
	if fi, err := os.Stat(db.path + "-wal"); err == nil {
		size += fi.Size()
	}
	return size, nil
}
