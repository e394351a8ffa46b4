package allocate_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/turnero/turnero/internal/allocate"
	"github.com/turnero/turnero/internal/allocate/allocatetest"
	"github.com/turnero/turnero/internal/campaign"
	"github.com/turnero/turnero/internal/sqlite"
	"github.com/turnero/turnero/internal/turnero"
)

// The allocation benchmarks run on a synthetic country shaped like the
// sample: registrations spread over the 19 departments by population and
// over the age groups, ~500 centers in proportion to population.
//
//	TURNERO_BENCH_REGISTRATIONS=2800000 go test ./internal/allocate -run '^$' \
//	    -bench 'Allocate' -benchtime 1x -timeout 60m
//
// The database with the registrations is built once per size (it takes
// minutes at 2.8 M) under the temporary directory and copied for each run.
func benchSize(b *testing.B) int {
	n := 100_000
	if s := os.Getenv("TURNERO_BENCH_REGISTRATIONS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			b.Fatalf("TURNERO_BENCH_REGISTRATIONS=%q: want a positive number", s)
		}
		n = v
	}
	return n
}

const benchCenters = 500

// benchCampaign is the sample campaign with ~500 centers open every day
// 08:00-20:00 in 15-minute slots, sized so that everyone fits within a
// 60-day horizon.
func benchCampaign(b *testing.B, n int) *turnero.Campaign {
	c := campaign.Sample()
	total := 0
	for _, d := range c.Departments {
		total += d.Population
	}
	all := []time.Weekday{0, 1, 2, 3, 4, 5, 6}
	c.Centers = nil
	c.Allocation = turnero.AllocationPolicy{Every: time.Minute, Notice: 24 * time.Hour, HorizonDays: 60, Dose2WindowDays: 7}
	for _, d := range c.Departments {
		k := max(1, benchCenters*d.Population/total)
		people := n * d.Population / total
		// First doses of the department over the horizon, doubled for the
		// second doses that share the slots, with some slack.
		per := people*2/(k*48*60) + 2
		for i := 0; i < k; i++ {
			c.Centers = append(c.Centers, turnero.Center{
				ID: fmt.Sprintf("%s-%03d", d.Code[3:], i), Name: "Centro", Department: d.Code,
				Vaccines: []string{"pfizer", "sinovac", "astrazeneca"}, Days: all,
				Opens: 8 * 60, Closes: 20 * 60, SlotMinutes: 15, PerSlot: per,
			})
		}
	}
	if err := c.Validate(); err != nil {
		b.Fatal(err)
	}
	return c
}

// benchDB returns a copy of a database holding n waiting registrations.
func benchDB(b *testing.B, c *turnero.Campaign, n int) string {
	b.Helper()
	cached := filepath.Join(os.TempDir(), fmt.Sprintf("turnero-allocate-bench-v2-%d.db", n))
	if _, err := os.Stat(cached); err != nil {
		b.Logf("building %s with %d registrations (once)", cached, n)
		tmp := cached + ".building"
		os.Remove(tmp)
		db, err := sqlite.Open(context.Background(), tmp)
		if err != nil {
			b.Fatal(err)
		}
		fillRegistrations(b, db, c, n, 0)
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		if err := os.Rename(tmp, cached); err != nil {
			b.Fatal(err)
		}
		os.Remove(tmp + "-wal")
		os.Remove(tmp + "-shm")
	}
	dst := filepath.Join(b.TempDir(), "turnero.db")
	copyFile(b, cached, dst)
	return dst
}

func copyFile(b *testing.B, from, to string) {
	in, err := os.Open(from)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		b.Fatal(err)
	}
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
}

// fillRegistrations inserts n synthetic registrations numbered from first.
func fillRegistrations(b *testing.B, db turnero.RegistrationStore, c *turnero.Campaign, n, first int) {
	rng := rand.New(rand.NewPCG(uint64(first), 7))
	total := 0
	for _, d := range c.Departments {
		total += d.Population
	}
	batch := make([]turnero.NewRegistration, 0, 10_000)
	for i := 0; i < n; i++ {
		x := rng.IntN(total)
		dept := c.Departments[0].Code
		for _, d := range c.Departments {
			if x < d.Population {
				dept = d.Code
				break
			}
			x -= d.Population
		}
		age := 18 + rng.IntN(75)
		group, _ := c.PlaceInGroup(age, nil)
		batch = append(batch, allocatetest.NewRegistration(first+i, group, dept, age))
		if len(batch) == cap(batch) || i == n-1 {
			if _, err := db.InsertRegistrations(context.Background(), batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
}

func benchAllocator(b *testing.B, db *sqlite.DB, c *turnero.Campaign, now time.Time) *allocate.Allocator {
	a, err := allocate.New(allocate.DefaultConfig, db, c, allocatetest.NewClock(now), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	return a
}

func openAll(b *testing.B, db *sqlite.DB, c *turnero.Campaign, now time.Time) {
	if err := db.UpsertCenters(context.Background(), c.Centers); err != nil {
		b.Fatal(err)
	}
	for _, g := range c.Groups {
		if _, err := db.SetGroupOpen(context.Background(), g.ID, true, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAllocateFull allocates both doses to every registration of a
// fresh list, all groups open.
func BenchmarkAllocateFull(b *testing.B) {
	n := benchSize(b)
	c := benchCampaign(b, n)
	now := time.Date(2021, 3, 1, 9, 0, 0, 0, c.Location)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		path := benchDB(b, c, n)
		db, err := sqlite.Open(context.Background(), path)
		if err != nil {
			b.Fatal(err)
		}
		openAll(b, db, c, now)
		a := benchAllocator(b, db, c, now)
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
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

// BenchmarkAllocateIncremental measures a run after 1,000 new registrations
// on top of a list that is already fully allocated.
func BenchmarkAllocateIncremental(b *testing.B) {
	n := benchSize(b)
	c := benchCampaign(b, n+1000*b.N)
	now := time.Date(2021, 3, 1, 9, 0, 0, 0, c.Location)
	b.StopTimer()
	path := benchDB(b, c, n)
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	openAll(b, db, c, now)
	a := benchAllocator(b, db, c, now)
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

// trackHeap samples the live heap until stopped and returns the peak.
func trackHeap() func() uint64 {
	done := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		var m runtime.MemStats
		var top uint64
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&m)
			top = max(top, m.HeapAlloc)
			select {
			case <-done:
				peak <- top
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { close(done); return <-peak }
}
