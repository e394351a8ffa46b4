package postgres_test

import (
	"context"
	"testing"

	"github.com/turnero/turnero/internal/postgres"
	"github.com/turnero/turnero/internal/postgres/pgtest"
	"github.com/turnero/turnero/internal/storetest"
)

// open returns a store on a fresh schema of the test server, and how to
// open another on the same schema (pools of its own, as another node).
func open(t *testing.T) (storetest.Store, func(t *testing.T) storetest.Store) {
	t.Helper()
	url := pgtest.URL(t)
	another := func(t *testing.T) storetest.Store {
		t.Helper()
		return openDB(t, url)
	}
	return another(t), another
}

func openDB(t testing.TB, url string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestContract(t *testing.T) {
	pgtest.BaseURL(t) // one clear skip message rather than one per case
	t.Parallel()
	storetest.Run(t, open)
}
