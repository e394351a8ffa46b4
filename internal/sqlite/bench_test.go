package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/turnero/turnero/internal/sqlite"
	"github.com/turnero/turnero/internal/storetest"
	"github.com/turnero/turnero/internal/turnero"
)

// BenchmarkInsertRegistrations measures the writer's cost per registration:
// batches of 256 (the size the group commit reaches at a few thousand
// registrations a second) into a table that already holds 200,000, so that
// the document index is larger than a page cache's worth of hot pages.
func BenchmarkInsertRegistrations(b *testing.B) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	const batchSize = 256
	next := 0
	fill := func(n int) {
		for n > 0 {
			k := min(n, batchSize)
			batch := make([]turnero.NewRegistration, k)
			for i := range batch {
				batch[i] = storetest.NewRegistration(next, "1960-01-01", "g1")
				next++
			}
			if _, err := db.InsertRegistrations(ctx, batch); err != nil {
				b.Fatal(err)
			}
			n -= k
		}
	}
	fill(200_000)
	b.ReportAllocs()
	b.ResetTimer()
	fill(b.N)
}
