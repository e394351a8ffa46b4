package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/sqlite"
	"github.com/turnero/turnero/internal/storetest"
	"github.com/turnero/turnero/internal/turnero"
)

// TestWALStaysBounded: commits no longer checkpoint (the checkpointer does,
// on a connection of its own), and the WAL still does not grow with the
// data: it is copied back and restarted while registrations keep coming.
func TestWALStaysBounded(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "turnero.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var largestWAL int64
	next := 0
	for range 100 {
		batch := make([]turnero.NewRegistration, 1000)
		for i := range batch {
			batch[i] = storetest.NewRegistration(next, "1960-01-01", "g1")
			next++
		}
		if _, err := db.InsertRegistrations(ctx, batch); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		largestWAL = max(largestWAL, fi.Size())
		time.Sleep(20 * time.Millisecond)
	}
	// Without checkpoints the WAL would hold every page written: at least
	// the database's size. With them it stays a fraction of it.
	var size int64
	waitFor(t, "the checkpointer to copy the WAL back", func() bool {
		fi, err := os.Stat(path)
		if err != nil {
			return false
		}
		size = fi.Size()
		return size > 8<<20
	})
	if largestWAL > size/3 {
		t.Fatalf("the WAL grew to %d bytes for a database of %d bytes (%d rows); want under a third", largestWAL, size, next)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
