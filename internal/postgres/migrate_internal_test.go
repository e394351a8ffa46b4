package postgres

import (
	"context"
	"io/fs"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/turnero/turnero/internal/postgres/pgtest"
	"github.com/turnero/turnero/internal/storetest"
)

// TestMigrationQueuesOldMissedSecondDoses: the same upgrade as the SQLite
// engine's test of the same name. A schema from before second doses were
// booked again (migration 00006) holds second doses marked no_show that
// nobody queued; upgrading queues them as a no-show recorded today would.
func TestMigrationQueuesOldMissedSecondDoses(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	raw := stdlib.OpenDB(*cfg)
	defer raw.Close()
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, raw, sub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 8); err != nil {
		t.Fatal(err)
	}
	dose1 := time.Date(2021, 3, 1, 9, 0, 0, 0, time.UTC)
	dose2 := time.Date(2021, 3, 29, 9, 0, 0, 0, time.UTC)
	stmts := []string{
		`INSERT INTO registrations (sequence, document_hash, identity_hash, grp, group_ordinal, department, age, channel, status, key_id, personal_data, received_at)
		 VALUES (1, '\x01', '\x01', 'g', 1, 'Montevideo', 70, 'web', 'waiting', 'k', '\x00', now()),
		        (2, '\x02', '\x02', 'g', 2, 'Canelones', 71, 'web', 'waiting', 'k', '\x00', now()),
		        (3, '\x03', '\x03', 'g', 3, 'Montevideo', 72, 'web', 'waiting', 'k', '\x00', now())`,
		`INSERT INTO bookings (grp, group_ordinal, sequence, center, vaccine, booked_by, booked_at, dose1_start, dose1_state, dose2_start, dose2_state)
		 VALUES ('g', 1, 1, 'c1', 'sinovac', 'allocator', now(), $1, 'given', $2, 'no_show'),
		        ('g', 2, 2, 'c1', 'sinovac', 'allocator', now(), $1, 'given', $2, 'no_show'),
		        ('g', 3, 3, 'c1', 'sinovac', 'allocator', now(), $1, 'given', $2, 'given')`,
		`INSERT INTO slots (start, center, capacity, booked, regs)
		 VALUES ($1, 'c1', 5, 3, '{1.1,2.1,3.1}'), ($2, 'c1', 5, 3, '{1.2,2.2,3.2}')`,
	}
	for i, s := range stmts {
		var args []any
		if i > 0 {
			args = []any{dose1, dose2}
		}
		if _, err := raw.ExecContext(ctx, s, args...); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	var before int64
	if err := raw.QueryRowContext(ctx, `SELECT version FROM allocation_state`).Scan(&before); err != nil {
		t.Fatal(err)
	}

	db, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	storetest.CheckMissedSecondDosesQueued(t, db, dose2)
	slot := func(at time.Time) (regs []string, booked int) {
		t.Helper()
		if err := db.read.QueryRow(ctx, `SELECT regs, booked FROM slots WHERE start = $1`, at).Scan(&regs, &booked); err != nil {
			t.Fatal(err)
		}
		return regs, booked
	}
	if regs, booked := slot(dose2); len(regs) != 1 || regs[0] != "3.2" || booked != 1 {
		t.Errorf("dose 2 slot after the upgrade: regs %q, booked %d; want [3.2], 1", regs, booked)
	}
	if regs, booked := slot(dose1); len(regs) != 3 || booked != 3 {
		t.Errorf("dose 1 slot changed: regs %q, booked %d", regs, booked)
	}
	var released, kept int
	if err := raw.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE dose2_start IS NULL AND dose2_state IS NULL),
		count(*) FILTER (WHERE dose2_state = 'given') FROM bookings`).Scan(&released, &kept); err != nil {
		t.Fatal(err)
	}
	if released != 2 || kept != 1 {
		t.Errorf("bookings: %d second doses released, %d given kept; want 2 and 1", released, kept)
	}
	var after int64
	if err := raw.QueryRowContext(ctx, `SELECT version FROM allocation_state`).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if after == before {
		t.Error("the allocation version did not move")
	}
}
