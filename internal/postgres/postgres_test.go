package postgres_test

import (
	"context"
	"testing"

	"github.com/turnero/turnero/internal/postgres"
	"github.com/turnero/turnero/internal/postgres/pgtest"
	"github.com/turnero/turnero/internal/storetest"
	"github.com/turnero/turnero/internal/turnero"
)

// open returns a store on a fresh schema of the test server.
func open(t *testing.T) turnero.RegistrationStore {
	t.Helper()
	db := openDB(t, pgtest.URL(t))
	return db
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
