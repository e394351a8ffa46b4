package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/turnero/turnero/internal/sqlite"
	"github.com/turnero/turnero/internal/storetest"
)

// open opens a store on a fresh file, and returns with it how to open
// another handle on that file (connections and locks of its own, as another
// process would have).
func open(t *testing.T) (storetest.Store, func(t *testing.T) storetest.Store) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "turnero.db")
	another := func(t *testing.T) storetest.Store {
		t.Helper()
		db, err := sqlite.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	return another(t), another
}

func TestContract(t *testing.T) { storetest.Run(t, open) }
