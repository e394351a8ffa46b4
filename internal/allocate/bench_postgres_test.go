package allocate_test

import (
	"context"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/turnero/turnero/internal/allocate"
	"github.com/turnero/turnero/internal/allocate/allocatetest"
	"github.com/turnero/turnero/internal/postgres"
	"github.com/turnero/turnero/internal/postgres/pgtest"
	"github.com/turnero/turnero/internal/turnero"
)

// BenchmarkAllocateFullPostgres is BenchmarkAllocateFull on PostgreSQL: the
// same synthetic country and agenda, the registrations written into a fresh
// schema of the server at TURNERO_TEST_PG through the intake's path
// (InsertRegistrations, COPY) before the timer starts.
//
//	TURNERO_TEST_PG=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//	TURNERO_BENCH_REGISTRATIONS=2800000 go test ./internal/allocate -run '^$' \
//	    -bench 'AllocateFullPostgres' -benchtime 1x -timeout 60m
func BenchmarkAllocateFullPostgres(b *testing.B) {
	pgtest.BaseURL(b)
	n := benchSize(b)
	c := benchCampaign(b, n)
	now := time.Date(2021, 3, 1, 9, 0, 0, 0, c.Location)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		db, a := pgBench(b, c, n, now)
		runtime.GC()
		stop := trackHeap()
		b.StartTimer()
		rep, err := a.RunOnce(context.Background())
		b.StopTimer()
		peak := stop()
		if err != nil {
			b.Fatal(err)
		}
		if rep.Scheduled != n {
			b.Fatalf("scheduled %d of %d (reasons %v)", rep.Scheduled, n, rep.Reasons)
		}
		b.ReportMetric(float64(rep.Scheduled)/rep.Took.Seconds(), "people/s")
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
		b.ReportMetric(float64(rep.Commits), "commits")
		db.Close()
	}
}

// BenchmarkAllocateIncrementalPostgres is BenchmarkAllocateIncremental on
// PostgreSQL: a run after 1,000 new registrations on top of a list that is
// already fully allocated.
func BenchmarkAllocateIncrementalPostgres(b *testing.B) {
	pgtest.BaseURL(b)
	n := benchSize(b)
	c := benchCampaign(b, n+1000*b.N)
	now := time.Date(2021, 3, 1, 9, 0, 0, 0, c.Location)
	b.StopTimer()
	db, a := pgBench(b, c, n, now)
	defer db.Close()
	if rep, err := a.RunOnce(context.Background()); err != nil || rep.Scheduled != n {
		b.Fatalf("full run: %+v, %v", rep, err)
	}
	for i := 0; i < b.N; i++ {
		fillRegistrations(b, db, c, 1000, n+1000*i)
		b.StartTimer()
		rep, err := a.RunOnce(context.Background())
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		if rep.Scheduled != 1000 {
			b.Fatalf("incremental run scheduled %d, want 1000 (%v)", rep.Scheduled, rep.Reasons)
		}
	}
}

// pgBench returns a fresh schema holding n waiting registrations, with the
// campaign's centers and every group open, and an allocator on it.
func pgBench(b *testing.B, c *turnero.Campaign, n int, now time.Time) (*postgres.DB, *allocate.Allocator) {
	url := pgtest.URL(b)
	db, err := postgres.Open(context.Background(), url)
	if err != nil {
		b.Fatal(err)
	}
	fill := time.Now()
	fillRegistrations(b, db, c, n, 0)
	b.Logf("%d registrations written in %s (not timed)", n, time.Since(fill).Round(time.Second))
	// Fresh statistics, as autovacuum would have them on a list filled
	// over days rather than seconds.
	analyze(b, url)
	if err := db.UpsertCenters(context.Background(), c.Centers); err != nil {
		b.Fatal(err)
	}
	for _, g := range c.Groups {
		if _, err := db.SetGroupOpen(context.Background(), g.ID, true, now); err != nil {
			b.Fatal(err)
		}
	}
	a, err := allocate.New(allocate.DefaultConfig, db, c, allocatetest.NewClock(now), slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	return db, a
}

func analyze(b *testing.B, url string) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
}
