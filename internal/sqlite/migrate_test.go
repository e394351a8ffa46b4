package sqlite

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/turnero/turnero/internal/storetest"
)

// TestMigrationQueuesOldMissedSecondDoses: a database from before second
// doses were booked again (migration 00006) holds second doses marked
// no_show that nobody queued. Upgrading queues them as a no-show recorded
// today would: in second_doses with dose 1's vaccine and center, the slot
// freed (two of them in one slot), the allocation version moved; a second
// dose that was given is left alone.
func TestMigrationQueuesOldMissedSecondDoses(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	raw, err := sql.Open("sqlite", dsn(path, roleWrite))
	if err != nil {
		t.Fatal(err)
	}
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, raw, sub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 8); err != nil {
		t.Fatal(err)
	}
	dose1 := time.Date(2021, 3, 1, 9, 0, 0, 0, time.UTC).Unix()
	dose2 := time.Date(2021, 3, 29, 9, 0, 0, 0, time.UTC).Unix()
	stmts := []string{
		`INSERT INTO registrations (sequence, document_hash, identity_hash, grp, group_ordinal, department, age, channel, status, key_id, personal_data, received_at)
		 VALUES (1, randomblob(16), x'01', 'g', 1, 'Montevideo', 70, 'web', 'waiting', 'k', x'00', 0),
		        (2, randomblob(16), x'02', 'g', 2, 'Canelones', 71, 'web', 'waiting', 'k', x'00', 0),
		        (3, randomblob(16), x'03', 'g', 3, 'Montevideo', 72, 'web', 'waiting', 'k', x'00', 0)`,
		`INSERT INTO bookings (grp, group_ordinal, sequence, center, vaccine, booked_by, booked_at, dose1_start, dose1_state, dose2_start, dose2_state)
		 VALUES ('g', 1, 1, 'c1', 'sinovac', 'allocator', 0, ?1, 'given', ?2, 'no_show'),
		        ('g', 2, 2, 'c1', 'sinovac', 'allocator', 0, ?1, 'given', ?2, 'no_show'),
		        ('g', 3, 3, 'c1', 'sinovac', 'allocator', 0, ?1, 'given', ?2, 'given')`,
		`INSERT INTO slots (start, center, capacity, booked, regs) VALUES (?1, 'c1', 5, 3, '1.1 2.1 3.1 '), (?2, 'c1', 5, 3, '1.2 2.2 3.2 ')`,
	}
	for _, s := range stmts {
		if _, err := raw.ExecContext(ctx, s, dose1, dose2); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	var before int64
	if err := raw.QueryRowContext(ctx, `SELECT version FROM allocation_state`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	storetest.CheckMissedSecondDosesQueued(t, db, time.Unix(dose2, 0))
	var regs string
	var booked int
	if err := db.write.QueryRowContext(ctx, `SELECT regs, booked FROM slots WHERE start = ?`, dose2).Scan(&regs, &booked); err != nil {
		t.Fatal(err)
	}
	if regs != "3.2 " || booked != 1 {
		t.Errorf("dose 2 slot after the upgrade: regs %q, booked %d; want %q, 1", regs, booked, "3.2 ")
	}
	if err := db.write.QueryRowContext(ctx, `SELECT regs, booked FROM slots WHERE start = ?`, dose1).Scan(&regs, &booked); err != nil {
		t.Fatal(err)
	}
	if regs != "1.1 2.1 3.1 " || booked != 3 {
		t.Errorf("dose 1 slot changed: regs %q, booked %d", regs, booked)
	}
	var released, kept int
	if err := db.write.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE dose2_start IS NULL AND dose2_state IS NULL),
		count(*) FILTER (WHERE dose2_state = 'given') FROM bookings`).Scan(&released, &kept); err != nil {
		t.Fatal(err)
	}
	if released != 2 || kept != 1 {
		t.Errorf("bookings: %d second doses released, %d given kept; want 2 and 1", released, kept)
	}
	var after int64
	if err := db.write.QueryRowContext(ctx, `SELECT version FROM allocation_state`).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if after == before {
		t.Error("the allocation version did not move")
	}
}
