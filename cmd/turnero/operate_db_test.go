package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/turnero/turnero/internal/campaign"
	"github.com/turnero/turnero/internal/postgres"
	"github.com/turnero/turnero/internal/postgres/pgtest"
	"github.com/turnero/turnero/internal/storetest"
	"github.com/turnero/turnero/internal/turnero"
)

// TestOperatorCommandsOnPostgres: groups, tokens and allocate work on the
// data of nodes that serve with --db: a group opened, a token stored only as
// its hash, the waiting people of the open group given appointments.
func TestOperatorCommandsOnPostgres(t *testing.T) {
	url := pgtest.URL(t)
	t.Setenv("TURNERO_DATA", "")
	t.Setenv("TURNERO_DB", "")
	ctx := context.Background()
	run1 := func(args ...string) string {
		t.Helper()
		var out, errs bytes.Buffer
		if err := run(ctx, args, &out, &errs); err != nil {
			t.Fatalf("turnero %s: %v\n%s", strings.Join(args, " "), err, errs.String())
		}
		return out.String()
	}
	db, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	batch := make([]turnero.NewRegistration, 5)
	for i := range batch {
		batch[i] = storetest.NewRegistration(i, "1940-01-01", "age-80-plus")
		batch[i].Age = 85
	}
	if _, err := db.InsertRegistrations(ctx, batch); err != nil {
		t.Fatal(err)
	}

	// The first command on a database names its campaign; the others run
	// the one pinned.
	sample := filepath.Join(t.TempDir(), "campaign.toml")
	if err := os.WriteFile(sample, campaign.SampleFile(), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := run1("groups", "open", "--db", url, "--campaign", sample, "age-80-plus"); !strings.Contains(out, "open=true") {
		t.Fatalf("groups open: %q", out)
	}
	if out := run1("groups", "list", "--db", url); !strings.Contains(out, "age-80-plus") ||
		!strings.Contains(out[strings.Index(out, "age-80-plus"):], "open=true") {
		t.Fatalf("groups list does not show age-80-plus open:\n%s", out)
	}
	secret := strings.TrimSpace(run1("tokens", "create", "--db", url, "--role", "admin", "--label", "operator on call"))
	tok, err := db.TokenByHash(ctx, turnero.HashToken(secret))
	if err != nil || tok.Role != turnero.RoleAdmin || len(secret) < turnero.MinTokenLength {
		t.Fatalf("token %q stored as %+v, %v", secret, tok, err)
	}
	var rep struct{ Scheduled, Appointments int }
	if err := json.Unmarshal([]byte(run1("allocate", "--db", url)), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Scheduled != 5 || rep.Appointments != 10 {
		t.Fatalf("allocate: %+v, want 5 scheduled, 10 appointments", rep)
	}
	var booked int
	err = db.EachAppointment(ctx, func(turnero.Appointment) error { booked++; return nil })
	if err != nil || booked != 10 {
		t.Fatalf("%d appointments stored (%v), want 10", booked, err)
	}
}

// TestRestoreOnPostgres: after pg_restore, `turnero restore --db` starts a
// new epoch: the next registration's sequence, and so its tracking code,
// is above every one given before (issue 15, item 10).
func TestRestoreOnPostgres(t *testing.T) {
	url := pgtest.URL(t)
	t.Setenv("TURNERO_DATA", "")
	t.Setenv("TURNERO_DB", "")
	ctx := context.Background()
	db, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.InsertRegistrations(ctx, []turnero.NewRegistration{storetest.NewRegistration(1, "1940-01-01", "age-80-plus")}); err != nil {
		t.Fatal(err)
	}
	var out, errs bytes.Buffer
	if err := run(ctx, []string{"restore", "--db", url}, &out, &errs); err != nil {
		t.Fatalf("restore --db: %v\n%s", err, errs.String())
	}
	if !strings.Contains(out.String(), "epoch 1") || !strings.Contains(out.String(), "up to sequence 1;") {
		t.Fatalf("restore --db said: %s", out.String())
	}
	o, err := db.InsertRegistrations(ctx, []turnero.NewRegistration{storetest.NewRegistration(2, "1940-01-01", "age-80-plus")})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := o[0].Registration.Sequence, turnero.EpochSequenceFloor(1)+1; got != want {
		t.Fatalf("the first sequence after the restore is %d, want %d", got, want)
	}
	// A file is for SQLite: on PostgreSQL pg_restore brings the data back.
	if err := run(ctx, []string{"restore", "--db", url, "backup.db"}, &out, &errs); err == nil {
		t.Fatal("restore --db with a file was taken")
	}
}
