package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/turnero/turnero/internal/schema"
	"github.com/turnero/turnero/internal/sqlite"
)

// TestSchemaVersions: Open logs each migration it applies, nothing when the
// schema is up to date, and refuses a schema newer than it knows with a
// message naming both versions.
func TestSchemaVersions(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "turnero.db")
	known := sqlite.SchemaVersion()
	if known < 9 {
		t.Fatalf("SchemaVersion() = %d; the migrations go to 00009 at least", known)
	}
	var logs bytes.Buffer
	db, err := sqlite.Open(ctx, path, sqlite.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
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
		t.Errorf("a new database: %d migrations logged as applied, %d as starting, want %d each, to version %d:\n%s", applied, started, want, known, logs.String())
	}
	logs.Reset()
	if db, err = sqlite.Open(ctx, path, sqlite.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil)))); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if logs.Len() != 0 {
		t.Errorf("an up-to-date database logged:\n%s", logs.String())
	}

	// A newer turnero has been here.
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	newer := known + 1
	if _, err := raw.ExecContext(ctx, `INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, 1)`, newer); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	db, err = sqlite.Open(ctx, path)
	if err == nil {
		db.Close()
		t.Fatal("opened a schema newer than this binary knows")
	}
	var tooNew *schema.TooNewError
	if !errors.As(err, &tooNew) || tooNew.Database != newer || tooNew.Known != known {
		t.Fatalf("error %v, want a TooNewError for %d over %d", err, newer, known)
	}
	for _, want := range []string{path, strconv.FormatInt(newer, 10), strconv.FormatInt(known, 10)} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}
