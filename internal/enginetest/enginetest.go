// Package enginetest runs a test on every storage engine, by name: SQLite
// in a temporary file, and PostgreSQL on a fresh schema of the server named
// by TURNERO_TEST_PG (.ci/run sets it; without it the PostgreSQL subtest
// says it was skipped). A test written once with Each proves its behaviour
// on both engines; `go test -run 'TestX/postgres'` runs one. For tests only.
package enginetest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/turnero/turnero/internal/postgres"
	"github.com/turnero/turnero/internal/postgres/pgtest"
	"github.com/turnero/turnero/internal/sqlite"
	"github.com/turnero/turnero/internal/turnero"
)

// Engine is a storage engine as tests open it.
type Engine struct {
	Name string
	// fresh makes an empty database and says where it is: a file path or
	// a schema's URL.
	fresh func(t testing.TB) string
	open  func(ctx context.Context, where string) (turnero.Store, error)
}

// SQLite is the embedded engine, on a file in the test's temporary
// directory.
var SQLite = Engine{
	Name:  "sqlite",
	fresh: func(t testing.TB) string { return filepath.Join(t.TempDir(), "turnero.db") },
	open: func(ctx context.Context, where string) (turnero.Store, error) {
		return sqlite.Open(ctx, where)
	},
}

// Postgres is the engine of several nodes, on a schema of its own dropped
// when the test ends.
var Postgres = Engine{
	Name:  "postgres",
	fresh: pgtest.URL,
	open: func(ctx context.Context, where string) (turnero.Store, error) {
		return postgres.Open(ctx, where)
	},
}

// All are the engines, in the order Each runs them.
var All = []Engine{SQLite, Postgres}

// Each runs fn as a subtest per engine, named by the engine.
func Each(t *testing.T, fn func(t *testing.T, e Engine)) {
	t.Helper()
	for _, e := range All {
		t.Run(e.Name, func(t *testing.T) { fn(t, e) })
	}
}

// Fresh makes an empty database and returns where it is, for Open (a file
// path on SQLite, a URL on PostgreSQL).
func (e Engine) Fresh(t testing.TB) string {
	t.Helper()
	return e.fresh(t)
}

// Open opens a store on the database at where, closed when the test ends:
// another process on SQLite, another node on PostgreSQL, when one is open
// already.
func (e Engine) Open(t testing.TB, where string) turnero.Store {
	t.Helper()
	s, err := e.open(context.Background(), where)
	if err != nil {
		t.Fatalf("open %s at %s: %v", e.Name, where, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// New opens a store on a fresh database.
func (e Engine) New(t testing.TB) turnero.Store {
	t.Helper()
	return e.Open(t, e.Fresh(t))
}

// OpenErr is Open returning the error, for tests of what opening refuses;
// the caller closes the store.
func (e Engine) OpenErr(where string) (turnero.Store, error) {
	return e.open(context.Background(), where)
}
