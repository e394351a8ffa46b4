package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/turnero/turnero/internal/turnero"
)

var _ turnero.DashboardStore = (*DB)(nil)

// DashboardMarks reads how far the counters have read.
func (db *DB) DashboardMarks(ctx context.Context) (turnero.DashboardMarks, error) {
	var m turnero.DashboardMarks
	err := db.read.QueryRow(ctx, `SELECT reg_seq, ev_mark, ev_upper, ev_id FROM dash_state WHERE id = 1`).Scan(
		&m.Registrations, &m.Events.Mark, &m.Events.Upper, &m.Events.ID)
	if err != nil {
		return m, fmt.Errorf("dashboard marks: %w", err)
	}
	return m, nil
}

// RegistrationsAfter reads new registrations in sequence order: sequences
// are given under an advisory lock held to the commit, so they become
// visible in order and none is passed over.
func (db *DB) RegistrationsAfter(ctx context.Context, after int64, limit int) ([]turnero.Registration, error) {
	rows, err := db.read.Query(ctx, `SELECT `+registrationColumns+` FROM registrations
		WHERE sequence > $1 ORDER BY sequence LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("registrations after %d: %w", after, err)
	}
	defer rows.Close()
	var out []turnero.Registration
	for rows.Next() {
		r, err := scanRegistration(rows)
		if err != nil {
			return nil, fmt.Errorf("registrations after %d: %w", after, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// EventsAfter reads events of the transactions in [c.Mark, c.Upper), Upper
// being the oldest transaction still running when the range was opened:
// every transaction below it has ended, so its events are all visible (or
// rolled back) and none is passed over, whatever order they committed in.
// Within the range, events are read by ID.
func (db *DB) EventsAfter(ctx context.Context, c turnero.EventCursor, limit int) ([]turnero.DashboardEvent, turnero.EventCursor, error) {
	var out []turnero.DashboardEvent
	next := c
	err := db.readTx(ctx, "events after", func(tx pgx.Tx) error {
		if next.Upper == 0 {
			if err := tx.QueryRow(ctx, `SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint`).Scan(&next.Upper); err != nil {
				return err
			}
			next.ID = 0
		}
		rows, err := tx.Query(ctx, `SELECT e.id, e.registration, e.dose, e.center, e.vaccine, e.kind, e.place, e.at,
			COALESCE(r.department, ''), COALESCE(r.grp, '')
			FROM appointment_events e LEFT JOIN registrations r ON r.sequence = e.registration
			WHERE e.xact >= ($1::bigint)::text::xid8 AND e.xact < ($2::bigint)::text::xid8 AND e.id > $3
			ORDER BY e.id LIMIT $4`, next.Mark, next.Upper, next.ID, limit)
		if err != nil {
			return err
		}
		var e turnero.DashboardEvent
		var id int64
		var dose int32
		_, err = pgx.ForEachRow(rows, []any{&id, &e.Registration, &dose, &e.Center, &e.Vaccine, &e.Kind, &e.Place, &e.At,
			&e.Department, &e.Group}, func() error {
			x := e
			x.Dose = int(dose)
			x.At = x.At.UTC()
			out = append(out, x)
			next.ID = id
			return nil
		})
		return err
	})
	if err != nil {
		return nil, c, fmt.Errorf("events after: %w", err)
	}
	if len(out) < limit {
		next = turnero.EventCursor{Mark: next.Upper}
	}
	return out, next, nil
}

// EventsBehind counts the committed events the cursor has not passed.
func (db *DB) EventsBehind(ctx context.Context, c turnero.EventCursor) (int64, error) {
	var n int64
	err := db.read.QueryRow(ctx, `SELECT count(*) FROM appointment_events
		WHERE xact >= ($1::bigint)::text::xid8 AND NOT (xact < ($2::bigint)::text::xid8 AND id <= $3)`, c.Mark, c.Upper, c.ID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("events behind: %w", err)
	}
	return n, nil
}

// ApplyDashboard adds a catch-up's counts, if the marks are still from.
func (db *DB) ApplyDashboard(ctx context.Context, from turnero.DashboardMarks, d turnero.DashboardDelta, at time.Time) error {
	return db.inTx(ctx, "apply dashboard", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE dash_state SET reg_seq = $1, ev_mark = $2, ev_upper = $3, ev_id = $4, caught_up = $5
			WHERE id = 1 AND reg_seq = $6 AND ev_mark = $7 AND ev_upper = $8 AND ev_id = $9`,
			d.To.Registrations, d.To.Events.Mark, d.To.Events.Upper, d.To.Events.ID, at,
			from.Registrations, from.Events.Mark, from.Events.Upper, from.Events.ID)
		if err != nil {
			return fmt.Errorf("apply dashboard: %w", err)
		}
		if tag.RowsAffected() != 1 {
			return turnero.ErrDashboardMoved
		}
		b := &pgx.Batch{}
		for _, r := range d.Registrations {
			b.Queue(`INSERT INTO dash_registrations AS t (department, grp, age, channel, n) VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (department, grp, age, channel) DO UPDATE SET n = t.n + excluded.n`, r.Department, r.Group, r.Age, r.Channel, r.N)
		}
		for _, l := range d.Localities {
			b.Queue(`INSERT INTO dash_localities AS t (department, locality, n) VALUES ($1, $2, $3)
				ON CONFLICT (department, locality) DO UPDATE SET n = t.n + excluded.n`, l.Department, l.Locality, l.N)
		}
		for _, m := range d.Minutes {
			b.Queue(`INSERT INTO dash_minutes AS t (minute, n) VALUES ($1, $2)
				ON CONFLICT (minute) DO UPDATE SET n = t.n + excluded.n`, m.Minute, m.N)
		}
		for _, h := range d.Hours {
			b.Queue(`INSERT INTO dash_hours AS t (hour, n) VALUES ($1, $2)
				ON CONFLICT (hour) DO UPDATE SET n = t.n + excluded.n`, h.Hour, h.N)
		}
		for _, e := range d.EventTotals {
			b.Queue(`INSERT INTO dash_event_totals AS t (center, department, vaccine, dose, kind, n) VALUES ($1, $2, $3, $4, $5, $6)
				ON CONFLICT (center, department, vaccine, dose, kind) DO UPDATE SET n = t.n + excluded.n`,
				e.Center, e.Department, e.Vaccine, e.Dose, e.Kind, e.N)
		}
		for _, e := range d.EventDays {
			b.Queue(`INSERT INTO dash_event_days AS t (day, center, dose, kind, n) VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (day, center, dose, kind) DO UPDATE SET n = t.n + excluded.n`, e.Day, e.Center, e.Dose, e.Kind, e.N)
		}
		if b.Len() == 0 {
			return nil
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("apply dashboard: %w", err)
		}
		return nil
	})
}

// DashboardCounts reads the counters asked for, from one snapshot.
func (db *DB) DashboardCounts(ctx context.Context, want turnero.CountsWanted) (turnero.DashboardCounts, error) {
	var c turnero.DashboardCounts
	for _, d := range want.RegistrationsBy {
		if !slices.Contains(turnero.RegistrationDimensions, d) {
			return c, fmt.Errorf("dashboard counts: no dimension %q", d)
		}
	}
	err := db.readTx(ctx, "dashboard counts", func(tx pgx.Tx) error {
		var caught, capAt *time.Time
		if err := tx.QueryRow(ctx, `SELECT reg_seq, ev_mark, ev_upper, ev_id, caught_up, capacity_at,
			COALESCE((SELECT MIN(minute) FROM dash_minutes), 0) FROM dash_state WHERE id = 1`).Scan(
			&c.Marks.Registrations, &c.Marks.Events.Mark, &c.Marks.Events.Upper, &c.Marks.Events.ID, &caught, &capAt, &c.FirstMinute); err != nil {
			return err
		}
		c.CaughtUpAt, c.CapacityAt = fromNullTime(caught), fromNullTime(capAt)
		if want.Registrations {
			q := `SELECT COALESCE(SUM(n), 0)::bigint FROM dash_registrations`
			if by := want.RegistrationsBy; len(by) > 0 {
				cols := strings.Join(by, ", ")
				adult := fmt.Sprintf("CASE WHEN age >= %d THEN %d ELSE 0 END AS adult", turnero.AdultAge, turnero.AdultAge)
				q = `SELECT ` + strings.Replace(cols, "adult", adult, 1) + `, SUM(n)::bigint FROM dash_registrations GROUP BY ` + cols
			}
			rows, err := tx.Query(ctx, q)
			if err != nil {
				return err
			}
			var r turnero.RegistrationCount
			var age int32
			targets := make([]any, 0, 5)
			for _, d := range want.RegistrationsBy {
				switch d {
				case "department":
					targets = append(targets, &r.Department)
				case "grp":
					targets = append(targets, &r.Group)
				case "age", "adult":
					targets = append(targets, &age)
				case "channel":
					targets = append(targets, &r.Channel)
				}
			}
			targets = append(targets, &r.N)
			if _, err := pgx.ForEachRow(rows, targets, func() error {
				r.Age = int(age)
				c.Registrations = append(c.Registrations, r)
				return nil
			}); err != nil {
				return err
			}
		}
		if want.EventTotals {
			rows, err := tx.Query(ctx, `SELECT center, department, vaccine, dose, kind, n FROM dash_event_totals`)
			if err != nil {
				return err
			}
			var e turnero.EventTotal
			var dose int32
			if _, err := pgx.ForEachRow(rows, []any{&e.Center, &e.Department, &e.Vaccine, &dose, &e.Kind, &e.N}, func() error {
				e.Dose = int(dose)
				c.EventTotals = append(c.EventTotals, e)
				return nil
			}); err != nil {
				return err
			}
		}
		if want.Capacity {
			rows, err := tx.Query(ctx, `SELECT day, center, capacity, dose1, dose2 FROM dash_capacity ORDER BY day, center COLLATE "C"`)
			if err != nil {
				return err
			}
			var d turnero.CapacityDay
			if _, err := pgx.ForEachRow(rows, []any{&d.Day, &d.Center, &d.Capacity, &d.Dose1, &d.Dose2}, func() error {
				c.Capacity = append(c.Capacity, d)
				return nil
			}); err != nil {
				return err
			}
		}
		if want.Usage {
			rows, err := tx.Query(ctx, `SELECT node, requests, cpu_seconds, updated_at FROM dash_usage ORDER BY node COLLATE "C"`)
			if err != nil {
				return err
			}
			var u turnero.NodeUsage
			if _, err := pgx.ForEachRow(rows, []any{&u.Node, &u.Requests, &u.CPUSeconds, &u.UpdatedAt}, func() error {
				x := u
				x.UpdatedAt = x.UpdatedAt.UTC()
				c.Usage = append(c.Usage, x)
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return c, fmt.Errorf("dashboard counts: %w", err)
	}
	return c, nil
}

// Hours reads registrations per hour in [from, to).
func (db *DB) Hours(ctx context.Context, from, to time.Time) ([]turnero.HourCount, error) {
	rows, err := db.read.Query(ctx, `SELECT hour, n FROM dash_hours WHERE hour >= $1 AND hour < $2 ORDER BY hour`,
		floorDiv(from.Unix(), 3600), floorDiv(to.Add(time.Hour-time.Nanosecond).Unix(), 3600))
	if err != nil {
		return nil, fmt.Errorf("hours: %w", err)
	}
	var out []turnero.HourCount
	var h turnero.HourCount
	if _, err := pgx.ForEachRow(rows, []any{&h.Hour, &h.N}, func() error { out = append(out, h); return nil }); err != nil {
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

// Localities reads a department's localities, the most frequent first.
func (db *DB) Localities(ctx context.Context, department string) ([]turnero.LocalityCount, error) {
	rows, err := db.read.Query(ctx, `SELECT department, locality, n FROM dash_localities WHERE department = $1
		ORDER BY n DESC, locality COLLATE "C"`, department)
	if err != nil {
		return nil, fmt.Errorf("localities: %w", err)
	}
	var out []turnero.LocalityCount
	var l turnero.LocalityCount
	if _, err := pgx.ForEachRow(rows, []any{&l.Department, &l.Locality, &l.N}, func() error { out = append(out, l); return nil }); err != nil {
		return nil, fmt.Errorf("localities: %w", err)
	}
	return out, nil
}

// Minutes reads registrations per minute in [from, to).
func (db *DB) Minutes(ctx context.Context, from, to time.Time) ([]turnero.MinuteCount, error) {
	rows, err := db.read.Query(ctx, `SELECT minute, n FROM dash_minutes WHERE minute >= $1 AND minute < $2 ORDER BY minute`,
		floorMinute(from), floorMinute(to.Add(time.Minute-time.Nanosecond)))
	if err != nil {
		return nil, fmt.Errorf("minutes: %w", err)
	}
	var out []turnero.MinuteCount
	var m turnero.MinuteCount
	if _, err := pgx.ForEachRow(rows, []any{&m.Minute, &m.N}, func() error { out = append(out, m); return nil }); err != nil {
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

// EventDays reads events per day and center for days in [from, to].
func (db *DB) EventDays(ctx context.Context, from, to string) ([]turnero.EventDay, error) {
	rows, err := db.read.Query(ctx, `SELECT day, center, dose, kind, n FROM dash_event_days WHERE day >= $1 AND day <= $2
		ORDER BY day, center COLLATE "C"`, from, to)
	if err != nil {
		return nil, fmt.Errorf("event days: %w", err)
	}
	var out []turnero.EventDay
	var e turnero.EventDay
	var dose int32
	if _, err := pgx.ForEachRow(rows, []any{&e.Day, &e.Center, &dose, &e.Kind, &e.N}, func() error {
		e.Dose = int(dose)
		out = append(out, e)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("event days: %w", err)
	}
	return out, nil
}

// SlotsBetween reads booked slots starting in [from, to), with their doses
// counted from the entries ("SEQUENCE.DOSE").
func (db *DB) SlotsBetween(ctx context.Context, from, to time.Time) ([]turnero.SlotUse, error) {
	rows, err := db.read.Query(ctx, `SELECT center, start, booked,
		(SELECT count(*) FROM unnest(regs) AS x WHERE x LIKE '%.2')
		FROM slots WHERE start >= $1 AND start < $2 AND booked > 0`, from, to)
	if err != nil {
		return nil, fmt.Errorf("slots between: %w", err)
	}
	var out []turnero.SlotUse
	var u turnero.SlotUse
	var booked int32
	if _, err := pgx.ForEachRow(rows, []any{&u.Center, &u.Start, &booked, &u.Dose2}, func() error {
		x := u
		x.Start = x.Start.UTC()
		x.Dose1 = int64(booked) - x.Dose2
		out = append(out, x)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("slots between: %w", err)
	}
	return out, nil
}

// PutCapacity replaces the capacity snapshot.
func (db *DB) PutCapacity(ctx context.Context, days []turnero.CapacityDay, at time.Time) error {
	return db.inTx(ctx, "put capacity", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM dash_capacity`); err != nil {
			return fmt.Errorf("put capacity: %w", err)
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"dash_capacity"}, []string{"day", "center", "capacity", "dose1", "dose2"},
			pgx.CopyFromSlice(len(days), func(i int) ([]any, error) {
				d := days[i]
				return []any{d.Day, d.Center, d.Capacity, d.Dose1, d.Dose2}, nil
			})); err != nil {
			return fmt.Errorf("put capacity: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE dash_state SET capacity_at = $1 WHERE id = 1`, at); err != nil {
			return fmt.Errorf("put capacity: %w", err)
		}
		return nil
	})
}

// LastOrdinal reads the last place of a group's line.
func (db *DB) LastOrdinal(ctx context.Context, group string) (int64, error) {
	var n int64
	if err := db.read.QueryRow(ctx, `SELECT COALESCE(MAX(group_ordinal), 0) FROM registrations WHERE grp = $1`, group).Scan(&n); err != nil {
		return 0, fmt.Errorf("last ordinal of %s: %w", group, err)
	}
	return n, nil
}

// PutUsage records a node's usage.
func (db *DB) PutUsage(ctx context.Context, u turnero.NodeUsage) error {
	_, err := db.read.Exec(ctx, `INSERT INTO dash_usage (node, requests, cpu_seconds, updated_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (node) DO UPDATE SET requests = excluded.requests, cpu_seconds = excluded.cpu_seconds, updated_at = excluded.updated_at`,
		u.Node, u.Requests, u.CPUSeconds, u.UpdatedAt)
	if err != nil {
		return fmt.Errorf("put usage: %w", err)
	}
	return nil
}

// StorageBytes is the size of this schema's tables and indexes.
func (db *DB) StorageBytes(ctx context.Context) (int64, error) {
	var n int64
	if err := db.read.QueryRow(ctx, `SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::bigint
		FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'm')`).Scan(&n); err != nil {
		return 0, fmt.Errorf("storage bytes: %w", err)
	}
	return n, nil
}
