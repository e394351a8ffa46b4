// Package pgtest gives tests a PostgreSQL schema of their own on the server
// named by TURNERO_TEST_PG, so that they are independent and can run in
// parallel, and lets a test that restarts PostgreSQL do so without pulling the
// server from under tests of other packages running at the same time.
//
// It is for tests only.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL is the variable that holds the URL of the test server.
const EnvURL = "TURNERO_TEST_PG"

// BaseURL returns the URL of the test server, or skips the test saying why
// and how to run it.
func BaseURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		t.Skip("PostgreSQL tests SKIPPED: " + EnvURL + " is not set. Run them with " + EnvURL +
			"=postgres://postgres@127.0.0.1:5432/test?sslmode=disable go test ./internal/postgres/... " +
			"(.ci/run starts PostgreSQL and sets it)")
	}
	return u
}

// URL creates a fresh schema, dropped when the test ends, and returns the
// test server's URL with search_path set to it. The test skips when
// TURNERO_TEST_PG is not set and fails when it is set but the server does not
// answer: CI must never pass by skipping.
func URL(t testing.TB) string {
	t.Helper()
	base := BaseURL(t)
	holdShared(t)
	var b [6]byte
	rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	exec(t, base, "CREATE SCHEMA "+schema)
	t.Cleanup(func() {
		// Retried: the test may have just restarted the server.
		var err error
		for range 30 {
			if err = tryExec(base, "DROP SCHEMA "+schema+" CASCADE"); err == nil {
				return
			}
			time.Sleep(500 * time.Millisecond)
		}
		t.Errorf("drop test schema %s: %v", schema, err)
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", EnvURL, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Exec runs a statement on the test server (outside any test schema).
func Exec(t testing.TB, sql string) {
	t.Helper()
	exec(t, BaseURL(t), sql)
}

func exec(t testing.TB, base, sql string) {
	t.Helper()
	if err := tryExec(base, sql); err != nil {
		t.Fatalf("PostgreSQL at %s (%s): %v", EnvURL, base, err)
	}
}

func tryExec(base, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// lockPath is shared by every test process on the machine: tests that use
// the server hold it shared, a test that restarts the server holds it
// exclusively.
var lockPath = filepath.Join(os.TempDir(), "turnero-pgtest.lock")

// exclusiveHeld is set while this process holds the lock exclusively; its
// own URL calls then do not ask for it shared (which would wait for ever).
var exclusiveHeld atomic.Bool

// Exclusive waits until no other test process uses the test server and keeps
// them out until the test ends: for tests that stop or restart PostgreSQL.
// Call it before URL. Such tests must not be parallel.
func Exclusive(t testing.TB) {
	t.Helper()
	BaseURL(t)
	release, err := flock(lockPath, true)
	if err != nil {
		t.Fatalf("lock %s: %v", lockPath, err)
	}
	exclusiveHeld.Store(true)
	t.Cleanup(func() { exclusiveHeld.Store(false); release() })
}

func holdShared(t testing.TB) {
	t.Helper()
	if exclusiveHeld.Load() {
		return
	}
	release, err := flock(lockPath, false)
	if err != nil {
		t.Fatalf("lock %s: %v", lockPath, err)
	}
	t.Cleanup(release)
}
