package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/turnero/turnero/internal/postgres"
	"github.com/turnero/turnero/internal/postgres/pgtest"
	"github.com/turnero/turnero/internal/schema"
)

// TestSchemaVersions: the same as the SQLite engine's test of that name.
// Open logs each migration it applies, nothing when the schema is up to
// date, and refuses a schema newer than it knows with a message naming both
// versions and the database without its password.
func TestSchemaVersions(t *testing.T) {
	ctx := context.Background()
	u := pgtest.URL(t) + "&password=S3cret"
	known := postgres.SchemaVersion()
	if known < 9 {
		t.Fatalf("SchemaVersion() = %d; the migrations go to 00009 at least", known)
	}
	var logs bytes.Buffer
	db, err := postgres.Open(ctx, u, postgres.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	// Every file of migrations/, however many branches added: a count
	// written here would be wrong after each merge.
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil || len(files) < 10 {
		t.Fatalf("migration files: %v, %v", files, err)
	}
	want := len(files)
	applied := strings.Count(logs.String(), `"msg":"migration applied"`)
	started := strings.Count(logs.String(), `"msg":"migration starting"`)
	if applied != want || started != want || !strings.Contains(logs.String(), `"to_version":`+strconv.FormatInt(known, 10)) {
		t.Errorf("a new schema: %d migrations logged as applied, %d as starting, want %d each, to version %d:\n%s", applied, started, want, known, logs.String())
	}
	if strings.Contains(logs.String(), "S3cret") {
		t.Errorf("the log shows the password:\n%s", logs.String())
	}
	logs.Reset()
	if db, err = postgres.Open(ctx, u, postgres.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil)))); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if logs.Len() != 0 {
		t.Errorf("an up-to-date schema logged:\n%s", logs.String())
	}

	// A newer turnero has been here.
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	newer := known + 1
	if _, err := conn.Exec(ctx, `INSERT INTO goose_db_version (version_id, is_applied) VALUES ($1, true)`, newer); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	db, err = postgres.Open(ctx, u)
	if err == nil {
		db.Close()
		t.Fatal("opened a schema newer than this binary knows")
	}
	var tooNew *schema.TooNewError
	if !errors.As(err, &tooNew) || tooNew.Database != newer || tooNew.Known != known {
		t.Fatalf("error %v, want a TooNewError for %d over %d", err, newer, known)
	}
	for _, want := range []string{strconv.FormatInt(newer, 10), strconv.FormatInt(known, 10), "search_path=t_"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "S3cret") {
		t.Errorf("the error shows the password: %v", err)
	}
}

// TestMissingSchemaSaysCreateIt: a search_path naming a schema that does not
// exist is refused at start-up with the statement that creates it.
func TestMissingSchemaSaysCreateIt(t *testing.T) {
	base, err := url.Parse(pgtest.BaseURL(t))
	if err != nil {
		t.Fatal(err)
	}
	q := base.Query()
	q.Set("search_path", "turnero_never_created")
	base.RawQuery = q.Encode()
	db, err := postgres.Open(context.Background(), base.String())
	if err == nil {
		db.Close()
		t.Fatal("opened a database whose search_path names no schema that exists")
	}
	if !strings.Contains(err.Error(), "CREATE SCHEMA") {
		t.Errorf("error %q does not say to create the schema", err)
	}
}
